"""Starting work, listing instances, and an instance's page with its diagram."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import queries, services
from engine.config import ROOT, SOURCE_TREE
from engine.errors import InvalidData
from web import sent
from web.app import runtime
from web.monitoring import time_taken

bp = Blueprint("instances", __name__)


def _library(package: str) -> Path:
    """A front-end library's dist folder: node_modules/ in a source tree, web/vendor/ in a wheel (setup.py)."""
    return ROOT / "node_modules" / package / "dist" if SOURCE_TREE else Path(__file__).parent / "vendor" / package


# Front-end libraries from npm (package.json), served from their dist folders: /vendor/<package>/<file>.
VENDOR = {package: _library(package) for package in ("bpmn-js", "chart.js")}


LISTED = 200  # the newest; older ones are found with the search, which pages


@bp.get("/kegiatan")
@login_required
def index():
    state = request.args.get("state") or None
    rows = queries.instances(runtime(), current_user.login, state, limit=LISTED + 1)  # one more: any left off?
    return render_template("instances.html", rows=rows[:LISTED], state=state, cut=len(rows) > LISTED)


@bp.route("/kegiatan/baru", methods=["GET", "POST"])
@login_required
def start():
    choices = queries.start_choices(runtime(), current_user.login)
    errors, values = {}, {}
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            asked = services.start_request_hash(values.get("definition", ""), values.get("bidang", ""),
                                                values.get("title", ""), values.get("period", ""))
            started = services.start_once(runtime(), values.get("definition", ""), values.get("bidang", ""),
                                          values.get("title", ""), current_user.login, values.get("period", ""),
                                          retry_key=sent.retry_key(asked))
        except InvalidData as err:
            # A field's problem at the field; one without a field (a gateway that cannot be passed) on top.
            errors = err.errors or {"_": err.message}
        else:
            # Sent again or not, the activity exists: a success, so keep.js drops what the tab kept of the form.
            flash(_("Kegiatan ini sudah dimulai dari formulir yang sama; tidak dimulai lagi.") if started.again
                  else _("Kegiatan dimulai."), "success")
            return redirect(url_for(".show", instance_id=started.instance_id))
    return render_template("start.html", choices=choices, errors=errors, values=values), 422 if errors else 200


@bp.get("/kegiatan/<int:instance_id>")
@login_required
def show(instance_id):
    info = queries.instance_view(runtime(), instance_id, current_user.login)
    for step in info["steps"]:
        # Working time in hours and minutes, as monitoring words it: a working day is not 24 hours. A step
        # counted in calendar days or clock time, by the clock.
        taken = step["working_minutes"] if step["working_time"] else step["clock_minutes"]
        step["took"] = time_taken(taken, step["working_time"])
    # The column's heading says how its times are counted; where the steps differ, each time says it.
    counted = {step["working_time"] for step in info["steps"]}
    took_heading = _("Waktu kerja") if counted <= {True} else _("Waktu kalender") if counted == {False} else None
    return render_template("instance.html", info=info, took_heading=took_heading)


@bp.get("/kegiatan/<int:instance_id>/diagram.bpmn")
@login_required
def diagram(instance_id):
    return Response(queries.diagram(runtime(), instance_id, current_user.login), mimetype="application/xml")


@bp.get("/vendor/<package>/<path:filename>")
def vendor(package, filename):
    folder = VENDOR.get(package)
    if folder is None:
        abort(404)
    if not folder.exists():
        abort(404, _("%(package)s belum terpasang: jalankan `make run` (npm install).", package=package))
    return send_from_directory(folder, filename, max_age=86400)


@bp.get("/vendor/bpmn-js/<path:filename>")
def bpmn_js(filename):
    """The same files as vendor('bpmn-js', ...); kept for url_for('instances.bpmn_js') in templates."""
    return vendor("bpmn-js", filename)
