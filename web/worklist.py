"""The worklist: "Tugas Saya" and "Tugas Tim", with filters saved on the server."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import services, worklist
from engine.errors import InvalidData
from web import timefmt
from web.app import bidang_names_known, runtime

bp = Blueprint("worklist", __name__)


@bp.get("/")
@login_required
def index():
    return _page(worklist.clean_filters(request.args.to_dict()))


def _page(filters: dict, errors: dict | None = None, name: str = "", shared: bool = False):
    """The worklist with `filters`; `errors`, `name` and `shared`: the save-filter form sent back."""
    login = current_user.login
    shown = worklist.page(runtime(), current_user.account, filters)
    rows = shown["tasks"]
    t = timefmt.words()
    left = timefmt.Remaining(runtime().calendar, shown["now"], t)
    for row in rows:
        row["time_left"] = left.of(row["due_at"], row["working_time"])
    bidang_names_known(shown["bidang"])
    # What a row's buttons are called for a screen reader: its step and activity too, or every row's would
    # be alike. Translated once per page; the template fills each row in.
    names = {"open": t.gettext("Buka langkah %(step)s · %(title)s"),
             "release": t.gettext("Lepas langkah %(step)s · %(title)s"),
             "claim_open": t.gettext("Klaim & buka langkah %(step)s · %(title)s"),
             "claim": t.gettext("Klaim langkah %(step)s · %(title)s")}
    return render_template(
        "worklist.html", names=names,
        mine=[r for r in rows if r["assignee"] == login],
        team=[r for r in rows if r["assignee"] is None],
        filters=filters, saved=shown["saved"], bidang=shown["bidang"],
        errors=errors or {}, name=name, shared=shared, max_name=worklist.MAX_FILTER_NAME,
    )


@bp.post("/tugas/<task_id>/klaim")
@login_required
def claim(task_id):
    services.claim(runtime(), task_id, current_user.login)
    if request.form.get("open"):
        return redirect(url_for("tasks.show", task_id=task_id))
    flash(_("Tugas diklaim."), "success")
    return redirect(request.referrer or url_for(".index"))


@bp.post("/tugas/<task_id>/lepas")
@login_required
def unclaim(task_id):
    if services.unclaim(runtime(), task_id, current_user.login)["released"]:
        flash(_("Tugas dikembalikan ke tim."), "success")
    else:
        flash(_("Tugas tidak sedang diklaim; tidak ada yang berubah."), "info")
    # Back to the worklist as it was filtered and sorted; from the task page (no longer theirs), to the worklist.
    came_from = urlsplit(request.referrer or "")
    return redirect(url_for(".index") + (f"?{came_from.query}" if came_from.path == url_for(".index") and
                                         came_from.query else ""))


@bp.post("/filter")
@login_required
def save_filter():
    params = {k: request.form.get(k, "") for k in worklist.FILTER_KEYS}
    name, shared = request.form.get("name", ""), bool(request.form.get("shared"))
    try:
        worklist.save_filter(runtime(), current_user.login, name, params, shared=shared)
    except InvalidData as err:  # the worklist comes back with the name as typed, the filters it can apply,
        # and each error at its field
        kept = worklist.clean_filters({k: v for k, v in params.items() if k not in err.errors})
        return _page(kept, err.errors, name, shared), err.status
    flash(_("Filter disimpan."), "success")
    saved = worklist.clean_filters(params)  # as saved: " 3 " is 3
    return redirect(url_for(".index", **{k: _in_address(v) for k, v in saved.items()}))


def _in_address(value):
    """A filter value as the worklist's address and filter form say it (yes or no as 1 or 0)."""
    return int(value) if isinstance(value, bool) else value


@bp.post("/filter/<int:filter_id>/hapus")
@login_required
def delete_filter(filter_id):
    worklist.delete_filter(runtime(), current_user.login, filter_id)
    flash(_("Filter dihapus."), "success")
    return redirect(url_for(".index"))
