"""The evaluation report (Laporan Hasil Evaluasi) and the SOP-implementation monitoring form.

Both are about one period (and optionally one Bidang) of one SOP. Their
figures are `engine.monitoring.figures` for the same period, never counted
again here; what this module adds is what people write: the Sekretaris's
conclusions and recommendations, and the assessor's answers on the
*Formulir Monitoring Pelaksanaan SOP* (Permenpan RB 35/2012).

Who may do what:

- Reading either: whoever may see the monitoring figures of that period and
  Bidang (a kepala only their own Bidang, unless an escalation rule names them
  `within: office`; `monitoring.monitored_bidang`).
- Writing the report's conclusions: the Sekretaris and the Kepala Dinas.
- Completing the form: the Sekretaris and the Kepala Dinas for any Bidang or
  the whole office, a Kepala Bidang for their own Bidang.

The form's suggestions (prefill) per SOP step, from the figures:

- "Ya" (running well) when the step's on-time rate is at least 80 % and no
  send-back or problem is attributed to it; "Tidak" otherwise; none when the
  step has no completion with a standard time and nothing attributed.
- Send-backs at verification ("terverifikasi?" answered no) are attributed
  to the verification step, problems raised ("ada kendala?" yes) to the
  problem step: the decision steps where they are recorded, found in the
  newest version by their forms (`process.monev`), whatever their numbers
  (5 and 12 in the office's SOP).
- The notes quote the figures the suggestion rests on; the page words them in
  its language (`web.reports.suggested_note`), and what is saved stays as written.

Stored rows are keyed by (SOP, period start, period end, Bidang) with "" for
the whole office, and carry a revision so two writers cannot overwrite each
other unseen.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import definitions, monitoring
from engine.db import Bidang, DefinitionVersion, EvaluationReport, SopMonitoringForm, User
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.runtime import Runtime
from engine.services import iso, user
from process import monev
from process.forms import IMPLAUSIBLE_YEAR, at_most, plausible_year
from process.messages import Text

REPORT_WRITERS = ("sekretaris", "kadis")
FORM_ASSESSORS = ("sekretaris", "kadis")   # and a kepala for their own Bidang
ON_TIME_THRESHOLD = 0.8
ANSWERS = ("ya", "tidak")
MAX_TEXT = 20000
MAX_NOTE = 2000


def may_write_report(account: User) -> bool:
    return bool(account.role_names & set(REPORT_WRITERS))


def may_assess(account: User, bidang: str | None) -> bool:
    if account.role_names & set(FORM_ASSESSORS):
        return True
    return "kepala" in account.role_names and bidang is not None and bidang == account.bidang_code


# -- the evaluation report ----------------------------------------------------------

def evaluation_report(rt: Runtime, login: str, start: date | None = None, end: date | None = None,
                      bidang: str | None = None, key: str | None = None) -> dict[str, Any]:
    """The figures of the period, the SOP's header, and the stored conclusions (None if not written)."""
    figures = monitoring.figures(rt, login, start, end, bidang, key)
    scope = _resolved(figures)
    version = definitions.get_version(rt, scope["key"])
    with rt.uow() as session:
        account = user(session, login)
        row = _find(session, EvaluationReport, scope)
        names = monitoring.bidang_names(session)
        people = _names(session, [row.written_by, row.updated_by] if row else [])
    return {
        "figures": figures, "scope": scope, "sop": _sop(version),
        "bidang_name": names.get(scope["bidang"], "") if scope["bidang"] else "",
        "report": _report_dict(row, people) if row else None,
        "may_write": may_write_report(account),
    }


def save_report(rt: Runtime, login: str, start: date, end: date, bidang: str | None, key: str | None,
                conclusions: str, recommendations: str, expected_revision: int | None = None) -> dict[str, Any]:
    """Write (or rewrite) the conclusions and recommendations of a period."""
    conclusions, recommendations = (conclusions or "").strip(), (recommendations or "").strip()
    errors = {}
    if not conclusions:
        errors["kesimpulan"] = Text("wajib diisi")
    for name, text in (("kesimpulan", conclusions), ("rekomendasi", recommendations)):
        if len(text) > MAX_TEXT:
            errors[name] = at_most(MAX_TEXT)
    with rt.uow() as session:
        account = user(session, login)
        if not may_write_report(account):
            raise Forbidden(Text("hanya Sekretaris dan Kepala Dinas yang dapat menulis kesimpulan laporan evaluasi"))
        scope = _scope(session, start, end, bidang, key)
        if errors:
            raise InvalidData(Text("laporan evaluasi belum lengkap"), errors)
        row = _find(session, EvaluationReport, scope)
        now = rt.now()
        if row is None:
            row = EvaluationReport(definition_key=scope["key"], period_start=scope["start"],
                                   period_end=scope["end"], bidang=scope["bidang"] or "",
                                   written_by=login, written_at=now)
            session.add(row)
        else:
            _check_revision(row, expected_revision, Text("laporan evaluasi"))
            row.updated_by, row.updated_at = login, now
        row.conclusions, row.recommendations = conclusions, recommendations
        session.commit()
        return _report_dict(row, _names(session, [row.written_by, row.updated_by]))


def _report_dict(row: EvaluationReport, people: dict[str, str]) -> dict[str, Any]:
    return {
        "conclusions": row.conclusions, "recommendations": row.recommendations,
        "written_by": row.written_by, "written_by_name": people.get(row.written_by, row.written_by),
        "written_at": iso(row.written_at), "updated_by": row.updated_by,
        "updated_by_name": people.get(row.updated_by, row.updated_by) if row.updated_by else None,
        "updated_at": iso(row.updated_at), "revision": row.revision,
    }


# -- the SOP-implementation monitoring form ----------------------------------------------

def sop_form(rt: Runtime, login: str, start: date | None = None, end: date | None = None,
             bidang: str | None = None, key: str | None = None) -> dict[str, Any]:
    """The form of a period: the stored answers, or the suggestions from the figures when not yet saved.

    Every row also carries the suggestion and the figures it rests on, so the
    assessor sees them beside a stored answer.
    """
    figures = monitoring.figures(rt, login, start, end, bidang, key)
    scope = _resolved(figures)
    version = definitions.get_version(rt, scope["key"])
    today = rt.now().astimezone(rt.calendar.tz).date()
    with rt.uow() as session:
        account = user(session, login)
        row = _find(session, SopMonitoringForm, scope)
        names = monitoring.bidang_names(session)
    assessor_name = row.assessor_name if row else account.name
    suggestions = suggest(figures, version.definition, assessor_name if may_assess(account, scope["bidang"]) else "")
    # The answers are kept by the step numbers of the version they were saved under; a newer version
    # may number the steps otherwise (one inserted before the verification): match them by element.
    saved_under = version.definition
    if row is not None and row.definition_version not in (None, version.version):
        try:
            saved_under = definitions.get_version(rt, scope["key"], row.definition_version).definition
        except NotFound:
            pass
    element_of = {s.number: s.element_id for s in saved_under.steps}
    saved = {element_of.get(s.get("step")): s for s in (row.steps if row else [])}
    newest = {s.number: s.element_id for s in version.definition.steps}
    rows = []
    for suggestion in suggestions:
        stored = saved.get(newest.get(suggestion["step"]))
        answer = {k: (stored or suggestion).get(k) or "" for k in ("berjalan_baik", "catatan", "tindakan", "penilai")}
        if stored is None and row is not None:
            answer["berjalan_baik"] = ""   # a step added to the SOP after the form was saved
        rows.append({**suggestion, **answer, "saved": stored is not None})
    return {
        "figures": figures, "scope": scope, "sop": _sop(version),
        "bidang_name": names.get(scope["bidang"], "") if scope["bidang"] else "",
        "rows": rows, "saved": row is not None,
        "assessor": row.assessor if row else account.login, "assessor_name": assessor_name,
        "assessed_on": row.assessed_on if row else today, "saved_at": iso(row.saved_at) if row else None,
        "revision": row.revision if row else None, "definition_version": row.definition_version if row else None,
        "may_write": may_assess(account, scope["bidang"]),
    }


def suggest(figures: dict[str, Any], definition, assessor_name: str = "") -> list[dict[str, Any]]:
    """Per SOP step (the newest version's, in number order): the suggested answer and what its note quotes."""
    by_element = {s["element_id"]: s for s in figures["steps"]}  # a number may be a removed step's too
    sent_back = sum(v["sent_back"] for v in figures["verification"])
    decisions = sum(v["decisions"] for v in figures["verification"])
    problems = len(figures["problems"])
    roles = monev.roles(definition)
    rows = []
    for step in sorted(definition.steps, key=lambda s: s.number):
        s = by_element.get(step.element_id) or {"done": 0, "with_due": 0, "on_time": 0, "on_time_rate": None,
                                         "median_minutes": None, "open_now": 0, "overdue_now": 0}
        back = sent_back if step.number == roles.verify else 0
        raised = problems if step.number == roles.problem else 0
        rate = s["on_time_rate"]
        if rate is None and not back and not raised:
            suggested = None
        elif (rate is not None and rate < ON_TIME_THRESHOLD) or back or raised:
            suggested = "tidak"
        else:
            suggested = "ya"
        working = s.get("working_time", True)
        rows.append({
            "step": step.number, "element_id": step.element_id, "name": step.name, "mutu_baku": str(step.mutu_baku),
            "suggested": suggested, "berjalan_baik": suggested or "", "catatan": "", "tindakan": "",
            "penilai": assessor_name,
            # What the suggested note quotes (the page words it in its language: web.reports.suggested_note).
            "done": s["done"], "with_due": s["with_due"], "on_time": s["on_time"], "on_time_rate": rate,
            "median_minutes": s["median_minutes"], "working_time": working,
            "standard": str(step.mutu_baku.counted(working)),
            "decisions": decisions if step.number == roles.verify else 0, "sent_back": back,
            "problems": raised, "problem_step": step.number == roles.problem,
            "open_now": s["open_now"], "overdue_now": s["overdue_now"],
        })
    return rows


def save_sop_form(rt: Runtime, login: str, start: date, end: date, bidang: str | None, key: str | None,
                  answers: dict[int | str, dict[str, str]], assessed_on: date | None = None,
                  expected_revision: int | None = None, numbered_by: int | None = None) -> dict[str, Any]:
    """Store the assessor's answers: every step Ya or Tidak, and an action for each Tidak.

    `answers` are keyed by step element (as the form page names its rows: a version deployed while
    it was open may number the steps otherwise, and an answer stays on its step), or by the step
    numbers of the version `numbered_by` (default: the newest; another one is refused, 409)."""
    with rt.uow() as session:
        account = user(session, login)
        scope = _scope(session, start, end, bidang, key)
        if not may_assess(account, scope["bidang"]):
            raise Forbidden(Text("Anda tidak berwenang mengisi formulir monitoring pelaksanaan SOP ini"))
        version = session.scalars(select(DefinitionVersion).where(DefinitionVersion.key == scope["key"])
                                  .order_by(DefinitionVersion.version.desc()).limit(1)).first()
        if numbered_by is not None and numbered_by != version.version:
            raise Conflict(Text("SOP ini di-deploy sebagai versi %(version)d sejak formulir dibuka; nomor langkahnya "
                                "dapat berubah. Periksa jawaban pada setiap langkah, lalu simpan lagi.",
                                version=version.version))
        definition = rt.definition(version)[0]
        steps, errors = [], {}
        for step in sorted(definition.steps, key=lambda s: s.number):
            given = answers.get(step.element_id) or answers.get(step.number) or {}
            entry = {"step": step.number, "name": step.name}
            for field in ("berjalan_baik", "catatan", "tindakan", "penilai"):
                entry[field] = " ".join(str(given.get(field) or "").split()) if field != "catatan" \
                    else str(given.get(field) or "").strip()
                if len(entry[field]) > MAX_NOTE:
                    errors[f"{field}-{step.number}"] = at_most(MAX_NOTE)
            if entry["berjalan_baik"] not in ANSWERS:
                errors[f"berjalan_baik-{step.number}"] = Text("pilih Ya atau Tidak")
            elif entry["berjalan_baik"] == "tidak" and not entry["tindakan"]:
                errors[f"tindakan-{step.number}"] = Text("tindakan wajib diisi bila langkah tidak berjalan dengan baik")
            entry["penilai"] = entry["penilai"] or account.name
            steps.append(entry)
        if assessed_on is not None and not plausible_year(assessed_on):
            errors["tanggal"] = IMPLAUSIBLE_YEAR
        if errors:
            raise InvalidData(Text("formulir monitoring belum lengkap"), errors)
        row = _find(session, SopMonitoringForm, scope)
        now = rt.now()
        if row is None:
            row = SopMonitoringForm(definition_key=scope["key"], period_start=scope["start"],
                                    period_end=scope["end"], bidang=scope["bidang"] or "")
            session.add(row)
        else:
            _check_revision(row, expected_revision, Text("formulir monitoring"))
        row.definition_version = version.version
        row.assessor, row.assessor_name = login, account.name
        row.assessed_on = assessed_on or now.astimezone(rt.calendar.tz).date()
        row.steps, row.saved_at = steps, now
        session.commit()
        return {"revision": row.revision, "steps": steps, "assessor": login, "assessed_on": row.assessed_on}


# -- helpers ------------------------------------------------------------------------------

def _resolved(figures: dict[str, Any]) -> dict[str, Any]:
    return {"key": figures["sop"]["key"], "start": date.fromisoformat(figures["period"]["start"]),
            "end": date.fromisoformat(figures["period"]["end"]), "bidang": figures["bidang"]}


def _scope(session: Session, start: date | None, end: date | None, bidang: str | None,
           key: str | None) -> dict[str, Any]:
    """A period to write for: both dates given, a known Bidang (or the whole office), a deployed SOP."""
    if start is None or end is None:
        raise InvalidData(Text("periode wajib diisi"), {"dari" if start is None else "sampai": Text("wajib diisi")})
    monitoring.check_order(start, end)
    if bidang and session.get(Bidang, bidang) is None:
        raise NotFound(Text("bidang %(bidang)r tidak dikenal", bidang=bidang))
    if not key:  # the same default SOP as the monitoring figures
        key = session.scalars(select(DefinitionVersion.key).order_by(DefinitionVersion.key).limit(1)).first()
    if not key or session.scalars(select(DefinitionVersion.id).where(DefinitionVersion.key == key)).first() is None:
        raise NotFound(Text("definisi %(key)r belum di-deploy", key=key) if key
                       else Text("belum ada definisi SOP yang di-deploy"))
    return {"key": key, "start": start, "end": end, "bidang": bidang or None}


def _find(session: Session, model, scope: dict[str, Any]):
    return session.scalars(select(model).where(
        model.definition_key == scope["key"], model.period_start == scope["start"],
        model.period_end == scope["end"], model.bidang == (scope["bidang"] or ""))).first()


def _check_revision(row, expected: int | None, what: Text) -> None:
    if expected is not None and row.revision != expected:
        raise Conflict(Text("%(what)s ini baru saja diubah oleh orang lain; muat ulang dan coba lagi", what=what))


def _names(session: Session, logins: list[str | None]) -> dict[str, str]:
    wanted = [login for login in logins if login]
    if not wanted:
        return {}
    return dict(session.execute(select(User.login, User.name).where(User.login.in_(wanted))).all())


def _sop(version: definitions.Version) -> dict[str, Any]:
    header = version.definition.header
    return {"key": version.key, "version": version.version, "name": version.definition.name,
            "nomor": str(header.get("nomor") or ""), "definition": version.definition}
