"""Monitoring and evaluation: the dashboard with its heat map, the recap exports, and the archive search."""
from __future__ import annotations

from datetime import date
from functools import wraps

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_decimal, format_percent, get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import accounts, monitoring
from engine.errors import InvalidData
from process.forms import plausible_year
from process.numbers import whole_number
from web import downloads
from web import recap as recap_files
from web.app import runtime
from web.auth import require_roles
from web.back import errors_lead_back
from web.timefmt import standard_time

bp = Blueprint("monitoring", __name__)
ROLES = monitoring.MONITORING_ROLES
errors_lead_back(bp, "monitoring.index", lambda: _("Kembali ke Monitoring"), lambda: current_user.has(*ROLES))


def percent(value) -> str:
    """A rate as a percentage to a tenth ("99,5%" on an Indonesian page, "99.5%" on an English one).

    Whole percents made 199 steps on time out of 200 read "100%": a rate that
    is not all (or nothing) never reads as 100% (or 0%).
    """
    return "—" if value is None else format_percent(monitoring.shown_rate(value), "#,##0.#%")


def work_time(minutes) -> str:
    """Working time as hours and minutes ("12 jam 5 menit"): a working day is not 24 hours."""
    if minutes is None:
        return "—"
    hours, mins = divmod(int(round(minutes)), 60)
    if hours and mins:
        return _("%(h)d jam %(m)d menit", h=hours, m=mins)
    if hours:
        return _("%(h)d jam", h=hours)
    return _("%(m)d menit", m=mins)


def clock_time(minutes: int) -> str:
    """Time by the clock, for a step counted in calendar days or clock time: days and hours ("8 hari 2 jam")
    as its standard counts them; under a day as `work_time` words it."""
    days, rest = divmod(minutes, 24 * 60)
    if not days:
        return work_time(rest)
    words = ngettext("%(n)d hari", "%(n)d hari", days, n=days)
    return f"{words} {_('%(h)d jam', h=rest // 60)}" if rest >= 60 else words


def time_taken(minutes, working: bool) -> str:
    """A step's time taken as its figures measure it (`working_time`): working time, or by the clock."""
    if minutes is None:
        return "—"
    return work_time(minutes) if working else clock_time(int(round(minutes)))


def short_work_time(minutes) -> str:
    """A compact working time for the diagram's badges ("183 jam", "7,5 jam", "45 mnt")."""
    if minutes is None:
        return "—"
    if round(minutes) < 60:  # 59.6 minutes is "1 jam", not "60 mnt"
        return _("%(m)d mnt", m=round(minutes))
    hours = minutes / 60
    return _("%(h)s jam", h=format_decimal(round(hours) if hours >= 10 else round(hours, 1)))


def short_time_taken(minutes, working: bool) -> str:
    """A badge's time taken as its figures measure it: working hours, or by the clock in days ("8,1 hari")
    from a day on, as its standard counts them."""
    if working or minutes is None or minutes < 24 * 60:
        return short_work_time(minutes)
    return _("%(d)s hari", d=format_decimal(round(minutes / (24 * 60), 1)))


def step_label(step: dict, short: bool = False) -> str:
    """A step table's row: its number, said as an earlier version's (`recap.old_step`) for a step the newest
    version removed."""
    return recap_files.old_step(step["step"], short) if step.get("removed") else str(step["step"])


@bp.context_processor
def helpers():
    return {"percent": percent, "work_time": work_time, "time_taken": time_taken, "step_label": step_label,
            "old_step": recap_files.old_step}


def _date(name: str) -> date | None:
    value = request.values.get(name, "").strip()  # the period page sends a form's period back in its body
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidData(_("Tanggal tidak valid."), {name: _("harus berupa tanggal (YYYY-MM-DD)")}) from None
    # Year 1 or 9999 cannot be turned into a moment in the office's time zone and back (a 500).
    if not plausible_year(day):
        raise InvalidData(_("Tanggal tidak valid."), {name: _("tahun antara 1900 dan 2999")})
    return day


def _step(name: str) -> int | None:
    """A step number from the address; one that is no number was dropped as "every step"."""
    value = request.args.get(name, "").strip()
    if not value:
        return None
    number = whole_number(value)
    if not number:
        raise InvalidData(_("Langkah tidak valid."), {name: _("harus berupa nomor langkah")})
    return number


def _filters() -> dict:
    return {"start": _date("dari"), "end": _date("sampai"), "bidang": request.args.get("bidang") or None,
            "key": request.args.get("sop") or None}


SHOW_AGAIN = "tampilkan"  # a form sent back by the period page: shown again with what was typed, not saved


def period_comes_back(heading, form_id: str, page: str):
    """A monitoring page whose period cannot be read, runs backwards or is too long comes back with its
    filters as sent and the error at the date (a bare error page lost them). `heading()`: the page's title;
    `page`: its endpoint, which the filters are sent to. A download of the page's figures (its recap, its
    PDF) comes back as the page too."""
    def decorator(view):
        @wraps(view)
        def shown(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except InvalidData as err:
                if not err.errors.keys() & {"dari", "sampai"}:
                    raise
                return render_template("monitoring_period.html", heading=heading(), form_id=form_id, page=page,
                                       show_again=SHOW_AGAIN,
                                       message=err.message, errors=err.errors,
                                       choices=monitoring.filter_choices(runtime(), current_user.login),
                                       may_choose_bidang=current_user.sees_every_bidang), err.status
        return shown
    return decorator


dashboard_period = period_comes_back(lambda: _("Monitoring dan evaluasi"), "monitoring-filter", "monitoring.index")


@bp.get("/monitoring")
@require_roles(*ROLES)
@dashboard_period
def index():
    data = monitoring.figures(runtime(), current_user.login, **_filters())
    for entry in data["heatmap"].values():
        working = entry.pop("working_time")
        entry["label"] = (f"{entry['open_now']} · {percent(entry['on_time_rate'])}\n"
                          f"{short_time_taken(entry['median_minutes'], working)}")
        entry["title"] = ngettext("Langkah %(step)d: %(num)d kegiatan di langkah ini (%(late)d terlambat); "
                                  "tepat waktu %(rate)s; median %(median)s, standar %(standard)s",
                                  "Langkah %(step)d: %(num)d kegiatan di langkah ini (%(late)d terlambat); "
                                  "tepat waktu %(rate)s; median %(median)s, standar %(standard)s",
                                  entry["open_now"], step=entry["step"], late=entry["overdue_now"],
                                  rate=percent(entry["on_time_rate"]), median=time_taken(entry["median_minutes"], working),
                                  # (popped: the page's heat map data carries the SOP's notation no further)
                                  standard=standard_time(entry.pop("standard"), str(get_locale())))
    for month in data["trend"]:
        year_, month_ = (int(part) for part in month["month"].split("-"))
        month["label"] = format_date(date(year_, month_, 1), "MMM yyyy")
    charts = {
        "steps": {"labels": [step_label(s) for s in data["steps"]],
                  "values": [_pct(s["on_time_rate"]) for s in data["steps"]],
                  "label": _("Tepat waktu (%)")},
        "bidang": {"labels": [b["name"] for b in data["bidang_on_time"]],
                   "values": [_pct(b["on_time_rate"]) for b in data["bidang_on_time"]],
                   "label": _("Tepat waktu (%)")},
        "trend": {"labels": [m["label"] for m in data["trend"]],
                  "values": [_pct(m["on_time_rate"]) for m in data["trend"]],
                  "counts": [m["done"] for m in data["trend"]],
                  "label": _("Tepat waktu (%)"), "count_label": _("Langkah selesai")},
    }
    args = {k: v for k, v in request.args.items() if k in ("dari", "sampai", "bidang", "sop") and v}
    return render_template("monitoring.html", data=data, charts=charts, args=args,
                           may_choose_bidang=current_user.sees_every_bidang)


def _pct(value):
    return None if value is None else round(monitoring.shown_rate(value) * 100, 1)


@bp.get("/monitoring/diagram.bpmn")
@require_roles(*ROLES)
def diagram():
    return Response(monitoring.diagram(runtime(), current_user.login, request.args.get("sop") or None),
                    mimetype="application/xml")


@bp.get("/monitoring/rekap.xlsx")
@require_roles(*ROLES)
@dashboard_period
def recap_xlsx():
    data = monitoring.recap(runtime(), current_user.login, **_filters())
    return Response(recap_files.xlsx(data), headers={"Content-Disposition": _recap_file(data, "xlsx")},
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/monitoring/rekap.csv")
@require_roles(*ROLES)
@dashboard_period
def recap_csv():
    data = monitoring.recap(runtime(), current_user.login, **_filters())
    return Response(recap_files.csv_text(data).encode("utf-8-sig"),
                    headers={"Content-Disposition": _recap_file(data, "csv")}, mimetype="text/csv")


def _recap_file(data: dict, extension: str) -> str:
    return attachment("rekap-monev", data["sop"]["key"], data["period"]["start"], data["period"]["end"],
                      data["bidang"], extension)


def attachment(prefix: str, key: str, start: date, end: date, bidang: str | None, extension: str) -> str:
    """A period download's Content-Disposition: what it is, of which SOP, period and Bidang, so
    files of several SOPs or periods saved side by side keep their own names."""
    name = f"{prefix}-{key}-{start.isoformat()}_{end.isoformat()}" + (f"-{bidang}" if bidang else "")
    return downloads.attachment(f"{name}.{extension}")


# -- the archive search ---------------------------------------------------------

@bp.get("/kegiatan/cari")
@login_required
def search():
    args = request.args
    errors = {}
    try:
        result = monitoring.search(runtime(), current_user.login, **_search_filters(),
                                   page=whole_number(args.get("halaman", "1")) or 1)
    except InvalidData as err:  # the form comes back as sent, with the error at its field and no results
        result, errors = None, err.errors or {"": err.message}
    bidang = accounts.list_bidang(runtime())
    if not current_user.sees_every_bidang:
        bidang = [b for b in bidang if b["code"] == current_user.bidang]
    sops, steps = monitoring.search_choices(runtime(), args.get("sop") or None)
    return render_template("search.html", result=result, errors=errors, args=args, bidang=bidang, sops=sops,
                           steps=steps), 422 if errors else 200


def _search_filters() -> dict:
    args = request.args
    return {
        "bidang": args.get("bidang") or None, "period": args.get("periode") or None,
        "title": args.get("judul") or None, "state": args.get("status") or None,
        "step": _step("langkah"), "performer": args.get("pelaksana", "").strip() or None,
        "overdue": {"ya": True, "tidak": False}.get(args.get("terlambat", "")), "archived": args.get("arsip") or "tidak",
        "start": _date("dari"), "end": _date("sampai"), "sop": args.get("sop") or None,
    }


@bp.post("/kegiatan/<int:instance_id>/arsip")
@require_roles("admin")
def archive(instance_id):
    monitoring.archive(runtime(), instance_id, current_user.login)
    flash(_("Kegiatan #%(id)d diarsipkan.", id=instance_id), "success")
    return redirect(_back())


@bp.post("/kegiatan/<int:instance_id>/pulihkan")
@require_roles("admin")
def unarchive(instance_id):
    monitoring.unarchive(runtime(), instance_id, current_user.login)
    flash(_("Kegiatan #%(id)d dikeluarkan dari arsip.", id=instance_id), "success")
    return redirect(_back())


def _back() -> str:
    target = request.form.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else url_for(".search")
