"""The service layer: every command the CLI, the web and the scheduler can give.

Each function is one unit of work: it opens a transaction, does its checks,
changes state, and commits once at the end. Reads return plain dicts.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from engine import accounts, documents
from engine.accounts import Account, account
from engine.db import Bidang, DefinitionVersion, Event, Instance, RetryKey, TaskRow, User
from engine.errors import Conflict, Forbidden, InvalidData, KeyReused, LostRace, NotFound, TooLarge
from engine.events import log
from engine.permissions import may_start, may_take, not_in_lane
from engine.runtime import Runtime
from engine.workflow import Run
from process import changes
from process.calendar import past_due
from process.definition import Definition
from process.forms import CONTROL_CHARACTERS, FormError, has_control_characters
from process.messages import Text


# -- definitions ----------------------------------------------------------------

@dataclass(frozen=True)
class Deployed:
    key: str
    version: int
    created: bool
    newest: int | None = None  # a newer version deployed since, which stays the one in force
    file_differs: bool = False  # `alur init`: the file is no version, and was not put over `newest`


# `deploy`'s based_on when the caller made the definition from no particular version (a file).
ANY_VERSION = object()


def deploy(rt: Runtime, definition: Definition, actor: str | None = None,
           based_on: int | None | object = ANY_VERSION) -> Deployed:
    """Store a definition as a new version, unless it equals the newest one.

    `based_on`: the version the definition was made from (None: made while
    none was deployed). A newer one deployed meanwhile is a Conflict, checked
    in the transaction that writes: it would otherwise be undone unseen.
    """
    with rt.uow() as session:
        latest = _latest_version(session, definition.key)
        if latest is not None and latest.content_hash == definition.content_hash:
            return Deployed(definition.key, latest.version, False)
        if based_on is not ANY_VERSION and latest is not None and latest.version != based_on:
            raise Conflict(Text("SOP %(key)r sudah diubah menjadi versi %(version)s; muat ulang dan coba lagi",
                                key=definition.key, version=latest.version))
        previous = rt.definition(latest)[0] if latest is not None else None
        version = DefinitionVersion(
            key=definition.key, version=(latest.version + 1) if latest else 1, name=definition.name,
            bpmn_xml=definition.bpmn_xml, yaml_text=definition.yaml_text,
            content_hash=definition.content_hash, deployed_by=actor, deployed_at=rt.now(),
            summary=changes.stored(changes.change_summary(previous, definition)),
        )
        session.add(version)
        session.commit()
        return Deployed(definition.key, version.version, True)


def _latest_version(session: Session, key: str) -> DefinitionVersion | None:
    return session.scalars(
        select(DefinitionVersion).where(DefinitionVersion.key == key)
        .order_by(DefinitionVersion.version.desc()).limit(1)
    ).first()


# -- instances ------------------------------------------------------------------

def start(rt: Runtime, key: str, bidang: str, title: str, actor: str | None = None, period: str = "") -> int:
    """Start an instance of the newest version of a definition for one Bidang (`start_once` without a key)."""
    return start_once(rt, key, bidang, title, actor, period).instance_id


@dataclass(frozen=True)
class Started:
    instance_id: int
    again: bool  # answered from the retry key's earlier start: this call started nothing


RETRY_KEY_LIFE = timedelta(hours=24)
RETRY_KEY_LENGTH = 255
RETRY_KEY_FIELD = "Idempotency-Key"  # the field its refusals name: the API's header, where keys come from
_RETRY_KEY_CHARACTERS = re.compile(r"[!-~]+")  # visible ASCII


def start_once(rt: Runtime, key: str, bidang: str, title: str, actor: str | None = None, period: str = "",
               retry_key: str | None = None) -> Started:
    """Start an instance of the newest version of a definition for one Bidang.

    With an actor, the actor must be allowed to start work for that Bidang;
    without one (the command line run by an operator) it is not checked.
    `retry_key` (the API's Idempotency-Key, the start page's hidden field):
    the same actor's same key again within RETRY_KEY_LIFE answers the
    instance its first start made, and writes nothing; the key with another
    request is KeyReused. The key is stored in the start's transaction.
    """
    if retry_key is not None:
        _check_retry_key(retry_key)
    if not (bidang or "").strip():  # before the permission: "may not start for (nothing)" says nothing
        raise InvalidData(Text("bidang kegiatan wajib diisi"), {"bidang": Text("wajib diisi")})
    try:
        return _start(rt, key, bidang, title, actor, period, retry_key)
    except Conflict:
        if retry_key is None:
            raise
        # The same key sent twice at once: this one waited for the other's key row and lost to it.
        return _start(rt, key, bidang, title, actor, period, retry_key)


def _start(rt: Runtime, key: str, bidang: str, title: str, actor: str | None, period: str,
           retry_key: str | None) -> Started:
    with rt.uow() as session:
        if actor is not None and not may_start(user(session, actor), bidang):
            raise Forbidden(Text("%(actor)s tidak boleh memulai kegiatan untuk %(bidang)s",
                                 actor=actor, bidang=accounts.bidang_name(session, bidang)))
        keep = None
        if retry_key is not None:
            asked = start_request_hash(key, bidang, title, period)
            sent = _sent_before(rt, session, actor or "", retry_key, asked)
            if sent.earlier is not None:
                return Started(sent.earlier.instance_id, again=True)

            def keep(instance: Instance) -> None:  # before the workflow runs: a twin start waits here
                _keep_key(session, sent, RetryKey(login=actor or "", key=retry_key, command="start",
                                                  request_hash=asked, instance_id=instance.id,
                                                  created_at=instance.created_at))
        instance_id = start_in(rt, session, key, bidang, title, actor, period, before_run=keep)
        session.commit()
        return Started(instance_id, again=False)


def purge_expired_retry_keys(rt: Runtime) -> int:
    """Remove the retry keys older than RETRY_KEY_LIFE, which answer nothing any more; how many.

    The scheduler runs this with its hourly tidy-up, so the table holds about a day of keyed commands.
    Both statements read ix_retry_key_created_at: the oldest key's time is its first entry, and the
    delete reads only the keys due, not the day's. It writes only when there is something to remove:
    on SQLite a write waits for every other writer."""
    cutoff = rt.now() - RETRY_KEY_LIFE
    with rt.uow(read_first=True) as session:
        oldest = session.scalar(select(func.min(RetryKey.created_at)))
        if oldest is None or oldest > cutoff:
            return 0
        rt.begin_writes(session)
        removed = session.execute(delete(RetryKey).where(RetryKey.created_at <= cutoff)).rowcount
        session.commit()
        return removed


def start_request_hash(key: str, bidang: str, title: str, period: str) -> str:
    """What a start asks, as a SHA-256 in hex: a retry key sent with another request is refused. Title
    and period as the activity keeps them (trimmed): spaces around them ask for the same activity."""
    asked = [key, bidang, (title or "").strip(), (period or "").strip()]
    return hashlib.sha256(json.dumps(asked).encode()).hexdigest()


def usable_retry_key(retry_key: str, room: int = 0) -> bool:
    """Whether `retry_key` passes the rule a command holds it to (the pages' own keys always do), with
    `room` more characters (visible ASCII) the caller will add to it."""
    try:
        _check_retry_key(retry_key, room)
    except InvalidData:
        return False
    return True


def _check_retry_key(retry_key: str, room: int = 0) -> None:
    if not retry_key.strip():
        raise InvalidData(Text("Idempotency-Key kosong"), {RETRY_KEY_FIELD: Text("wajib diisi")})
    if len(retry_key) + room > RETRY_KEY_LENGTH:
        raise InvalidData(Text("Idempotency-Key terlalu panjang"),
                          {RETRY_KEY_FIELD: Text("terlalu panjang (paling banyak %(max)s karakter)",
                                                 max=RETRY_KEY_LENGTH)})
    if not _RETRY_KEY_CHARACTERS.fullmatch(retry_key):
        raise InvalidData(Text("Idempotency-Key tidak valid"),
                          {RETRY_KEY_FIELD: Text("hanya huruf, angka dan tanda baca ASCII")})


@dataclass(frozen=True)
class _Sent:
    """What a retry key was sent with before: `earlier`, this same command (to answer again); `stale`,
    the id of its row older than RETRY_KEY_LIFE, which the key's new row replaces."""
    earlier: RetryKey | None = None
    stale: int | None = None


def _sent_before(rt: Runtime, session: Session, login: str, retry_key: str, asked: str) -> _Sent:
    """The user's key as sent before (one read). Younger than RETRY_KEY_LIFE with another request, it
    is KeyReused; an older key is free again."""
    row = session.scalars(select(RetryKey).where(RetryKey.login == login, RetryKey.key == retry_key)).first()
    if row is None:
        return _Sent()
    if row.created_at <= rt.now() - RETRY_KEY_LIFE:
        return _Sent(stale=row.id)
    if row.request_hash != asked:
        raise _reused(row)
    return _Sent(earlier=row)


def _reused(row: RetryKey) -> KeyReused:
    """The refusal of a key sent with another request, naming what it was first sent for."""
    if row.command == "complete":
        return KeyReused(Text("Idempotency-Key ini sudah dipakai untuk menyelesaikan tugas %(task)s dengan "
                              "isian lain", task=row.task_id),
                         {RETRY_KEY_FIELD: Text("sudah dipakai untuk tugas %(task)s", task=row.task_id)})
    return KeyReused(Text("Idempotency-Key ini sudah dipakai untuk memulai kegiatan %(id)s dengan isian lain",
                          id=row.instance_id),
                     {RETRY_KEY_FIELD: Text("sudah dipakai untuk kegiatan %(id)s", id=row.instance_id)})


def _keep_key(session: Session, sent: _Sent, row: RetryKey) -> None:
    """Store a command's key in its transaction, first of its writes: a twin sent at once waits on it,
    and then loses on the unique key (a Conflict; its command runs again and finds the key)."""
    if sent.stale is not None:
        # Before the new row (one flush would insert it first, and meet the unique key), and as a statement:
        # a twin waiting on the row deletes nothing once it may, and goes on to lose on the key.
        session.execute(delete(RetryKey).where(RetryKey.id == sent.stale))
    session.add(row)
    session.flush()


def start_in(rt: Runtime, session: Session, key: str, bidang: str, title: str, actor: str | None,
             period: str, extra: dict[str, Any] | None = None, before_run=None) -> int:
    """The work of `start` inside a caller's transaction (the recurring schedule adds its own row).

    `before_run(instance)` runs after the instance row exists and before the
    workflow does, so a caller's unique key can stop a duplicate early.
    """
    title, period = (title or "").strip(), (period or "").strip()
    if not title:
        raise InvalidData(Text("judul kegiatan wajib diisi"), {"title": Text("wajib diisi")})
    if len(title) > 300 or len(period) > 40:
        raise InvalidData(Text("isian terlalu panjang"),
                          {"title" if len(title) > 300 else "period": Text("terlalu panjang")})
    controlled = [name for name, text in (("title", title), ("period", period)) if has_control_characters(text)]
    if controlled:  # as a step's text: one broke the XLSX recap, and the title is in the alert mail's subject
        raise InvalidData(Text("isian memuat karakter kendali yang tidak diizinkan"),
                          {name: CONTROL_CHARACTERS for name in controlled})
    # An unknown definition or Bidang is a mistake in what was sent, named by its field, not a
    # missing resource (404 reads as "no such URL").
    version = _latest_version(session, key)
    if version is None:
        raise InvalidData(Text("definisi %(key)r belum di-deploy", key=key), {"definition": Text("belum di-deploy")})
    if session.get(Bidang, bidang) is None:
        raise InvalidData(Text("bidang %(bidang)r tidak dikenal", bidang=bidang), {"bidang": Text("tidak dikenal")})
    now = rt.now()
    instance = Instance(definition_version_id=version.id, bidang_code=bidang, title=title, period=period,
                        state="running", workflow_json="{}", created_by=actor, created_at=now)
    session.add(instance)
    session.flush()
    if before_run is not None:
        before_run(instance)
    run = Run.new(rt, session, instance)
    log(session, instance.id, now, "started", actor, data={"title": title, "bidang": bidang, "period": period,
                                                           "definition": key, "version": version.version,
                                                           **(extra or {})})
    run.advance()
    run.save(actor)
    return instance.id


def show(rt: Runtime, instance_id: int) -> dict[str, Any]:
    """An instance: its steps and history, each history entry's step named as the version it happened under
    names it, and each step and entry with that version (the activity page, the API and `alur show` all
    read them here)."""
    now = rt.now()
    with rt.uow() as session:
        instance = _instance(session, instance_id)
        version = instance.definition
        tasks = session.scalars(select(TaskRow).where(TaskRow.instance_id == instance_id)
                                .order_by(TaskRow.created_at, TaskRow.step)).all()
        events = session.scalars(select(Event).where(Event.instance_id == instance_id).order_by(Event.id)).all()
        history = [{"at": iso(e.at), "actor": e.actor, "kind": e.kind, "step": e.step,
                    "task_id": e.task_id, "data": e.data} for e in events]
        numbers, current = version_numbers(session, version.key), rt.definition_of(instance)[0]
        _name_history_steps(history, version.version, _versions_ran(rt, session, numbers, events), current)
        # A step done before the activity moved to a newer version keeps the version it ran under (its
        # number is that version's); the open ones moved with it.
        steps = [{**task_dict_at(t, now), **_as_run(numbers.get(t.definition_version_id), t.element_id, t.step,
                                                    version.version, current)} for t in tasks]
        return {
            "id": instance.id, "title": instance.title, "period": instance.period,
            "bidang": instance.bidang_code, "state": instance.state,
            "definition": version.key, "definition_version": version.version, "version": instance.version,
            "created_at": iso(instance.created_at), "completed_at": iso(instance.completed_at),
            "current_steps": [task_dict_at(t, now) for t in tasks if t.state == "open"],
            "steps": steps,
            "history": history,
        }


def version_numbers(session: Session, key: str) -> dict[int, int]:
    """The SOP's version numbers by version id."""
    return dict(session.execute(select(DefinitionVersion.id, DefinitionVersion.version)
                                .where(DefinitionVersion.key == key)).all())


def _versions_ran(rt: Runtime, session: Session, numbers: dict[int, int],
                  events: list[Event]) -> dict[int, Definition]:
    """The versions of the SOP (`numbers`: its version numbers by id) an activity with these events ran
    under (started on, moved from and to), by number: its history's step numbers are theirs."""
    ran = {e.data.get(field) for e in events if e.kind in ("started", "migrated") and e.data
           for field in ("version", "from", "to")}
    return {number: rt.definition_by_id(session, version_id)[0]
            for version_id, number in numbers.items() if number in ran}


def _name_history_steps(history: list[dict[str, Any]], current_version: int, versions: dict[int, Definition],
                        current: Definition) -> None:
    """Each history entry's step by its name as the version it happened under names it (`step_name`), and
    that version (`step_version`); `renumbered` where the activity has since moved to a version that numbers
    the step otherwise, so its number alone reads as another step's: an overdue step 7 of version 1 is not
    version 2's step 7."""
    version = current_version
    for event in history:
        if event["kind"] == "started":
            version = event["data"].get("version", version)
        elif event["kind"] == "migrated":
            version = event["data"].get("to", version)
        then = versions.get(version)
        step = next((s for s in then.steps if s.number == event["step"]), None) if then else None
        event["step_name"] = step.name if step else None
        event.update(_as_run(version if step else None, step.element_id if step else None, event["step"],
                             current_version, current))


def _as_run(version: int | None, element_id: str | None, number: int | None, current_version: int,
            current: Definition) -> dict[str, Any]:
    """A step done under `version` (None: no step): that version (`step_version`), and whether the version
    the activity runs under now numbers it otherwise (`renumbered`); a history entry's or a task's."""
    return {"step_version": version,
            "renumbered": version is not None and version != current_version
            and numbered_otherwise(current, element_id, number)}


def numbered_otherwise(current: Definition, element_id: str, number: int) -> bool:
    """Whether a step numbered `number` by an earlier version has another number, or none, in the version
    the activity runs under now (so that number alone would read as another step's)."""
    now = current.step_for_element(element_id)
    return now is None or now.number != number


def _instance(session: Session, instance_id: int) -> Instance:
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise NotFound(Text("kegiatan %(id)s tidak ditemukan", id=instance_id))
    return instance


# -- tasks ----------------------------------------------------------------------

def actor(session: Session, login: str) -> Account:
    """Who gives a task command: enough for the permission checks, read in one plain query."""
    found = account(session.connection(), login)
    if found is None:
        raise NotFound(Text("pengguna %(login)r tidak dikenal", login=login))
    return found


def user(session: Session, login: str) -> User:
    # The roles come in the same query (one round trip instead of two).
    found = session.scalars(select(User).options(joinedload(User.roles)).where(User.login == login)) \
        .unique().first()
    if found is None or not found.active:
        raise NotFound(Text("pengguna %(login)r tidak dikenal", login=login))
    return found


def claim(rt: Runtime, task_id: str, login: str, expected_version: int | None = None) -> dict[str, Any]:
    with rt.uow() as session:
        # Read and written as plain rows: claiming is the most frequent command,
        # and no other row moves with it. The task and its claimant come in one query.
        connection = session.connection()
        accounts.hold(connection, login)
        rows = connection.execute(_READ_TASK, {"task": task_id, "login": login}).all()
        account = _actor_of(session, rows, login)
        row = open_unless_held_by(rows[0] if rows else None, task_id, expected_version, login)
        if not may_take(account, row):
            raise Forbidden(not_in_lane(session, login, account, row))
        if row.assignee == login:
            return task_dict(row)
        if row.assignee is not None:
            raise Conflict(Text("tugas sudah diklaim oleh %(who)s", who=row.assignee))
        if connection.execute(_TAKE, {"task": task_id, "seen": row.row_version, "login": login}).rowcount != 1:
            raise Conflict(Text("tugas baru saja diklaim atau diubah oleh orang lain; muat ulang"))
        log(session, row.instance_id, rt.now(), "claimed", login, row.step, row.id)
        session.commit()
        return {**task_dict(row), "assignee": login, "version": row.row_version + 1}


def _actor_of(session: Session, rows, login: str) -> Account:
    """The actor read beside a task; without the task's row, read alone (to say which is missing)."""
    found = accounts.actor_from(rows) if rows else actor(session, login)
    if found is None:
        raise NotFound(Text("pengguna %(login)r tidak dikenal", login=login))
    return found


_tasks = TaskRow.__table__
_READ_TASK = (select(_tasks, *accounts.ACTOR_COLUMNS)
              .select_from(accounts.actor_join(_tasks, bindparam("login")))
              .where(_tasks.c.id == bindparam("task")))
# The version and the empty assignee are checked again by the write itself:
# of two claims racing past the read, one changes the row and one does not.
_TAKE = (update(_tasks)
         .where(_tasks.c.id == bindparam("task"), _tasks.c.row_version == bindparam("seen"),
                _tasks.c.assignee.is_(None))
         .values(assignee=bindparam("login"), row_version=_tasks.c.row_version + 1))


def unclaim(rt: Runtime, task_id: str, login: str, expected_version: int | None = None) -> dict[str, Any]:
    """Give a task back to its lane; `released` says whether it was held (a repeated unclaim, a client
    retrying after a lost answer, changes nothing, as a repeated claim does not)."""
    with rt.uow() as session:
        account = user(session, login)
        row = open_unless_held_by(session.get(TaskRow, task_id), task_id, expected_version, None)
        if not may_take(account, row):  # as for claim: outside the lane is forbidden, not a conflict
            raise Forbidden(not_in_lane(session, login, account, row))
        if row.assignee is None:
            return {**task_dict(row), "released": False}
        if row.assignee != login:
            raise Conflict(Text("tugas sedang diklaim oleh %(who)s", who=row.assignee))
        row.assignee = None
        log(session, row.instance_id, rt.now(), "unclaimed", login, row.step, row.id)
        session.commit()
        return {**task_dict(row), "released": True}


# How often a completion is run in all when it keeps losing its race (see `complete`).
COMPLETE_ATTEMPTS = 3


def complete(rt: Runtime, task_id: str, login: str, data: dict[str, Any],
             files: dict[str, documents.Sent] | None = None,
             expected_version: int | None = None, language: str | None = None,
             retry_key: str | None = None) -> dict[str, Any]:
    """Validate the step's form, run the step, and move the instance on.

    `language` is that of the page the data was typed on, which says how a
    number typed as text reads ("1.000" is a thousand in Indonesian); None
    (the API, the CLI) takes such text only when every language reads it alike.

    The step is checked and run before the command writes anything (on
    SQLite, without holding the write lock). The writes then check that the
    task and the instance are still at the versions read: if either moved in
    between, nothing is written and the command runs again on what is there
    now. Whatever moved the instance (its deadline firing at that moment, a
    parallel step completed) changed nothing the user holds, so the
    completion then goes through; a task that was completed, taken over or
    changed meanwhile is refused by the checks as usual.

    `retry_key` (the API's Idempotency-Key, the task page's hidden field):
    the same user's same key with the same request again within
    RETRY_KEY_LIFE answers the task as it is now, with `replayed: True`,
    and writes nothing; the key with another request is KeyReused. The key
    is stored in the completion's transaction (one read, one insert).
    """
    asked, files = None, documents.uploads(files)
    if retry_key is not None:
        _check_retry_key(retry_key)
        asked = completion_request_hash(task_id, data, files, expected_version, language)
    for attempt in range(1, COMPLETE_ATTEMPTS + 1):
        try:
            return _complete(rt, task_id, login, data, files, expected_version, language, retry_key, asked)
        except LostRace:
            if attempt == COMPLETE_ATTEMPTS:
                raise
        except Conflict:
            # The same key sent twice at once: the twin may have completed the step between this one's
            # reads (its key row met on insert, or the step found done in the workflow read after its
            # commit). The next attempt reads the twin's key and answers as a repeat; a refusal of
            # another cause is met again and raised then.
            if retry_key is None or attempt == COMPLETE_ATTEMPTS:
                raise


def completion_request_hash(task_id: str, data: Any, files: dict[str, documents.Sent] | None,
                            expected_version: int | None, language: str | None) -> str:
    """What a completion asks, as a SHA-256 in hex: its task, answers (as sent), files (each field's
    file name and bytes), the version it saw and the language its numbers were typed in. Files sent
    as documents.Upload keep their hash for the completion's storage."""
    sent = {name: _file_digest(upload) for name, upload in sorted(documents.uploads(files).items())}
    asked = ["complete", task_id, data, sent, expected_version, language]
    return hashlib.sha256(json.dumps(asked, sort_keys=True, default=str).encode()).hexdigest()


def _file_digest(upload: Path | documents.Upload) -> list[str]:
    if isinstance(upload, Path):  # the command line's, which sends no retry key: read for this hash only
        return [upload.name, hashlib.sha256(upload.read_bytes()).hexdigest()]
    return [upload.name, upload.sha256]


def _complete(rt: Runtime, task_id: str, login: str, data: dict[str, Any],
              files: dict[str, Path | documents.Upload], expected_version: int | None,
              language: str | None, retry_key: str | None, asked: str | None) -> dict[str, Any]:
    with rt.uow(read_first=True) as session:
        # One query for the task, its instance and the actor; the workflow
        # state is read only when this process does not hold it already.
        rows = session.execute(_TASK_AND_INSTANCE, {"task": task_id, "login": login}).all()
        account = _actor_of(session, rows, login)
        sent = _sent_before(rt, session, login, retry_key, asked) if retry_key is not None and rows else None
        if sent is not None and sent.earlier is not None:  # done by this key's first request
            return {**task_dict(rows[0][0]), "instance_state": rows[0][1].state, "replayed": True}
        row = _still_open(rows[0][0] if rows else None, task_id, expected_version)
        instance = rows[0][1]
        if not may_take(account, row):
            raise Forbidden(not_in_lane(session, login, account, row))
        if row.assignee != login:
            raise Conflict(Text("klaim tugas ini terlebih dahulu") if row.assignee is None
                           else Text("tugas sedang diklaim oleh %(who)s", who=row.assignee))
        run = Run.load(rt, session, instance)
        task = run.user_task(task_id)
        if task is None:
            raise Conflict(Text("langkah ini sudah tidak menunggu dikerjakan"))
        step = run.definition.step(row.step)
        if data is not None and not isinstance(data, dict):  # the CLI's --data '[1, 2]', say
            raise InvalidData(Text("isian langkah harus berupa pemetaan nama isian ke nilainya"),
                              {"data": Text("bukan pemetaan (objek JSON)")})
        submitted = dict(data or {})
        documents.check_references(session, instance, step.form, submitted)
        if files:
            rt.begin_writes(session)  # an upload's row needs its id before the form is checked
        try:
            uploaded, pending = documents.store_all(rt, session, instance, row, step.form, files, login)
        except (InvalidData, TooLarge) as err:
            # The rest of the form is checked too: a mistake told only once the file is fixed would
            # mean choosing every file again (a page cannot keep them) once more.
            err.errors = {**_other_mistakes(step.form, submitted, files, language), **err.errors}
            raise
        submitted.update(uploaded)
        try:
            cleaned = step.form.clean(submitted, language)
        except FormError as err:
            raise InvalidData(Text("isian langkah %(n)s tidak valid", n=step.number), err.errors) from None
        now = rt.now()
        run.finish(task, cleaned)
        run.serialize()
        documents.write(rt, pending)  # only now: a form or a gateway that refuses the step leaves no file
        rt.begin_writes(session)
        if sent is not None:
            _keep_key(session, sent, RetryKey(login=login, key=retry_key, command="complete", request_hash=asked,
                                              instance_id=instance.id, task_id=row.id, created_at=now))
        log(session, instance.id, now, "step_completed", login, step.number, row.id, cleaned)
        run.save(login)
        session.commit()
        return {**task_dict(row), "instance_state": instance.state}


def _other_mistakes(form, submitted: dict[str, Any], files: dict[str, Any], language: str | None) -> dict:
    """The form's mistakes besides its files: each file sent counts as an answer (checked by itself)."""
    sent = {name: "0" for name in files}
    try:
        form.clean({**submitted, **sent}, language)
    except FormError as err:
        return {name: message for name, message in err.errors.items() if name not in sent}
    return {}


_TASK_AND_INSTANCE = (select(TaskRow, Instance, *accounts.ACTOR_COLUMNS)
                      .select_from(accounts.actor_join(_tasks.join(Instance.__table__,
                                                                   _tasks.c.instance_id == Instance.id),
                                                       bindparam("login")))
                      .where(TaskRow.id == bindparam("task")))


def open_unless_held_by(row, task_id: str, expected_version: int | None, holder: str | None):
    """The task's row as `_still_open` checks it, but the version when it is already held as asked
    (by `holder`; None: by nobody): a claim, unclaim or reassign retried after its answer was lost
    carries the version the first call moved, and the answer is that nothing needs to change."""
    return _still_open(row, task_id, None if row is not None and row.assignee == holder else expected_version)


def _ended(row) -> Text:
    """How a task that is no longer open ended, and by whom if anyone is named."""
    if row.state == "completed":
        return Text("tugas sudah selesai oleh %(who)s", who=row.completed_by) if row.completed_by \
            else Text("tugas sudah selesai")
    return Text("tugas sudah dibatalkan oleh %(who)s", who=row.completed_by) if row.completed_by \
        else Text("tugas sudah dibatalkan")


def _still_open(row, task_id: str, expected_version: int | None):
    """The task's row (an ORM object or a plain row), if it is open and at the version the caller saw."""
    if row is None:
        raise NotFound(Text("tugas %(id)s tidak ditemukan", id=task_id))
    if row.state != "open":
        raise Conflict(_ended(row))
    if expected_version is not None and expected_version != row.row_version:
        raise Conflict(Text("tugas sudah berubah sejak Anda membukanya; muat ulang"))
    return row


def task_dict(row: TaskRow) -> dict[str, Any]:
    return {
        "id": row.id, "instance_id": row.instance_id, "step": row.step, "element_id": row.element_id,
        "name": row.name,
        "lane": row.lane_role, "bidang": row.instance_bidang, "assignee": row.assignee,
        "state": row.state, "created_at": iso(row.created_at), "due_at": iso(row.due_at),
        "completed_at": iso(row.completed_at), "completed_by": row.completed_by,
        "overdue": row.overdue, "version": row.row_version,
    }


def task_dict_at(row: TaskRow, now: datetime) -> dict[str, Any]:
    """`task_dict`, with `overdue` as the task is at `now` (`is_late`)."""
    return {**task_dict(row), "overdue": is_late(row, now)}


def is_late(row: TaskRow, now: datetime) -> bool:
    """Whether a task is late at `now`: marked so (by the scheduler when escalating, or done past due), or
    still open past its due time, which the scheduler may not have reached yet. Monitoring counts so too."""
    return bool(row.overdue or (row.state == "open" and row.due_at is not None and past_due(row.due_at, now)))


def late(now: datetime):
    """SQL: an open task is late at `now` (`is_late`)."""
    return or_(TaskRow.overdue.is_(True), past_due(TaskRow.due_at, now))


def not_late(now: datetime):
    """SQL: an open task is on time at `now` (`late` negated; a task without a due time is never late)."""
    return and_(TaskRow.overdue.is_(False), or_(TaskRow.due_at.is_(None), ~past_due(TaskRow.due_at, now)))


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None

