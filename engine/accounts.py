"""Accounts: signing in (with throttling), API tokens, and administration of users and Bidang."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from engine.db import ApiToken, Bidang, Membership, TaskRow, User
from engine.errors import AlurError, Conflict, Forbidden, InvalidData, NotFound
from engine.events import log
from engine.permissions import ROLE_NAMES, is_admin, may_take
from engine.runtime import Runtime
from process.forms import at_most
from process.messages import Text

MAX_FAILURES = 5
# How precisely an API token's last use is recorded (see user_for_token).
TOKEN_USE_RESOLUTION = timedelta(minutes=1)
LOCK_PERIOD = timedelta(minutes=5)


class OwnAdminRole(Conflict):
    """An administrator taking away their own admin role or deactivating their own account: the
    office would be left without one. `field` is the form field the refusal belongs to."""

    def __init__(self, message: str, field: str = "roles"):
        super().__init__(message)
        self.field = field


ROLES = tuple(ROLE_NAMES)  # every role a user can hold, in the order the forms list them
# Roles that work within one Bidang (the lanes of a Bidang, its Kepala): a user holding one needs a Bidang.
BIDANG_ROLES = frozenset({"implementasi", "teknis", "administrasi", "kepala"})
LANGUAGES = ("id", "en")
_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
# What the columns hold, read from the schema (PostgreSQL refuses longer text; SQLite would keep it).
MAX_NAME, MAX_EMAIL = User.__table__.c.name.type.length, User.__table__.c.email.type.length
MAX_BIDANG_CODE, MAX_BIDANG_NAME = Bidang.__table__.c.code.type.length, Bidang.__table__.c.name.type.length
MAX_TOKEN_NAME = ApiToken.__table__.c.name.type.length
# An address mail can be sent to: something, one @, a domain with a dot; no spaces.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


class SignInRefused(AlurError):
    status = 401


class Throttled(AlurError):
    status = 429


def authenticate(rt: Runtime, login: str, password: str, language: str | None = None) -> int:
    """Return the user id, or raise. Failures count per account and lock it for a while.

    `language`: one chosen on the sign-in page, which becomes the account's
    (the person chose it; the account's old one would switch the page back).
    """
    with rt.uow() as session:
        account = session.scalars(select(User).where(User.login == (login or "").strip().lower())).first()
        now = rt.now()
        if account is not None and account.locked_until is not None and account.locked_until > now:
            raise Throttled(Text("terlalu banyak percobaan masuk yang gagal; coba lagi beberapa menit lagi"))
        if account is None or not account.active or not account.password_hash or \
                not check_password_hash(account.password_hash, password or ""):
            if account is not None:
                account.failed_logins += 1
                if account.failed_logins >= MAX_FAILURES:
                    account.locked_until, account.failed_logins = now + LOCK_PERIOD, 0
                session.commit()
            raise SignInRefused(Text("nama pengguna atau kata sandi salah"))
        account.failed_logins, account.locked_until = 0, None
        if language in LANGUAGES:
            account.language = language
        session.commit()
        return account.id


def load_user(rt: Runtime, user_id: int) -> User | None:
    with rt.uow() as session:
        # With its roles in the same query: every page request asks this.
        account = session.get(User, user_id, options=[joinedload(User.roles)])
        if account is None or not account.active:
            return None
        session.expunge(account)
        return account


def session_mark(account: User) -> str:
    """A digest of the account's password hash, kept in each session signed in with it: a new
    password (an administrator's reset after a lost phone, say) ends the sessions of the old one."""
    # An Account read for an API token holds no hash: its mark is never a session's, and must not crash.
    return hashlib.sha256((getattr(account, "password_hash", None) or "").encode()).hexdigest()[:16]


def set_language(rt: Runtime, user_id: int, language: str) -> None:
    if language not in LANGUAGES:
        raise InvalidData(Text("bahasa tidak dikenal"), {"language": Text("pilih id atau en")})
    with rt.uow() as session:
        session.get(User, user_id).language = language
        session.commit()


# -- API tokens -------------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(rt: Runtime, user_id: int, name: str) -> tuple[int, str]:
    """Create a token; the plain value is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise InvalidData(Text("nama token wajib diisi"), {"name": Text("wajib diisi")})
    if len(name) > MAX_TOKEN_NAME:  # it was cut to fit, silently
        raise InvalidData(Text("nama token terlalu panjang"),
                          {"name": at_most(MAX_TOKEN_NAME)})
    token = "alur_" + secrets.token_urlsafe(32)
    with rt.uow() as session:
        row = ApiToken(user_id=user_id, name=name, token_hash=_digest(token), created_at=rt.now())
        session.add(row)
        session.commit()
        return row.id, token


@dataclass(frozen=True)
class Account:
    """A signed-in user as a request needs it: who, where, and which roles."""
    id: int
    login: str
    name: str
    bidang_code: str | None
    language: str
    role_names: frozenset[str]


_tokens, _users, _memberships = ApiToken.__table__, User.__table__, Membership.__table__
# A user's columns and roles, one row per role: read with plain queries, no ORM objects.
_ACCOUNT_COLUMNS = (_users.c.id, _users.c.login, _users.c.name, _users.c.bidang_code, _users.c.language,
                    _users.c.active, _memberships.c.role)
_WITH_ROLES = _users.outerjoin(_memberships, _memberships.c.user_id == _users.c.id)
_ACCOUNT = select(*_ACCOUNT_COLUMNS).select_from(_WITH_ROLES).where(_users.c.login == bindparam("login"))
_TOKEN_OWNER = (
    select(_tokens.c.id.label("token_id"), _tokens.c.last_used_at, *_ACCOUNT_COLUMNS)
    .select_from(_tokens.join(_WITH_ROLES, _users.c.id == _tokens.c.user_id))
    .where(_tokens.c.token_hash == bindparam("digest"), _tokens.c.revoked_at.is_(None)))


def account(connection: Connection, login: str) -> Account | None:
    """The active user of that login, with roles, or None: one query, for commands given often."""
    return _account(connection.execute(_ACCOUNT, {"login": login}).all())


# For a query that reads the actor beside the row it acts on, in one round
# trip: its columns under an "actor_" prefix, outer-joined on the login
# (bind parameter "login"), one row per role.
ACTOR_COLUMNS = tuple(column.label(f"actor_{column.name}") for column in _ACCOUNT_COLUMNS)


def actor_join(table, on_login):
    """`table` outer-joined to the user of the login `on_login` (a bind parameter) and the user's roles."""
    return table.outerjoin(_WITH_ROLES, _users.c.login == on_login)


_HOLD = select(_users.c.id).where(_users.c.login == bindparam("login")).with_for_update(read=True)


def hold(connection: Connection, login: str) -> None:
    """Keep the user's row from being saved until this transaction ends (PostgreSQL).

    A claim or a reassign checks that the user is active and in the lane,
    then writes; a save that deactivates the user or moves them out of the
    lane gives back what they hold (`save_user`). Without a lock the two can
    pass each other, and the claim lands after the save looked. This share
    lock and the save's update lock make one wait for the other. Take it
    before reading the user: in its own statement, so that the read, a later
    statement, sees a save that committed meanwhile. SQLite takes one writer
    at a time and needs none.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(_HOLD, {"login": login})


def actor_from(rows) -> Account | None:
    """The active account read through ACTOR_COLUMNS, or None."""
    return _account(rows, "actor_")


def _account(rows, prefix: str = "") -> Account | None:
    if not rows:
        return None
    first = rows[0]._mapping
    if not first[f"{prefix}active"]:
        return None
    role = f"{prefix}role"
    return Account(first[f"{prefix}id"], first[f"{prefix}login"], first[f"{prefix}name"],
                   first[f"{prefix}bidang_code"], first[f"{prefix}language"] or "id",
                   frozenset(r._mapping[role] for r in rows if r._mapping[role] is not None))


def user_for_token(rt: Runtime, token: str) -> Account | None:
    """The active user a valid token belongs to, with roles, or None.

    Every API call asks this, so it is one query in a read-only transaction.
    `last_used_at` is written at most once per TOKEN_USE_RESOLUTION, so an
    API request that only reads does not become a write transaction (on
    SQLite, one that waits for every writer).
    """
    with rt.reading() as connection:
        rows = connection.execute(_TOKEN_OWNER, {"digest": _digest(token or "")}).all()
    found = _account(rows)
    if found is None:
        return None
    first, now = rows[0], rt.now()
    if first.last_used_at is None or not (timedelta(0) <= now - first.last_used_at < TOKEN_USE_RESOLUTION):
        with rt.uow() as session:
            session.execute(update(ApiToken).where(ApiToken.id == first.token_id).values(last_used_at=now))
            session.commit()
    return found


def tokens(rt: Runtime, user_id: int) -> list[dict[str, Any]]:
    with rt.uow() as session:
        rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)).all()
        return [{"id": t.id, "name": t.name, "created_at": t.created_at, "last_used_at": t.last_used_at,
                 "revoked_at": t.revoked_at} for t in rows]


def revoke_token(rt: Runtime, user_id: int, token_id: int) -> None:
    with rt.uow() as session:
        row = session.get(ApiToken, token_id)
        if row is None or row.user_id != user_id:
            raise NotFound(Text("token tidak ditemukan"))
        row.revoked_at = row.revoked_at or rt.now()
        session.commit()


# -- administration -----------------------------------------------------------------

def _require_admin(session: Session, actor: str) -> None:
    account = session.scalars(select(User).where(User.login == actor)).first()
    if account is None or not is_admin(account):
        raise Forbidden(Text("hanya administrator yang boleh mengelola pengguna dan bidang"))


def list_users(rt: Runtime) -> list[dict[str, Any]]:
    with rt.uow() as session:
        return [_user_dict(u) for u in session.scalars(select(User).order_by(User.login))]


def list_bidang(rt: Runtime) -> list[dict[str, str]]:
    with rt.uow() as session:
        return bidang_list(session)


def bidang_list(session: Session) -> list[dict[str, str]]:
    """As `list_bidang`, inside a caller's transaction."""
    return [{"code": b.code, "name": b.name} for b in session.scalars(select(Bidang).order_by(Bidang.name, Bidang.code))]


def bidang_name(session: Session, code: str) -> str:
    """A Bidang's name, as staff know their divisions; its code when there is no such Bidang."""
    return session.scalar(select(Bidang.name).where(Bidang.code == code)) or code


def save_bidang(rt: Runtime, actor: str, code: str, name: str, new: bool = False) -> None:
    """Add a Bidang, or rename one. `new`: only add (the empty form); a code already taken is
    refused at its field, since renaming another Bidang there would pass unseen."""
    code, name = (code or "").strip().lower(), (name or "").strip()
    with rt.uow() as session:
        _require_admin(session, actor)  # before the checks: a non-admin learns nothing about the form
        errors = {}
        if not _LOGIN.match(code):
            errors["code"] = Text("kode hanya huruf kecil, angka, titik, garis bawah atau tanda hubung")
        elif len(code) > MAX_BIDANG_CODE:
            errors["code"] = at_most(MAX_BIDANG_CODE)
        if not name:
            errors["name"] = Text("wajib diisi")
        elif len(name) > MAX_BIDANG_NAME:
            errors["name"] = at_most(MAX_BIDANG_NAME)
        existing = session.get(Bidang, code) if "code" not in errors else None
        if new and existing is not None:
            errors["code"] = Text("kode %(code)s sudah dipakai %(name)s; pilih bidang itu dari daftar untuk "
                                  "mengubah namanya", code=code, name=existing.name)
        if errors:
            raise InvalidData(Text("data bidang tidak valid"), errors)
        if existing is None:
            session.add(Bidang(code=code, name=name))
        else:
            existing.name = name
        session.commit()


def save_user(rt: Runtime, actor: str, login: str, name: str, bidang: str | None, roles: list[str],
              email: str | None = None, password: str | None = None, active: bool = True,
              new: bool = False) -> dict[str, Any]:
    """Create a user or update one: Bidang, roles, name, e-mail, password, active.

    `new`: only create (the administration page's empty form). A login already taken is then
    refused at its field: saved, it would hand a colleague's account to the newcomer.
    """
    login = (login or "").strip().lower()
    with rt.uow() as session:
        _require_admin(session, actor)
        # Locked until the commit: a claim by this user waits, or is waited for (see `hold`).
        account = session.scalars(select(User).where(User.login == login).with_for_update()).first()
        errors = _user_errors(session, login, name, bidang, roles, email, password, new=account is None)
        if new and account is not None:
            errors["login"] = Text("nama pengguna %(login)s sudah dipakai; pilih pengguna itu dari daftar untuk "
                                   "mengubahnya", login=login)
        if errors:
            raise InvalidData(Text("data pengguna tidak valid"), errors)
        if account is None:
            account = User(login=login, name="", failed_logins=0, language="id")
            session.add(account)
        if account.login == actor and "admin" not in roles:
            raise OwnAdminRole(Text("administrator tidak boleh mencabut peran administratornya sendiri"))
        if account.login == actor and not active:  # signed out at once, and unable to sign in again
            raise OwnAdminRole(Text("administrator tidak boleh menonaktifkan akunnya sendiri"), field="active")
        account.name, account.email = name.strip(), (email or "").strip() or None
        account.bidang_code, account.active = bidang or None, active
        if password:
            account.password_hash = generate_password_hash(password)
        wanted = set(roles)
        account.roles = [m for m in account.roles if m.role in wanted] + \
            [Membership(role=r) for r in sorted(wanted - account.role_names)]
        released = _release_claims(rt, session, account, actor)
        session.commit()
        return {**_user_dict(account), "released": released}


def ensure_admin(rt: Runtime, login: str, name: str | None, password: str) -> bool:
    """An administrator made from the command line (`alur admin`): the office's first, since `alur init`
    makes no account and only an administrator can make one, or one whose password is lost or who is
    locked out. Creates the account or sets its password; either way it is active and holds the admin
    role. Returns whether it was created."""
    login = (login or "").strip().lower()
    with rt.uow() as session:
        account, name = _admin_to_be(session, login, name, password)
        created = account is None
        if created:
            account = User(login=login, name="", failed_logins=0, language="id")
            session.add(account)
        account.name, account.active = name, True
        account.password_hash = generate_password_hash(password)
        account.failed_logins, account.locked_until = 0, None
        if "admin" not in account.role_names:
            account.roles.append(Membership(role="admin"))
        session.commit()
        return created


def check_admin(rt: Runtime, login: str, name: str | None) -> None:
    """What `ensure_admin` would refuse but the password (a missing name, a bad login), said before
    anyone types the password."""
    with rt.uow() as session:
        _admin_to_be(session, (login or "").strip().lower(), name, None)


def _admin_to_be(session: Session, login: str, name: str | None, password: str | None) -> tuple[User | None, str]:
    """The account of `login` (None when new) and the name it is to have; InvalidData for what cannot be
    used. `password` None: not checked."""
    account = session.scalars(select(User).where(User.login == login).with_for_update()).first()
    name = (name or "").strip() or (account.name if account is not None else "")
    errors = _user_errors(session, login, name, None, ["admin"], None, password, new=password is not None)
    if errors:
        raise InvalidData(Text("data pengguna tidak valid"), errors)
    return account, name


def _release_claims(rt: Runtime, session: Session, account: User, actor: str) -> list[str]:
    """The open tasks the user holds but may no longer take (deactivated, or moved out of the
    lane or the Bidang) go back to their lane's worklist; their ids, in order.

    Left claimed, such a step would wait on someone who cannot complete it,
    and every colleague's claim would be refused until a supervisor
    reassigned it. The log says who let it go, and from whom.
    """
    held = session.scalars(select(TaskRow).where(TaskRow.assignee == account.login, TaskRow.state == "open")
                           .order_by(TaskRow.id)).all()
    return [row.id for row in held if not _may_hold(account, row) and _give_back(rt, session, row, actor)]


def release_stranded_claims(rt: Runtime) -> list[str]:
    """Every open task held by someone who may no longer take it goes back to its lane; their ids.

    Saving a user does this for that user at once (`_release_claims`), and a
    claim in the same instant waits for the save or is waited for (`hold`).
    This catches what no save saw: an account changed in the database by
    hand, or by an older Alur. The scheduler runs it once an hour, off every
    command's path. It reads first, and writes only when it finds such a task; the log
    names no actor (the system let it go) and says from whom.
    """
    with rt.uow(read_first=True) as session:
        held = session.execute(select(*_HELD_COLUMNS).where(TaskRow.state == "open", TaskRow.assignee.is_not(None))
                               .order_by(TaskRow.id)).all()
        holders = {u.login: u for u in session.scalars(
            select(User).where(User.login.in_({row.assignee for row in held}))).unique()} if held else {}
        stranded = [row for row in held if not _may_hold(holders.get(row.assignee), row)]
        if not stranded:
            return []
        rt.begin_writes(session)
        released = [row.id for row in stranded if _give_back(rt, session, row, None)]
        session.commit()
        return released


def _may_hold(account: User | None, row) -> bool:
    """Whether the account (None: no such user) may go on holding the task: active, and may take it."""
    return account is not None and account.active and may_take(account, row)


_HELD_COLUMNS = (TaskRow.id, TaskRow.instance_id, TaskRow.step, TaskRow.lane_role, TaskRow.bidang_code,
                 TaskRow.assignee)


def _give_back(rt: Runtime, session: Session, row, actor: str | None) -> bool:
    """The open task `row` back from its holder to its lane's worklist, logged: whether it went.

    Guarded as a claim is: a step completed or let go since it was read is left as it is,
    rather than failing the whole command as a lost race.
    """
    tasks = TaskRow.__table__
    gone = session.execute(update(tasks).where(tasks.c.id == row.id, tasks.c.assignee == row.assignee,
                                               tasks.c.state == "open")
                           .values(assignee=None, row_version=tasks.c.row_version + 1))
    if gone.rowcount != 1:
        return False
    log(session, row.instance_id, rt.now(), "unclaimed", actor, row.step, row.id, {"from": row.assignee})
    return True


def _user_errors(session: Session, login: str, name: str, bidang: str | None, roles: list[str],
                 email: str | None, password: str | None, new: bool) -> dict[str, Text]:
    """Every problem with the user form at once, so the administrator fixes them in one go."""
    errors = {}
    if not _LOGIN.match(login):
        errors["login"] = Text("nama pengguna hanya huruf kecil, angka, titik, garis bawah atau tanda hubung")
    if not (name or "").strip():
        errors["name"] = Text("wajib diisi")
    elif len(name.strip()) > MAX_NAME:
        errors["name"] = at_most(MAX_NAME)
    if bidang and session.get(Bidang, bidang) is None:
        errors["bidang"] = Text("bidang tidak dikenal")
    elif not bidang and set(roles) & BIDANG_ROLES:
        # Without a Bidang such a user sees no task, starts nothing and is never alerted.
        errors["bidang"] = Text("wajib diisi untuk peran ini")
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        errors["roles"] = Text("peran tidak dikenal: %(roles)s", roles=", ".join(unknown))
    if new and not password:
        errors["password"] = Text("wajib diisi untuk pengguna baru")
    elif password and len(password) < 8:
        errors["password"] = Text("minimal 8 karakter")
    if email and not _EMAIL.match(email.strip()):
        # Escalations are mailed: a mistyped address would fail at the worst moment, unseen.
        errors["email"] = Text("bukan alamat surel (nama@domain)")
    elif email and len(email.strip()) > MAX_EMAIL:
        errors["email"] = at_most(MAX_EMAIL)
    return errors


def _user_dict(account: User) -> dict[str, Any]:
    return {"id": account.id, "login": account.login, "name": account.name, "email": account.email,
            "bidang": account.bidang_code, "roles": sorted(account.role_names), "active": account.active}
