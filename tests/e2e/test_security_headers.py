"""Security headers on every kind of response, the session cookie's flags, and idle session expiry."""
from __future__ import annotations

import re

import pytest
from itsdangerous import TimestampSigner

from engine.bootstrap import DEMO_PASSWORD
from tests.conftest import cheap_password_hash
from web.app import create_app

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch):
    monkeypatch.setattr("engine.bootstrap.generate_password_hash", cheap_password_hash)


@pytest.fixture
def app(rt):
    return create_app(runtime=rt, testing=True)


def sign_in(client, login: str = "aptika.implementasi"):
    page = client.get("/masuk").get_data(as_text=True)
    return client.post("/masuk", data={"login": login, "password": DEMO_PASSWORD,
                                       "csrf_token": TOKEN.search(page).group(1)})


def check_headers(response) -> None:
    headers = response.headers
    csp = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
    assert csp["script-src"] == "'self'"  # no inline script, no eval
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert csp["default-src"] == "'self'" and csp["form-action"] == "'self'"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_every_kind_of_response_carries_the_security_headers(app):
    client = app.test_client()
    anonymous = {
        "/masuk": 200, "/": 302, "/static/alur.css": 200, "/static/alur.js": 200,
        "/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js": 200, "/tidak-ada": 404,
        "/api/v1/openapi.json": 200, "/api/v1/tasks": 401,
    }
    for path, status in anonymous.items():
        response = client.get(path)
        assert response.status_code == status, path
        check_headers(response)
        response.close()
    assert sign_in(client).status_code == 302
    for path in ("/", "/kegiatan", "/kegiatan/baru", "/api/v1/tasks", "/token"):
        response = client.get(path)
        assert response.status_code == 200, path
        check_headers(response)
    assert "Strict-Transport-Security" not in response.headers  # not without HTTPS


def test_no_page_needs_inline_script(app, rt):
    """The CSP forbids inline script: no page of the app may rely on an on* attribute or a script block."""
    client = app.test_client()
    sign_in(client, "pemilik.proses")
    for path in ("/", "/kegiatan", "/kegiatan/baru", "/monitoring", "/editor", "/token"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"\son[a-z]+=", html), path
        for script in re.findall(r"<script([^>]*)>", html):
            assert "src=" in script or 'type="application/json"' in script, (path, script)


def test_the_session_cookie_is_http_only_same_site_and_expiring(app):
    client = app.test_client()
    response = sign_in(client)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert "Secure" not in cookie  # plain HTTP (make run); see the next test


def test_behind_https_the_cookie_is_secure_and_hsts_is_sent(rt, monkeypatch):
    monkeypatch.setenv("ALUR_SECURE_COOKIES", "1")
    client = create_app(runtime=rt, testing=True).test_client()
    response = sign_in(client)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


HTTPS_HINT = "Alur menyimpan sesi masuk hanya lewat HTTPS"


def test_secure_cookies_over_plain_http_the_sign_in_page_says_https_is_needed(rt, monkeypatch):
    """With ALUR_SECURE_COOKIES on, a browser on a plain http:// address drops the session cookie:
    signing in led back to the sign-in page without a word, again and again."""
    monkeypatch.setenv("ALUR_SECURE_COOKIES", "1")
    app = create_app(runtime=rt, testing=True)
    page = app.test_client().get("/masuk").get_data(as_text=True)
    assert HTTPS_HINT in page and 'role="alert"' in page
    assert HTTPS_HINT not in app.test_client().get("/masuk", base_url="https://localhost").get_data(as_text=True)
    monkeypatch.delenv("ALUR_SECURE_COOKIES")
    assert HTTPS_HINT not in create_app(runtime=rt, testing=True).test_client().get("/masuk").get_data(as_text=True)


def test_an_idle_session_expires_and_an_active_one_does_not(rt, monkeypatch):
    """Signed-cookie age is wall-clock time; the signer's clock is moved instead of waiting."""
    monkeypatch.setenv("ALUR_SESSION_IDLE_MINUTES", "30")
    client = create_app(runtime=rt, testing=True).test_client()
    now = [1_900_000_000]
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now[0])
    assert sign_in(client).status_code == 302
    assert client.get("/").status_code == 200
    for _ in range(3):  # active: every request within 30 minutes of the last one keeps it alive
        now[0] += 29 * 60
        assert client.get("/").status_code == 200
    now[0] += 31 * 60  # idle for 31 minutes: signed out
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/masuk")
    assert client.get("/api/v1/tasks").status_code == 401


def test_a_bad_idle_setting_is_refused(rt, monkeypatch):
    monkeypatch.setenv("ALUR_SESSION_IDLE_MINUTES", "sejam")
    with pytest.raises(ValueError, match="ALUR_SESSION_IDLE_MINUTES"):
        create_app(runtime=rt, testing=True)
