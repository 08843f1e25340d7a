"""The worklist: open tasks a user holds or may take, filters saved on the server, reassignment."""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_, select, union_all

from engine import accounts, escalation
from engine.db import MAX_INTEGER, Bidang, Instance, SavedFilter, TaskRow, User
from engine.errors import Forbidden, InvalidData, NotFound
from engine.events import log
from engine.permissions import may_take, not_in_lane
from engine.runtime import Runtime
from engine.services import late, not_late, open_unless_held_by, task_dict, task_dict_at, user
from process.forms import at_most
from process.numbers import whole_number
from process.messages import Text

# The Bidang by the name the page shows (its code if the Bidang row were missing).
_BIDANG_NAME = func.coalesce(Bidang.name, TaskRow.instance_bidang)
SORTS = {
    "due": (TaskRow.due_at.asc(), TaskRow.id),
    "-due": (TaskRow.due_at.desc(), TaskRow.id),
    "step": (TaskRow.step, TaskRow.due_at),
    "bidang": (_BIDANG_NAME.asc(), TaskRow.instance_bidang.asc(), TaskRow.due_at),
    "-bidang": (_BIDANG_NAME.desc(), TaskRow.instance_bidang.desc(), TaskRow.due_at),
    "created": (TaskRow.created_at, TaskRow.id),
}
# Sorts that read the Bidang's name: only they join the Bidang (one row each, by its key).
BY_BIDANG_NAME = ("bidang", "-bidang")
FILTER_KEYS = ("bidang", "step", "overdue", "sort")
MAX_FILTER_NAME = SavedFilter.__table__.c.name.type.length


def offered_to(account: User):
    """SQL condition: open tasks offered to this user's lane roles in their Bidang."""
    return and_(
        TaskRow.state == "open",
        TaskRow.lane_role.in_(account.role_names or {""}),
        or_(TaskRow.bidang_code.is_(None), TaskRow.bidang_code == account.bidang_code),
    )


def tasks(rt: Runtime, login: str | None = None, instance_id: int | None = None,
          filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Open tasks: a user's claimed ones and the unclaimed ones offered to them, or all."""
    with rt.uow() as session:
        return _tasks(rt, session, user(session, login) if login is not None else None, instance_id, filters,
                      rt.now())


def page(rt: Runtime, account, filters: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the worklist page shows, read in one transaction (each costs round trips on PostgreSQL):
    the user's tasks, the saved filters they see, the Bidang to filter by, and the moment it was read.

    `account` is the signed-in user as the request already loaded it (login,
    Bidang and roles), so the page does not read the user a second time.
    """
    now = rt.now()  # the moment a task is late by, and its time left is told from
    with rt.uow() as session:
        return {"tasks": _tasks(rt, session, account, None, filters, now), "now": now,
                "saved": _saved_filters(session, account.login),
                "bidang": _bidang_offered(session, account, (filters or {}).get("bidang") or None)}


def _bidang_offered(session, account, chosen: str | None) -> list[dict[str, str]]:
    """The Bidang to filter the worklist by, by name: the user's own, those of the tasks on their list
    (the Sekretaris serves every Bidang), and the one chosen. Every Bidang was offered to staff who
    only ever see their own."""
    seen = select(TaskRow.instance_bidang).where(TaskRow.id.in_(visible_to(account)))
    return [{"code": code, "name": name} for code, name in session.execute(
        select(Bidang.code, Bidang.name)
        .where(or_(Bidang.code.in_(seen), Bidang.code == account.bidang_code, Bidang.code == chosen))
        .order_by(Bidang.name, Bidang.code))]


def _tasks(rt: Runtime, session, account, instance_id: int | None,
           filters: dict[str, Any] | None, now) -> list[dict[str, Any]]:
    filters = _known_bidang(session, clean_filters(filters or {}))
    # Plain rows, not ORM objects: the page only reads them, and building (and tracking) an object per
    # row cost as much as the query.
    query = select(*TaskRow.__table__.c, Instance.title.label("instance_title")).join(
        Instance, Instance.id == TaskRow.instance_id)
    if account is not None:
        # Open tasks only, through the ids: with a condition on the state
        # here too, a planner may read every open task and test its id.
        query = query.where(TaskRow.id.in_(visible_to(account)))
    else:
        query = query.where(TaskRow.state == "open")
    if instance_id is not None:
        query = query.where(TaskRow.instance_id == instance_id)
    if "bidang" in filters:
        query = query.where(TaskRow.instance_bidang == filters["bidang"])
    if "step" in filters:
        query = query.where(TaskRow.step == filters["step"])
    if "overdue" in filters:
        query = query.where(late(now) if filters["overdue"] else not_late(now))
    sort = filters.get("sort", "due")
    if sort in BY_BIDANG_NAME:
        query = query.outerjoin(Bidang, Bidang.code == TaskRow.instance_bidang)
    rows = session.execute(query.order_by(*SORTS[sort])).all()
    result = []
    steps: dict[tuple[int, int], dict] = {}  # one JSON Schema per version and step, not one per row
    for row in rows:
        key = (row.definition_version_id, row.step)
        if key not in steps:
            steps[key] = _step_facts(rt, rt.definition_by_id(session, row.definition_version_id)[0].step(row.step))
        result.append({**task_dict_at(row, now), "instance_title": row.instance_title,
                       "sent_back": row.sent_back, **steps[key]})
    return result


def _step_facts(rt: Runtime, step) -> dict[str, Any]:
    """What a row says of its step: the form, and whether its deadline counts working time (or
    calendar days, clock time), which the time left follows."""
    return {"form": step.form.json_schema(), "working_time": rt.calendar.step_counts_working_time(step)}


def visible_to(account: User):
    """The ids of the open tasks on a user's worklist: the ones they hold and the unclaimed ones offered to them.

    One index range per part, joined with UNION ALL: as one WHERE with OR the
    planners (SQLite's in particular) fall back to reading every open task,
    which grows with the whole office instead of with the user's list.
    """
    unclaimed = (TaskRow.state == "open", TaskRow.assignee.is_(None),
                 TaskRow.lane_role.in_(account.role_names or {""}))
    return union_all(
        select(TaskRow.id).where(TaskRow.state == "open", TaskRow.assignee == account.login),
        select(TaskRow.id).where(*unclaimed, TaskRow.bidang_code == account.bidang_code),
        select(TaskRow.id).where(*unclaimed, TaskRow.bidang_code.is_(None)),  # lanes that serve the whole office
    )


YES, NO = ("1", "true", "ya", "yes", "on"), ("0", "false", "tidak", "no", "off")


def clean_filters(raw: dict[str, Any]) -> dict[str, Any]:
    """Keep the known filter keys, typed; empty values mean 'no filter'. Every value refused is named."""
    filters, errors = _read_filters(raw)
    if errors:
        raise InvalidData(Text("filter tidak valid"), errors)
    return filters


def _read_filters(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Text]]:
    """The filters read from `raw`, and an error for each value that cannot be read."""
    filters: dict[str, Any] = {}
    errors: dict[str, Text] = {}
    raw = {key: str(value).strip() for key, value in raw.items() if value is not None}  # as " 3 " is step 3
    if raw.get("bidang"):
        filters["bidang"] = raw["bidang"]
    if raw.get("step"):
        # Digits 0-9 only (int() reads "１" and "1_0"); no step is numbered below 1, and past the
        # database's integers it would refuse to look.
        filters["step"] = whole_number(raw["step"], MAX_INTEGER)
        if not filters["step"]:
            errors["step"] = Text("harus berupa nomor langkah")
    if raw.get("overdue"):
        said = raw["overdue"].lower()
        if said not in YES + NO:  # "maybe" read as "on time"
            errors["overdue"] = Text("harus ya atau tidak (true/false)")
        filters["overdue"] = said in YES
    if raw.get("sort"):
        if raw["sort"] not in SORTS:
            errors["sort"] = Text("pilih salah satu: %(choices)s", choices=", ".join(SORTS))
        filters["sort"] = raw["sort"]
    return filters, errors


def _unknown_bidang(session, filters: dict[str, Any]) -> dict[str, Text]:
    """An error for the Bidang the filters name, if it does not exist: it matched nothing, without a word."""
    if "bidang" in filters and session.get(Bidang, filters["bidang"]) is None:
        return {"bidang": Text("tidak dikenal")}
    return {}


def _known_bidang(session, filters: dict[str, Any]) -> dict[str, Any]:
    """The filters, if the Bidang they name exists."""
    if errors := _unknown_bidang(session, filters):
        raise InvalidData(Text("filter tidak valid"), errors)
    return filters


def save_filter(rt: Runtime, login: str, name: str, params: dict[str, Any], shared: bool) -> int:
    """Save the filters `params` under `name`. Refused, every field in error is named (the name and
    each filter value), so the page can show the rest."""
    name = (name or "").strip()
    with rt.uow() as session:
        filters, errors = _read_filters(params)
        errors = errors or _unknown_bidang(session, filters)
        message = Text("filter tidak valid")
        if not name:
            message, errors["name"] = Text("nama filter wajib diisi"), Text("wajib diisi")
        elif len(name) > MAX_FILTER_NAME:  # it was cut to fit, silently
            message, errors["name"] = Text("nama filter terlalu panjang"), at_most(MAX_FILTER_NAME)
        if errors:
            raise InvalidData(message, errors)
        row = SavedFilter(owner=login, name=name, params=filters, shared=shared, created_at=rt.now())
        session.add(row)
        session.commit()
        return row.id


def saved_filters(rt: Runtime, login: str) -> list[dict[str, Any]]:
    """The user's own filters and those colleagues shared."""
    with rt.uow() as session:
        return _saved_filters(session, login)


def _saved_filters(session, login: str) -> list[dict[str, Any]]:
    rows = session.scalars(select(SavedFilter).where(or_(SavedFilter.owner == login, SavedFilter.shared))
                           .order_by(SavedFilter.name)).all()
    return [{"id": f.id, "name": f.name, "params": f.params, "shared": f.shared, "owner": f.owner,
             "mine": f.owner == login} for f in rows]


def delete_filter(rt: Runtime, login: str, filter_id: int) -> None:
    with rt.uow() as session:
        row = session.get(SavedFilter, filter_id)
        if row is None:
            raise NotFound(Text("filter tidak ditemukan"))
        if row.owner != login:
            raise Forbidden(Text("hanya pemilik filter yang boleh menghapusnya"))
        session.delete(row)
        session.commit()


def reassign(rt: Runtime, task_id: str, actor: str, to_login: str,
             expected_version: int | None = None) -> dict[str, Any]:
    """A supervisor gives an open task to another member of the lane's role; `moved` says whether it
    changed hands (giving it to its holder changes nothing). `expected_version`: the task's version
    the supervisor saw (a Conflict if it changed since, a claim say, unless `to_login` holds it now)."""
    with rt.uow() as session:
        # Before any user is read: the target may be the supervisor, whose row read now would be the
        # one this session keeps, not re-read after waiting for a save of that user (see `hold`).
        accounts.hold(session.connection(), to_login)
        supervisor = user(session, actor)
        row = open_unless_held_by(session.get(TaskRow, task_id), task_id, expected_version, to_login)
        if not escalation.oversees(rt, supervisor, row):
            # Named: a Kepala Bidang of another Bidang would not see why "only a Kepala Bidang" excludes them.
            raise Forbidden(Text("hanya %(who)s yang boleh mengalihkan tugas ini",
                                 who=escalation.overseers(rt, session, row)))
        if not (to_login or "").strip():
            raise InvalidData(Text("pilih kepada siapa tugas ini dialihkan"), {"assignee": Text("wajib diisi")})
        target = _assignee(session, to_login)
        if not may_take(target, row):
            raise InvalidData(not_in_lane(session, to_login, target, row),
                              {"assignee": Text("bukan anggota peran ini")})
        if row.assignee == target.login:  # the Pengawasan list preselects the holder: nothing moves
            return {**task_dict(row), "moved": False}
        previous, row.assignee = row.assignee, to_login
        log(session, row.instance_id, rt.now(), "reassigned", actor, row.step, row.id,
            {"from": previous, "to": to_login})
        session.commit()
        return {**task_dict(row), "moved": True}


def _assignee(session, login: str) -> User:
    """The user a task is reassigned to; one missing or deactivated is a mistake in the form, named as such."""
    try:
        return user(session, login)
    except NotFound as err:  # not a missing task
        if session.scalar(select(User.active).where(User.login == login)) is False:
            raise InvalidData(Text("akun pengguna %(login)r tidak aktif", login=login),
                              {"assignee": Text("akun pengguna tidak aktif")}) from None
        raise InvalidData(err.message, {"assignee": Text("pengguna tidak dikenal")}) from None


def candidates(rt: Runtime, task_ids: list[str]) -> dict[str, list[dict[str, str]]]:
    """Users who may take each task, by task id: for the reassign forms. The users are read once
    (with their roles), however many tasks the page lists."""
    with rt.uow() as session:
        rows = session.scalars(select(TaskRow).where(TaskRow.id.in_(task_ids))).all()
        users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.login)).all()
        return {row.id: [{"login": u.login, "name": u.name} for u in users if may_take(u, row)] for row in rows}
