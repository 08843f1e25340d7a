"""The evaluation report (page and PDF) and the SOP-implementation monitoring form (page, print, PDF).

Figures come from `engine.monitoring.figures` through `engine.reports`; the
charts of the PDF are SVG drawn by `process.charts`, so the paper needs no
JavaScript. The printed documents are official papers and always in Bahasa
Indonesia, like the SOP document.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, format_date, get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from engine import monitoring as monitoring_figures
from engine import reports
from engine.errors import Conflict, InvalidData
from process.numbers import whole_number
from process import charts, sop_document
from web import sent, timefmt
from web.app import runtime
from web.auth import require_roles
from web.back import errors_lead_back
from web.monitoring import SHOW_AGAIN, _date, _pct, attachment, percent, period_comes_back, step_label, time_taken
from web.sop_document import render_pdf

bp = Blueprint("reports", __name__)
ROLES = monitoring_figures.MONITORING_ROLES
errors_lead_back(bp, "monitoring.index", lambda: _("Kembali ke Monitoring"), lambda: current_user.has(*ROLES))


def _filters() -> dict:
    return {"start": _date("dari"), "end": _date("sampai"), "bidang": request.values.get("bidang") or None,
            "key": request.values.get("sop") or None}


def _args(scope: dict) -> dict:
    """The resolved filters as query arguments: saved rows are keyed by them."""
    args = {"dari": scope["start"].isoformat(), "sampai": scope["end"].isoformat()}
    if scope["bidang"]:
        args["bidang"] = scope["bidang"]
    if request.values.get("sop"):
        args["sop"] = request.values["sop"]
    return args


@bp.context_processor
def helpers():
    return {"percent": percent, "time_taken": time_taken, "step_label": step_label,
            "threshold": reports.ON_TIME_THRESHOLD}


# -- the evaluation report -----------------------------------------------------------

def _saving() -> bool:
    """A form sent to be saved; not one the period page sent back with its period corrected."""
    return request.method == "POST" and SHOW_AGAIN not in request.form


def _shown_again() -> bool:
    """A form the period page sent back: shown with what was typed, saved not yet."""
    return request.method == "POST" and not _saving()


def _shown_over_another(saved_revision: int | None) -> bool:
    """Answers shown again after a period error were typed over the revision their first page showed; if
    the corrected period has another saved, it is a conflict: the next save would replace it unseen."""
    return _shown_again() and saved_revision is not None and sent.seen("revision") != saved_revision


report_period = period_comes_back(lambda: _("Laporan Hasil Evaluasi"), "report-filter", "reports.report")
sop_form_period = period_comes_back(lambda: _("Formulir monitoring pelaksanaan SOP"), "sop-form-filter",
                                    "reports.sop_form")


@bp.route("/monitoring/laporan", methods=["GET", "POST"])
@require_roles(*ROLES)
@report_period
def report():
    filters = _filters()
    errors: dict[str, str] = {}
    values = None
    conflict = False
    if request.method == "POST":
        values = {"kesimpulan": request.form.get("kesimpulan", ""), "rekomendasi": request.form.get("rekomendasi", "")}
    if _saving():
        try:
            reports.save_report(runtime(), current_user.login, filters["start"], filters["end"], filters["bidang"],
                                filters["key"], values["kesimpulan"], values["rekomendasi"],
                                sent.seen("revision"))
        except InvalidData as err:
            errors = err.errors or {"": err.message}
        except Conflict:
            conflict = True  # the page again: what was typed, what was saved meanwhile, its revision
        else:
            flash(_("Kesimpulan laporan evaluasi disimpan."), "success")
            return redirect(url_for(".report", **request.args))
    data = reports.evaluation_report(runtime(), current_user.login, **filters)
    stored = data["report"] or {}
    conflict = conflict or _shown_over_another(stored.get("revision"))
    if values is None:
        values = {"kesimpulan": stored.get("conclusions", ""), "rekomendasi": stored.get("recommendations", "")}
    return render_template("report.html", data=data, f=data["figures"], args=_args(data["scope"]), values=values,
                           shown_again=_shown_again(),
                           errors=errors, conflict=conflict,
                           may_choose_bidang=current_user.sees_every_bidang), \
        409 if conflict else 422 if errors else 200


@bp.get("/monitoring/laporan.pdf")
@require_roles(*ROLES)
@report_period
def report_pdf():
    data = reports.evaluation_report(runtime(), current_user.login, **_filters())
    with force_locale("id"):
        html = render_template("report_print.html", data=data, f=data["figures"], charts=_charts(data["figures"]),
                               doc=sop_document.build(data["sop"]["definition"]).header,
                               now=runtime().now())
    response = Response(render_pdf(html), mimetype="application/pdf")
    response.headers["Content-Disposition"] = _download("laporan-evaluasi", data)
    return response


def _charts(f: dict) -> dict[str, Markup]:
    """The dashboard's three charts, as SVG."""
    steps = f["steps"]
    months = []
    for month in f["trend"]:
        year_, month_ = (int(part) for part in month["month"].split("-"))
        months.append(format_date(date(year_, month_, 1), "MMM yy"))
        month["print_label"] = format_date(date(year_, month_, 1), "MMMM yyyy")
    return {
        "steps": Markup(charts.bar_chart(
            # Room for about 7 letters under each bar: a removed step's "(versi lama)" said short.
            [step_label(s, short=True) for s in steps], [_pct(s["on_time_rate"]) for s in steps],
            value_labels=[percent(s["on_time_rate"]) for s in steps], title=_("Ketepatan waktu per langkah"))),
        "bidang": Markup(charts.hbar_chart(
            [b["name"] for b in f["bidang_on_time"]], [_pct(b["on_time_rate"]) for b in f["bidang_on_time"]],
            value_labels=[percent(b["on_time_rate"]) for b in f["bidang_on_time"]],
            title=_("Ketepatan waktu per Bidang"))),
        "trend": Markup(charts.trend_chart(
            months, [_pct(m["on_time_rate"]) for m in f["trend"]], [m["done"] for m in f["trend"]],
            title=_("Tren per bulan"), rate_label=_("Tepat waktu (%)"), count_label=_("Langkah selesai"))),
    }


# -- the SOP-implementation monitoring form ------------------------------------------------

@bp.route("/monitoring/formulir-sop", methods=["GET", "POST"])
@require_roles(*ROLES)
@sop_form_period
def sop_form():
    filters = _filters()
    errors: dict[str, str] = {}
    posted = None
    conflict = False
    if request.method == "POST":
        posted = _posted_answers()
    if _saving():
        try:
            assessed_on = date.fromisoformat(request.form["tanggal"]) if request.form.get("tanggal") else None
        except ValueError:
            errors = {"tanggal": _("harus berupa tanggal (YYYY-MM-DD)")}
        if not errors:
            try:
                reports.save_sop_form(runtime(), current_user.login, filters["start"], filters["end"],
                                      filters["bidang"], filters["key"], posted, assessed_on,
                                      sent.seen("revision"))
            except InvalidData as err:
                errors = err.errors or {"": err.message}
            except Conflict:
                conflict = True  # the form again with what was typed, over the revision saved meanwhile
            else:
                flash(_("Formulir monitoring pelaksanaan SOP disimpan."), "success")
                return redirect(url_for(".sop_form", **request.args))
    data = with_suggested_notes(reports.sop_form(runtime(), current_user.login, **filters))
    conflict = conflict or _shown_over_another(data["revision"])
    if posted is not None:
        for row in data["rows"]:
            row.update(posted.get(row["element_id"], posted.get(row["step"], {})))
        data["assessed_on"] = request.form.get("tanggal") or data["assessed_on"]
    return render_template("sop_form.html", data=data, f=data["figures"], args=_args(data["scope"]),
                           shown_again=_shown_again(),
                           errors=errors, conflict=conflict,
                           may_choose_bidang=current_user.sees_every_bidang), \
        409 if conflict else 422 if errors else 200


def with_suggested_notes(data: dict) -> dict:
    """The form with a suggested note, in the page's language, on each step not assessed yet."""
    for row in data["rows"]:
        if not row["saved"]:
            row["catatan"] = suggested_note(row)
    return data


def suggested_note(row: dict) -> str:
    """The figures a step's suggested answer rests on (`engine.reports.suggest`), as the note to start from."""
    if not row["done"]:
        notes = [_("Belum ada penyelesaian langkah ini pada periode ini")]
    else:
        notes = [ngettext("Selesai %(num)d kali", "Selesai %(num)d kali", row["done"])]
        if row["with_due"]:
            notes.append(_("tepat waktu %(on_time)d dari %(with_due)d (%(rate)s)", on_time=row["on_time"],
                           with_due=row["with_due"], rate=percent(row["on_time_rate"])))
        if row["median_minutes"] is not None:
            median = {"taken": time_taken(row["median_minutes"], row["working_time"]),
                      "standard": timefmt.standard_time(row["standard"], str(get_locale()))}
            notes.append(_("median waktu kerja %(taken)s (standar %(standard)s)", **median) if row["working_time"]
                         else _("median waktu kalender %(taken)s (standar %(standard)s)", **median))
    if row["decisions"]:
        notes.append(_("dikembalikan %(back)d dari %(decisions)d keputusan verifikasi", back=row["sent_back"],
                       decisions=row["decisions"]))
    if row["problem_step"] and row["done"]:
        notes.append(ngettext("%(num)d kendala dilaporkan", "%(num)d kendala dilaporkan", row["problems"]))
    if row["open_now"]:
        notes.append(ngettext("%(num)d kegiatan sedang di langkah ini (%(late)d terlambat)",
                              "%(num)d kegiatan sedang di langkah ini (%(late)d terlambat)", row["open_now"],
                              late=row["overdue_now"]))
    return "; ".join(notes) + "."


def _posted_answers() -> dict[str | int, dict[str, str]]:
    """The typed answers by step element. Each row of the page names its step's diagram element
    (`langkah-N`): a version deployed while the page was open may number the steps otherwise, and an
    answer stays with its step. (By number where a form names no element.)"""
    answers: dict[str | int, dict[str, str]] = {}
    for name, value in request.form.items():
        field, _sep, number = name.rpartition("-")
        step = whole_number(number)
        if field in ("berjalan_baik", "catatan", "tindakan", "penilai") and step is not None:
            answers.setdefault(request.form.get(f"langkah-{step}") or step, {})[field] = value
    return answers


@bp.get("/monitoring/formulir-sop/cetak")
@require_roles(*ROLES)
@sop_form_period
def sop_form_print():
    return _sop_form_print()[0]


@bp.get("/monitoring/formulir-sop.pdf")
@require_roles(*ROLES)
@sop_form_period
def sop_form_pdf():
    html, data = _sop_form_print()
    response = Response(render_pdf(html), mimetype="application/pdf")
    response.headers["Content-Disposition"] = _download("formulir-monitoring-sop", data)
    return response


def _sop_form_print() -> tuple[str, dict]:
    data = reports.sop_form(runtime(), current_user.login, **_filters())
    with force_locale("id"):
        with_suggested_notes(data)
        html = render_template("sop_form_print.html", data=data,
                               doc=sop_document.build(data["sop"]["definition"]).header)
    return html, data


def _download(prefix: str, data: dict) -> str:
    scope = data["scope"]
    return attachment(prefix, scope["key"], scope["start"], scope["end"], scope["bidang"], "pdf")
