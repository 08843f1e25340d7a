"""Administration: users, their Bidang and roles, and the Bidang list."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user

from engine import accounts, cycles
from engine.errors import InvalidData
from engine.permissions import role_name
from web.app import runtime
from web.auth import Principal, require_roles
from web.i18n import say

bp = Blueprint("admin", __name__, url_prefix="/admin")

def role_label(role: str) -> str:
    return say(role_name(role))


@bp.route("/pengguna", methods=["GET", "POST"])
@require_roles("admin")
def users():
    errors, values, status = {}, {}, 200
    if request.method == "POST":
        # What was sent, to show again on an error: ticked roles and "Aktif" included.
        values = {**request.form.to_dict(), "roles": request.form.getlist("roles"),
                  "active": bool(request.form.get("active"))}
        try:
            saved = accounts.save_user(runtime(), current_user.login, values.get("login", ""), values.get("name", ""),
                                       values.get("bidang") or None, values["roles"],
                                       email=values.get("email") or None, password=values.get("password") or None,
                                       active=values["active"], new=bool(values.get("new")))
        except InvalidData as err:
            errors, status = err.errors, err.status
        except accounts.OwnAdminRole as err:  # said at its field; any other conflict is the error page
            errors, status = {err.field: err.message}, err.status
        else:
            own = accounts.load_user(runtime(), current_user.id) \
                if saved["login"] == current_user.login and values.get("password") else None
            if own is not None:  # their own new password: this session, which set it, goes on under its
                login_user(Principal(own))  # mark (web.auth.Principal.get_id); those of the old one end
            flash(_("Pengguna %(login)s disimpan.", login=values.get("login")), "success")
            if saved["released"]:  # the admin should know the steps are back in their colleagues' worklists
                flash(ngettext("%(num)d tugas yang diklaimnya dikembalikan ke daftar kerja lajurnya.",
                               "%(num)d tugas yang diklaimnya dikembalikan ke daftar kerja lajurnya.",
                               len(saved["released"])), "info")
            return redirect(url_for(".users"))
    edit = request.args.get("login")
    rows, bidang = accounts.list_users(runtime()), accounts.list_bidang(runtime())
    return render_template("admin_users.html", rows=rows, bidang=bidang,
                           cycles_problem=cycles.recorded_problem(runtime()),
                           bidang_names={b["code"]: b["name"] for b in bidang},
                           roles=accounts.ROLES, role_label=role_label, errors=errors, values=values,
                           editing=next((u for u in rows if u["login"] == edit), None)), status


@bp.route("/bidang", methods=["GET", "POST"])
@require_roles("admin")
def bidang():
    errors, values = {}, {}
    if request.method == "POST":
        values = {"code": request.form.get("code", ""), "name": request.form.get("name", "")}
        try:
            accounts.save_bidang(runtime(), current_user.login, values["code"], values["name"],
                                 new=bool(request.form.get("new")))
        except InvalidData as err:  # the form comes back as it was sent, with the errors at it
            errors = err.errors
        else:
            flash(_("Bidang disimpan."), "success")
            return redirect(url_for(".bidang"))
    rows = accounts.list_bidang(runtime())
    return render_template("admin_bidang.html", rows=rows, errors=errors, values=values,
                           cycles_problem=cycles.recorded_problem(runtime()),
                           editing=next((b for b in rows if b["code"] == request.args.get("code")), None)), \
        422 if errors else 200
