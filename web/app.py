"""The Flask app: server-rendered pages in Bahasa Indonesia and the REST API.

Views are thin: parse the request, call a service in `engine`, render.
"""
from __future__ import annotations

import hmac
import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from flask import Flask, render_template, request, url_for
from flask_babel import Babel
from flask_babel import gettext as _
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from markupsafe import Markup
from werkzeug.routing import IntegerConverter

from engine import accounts
from engine.clock import Clock
from engine.config import Settings, session_idle_minutes
from engine.db import MAX_INTEGER
from engine.documents import size_text
from engine.errors import AlurError
from engine.events import EVENT_LABELS
from engine.runtime import Runtime
from web import catalogues, i18n, input_guard, letterhead, request_size

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()


def create_app(settings: Settings | None = None, clock: Clock | None = None,
               runtime: Runtime | None = None, testing: bool = False) -> Flask:
    app = Flask("web")  # named after the package (its logger is "web"), not after this module
    app.url_map.converters["int"] = IdConverter  # before any route is added
    rt = runtime or Runtime(settings or Settings.from_env(), clock=clock, catalogue=catalogues.catalogue)
    rt.settings.data_dir.mkdir(parents=True, exist_ok=True)
    secure = os.environ.get("ALUR_SECURE_COOKIES", "") in ("1", "true")
    app.config.update(
        SECRET_KEY=os.environ.get("ALUR_SECRET_KEY") or _secret_key(rt.settings.data_dir),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        # Idle expiry: the session is permanent (set at sign-in) and re-signed on every request; a
        # cookie signed longer ago than this is refused by the server, whatever the browser keeps.
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=session_idle_minutes()),
        SESSION_REFRESH_EACH_REQUEST=True,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        TESTING=testing,
        BABEL_DEFAULT_LOCALE="id",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
    )
    app.extensions["alur"] = rt
    # Load this year's and next year's holidays now (the package imports every
    # country's calendar the first time), not inside the first request.
    today = rt.now().date()
    for day in (today, today.replace(year=today.year + 1, day=1)):
        rt.calendar.holiday_name(day)
    i18n.compile_catalogs()
    request_size.init_app(app, rt.settings.max_upload_bytes)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=lambda: str(rt.calendar.tz))
    i18n.init_app(app, rt)
    letterhead.init_app(app, rt.settings.logo_file)
    input_guard.init_app(app)

    from web import admin, api, auth, editor, instances, monitoring, reports, sop_document, supervisor, tasks, worklist
    for blueprint in (auth.bp, worklist.bp, tasks.bp, instances.bp, supervisor.bp, admin.bp, sop_document.bp, editor.bp, monitoring.bp, reports.bp):
        app.register_blueprint(blueprint)
    api.init_app(app)
    # Browsers and bookmarks still ask for /favicon.ico whatever the page links.
    app.add_url_rule("/favicon.ico", "favicon", lambda: app.send_static_file("favicon.svg"))
    _security_headers(app, hsts=secure)
    _error_handlers(app)
    _template_helpers(app)
    return app


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: a number too big for the database's ids is a 404, not a crash."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_INTEGER)
        super().__init__(map, *args, **kwargs)


def runtime() -> Runtime:
    from flask import current_app
    return current_app.extensions["alur"]


@login_manager.user_loader
def _load_user(session_id: str):
    """The session's user, unless their password changed since it was signed in (or it predates marks)."""
    from web.auth import Principal
    user_id, _, mark = session_id.partition(":")
    account = accounts.load_user(runtime(), int(user_id))
    if account is None or not hmac.compare_digest(mark, accounts.session_mark(account)):
        return None
    return Principal(account)


# What the pages need and no more: our own scripts and the npm bundles served from /vendor (no
# inline script, no eval), inline style attributes (templates and bpmn-js set them), data: and
# blob: images (bpmn-js icons, diagram export), and no framing by anyone.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:", "font-src 'self' data:", "connect-src 'self'", "object-src 'none'",
    "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
))
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _security_headers(app: Flask, hsts: bool) -> None:
    """Every response, pages, API, static files and errors alike, gets the same headers here."""
    headers = dict(SECURITY_HEADERS)
    if hsts:  # only behind HTTPS, where ALUR_SECURE_COOKIES is set
        headers["Strict-Transport-Security"] = "max-age=31536000"

    @app.after_request
    def add_headers(response):
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response


def _secret_key(data_dir: Path) -> str:
    """One key shared by every worker of an installation, created on first start."""
    path = data_dir / "secret_key"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.token_hex(32))
        os.replace(tmp, path)
    return path.read_text().strip()


# The menu item each page is under (by blueprint, or by endpoint where that differs): the menu marks
# its section on a page it does not link itself (an activity under Kegiatan, a task under Tugas).
MENU_SECTIONS = {
    "worklist": "worklist.index", "tasks": "worklist.index",
    "instances": "instances.index", "instances.start": "instances.start", "monitoring.search": "instances.index",
    "supervisor": "supervisor.index", "monitoring": "monitoring.index", "reports": "monitoring.index",
    "admin": "admin.users", "editor": "editor.index", "sop_document": "editor.index", "auth.tokens": "auth.tokens",
}


def menu_section(endpoint: str | None) -> str | None:
    """The menu item `endpoint`'s page is under, if any."""
    if not endpoint:
        return None
    return MENU_SECTIONS.get(endpoint) or MENU_SECTIONS.get(endpoint.partition(".")[0])


class RowAddress:
    """An endpoint's address for a list's rows, built once: `address(value)` is `url_for(endpoint,
    **{key: value})`. The worklist built four addresses per row, a fifth of the page's time."""

    def __init__(self, endpoint: str, key: str):
        # A value no row has marks where each row's goes: a NUL (quoted as every value is), or for a
        # number in the address, the largest id the database holds.
        try:
            marker, address = quote("\0", safe=""), url_for(endpoint, **{key: "\0"})
        except ValueError:
            marker, address = str(MAX_INTEGER), url_for(endpoint, **{key: MAX_INTEGER})
        self.before, _, self.after = address.rpartition(marker)

    def __call__(self, value) -> str:
        return f"{self.before}{quote(str(value), safe='')}{self.after}"


def _template_helpers(app: Flask) -> None:
    from urllib.parse import urlencode

    app.add_template_global(menu_section)

    @app.template_global()
    def query(**changes) -> str:
        """The current query string with some parameters changed (for sort links)."""
        args = request.args.to_dict()
        args.update({k: v for k, v in changes.items() if v is not None})
        return urlencode(args)

    from flask_babel import get_locale
    app.jinja_env.globals["get_locale"] = get_locale
    app.add_template_global(RowAddress, "row_address")

    @app.template_filter()
    def css_string(value) -> Markup:
        """Text for inside a "..." string of a <style> element (a print's running footer).

        HTML escaping is not undone inside <style>, so "&" would print as
        "&amp;"; and a quote, backslash, line break or "<" could end the
        string or the element. Those become CSS escapes instead.
        """
        return Markup("".join(c if c.isprintable() and c not in '"\\<' else f"\\{ord(c):x} " for c in str(value)))

    @app.template_global()
    def upload_limit() -> tuple[int, str]:
        """The upload limit in bytes and as people read it, for the pages' file fields."""
        limit = app.extensions["alur"].settings.max_upload_bytes
        return limit, size_text(limit)

    from web.history import described
    app.jinja_env.globals["event_words"] = described
    from web.sent import form_key
    app.jinja_env.globals["form_key"] = form_key

    @app.template_global()
    def event_label(kind: str) -> str:
        label = EVENT_LABELS.get(kind)
        return i18n.say(label) if label else kind

    @app.template_filter()
    def bidang_name(code: str | None) -> str:
        """A Bidang's name for its code, as staff know their divisions; the names are read once
        per request, the first time a page shows one (unless the view already had them)."""
        from flask import g
        if not code:
            return ""
        names = g.get("bidang_names")
        if names is None:
            names = g.bidang_names = {b["code"]: b["name"] for b in accounts.list_bidang(runtime())}
        return names.get(code, code)


def bidang_names_known(listed: list[dict]) -> None:
    """A view that read the Bidang list already (the worklist's filter) hands it to the
    `bidang_name` filter, which then reads nothing more."""
    from flask import g
    g.bidang_names = {b["code"]: b["name"] for b in listed}


def _error_handlers(app: Flask) -> None:
    from werkzeug.exceptions import HTTPException

    @app.errorhandler(AlurError)
    def alur_error(err: AlurError):
        if request.path.startswith("/api/"):
            from web.api import error_response
            return error_response(err)
        return render_template("error.html", status=err.status, message=err.message,
                               errors=getattr(err, "errors", {})), err.status

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        if request.path.startswith("/api/"):
            from web.api import http_error_response
            return http_error_response(err)
        if _session_ran_out(err):
            return _sign_in_again()
        return render_template("error.html", status=err.code, message=_http_message(err), errors={}), err.code


def _session_ran_out(err) -> bool:
    """A page's form sent with the token of a session that is gone (it ran out while the page was open)."""
    from flask import current_app, session
    from flask_wtf.csrf import CSRFError
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    return isinstance(err, CSRFError) and field not in session and bool(request.form.get(field))


def _sign_in_again():
    """Nothing was done: the sign-in page says why, and leads back to the form's page when it is one to open,
    or to the page a form sent to a POST-only address names in its `next` field."""
    from flask import flash, redirect, url_for
    from web.auth import on_this_site
    flash(_("Sesi Anda telah berakhir karena lama tidak ada aktivitas. Masuk lagi untuk melanjutkan."), "info")
    rule = request.url_rule
    # With its query string: a monitoring page's period and Bidang (or the sign-in page's own `next`,
    # when it was left open that long) are in its address.
    if rule is not None and "GET" in rule.methods:
        back = request.full_path.rstrip("?")
    else:
        back = request.form.get("next", "")
        back = back if on_this_site(back) else None
    if request.endpoint == "auth.login":
        return redirect(back)
    return redirect(url_for("auth.login", next=back))


def _http_message(err) -> str:
    """The page's message: ours when a view gave one, else Werkzeug's English default in the user's language."""
    from flask_wtf.csrf import CSRFError
    if isinstance(err, CSRFError):
        return _("Formulir ini sudah kedaluwarsa atau tidak sah. Muat ulang halaman lalu coba lagi.")
    if err.description != type(err).description:
        return err.description
    messages = {
        400: lambda: _("Permintaan tidak dapat diproses."),
        403: lambda: _("Anda tidak berwenang membuka halaman ini."),
        404: lambda: _("Halaman yang Anda cari tidak ditemukan."),
        405: lambda: _("Alamat ini tidak dapat dibuka dengan cara tersebut."),
        413: lambda: _("Berkas yang diunggah terlalu besar: paling besar %(limit)s per berkas.",
                       limit=size_text(runtime().settings.max_upload_bytes)),
        429: lambda: _("Terlalu banyak permintaan. Coba lagi beberapa saat lagi."),
        500: lambda: _("Terjadi kesalahan pada server."),
    }
    message = messages.get(err.code)
    return message() if message else _("Terjadi kesalahan.")
