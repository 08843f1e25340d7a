"""Read models for pages and the API: a task to work on, an instance to look at, documents.

Every function takes the viewer's login and checks permission itself, so the
web and the API cannot forget to.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import delete, exists, func, or_, select

from engine import accounts, documents, escalation
from engine.db import Bidang, DefinitionVersion, Document, Event, Instance, TaskDraft, TaskRow
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.permissions import may_start, may_take, not_in_lane
from engine.runtime import Runtime
from engine.services import iso, late, show, task_dict, task_dict_at, user
from process.calendar import past_due
from process.definition import SCOPE_BIDANG, SCOPE_OFFICE, Step
from process.forms import MAX_TEXT_LENGTH, TOO_LONG
from process.messages import Text


def _step_dict(rt: Runtime, step: Step) -> dict[str, Any]:
    return {
        "number": step.number, "name": step.name, "lane": step.lane.name, "role": step.lane.role,
        # As every page states it: its days counted by the step's rule ("30 Hari Kalender").
        "mutu_baku": str(rt.calendar.step_standard(step)), "kelengkapan": step.kelengkapan, "output": step.output,
        "fields": [{"name": f.name, "label": f.label, "type": f.type, "required": f.required,
                    "choices": list(f.choices), "help": f.help, "min": f.min,
                    "whole": f.whole} for f in step.form.fields],
        "decision": step.is_decision,
        "form": step.form.json_schema(),
    }


def _may_see(rt: Runtime, account, bidang: str) -> bool:
    """Whether the account may open an activity of that Bidang: its members, and those who see every
    Bidang (escalation.sees_every_bidang: the office-wide roles and the supervisors a rule of
    escalation.yaml names `within: office`, alerted of late steps in every Bidang's activities)."""
    return account.bidang_code == bidang or escalation.sees_every_bidang(rt, account)


def task_view(rt: Runtime, task_id: str, login: str) -> dict[str, Any]:
    """A task with its step's form and guidance, the user's draft, and what the user may do; for a
    step a decision sent back, who did so and why, and what was sent for it last time."""
    with rt.uow() as session:
        account = user(session, login)
        row = session.get(TaskRow, task_id)
        if row is None:
            raise NotFound(Text("tugas %(task_id)s tidak ditemukan", task_id=task_id))
        if not (may_take(account, row) or row.assignee == login or _may_see(rt, account, row.instance_bidang)):
            raise Forbidden(Text("Anda tidak berwenang melihat tugas ini"))
        instance = session.get(Instance, row.instance_id)
        definition = rt.definition_of(instance)[0]
        draft = session.get(TaskDraft, (task_id, login))
        docs = _documents(session, Document.task_id == task_id)
        step = definition.step(row.step)
        earlier = _last_completion(session, row)  # None on the step's first pass in this activity
        sent_back = _sent_back(rt, session, row) if earlier is not None else None
        return {
            "task": task_dict_at(row, rt.now()), "step": _step_dict(rt, step),
            "instance": {"id": instance.id, "title": instance.title, "bidang": instance.bidang_code,
                         "period": instance.period},
            "draft": draft.data if draft else {}, "draft_saved_at": iso(draft.saved_at) if draft else None,
            "sent_back": sent_back,
            # What the form starts from when there is no draft: the step's last submission, when it was
            # sent back to be corrected (its documents aside: a page cannot put a file in a field).
            "previous": {f.name: earlier[f.name] for f in step.form.fields
                         if f.type != "file" and f.name in earlier} if sent_back else {},
            "documents": [_document_dict(d) for d in docs],
            "may_claim": row.state == "open" and row.assignee is None and may_take(account, row),
            "may_complete": row.state == "open" and row.assignee == login,
        }


def _sent_back(rt: Runtime, session, row: TaskRow) -> dict[str, Any] | None:
    """Who sent an open step back to its lane, when, from which decision and with what answers (the
    verifier's note); None unless a decision opened it (for a step done before: see task_view)."""
    ready = select(Event.seq).where(Event.instance_id == row.instance_id, Event.task_id == row.id,
                                    Event.kind == "step_ready").scalar_subquery()
    found = session.execute(select(Event, TaskRow).join(TaskRow, TaskRow.id == Event.task_id)
                            .where(Event.instance_id == row.instance_id, Event.kind == "step_completed",
                                   Event.seq < ready)
                            .order_by(Event.seq.desc()).limit(1)).first()
    if found is None:
        return None
    event, sender = found
    ran_under = rt.definition_by_id(session, sender.definition_version_id)[0]
    if not ran_under.step(sender.step).is_decision:
        return None
    answers = _form_values(ran_under, {"kind": event.kind, "step": event.step, "data": event.data}) or []
    return {"by": event.actor, "at": iso(event.at), "step": sender.step, "name": sender.name,
            "answers": [a for a in answers if a["type"] != "file"]}


def _last_completion(session, row: TaskRow) -> dict[str, Any] | None:
    """The data the task's step (its diagram element) was last completed with in its activity, by
    another task than this one (a step done once was never sent back)."""
    return session.scalars(select(Event.data).join(TaskRow, TaskRow.id == Event.task_id)
                           .where(Event.instance_id == row.instance_id, Event.kind == "step_completed",
                                  TaskRow.element_id == row.element_id, TaskRow.id != row.id)
                           .order_by(Event.seq.desc()).limit(1)).first()


def save_draft(rt: Runtime, task_id: str, login: str, data: dict[str, Any], language: str | None = None) -> None:
    """Keep what the user typed so far; only the holder of the task has a draft.

    As for completing: outside the lane is forbidden (403); a member of the
    lane who does not hold the open task is a conflict (409).

    A number typed as text is kept as the number it reads as in `language`
    (the page's, as for completing), so the draft means the same on a page
    in another language ("12,5" typed in Indonesian is 12.5, shown "12.5" in
    English). Text that does not read as a number is kept as it was typed.
    Only the step's fields are kept, each no longer than a completion takes.
    """
    if not isinstance(data, dict):
        raise InvalidData(Text("data harus berupa objek"))
    with rt.uow() as session:
        account = user(session, login)
        row = session.get(TaskRow, task_id)
        if row is None:
            raise NotFound(Text("tugas %(task_id)s tidak ditemukan", task_id=task_id))
        if not may_take(account, row):
            raise Forbidden(not_in_lane(session, login, account, row))
        if row.state != "open" or row.assignee != login:
            raise Conflict(Text("hanya pemegang tugas yang terbuka yang dapat menyimpan draf"))
        form = rt.definition_by_id(session, row.definition_version_id)[0].step(row.step).form
        fields = {f.name for f in form.fields if f.type != "file"}
        kept = {k: v for k, v in data.items()
                if k in fields and (isinstance(v, (str, int, float, bool)) or v is None)}
        too_long = {k: TOO_LONG for k, v in kept.items() if isinstance(v, str) and len(v) > MAX_TEXT_LENGTH}
        if too_long:
            raise InvalidData(Text("draf tidak disimpan"), too_long)
        draft = session.get(TaskDraft, (task_id, login))
        if draft is None:
            draft = TaskDraft(task_id=task_id, login=login, data={}, saved_at=rt.now())
            session.add(draft)
        numbers = {f.name: f for f in form.fields if f.type == "number"}
        draft.data = {name: _as_number(numbers.get(name), value, language) for name, value in kept.items()}
        draft.saved_at = rt.now()
        session.commit()


def _as_number(field, value: Any, language: str | None) -> Any:
    """A number field's text as the number it reads as; anything else as it is."""
    if field is None or not isinstance(value, str) or not value.strip():
        return value
    try:
        return field.clean(value, language)
    except ValueError:
        return value


_OF_A_CLOSED_TASK = exists().where(TaskRow.id == TaskDraft.task_id, TaskRow.state != "open")


def purge_closed_drafts(rt: Runtime) -> int:
    """Remove the drafts of tasks that are no longer open; how many.

    Nobody can submit them any more, and they would keep text that was never
    sent in the database and its backups. The scheduler runs this now and
    then, off the path of a completion (which would pay a statement for the
    rare task that has a draft). It writes only when there is something to
    remove: on SQLite a write waits for every other writer.
    """
    with rt.uow(read_first=True) as session:
        if session.execute(select(TaskDraft.task_id).where(_OF_A_CLOSED_TASK).limit(1)).first() is None:
            return 0
        rt.begin_writes(session)
        removed = session.execute(delete(TaskDraft).where(_OF_A_CLOSED_TASK)).rowcount
        session.commit()
        return removed


def instance_view(rt: Runtime, instance_id: int, login: str) -> dict[str, Any]:
    """An instance's page: its steps against their standard times, history, documents, diagram."""
    with rt.uow() as session:
        account = user(session, login)
        instance = session.get(Instance, instance_id)
        if instance is None:
            raise NotFound(Text("kegiatan %(instance_id)s tidak ditemukan", instance_id=instance_id))
        if not _may_see(rt, account, instance.bidang_code):
            raise Forbidden(Text("Anda tidak berwenang melihat kegiatan ini"))
        definition = rt.definition_of(instance)[0]
        docs = [_document_dict(d) for d in _documents(session, Document.instance_id == instance_id)]
        # A step done before the instance moved to a newer version keeps the version it ran under
        # (its number, form and standard time are that version's); the open ones moved with it.
        task_versions = dict(session.execute(select(TaskRow.id, TaskRow.definition_version_id)
                                             .where(TaskRow.instance_id == instance_id)).all())
        ran_under = {task_id: rt.definition_by_id(session, version_id)[0] for task_id, version_id in
                     task_versions.items()}
    info = show(rt, instance_id)
    now = rt.now()
    for step in info["steps"]:
        own = ran_under.get(step["id"], definition)
        standard = own.step_for_element(step["element_id"]) or definition.step(step["step"])
        # As the heat map states it: its days counted by the step's rule ("30 Hari Kalender").
        step["mutu_baku"] = str(rt.calendar.step_standard(standard))
        end = step["completed_at"] or now.isoformat()
        step["working_minutes"] = _working_minutes(rt, step["created_at"], end)
        # Whether its standard counts working time, or calendar days or clock time: its time taken is
        # shown so too (`clock_minutes`).
        step["working_time"] = rt.calendar.step_counts_working_time(standard)
        step["clock_minutes"] = _clock_minutes(step["created_at"], end)
        step["on_time"] = None if not step["due_at"] else not past_due(step["due_at"], end)
    labels: dict[str, str] = {}
    for version in {id(d): d for d in (definition, *ran_under.values())}.values():
        for step in version.steps:
            for f in step.form.fields:
                labels.setdefault(f.name, f.label)
    for doc in docs:
        doc["label"] = labels.get(doc["field"], doc["field"])
    for event in info["history"]:
        event["fields"] = _form_values(ran_under.get(event["task_id"], definition), event)
    info["documents"] = docs
    info["markers"] = {
        "completed": sorted({s["element_id"] for s in info["steps"] if s["state"] == "completed"}),
        "current": sorted({s["element_id"] for s in info["current_steps"]}),
        "overdue": sorted({s["element_id"] for s in info["current_steps"] if s["overdue"]}),
    }
    info["definition_name"] = definition.name
    return info


def _form_values(definition, event: dict[str, Any]) -> list[dict[str, Any]] | None:
    """A completed step's data as its form shows it (label, type, value, in the form's order), for
    people; None for any other event, whose data is shown as it is."""
    if event["kind"] != "step_completed" or not event["data"]:
        return None
    step = next((s for s in definition.steps if s.number == event["step"]), None)
    if step is None:  # a step the definition no longer has: its data as it is
        return None
    known = [{"name": f.name, "label": f.label, "type": f.type, "value": event["data"][f.name]}
             for f in step.form.fields if event["data"].get(f.name) not in (None, "")]
    names = {f.name for f in step.form.fields}
    extra = [{"name": k, "label": k, "type": "text", "value": v} for k, v in event["data"].items() if k not in names]
    return known + extra


def _clock_minutes(start: str, end: str) -> int:
    from datetime import datetime
    return int((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() // 60)


def _working_minutes(rt: Runtime, start: str, end: str) -> int:
    from datetime import datetime
    return int(rt.calendar.working_time_between(datetime.fromisoformat(start),
                                                datetime.fromisoformat(end)).total_seconds() // 60)


def diagram(rt: Runtime, instance_id: int, login: str) -> str:
    with rt.uow() as session:
        account = user(session, login)
        instance = session.get(Instance, instance_id)
        if instance is None:
            raise NotFound(Text("kegiatan %(instance_id)s tidak ditemukan", instance_id=instance_id))
        if not _may_see(rt, account, instance.bidang_code):
            raise Forbidden(Text("Anda tidak berwenang melihat kegiatan ini"))
        return rt.definition_of(instance)[0].bpmn_xml


INSTANCE_STATES = ("running", "completed")


def instances(rt: Runtime, login: str, state: str | None = None, limit: int = 200,
              before: int | None = None) -> list[dict[str, Any]]:
    """Instances the user may see, newest first (with `before`, only those with a smaller id: the next
    page); archived ones only through the search (engine.monitoring)."""
    if state is not None and state not in INSTANCE_STATES:  # not an empty list, as if there were none
        raise InvalidData(Text("filter tidak valid"),
                          {"state": Text("pilih salah satu: %(choices)s", choices=", ".join(INSTANCE_STATES))})
    with rt.uow() as session:
        account = user(session, login)
        query = select(Instance.id, Instance.title, Instance.bidang_code, Instance.period, Instance.state,
                       Instance.created_at, Instance.completed_at).order_by(Instance.id.desc()).limit(limit) \
            .where(Instance.archived_at.is_(None))
        if not escalation.sees_every_bidang(rt, account):
            query = query.where(Instance.bidang_code == account.bidang_code)
        if state:
            query = query.where(Instance.state == state)
        if before is not None:
            query = query.where(Instance.id < before)
        return [{"id": r.id, "title": r.title, "bidang": r.bidang_code, "period": r.period, "state": r.state,
                 "created_at": iso(r.created_at), "completed_at": iso(r.completed_at)}
                for r in session.execute(query)]


def start_choices(rt: Runtime, login: str) -> dict[str, Any]:
    """The Bidang a user may start work for, and the deployed definitions."""
    with rt.uow() as session:
        account = user(session, login)
        bidang = [b for b in accounts.bidang_list(session) if may_start(account, b["code"])]
        latest: dict[str, DefinitionVersion] = {}
        for version in session.scalars(select(DefinitionVersion).order_by(DefinitionVersion.version)):
            latest[version.key] = version
        return {"bidang": bidang,
                "definitions": [{"key": v.key, "name": v.name, "version": v.version} for v in latest.values()]}


def document_file(rt: Runtime, document_id: int, login: str) -> tuple[Path, str, str]:
    """(path, filename, content type) of a document the user may see."""
    with rt.uow() as session:
        account = user(session, login)
        document = session.get(Document, document_id)
        if document is None:
            raise NotFound(Text("dokumen tidak ditemukan"))
        instance = session.get(Instance, document.instance_id)
        if not _may_see(rt, account, instance.bidang_code):
            raise Forbidden(Text("Anda tidak berwenang mengunduh dokumen ini"))
        return documents.path_of(rt, document), document.filename, document.content_type


def file_fields(rt: Runtime, task_id: str) -> int:
    """How many files the step of a task takes (none for a task that is not there): what completing it
    may upload. A count only, read before the caller is known, to size the request it may send."""
    with rt.uow() as session:
        row = session.get(TaskRow, task_id)
        if row is None:
            return 0
        step = rt.definition_by_id(session, row.definition_version_id)[0].step(row.step)
        return sum(1 for field in step.form.fields if field.type == "file")


def _documents(session, where) -> list[Document]:
    """The documents `where` picks, in the order they were uploaded: without an order the database
    gives them as it keeps them (on PostgreSQL a row written again comes last), and lists reshuffled."""
    return list(session.scalars(select(Document).where(where).order_by(Document.id)))


def _document_dict(document: Document) -> dict[str, Any]:
    return {"id": document.id, "filename": document.filename, "size": document.size,
            "content_type": document.content_type, "field": document.field, "task_id": document.task_id,
            "uploaded_by": document.uploaded_by, "uploaded_at": iso(document.uploaded_at),
            "sha256": document.sha256}


def overdue_steps(rt: Runtime, login: str) -> dict[str, Any]:
    """Overdue open steps a supervisor oversees, listed and counted by Bidang and step."""
    with rt.uow() as session:
        account = user(session, login)
        # By the Bidang's name, as the page shows it (its code if the row were missing), then by due time;
        # the counts follow the same Bidang order.
        name = func.coalesce(Bidang.name, TaskRow.instance_bidang)
        query = select(TaskRow, Instance.title).join(Instance, Instance.id == TaskRow.instance_id) \
            .outerjoin(Bidang, Bidang.code == TaskRow.instance_bidang) \
            .where(TaskRow.state == "open", late(rt.now())) \
            .order_by(name, TaskRow.instance_bidang, TaskRow.due_at)
        # The lanes a rule gives the viewer office-wide, in every Bidang; the rest of the lanes in
        # their own Bidang's activities. So a Kepala Bidang sees the Sekretaris's late steps of the
        # Bidang's activities too, but may not reassign them: that is the Kepala Dinas's (see
        # escalation.oversees).
        wide = escalation.lanes_overseen_office_wide(rt, account)
        if wide != {SCOPE_BIDANG, SCOPE_OFFICE}:
            seen = [TaskRow.instance_bidang == account.bidang_code]
            if SCOPE_BIDANG in wide:
                seen.append(TaskRow.bidang_code.is_not(None))
            if SCOPE_OFFICE in wide:
                seen.append(TaskRow.bidang_code.is_(None))
            query = query.where(or_(*seen))
        rows = []
        order: dict[str, int] = {}  # a Bidang's place in the rows
        for row, title in session.execute(query):
            order.setdefault(row.instance_bidang, len(order))
            may = escalation.oversees(rt, account, row)
            # Who may instead is said only where the viewer may not (it can cost a query a row).
            rows.append({**task_dict(row), "instance_title": title, "may_reassign": may,
                         "overseers": None if may else escalation.overseers(rt, session, row)})
    # By name too: activities of two versions (or two SOPs) may have different steps of one number.
    counts: dict[tuple[str, int, str], int] = {}
    for row in rows:
        key = (row["bidang"], row["step"], row["name"])
        counts[key] = counts.get(key, 0) + 1
    ordered = sorted(counts.items(), key=lambda count: (order[count[0][0]], count[0]))
    return {"rows": rows, "counts": [{"bidang": b, "step": s, "name": name, "count": n}
                                     for (b, s, name), n in ordered]}
