"""The supervisor's page: open alerts with acknowledge, and overdue steps by Bidang and step.

For the roles escalation.yaml names at some level (engine.escalation.supervising_roles)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine import alerts, queries, worklist
from web import sent
from web.app import runtime
from web.auth import require_supervisor
from web.back import errors_lead_back

bp = Blueprint("supervisor", __name__)


# An error on this page's actions (a stale reassign) leads back to Pengawasan, where the supervisor was.
errors_lead_back(bp, "supervisor.index", lambda: _("Kembali ke Pengawasan"), lambda: current_user.supervises)


@bp.get("/pengawasan")
@require_supervisor
def index():
    overdue = queries.overdue_steps(runtime(), current_user.login)
    offered = worklist.candidates(runtime(), [row["id"] for row in overdue["rows"] if row["may_reassign"]])
    for row in overdue["rows"]:
        row["candidates"] = offered.get(row["id"], [])
    return render_template("supervisor.html", overdue=overdue,
                           alerts=alerts.alerts(runtime(), current_user.login, unacknowledged=True))


@bp.post("/pengawasan/tugas/<task_id>/alihkan")
@require_supervisor
def reassign(task_id):
    # The version the page showed: a claim made since is not overridden.
    task = worklist.reassign(runtime(), task_id, current_user.login, request.form.get("assignee", ""),
                             sent.seen())
    if task["moved"]:
        flash(_("Tugas dialihkan."), "success")
    else:
        flash(_("Tugas sudah dipegang %(who)s; tidak ada yang berubah.", who=task["assignee"]), "info")
    return redirect(url_for(".index"))


@bp.post("/pengawasan/peringatan/<int:alert_id>/baca")
@require_supervisor
def acknowledge(alert_id):
    alerts.acknowledge(runtime(), alert_id, current_user.login)
    flash(_("Peringatan ditandai sudah dibaca."), "success")
    return redirect(url_for(".index"))
