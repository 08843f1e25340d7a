"""Editing definitions: drafts, uploads, deploying versions, and migrating running work.

The process owner edits a definition in the browser (or uploads a BPMN made
in another tool). Every save stores the whole BPMN and YAML as the key's one
current draft and runs the validator (`process.loader.load`) on it; running
instances never read drafts. A draft without problems can be deployed as a
new version (`services.deploy`, with its change summary). Older versions stay
readable, and a running instance can be moved to a newer version when every
step it is waiting on exists, under the same element id, in both.

Every function takes the caller's login and checks on the server that the
caller is a process owner or an administrator (`Forbidden` otherwise), so the
web pages and any API can call them as they are. Results are plain dicts.
"""
from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import Any

import yaml
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import services, spiff
from engine.db import DefinitionDraft, DefinitionVersion, Instance, TaskRow, Timer
from engine.errors import Conflict, Forbidden, InvalidData, NotFound, TooLarge
from engine.events import log
from engine.runtime import Runtime
from engine.workflow import Run, _boundary_timer
from process import bpmn, changes, sop_import
from process.byte_order import marked_encoding
from process.sop_import import answering
from process.definition import SCOPE_BIDANG, SCOPE_OFFICE, Definition
from process.forms import FIELD_KEYS, FIELD_TYPES
from process.loader import (
    ERROR, LANE_ROLES, MAX_STEP_NUMBER, MAX_YAML_BYTES, Problem, load, problems_of, step_number,
)
from process.messages import Text, as_json, from_json
from process.numbers import whole_number
from process.plain_text import printable
from process.user_yaml import user_yaml
from process.yaml_blocks import block_range, block_text, replace_block

EDITOR_ROLES = ("pemilik_proses", "admin")
SCOPES = (SCOPE_BIDANG, SCOPE_OFFICE)
MAX_BPMN_BYTES = bpmn.MAX_BPMN_BYTES
MAX_SOURCE_BYTES = sop_import.MAX_SOURCE_BYTES
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,119}$")
_STEP_PATH = re.compile(r"^steps\.(\d+)(?:\.|$)")
STEP_KEYS = ("kelengkapan", "output", "counting", "form")


# -- permissions ----------------------------------------------------------------

def may_edit(roles: set[str] | frozenset[str]) -> bool:
    return bool(set(roles) & set(EDITOR_ROLES))


def require_editor(login: str, roles: set[str] | frozenset[str]) -> None:
    if not may_edit(roles):
        raise Forbidden(Text("%(login)s tidak berwenang mengubah SOP (khusus pemilik proses dan administrator)",
                             login=login))


def _editor(session: Session, login: str) -> str:
    account = services.user(session, login)
    require_editor(login, account.role_names)
    return account.login


# -- reading --------------------------------------------------------------------

def definitions(rt: Runtime, login: str) -> list[dict[str, Any]]:
    """Every definition key with its newest version and its draft, if any."""
    with rt.uow() as session:
        _editor(session, login)
        latest = {v.key: v for v in session.scalars(
            select(DefinitionVersion).order_by(DefinitionVersion.key, DefinitionVersion.version))}
        drafts = {d.key: d for d in session.scalars(select(DefinitionDraft))}
        running = dict(session.execute(
            select(DefinitionVersion.key, func.count(Instance.id))
            .join(Instance, Instance.definition_version_id == DefinitionVersion.id)
            .where(Instance.state == "running").group_by(DefinitionVersion.key)).all())
        rows = []
        for key in sorted(latest.keys() | drafts.keys()):
            version, draft = latest.get(key), drafts.get(key)
            rows.append({
                "key": key, "name": version.name if version else key,
                "version": version.version if version else None,
                "deployed_at": services.iso(version.deployed_at) if version else None,
                "deployed_by": version.deployed_by if version else None,
                "draft": _draft_info(draft) if draft else None,
                "running": running.get(key, 0),
            })
        return rows


def source(rt: Runtime, key: str, login: str) -> dict[str, Any]:
    """What the editor opens: the current draft, else the newest version.

    `steps` is the YAML's `steps` mapping as JSON (keys are step numbers as
    strings), or None when the YAML cannot be read; the editor then leaves
    the YAML as it is.
    """
    with rt.uow() as session:
        _editor(session, login)
        draft = session.get(DefinitionDraft, key)
        latest = services._latest_version(session, key)
        if draft is None and latest is None:
            raise NotFound(Text("definisi %(key)r tidak ditemukan", key=key))
        if draft is not None:
            bpmn_xml, yaml_text = draft.bpmn_xml, draft.yaml_text
            info: dict[str, Any] = {"origin": "draft", **_draft_info(draft)}
        else:
            bpmn_xml, yaml_text = latest.bpmn_xml, latest.yaml_text
            info = {"origin": "version", "revision": 0, "problems": [], "saved_by": None, "saved_at": None,
                    "base_version": latest.version, "deployable": False}
        return {
            "key": key, "bpmn_xml": bpmn_xml, "yaml_text": yaml_text, "steps": steps_model(yaml_text),
            "latest_version": latest.version if latest else None, "questions": questions(yaml_text),
            "roles": list(LANE_ROLES), "scopes": list(SCOPES), "field_types": list(FIELD_TYPES),
            **info,
        }


def _draft_info(draft: DefinitionDraft) -> dict[str, Any]:
    return {
        "revision": draft.revision, "problems": list(draft.problems or []), "saved_by": draft.saved_by,
        "saved_at": services.iso(draft.saved_at), "base_version": draft.base_version,
        "deployable": not errors(draft.problems or []),
    }


def versions(rt: Runtime, key: str, login: str) -> list[dict[str, Any]]:
    """Every deployed version of a definition, newest first, with who, when and what changed."""
    with rt.uow() as session:
        _editor(session, login)
        counts = dict(session.execute(
            select(Instance.definition_version_id, func.count(Instance.id))
            .where(Instance.state == "running").group_by(Instance.definition_version_id)).all())
        rows = [
            {"key": v.key, "version": v.version, "name": v.name, "deployed_by": v.deployed_by,
             "deployed_at": services.iso(v.deployed_at), **_summary(v), "content_hash": v.content_hash,
             "running": counts.get(v.id, 0)}
            for v in session.scalars(select(DefinitionVersion).where(DefinitionVersion.key == key)
                                     .order_by(DefinitionVersion.version.desc()))
        ]
        if not rows:
            raise NotFound(Text("definisi %(key)r belum pernah di-deploy", key=key))
        return rows


def version_source(rt: Runtime, key: str, version: int, login: str) -> dict[str, Any]:
    """One deployed version's files, for the read-only view."""
    with rt.uow() as session:
        _editor(session, login)
        found = _version(session, key, version)
        return {"key": key, "version": found.version, "name": found.name, "bpmn_xml": found.bpmn_xml,
                "yaml_text": found.yaml_text, "deployed_by": found.deployed_by,
                "deployed_at": services.iso(found.deployed_at), **_summary(found)}


def _summary(version: DefinitionVersion) -> dict[str, Any]:
    """What a version changed: its lines for pages (each said in the reader's language), and as one
    text for the API."""
    lines = changes.read(version.summary)
    return {"summary": "\n".join(lines), "summary_lines": lines}


def _version(session: Session, key: str, version: int) -> DefinitionVersion:
    found = session.scalars(select(DefinitionVersion).where(
        DefinitionVersion.key == key, DefinitionVersion.version == version)).first()
    if found is None:
        raise NotFound(Text("versi %(version)s dari %(key)r tidak ditemukan", version=version, key=key))
    return found


# -- drafts ---------------------------------------------------------------------

def save_draft(rt: Runtime, key: str, login: str, bpmn_xml: str, yaml_text: str | None = None,
               steps: dict[str, Any] | None = None, revision: int | None = None) -> dict[str, Any]:
    """Store the key's draft and validate it; returns the draft's info with its problems.

    The YAML is `yaml_text` when given, else the current YAML with its
    `steps` replaced by `steps` (the editor's JSON model), else unchanged.
    `revision` is the draft revision the editor loaded (0 when it opened a
    version, None to overwrite whatever is there): a save over someone
    else's newer save, or over a draft that was deployed meanwhile, is a
    Conflict.
    Saving never touches deployed versions or running instances.
    """
    if not _KEY.match(key or ""):
        raise InvalidData(Text("kunci definisi tidak sah"), {"key": Text("huruf, angka, _ . -; diawali huruf")})
    bpmn_xml = _text(bpmn_xml, "bpmn_xml", MAX_BPMN_BYTES)
    with rt.uow() as session:
        actor = _editor(session, login)
        draft = session.get(DefinitionDraft, key)
        latest = services._latest_version(session, key)
        _expect(draft, revision)
        if yaml_text is None:
            current = draft.yaml_text if draft is not None else (latest.yaml_text if latest is not None else "")
            yaml_text = current if steps is None else compose_yaml(current, steps)
        yaml_text = _text(yaml_text, "yaml_text", MAX_YAML_BYTES)
        problems = validate(key, bpmn_xml, yaml_text)
        now = rt.now()
        if draft is None:
            draft = DefinitionDraft(key=key, revision=0, base_version=latest.version if latest else None)
            session.add(draft)
        draft.bpmn_xml, draft.yaml_text, draft.problems = bpmn_xml, yaml_text, problems
        draft.saved_by, draft.saved_at, draft.revision = actor, now, draft.revision + 1
        session.commit()
        return {"key": key, "origin": "draft", **_draft_info(draft)}


def _expect(draft: DefinitionDraft | None, revision: int | None) -> None:
    """A Conflict unless the draft is at the revision the editor loaded (0: no draft; None: any)."""
    if revision is not None and revision != (draft.revision if draft is not None else 0):
        raise Conflict(Text("draf sudah disimpan oleh %(who)s sejak Anda membukanya; muat ulang editor",
                            who=draft.saved_by) if draft is not None
                       else Text("draf yang Anda buka sudah dibuang atau di-deploy; muat ulang editor"))


def upload(rt: Runtime, login: str, bpmn_data: bytes, yaml_data: bytes | None = None,
           filename: str = "upload.bpmn", revision: int | None = None) -> dict[str, Any]:
    """A BPMN file from Camunda Modeler or another tool (and its YAML, if any) as a new draft.

    Without a YAML, the draft keeps the YAML of the key's draft or newest version, if any.

    The draft's key is the file's process id. A file that is not a BPMN
    document at all (malformed XML, a DTD or entities, too large) is refused
    with InvalidData and nothing is stored; everything else becomes a draft
    whose problems say what Alur still needs.

    A draft already under that key is replaced when the uploader saved it
    last, or when `revision` names it (as an editor's save does); a
    colleague's draft is otherwise a Conflict, not thrown away unseen.
    """
    with rt.uow() as session:
        _editor(session, login)  # before reading anything the caller sent
    if len(bpmn_data) > MAX_BPMN_BYTES:
        raise TooLarge(Text("berkas BPMN lebih dari %(n)d KiB", n=MAX_BPMN_BYTES // 1024))
    if yaml_data is not None and len(yaml_data) > MAX_YAML_BYTES:
        raise TooLarge(Text("berkas YAML lebih dari %(n)d KiB", n=MAX_YAML_BYTES // 1024))
    try:
        graph = bpmn.read_graph(bpmn_data)
        bpmn_xml = bpmn.text_of(bpmn_data)
    except bpmn.BpmnReadError as err:
        raise InvalidData(Text("berkas %(filename)s tidak dapat dibaca sebagai BPMN: %(err)s",
                               filename=filename, err=err.args[0]), {"bpmn": err.args[0]}) from None
    key = graph.process_id
    if not _KEY.match(key or ""):
        raise InvalidData(Text("id proses %(key)r tidak dapat dipakai sebagai kunci definisi", key=key),
                          {"bpmn": Text("id proses: huruf, angka, _ . -; diawali huruf; paling panjang 120")})
    # Without a YAML the draft keeps the key's (its draft's, else its newest version's): a diagram
    # changed in another tool holds no header sheet, Kelengkapan, Output or forms.
    yaml_text = _decode(yaml_data, "yaml") if yaml_data else None
    if revision is None:
        revision = _replaceable_revision(rt, key, login)
    # save_draft checks the revision again in its own transaction: a save meanwhile is a Conflict there.
    return save_draft(rt, key, login, bpmn_xml, yaml_text=yaml_text, revision=revision)


def _replaceable_revision(rt: Runtime, key: str, login: str) -> int:
    """The revision of the key's draft when `login` saved it last (0 when there is none)."""
    with rt.uow() as session:
        draft = session.get(DefinitionDraft, key)
        if draft is None:
            return 0
        if draft.saved_by != login:
            raise Conflict(Text("draf %(key)s sedang dikerjakan %(who)s (revisi %(revision)d); buka draf itu di "
                                "editor, atau buang dulu sebelum mengunggah berkas ini",
                                key=key, who=draft.saved_by, revision=draft.revision))
        return draft.revision


# -- importing an SOP table ------------------------------------------------------

def import_source(rt: Runtime, login: str, filename: str, data: bytes, key: str | None = None) -> dict[str, Any]:
    """An SOP table (CSV, XLSX, PDF text, our YAML) as the draft of a new definition.

    The draft carries the import's open questions (the YAML's `questions`),
    which block deploying until they are answered. A source that cannot be
    read is refused with InvalidData naming the row, and nothing is stored;
    so is a key that already names a definition or a draft.
    """
    with rt.uow() as session:
        _editor(session, login)  # before reading anything the caller sent
    if len(data) > MAX_SOURCE_BYTES:
        raise TooLarge(Text("berkas SOP lebih dari %(n)d MiB", n=sop_import.MAX_SOURCE_BYTES // (1024 * 1024)))
    if key and not _KEY.match(key):
        raise InvalidData(Text("kunci definisi tidak sah"), {"key": Text("huruf, angka, _ . -; diawali huruf")})
    try:
        result = sop_import.import_sop(filename, data, key=key or None)
    except sop_import.SourceError as err:
        raise InvalidData(Text("berkas %(filename)s tidak dapat diimpor: %(err)s",
                               filename=filename, err=err.args[0]), {"source": err.args[0]}) from None
    with rt.uow() as session:
        if session.get(DefinitionDraft, result.key) is not None or \
                services._latest_version(session, result.key) is not None:
            raise Conflict(Text("kunci %(key)r sudah dipakai definisi atau draf lain; pilih kunci lain",
                                key=result.key))
    # revision 0: a draft someone saved under this key meanwhile is a Conflict, not overwritten.
    draft = save_draft(rt, result.key, login, result.bpmn_xml, yaml_text=result.yaml_text, revision=0)
    return {**draft, "questions": questions(result.yaml_text)}


def questions(yaml_text: str) -> list[dict[str, Any]]:
    """The open questions an import left in a draft's YAML; each `text` a Text where the YAML kept its message."""
    return answering.questions_in(yaml_text)


def answer_questions(rt: Runtime, key: str, login: str, answers: dict[str, dict[str, Any]],
                     revision: int | None = None) -> dict[str, Any]:
    """Apply answers (element id -> {field: value}) to an imported draft: the diagram is redrawn."""
    bpmn_xml, yaml_text, revision = _own_draft(rt, key, login, revision)
    try:
        result = answering.answer(bpmn_xml, yaml_text, answers)
    except (sop_import.SourceError, sop_import.AnswerError) as err:
        raise InvalidData(Text("jawaban tidak dapat dipakai: %(err)s", err=err.args[0]),
                          {"answers": err.args[0]}) from None
    yaml_text = result.yaml_text
    if result.counting:
        steps = steps_model(yaml_text) or {}
        for number, rule in result.counting.items():
            steps[str(number)] = {**(steps.get(str(number)) or {}), "counting": rule}
        yaml_text = compose_yaml(yaml_text, steps)
    draft = save_draft(rt, key, login, result.bpmn_xml, yaml_text=yaml_text, revision=revision)
    return {**draft, "questions": questions(yaml_text)}


def resolve_question(rt: Runtime, key: str, login: str, question_id: str,
                     revision: int | None = None) -> dict[str, Any]:
    """Mark a question answered (the owner answered it in the diagram): it leaves the YAML."""
    bpmn_xml, yaml_text, revision = _own_draft(rt, key, login, revision)
    if question_id not in {q["id"] for q in answering.questions_in(yaml_text)}:
        raise NotFound(Text("tidak ada pertanyaan terbuka %(question_id)r pada draf %(key)r",
                            question_id=question_id, key=key))
    yaml_text = answering.without_questions(yaml_text, {question_id})
    draft = save_draft(rt, key, login, bpmn_xml, yaml_text=yaml_text, revision=revision)
    return {**draft, "questions": questions(yaml_text)}


def _own_draft(rt: Runtime, key: str, login: str, revision: int | None = None) -> tuple[str, str, int]:
    """The key's draft (BPMN, YAML, revision), read by an editor; with `revision`, the one the editor loaded.

    The caller saves what it makes of it at that revision: a save in between (another answer) is then a
    Conflict, not overwritten with a copy that lacks it, even when the caller named no revision."""
    with rt.uow() as session:
        _editor(session, login)
        draft = session.get(DefinitionDraft, key)
        _expect(draft, revision)  # deployed or discarded meanwhile: a Conflict, as a save would be
        if draft is None:
            raise NotFound(Text("tidak ada draf untuk %(key)r", key=key))
        return draft.bpmn_xml, draft.yaml_text, draft.revision


def discard_draft(rt: Runtime, key: str, login: str, revision: int | None = None) -> None:
    """Throw the key's draft away; with `revision`, only the draft the editor loaded (see save_draft)."""
    with rt.uow() as session:
        _editor(session, login)
        draft = session.get(DefinitionDraft, key)
        _expect(draft, revision)  # the draft the editor loaded, deployed or discarded meanwhile: a Conflict
        if draft is None:
            raise NotFound(Text("tidak ada draf untuk %(key)r", key=key))
        session.delete(draft)
        session.commit()


def deploy_as(rt: Runtime, login: str, definition: Definition) -> services.Deployed:
    """A definition file deployed in an editor's name (`alur deploy --user`): the version
    records who deployed it, so that must be an account allowed to, as in the editor."""
    with rt.uow() as session:
        _editor(session, login)
    return services.deploy(rt, definition, login)


def deploy_draft(rt: Runtime, key: str, login: str, revision: int | None = None) -> dict[str, Any]:
    """Deploy the key's draft as a new version; refused while the draft has problems. With
    `revision`, only the draft the editor loaded: a colleague's later save is not deployed unseen.

    The draft is validated again (the stored problems may be stale), and it
    is removed once deployed: the editor then opens the new version.

    When a newer version was deployed after the draft was started (the SOP
    header edited on its own page, see engine.definitions.update_header),
    that version's header is carried into the draft; any other change
    deployed meanwhile is a Conflict, so nothing is silently undone.
    """
    with rt.uow() as session:
        actor = _editor(session, login)
        draft = session.get(DefinitionDraft, key)
        _expect(draft, revision)  # the draft the editor loaded, deployed or discarded meanwhile: a Conflict
        if draft is None:
            raise NotFound(Text("tidak ada draf untuk %(key)r; simpan draf terlebih dahulu", key=key))
        bpmn_xml, yaml_text, revision = draft.bpmn_xml, draft.yaml_text, draft.revision
        latest = services._latest_version(session, key)
        if latest is not None and latest.version != draft.base_version:
            base = _version(session, key, draft.base_version) if draft.base_version else None
            yaml_text = _rebase(yaml_text, base, latest)
            draft.yaml_text, draft.base_version = yaml_text, latest.version
            session.commit()
        based_on = latest.version if latest is not None else None
    problems = validate(key, bpmn_xml, yaml_text)
    if errors(problems):
        with rt.uow() as session:
            draft = session.get(DefinitionDraft, key)
            if draft is not None and draft.revision == revision:
                draft.problems = problems
                session.commit()
        raise InvalidData(
            Text("draf masih bermasalah; perbaiki dulu sebelum deploy"),  # its problems follow, one at each element
            {f"{p['element']}" if p["element"] != "-" else p["file"]: _message(p) for p in errors(problems)[:50]})
    definition = load(bpmn_xml, yaml_text, bpmn_name=f"{key}.bpmn", yaml_name=f"{key}.yaml")
    # A version deployed while this one was checked is a Conflict there (deploy again to rebase on it).
    deployed = services.deploy(rt, definition, actor, based_on=based_on)
    with rt.uow() as session:
        draft = session.get(DefinitionDraft, key)
        if draft is not None and draft.revision == revision:  # not saved again meanwhile
            session.delete(draft)
        version = _version(session, key, deployed.version)
        session.commit()
        return {"key": key, "version": deployed.version, "created": deployed.created,
                **_summary(version), "deployed_by": version.deployed_by,
                "deployed_at": services.iso(version.deployed_at)}


def _rebase(yaml_text: str, base: DefinitionVersion | None, latest: DefinitionVersion) -> str:
    """The draft's YAML with the header of `latest`, when only the header changed since `base`."""
    who = latest.deployed_by or "-"
    outdated = Conflict(
        Text("versi %(version)s di-deploy oleh %(who)s setelah draf ini dibuat dari versi %(base)s; buang draf "
             "ini dan ulangi perubahan Anda pada versi terbaru", version=latest.version, who=who, base=base.version)
        if base else
        Text("versi %(version)s di-deploy oleh %(who)s setelah draf ini dibuat; buang draf ini dan ulangi "
             "perubahan Anda pada versi terbaru", version=latest.version, who=who))
    if base is None or base.bpmn_xml != latest.bpmn_xml:
        raise outdated
    ours, theirs, before = _yaml_data(yaml_text), _yaml_data(latest.yaml_text), _yaml_data(base.yaml_text)
    if None in (ours, theirs, before):
        raise outdated
    if {k: v for k, v in theirs.items() if k != "sop"} != {k: v for k, v in before.items() if k != "sop"}:
        raise outdated
    if theirs.get("sop") == before.get("sop") or ours.get("sop") == theirs.get("sop"):
        return yaml_text
    if ours.get("sop") != before.get("sop"):
        raise Conflict(Text("kop SOP diubah di draf ini dan juga di versi %(version)s; buang salah satu perubahan",
                            version=latest.version))
    return replace_block(yaml_text, "sop", block_text(latest.yaml_text, "sop"))


def _yaml_data(text: str) -> dict[str, Any] | None:
    try:
        data = user_yaml(text or "")
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else ({} if data is None else None)


# -- validation -----------------------------------------------------------------

def validate(key: str, bpmn_xml: str, yaml_text: str) -> list[dict[str, Any]]:
    """The validator's problems as JSON, each pinned to a diagram element where possible."""
    problems = problems_of(bpmn_xml, yaml_text, bpmn_name=f"{key}.bpmn", yaml_name=f"{key}.yaml")
    try:
        graph = bpmn.read_graph(bpmn_xml)
    except bpmn.BpmnReadError:
        graph = None
    if graph is not None:
        if graph.process_id != key:
            problems.append(Problem(f"{key}.bpmn", graph.process_id or "-", Text(
                "id proses harus tetap %(key)s (sekarang %(id)s)", key=repr(key), id=repr(graph.process_id))))
        if not graph.has_diagram:
            problems.append(Problem(f"{key}.bpmn", "-", Text(
                "berkas tidak memiliki tata letak diagram (bpmndi:BPMNDiagram); gambarlah di modeller agar "
                "pegawai dapat melihat alurnya")))
    return [_problem_dict(p, graph) for p in problems]


def _problem_dict(problem: Problem, graph: bpmn.Graph | None) -> dict[str, Any]:
    element_id = None
    if graph is not None:
        known = set(graph.nodes) | set(graph.flows) | {lane.id for lane in graph.lanes} | \
            {n.id for n in graph.unsupported}
        if problem.element in known:
            element_id = problem.element
        else:
            number = step_number(match[1]) if (match := _STEP_PATH.match(problem.element)) else None
            if number is not None:  # the YAML's 10 is the diagram's "010"
                element_id = next((n.id for n in graph.nodes.values()
                                   if n.kind == "userTask" and step_number(n.alur("step") or "") == number), None)
    return {"file": problem.file, "element": problem.element, "message": problem.message,
            "element_id": element_id, "severity": problem.severity, **_template(problem.message)}


def _template(message: str) -> dict[str, Any]:
    """A translatable message's template and values, for the web to show in the user's language."""
    return as_json(message) if isinstance(message, Text) else {}


def _message(problem: dict[str, Any]) -> str:
    """A stored problem's message, as a Text again when the validator wrote one."""
    return from_json(problem) if problem.get("template") else problem["message"]


def errors(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The problems that stop a deploy (a stored problem from before warnings existed is an error)."""
    return [p for p in problems if p.get("severity", ERROR) == ERROR]


# -- the YAML's steps as JSON ----------------------------------------------------

def steps_model(yaml_text: str) -> dict[str, Any] | None:
    """The YAML's `steps` as JSON-ready data (keys as strings), or None if unreadable."""
    if not (yaml_text or "").strip():
        return {}
    try:
        data = user_yaml(yaml_text)
    except yaml.YAMLError:
        return None
    if data is None:
        return {}
    if not isinstance(data, dict):
        return None
    steps = data.get("steps") or {}
    if not isinstance(steps, dict):
        return None
    return by_step_number({str(k): _json_ready(v) for k, v in steps.items()})


def by_step_number(steps: dict[str, Any]) -> dict[str, Any]:
    """`steps` keyed by the number each key names, as the loader reads it ("010" is "10").

    The editor looks a step's details up by its number, so a diagram's 10 finds the YAML's 010 without
    a rule of its own. A key naming no step, past the largest step, or naming a step another key also
    names stays as written: the validator reports it, and neither's details are lost.
    """
    numbers = Counter(step_number(key) for key in steps)
    return {str(n) if n is not None and n <= MAX_STEP_NUMBER and numbers[n] == 1 else key: details
            for key, details in steps.items() for n in [step_number(key)]}


def compose_yaml(yaml_text: str, steps: Any) -> str:
    """The YAML with its top-level `steps` replaced by `steps`; everything else stays as written.

    Comments, the header and every step whose details did not change keep
    their text; a changed or new step is written anew, one flow mapping per
    form field as the seed SOP does.
    """
    if not isinstance(steps, dict):
        raise InvalidData(Text("langkah (steps) harus berupa pemetaan nomor langkah ke isinya"),
                          {"steps": Text("bukan pemetaan")})
    if _nesting(steps) > MAX_STEPS_NESTING:  # a step needs four; deeper would exhaust the stack below
        raise InvalidData(Text("langkah (steps) bersarang terlalu dalam"),
                          {"steps": Text("paling dalam %(n)d tingkat", n=MAX_STEPS_NESTING)})
    # Cleaned as the import cleans a table's cells: written into YAML, what was typed reads back as saved.
    new = by_step_number(printable({str(k): _json_ready(v) for k, v in steps.items()}))
    current = steps_model(yaml_text)
    if current == new:
        return yaml_text
    text = yaml_text or ""
    lines = text.splitlines(keepends=True)
    found = block_range(lines, "steps")
    if found is None:
        prefix = text if not text or text.endswith("\n") else text + "\n"
        return prefix + ("\n" if prefix.strip() else "") + _steps_block(new)
    start, end = found
    chunks = _step_chunks(lines[start:end]) if current is not None else None
    if chunks is None:
        block = _steps_block(new)
    else:
        head, kept = chunks
        block = head + "".join(
            kept[key] if key in kept and current.get(key) == new[key] else _steps_block({key: new[key]})[7:]
            for key in sorted(new, key=_step_sort_key)) if new else "steps: {}\n"
    tail = "".join(lines[end:])
    if block and not block.endswith("\n"):
        block += "\n"
    return "".join(lines[:start]) + block + ("\n" + tail if tail else "")


def _step_chunks(lines: list[str]) -> tuple[str, dict[str, str]] | None:
    """The steps block split into its header and each step's own lines, or None if not plain block style."""
    if not re.match(r"^steps\s*:\s*(#.*)?$", lines[0]):
        return None
    head, chunks, key = lines[0], {}, None
    for line in lines[1:]:
        match = re.match(r"^  (?! )(['\"]?)([^:'\"#]+)\1\s*:(\s|$)", line)
        if match:
            key = match[2].strip()
            if key in chunks:
                return None
            chunks[key] = line
        elif key is None:
            head += line
        elif line.strip() and not line.startswith("   ") and not line.lstrip().startswith("#"):
            return None  # something this reader does not understand: write the block anew
        else:
            chunks[key] += line
    if not all(chunk.endswith("\n") for chunk in chunks.values()):
        chunks = {k: v if v.endswith("\n") else v + "\n" for k, v in chunks.items()}
    return head, by_step_number(chunks)  # keyed as steps_model keys them


def _steps_block(steps: dict[Any, Any]) -> str:
    if not steps:
        return "steps: {}\n"
    out = ["steps:\n"]
    for key in sorted(steps, key=_step_sort_key):
        details = steps[key]
        text = str(key).strip()
        label = text if text.isascii() and text.isdigit() else _flow(text)
        lines = _step_lines(details) if isinstance(details, dict) else None
        if lines is None:  # not a mapping: written as it is, for the validator to report
            out.append(f"  {label}: {_flow(details)}\n")
        elif not lines:
            out.append(f"  {label}: {{}}\n")
        else:
            out.append(f"  {label}:\n")
            out.extend(lines)
    return "".join(out)


def _step_lines(details: dict[str, Any]) -> list[str]:
    lines = []
    for name in [k for k in STEP_KEYS if k in details] + [k for k in details if k not in STEP_KEYS]:
        value = details[name]
        if name in ("kelengkapan", "output") and value in (None, ""):
            continue
        if name in ("form", "counting") and value in (None, [], {}):
            continue
        if name == "form" and isinstance(value, list):
            lines.append("    form:\n")
            lines.extend(f"      - {_flow(_ordered_field(f))}\n" for f in value)
        else:
            lines.append(f"    {_flow(str(name))}: {_flow(value)}\n")
    return lines


MAX_STEPS_NESTING = 12


def _nesting(value: Any) -> int:
    """How deep lists and mappings nest in a JSON value (counted without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _step_sort_key(key: Any) -> tuple[int, Any]:
    text = str(key).strip()
    # A number of more than nine digits is no step number: sorted as text (and no 4,300-digit int()).
    number = whole_number(text, maximum=999_999_999)
    return (0, number) if number is not None else (1, text)


def _ordered_field(field: Any) -> Any:
    if not isinstance(field, dict):
        return field
    cleaned = {k: field[k] for k in FIELD_KEYS if k in field}
    cleaned.update({k: v for k, v in field.items() if k not in FIELD_KEYS})
    for optional in ("help", "choices", "not_before", "min"):
        if cleaned.get(optional) in ("", [], None):
            cleaned.pop(optional, None)
    for flag in ("required", "whole"):
        if cleaned.get(flag) is False:
            cleaned.pop(flag)
    return cleaned


def _flow(value: Any) -> str:
    """One YAML value on one line (flow style), safely quoted."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, sort_keys=False, width=10 ** 9)
    # Only the last line break and the document end marker come off: str.strip() also took a plain scalar's
    # own leading or trailing no-break space ("\xa0g" was saved as "g").
    return text.removesuffix("\n").removesuffix("\n...")


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _text(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidData(Text("%(name)s harus berupa teks", name=name), {name: Text("harus berupa teks")})
    if len(value.encode()) > limit:
        raise TooLarge(Text("%(name)s lebih dari %(n)d KiB", name=name, n=limit // 1024))
    return value


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode(marked_encoding(data) or "utf-8")
    except UnicodeDecodeError:
        raise InvalidData(Text("berkas %(name)s harus berupa teks UTF-8", name=name),
                          {name: Text("bukan UTF-8")}) from None


# -- migrating running instances --------------------------------------------------

def migration_candidates(rt: Runtime, key: str, login: str, target: int | None = None) -> dict[str, Any]:
    """Running instances on older versions of `key`, each with whether it can move to `target`.

    `target` defaults to the newest version. The check is the migration
    itself, done in memory and thrown away, so the list cannot disagree
    with what `migrate` will do.
    """
    with rt.uow() as session:
        _editor(session, login)
        version = _target(session, key, target)
        rows = []
        for instance in _running_before(session, key, version):
            current = sorted(session.scalars(select(TaskRow.step).where(
                TaskRow.instance_id == instance.id, TaskRow.state == "open")))
            try:
                _plan(rt, session, instance, version)
            except _Refused as refused:
                reason = refused.reason
            else:
                reason = None
            session.rollback()  # nothing of the trial is kept
            rows.append({"id": instance.id, "title": instance.title, "bidang": instance.bidang_code,
                         "version": instance.definition.version, "current_steps": current,
                         "eligible": reason is None, "reason": reason})
        return {"key": key, "target": version.version, "instances": rows}


def migrate(rt: Runtime, instance_id: int, login: str, target: int | None = None) -> dict[str, Any]:
    """Move one running instance to a newer version of its definition (default: the newest).

    Allowed when every step the instance is waiting on exists in the target
    version under the same element id, and the rest of its history can be
    carried over. A refusal is logged as "migration_refused" and raised as
    Conflict with the reason; a success is logged as "migrated". An instance
    on the target version already (a retry whose answer was lost) is left
    as it is, with nothing logged: `migrated` says which.
    """
    with rt.uow() as session:
        actor = _editor(session, login)
        instance = services._instance(session, instance_id)
        old = instance.definition
        version = _target(session, old.key, target)
        if instance.state == "running" and old.id == version.id:
            return {"id": instance_id, "from": old.version, "to": version.version, "steps": [], "migrated": False}
        try:
            run, moved = _plan(rt, session, instance, version)
        except _Refused as refused:
            session.rollback()
            instance = services._instance(session, instance_id)
            log(session, instance_id, rt.now(), "migration_refused", actor,
                data={"from": instance.definition.version, "to": version.version, "reason": str(refused.reason),
                      "reason_message": as_json(refused.reason)})  # for the history, in its reader's language
            session.commit()
            raise Conflict(Text("kegiatan %(instance_id)s tidak dapat dipindah ke versi %(version)s: %(refused)s",
                                instance_id=instance_id, version=version.version, refused=refused.reason)) \
                from None
        now = rt.now()
        run.advance()
        run.save(actor)
        log(session, instance.id, now, "migrated", actor,
            data={"definition": old.key, "from": old.version, "to": version.version, "steps": moved})
        session.commit()
        return {"id": instance_id, "from": old.version, "to": version.version, "steps": moved, "migrated": True}


def migrate_all(rt: Runtime, key: str, login: str, target: int | None = None) -> list[dict[str, Any]]:
    """Migrate every running instance of older versions; one result per instance, refusals included."""
    listing = migration_candidates(rt, key, login, target)
    return [migration_result(rt, row["id"], login, listing["target"], row["title"])
            for row in listing["instances"]]


def migration_result(rt: Runtime, instance_id: int, login: str, target: int | None,
                     title: str | None = None) -> dict[str, Any]:
    """One instance's migration as a result line: moved, already there (nothing done), or refused and why."""
    try:
        done = migrate(rt, instance_id, login, target)
    except (Conflict, InvalidData) as err:
        return {"id": instance_id, "title": title, "migrated": False, "reason": err.message}
    return {"id": instance_id, "title": title, "migrated": done["migrated"], "reason": None,
            "from": done["from"], "to": done["to"]}


class _Refused(Exception):
    """Why an instance cannot move to another version (in the office's words)."""

    @property
    def reason(self) -> Text:
        return self.args[0]


def _step_label(definition: Definition, element: str, otherwise: Text | str) -> Text | str:
    """A diagram element as the office names it: "langkah 7 (…)" for a step, else `otherwise`."""
    step = definition.step_for_element(element)
    return Text("langkah %(n)s (%(name)s)", n=step.number, name=step.name) if step else otherwise


def _element_label(definition: Definition, task) -> Text | str:
    """A task's element as the office names it: its step, or the step whose timer it is."""
    element = task.task_spec.bpmn_id or ""
    step = definition.step_for_timer(element)
    if step is not None:
        return Text("batas waktu langkah %(n)s (%(name)s)", n=step.number, name=step.name)
    return _step_label(definition, element, Text("elemen %(name)s", name=task.task_spec.name))


def _target(session: Session, key: str, target: int | None) -> DefinitionVersion:
    if target is None:
        found = services._latest_version(session, key)
        if found is None:
            raise NotFound(Text("definisi %(key)r belum di-deploy", key=key))
        return found
    return _version(session, key, target)


def _running_before(session: Session, key: str, version: DefinitionVersion) -> list[Instance]:
    return list(session.scalars(
        select(Instance).join(DefinitionVersion, Instance.definition_version_id == DefinitionVersion.id)
        .where(DefinitionVersion.key == key, DefinitionVersion.version < version.version,
               Instance.state == "running").order_by(Instance.id)))


def _plan(rt: Runtime, session: Session, instance: Instance,
          version: DefinitionVersion) -> tuple[Run, list[dict[str, Any]]]:
    """Move the instance's workflow and rows to `version` inside the session (not committed).

    Uses SpiffWorkflow's own diff and migration (`diff_workflow`,
    `migrate_workflow`): tasks keep their ids, so open task rows, drafts and
    documents stay attached. Raises _Refused with the reason when it cannot.
    """
    old = instance.definition
    if instance.state != "running":
        raise _Refused(Text("kegiatan sudah selesai"))
    if old.key != version.key:
        raise _Refused(Text("versi tujuan milik definisi lain"))
    if version.version == old.version:
        raise _Refused(Text("kegiatan sudah memakai versi %(version)s", version=version.version))
    if version.version < old.version:
        raise _Refused(Text("versi %(version)s lebih lama dari versi kegiatan (%(old)s)",
                            version=version.version, old=old.version))
    # Locked in the order a completion and a firing deadline take them (timer rows,
    # task rows, then the instance), before anything below changes one: in another
    # order a migration and a completion of the same instance could deadlock.
    session.execute(select(Timer.id).where(Timer.instance_id == instance.id).with_for_update())
    session.execute(select(TaskRow.id).where(TaskRow.instance_id == instance.id, TaskRow.state == "open")
                    .with_for_update())
    run = Run.load(rt, session, instance)
    old_definition = run.definition
    new_definition, new_spec = rt.definition(version)
    workflow = run.workflow

    ready = spiff.ready_user_tasks(workflow)
    for task in ready:
        element = task.task_spec.bpmn_id
        if new_definition.step_for_element(element) is None:
            raise _Refused(Text("%(what)s yang sedang berjalan tidak ada di versi %(version)s (elemen %(element)s "
                                "dihapus atau diganti)", what=_step_label(old_definition, element, element),
                                version=version.version, element=element))
    # SpiffWorkflow matches an element by id, else by its place: a step's timer deleted and
    # drawn again (a new id) is matched through the step it is attached to.
    diff, _sub = diff_workflow(rt.serializer._serializer.registry, workflow, new_spec, {})
    for task in diff.removed:
        if task.state & (TaskState.WAITING | TaskState.STARTED):
            raise _Refused(Text("%(what)s yang sedang menunggu tidak ada di versi %(version)s",
                                what=_element_label(old_definition, task), version=version.version))
    started = {str(t.id): _ready_since(session, t) for t in ready}
    engine = rt.script_engine(new_definition)
    workflow.script_engine = engine  # a timer re-armed below is planned by the new version
    migrate_workflow(diff, workflow, new_spec)
    for task in workflow.tasks.values():
        if new_spec.task_specs.get(task.task_spec.name) is not task.task_spec:
            raise _Refused(Text("%(what)s yang sudah dilalui kegiatan ini tidak ada di versi %(version)s",
                                what=_element_label(old_definition, task), version=version.version))

    instance.definition_version_id = version.id
    instance.definition = version
    run = Run(rt, session, instance, workflow, new_definition)

    moved = []
    rows = {r.id: r for r in session.scalars(
        select(TaskRow).where(TaskRow.instance_id == instance.id, TaskRow.state == "open"))}
    for task in spiff.ready_user_tasks(workflow):
        step = new_definition.step_for_element(task.task_spec.bpmn_id)
        row = rows.get(str(task.id))
        # migrate_workflow re-arms the step's timer from now; the standard
        # time (the new version's) still counts from when the step began.
        timer = _boundary_timer(task)
        if timer is not None and timer.state == TaskState.WAITING:
            since = started.get(str(task.id)) or rt.now()
            due = engine.deadline(timer.task_spec.bpmn_id, since).isoformat()
            timer._set_internal_data(event_value=due, event_fired=False)
            if row is not None:
                row.due_at = datetime.fromisoformat(due)
                timer_row = session.scalars(select(Timer).where(
                    Timer.instance_id == instance.id, Timer.task_id == row.id, Timer.kind == "deadline",
                    Timer.fired_at.is_(None))).first()
                if timer_row is None:  # not expected (every version's steps have a standard time, and a
                    # fired one leaves no waiting timer), but a missing row is made, not a crash
                    timer_row = Timer(instance_id=instance.id, task_id=row.id, kind="deadline")
                    session.add(timer_row)
                timer_row.due_at, timer_row.spiff_timer_id = row.due_at, str(timer.id)
        if row is None:
            continue
        change = {"step": step.number, "task_id": row.id}
        if row.lane_role != step.lane.role:
            change["lane"] = [row.lane_role, step.lane.role]
            if row.assignee is not None:
                change["unclaimed"] = row.assignee
                row.assignee = None  # the new lane's members take it from the team list
        row.definition_version_id = version.id
        row.step, row.name, row.lane_role = step.number, step.name, step.lane.role
        row.bidang_code = None if step.lane.scope == SCOPE_OFFICE else instance.bidang_code
        moved.append(change)
    return run, moved


def _ready_since(session: Session, task) -> datetime | None:
    row = session.get(TaskRow, str(task.id))
    return row.created_at if row is not None else None


def definition_of(rt: Runtime, key: str, version: int) -> Definition:
    """The loaded Definition of a deployed version (for summaries and tests)."""
    with rt.uow() as session:
        return rt.definition(_version(session, key, version))[0]
