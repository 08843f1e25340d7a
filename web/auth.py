"""Signing in and out, the current user, and permission decorators."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_required, login_user, logout_user

from engine import accounts, escalation
from engine.db import MAX_INTEGER
from engine.errors import InvalidData, NotFound
from engine.permissions import may_start
from web import i18n
from web.app import runtime

bp = Blueprint("auth", __name__)


class Principal(UserMixin):
    """The signed-in user as the web sees it (a detached account row)."""

    def __init__(self, account):  # a User row, or an engine.accounts.Account
        self.account = account
        self.id = account.id
        self.login = account.login
        self.name = account.name
        self.bidang = account.bidang_code
        self.roles = account.role_names
        self.language = account.language or "id"

    def get_id(self) -> str:
        """What Flask-Login keeps in the session: the id, and the mark of the password signed in with."""
        return f"{self.id}:{accounts.session_mark(self.account)}"

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    @property
    def sees_every_bidang(self) -> bool:
        """Whether the user may look at every Bidang's activities (engine.escalation.sees_every_bidang)."""
        return escalation.sees_every_bidang(runtime(), self.account)

    @property
    def starts_activities(self) -> bool:
        """Whether the user may start an activity for some Bidang (the menu's "Mulai kegiatan")."""
        return may_start(self.account, self.bidang or "")

    @property
    def supervises(self) -> bool:
        """Whether the escalation rules name one of the user's roles: the Pengawasan page is theirs."""
        return self.has(*escalation.supervising_roles(runtime()))


def require_roles(*roles: str):
    """403 unless the user holds one of the roles: checked on the server, not by hiding buttons."""
    return _require(lambda: current_user.has(*roles))


def require_supervisor(view):
    """403 unless the escalation rules (escalation.yaml) name one of the user's roles at some level."""
    return _require(lambda: current_user.supervises)(view)


def _require(allowed):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if not allowed():
                abort(403, _("Anda tidak berwenang membuka halaman ini."))
            return view(*args, **kwargs)
        return wrapper
    return decorator


@bp.route("/masuk", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        try:
            user_id = accounts.authenticate(runtime(), request.form.get("login", ""),
                                            request.form.get("password", ""), session.get("language"))
        except (accounts.SignInRefused, accounts.Throttled) as err:
            flash(_("Nama pengguna atau kata sandi salah.") if isinstance(err, accounts.SignInRefused)
                  else _("Terlalu banyak percobaan gagal. Coba lagi beberapa menit lagi."), "error")
            return _sign_in_page(login=request.form.get("login", "")), err.status
        session.clear()  # a fresh session on sign-in: no fixation
        session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME without a request
        login_user(Principal(accounts.load_user(runtime(), user_id)))
        target = request.args.get("next", "")
        return redirect(target if on_this_site(target) else url_for("worklist.index"))
    return _sign_in_page()


def _sign_in_page(**values):
    """The sign-in form; over plain HTTP with secure cookies on (ALUR_SECURE_COOKIES) it says that the
    browser keeps no session there: signing in would only lead back here, without a word."""
    needs_https = current_app.config["SESSION_COOKIE_SECURE"] and not request.is_secure
    return render_template("login.html", needs_https=needs_https, **values)


def on_this_site(target: str) -> bool:
    """Whether a sign-in's "next" is a path on this site. Browsers drop tabs and line breaks from a
    URL and read a backslash as a slash ("/<tab>/evil" and "/\\evil" are "//evil", another site),
    and so does Werkzeug's Location header for the former: such a target is not taken at all."""
    return target.startswith("/") and not target.startswith("//") and \
        not any(c == "\\" or c <= " " or c == "\x7f" for c in target)


@bp.post("/keluar")
@login_required
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.post("/bahasa")
def language():
    """The user's language: kept with their account, or before sign-in with the browser's session."""
    chosen = request.form.get("language", "id")
    if current_user.is_authenticated:
        accounts.set_language(runtime(), current_user.id, chosen)
    elif chosen in i18n.LANGUAGES:
        session["language"] = chosen
    return redirect(request.referrer or url_for("worklist.index"))


@bp.route("/token", methods=["GET", "POST"])
@login_required
def tokens():
    created, errors, status = None, {}, 200
    if request.method == "POST":
        if request.form.get("revoke"):
            token_id = request.form.get("revoke", type=int)
            if token_id is None or not 0 < token_id <= MAX_INTEGER:  # a forged form: no such token
                raise NotFound(_("token tidak ditemukan"))
            accounts.revoke_token(runtime(), current_user.id, token_id)
            flash(_("Token dicabut."), "success")
        else:
            try:
                _token_id, created = accounts.create_token(runtime(), current_user.id, request.form.get("name", ""))
            except InvalidData as err:  # the form comes back with the name as typed and the error at it
                errors, status = err.errors, err.status
    return render_template("tokens.html", tokens=accounts.tokens(runtime(), current_user.id), created=created,
                           errors=errors, name=request.form.get("name", "") if errors else "",
                           max_name=accounts.MAX_TOKEN_NAME), status
