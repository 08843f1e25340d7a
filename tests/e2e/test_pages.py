"""The server-rendered pages through the Flask test client, CSRF protection on.

Every POST carries the CSRF token read from the page the "browser" last
rendered, as a real browser would; one test proves a POST without it fails.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import re
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from engine import accounts, alerts, bootstrap, queries, services, worklist
from engine.bootstrap import DEMO_PASSWORD
from engine.db import Bidang, Document, Event, Instance, TaskDraft, TaskRow, User
from engine.errors import InvalidData
from engine.runtime import Runtime
from engine.scheduler import Scheduler
from process.messages import Text
from tests.conftest import MONDAY_MORNING, cheap_password_hash
from tests.integration.sop import STEP_DATA, do_step
from tests.integration.test_definitions import (BPMN, OWNER, YAML, deploy_v2, gateway_without_a_path,
                                                step_inserted_before_verification)
from web.app import create_app

KEY = "monev_kegiatan_bidang"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A test client that remembers the CSRF token of the last page it rendered."""

    def __init__(self, app):
        self.client = app.test_client()
        self.token: str | None = None

    def get(self, url: str, **kwargs):
        response = self.client.get(url, **kwargs)
        found = TOKEN.search(response.get_data(as_text=True)) if response.mimetype == "text/html" else None
        if found:
            self.token = found.group(1)
        return response

    def post(self, url: str, data: dict | None = None, csrf: bool = True, **kwargs):
        data = dict(data or {})
        if csrf:
            assert self.token, "render a page with a form first"
            data["csrf_token"] = self.token
        response = self.client.post(url, data=data, **kwargs)
        found = TOKEN.search(response.get_data(as_text=True)) if response.mimetype == "text/html" else None
        if found:
            self.token = found.group(1)
        return response

    def sign_in(self, login: str, password: str = DEMO_PASSWORD):
        self.get("/masuk")
        response = self.post("/masuk", {"login": login, "password": password})
        if response.status_code == 302:
            self.get("/")  # the session is new after signing in: fetch its token
        return response


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch):
    """Scrypt costs 0.1 s a hash; the sign-in path is the same with a cheap method."""
    monkeypatch.setattr("engine.bootstrap.generate_password_hash", cheap_password_hash)
    monkeypatch.setattr("engine.accounts.generate_password_hash", cheap_password_hash)


@pytest.fixture
def app(rt):
    return create_app(runtime=rt, testing=True)


@pytest.fixture
def browser(app):
    """browser(login) -> a Browser signed in as that demo user."""
    def open_as(login: str) -> Browser:
        b = Browser(app)
        response = b.sign_in(login)
        assert response.status_code == 302, response.get_data(as_text=True)
        return b
    return open_as


def start(rt, bidang: str = "aptika", title: str = "Layanan email dinas") -> int:
    return services.start(rt, KEY, bidang, title, "sekretaris")


def task_of(rt, instance_id: int) -> dict:
    [task] = worklist.tasks(rt, instance_id=instance_id)
    return task


def text(response) -> str:
    return response.get_data(as_text=True)


def section(html: str, anchor: str, end: str | None = None) -> str:
    start_at = html.index(f'id="{anchor}"')
    return html[start_at:html.index(f'id="{end}"', start_at)] if end else html[start_at:]


def mine(html: str) -> list[str]:
    return re.findall(r'data-task="([^"]+)"', section(html, "mine", "team"))


def team(html: str) -> list[str]:
    return re.findall(r'data-task="([^"]+)"', section(html, "team"))


def field_block(html: str, name: str) -> str:
    start_at = html.index(f'data-field="{name}"')
    return html[start_at:html.index("</div>", start_at)]


def at_field(html: str, name: str) -> str:
    """The error said at the user form's control `name` (just after its label, or the roles' fieldset), or ''."""
    end = "</fieldset>" if name == "roles" else "</label>"
    at = html.index(f'name="{name}"')
    found = re.match(r'\s*<p class="field-error">([^<]*)</p>', html[html.index(end, at) + len(end):])
    return found.group(1) if found else ""


def snapshot(rt, instance_id: int):
    with rt.uow() as session:
        instance = session.get(Instance, instance_id)
        kinds = session.scalars(select(Event.kind).where(Event.instance_id == instance_id).order_by(Event.id)).all()
        documents = session.scalar(select(func.count()).select_from(Document).where(Document.instance_id == instance_id))
        return instance.version, instance.workflow_json, instance.state, list(kinds), documents


def claimed_step_one(rt, browser, login: str = "aptika.implementasi"):
    """An aptika instance whose step 1 the user has claimed, and that user's browser."""
    instance_id = start(rt)
    task = task_of(rt, instance_id)
    services.claim(rt, task["id"], login)
    return instance_id, task["id"], browser(login)


def complete_step_one_with_upload(rt, browser) -> tuple[int, int]:
    """Complete step 1 through the page with a PDF attached; return (instance id, document id)."""
    instance_id, task_id, b = claimed_step_one(rt, browser)
    b.get(f"/tugas/{task_id}")
    response = b.post(f"/tugas/{task_id}", {**STEP_DATA[1], "action": "complete",
                                            "dokumen_rencana": (io.BytesIO(b"%PDF-1.4 rencana"), "rencana.pdf")},
                      content_type="multipart/form-data")
    assert response.status_code == 302, text(response)
    assert response.headers["Location"] == "/"  # back to the worklist
    with rt.uow() as session:
        [document_id] = session.scalars(select(Document.id).where(Document.instance_id == instance_id)).all()
    return instance_id, document_id


# -- signing in and out -------------------------------------------------------------------

def test_sign_in_sets_a_safe_session_cookie_and_opens_the_worklist(app):
    b = Browser(app)
    page = b.get("/masuk")
    assert page.status_code == 200 and "Masuk ke Alur" in text(page)
    response = b.post("/masuk?next=/kegiatan", {"login": "aptika.implementasi", "password": DEMO_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/kegiatan"
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags and "samesite=lax" in flags
    page = b.get("/")
    assert page.status_code == 200
    assert "Tim Implementasi Bidang Aplikasi Informatika (aptika.implementasi)" in text(page)

    other = Browser(app)  # a "next" pointing to another site is ignored
    other.get("/masuk")
    response = other.post("/masuk?next=//evil.example/", {"login": "aptika.teknis", "password": DEMO_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/\t/evil.example/", "/\n/evil.example/", "/\r\n/evil.example/",
                                    "/\\evil.example/", "\t//evil.example/", " /evil.example/"])
def test_a_next_that_a_browser_reads_as_another_site_is_ignored(app, target):
    """Browsers drop tabs and line breaks from a URL and read a backslash as a slash: "/<tab>/evil"
    is "//evil", another site. Werkzeug drops them from the Location header too."""
    from urllib.parse import quote
    b = Browser(app)
    b.get("/masuk")
    response = b.post("/masuk?next=" + quote(target), {"login": "aptika.teknis", "password": DEMO_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_a_new_password_signs_out_the_sessions_signed_in_with_the_old_one(rt, browser):
    """An administrator resetting a password (a phone lost, a password seen) left every session signed
    in with the old one working until it expired: only deactivating the account ended them."""
    stolen, other = browser("aptika.teknis"), browser("aptika.implementasi")
    assert stolen.get("/").status_code == 200
    accounts.save_user(rt, "admin", "aptika.teknis", "Tim Teknis Aptika", "aptika", ["teknis"],
                       password="sandi-baru-yang-panjang")
    response = stolen.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/masuk")
    assert other.get("/").status_code == 200  # everyone else stays signed in
    assert Browser(stolen.client.application).sign_in("aptika.teknis", "sandi-baru-yang-panjang").status_code == 302
    # A save that leaves the password as it is (a new role, say) signs nobody out.
    kept = browser("ikp.teknis")
    accounts.save_user(rt, "admin", "ikp.teknis", "Tim Teknis IKP", "ikp", ["teknis", "administrasi"])
    assert kept.get("/").status_code == 200


def test_an_administrator_who_sets_their_own_new_password_stays_signed_in(app, rt, browser):
    """The session that sets the new password is the person who knows it: signed out by their own
    save, the administrator met the sign-in page instead of "Pengguna admin disimpan"."""
    admin, elsewhere = browser("admin"), browser("admin")
    admin.get("/admin/pengguna?login=admin")
    response = admin.post("/admin/pengguna?login=admin", {
        "login": "admin", "name": "Administrator Alur", "bidang": "sekretariat", "roles": ["admin"],
        "password": "sandi-admin-yang-baru", "active": "1"})
    assert response.status_code == 302
    page = admin.get("/admin/pengguna")
    assert page.status_code == 200 and "Pengguna admin disimpan." in text(page)
    assert elsewhere.get("/").status_code == 302  # a session signed in with the old password ends


def test_a_user_signed_in_by_api_token_has_an_id_too(rt):
    """Flask-Login compares users by get_id(); an API token's Account holds no password hash, and
    the session mark read it."""
    from web.auth import Principal
    with rt.engine.connect() as connection:
        token_user = Principal(accounts.account(connection, "aptika.teknis"))
    assert token_user.get_id().startswith(f"{token_user.id}:") and token_user == token_user


def test_wrong_password_is_refused_in_indonesian(app):
    b = Browser(app)
    b.get("/masuk")
    for login in ("aptika.implementasi", "tidak.ada"):
        response = b.post("/masuk", {"login": login, "password": "salah-sekali"})
        assert response.status_code == 401
        assert "Nama pengguna atau kata sandi salah." in text(response)
    assert b.get("/").status_code == 302  # still not signed in


def test_a_refused_sign_in_keeps_the_user_name_and_puts_the_cursor_on_the_password(app):
    """After a mistyped password the user name was gone too and had to be typed again."""
    b = Browser(app)
    b.get("/masuk")
    html = text(b.post("/masuk", {"login": "aptika.implementasi", "password": "salah-sekali"}))
    assert re.search(r'<input name="login" value="aptika.implementasi"[^>]*>', html)
    assert re.search(r'<input name="password"[^>]* autofocus>', html)
    assert not re.search(r'<input name="login"[^>]* autofocus', html)


def test_sign_in_is_throttled_after_five_failures_until_the_lock_expires(app, clock):
    b = Browser(app)
    b.get("/masuk")
    for _attempt in range(5):
        assert b.post("/masuk", {"login": "ikp.teknis", "password": "salah"}).status_code == 401
    locked = b.post("/masuk", {"login": "ikp.teknis", "password": DEMO_PASSWORD})
    assert locked.status_code == 429
    assert "Terlalu banyak percobaan gagal" in text(locked)
    assert b.get("/").status_code == 302
    clock.advance(minutes=4, seconds=59)
    assert b.post("/masuk", {"login": "ikp.teknis", "password": DEMO_PASSWORD}).status_code == 429
    clock.advance(seconds=2)
    assert b.post("/masuk", {"login": "ikp.teknis", "password": DEMO_PASSWORD}).status_code == 302
    assert "(ikp.teknis)" in text(b.get("/"))


def test_a_post_without_the_csrf_token_is_refused(app, rt, browser):
    anonymous = Browser(app)
    anonymous.get("/masuk")
    response = anonymous.post("/masuk", {"login": "aptika.implementasi", "password": DEMO_PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert "Formulir ini sudah kedaluwarsa atau tidak sah" in text(response)
    assert anonymous.get("/").status_code == 302  # not signed in

    instance_id = start(rt)
    task_id = task_of(rt, instance_id)["id"]
    b = browser("aptika.implementasi")
    assert b.post(f"/tugas/{task_id}/klaim", {}, csrf=False).status_code == 400
    assert b.post(f"/tugas/{task_id}/klaim", {"csrf_token": "palsu"}, csrf=False).status_code == 400
    assert task_of(rt, instance_id)["assignee"] is None


def test_a_form_sent_after_the_session_ran_out_leads_to_signing_in_and_back(app, rt, browser):
    """A step's form sent after the session ran out answered 400, "the form has expired, reload the page"
    (and reloading sent it again): the user had to find their way back to the task. Now the sign-in page
    says the session ended and leads back to the page; nothing was done."""
    instance_id, task_id, b = claimed_step_one(rt, browser)
    b.get(f"/tugas/{task_id}")
    before = snapshot(rt, instance_id)
    b.client.delete_cookie("session")  # the browser dropped the expired cookie
    response = b.post(f"/tugas/{task_id}", {**STEP_DATA[1], "action": "complete"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/masuk?next=/tugas/{task_id}"
    assert snapshot(rt, instance_id) == before
    page = text(b.get(response.headers["Location"]))
    assert "Sesi Anda telah berakhir" in page
    response = b.post(f"/masuk?next=%2Ftugas%2F{task_id}", {"login": "aptika.implementasi", "password": DEMO_PASSWORD})
    assert response.headers["Location"] == f"/tugas/{task_id}"
    b.client.delete_cookie("session")  # a form that is only sent (claim): back to signing in, no next
    response = b.post(f"/tugas/{task_id}/lepas", {})
    assert response.status_code == 302 and response.headers["Location"] == "/masuk"
    # A page with filters in its address (the report of a period) comes back with them.
    b.client.delete_cookie("session")
    report = "/monitoring/laporan?dari=2026-02-01&sampai=2026-03-01&bidang=aptika"
    response = b.post(report, {"kesimpulan": "x", "rekomendasi": "y", "revision": ""})
    assert response.status_code == 302 and response.headers["Location"].startswith("/masuk?next=")
    sign_in = response.headers["Location"]
    b.client.delete_cookie("session")  # the sign-in page, too, left open past the idle time: itself again
    response = b.post(sign_in, {"login": "sekretaris", "password": DEMO_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == sign_in
    b.get(sign_in)
    response = b.post(sign_in, {"login": "sekretaris", "password": DEMO_PASSWORD})
    assert response.headers["Location"] == report


def test_a_post_only_form_sent_after_the_session_ran_out_leads_back_to_the_page_it_names(browser):
    """A form sent to an address that is only sent to (answering an import's questions, archiving) led,
    once signed in again, to the worklist. The page the form names in `next` is where signing in leads,
    when it is on this site."""
    b = browser("admin")
    b.get("/kegiatan/cari")
    b.client.delete_cookie("session")
    response = b.post("/kegiatan/1/arsip", {"next": "/kegiatan/cari?judul=email"})
    assert response.status_code == 302 and response.headers["Location"] == "/masuk?next=/kegiatan/cari?judul%3Demail"
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example/"):
        response = b.post("/kegiatan/1/arsip", {"next": elsewhere})
        assert response.status_code == 302 and response.headers["Location"] == "/masuk"


@pytest.mark.parametrize("login, address", [
    ("aptika.implementasi", "/kegiatan/baru"),
    ("pemilik.proses", "/sop/monev_kegiatan_bidang/kop"),
    ("sekretaris", "/monitoring/laporan?dari=2026-02-01&sampai=2026-03-01&bidang=aptika"),
    ("sekretaris", "/monitoring/formulir-sop?dari=2026-02-01&sampai=2026-03-01&bidang=aptika"),
    ("admin", "/admin/pengguna?login=aptika.teknis"),
    ("admin", "/admin/bidang?code=ikp"),
    ("aptika.implementasi", "/token"),
])
def test_every_form_people_type_in_is_kept_and_leads_back_after_the_session_ran_out(browser, login, address):
    """Only the task page kept what was typed against a session running out. Each form people type in
    opts in to keep.js, with the warning before the idle time ends, and sent after the session ran out
    leads to signing in and back to its page, with its query string."""
    from urllib.parse import parse_qs, urlsplit
    b = browser(login)
    page = text(b.get(address))
    assert page.count("data-typed-key=") == 1 and 'id="session-ending"' in page and "data-typed-echoed" not in page
    b.client.delete_cookie("session")
    response = b.post(address, {"name": "x"})
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == [address]


def test_a_new_tokens_page_keeps_no_echo_of_its_form(browser):
    """The page showing a new token answers a POST, but its form is empty: nothing of it is kept."""
    b = browser("aptika.implementasi")
    b.get("/token")
    page = text(b.post("/token", {"name": "skrip"}))
    assert 'id="new-token"' in page and "data-typed-echoed" not in page
    assert "data-typed-echoed" in text(b.post("/token", {"name": ""}))  # refused: what was sent comes back


def test_sign_out_is_a_post(browser):
    b = browser("aptika.implementasi")
    assert b.get("/keluar").status_code == 405
    assert b.get("/").status_code == 200  # a GET did not sign out
    response = b.post("/keluar")
    assert response.status_code == 302 and response.headers["Location"] == "/masuk"
    response = b.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/masuk")


PAGES = ("/", "/kegiatan", "/kegiatan/baru", "/kegiatan/1", "/kegiatan/1/diagram.bpmn", "/tugas/abc", "/dokumen/1",
         "/token", "/admin/pengguna", "/admin/bidang", "/pengawasan")


def test_every_page_requires_sign_in(app):
    client = app.test_client()
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/masuk?next="), url
    b = Browser(app)  # a POST with a valid token still needs a signed-in user
    b.get("/masuk")
    response = b.post("/filter", {"name": "x"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/masuk")


def test_the_tab_icon_is_served_without_signing_in(app):
    client = app.test_client()
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert b"<svg" in response.data
    assert 'rel="icon"' in text(client.get("/masuk"))


# -- the worklist ---------------------------------------------------------------------------

def test_worklist_shows_my_tasks_and_team_tasks_per_user(rt, browser):
    instance_id = start(rt, title="Layanan email dinas")
    task_id = task_of(rt, instance_id)["id"]

    implementer = browser("aptika.implementasi")
    html = text(implementer.get("/"))
    assert "Tugas Saya (0)" in html and "Tugas Tim (1)" in html
    assert mine(html) == [] and team(html) == [task_id]
    assert "Layanan email dinas" in html

    for login in ("aptika.teknis", "ikp.implementasi"):  # another lane, another Bidang
        html = text(browser(login).get("/"))
        assert mine(html) == [] and team(html) == []
        assert "Layanan email dinas" not in html and "Tidak ada tugas." in html

    services.claim(rt, task_id, "aptika.implementasi")
    html = text(implementer.get("/"))
    assert mine(html) == [task_id] and team(html) == []


def test_the_worklist_counts_time_left_as_the_step_counts_its_standard_time(rt, browser):
    """Time left was working time even for a step counted in calendar days."""
    deploy_v2(rt, BPMN, YAML.replace("counting:\n  days: kerja", "counting:\n  days: kalender"))
    start(rt)  # step 1: "30 Hari", now 30 calendar days
    html = text(browser("aptika.implementasi").get("/"))
    assert "<td>sisa 30 hari kalender" in html and "hari kerja" not in html


def test_the_worklist_page_reads_the_signed_in_user_once(rt, browser):
    """The request has loaded the user with roles already; the worklist uses that, not a second read."""
    start(rt)
    implementer = browser("aptika.implementasi")
    implementer.get("/")
    users = []

    def count(_conn, _cursor, sql, *_args):
        if sql.lstrip().upper().startswith("SELECT") and "FROM user_account" in sql:
            users.append(sql)
    event.listen(rt.engine, "before_cursor_execute", count)
    try:
        html = text(implementer.get("/"))
    finally:
        event.remove(rt.engine, "before_cursor_execute", count)
    assert "Tugas Tim (1)" in html
    assert len(users) == 1, users


def test_claim_and_unclaim_from_the_worklist(rt, browser):
    instance_id = start(rt)
    task_id = task_of(rt, instance_id)["id"]
    b = browser("aptika.implementasi")
    b.get("/")
    response = b.post(f"/tugas/{task_id}/klaim", headers={"Referer": "/"})
    assert response.status_code == 302
    html = text(b.get("/"))
    assert "Tugas diklaim." in html and mine(html) == [task_id]
    assert task_of(rt, instance_id)["assignee"] == "aptika.implementasi"

    # Back to the worklist as it was filtered and sorted; from the task page, to the worklist.
    response = b.post(f"/tugas/{task_id}/lepas", headers={"Referer": "http://localhost/?bidang=aptika&sort=due"})
    assert response.status_code == 302 and response.headers["Location"] == "/?bidang=aptika&sort=due"
    html = text(b.get("/"))
    assert "Tugas dikembalikan ke tim." in html and team(html) == [task_id]
    services.claim(rt, task_id, "aptika.implementasi")
    response = b.post(f"/tugas/{task_id}/lepas", headers={"Referer": f"http://localhost/tugas/{task_id}"})
    assert response.headers["Location"] == "/"
    b.get("/")
    b.post(f"/tugas/{task_id}/lepas")  # sent twice (a double press, a page left open): nothing to let go
    html = text(b.get("/"))
    assert "Tugas tidak sedang diklaim; tidak ada yang berubah." in html and "dikembalikan" not in html

    response = b.post(f"/tugas/{task_id}/klaim", {"open": "1"})
    assert response.status_code == 302 and response.headers["Location"] == f"/tugas/{task_id}"

    other = browser("sekretaris")  # not a member of the lane
    assert other.post(f"/tugas/{task_id}/klaim").status_code == 403
    assert task_of(rt, instance_id)["assignee"] == "aptika.implementasi"


def test_each_rows_buttons_name_their_step_and_activity(rt, browser):
    """Every row's buttons were named alike ("Klaim & buka", "Klaim", "Buka", "Lepas"): a screen reader
    listing the page's buttons could not tell one row's from another's. Each now names its step and
    activity; what is shown stays the same."""
    start(rt, title="Layanan email dinas")
    claimed = task_of(rt, start(rt, title="Rapat koordinasi"))
    services.claim(rt, claimed["id"], "aptika.implementasi")
    b = browser("aptika.implementasi")
    html = text(b.get("/"))
    mine_part, team_part = section(html, "mine", "team"), section(html, "team")
    assert 'aria-label="Buka langkah 1 · Rapat koordinasi">Buka</a>' in mine_part
    assert 'aria-label="Lepas langkah 1 · Rapat koordinasi">Lepas</button>' in mine_part
    assert 'aria-label="Klaim &amp; buka langkah 1 · Layanan email dinas">Klaim & buka</button>' in team_part
    assert 'aria-label="Klaim langkah 1 · Layanan email dinas">Klaim</button>' in team_part

    b.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    html = text(b.get("/"))
    for named in ('aria-label="Open step 1 · Rapat koordinasi">Open</a>',
                  'aria-label="Release step 1 · Rapat koordinasi">Release</button>',
                  'aria-label="Claim &amp; open step 1 · Layanan email dinas">Claim & open</button>',
                  'aria-label="Claim step 1 · Layanan email dinas">Claim</button>'):
        assert named in html, named


def test_each_worklist_row_links_and_posts_to_its_own_task_and_activity(rt, browser, app):
    first, second = start(rt), start(rt)
    held = task_of(rt, first)["id"]
    services.claim(rt, held, "aptika.implementasi")
    offered = task_of(rt, second)["id"]
    html = text(browser("aptika.implementasi").get("/"))
    rows = dict(re.findall(r'<tr class="task-row" data-task="([^"]+)">(.*?)</tr>', html, re.S))
    assert set(rows) == {held, offered}
    with app.test_request_context("/"):
        from flask import url_for
        assert f'href="{url_for("instances.show", instance_id=first)}"' in rows[held]
        assert f'href="{url_for("tasks.show", task_id=held)}"' in rows[held]
        assert f'action="{url_for("worklist.unclaim", task_id=held)}"' in rows[held]
        assert f'href="{url_for("instances.show", instance_id=second)}"' in rows[offered]
        assert f'action="{url_for("worklist.claim", task_id=offered)}"' in rows[offered]
    token = TOKEN.search(html).group(1)
    assert all(f'name="csrf_token" value="{token}"' in row for row in rows.values())


def test_the_worklists_sorted_column_says_so(rt, browser):
    """The worklist's column headings sort it, but none said which one the list was sorted by, nor which
    way: a screen reader announced every column alike. The sorted column now carries aria-sort."""
    start(rt)
    b = browser("aptika.implementasi")
    def sorted_columns(query=""):
        head = section(text(b.get("/" + query)), "team").split("</thead>")[0]
        return re.findall(r'<th aria-sort="(\w+)"><a [^>]*>([^<]+)</a>', head)
    assert sorted_columns() == [("ascending", "Batas waktu")]  # the list's own order
    assert sorted_columns("?sort=-due") == [("descending", "Batas waktu")]
    assert sorted_columns("?sort=-bidang") == [("descending", "Bidang")]
    assert sorted_columns("?sort=step") == [("ascending", "Langkah")]
    assert sorted_columns("?sort=created") == []


def test_the_worklists_two_tables_are_named_by_their_headings(rt, browser):
    """'Tugas Saya' and 'Tugas Tim' are two tables with the same columns: a screen reader jumping from table
    to table heard two nameless tables alike. Each is named by its heading."""
    html = text(browser("aptika.implementasi").get("/"))
    for heading in ("mine", "team"):
        assert section(html, heading).split("</h2>")[1].lstrip().startswith(
            f'<table class="tasks" aria-labelledby="{heading}">'), heading


def test_the_worklist_has_a_first_level_heading(rt, browser):
    """Every page had a first-level heading but the worklist, the page staff land on: its headings began at
    'Tugas Saya' (level 2), so a screen reader's list of headings, or its jump to the main heading,
    found no name for the page."""
    html = text(browser("aptika.implementasi").get("/"))
    levels = re.findall(r"<h([1-6])[ >]", section(html, "isi"))
    assert levels[0] == "1" and levels.count("1") == 1, levels
    assert "<h1>Daftar tugas</h1>" in html


def test_the_menu_and_the_activity_tabs_mark_the_current_page(rt, browser):
    """Neither the top menu nor the activity list's Semua / Berjalan / Selesai tabs marked the page shown:
    nothing told a screen reader, or the eye, where one was."""
    b = browser("kadis")
    current = re.compile(r'<a href="([^"]*)" aria-current="page">')
    assert current.findall(text(b.get("/"))) == ["/"]
    assert current.findall(text(b.get("/monitoring"))) == ["/monitoring"]
    for query, tab in (("", "/kegiatan"), ("?state=running", "/kegiatan?state=running"),
                       ("?state=completed", "/kegiatan?state=completed")):
        assert current.findall(text(b.get("/kegiatan" + query))) == ["/kegiatan", tab], query
    css = text(b.get("/static/alur.css"))
    assert ".topbar nav a[aria-current]" in css and ".tabs a[aria-current=page]" in css


def test_the_menu_marks_the_section_of_a_page_under_it(rt, browser):
    """The menu marked only the exact page it links: on an activity, a task, the archive search, the
    evaluation report or an SOP's versions no menu item said where one was. The item of the section is
    marked (aria-current="true": the page shown is not the one it links); an item's own page stays "page"."""
    instance_id, task_id, staff = claimed_step_one(rt, browser)
    current = re.compile(r'<a href="([^"]*)" aria-current="([^"]*)">')
    for path, marked in ((f"/tugas/{task_id}", ("/", "true")), (f"/kegiatan/{instance_id}", ("/kegiatan", "true")),
                         ("/kegiatan/cari", ("/kegiatan", "true")), ("/kegiatan/baru", ("/kegiatan/baru", "page"))):
        assert current.findall(text(staff.get(path))) == [marked], path
    kadis = browser("kadis")
    assert current.findall(text(kadis.get("/monitoring/laporan"))) == [("/monitoring", "true")]
    owner = browser("pemilik.proses")
    for path in (f"/editor/{KEY}", f"/editor/{KEY}/versi", f"/editor/{KEY}/versi/1", f"/sop/{KEY}/v1"):
        assert current.findall(text(owner.get(path))) == [("/editor/", "true")], path
    admin = browser("admin")
    assert current.findall(text(admin.get("/admin/bidang"))) == [("/admin/pengguna", "true")]
    assert current.findall(text(admin.get("/tidak-ada"))) == []  # an error page is under no section


def walk_to_secretary(rt, bidang: str, title: str) -> int:
    """An instance of a Bidang walked up to step 9 (the sekretaris' first step)."""
    instance_id = services.start(rt, KEY, bidang, title, "sekretaris")
    for step in (1, 2, 3, 4, 5, 6, 7, 8):
        do_step(rt, instance_id, step, {"terverifikasi": True} if step == 5 else None, bidang=bidang)
    return instance_id


def test_worklist_filters_and_sorting(rt, browser):
    aptika = walk_to_secretary(rt, "aptika", "Kegiatan aptika")
    ikp = walk_to_secretary(rt, "ikp", "Kegiatan ikp")
    do_step(rt, ikp, 9, bidang="ikp")  # ikp moves on to step 10
    aptika_task, ikp_task = task_of(rt, aptika)["id"], task_of(rt, ikp)["id"]
    with rt.uow() as session:  # aptika: step 9, due last, overdue; ikp: step 10, due first
        row = session.get(TaskRow, aptika_task)
        row.overdue, row.due_at = True, rt.now() + timedelta(days=10)
        session.get(TaskRow, ikp_task).due_at = rt.now() + timedelta(days=1)
        session.commit()

    b = browser("sekretaris")
    assert sorted(team(text(b.get("/")))) == sorted([aptika_task, ikp_task])
    assert team(text(b.get("/?bidang=aptika"))) == [aptika_task]
    assert team(text(b.get("/?bidang=ikp"))) == [ikp_task]
    assert team(text(b.get("/?bidang=statistik-persandian"))) == []
    assert team(text(b.get("/?step=10"))) == [ikp_task]
    assert team(text(b.get("/?overdue=1"))) == [aptika_task]
    assert team(text(b.get("/?overdue=0"))) == [ikp_task]
    assert team(text(b.get("/?bidang=aptika&overdue=0"))) == []
    # A value the filter cannot read is refused, not read as "on time" or as a step no task is at.
    assert b.get("/?overdue=mungkin").status_code == 422 and b.get("/?step=-1").status_code == 422
    assert team(text(b.get("/"))) == [ikp_task, aptika_task]  # soonest due first
    assert team(text(b.get("/?sort=due"))) == [ikp_task, aptika_task]
    assert team(text(b.get("/?sort=-due"))) == [aptika_task, ikp_task]
    assert team(text(b.get("/?sort=step"))) == [aptika_task, ikp_task]
    assert team(text(b.get("/?sort=bidang"))) == [aptika_task, ikp_task]
    assert team(text(b.get("/?sort=bidang&step=9"))) == [aptika_task]
    assert 'value="aptika" selected' not in text(b.get("/"))
    assert 'value="aptika" selected' in text(b.get("/?bidang=aptika"))  # the form shows the filter
    # Spaces around a value (a link edited by hand, a saved filter) are trimmed, as around a step number.
    response = b.get("/?bidang=%20aptika%20&overdue=1%20&sort=%20due")
    assert response.status_code == 200 and team(text(response)) == [aptika_task]
    assert 'value="aptika" selected' in text(response)

    assert b.get("/?sort=acak").status_code == 422
    assert b.get("/?step=dua").status_code == 422
    # A Bidang that does not exist matched nothing without a word; a full-width digit was read as 1.
    response = b.get("/?bidang=XYZ")
    assert response.status_code == 422 and "<b>Bidang</b>: tidak dikenal" in text(response)
    response = b.get("/?step=\uff11\uff10")
    assert response.status_code == 422 and "<b>Langkah</b>: harus berupa nomor langkah" in text(response)
    assert b.post("/filter", {"name": "Tidak ada", "bidang": "XYZ"}).status_code == 422
    assert b.post("/filter", {"name": "Lebar", "step": "\uff11"}).status_code == 422
    assert worklist.saved_filters(rt, "sekretaris") == []


def test_a_step_past_due_is_late_on_the_worklist_before_the_scheduler_marks_it(rt, clock, browser):
    """With the scheduler behind, a step past its due time said "terlambat ..." but had no Terlambat badge
    and was missing from the late filter, while monitoring counted it overdue."""
    late_task = task_of(rt, start(rt, title="Lewat batas"))["id"]
    on_time = task_of(rt, start(rt, title="Masih sempat"))["id"]
    with rt.uow() as session:
        session.get(TaskRow, late_task).due_at = rt.now() + timedelta(hours=1)
        session.get(TaskRow, on_time).due_at = rt.now() + timedelta(days=3)
        session.commit()
    clock.advance(hours=2)  # no scheduler runs: the `overdue` mark stays unset
    b = browser("aptika.implementasi")
    row = text(b.get("/")).split(f'data-task="{late_task}"')[1].split("</tr>")[0]
    assert "terlambat" in row and 'class="badge overdue"' in row
    assert team(text(b.get("/?overdue=1"))) == [late_task]
    assert team(text(b.get("/?overdue=0"))) == [on_time]
    listed = {t["id"]: t["overdue"] for t in worklist.tasks(rt, "aptika.implementasi")}
    assert listed == {late_task: True, on_time: False}
    assert [t["id"] for t in worklist.tasks(rt, "aptika.implementasi", filters={"overdue": "1"})] == [late_task]



def test_a_step_past_due_is_late_on_its_task_and_activity_pages_before_the_scheduler_marks_it(rt, clock, browser):
    """The task page and the activity page showed a step past its due time without its Terlambat badge
    (the activity page: "Berjalan", its diagram unmarked) until the scheduler marked it; monitoring said late."""
    instance_id = start(rt, title="Lewat batas")
    task_id = task_of(rt, instance_id)["id"]
    with rt.uow() as session:
        session.get(TaskRow, task_id).due_at = rt.now() + timedelta(hours=1)
        session.commit()
    b = browser("aptika.implementasi")
    assert 'class="badge overdue"' not in text(b.get(f"/tugas/{task_id}"))
    clock.advance(hours=2)  # no scheduler runs: the `overdue` mark stays unset
    assert 'class="badge overdue"' in text(b.get(f"/tugas/{task_id}"))
    assert queries.task_view(rt, task_id, "aptika.implementasi")["task"]["overdue"] is True
    page = text(b.get(f"/kegiatan/{instance_id}"))
    assert 'class="badge overdue"' in page and '"overdue": []' not in page  # the diagram marks it too

def test_the_worklist_sorts_the_bidang_column_by_the_names_it_shows(rt, browser):
    """By code, aptika < ikp; by the names on the page, "Bidang Informasi ..." < "Bidang Layanan ..."."""
    aptika = task_of(rt, walk_to_secretary(rt, "aptika", "Kegiatan aptika"))["id"]
    ikp = task_of(rt, walk_to_secretary(rt, "ikp", "Kegiatan ikp"))["id"]
    accounts.save_bidang(rt, "admin", "aptika", "Bidang Layanan Aplikasi")
    b = browser("sekretaris")
    html = text(b.get("/?sort=bidang"))
    assert team(html) == [ikp, aptika]
    assert 'href="?sort=-bidang"' in html  # the column's link turns the order round
    assert team(text(b.get("/?sort=-bidang"))) == [aptika, ikp]
    assert [t["id"] for t in worklist.tasks(rt, "sekretaris", filters={"sort": "bidang"})] == [ikp, aptika]


def test_saved_filters_are_shared_with_colleagues_and_only_the_owner_deletes(rt, browser):
    owner = browser("aptika.implementasi")
    owner.get("/")
    response = owner.post("/filter", {"name": "Langkah dua", "step": "2", "shared": "1"})
    assert response.status_code == 302 and response.headers["Location"] == "/?step=2"
    owner.post("/filter", {"name": "Pribadi saya", "overdue": "1"})
    html = text(owner.get("/"))
    assert "Langkah dua" in html and "Pribadi saya" in html
    [shared] = [f for f in worklist.saved_filters(rt, "aptika.implementasi") if f["name"] == "Langkah dua"]
    [private] = [f for f in worklist.saved_filters(rt, "aptika.implementasi") if f["name"] == "Pribadi saya"]
    assert shared["params"] == {"step": 2} and private["params"] == {"overdue": True}

    colleague = browser("aptika.teknis")
    html = text(colleague.get("/"))
    assert "Langkah dua</a> (aptika.implementasi)" in html
    assert "Pribadi saya" not in html
    assert f'/filter/{shared["id"]}/hapus' not in html  # no delete button for someone else's filter
    assert colleague.post(f'/filter/{shared["id"]}/hapus').status_code == 403
    assert "Langkah dua" in text(colleague.get("/"))

    owner.get("/")
    assert owner.post(f'/filter/{shared["id"]}/hapus').status_code == 302
    html = text(owner.get("/"))
    assert "Filter dihapus." in html and "Langkah dua" not in html
    assert owner.post("/filter", {"name": "  "}).status_code == 422


def test_a_filter_or_token_name_too_long_comes_back_with_the_error_not_cut(rt, browser):
    """A name longer than its column was cut to 120 characters without a word; the form comes back
    with the name as typed and the error at its field, and nothing is saved."""
    b = browser("aptika.implementasi")
    b.get("/")
    long = "Filter " + "x" * 5000
    response = b.post("/filter", {"name": long, "step": "2", "shared": "1"})
    html = text(response)
    assert response.status_code == 422
    assert 'field-error">paling panjang 120 karakter<' in html and f'value="{long}"' in html
    assert 'name="shared" value="1" checked' in html and 'name="step" value="2"' in html
    assert worklist.saved_filters(rt, "aptika.implementasi") == []
    assert b.post("/filter", {"name": "y" * 120}).status_code == 302
    assert [f["name"] for f in worklist.saved_filters(rt, "aptika.implementasi")] == ["y" * 120]

    b.get("/token")
    response = b.post("/token", {"name": "Skrip " + "x" * 5000})
    html = text(response)
    assert response.status_code == 422 and 'field-error">paling panjang 120 karakter<' in html
    assert 'id="new-token"' not in html
    with rt.uow() as session:
        uid = session.scalar(select(User.id).where(User.login == "aptika.implementasi"))
    assert accounts.tokens(rt, uid) == []
    response = b.post("/token", {"name": "z" * 120})
    assert response.status_code == 200 and 'id="new-token"' in text(response) and "z" * 120 + "</td>" in text(response)



def test_a_filter_saved_with_a_bad_value_comes_back_with_the_name_and_the_error_at_its_field(rt, browser):
    """A step that is no step number gave a bare error page, losing the name typed (a too-long name came
    back with the page); a step sent with spaces was saved cleaned but the page went to `?step=+3+`."""
    task = task_of(rt, start(rt))["id"]
    b = browser("aptika.implementasi")
    b.get("/")
    for sent, refused in (({"step": "0"}, {"step"}), ({"bidang": "XYZ", "overdue": "0"}, {"bidang"}),
                          ({"step": "dua", "overdue": "mungkin", "sort": "due"}, {"step", "overdue"})):
        response = b.post("/filter", {"name": "Filter F", **sent})
        html = text(response)
        assert response.status_code == 422 and 'value="Filter F"' in html and team(html) == [task], sent
        assert html.count('class="field-error"') == len(refused), sent
        for field in refused:  # under the filter's own field
            assert 'class="field-error"' in html.split(f'name="{field}"', 1)[1].split("<label", 1)[0], sent
    assert worklist.saved_filters(rt, "aptika.implementasi") == []
    html = text(b.post("/filter", {"name": "", "step": "0"}))
    assert html.count('class="field-error"') == 2 and team(html) == [task]
    response = b.post("/filter", {"name": "Langkah tiga", "step": " 3 "})
    assert response.status_code == 302 and response.headers["Location"] == "/?step=3"
    assert [f["params"] for f in worklist.saved_filters(rt, "aptika.implementasi")] == [{"step": 3}]

# -- the task page --------------------------------------------------------------------------

def test_task_page_shows_guidance_and_the_form(rt, browser):
    instance_id = start(rt)
    task_id = task_of(rt, instance_id)["id"]
    b = browser("aptika.implementasi")
    html = text(b.get(f"/tugas/{task_id}"))
    assert "Klaim tugas ini" in html and 'name="rencana_kegiatan"' not in html  # claim before working

    services.claim(rt, task_id, "aptika.implementasi")
    html = text(b.get(f"/tugas/{task_id}"))
    assert "Langkah 1." in html
    assert "<b>Kelengkapan:</b> Dokumen kegiatan atau layanan" in html
    assert "<b>Output:</b> Kegiatan Bidang" in html
    assert '<textarea name="rencana_kegiatan" required>' in html
    assert '<input type="date" name="tanggal_mulai"' in html
    assert '<input type="file" name="dokumen_rencana"' in html
    assert 'enctype="multipart/form-data"' in html and "Selesaikan langkah" in html

    assert browser("ikp.implementasi").get(f"/tugas/{task_id}").status_code == 403


def test_an_unclaimed_step_seen_from_outside_its_lane_says_nobody_holds_it(rt, browser):
    """Tim Teknis opening step 1 of their Bidang (Tim Implementasi's, not yet claimed) read "Tugas ini
    sedang dikerjakan oleh —.": nobody works on it yet. It says so, and whose step it is."""
    task_id = task_of(rt, start(rt))["id"]
    b = browser("aptika.teknis")
    html = text(b.get(f"/tugas/{task_id}"))
    assert "dikerjakan oleh —" not in html
    assert "Tugas ini belum diklaim; yang dapat mengerjakannya: Tim Implementasi." in html
    b.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    assert "Nobody has claimed this task yet; it is for: Tim Implementasi." in text(b.get(f"/tugas/{task_id}"))

    services.claim(rt, task_id, "aptika.implementasi")
    assert "This task is being worked on by aptika.implementasi." in text(b.get(f"/tugas/{task_id}"))


def test_invalid_data_is_shown_inline_and_changes_nothing(rt, browser):
    instance_id, task_id, b = claimed_step_one(rt, browser)
    b.get(f"/tugas/{task_id}")
    before = snapshot(rt, instance_id)
    response = b.post(f"/tugas/{task_id}", {"action": "complete", "rencana_kegiatan": "",
                                            "tanggal_mulai": "2 Maret", "tanggal_selesai": "2026-03-31"},
                      content_type="multipart/form-data")
    assert response.status_code == 422
    html = text(response)
    assert "Periksa kembali isian yang ditandai." in html
    assert '<p class="field-error">wajib diisi</p>' in field_block(html, "rencana_kegiatan")
    assert "harus berupa tanggal (YYYY-MM-DD)" in field_block(html, "tanggal_mulai")
    assert 'value="2026-03-31"' in field_block(html, "tanggal_selesai")  # what was typed is kept
    assert "field-error" not in field_block(html, "tanggal_selesai")
    assert snapshot(rt, instance_id) == before
    assert task_of(rt, instance_id)["id"] == task_id


def test_a_fields_help_text_describes_its_control(rt, browser):
    """A field's help (the SOP's `help:`, shown under it) was not tied to its control: a screen reader
    user in the field never heard it. The control is now described by it (aria-describedby)."""
    helped = YAML.replace("type: text, required: true}", "type: text, required: true, help: Tulis per butir}", 1)
    helped = helped.replace("type: date, required: true}", "type: date, required: true, help: Hari pertama}", 1)
    assert helped.count("help: ") == 2
    deploy_v2(rt, BPMN, helped)
    instance_id, task_id, b = claimed_step_one(rt, browser)
    html = text(b.get(f"/tugas/{task_id}"))
    block = field_block(html, "rencana_kegiatan")
    assert '<small class="muted" id="help-rencana_kegiatan">Tulis per butir</small>' in block
    assert re.search(r'<textarea name="rencana_kegiatan" [^>]*aria-describedby="help-rencana_kegiatan"', block)
    assert re.search(r'<input type="date" name="tanggal_mulai" [^>]*aria-describedby="help-tanggal_mulai"',
                     field_block(html, "tanggal_mulai"))
    assert "aria-describedby" not in field_block(html, "tanggal_selesai")  # no help, nothing to describe it


def at_step_three(rt, browser, language: str = "id", decimals: bool = False):
    """An aptika instance at step 3 (the number field), claimed, and its performer's browser in that language.

    `decimals`: under a version whose count takes fractions (the SOP's takes whole numbers only),
    for the tests of how a page reads and shows decimals."""
    if decimals:
        fractions = YAML.replace("type: number, min: 0, whole: true}", "type: number, min: 0}")
        assert fractions != YAML
        deploy_v2(rt, BPMN, fractions)
    instance_id = start(rt)
    for step in (1, 2):
        do_step(rt, instance_id, step)
    task_id = task_of(rt, instance_id)["id"]
    services.claim(rt, task_id, "aptika.implementasi")
    b = browser("aptika.implementasi")
    b.get("/")
    if language != "id":
        b.post("/bahasa", {"language": language}, headers={"Referer": "/"})
    return instance_id, task_id, b


def completed_data(rt, instance_id: int, step: int) -> dict:
    with rt.uow() as session:
        return session.scalar(select(Event.data).where(Event.instance_id == instance_id,
                                                       Event.kind == "step_completed", Event.step == step))


@pytest.mark.parametrize("language,typed,number", [
    ("id", "1.250", 1250), ("id", "12,5", 12.5), ("id", "1.000", 1000), ("en", "1,250", 1250), ("en", "12.5", 12.5),
])
def test_a_number_typed_on_the_page_reads_as_in_the_pages_language(rt, browser, language, typed, number):
    instance_id, task_id, b = at_step_three(rt, browser, language, decimals=True)
    html = text(b.get(f"/tugas/{task_id}"))
    # Text, not type="number": the browser would drop or remap what it cannot read as 1.5 before we see it.
    assert '<input type="text" inputmode="decimal" name="jumlah_penerima_manfaat"' in html
    response = b.post(f"/tugas/{task_id}", {**STEP_DATA[3], "jumlah_penerima_manfaat": typed, "action": "complete"})
    assert response.status_code == 302, text(response)
    assert completed_data(rt, instance_id, 3)["jumlah_penerima_manfaat"] == number


@pytest.mark.parametrize("language,typed,number", [("id", "1.250", 1250), ("en", "1,250", 1250), ("id", "40", 40)])
def test_a_count_of_people_takes_whole_numbers_only(rt, browser, language, typed, number):
    """The SOP's count of people served is whole: 12,5 is refused, and phones offer digits to type it."""
    instance_id, task_id, b = at_step_three(rt, browser, language)
    html = text(b.get(f"/tugas/{task_id}"))
    assert '<input type="text" inputmode="numeric" name="jumlah_penerima_manfaat"' in html
    fraction = "12,5" if language == "id" else "12.5"
    response = b.post(f"/tugas/{task_id}", {**STEP_DATA[3], "jumlah_penerima_manfaat": fraction, "action": "complete"})
    assert response.status_code == 422
    message = "harus bilangan bulat" if language == "id" else "must be a whole number"
    assert f'<p class="field-error">{message}</p>' in field_block(text(response), "jumlah_penerima_manfaat")
    response = b.post(f"/tugas/{task_id}", {**STEP_DATA[3], "jumlah_penerima_manfaat": typed, "action": "complete"})
    assert response.status_code == 302, text(response)
    assert completed_data(rt, instance_id, 3)["jumlah_penerima_manfaat"] == number


@pytest.mark.parametrize("decimals,language,typed,message", [
    (True, "id", "1,000", "tidak jelas: 1 atau 1.000? Tulis ribuan dengan titik (1.250) dan desimal dengan koma (1,5)"),
    (True, "id", "1.5", "harus berupa angka, mis. 1.250 atau 1,5"),
    (True, "en", "1.000", "ambiguous: 1 or 1,000? Write thousands with a comma (1,250) and decimals with a point (1.5)"),
    (True, "en", "abc", "must be a number, e.g. 1,250 or 1.5"),
    # The SOP's count of people takes whole numbers only: its examples are whole too.
    (False, "id", "1,000", "tidak jelas: 1 atau 1.000? Tulis ribuan dengan titik (1.250)"),
    (False, "en", "1.000", "ambiguous: 1 or 1,000? Write thousands with a comma (1,250)"),
    (False, "id", "abc", "harus berupa bilangan bulat, mis. 40 atau 1.250"),
    (False, "en", "abc", "must be a whole number, e.g. 40 or 1,250"),
    (False, "id", "-5", "tidak boleh kurang dari 0"),  # people served: the field's min
    (False, "en", "-5", "may not be less than 0"),
])
def test_a_number_the_page_cannot_read_for_sure_comes_back_with_how_to_write_it(rt, browser, decimals, language,
                                                                               typed, message):
    instance_id, task_id, b = at_step_three(rt, browser, language, decimals=decimals)
    response = b.post(f"/tugas/{task_id}", {**STEP_DATA[3], "jumlah_penerima_manfaat": typed, "action": "complete"})
    assert response.status_code == 422
    block = field_block(text(response), "jumlah_penerima_manfaat")
    assert f'<p class="field-error">{message}</p>' in block and f'value="{typed}"' in block
    assert task_of(rt, instance_id)["id"] == task_id


@pytest.mark.parametrize("saved_in,typed,shown_in,shown,number", [
    ("id", "12,5", "en", "12.5", 12.5), ("id", "12.500", "en", "12,500", 12500),
    ("en", "1,250.75", "id", "1.250,75", 1250.75),
    # "1,125" would be refused as ambiguous (1,125 or 1.125?): shown with a trailing zero, it is not.
    ("en", "1.1250", "id", "1,1250", 1.125), ("id", "2,5000", "en", "2.5", 2.5), ("id", "1.234,125", "id", "1.234,125", 1234.125),
])
def test_a_drafts_number_keeps_its_meaning_when_the_page_language_changes(rt, browser, saved_in, typed, shown_in,
                                                                         shown, number):
    """A number is kept in a draft as the number it was on the page it was typed on, and shown in the
    language of the page that opens it: "12,5" saved in Indonesian is 12.5 in English, not 125."""
    instance_id, task_id, b = at_step_three(rt, browser, saved_in, decimals=True)
    b.get(f"/tugas/{task_id}")
    response = b.post(f"/tugas/{task_id}", {**STEP_DATA[3], "jumlah_penerima_manfaat": typed, "action": "draft"})
    assert response.status_code == 302
    b.post("/bahasa", {"language": shown_in}, headers={"Referer": "/"})
    html = text(b.get(f"/tugas/{task_id}"))
    assert f'value="{shown}"' in field_block(html, "jumlah_penerima_manfaat")
    response = b.post(f"/tugas/{task_id}", {**STEP_DATA[3], "jumlah_penerima_manfaat": shown, "action": "complete"})
    assert response.status_code == 302, text(response)
    assert completed_data(rt, instance_id, 3)["jumlah_penerima_manfaat"] == number


def test_a_draft_keeps_a_number_it_cannot_read_as_it_was_typed(rt, browser):
    instance_id, task_id, b = at_step_three(rt, browser)
    b.get(f"/tugas/{task_id}")
    b.post(f"/tugas/{task_id}", {**STEP_DATA[3], "jumlah_penerima_manfaat": "sekitar 40", "action": "draft"})
    assert 'value="sekitar 40"' in field_block(text(b.get(f"/tugas/{task_id}")), "jumlah_penerima_manfaat")


def test_a_head_request_of_a_task_page_only_reads_it(rt, browser):
    """A HEAD of a task page (a link checker, or a page renewing its session) was taken as sending the
    form, unchecked by CSRF (HEAD is a safe method): a 422, and a step whose fields are all optional
    completed. It is answered as a GET is, and nothing changes."""
    instance_id, task_id, b = claimed_step_one(rt, browser)
    before = snapshot(rt, instance_id)
    response = b.client.head(f"/tugas/{task_id}")
    assert response.status_code == 200
    assert snapshot(rt, instance_id) == before


def test_a_draft_is_saved_and_resumed_in_a_new_session(app, rt, browser):
    instance_id, task_id, b = claimed_step_one(rt, browser)
    b.get(f"/tugas/{task_id}")
    response = b.post(f"/tugas/{task_id}", {"action": "draft", "rencana_kegiatan": "Rencana setengah jadi",
                                            "tanggal_mulai": "2026-03-09"})
    assert response.status_code == 302 and response.headers["Location"] == f"/tugas/{task_id}"
    html = text(b.get(f"/tugas/{task_id}"))
    assert "Draf disimpan." in html and "Draf tersimpan" in html
    before = snapshot(rt, instance_id)

    again = browser("aptika.implementasi")  # another browser, another day
    html = text(again.get(f"/tugas/{task_id}"))
    assert ">Rencana setengah jadi</textarea>" in html
    assert 'value="2026-03-09"' in field_block(html, "tanggal_mulai")
    assert snapshot(rt, instance_id) == before  # a draft does not move the instance


def test_a_draft_longer_than_a_step_takes_is_refused_and_the_saved_one_kept(rt, browser):
    """A draft holds no more than a completion takes (20,000 characters a text), so a task's holder
    cannot park megabytes in the database; the form comes back with the text and the reason."""
    from process.forms import MAX_TEXT_LENGTH

    instance_id, task_id, b = claimed_step_one(rt, browser)
    b.get(f"/tugas/{task_id}")
    b.post(f"/tugas/{task_id}", {"action": "draft", "rencana_kegiatan": "Rencana pertama"})
    response = b.post(f"/tugas/{task_id}", {"action": "draft", "rencana_kegiatan": "x" * (MAX_TEXT_LENGTH + 1)})
    assert response.status_code == 422
    block = field_block(text(response), "rencana_kegiatan")
    assert '<p class="field-error">paling panjang 20000 karakter</p>' in block and "x" * 100 in block
    with rt.uow() as session:
        assert session.scalars(select(TaskDraft.data).where(TaskDraft.task_id == task_id)).all() == [
            {"rencana_kegiatan": "Rencana pertama", "tanggal_mulai": "", "tanggal_selesai": ""}]


def test_a_draft_keeps_only_the_steps_own_fields(rt):
    from engine import queries
    instance_id = start(rt)
    task_id = task_of(rt, instance_id)["id"]
    services.claim(rt, task_id, "aptika.implementasi")
    queries.save_draft(rt, task_id, "aptika.implementasi", {"rencana_kegiatan": "Rencana", "lain": "x" * 100,
                                                            "dokumen_rencana": "bukan dokumen"})
    with rt.uow() as session:
        assert session.scalars(select(TaskDraft.data).where(TaskDraft.task_id == task_id)).one() == {
            "rencana_kegiatan": "Rencana"}


def test_a_draft_says_the_files_chosen_were_not_kept(rt, browser):
    """A draft keeps what was typed, not the files: the holder is told, or an optional document is
    lost without a word when the step is completed later."""
    instance_id, task_id, b = claimed_step_one(rt, browser)
    b.get(f"/tugas/{task_id}")
    response = b.post(f"/tugas/{task_id}", {"action": "draft", "rencana_kegiatan": "Rencana setengah jadi",
                                            "dokumen_rencana": (io.BytesIO(b"%PDF-1.4 rencana"), "rencana.pdf")},
                      content_type="multipart/form-data")
    assert response.status_code == 302
    html = text(b.get(f"/tugas/{task_id}"))
    assert "Draf disimpan." in html
    assert ("Berkas tidak disimpan bersama draf (Dokumen kegiatan atau layanan); pilih lagi saat menyelesaikan "
            "langkah.") in html
    with rt.uow() as session:
        assert session.scalars(select(Document)).all() == []

    b.get(f"/tugas/{task_id}")
    b.post(f"/tugas/{task_id}", {"action": "draft", "rencana_kegiatan": "Tanpa berkas"})
    assert "Berkas tidak disimpan" not in text(b.get(f"/tugas/{task_id}"))  # no file chosen, nothing to say


def test_a_form_that_comes_back_with_errors_names_the_files_to_choose_again(rt, browser):
    """The page cannot put a chosen file back in its field: it says which ones were not kept."""
    instance_id, task_id, b = claimed_step_one(rt, browser)
    for language, words in (("id", "Berkas yang dipilih belum tersimpan (Dokumen kegiatan atau layanan); pilih "
                                   "lagi sebelum mengirim."),
                            ("en", "The files chosen were not saved (Dokumen kegiatan atau layanan); choose them "
                                   "again before sending.")):
        b.post("/bahasa", {"language": language}, headers={"Referer": "/"})
        b.get(f"/tugas/{task_id}")
        response = b.post(f"/tugas/{task_id}", {"action": "complete", "rencana_kegiatan": "Rencana",
                                                "tanggal_mulai": "2026-03-10", "tanggal_selesai": "2026-03-01",
                                                "dokumen_rencana": (io.BytesIO(b"%PDF-1.4 rencana"), "rencana.pdf")},
                          content_type="multipart/form-data")
        assert response.status_code == 422
        assert words in text(response)
    with rt.uow() as session:
        assert session.scalars(select(Document)).all() == []

    response = b.post(f"/tugas/{task_id}", {"action": "complete", "rencana_kegiatan": "",
                                            "tanggal_mulai": "2026-03-10", "tanggal_selesai": "2026-03-31"},
                      content_type="multipart/form-data")
    assert response.status_code == 422 and "files-dropped" not in text(response)  # none chosen, nothing to say


def test_a_step_sent_back_says_why_and_starts_from_what_was_sent(rt, clock, browser):
    """Verification answering "no" opened step 3 again with an empty form and no word of why (the
    note was only in the history). The page says who sent it back, when and with what note, and the
    form starts from what was sent last time; a draft saved since wins."""
    from tests.integration.test_tasks import sent_back_to_step_three

    instance_id = start(rt)
    task_id = sent_back_to_step_three(rt, clock, instance_id, note="Lampirkan daftar hadir")["id"]
    b = browser("aptika.implementasi")
    html = text(b.get(f"/tugas/{task_id}"))  # before claiming: why it is back is said already
    note = section(html, "sent-back", "step-form" if 'id="step-form"' in html else None)
    assert ("Langkah ini dikembalikan oleh aptika.teknis pada 2 Mar 2026 11:00 dari langkah 5 (Apakah hasil "
            "kegiatan dan layanan bidang terverifikasi?).") in note
    assert "<dt>Catatan verifikasi</dt><dd>Lampirkan daftar hadir</dd>" in note
    assert "<dd>Tidak</dd>" in note

    services.claim(rt, task_id, "aptika.implementasi")
    html = text(b.get(f"/tugas/{task_id}"))
    assert ">120 akun email dibuat</textarea>" in field_block(html, "hasil_kegiatan")
    assert 'value="120"' in field_block(html, "jumlah_penerima_manfaat")
    assert "Formulir berisi isian yang dikirim sebelumnya untuk langkah ini" in html
    assert "Berkas tidak ikut diisikan" in html  # the report's document is not in its field

    b.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    html = text(b.get(f"/tugas/{task_id}"))
    assert ("This step was sent back by aptika.teknis on 2 Mar 2026 11:00 from step 5 (Apakah hasil kegiatan dan "
            "layanan bidang terverifikasi?).") in html
    assert "<dd>No</dd>" in html and "The form holds what was sent for this step last time" in html

    b.post(f"/tugas/{task_id}", {"action": "draft", "hasil_kegiatan": "Diperbaiki", "jumlah_penerima_manfaat": ""})
    html = text(b.get(f"/tugas/{task_id}"))
    assert ">Diperbaiki</textarea>" in html and 'value="120"' not in html
    assert "The form holds what was sent" not in html and 'id="sent-back"' in html


def test_the_worklist_marks_a_step_sent_back(rt, clock, browser):
    """A step sent back at verification looked like any other task on the worklist until opened: its
    row says "dikembalikan", in Tugas Tim and, once claimed, in Tugas Saya; other rows do not."""
    from tests.integration.test_tasks import sent_back_to_step_three

    other = task_of(rt, start(rt, title="Kegiatan lain"))["id"]
    task_id = sent_back_to_step_three(rt, clock, start(rt))["id"]
    b = browser("aptika.implementasi")

    def badge(html: str, task: str) -> bool:
        row = html[html.index(f'data-task="{task}"'):]
        return 'class="badge sent-back"' in row[:row.index("</tr>")]

    html = text(b.get("/"))
    assert task_id in team(html) and badge(html, task_id) and not badge(html, other)
    assert ">Dikembalikan</span>" in html
    services.claim(rt, task_id, "aptika.implementasi")
    b.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    html = text(b.get("/"))
    assert task_id in mine(html) and badge(html, task_id) and ">Sent back</span>" in html


def test_a_draft_of_a_task_held_by_someone_else_is_refused_like_completing_it(rt, browser):
    """A lane colleague must claim first (409); someone outside the lane may not at all (403)."""
    accounts.save_user(rt, "admin", "aptika.implementasi2", "Rekan", "aptika", ["implementasi"],
                       password=DEMO_PASSWORD)
    instance_id, task_id, _ = claimed_step_one(rt, browser)
    before = snapshot(rt, instance_id)
    for login, status in (("aptika.implementasi2", 409), ("aptika.teknis", 403)):
        other = browser(login)
        other.get("/")
        response = other.post(f"/tugas/{task_id}", {"action": "draft", "rencana_kegiatan": "Bukan milik saya"})
        assert response.status_code == status, login
    with rt.uow() as session:
        assert session.scalars(select(TaskDraft)).all() == []
    assert snapshot(rt, instance_id) == before


def step_one_form(version: int, plan: str) -> dict:
    return {**STEP_DATA[1], "rencana_kegiatan": plan, "action": "complete", "version": str(version),
            "dokumen_rencana": (io.BytesIO(b"%PDF-1.4 rencana"), "rencana.pdf")}


def test_a_start_the_definition_cannot_take_says_why_on_the_start_page(rt, browser, monkeypatch):
    """An error without a field (a gateway right after the start that cannot be passed) was a silent 200."""
    from engine.errors import StepBlocked

    def blocked(*args, **kwargs):
        raise StepBlocked("langkah tidak dapat diteruskan pada 'Siap?' (Gateway_00): tidak ada jalur")
    monkeypatch.setattr(services, "start_once", blocked)
    b = browser("aptika.implementasi")
    b.get("/kegiatan/baru")
    response = b.post("/kegiatan/baru", {"definition": KEY, "bidang": "aptika", "title": "Layanan"})
    assert response.status_code == 422
    assert "Gateway_00" in text(response) and 'data-error="_"' in text(response)


def test_an_end_of_implementation_before_its_start_is_refused_at_the_field(rt, browser):
    instance_id, task_id, b = claimed_step_one(rt, browser)
    version = task_of(rt, instance_id)["version"]
    form = {**step_one_form(version, "Rencana"), "tanggal_mulai": "2026-03-10", "tanggal_selesai": "2026-03-01"}
    response = b.post(f"/tugas/{task_id}", form, content_type="multipart/form-data")
    html = text(response)
    assert response.status_code == 422
    assert re.search(r'data-field="tanggal_selesai".*?field-error">tidak boleh sebelum tanggal mulai pelaksanaan<',
                     html, re.S)
    assert task_of(rt, instance_id)["step"] == 1


def test_a_form_sent_after_its_task_changed_comes_back_with_what_was_typed(rt, browser):
    """Still the user's task: the form is shown again, typed text kept, and one more press completes it."""
    instance_id, task_id, b = claimed_step_one(rt, browser)
    page = text(b.get(f"/tugas/{task_id}"))
    opened = int(re.search(r'name="version" value="(\d+)"', page).group(1))
    services.unclaim(rt, task_id, "aptika.implementasi")  # in another tab: let go, then take it back
    services.claim(rt, task_id, "aptika.implementasi")
    before = snapshot(rt, instance_id)

    response = b.post(f"/tugas/{task_id}", step_one_form(opened, "Rencana yang diketik panjang"),
                      content_type="multipart/form-data")
    html = text(response)
    assert response.status_code == 409 and 'id="changed-meanwhile"' in html
    assert ">Rencana yang diketik panjang</textarea>" in html
    assert snapshot(rt, instance_id) == before
    now = int(re.search(r'name="version" value="(\d+)"', html).group(1))
    assert now == task_of(rt, instance_id)["version"] != opened

    response = b.post(f"/tugas/{task_id}", step_one_form(now, "Rencana yang diketik panjang"),
                      content_type="multipart/form-data")
    assert response.status_code == 302
    assert task_of(rt, instance_id)["step"] == 2


def test_a_form_with_a_version_that_is_not_a_number_is_treated_as_stale(rt, browser):
    """A forged or mangled version skipped the check: the page's version is read as a number or
    taken as stale, so the form comes back with what was typed and the version it must send."""
    instance_id, task_id, b = claimed_step_one(rt, browser)
    before = snapshot(rt, instance_id)
    for version in ("satu", "1" * 5000):  # 5,000 digits were a 500: int() reads at most 4,300
        form = {**step_one_form(0, "Rencana"), "version": version}
        response = b.post(f"/tugas/{task_id}", form, content_type="multipart/form-data")
        html = text(response)
        assert response.status_code == 409 and 'id="changed-meanwhile"' in html, version[:10]
        assert ">Rencana</textarea>" in html and snapshot(rt, instance_id) == before


def test_a_form_sent_as_its_deadline_fires_goes_through_late(rt, browser, clock, monkeypatch):
    """The scheduler fires the step's deadline between the completion's read and its writes: the
    instance's version moves, the task's does not. The completion runs again and goes through."""
    instance_id, task_id, b = claimed_step_one(rt, browser)
    opened = int(re.search(r'name="version" value="(\d+)"', text(b.get(f"/tugas/{task_id}"))).group(1))
    clock.set(datetime.fromisoformat(task_of(rt, instance_id)["due_at"]) + timedelta(minutes=1))
    begin_writes = Runtime.begin_writes

    def deadline_fires_first(self, session):
        monkeypatch.setattr(Runtime, "begin_writes", begin_writes)
        assert Scheduler(rt, deliver=False).run_pass().fired == 1
        begin_writes(self, session)

    monkeypatch.setattr(Runtime, "begin_writes", deadline_fires_first)
    response = b.post(f"/tugas/{task_id}", step_one_form(opened, "Typed before the deadline"),
                      content_type="multipart/form-data")
    assert response.status_code == 302 and task_of(rt, instance_id)["step"] == 2
    [done] = [t for t in services.show(rt, instance_id)["steps"] if t["id"] == task_id]
    assert done["state"] == "completed" and done["overdue"]


def test_a_form_that_comes_back_changed_speaks_the_users_language(rt, browser):
    instance_id, task_id, b = claimed_step_one(rt, browser)
    b.get("/")
    b.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    page = text(b.get(f"/tugas/{task_id}"))
    assert "<h1>Step 1. " in page  # one step: not "Steps 1."
    opened = int(re.search(r'name="version" value="(\d+)"', page).group(1))
    services.unclaim(rt, task_id, "aptika.implementasi")  # in another tab: let go, then take it back
    services.claim(rt, task_id, "aptika.implementasi")

    response = b.post(f"/tugas/{task_id}", step_one_form(opened, "Typed in English"),
                      content_type="multipart/form-data")
    html = text(response)
    assert response.status_code == 409 and 'id="changed-meanwhile"' in html
    assert "This task changed since its form was opened" in html and "Files must be chosen again." in html
    assert f'href="/kegiatan/{instance_id}"' in html
    assert ">Typed in English</textarea>" in html


def test_a_step_whose_gateway_cannot_be_passed_comes_back_with_the_reason_and_what_was_typed(rt, browser):
    deploy_v2(rt, gateway_without_a_path())
    instance_id = start(rt)
    for step in (1, 2, 3, 4):
        do_step(rt, instance_id, step)
    task = task_of(rt, instance_id)
    version = services.claim(rt, task["id"], "aptika.teknis")["version"]
    b = browser("aptika.teknis")
    b.get(f"/tugas/{task['id']}")

    response = b.post(f"/tugas/{task['id']}", {"terverifikasi": "true", "catatan": "Sudah dicek bersama",
                                               "action": "complete", "version": str(version)})

    html = text(response)
    assert response.status_code == 422 and 'id="step-blocked"' in html
    assert "tidak dapat diteruskan oleh definisi SOP" in html and "Gateway_05" in html
    assert ">Sudah dicek bersama</textarea>" in html
    assert task_of(rt, instance_id)["id"] == task["id"]


def test_the_language_chosen_before_signing_in_becomes_the_accounts(app, rt):
    visitor = Browser(app)
    page = text(visitor.get("/masuk"))
    assert 'name="language"' in page and ">Nama pengguna" in page
    assert visitor.post("/bahasa", {"language": "en"}, headers={"Referer": "/masuk"}).status_code == 302
    assert ">Sign in<" in text(visitor.get("/masuk"))
    visitor.post("/bahasa", {"language": "xx"}, headers={"Referer": "/masuk"})  # not a language: ignored
    assert ">Sign in<" in text(visitor.get("/masuk"))
    assert visitor.sign_in("aptika.implementasi").status_code == 302
    assert '<html lang="en">' in text(visitor.get("/"))  # the choice made on the sign-in page stays

    colleague = Browser(app)  # no choice on the sign-in page: the account's own language rules
    assert colleague.sign_in("aptika.teknis").status_code == 302
    assert '<html lang="id">' in text(colleague.get("/"))
    later = Browser(app)
    assert later.sign_in("aptika.implementasi").status_code == 302
    assert '<html lang="en">' in text(later.get("/"))  # kept with the account for the next sign-in


def test_each_language_is_offered_in_its_own_language(app):
    """The language choice names each language in itself ('English' on an Indonesian page, 'Bahasa
    Indonesia' on an English one), but did not say so: a screen reader read 'English' with Indonesian
    sounds. Each choice carries its language."""
    visitor = Browser(app)
    visitor.get("/masuk")
    for language in ("id", "en"):
        visitor.post("/bahasa", {"language": language}, headers={"Referer": "/masuk"})
        page = text(visitor.get("/masuk"))
        assert re.search(r'<option value="id" lang="id"[^>]*>Bahasa Indonesia</option>', page), language
        assert re.search(r'<option value="en" lang="en"[^>]*>English</option>', page), language


def test_engine_messages_speak_the_users_language(rt, browser):
    """Form checks and task conflicts come from the engine in Indonesian; an English user reads English."""
    accounts.save_user(rt, "admin", "aptika.implementasi2", "Rekan", "aptika", ["implementasi"],
                       password=DEMO_PASSWORD)
    instance_id, task_id, b = claimed_step_one(rt, browser)
    version = task_of(rt, instance_id)["version"]
    empty = {"action": "complete", "version": str(version), "rencana_kegiatan": "",
             "tanggal_mulai": "2026-03-10", "tanggal_selesai": "2026-03-01"}
    html = text(b.post(f"/tugas/{task_id}", empty))
    assert "wajib diisi" in html and "tidak boleh sebelum tanggal mulai pelaksanaan" in html
    b.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    html = text(b.post(f"/tugas/{task_id}", empty))
    assert ">required<" in html and "may not be before tanggal mulai pelaksanaan" in html  # the label is SOP data
    assert "wajib diisi" not in html

    other = browser("aptika.implementasi2")
    other.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    response = other.post(f"/tugas/{task_id}/klaim")
    assert response.status_code == 409
    assert "The task has already been claimed by aptika.implementasi" in text(response)


def test_a_refusal_names_the_lane_as_staff_call_it(rt, browser):
    instance_id = start(rt)
    task_id = task_of(rt, instance_id)["id"]
    b = browser("aptika.teknis")
    b.get("/")
    html = text(b.post(f"/tugas/{task_id}/klaim"))
    assert "aptika.teknis bukan anggota Tim Implementasi untuk tugas ini" in html
    b.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    # English said "is not a member of Implementation team", which reads as broken English (and as
    # "a member of the Secretary" for the Sekretaris' steps).
    assert "aptika.teknis may not take this task: it is for the Implementation team" in \
        text(b.post(f"/tugas/{task_id}/klaim"))


def test_a_form_sent_after_its_task_went_to_someone_else_gets_the_conflict_page(rt, browser):
    instance_id, task_id, b = claimed_step_one(rt, browser)
    accounts.save_user(rt, "admin", "aptika.implementasi2", "Rekan", "aptika", ["implementasi"],
                       password=DEMO_PASSWORD)
    opened = int(re.search(r'name="version" value="(\d+)"', text(b.get(f"/tugas/{task_id}"))).group(1))
    worklist.reassign(rt, task_id, "kepala.aptika", "aptika.implementasi2")

    response = b.post(f"/tugas/{task_id}", step_one_form(opened, "Rencana"), content_type="multipart/form-data")
    html = text(response)
    assert response.status_code == 409 and "changed-meanwhile" not in html and 'name="version"' not in html
    assert task_of(rt, instance_id)["assignee"] == "aptika.implementasi2"


def test_completing_a_step_with_a_document_returns_to_the_worklist(rt, browser):
    instance_id, document_id = complete_step_one_with_upload(rt, browser)
    task = task_of(rt, instance_id)
    assert task["step"] == 2
    with rt.uow() as session:
        document = session.get(Document, document_id)
        assert (document.filename, document.field, document.uploaded_by) == \
            ("rencana.pdf", "dokumen_rencana", "aptika.implementasi")
    info = services.show(rt, instance_id)
    completed = next(e for e in info["history"] if e["kind"] == "step_completed")
    assert completed["data"]["dokumen_rencana"] == str(document_id)
    assert completed["data"]["rencana_kegiatan"] == STEP_DATA[1]["rencana_kegiatan"]


def test_completion_redirects_with_a_message(rt, browser):
    instance_id, task_id, b = claimed_step_one(rt, browser)
    b.get(f"/tugas/{task_id}")
    response = b.post(f"/tugas/{task_id}", {**STEP_DATA[1], "action": "complete"},
                      content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    html = text(b.get("/"))
    assert "Langkah 1 selesai." in html
    assert task_of(rt, instance_id)["step"] == 2


LYING_FILES = [  # (name, content, the message shown at the field)
    ("laporan.pdf", b"\x7fELF\x02\x01\x01\x00" + bytes(120), "jenis berkas tidak diizinkan"),
    ("laporan.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(120),
     "jenis berkas tidak diizinkan"),
    ("laporan.pdf", b"ini hanya teks biasa, bukan PDF\n", "isi berkas tidak sesuai dengan ekstensi namanya"),
]


def test_a_file_whose_content_does_not_match_its_name_is_refused(rt, browser):
    instance_id, task_id, b = claimed_step_one(rt, browser)
    b.get(f"/tugas/{task_id}")
    before = snapshot(rt, instance_id)
    for filename, content, message in LYING_FILES:
        response = b.post(f"/tugas/{task_id}", {**STEP_DATA[1], "action": "complete",
                                                "dokumen_rencana": (io.BytesIO(content), filename)},
                          content_type="multipart/form-data")
        assert response.status_code == 422, content[:4]
        assert message in field_block(text(response), "dokumen_rencana"), content[:4]
    assert snapshot(rt, instance_id) == before


def test_document_download_is_limited_to_the_bidang_and_office_wide_roles(rt, browser):
    instance_id, document_id = complete_step_one_with_upload(rt, browser)
    for login in ("aptika.teknis", "sekretaris"):
        response = browser(login).get(f"/dokumen/{document_id}")
        assert response.status_code == 200, login
        assert response.data == b"%PDF-1.4 rencana"
        assert response.mimetype == "application/pdf"
        assert 'attachment; filename=rencana.pdf' in response.headers["Content-Disposition"]
    refused = browser("ikp.implementasi").get(f"/dokumen/{document_id}")
    assert refused.status_code == 403 and b"%PDF" not in refused.data
    assert "Anda tidak berwenang mengunduh dokumen ini" in text(refused)


# -- instances -----------------------------------------------------------------------------

def test_the_history_shows_event_data_as_people_wrote_it_and_escaped(rt, browser):
    instance_id = services.start(rt, KEY, "aptika", "Layanan — uji ñ 漢字 <b>tebal</b>", "aptika.implementasi")
    history = section(text(browser("aptika.teknis").get(f"/kegiatan/{instance_id}")), "history")
    assert "Layanan — uji ñ 漢字 &lt;b&gt;tebal&lt;/b&gt;" in history  # not \u2014, \u00f1, \u6f22
    assert "<b>tebal" not in history


def test_instance_page_lists_steps_history_documents_and_its_diagram(rt, browser):
    instance_id, document_id = complete_step_one_with_upload(rt, browser)
    b = browser("aptika.teknis")
    html = text(b.get(f"/kegiatan/{instance_id}"))
    assert f"#{instance_id} Layanan email dinas" in html
    steps = re.findall(r'class="step-row" data-step="(\d+)"', html)
    assert steps == ["1", "2"]
    assert "Tepat waktu" in html and "Berjalan" in html
    history = section(html, "history")
    for label in ("dimulai", "langkah siap", "diklaim", "langkah selesai"):
        assert f"<td>{label}</td>" in history, label
    b.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    history = section(text(b.get(f"/kegiatan/{instance_id}")), "history")
    for label in ("started", "step ready", "claimed", "step completed"):
        assert f"<td>{label}</td>" in history, label
    assert f'href="/dokumen/{document_id}">rencana.pdf</a>' in html
    assert f'data-src="/kegiatan/{instance_id}/diagram.bpmn"' in html

    diagram = b.get(f"/kegiatan/{instance_id}/diagram.bpmn")
    assert diagram.status_code == 200 and diagram.mimetype == "application/xml"
    assert b"bpmn:definitions" in diagram.data or b"<definitions" in diagram.data

    other = browser("ikp.implementasi")
    assert other.get(f"/kegiatan/{instance_id}").status_code == 403
    assert other.get(f"/kegiatan/{instance_id}/diagram.bpmn").status_code == 403
    assert "Layanan email dinas" not in text(other.get("/kegiatan"))
    assert "Layanan email dinas" in text(b.get("/kegiatan"))


def test_the_diagrams_are_named_and_say_where_their_facts_are_written(rt, browser):
    """The activity's diagram and the heat map had no accessible name: a screen reader met a nameless
    graphic reading out every label of the SOP, and was not told that the steps' states (shown by colour
    only) and the heat map's figures are written in the tables below."""
    instance_id = start(rt)
    html = text(browser("aptika.implementasi").get(f"/kegiatan/{instance_id}"))
    assert re.search(r'<div id="diagram" role="figure" aria-label="Diagram SOP kegiatan ini: [^"]*tabel Langkah', html)
    html = text(browser("kadis").get("/monitoring"))
    assert re.search(r'<div id="heatmap" role="figure" aria-label="Peta panas [^"]*'
                     r'tabel Ketepatan waktu per langkah', html)


def test_the_activity_pages_step_states_have_a_column_heading(rt, browser):
    """The activity's step table gave each step's state ('Berjalan', 'Tepat waktu', 'Terlambat') in a
    column without a heading: a screen reader moving along a row heard the state with no name for it."""
    instance_id = start(rt)
    html = text(browser("aptika.implementasi").get(f"/kegiatan/{instance_id}"))
    head = section(html, "steps", "history").split("</thead>")[0]
    assert re.findall(r"<th>([^<]*)</th>", head)[-1] == "Status"


def test_the_activity_list_refuses_an_unknown_state_and_says_when_it_shows_only_the_newest(rt, browser, monkeypatch):
    """`?state=xyz` showed "Belum ada kegiatan." as if there were none, and the list stopped at its
    200 newest without a word."""
    import web.instances
    b = browser("aptika.implementasi")
    first, second = start(rt), start(rt)
    assert b.get("/kegiatan?state=xyz").status_code == 422
    html = text(b.get("/kegiatan?state=running"))
    assert f'href="/kegiatan/{second}"' in html and 'id="listed-newest"' not in html
    monkeypatch.setattr(web.instances, "LISTED", 2)  # exactly as many as listed: none left off
    assert 'id="listed-newest"' not in text(b.get("/kegiatan"))
    monkeypatch.setattr(web.instances, "LISTED", 1)
    html = text(b.get("/kegiatan"))
    assert f'href="/kegiatan/{second}"' in html and f'href="/kegiatan/{first}"' not in html
    assert 'id="listed-newest"' in html and "Ditampilkan 1 kegiatan terbaru" in html


def step_row(html: str, step: int) -> str:
    row = html[html.index(f'class="step-row" data-step="{step}"'):]
    return row[:row.index("</tr>")]


def test_the_instance_page_words_working_time_in_hours_not_24_hour_days(rt, browser, clock):
    """Six working days of step 2 are 39 working hours (Ramadan hours: 6.5 a day), not "1 hari 15 jam",
    which would read as under two days beside its standard time of "30 Hari"."""
    instance_id = start(rt)
    do_step(rt, instance_id, 1)
    clock.advance(days=8)  # Monday 2 March 09:00 WIB -> Tuesday 10 March 09:00
    do_step(rt, instance_id, 2)
    b = browser("aptika.teknis")
    row = step_row(text(b.get(f"/kegiatan/{instance_id}")), 2)
    assert "<td>39 jam</td>" in row and "hari" not in row.replace("30 Hari", ""), row
    b.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    assert "<td>39 h</td>" in step_row(text(b.get(f"/kegiatan/{instance_id}")), 2)


def steps_head(html: str) -> str:
    table = section(html, "steps")
    return table[table.index("<thead>"):table.index("</thead>")]


def test_the_instance_pages_time_taken_follows_each_steps_counting_rule(rt, browser, clock):
    """A step counted in calendar days showed its working time under "Waktu kerja" beside "30 Hari" (which
    it counts by the calendar): the time and its heading follow each step's counting rule."""
    deploy_v2(rt, BPMN, YAML.replace("\n  days: kerja\n  time: kerja", "\n  days: kalender\n  time: jam", 1))
    instance_id = start(rt)
    clock.advance(days=8, hours=2)  # Monday 2 March 09:00 WIB -> Tuesday 10 March 11:00
    do_step(rt, instance_id, 1)
    b = browser("aptika.teknis")
    html = text(b.get(f"/kegiatan/{instance_id}"))
    assert "<th>Waktu kalender</th>" in steps_head(html) and "Waktu kerja" not in steps_head(html)
    assert "<td>8 hari 2 jam</td>" in step_row(html, 1)
    b.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    html = text(b.get(f"/kegiatan/{instance_id}"))
    assert "<th>Calendar time</th>" in steps_head(html) and "<td>8 days 2 h</td>" in step_row(html, 1)
    # Days by the calendar, minutes and hours in working time: each step says how it is counted.
    deploy_v2(rt, BPMN, YAML.replace("\n  days: kerja", "\n  days: kalender", 1))
    mixed = start(rt)
    do_step(rt, mixed, 1)
    do_step(rt, mixed, 2)
    html = text(b.get(f"/kegiatan/{mixed}"))
    assert "<th>Time taken</th>" in steps_head(html)
    assert '(calendar)' in step_row(html, 2) and '(working)' in step_row(html, 3)


def test_the_instance_pages_standard_says_how_its_days_are_counted_as_the_heat_map_does(rt, browser, clock):
    """The activity page's "Mutu baku" read "30 Hari" where the heat map read "30 Hari Kalender" for the same
    step: both state the standard with its days counted by the step's rule."""
    instance_id = start(rt)
    b = browser("aptika.teknis")
    assert "<td>30 Hari Kerja</td>" in step_row(text(b.get(f"/kegiatan/{instance_id}")), 1)
    deploy_v2(rt, BPMN, YAML.replace("\n  days: kerja", "\n  days: kalender", 1))
    calendar_days = start(rt)
    do_step(rt, calendar_days, 1)
    do_step(rt, calendar_days, 2)
    html = text(b.get(f"/kegiatan/{calendar_days}"))
    assert "<td>30 Hari Kalender</td>" in step_row(html, 1) and "<td>30 Menit</td>" in step_row(html, 3)
    # The task page and the API's task say it the same way, for the staff who do the step.
    later = start(rt)
    task_id = task_of(rt, later)["id"]
    staff = browser("aptika.implementasi")
    assert "<b>Waktu:</b> 30 Hari Kalender ·" in text(staff.get(f"/tugas/{task_id}"))
    assert queries.task_view(rt, task_id, "aptika.implementasi")["step"]["mutu_baku"] == "30 Hari Kalender"


def history_rows(html: str) -> dict[str, list[str]]:
    """The history table's data cells, by the event's label."""
    # The step's cell: its number, and its name in a span.
    rows = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>[^<]*(?:<span[^>]*>[^<]*</span>)?</td><td>[^<]*</td>"
                      r"\s*<td>(.*?)</td></tr>",
                      section(html, "history"), re.S)
    found: dict[str, list[str]] = {}
    for label, data in rows:
        found.setdefault(label, []).append(re.sub(r"\s+", " ", data).strip())
    return found


def test_the_history_says_what_each_event_did_in_the_readers_language(rt, browser, clock):
    """Not the event's data as JSON: who a task went from and to, which level alerted whom, the due time."""
    accounts.save_user(rt, "admin", "aptika.implementasi2", "Rekan", "aptika", ["implementasi"],
                       password=DEMO_PASSWORD)
    instance_id = start(rt)
    task_id = task_of(rt, instance_id)["id"]
    services.claim(rt, task_id, "aptika.implementasi")
    worklist.reassign(rt, task_id, "kepala.aptika", "aptika.implementasi2")
    due = datetime.fromisoformat(task_of(rt, instance_id)["due_at"])
    clock.set(due + timedelta(minutes=1))
    Scheduler(rt, deliver=False).run_pass()
    [alert] = alerts.alerts(rt, "kepala.aptika", unacknowledged=True)
    alerts.acknowledge(rt, alert["id"], "kepala.aptika")

    b = browser("kepala.aptika")
    page = text(b.get(f"/kegiatan/{instance_id}"))
    rows = history_rows(page)
    assert "<code>" not in section(page, "history")
    assert rows["dimulai"] == [f"Layanan email dinas; SOP {KEY} versi 1"]
    assert rows["dialihkan"] == ["dari aptika.implementasi kepada aptika.implementasi2"]
    assert rows["melewati mutu baku waktu"] == [f"batas {local(rt, due, 'id')}; mutu baku 30 Hari"]
    assert rows["dieskalasi"] == ["tingkat 1 kepada kepala.aptika"]
    assert rows["peringatan ditanggapi"] == [f"peringatan {alert['id']}, tingkat 1"]

    b.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    rows = history_rows(text(b.get(f"/kegiatan/{instance_id}")))
    assert rows["started"] == [f"Layanan email dinas; SOP {KEY} version 1"]
    assert rows["reassigned"] == ["from aptika.implementasi to aptika.implementasi2"]
    assert rows["exceeded the standard time"] == [f"due {local(rt, due, 'en')}; standard time 30 days"]
    assert rows["escalated"] == ["level 1 to kepala.aptika"]
    assert rows["alert acknowledged"] == [f"alert {alert['id']}, level 1"]


def test_the_history_says_whom_a_level_without_anyone_active_alerted_instead(rt, browser, clock):
    accounts.save_user(rt, "admin", "kepala.ikp", "Kepala IKP", "ikp", ["kepala"], active=False)
    instance_id = start(rt, "ikp", "Siaran pers")
    clock.set(datetime.fromisoformat(task_of(rt, instance_id)["due_at"]) + timedelta(minutes=1))
    Scheduler(rt, deliver=False).run_pass()
    rows = history_rows(text(browser("kadis").get(f"/kegiatan/{instance_id}")))
    assert rows["dieskalasi"] == ["tingkat 1 kepada kadis (penerima tingkat 2, karena tingkat ini tidak punya "
                                  "penerima aktif)"]


def test_the_history_shows_event_data_of_an_unexpected_shape_as_it_is(rt, browser):
    """Data the words do not fit (not a mapping; a stored reason whose values are not a mapping) is
    shown as JSON, never a 500."""
    from engine.events import log
    instance_id = start(rt)
    with rt.uow() as session:
        log(session, instance_id, rt.now(), "reassigned", "kadis", data=["aptika.implementasi"])
        log(session, instance_id, rt.now(), "migration_refused", "kadis",
            data={"from": 1, "to": 2, "reason": "langkah dihapus",
                  "reason_message": {"template": "langkah %(n)s dihapus", "values": ["3"]}})
        session.commit()
    response = browser("kadis").get(f"/kegiatan/{instance_id}")
    assert response.status_code == 200
    rows = history_rows(text(response))
    assert rows["dialihkan"] == ["[&#34;aptika.implementasi&#34;]"]
    assert rows["pemindahan versi ditolak"][0].startswith("{&#34;from&#34;: 1,")


def local(rt, moment: datetime, language: str) -> str:
    """A time as the pages write it (the `local` filter) in the office's time zone."""
    from babel.dates import format_datetime
    return format_datetime(moment, "d MMM yyyy HH:mm", tzinfo=rt.calendar.tz, locale=language)


def test_standard_times_read_in_the_readers_language(rt, browser):
    """The SOP writes "30 Hari" and "30 Menit": Indonesian pages keep its notation (with the days' counting
    rule: "30 Hari Kerja"), English ones word it."""
    instance_id, task_id, b = claimed_step_one(rt, browser)
    assert "<td>30 Hari Kerja</td>" in step_row(text(b.get(f"/kegiatan/{instance_id}")), 1)
    b.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    page = text(b.get(f"/kegiatan/{instance_id}"))
    assert "<td>30 working days</td>" in step_row(page, 1)
    assert "Hari" not in page and "Menit" not in page
    assert "<b>Time:</b> 30 working days ·" in text(b.get(f"/tugas/{task_id}"))
    kadis = browser("kadis")
    kadis.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    page = text(kadis.get("/monitoring"))
    assert '<td title="Standard time: 30 min">30 min</td>' in page and ">30 working days</td>" in page
    assert "Menit" not in page and "Hari" not in page


def test_the_history_shows_a_steps_answers_by_their_labels_in_the_readers_language(rt, browser):
    instance_id, document_id = complete_step_one_with_upload(rt, browser)
    do_step(rt, instance_id, 2)
    do_step(rt, instance_id, 3, {**STEP_DATA[3], "jumlah_penerima_manfaat": 1250})
    do_step(rt, instance_id, 4)
    do_step(rt, instance_id, 5, {"terverifikasi": True})
    b = browser("aptika.teknis")
    html = text(b.get(f"/kegiatan/{instance_id}"))
    history = section(html, "history")
    assert "<dt>Tanggal mulai pelaksanaan</dt><dd>2 Mar 2026</dd>" in history
    assert "<dt>Jumlah penerima layanan</dt><dd>1.250</dd>" in history
    assert "<dt>Hasil kegiatan dan layanan terverifikasi?</dt><dd>Ya</dd>" in history
    assert f'<dt>Dokumen kegiatan atau layanan</dt><dd><a href="/dokumen/{document_id}">rencana.pdf</a></dd>' in history
    assert "jumlah_penerima_manfaat" not in history and '"terverifikasi"' not in history
    assert "(Dokumen kegiatan atau layanan, aptika.implementasi," in section(html, "documents")

    b.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    history = section(text(b.get(f"/kegiatan/{instance_id}")), "history")
    assert "<dd>1,250</dd>" in history, history
    assert "<dd>Yes</dd>" in history
    assert "<dd>2 Mar 2026</dd>" in history


def test_steps_done_before_a_migration_keep_their_versions_form_and_standard_time(rt, browser):
    """A version inserting a step before the verification renumbers steps 5-15: the steps done under
    version 1 are still shown with version 1's labels and standard times, not the new step 5's and 6's."""
    from engine import editor
    instance_id = start(rt)
    for step in (1, 2, 3, 4):
        do_step(rt, instance_id, step)
    do_step(rt, instance_id, 5, {"terverifikasi": True, "catatan": "oke"})
    do_step(rt, instance_id, 6)
    deploy_v2(rt, *step_inserted_before_verification())
    editor.migrate(rt, instance_id, OWNER)

    html = text(browser("aptika.teknis").get(f"/kegiatan/{instance_id}"))
    history = section(html, "history")
    assert "<dt>Hasil kegiatan dan layanan terverifikasi?</dt><dd>Ya</dd>" in history
    assert "<dt>Catatan verifikasi</dt><dd>oke</dd>" in history
    assert "<dt>Data kegiatan dan layanan yang dikumpulkan</dt><dd>Data akun</dd>" in history
    assert "<dt>terverifikasi</dt>" not in history and "<dt>data_dikumpulkan</dt>" not in history
    assert "<td>120 Menit</td>" in step_row(html, 6)  # version 1's step 6; version 2's is 30 Menit


def test_the_history_names_each_step_and_the_version_whose_number_it_gives(rt, browser, clock):
    """Step 7 went overdue and was escalated under version 1; version 2 inserted a step before the
    verification and the activity moved with it, its open step now step 8 (version 2's step 7 is another
    step). The history's step column said only "7" for the overdue and the escalation. Each entry names its
    step, and a number an earlier version gave that the activity's version gives otherwise says its version."""
    from engine import editor
    instance_id = start(rt)
    for step in (1, 2, 3, 4, 5, 6):
        do_step(rt, instance_id, step, {"terverifikasi": True} if step == 5 else None)
    clock.advance(hours=3)  # step 7's 30 working minutes have passed
    Scheduler(rt, deliver=False).run_pass()
    deploy_v2(rt, *step_inserted_before_verification())
    editor.migrate(rt, instance_id, OWNER)

    b = browser("kadis")
    html = text(b.get(f"/kegiatan/{instance_id}"))
    history = section(html, "history")
    step7 = '<td>7 (versi 1) <span class="muted">· Memberikan Data Kegiatan dan Layanan yang diperlukan</span></td>'
    assert history.count(step7) == 3  # reached, overdue, escalated: before the migration
    assert '<td>4 <span class="muted">· Melakukan verifikasi hasil kegiatan dan layanan bidang</span></td>' in history
    assert "<b>5 (versi 1)</b>. Apakah hasil" in step_row(html, 5)  # version 2's step 5 is the inserted one
    assert "<b>4</b>. Melakukan verifikasi" in step_row(html, 4)
    assert "<b>8</b>. " in step_row(html, 8)  # the open step, as its version numbers it
    b.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    assert '<td>7 (version 1) <span class="muted">' in section(text(b.get(f"/kegiatan/{instance_id}")), "history")


def bidang_options(html: str) -> list[str]:
    [select_html] = re.findall(r'<select name="bidang">(.*?)</select>', html, re.S)
    return re.findall(r'<option value="([^"]*)"', select_html)


def test_start_form_offers_only_permitted_bidang(browser):
    assert bidang_options(text(browser("aptika.implementasi").get("/kegiatan/baru"))) == ["aptika"]
    assert bidang_options(text(browser("sekretaris").get("/kegiatan/baru"))) == \
        ["aptika", "ikp", "statistik-persandian", "sekretariat"]  # by name
    html = text(browser("kepala.aptika").get("/kegiatan/baru"))  # no lane role: may not start
    assert "Anda tidak berwenang memulai kegiatan." in html and 'name="title"' not in html


def test_the_worklist_offers_only_the_bidang_whose_tasks_the_user_sees(rt, browser):
    """Staff of one Bidang, who see only their Bidang's tasks, were offered every Bidang to filter by."""
    start(rt, "aptika"), start(rt, "ikp")
    assert bidang_options(text(browser("aptika.implementasi").get("/"))) == ["", "aptika"]
    assert bidang_options(text(browser("ikp.teknis").get("/"))) == ["", "ikp"]  # their own, with no task yet
    chosen = text(browser("aptika.implementasi").get("/?bidang=ikp"))  # the filter as chosen stays said
    assert bidang_options(chosen) == ["", "aptika", "ikp"] and 'value="ikp" selected' in chosen
    # The Sekretaris serves every Bidang: the Bidang of their tasks, by name, and their own.
    walk_to_secretary(rt, "aptika", "Kegiatan aptika"), walk_to_secretary(rt, "ikp", "Kegiatan ikp")
    assert bidang_options(text(browser("sekretaris").get("/"))) == ["", "aptika", "ikp", "sekretariat"]


def test_the_menu_offers_to_start_an_activity_only_to_who_may(browser):
    """Kepala Bidang, Kepala Dinas and the process owner had "Mulai kegiatan" in the menu, which led
    only to "Anda tidak berwenang memulai kegiatan."."""
    for login in ("aptika.implementasi", "aptika.administrasi", "sekretaris", "admin"):
        assert 'href="/kegiatan/baru"' in text(browser(login).get("/")), login
    for login in ("kepala.aptika", "kadis", "pemilik.proses"):
        assert 'href="/kegiatan/baru"' not in text(browser(login).get("/kegiatan")), login


def test_starting_work_checks_bidang_and_title(rt, browser):
    b = browser("aptika.implementasi")
    b.get("/kegiatan/baru")
    refused = b.post("/kegiatan/baru", {"definition": KEY, "bidang": "ikp", "title": "Bukan bidang saya"})
    assert refused.status_code == 403
    empty = b.post("/kegiatan/baru", {"definition": KEY, "bidang": "aptika", "title": "   "})
    assert empty.status_code == 422 and '<p class="field-error">wajib diisi</p>' in text(empty)
    # No Bidang chosen (a crafted request: the list has no empty choice) was a 403 naming no Bidang.
    for blank in ("", "  "):
        no_bidang = b.post("/kegiatan/baru", {"definition": KEY, "bidang": blank, "title": "Layanan"})
        assert no_bidang.status_code == 422, blank
        assert re.search(r'name="bidang".*?</select></label>\s*<p class="field-error">wajib diisi</p>',
                         text(no_bidang), re.S)
    # A definition withdrawn while the form was open: said under its own field, the form kept.
    gone = b.post("/kegiatan/baru", {"definition": "tidak_ada", "bidang": "aptika", "title": "Layanan"})
    html = text(gone)
    assert gone.status_code == 422
    assert re.search(r'name="definition">.*?</select></label>\s*<p class="field-error">belum di-deploy</p>', html, re.S)
    assert 'value="Layanan"' in html
    with rt.uow() as session:
        assert session.scalar(select(func.count()).select_from(Instance)) == 0

    started = b.post("/kegiatan/baru", {"definition": KEY, "bidang": "aptika", "title": "Layanan SPBE",
                                        "period": "Triwulan I 2026"})
    assert started.status_code == 302
    instance_id = int(re.fullmatch(r"/kegiatan/(\d+)", started.headers["Location"]).group(1))
    html = text(b.get(started.headers["Location"]))
    assert "Kegiatan dimulai." in html and "Layanan SPBE" in html and "Triwulan I 2026" in html
    assert task_of(rt, instance_id)["step"] == 1


START_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def test_the_start_form_sent_twice_starts_one_activity(rt, browser):
    """A double click, or the form sent again after the browser's back button, started a second activity."""
    b = browser("aptika.implementasi")
    key = START_KEY.search(text(b.get("/kegiatan/baru"))).group(1)
    assert key != START_KEY.search(text(b.get("/kegiatan/baru"))).group(1)  # one per page shown
    sent = {"definition": KEY, "bidang": "aptika", "title": "Layanan SPBE", "idempotency_key": key}
    first, again = b.post("/kegiatan/baru", sent), b.post("/kegiatan/baru", sent)
    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert "Kegiatan ini sudah dimulai dari formulir yang sama" in text(b.get(again.headers["Location"]))
    with rt.uow() as session:
        assert session.scalar(select(func.count()).select_from(Instance)) == 1
    # Sent again with another title (back, and the title changed): another activity, once.
    other = {**sent, "title": "Layanan lain"}
    second, again = b.post("/kegiatan/baru", other), b.post("/kegiatan/baru", other)
    assert second.status_code == again.status_code == 302
    assert second.headers["Location"] == again.headers["Location"] != first.headers["Location"]
    with rt.uow() as session:
        assert session.scalar(select(func.count()).select_from(Instance)) == 2


def test_the_start_form_sent_again_ends_what_the_tab_kept_of_it(rt, browser):
    """The start form sent again (back, the title typed again) showed the answer, "already started", as a mere
    note: keep.js, which drops the typed text once a send's next page says success, kept the title, and
    the next start page filled it in again as "restored", inviting the very duplicate the key prevents."""
    b = browser("aptika.implementasi")
    key = START_KEY.search(text(b.get("/kegiatan/baru"))).group(1)
    sent = {"definition": KEY, "bidang": "aptika", "title": "Layanan SPBE", "idempotency_key": key}
    b.post("/kegiatan/baru", sent)
    b.get("/kegiatan")  # the first answer's page, and its flash, were seen before going back
    again = b.post("/kegiatan/baru", sent)
    page = b.get(again.headers["Location"]).get_data(as_text=True)
    assert re.search(r'<p class="flash success"[^>]*>Kegiatan ini sudah dimulai dari formulir yang sama', page)



def test_a_start_form_with_an_unusable_key_is_sent_as_if_it_had_none(rt, browser):
    """The hidden key edited by hand (too long, or with spaces) gave a 422 naming a field the page does not
    show, and the page put the same key back: the form could never be sent."""
    b = browser("aptika.implementasi")
    b.get("/kegiatan/baru")
    for bad in ("k" * 300, "kunci dengan spasi", " "):
        refused = b.post("/kegiatan/baru", {"definition": KEY, "bidang": "aptika", "idempotency_key": bad})
        html = text(refused)
        assert refused.status_code == 422 and "Idempotency-Key" not in html, bad
        assert START_KEY.search(html).group(1) not in (bad, bad.strip()), bad  # a fresh key, one that works
        sent = {"definition": KEY, "bidang": "aptika", "title": f"Judul {len(bad)}", "idempotency_key": bad}
        assert b.post("/kegiatan/baru", sent).status_code == 302, bad
    with rt.uow() as session:
        assert session.scalar(select(func.count()).select_from(Instance)) == 3

def test_the_task_form_sent_again_after_it_went_through_leads_to_the_activity(rt, browser):
    """A reload or a double click after a slow answer sent the completed form again: an error page
    saying the task was already done, by the user themself."""
    instance_id, task_id, b = claimed_step_one(rt, browser)
    page = text(b.get(f"/tugas/{task_id}"))
    key = START_KEY.search(page).group(1)
    assert key != START_KEY.search(text(b.get(f"/tugas/{task_id}"))).group(1)  # one per page shown
    version = int(re.search(r'name="version" value="(\d+)"', page).group(1))

    def send(plan: str, **changed):
        form = {**step_one_form(version, plan), "idempotency_key": key, **changed}
        return b.post(f"/tugas/{task_id}", form, content_type="multipart/form-data")

    mistaken = send("Rencana", tanggal_selesai="2026-03-01")  # before tanggal_mulai: the form again, same key
    assert mistaken.status_code == 422 and START_KEY.search(text(mistaken)).group(1) == key
    first = send("Rencana")
    assert first.status_code == 302 and first.headers["Location"] == "/"
    done = snapshot(rt, instance_id)
    again = send("Rencana")
    assert again.status_code == 302 and again.headers["Location"] == f"/kegiatan/{instance_id}"
    page = text(b.get(again.headers["Location"]))
    assert re.search(r'<p class="flash success"[^>]*>Langkah 1 sudah Anda selesaikan dengan formulir ini', page)
    assert snapshot(rt, instance_id) == done
    # Sent with another answer (back, and the plan changed), or without a key: done already, as before.
    for refused in (send("Rencana lain"), b.post(f"/tugas/{task_id}", step_one_form(version, "Rencana"),
                                                 content_type="multipart/form-data")):
        assert refused.status_code == 409 and "Tugas sudah selesai oleh aptika.implementasi<" in text(refused)
    assert snapshot(rt, instance_id) == done



def test_a_file_sent_with_the_task_form_is_hashed_once(rt, browser, monkeypatch):
    """Each file's bytes were hashed three times per completion from the page: for the form's retry key,
    again for the key's request hash in the service, and for storage (on SQLite, holding the writer)."""
    _, task_id, b = claimed_step_one(rt, browser)
    page = text(b.get(f"/tugas/{task_id}"))
    version = int(re.search(r'name="version" value="(\d+)"', page).group(1))
    form = {**step_one_form(version, "Rencana"), "idempotency_key": START_KEY.search(page).group(1)}
    hashed, sha256 = [], hashlib.sha256
    monkeypatch.setattr(hashlib, "sha256", lambda data=b"", **kw: hashed.append(data) or sha256(data, **kw))
    assert b.post(f"/tugas/{task_id}", form, content_type="multipart/form-data").status_code == 302
    assert hashed.count(b"%PDF-1.4 rencana") == 1

# -- administration --------------------------------------------------------------------------

def test_admin_pages_are_forbidden_for_non_admins(browser):
    for login in ("aptika.implementasi", "kadis"):
        b = browser(login)
        for url in ("/admin/pengguna", "/admin/bidang"):
            response = b.get(url)
            assert response.status_code == 403, (login, url)
            assert "Anda tidak berwenang membuka halaman ini." in text(response)
        b.get("/")
        assert b.post("/admin/pengguna", {"login": "penyusup", "name": "X", "roles": "admin",
                                          "password": "12345678", "active": "1"}).status_code == 403
        assert 'href="/admin/pengguna"' not in text(b.get("/"))


def test_admin_creates_a_user_who_can_sign_in(app, rt, browser):
    admin = browser("admin")
    admin.get("/admin/pengguna")
    response = admin.post("/admin/pengguna", {
        "login": "budi.aptika", "name": "Budi Santoso", "email": "budi@example.go.id", "bidang": "aptika",
        "roles": ["implementasi", "teknis"], "password": "rahasia-baru-1", "active": "1"})
    assert response.status_code == 302
    html = text(admin.get("/admin/pengguna"))
    assert "Pengguna budi.aptika disimpan." in html
    assert "<td>Budi Santoso</td><td>Bidang Aplikasi Informatika</td><td>Tim Implementasi, Tim Teknis</td>" in html

    newcomer = Browser(app)
    assert newcomer.sign_in("budi.aptika", "rahasia-baru-1").status_code == 302
    assert "Budi Santoso (budi.aptika)" in text(newcomer.get("/"))
    assert bidang_options(text(newcomer.get("/kegiatan/baru"))) == ["aptika"]

    admin.get("/admin/pengguna?login=budi.aptika")
    response = admin.post("/admin/pengguna", {"login": "budi.aptika", "name": "Budi Santoso", "bidang": "aptika",
                                              "roles": ["teknis"], "active": "1"})
    assert response.status_code == 302
    with rt.uow() as session:
        budi = session.scalars(select(User).where(User.login == "budi.aptika")).one()
        assert budi.role_names == {"teknis"} and budi.bidang_code == "aptika"
    assert Browser(app).sign_in("budi.aptika", "rahasia-baru-1").status_code == 302  # password kept


def test_adding_a_user_under_a_login_already_taken_is_refused_not_an_overwrite(app, rt, browser):
    """The empty form adds a user. A login that is someone else's must not quietly become the
    newcomer's: the colleague would lose their password, Bidang, roles and claimed steps, and the
    newcomer would sign in to their account, tokens and alerts included."""
    admin = browser("admin")
    page = text(admin.get("/admin/pengguna"))
    assert re.search(r'name="login" value=""', page)
    sent = {"login": "Aptika.Teknis", "name": "Budi Baru", "bidang": "ikp", "roles": ["implementasi"],
            "password": "rahasia-baru-1", "active": "1"}
    sent.update(re.findall(r'<input type="hidden" name="(new)" value="([^"]*)"', page))  # as the form sends it
    response = admin.post("/admin/pengguna", sent)
    html = text(response)
    assert response.status_code == 422
    assert at_field(html, "login").startswith("nama pengguna aptika.teknis sudah dipakai")
    assert 'value="Budi Baru"' in html and 'name="new" value="1"' in html  # still the form that adds
    with rt.uow() as session:
        teknis = session.scalars(select(User).where(User.login == "aptika.teknis")).one()
        assert teknis.name != "Budi Baru" and teknis.bidang_code == "aptika" and teknis.role_names == {"teknis"}
    assert Browser(app).sign_in("aptika.teknis", "rahasia-baru-1").status_code == 401

    admin.post("/bahasa", {"language": "en"}, headers={"Referer": "/admin/pengguna"})
    html = text(admin.post("/admin/pengguna", sent))
    assert at_field(html, "login").startswith("the user name aptika.teknis is taken")

    # Opened from the list, the same login is the user being changed; its name cannot be edited there.
    page = text(admin.get("/admin/pengguna?login=aptika.teknis"))
    assert 'name="new"' not in page and re.search(r'name="login" value="aptika.teknis" readonly', page)
    response = admin.post("/admin/pengguna?login=aptika.teknis", {**{k: v for k, v in sent.items() if k != "new"},
                                                                  "login": "aptika.teknis", "bidang": "aptika"})
    assert response.status_code == 302
    with rt.uow() as session:
        assert session.scalars(select(User.name).where(User.login == "aptika.teknis")).one() == "Budi Baru"


def test_an_e_mail_address_that_mail_cannot_reach_is_refused(rt, browser):
    admin = browser("admin")
    admin.get("/admin/pengguna")
    for bad in ("bukan-email", "budi@localhost", "budi @dinas.go.id", "a@b@c.id"):
        response = admin.post("/admin/pengguna", {"login": "budi.aptika", "name": "Budi", "bidang": "aptika",
                                                  "email": bad, "password": "rahasia-baru-1", "active": "1"})
        assert response.status_code == 422 and "bukan alamat surel" in text(response), bad
    response = admin.post("/admin/pengguna", {"login": "budi.aptika", "name": "Budi", "bidang": "aptika",
                                              "email": " budi@salatiga.go.id ", "password": "rahasia-baru-1",
                                              "active": "1"})
    assert response.status_code == 302
    with rt.uow() as session:
        assert session.scalars(select(User.email).where(User.login == "budi.aptika")).one() == "budi@salatiga.go.id"


def test_the_user_form_comes_back_as_it_was_sent(browser):
    admin = browser("admin")
    admin.get("/admin/pengguna")
    response = admin.post("/admin/pengguna", {"login": "baru1", "name": "Baru", "bidang": "aptika",
                                              "roles": ["implementasi", "teknis"]})  # no password, not active
    html = text(response)
    assert response.status_code == 422
    assert 'value="implementasi" checked' in html and 'value="teknis" checked' in html
    assert 'value="kadis" checked' not in html
    assert not re.search(r'name="active" value="1" checked', html)


def test_the_bidang_form_comes_back_as_it_was_sent(browser):
    admin = browser("admin")
    admin.get("/admin/bidang")
    response = admin.post("/admin/bidang", {"code": "Bidang Baru!", "name": "Bidang Kebudayaan & \"Pariwisata\""})
    html = text(response)
    assert response.status_code == 422 and "Kode: kode hanya huruf kecil" not in html  # said at its field
    assert re.search(r'name="code" value="Bidang Baru!"[^>]*></label>\s*<p class="field-error">kode hanya huruf kecil',
                     html)
    assert 'name="name" value="Bidang Kebudayaan &amp; &#34;Pariwisata&#34;"' in html


def test_adding_a_bidang_under_a_code_already_taken_is_refused_not_a_rename(rt, browser):
    """The empty form adds a Bidang. An existing code typed there renamed that Bidang without a
    word, on every page, report and alert; renaming is done by opening the Bidang from the list."""
    admin = browser("admin")
    page = text(admin.get("/admin/bidang"))
    sent = {"code": "Aptika", "name": "Bidang Pariwisata"}
    sent.update(re.findall(r'<input type="hidden" name="(new)" value="([^"]*)"', page))  # as the form sends it
    response = admin.post("/admin/bidang", sent)
    html = text(response)
    assert response.status_code == 422
    assert at_field(html, "code").startswith("kode aptika sudah dipakai")
    assert 'value="Bidang Pariwisata"' in html and 'name="new" value="1"' in html
    with rt.uow() as session:
        assert session.get(Bidang, "aptika").name != "Bidang Pariwisata"

    # Opened from the list, the same code is the Bidang being renamed; the code itself cannot be edited.
    assert 'href="/admin/bidang?code=aptika"' in page
    page = text(admin.get("/admin/bidang?code=aptika"))
    assert 'name="new"' not in page and re.search(r'name="code" value="aptika" readonly', page)
    response = admin.post("/admin/bidang?code=aptika", {"code": "aptika", "name": "Bidang Aplikasi Baru"})
    assert response.status_code == 302
    with rt.uow() as session:
        assert session.get(Bidang, "aptika").name == "Bidang Aplikasi Baru"


def test_the_user_form_shows_every_problem_at_once_at_its_field(browser, monkeypatch):
    """The errors were listed above the form ("Nama: wajib diisi"), tied to no control: alur.js could not
    mark the fields invalid nor take the focus to the first. Each is now said under its field, as on the
    other forms; only an error that belongs to no field of the form is said above it."""
    admin = browser("admin")
    admin.get("/admin/pengguna")
    bad = {"login": "Budi Baru", "name": "", "bidang": "tidak-ada", "email": "bukan-email", "active": "1"}
    html = text(admin.post("/admin/pengguna", bad))
    fields = ("login", "name", "email", "bidang", "roles", "password", "active")
    assert {name: at_field(html, name) for name in fields} == {
            "login": "nama pengguna hanya huruf kecil, angka, titik, garis bawah atau tanda hubung",
            "name": "wajib diisi", "email": "bukan alamat surel (nama@domain)", "bidang": "bidang tidak dikenal",
            "roles": "", "password": "wajib diisi untuk pengguna baru", "active": ""}
    assert "Nama pengguna:" not in html and "data-error" not in html  # no list above the form

    admin.post("/bahasa", {"language": "en"}, headers={"Referer": "/admin/pengguna"})
    html = text(admin.post("/admin/pengguna", bad))
    assert at_field(html, "login").startswith("the user name may hold only lower-case letters")
    assert (at_field(html, "name"), at_field(html, "bidang"), at_field(html, "password")) == \
        ("required", "unknown division", "required for a new user")
    assert "wajib diisi" not in html and "tidak dikenal" not in html

    # An error that belongs to no field of the form is said above it, with the field's name.
    def refused(*_args, **_kwargs):
        raise InvalidData(Text("data pengguna tidak valid"),
                          {"language": Text("pilih id atau en"), "name": Text("wajib diisi")})
    monkeypatch.setattr(accounts, "save_user", refused)
    html = text(admin.post("/admin/pengguna", {**bad, "name": "Budi"}))
    assert '<p class="flash error" role="alert" data-error="language">Language: choose id or en</p>' in html
    assert at_field(html, "name") == "required" and html.count("data-error") == 1


def test_text_longer_than_its_column_is_refused_at_its_field_not_a_500(rt, browser):
    """PostgreSQL refuses text longer than the column: the forms say so (SQLite would have kept it)."""
    admin = browser("admin")
    admin.get("/admin/pengguna")
    for field, value in (("name", "B" * 201), ("email", "b" * 190 + "@salatiga.go.id")):
        sent = {"login": "budi.aptika", "name": "Budi", "bidang": "aptika", "roles": ["implementasi"],
                "password": "rahasia-baru-1", "active": "1", field: value}
        response = admin.post("/admin/pengguna", sent)
        assert response.status_code == 422 and "paling panjang 200 karakter" in text(response), field
    admin.get("/admin/bidang")
    for sent in ({"code": "b" * 41, "name": "Bidang Baru"}, {"code": "baru", "name": "B" * 201}):
        response = admin.post("/admin/bidang", sent)
        assert response.status_code == 422 and "paling panjang" in text(response), sent
    with rt.uow() as session:
        assert session.scalars(select(User).where(User.login == "budi.aptika")).first() is None
    assert sorted(b["code"] for b in accounts.list_bidang(rt)) == ["aptika", "ikp", "sekretariat", "statistik-persandian"]


def test_engine_refusals_on_other_pages_speak_english_too(rt, browser):
    b = browser("aptika.implementasi")
    b.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    response = b.get("/kegiatan/999999")
    assert response.status_code == 404 and "Activity 999999 not found" in text(response)
    head = browser("kepala.aptika")
    head.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    response = head.get("/monitoring?bidang=sekretariat")
    assert response.status_code == 403 and "You may see the monitoring of your own division only" in text(response)


def test_starting_for_another_bidang_is_refused_naming_the_bidang_not_its_code(rt, browser):
    staff = browser("aptika.implementasi")
    staff.get("/kegiatan/baru")
    sent = {"definition": KEY, "bidang": "statistik-persandian", "title": "Bukan bidang saya"}
    response = staff.post("/kegiatan/baru", sent)
    assert response.status_code == 403
    html = text(response)
    assert "tidak boleh memulai kegiatan untuk Bidang Statistik dan Persandian" in html
    assert "statistik-persandian" not in html
    staff.post("/bahasa", {"language": "en"}, headers={"Referer": "/kegiatan/baru"})
    html = text(staff.post("/kegiatan/baru", sent))
    assert "may not start activities for Bidang Statistik dan Persandian" in html
    assert "statistik-persandian" not in html


def on_pengawasan(rt, browser, head_login: str):
    """Step 1 claimed by its performer, and a supervisor's browser on the Pengawasan page."""
    instance_id, task_id, _ = claimed_step_one(rt, browser)
    head = browser(head_login)
    head.get("/pengawasan")
    return instance_id, task_id, head


def test_a_kepala_of_another_bidang_is_told_whose_task_it_is_to_reassign(rt, browser):
    """A Kepala Bidang refused for another Bidang's task must not read "only a Kepala Bidang may"."""
    instance_id, task_id, head = on_pengawasan(rt, browser, "kepala.ikp")
    response = head.post(f"/pengawasan/tugas/{task_id}/alihkan", {"assignee": "aptika.implementasi"})
    assert response.status_code == 403
    assert "Hanya Kepala Bidang (Bidang Aplikasi Informatika) atau Kepala Dinas yang boleh mengalihkan tugas ini" in text(response)
    head.post("/bahasa", {"language": "en"}, headers={"Referer": "/pengawasan"})
    response = head.post(f"/pengawasan/tugas/{task_id}/alihkan", {"assignee": "aptika.implementasi"})
    assert "Only Head of Division (Bidang Aplikasi Informatika) or Head of Agency may reassign this task" in text(response)
    assert task_of(rt, instance_id)["assignee"] == "aptika.implementasi"


def test_reassigning_a_task_to_its_holder_says_nothing_changed(rt, browser):
    """The list preselects the holder: pressing its button moves nothing, and must not say it did."""
    instance_id, task_id, head = on_pengawasan(rt, browser, "kepala.aptika")
    response = head.post(f"/pengawasan/tugas/{task_id}/alihkan", {"assignee": "aptika.implementasi"})
    assert response.status_code == 302
    html = text(head.get("/pengawasan"))
    assert "Tugas sudah dipegang aptika.implementasi; tidak ada yang berubah." in html
    assert "Tugas dialihkan." not in html
    _save_colleague(rt)
    head.post(f"/pengawasan/tugas/{task_id}/alihkan", {"assignee": "aptika.implementasi2"})
    assert "Tugas dialihkan." in text(head.get("/pengawasan"))
    assert task_of(rt, instance_id)["assignee"] == "aptika.implementasi2"


def test_reassigning_from_a_stale_pengawasan_page_is_refused(rt, clock, browser):
    """The form sends the version of the task it showed: a claim made since is not overridden."""
    instance_id, task_id, head = on_pengawasan(rt, browser, "kepala.aptika")
    clock.set(datetime.fromisoformat(task_of(rt, instance_id)["due_at"]) + timedelta(minutes=1))
    Scheduler(rt, deliver=False).run_pass()
    form = section(text(head.get("/pengawasan")), "overdue-steps").split(f"/pengawasan/tugas/{task_id}/alihkan")[1]
    version = re.search(r'name="version" value="(\d+)"', form.split("</form>")[0]).group(1)
    _save_colleague(rt)
    services.unclaim(rt, task_id, "aptika.implementasi")  # meanwhile, in another office
    services.claim(rt, task_id, "aptika.implementasi2")
    response = head.post(f"/pengawasan/tugas/{task_id}/alihkan", {"assignee": "aptika.implementasi", "version": version})
    assert response.status_code == 409
    assert "Tugas sudah berubah sejak Anda membukanya" in text(response)
    assert task_of(rt, instance_id)["assignee"] == "aptika.implementasi2"
    # The error leads back to Pengawasan, where the supervisor was, not to a worklist they have no tasks on.
    assert '<a href="/pengawasan">Kembali ke Pengawasan</a>' in text(response)
    assert "Kembali ke daftar tugas" not in text(response)
    head.post("/bahasa", {"language": "en"}, headers={"Referer": "/pengawasan"})
    response = head.post(f"/pengawasan/tugas/{task_id}/alihkan", {"assignee": "aptika.implementasi", "version": version})
    assert response.status_code == 409 and '<a href="/pengawasan">Back to Supervision</a>' in text(response)


def test_an_error_leads_back_to_the_page_it_came_from_when_the_user_may_open_it(rt, browser):
    """Monitoring, the report and the editor lead back to themselves, as Pengawasan does; a page the
    user may not open leads to the worklist, not back to the refusal."""
    head = browser("kepala.aptika")
    refused = head.get("/monitoring/rekap.csv?bidang=ikp")            # another Bidang's figures
    assert refused.status_code == 403 and '<a href="/monitoring">Kembali ke Monitoring</a>' in text(refused)
    missing = head.get("/monitoring/laporan?sop=nope")
    assert missing.status_code == 404 and '<a href="/monitoring">Kembali ke Monitoring</a>' in text(missing)
    owner = browser("pemilik.proses")
    missing = owner.get("/editor/nope/versi")
    assert missing.status_code == 404 and '<a href="/editor/">Kembali ke Editor SOP</a>' in text(missing)
    staff = browser("aptika.teknis")
    for page in ("/pengawasan", "/monitoring", "/editor/"):
        refused = staff.get(page)
        assert refused.status_code == 403 and '<a href="/">Kembali ke daftar tugas</a>' in text(refused), page


def test_an_alert_whose_step_was_done_before_it_was_sent_says_so_on_pengawasan(rt, browser, clock):
    """With the mail off (or not yet sent), completing the step cancels the alert: it stayed among the
    open alerts with "sent: —", as if the step still waited for someone."""
    instance_id = start(rt)
    clock.set(datetime.fromisoformat(task_of(rt, instance_id)["due_at"]) + timedelta(minutes=1))
    Scheduler(rt, deliver=False).run_pass()
    head = browser("kepala.aptika")
    row = text(head.get("/pengawasan")).split('class="alert-row"')[1].split("</tr>")[0]
    assert "dibatalkan" not in row
    do_step(rt, instance_id, 1)
    row = text(head.get("/pengawasan")).split('class="alert-row"')[1].split("</tr>")[0]
    assert "tidak dikirim: langkah sudah selesai" in row and "Tandai dibaca" in row


def test_pengawasans_buttons_and_choices_name_their_step_and_activity(rt, browser, clock):
    """Each alert's 'Tandai dibaca', and each overdue step's 'Alihkan ke' choice and 'Alihkan' button, were
    called alike on every row: a screen reader listing the page's controls heard the same names over and
    over, with nothing saying which step of which activity each one acts on (the worklist's do)."""
    for title in ("Layanan email dinas", "Rapat koordinasi"):
        instance_id = start(rt, title=title)
    clock.set(datetime.fromisoformat(task_of(rt, instance_id)["due_at"]) + timedelta(minutes=1))
    Scheduler(rt, deliver=False).run_pass()
    head = browser("kepala.aptika")
    html = text(head.get("/pengawasan"))
    for title in ("Layanan email dinas", "Rapat koordinasi"):
        assert f'aria-label="Tandai dibaca: langkah 1 · {title}">Tandai dibaca</button>' in html
        assert f'aria-label="Alihkan langkah 1 · {title} ke"' in html
        assert f'aria-label="Alihkan langkah 1 · {title}">Alihkan</button>' in html
    head.post("/bahasa", {"language": "en"}, headers={"Referer": "/pengawasan"})
    html = text(head.get("/pengawasan"))
    assert 'aria-label="Mark as read: step 1 · Rapat koordinasi">Mark as read</button>' in html
    assert 'aria-label="Reassign step 1 · Rapat koordinasi to"' in html


def _save_colleague(rt):
    accounts.save_user(rt, "admin", "aptika.implementasi2", "Rekan", "aptika", ["implementasi"],
                       password="rahasia-123")


def test_reassigning_to_nobody_asks_whom_to(rt, browser):
    instance_id, task_id, head = on_pengawasan(rt, browser, "kepala.aptika")
    response = head.post(f"/pengawasan/tugas/{task_id}/alihkan", {"assignee": ""})
    assert response.status_code == 422
    html = text(response)
    assert "Pilih kepada siapa tugas ini dialihkan" in html and "Pemegang tugas" in html
    assert "tidak dikenal" not in html
    assert task_of(rt, instance_id)["assignee"] == "aptika.implementasi"


def test_pengawasan_offers_a_kepala_bidang_no_reassigning_of_a_late_sekretaris_step(rt, clock, browser):
    instance_id = start(rt)
    for step in range(1, 9):
        do_step(rt, instance_id, step, {"terverifikasi": True, "catatan": ""} if step == 5 else None)
    clock.set(datetime.fromisoformat(task_of(rt, instance_id)["due_at"]) + timedelta(minutes=1))
    assert Scheduler(rt, deliver=False).run_pass().fired == 1
    rows = section(text(browser("kepala.aptika").get("/pengawasan")), "overdue-steps")
    assert "hanya Kepala Dinas yang dapat mengalihkannya" in rows and 'name="assignee"' not in rows
    rows = section(text(browser("kadis").get("/pengawasan")), "overdue-steps")
    assert 'name="assignee"' in rows and "yang dapat mengalihkannya" not in rows



def test_pengawasan_lists_a_step_past_due_before_the_scheduler_marks_it(rt, clock, browser):
    """"Langkah terlambat saat ini" listed only steps the scheduler had escalated: with it behind, a step past
    its due time was missing there, while monitoring and the worklist counted it late."""
    instance_id = start(rt, title="Lewat batas")
    clock.set(datetime.fromisoformat(task_of(rt, instance_id)["due_at"]) + timedelta(minutes=1))  # no scheduler
    rows = section(text(browser("kepala.aptika").get("/pengawasan")), "overdue-steps")
    assert "Lewat batas" in rows and 'name="assignee"' in rows
    assert [t["instance_id"] for t in queries.overdue_steps(rt, "kadis")["rows"]] == [instance_id]

def test_pengawasan_lists_the_bidang_in_one_order_by_name_in_both_tables(rt, clock, browser):
    """The count table listed the Bidang by code and the table below by due time: the two read in
    different orders. Both go by the Bidang's name, as the page shows it."""
    for bidang in ("sekretariat", "statistik-persandian", "ikp", "aptika"):  # due in this order
        start(rt, bidang, f"Kegiatan {bidang}")
        clock.advance(hours=1)
    clock.advance(days=60)
    Scheduler(rt, deliver=False).run_pass()
    html = text(browser("kadis").get("/pengawasan"))
    counts = re.findall(r"<tr><td>([^<]+)</td>", html[html.index('class="counts"'):html.index('id="overdue-steps"')])
    listed = re.findall(r"</a></td>\s*<td>([^<]+)</td>", section(html, "overdue-steps"))
    names = ["Bidang Aplikasi Informatika", "Bidang Informasi dan Komunikasi Publik",
             "Bidang Statistik dan Persandian", "Sekretariat"]
    assert counts == names and listed == names


# An office whose Sekretaris is told of every late step of the Bidang's lanes, beside the Kepala Bidang.
SEKRETARIS_OVERSEES = """
levels:
  1:
    bidang:
      - {role: kepala, within: bidang}
      - {role: sekretaris, within: office}
"""


@contextmanager
def office_with_rules(settings, clock, tmp_path, rules: str):
    """(runtime, app) of a demo office whose escalation.yaml is `rules`."""
    path = tmp_path / "escalation.yaml"
    path.write_text(rules, encoding="utf-8")
    rt = Runtime(dataclasses.replace(settings, escalation_file=path), clock=clock)
    try:
        bootstrap.init(rt, demo=True)
        yield rt, create_app(runtime=rt, testing=True)
    finally:
        rt.dispose()


def test_pengawasan_counts_two_versions_steps_of_one_number_apart(rt, clock, browser):
    """Version 2 inserts a step 5 before the verification: a late verification of version 1 (its step 5)
    and a late inserted step are two different steps, not two of one."""
    old = start(rt)
    for step in (1, 2, 3, 4):
        do_step(rt, old, step)
    deploy_v2(rt, *step_inserted_before_verification())
    new = start(rt, title="Pemeliharaan jaringan")
    for step in (1, 2, 3, 4):
        do_step(rt, new, step)
    assert task_of(rt, old)["step"] == task_of(rt, new)["step"] == 5
    clock.advance(days=3)
    Scheduler(rt, deliver=False).run_pass()

    page = text(browser("kepala.aptika").get("/pengawasan"))
    counts = re.sub(r"\s+", " ", section(page, "overdue", "overdue-steps"))
    assert "<td>5. Apakah hasil kegiatan dan layanan bidang terverifikasi?</td><td>1</td>" in counts, counts
    assert "<td>5. Memeriksa kelengkapan dokumen hasil kegiatan</td><td>1</td>" in counts


def test_pengawasan_admits_the_roles_escalation_yaml_names(settings, clock, tmp_path):
    """The alerts go to whom escalation.yaml names: the page, its forms and its link are theirs too."""
    with office_with_rules(settings, clock, tmp_path, SEKRETARIS_OVERSEES) as (rt, app):
        instance_id = start(rt, title="Terlambat di Aptika")
        task_id = task_of(rt, instance_id)["id"]
        clock.set(datetime.fromisoformat(task_of(rt, instance_id)["due_at"]) + timedelta(minutes=1))
        assert Scheduler(rt, deliver=False).run_pass().fired == 1
        [alert] = alerts.alerts(rt, "sekretaris", unacknowledged=True)

        sekretaris = Browser(app)
        sekretaris.sign_in("sekretaris")
        assert 'href="/pengawasan"' in text(sekretaris.get("/"))
        response = sekretaris.get("/pengawasan")
        assert response.status_code == 200
        html = text(response)
        assert f'data-alert="{alert["id"]}"' in section(html, "alerts", "overdue")
        rows = section(html, "overdue-steps")
        assert "Terlambat di Aptika" in rows and 'name="assignee"' in rows  # of an office-wide rule: any Bidang
        response = sekretaris.post(f"/pengawasan/peringatan/{alert['id']}/baca")
        assert response.status_code == 302
        assert alerts.alerts(rt, "sekretaris", unacknowledged=True) == []
        sekretaris.get("/pengawasan")
        assert sekretaris.post(f"/pengawasan/tugas/{task_id}/alihkan",
                               {"assignee": "aptika.implementasi"}).status_code == 302
        assert task_of(rt, instance_id)["assignee"] == "aptika.implementasi"

        for login in ("kepala.aptika", "kadis"):  # still named (level 1, and level 2's defaults)
            shown = Browser(app)
            shown.sign_in(login)
            assert "Terlambat di Aptika" in section(text(shown.get("/pengawasan")), "overdue-steps"), login
        other = Browser(app)
        other.sign_in("kepala.ikp")  # a Bidang rule: their own Bidang only
        assert "Terlambat di Aptika" not in section(text(other.get("/pengawasan")), "overdue-steps")
        for login in ("aptika.teknis", "pemilik.proses", "admin"):  # named nowhere
            nobody = Browser(app)
            nobody.sign_in(login)
            assert 'href="/pengawasan"' not in text(nobody.get("/")), login
            assert nobody.get("/pengawasan").status_code == 403, login
            assert nobody.post(f"/pengawasan/peringatan/{alert['id']}/baca").status_code == 403, login


# An office whose every Kepala Bidang is told at level 2 of any Bidang's late steps.
KEPALA_OVERSEES_THE_OFFICE = """
levels:
  2:
    bidang:
      - {role: kadis, within: office}
      - {role: kepala, within: office}
"""


def test_a_supervisor_of_every_bidang_may_open_the_activities_of_the_steps_it_oversees(settings, clock, tmp_path):
    """A rule `within: office` alerts a Kepala Bidang of another Bidang's late step and lets them
    reassign it; the activity behind the alert and the Pengawasan row was 403 to them."""
    with office_with_rules(settings, clock, tmp_path, KEPALA_OVERSEES_THE_OFFICE) as (rt, app):
        instance_id, document_id = complete_step_one_with_upload(rt, lambda login: _signed_in(app, login))
        task_id = task_of(rt, instance_id)["id"]
        due = datetime.fromisoformat(task_of(rt, instance_id)["due_at"])
        clock.set(due + timedelta(minutes=1))
        Scheduler(rt, deliver=False).run_pass()
        clock.set(due + timedelta(days=60))
        Scheduler(rt, deliver=False).run_pass()  # level 2: every Kepala Bidang
        [alert] = alerts.alerts(rt, "kepala.ikp", unacknowledged=True)
        assert alert["instance_id"] == instance_id

        kepala = _signed_in(app, "kepala.ikp")
        rows = section(text(kepala.get("/pengawasan")), "overdue-steps")
        assert f'href="/kegiatan/{instance_id}"' in rows and 'name="assignee"' in rows
        assert kepala.get(f"/kegiatan/{instance_id}").status_code == 200
        assert kepala.get(f"/kegiatan/{instance_id}/diagram.bpmn").status_code == 200
        assert kepala.get(f"/dokumen/{document_id}").status_code == 200
        assert kepala.get(f"/tugas/{task_id}").status_code == 200
        # ...and finds them where activities are listed and searched, as they may open them.
        assert f'href="/kegiatan/{instance_id}"' in text(kepala.get("/kegiatan"))
        search = text(kepala.get("/kegiatan/cari?bidang=aptika"))
        assert f'data-id="{instance_id}"' in search and '<option value="aptika" selected>' in search
        # ...and reads the monitoring figures of every Bidang, or of the office.
        page = text(kepala.get("/monitoring?bidang=aptika"))
        assert '<option value="aptika" selected>' in page and '<option value="">Semua Bidang</option>' in page
        assert kepala.get("/monitoring").status_code == 200
        assert kepala.get("/monitoring/laporan?bidang=aptika").status_code == 200
        assert "rekap-monev" in kepala.get("/monitoring/rekap.csv?bidang=aptika").headers["Content-Disposition"]
        staff = _signed_in(app, "ikp.implementasi")  # named by no rule: their own Bidang only, as before
        assert staff.get(f"/kegiatan/{instance_id}").status_code == 403
        assert f'href="/kegiatan/{instance_id}"' not in text(staff.get("/kegiatan"))
        assert staff.get("/kegiatan/cari?bidang=aptika").status_code == 403


def _signed_in(app, login: str) -> Browser:
    b = Browser(app)
    assert b.sign_in(login).status_code == 302
    return b


def test_pengawasan_refuses_a_sekretaris_the_shipped_rules_do_not_name(rt, browser):
    sekretaris = browser("sekretaris")
    assert 'href="/pengawasan"' not in text(sekretaris.get("/"))
    assert sekretaris.get("/pengawasan").status_code == 403
    assert 'href="/pengawasan"' in text(browser("kepala.aptika").get("/"))


def test_pages_name_the_bidang_not_its_code(rt, browser):
    """Staff know their divisions by name: "statistik-persandian" is a code for the database."""
    instance_id = start(rt)
    accounts.save_bidang(rt, "admin", "aptika", "Bidang Aplikasi dan Informatika")  # renamed: read fresh
    staff = browser("aptika.implementasi")
    row = re.search(r'<tr class="task-row".*?</tr>', text(staff.get("/")), re.S).group(0)
    assert "<td>Bidang Aplikasi dan Informatika</td>" in row
    for url in (f"/kegiatan/{instance_id}", "/kegiatan", f"/tugas/{task_of(rt, instance_id)['id']}"):
        assert "Bidang Aplikasi dan Informatika" in text(staff.get(url)), url
    found = re.search(r'<tr class="result".*?</tr>', text(staff.get("/kegiatan/cari")), re.S).group(0)
    assert "<td>Bidang Aplikasi dan Informatika</td>" in found  # the archive search, not only its filter
    users = text(browser("admin").get("/admin/pengguna"))
    row = re.search(r'<tr><td><a href="/admin/pengguna\?login=aptika.teknis">.*?</tr>', users, re.S).group(0)
    assert "<td>Bidang Aplikasi dan Informatika</td>" in row  # the administrator's list of users too


def test_pengawasan_reads_the_users_once_however_many_steps_are_late(rt, clock, browser):
    """The reassign lists of every late step come from one read of the users (a Kepala Dinas may see
    hundreds of late steps, and an office has thousands of users)."""
    for n in range(4):
        start(rt, title=f"Terlambat {n}")
    due = min(datetime.fromisoformat(t["due_at"]) for t in worklist.tasks(rt))
    clock.set(due + timedelta(minutes=1))
    assert Scheduler(rt, deliver=False).run_pass().fired == 4
    kadis = browser("kadis")
    statements = []
    listener = lambda conn, cursor, sql, *args: statements.append(sql)  # noqa: E731
    event.listen(rt.engine, "before_cursor_execute", listener)
    try:
        rows = section(text(kadis.get("/pengawasan")), "overdue-steps")
    finally:
        event.remove(rt.engine, "before_cursor_execute", listener)
    assert rows.count('name="assignee"') == 4 and rows.count("(aptika.implementasi)") == 4
    assert len([s for s in statements if "FROM user_account" in s and "ORDER BY user_account.login" in s]) == 1


def test_the_worklist_reads_the_bidang_once(rt, browser):
    """Its filter already lists the Bidang: their names in the rows come from that read."""
    start(rt)
    staff = browser("aptika.implementasi")
    statements = []
    listener = lambda conn, cursor, sql, *args: statements.append(sql)  # noqa: E731
    event.listen(rt.engine, "before_cursor_execute", listener)
    try:
        assert "Bidang Aplikasi Informatika</td>" in text(staff.get("/"))
    finally:
        event.remove(rt.engine, "before_cursor_execute", listener)
    assert len([s for s in statements if "FROM bidang" in s]) == 1


def test_admin_cannot_remove_their_own_admin_role(rt, browser):
    admin = browser("admin")
    admin.get("/admin/pengguna?login=admin")
    response = admin.post("/admin/pengguna", {"login": "admin", "name": "Administrator Alur",
                                              "bidang": "sekretariat", "roles": ["kadis"], "active": "1"})
    assert response.status_code == 409
    html = text(response)
    assert at_field(html, "roles") == "administrator tidak boleh mencabut peran administratornya sendiri"
    assert 'id="user-form"' in html and 'value="kadis" checked' in html  # the form again, as sent
    with rt.uow() as session:
        assert session.scalars(select(User).where(User.login == "admin")).one().role_names == {"admin"}
    assert admin.get("/admin/pengguna").status_code == 200


def test_admin_cannot_deactivate_their_own_account(rt, browser):
    """Unticking "Aktif" on one's own account would sign the administrator out for good, like
    removing their own admin role: refused at the box, the form kept as sent."""
    admin = browser("admin")
    admin.get("/admin/pengguna?login=admin")
    response = admin.post("/admin/pengguna", {"login": "admin", "name": "Administrator Alur",
                                              "roles": ["admin"]})  # "active" not ticked
    assert response.status_code == 409
    html = text(response)
    assert at_field(html, "active") == "administrator tidak boleh menonaktifkan akunnya sendiri"
    assert re.search(r'name="active" value="1"\s*>', html)  # unticked, as sent
    with rt.uow() as session:
        assert session.scalars(select(User).where(User.login == "admin")).one().active
    assert admin.get("/admin/pengguna").status_code == 200  # still signed in

    admin.post("/bahasa", {"language": "en"}, headers={"Referer": "/admin/pengguna"})
    html = text(admin.post("/admin/pengguna", {"login": "admin", "name": "Administrator Alur", "roles": ["admin"]}))
    assert at_field(html, "active") == "an administrator may not deactivate their own account"


def test_deactivating_a_user_tells_the_admin_their_claimed_tasks_went_back(rt, browser):
    instance_id = services.start(rt, "monev_kegiatan_bidang", "aptika", "Kegiatan", "aptika.implementasi")
    [task] = worklist.tasks(rt, instance_id=instance_id)
    services.claim(rt, task["id"], "aptika.implementasi")
    admin = browser("admin")
    admin.get("/admin/pengguna?login=aptika.implementasi")
    response = admin.post("/admin/pengguna", {"login": "aptika.implementasi", "name": "Staf Implementasi",
                                              "bidang": "aptika", "roles": ["implementasi"]})  # "Aktif" unticked
    assert response.status_code == 302
    assert "1 tugas yang diklaimnya dikembalikan ke daftar kerja lajurnya." in text(admin.get("/admin/pengguna"))
    assert worklist.tasks(rt, instance_id=instance_id)[0]["assignee"] is None


@pytest.mark.parametrize("role", ["implementasi", "teknis", "administrasi", "kepala"])
def test_admin_form_asks_for_the_bidang_of_a_role_that_works_within_one(rt, browser, role):
    """A lane member or Kepala Bidang without a Bidang sees no task, can start nothing, and is never
    alerted: the form says so instead of saving a user who silently cannot work."""
    admin = browser("admin")
    admin.get("/admin/pengguna")
    response = admin.post("/admin/pengguna", {"login": "budi.baru", "name": "Budi", "bidang": "", "roles": [role],
                                              "password": "rahasia-baru-1", "active": "1"})
    assert response.status_code == 422
    assert at_field(text(response), "bidang") == "wajib diisi untuk peran ini"
    with rt.uow() as session:
        assert session.scalar(select(func.count()).select_from(User).where(User.login == "budi.baru")) == 0

    admin.post("/bahasa", {"language": "en"}, headers={"Referer": "/admin/pengguna"})
    html = text(admin.post("/admin/pengguna", {"login": "budi.baru", "name": "Budi", "roles": [role],
                                               "password": "rahasia-baru-1", "active": "1"}))
    assert at_field(html, "bidang") == "required for this role"


def test_admin_form_takes_office_roles_without_a_bidang(rt, browser):
    admin = browser("admin")
    admin.get("/admin/pengguna")
    response = admin.post("/admin/pengguna", {"login": "pemilik.dua", "name": "Pemilik", "bidang": "",
                                              "roles": ["pemilik_proses", "sekretaris", "kadis"],
                                              "password": "rahasia-baru-1", "active": "1"})
    assert response.status_code == 302


def test_admin_form_refuses_an_invalid_login_name(rt, browser):
    admin = browser("admin")
    admin.get("/admin/pengguna")
    response = admin.post("/admin/pengguna", {"login": "Budi Aptika!", "name": "Budi", "bidang": "aptika",
                                              "roles": ["teknis"], "password": "rahasia-baru-1", "active": "1"})
    assert response.status_code == 422
    assert "nama pengguna hanya huruf kecil" in text(response)
    assert 'value="Budi Aptika!"' in text(response)  # the form keeps what was typed
    with rt.uow() as session:
        assert session.scalar(select(func.count()).select_from(User).where(User.name == "Budi")) == 0


# -- language and API tokens ---------------------------------------------------------------

def test_language_switch_to_english_and_back(app, rt, browser):
    start(rt)
    b = browser("aptika.implementasi")
    b.get("/")
    response = b.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    assert response.status_code == 302
    html = text(b.get("/"))
    assert '<html lang="en">' in html
    for english in ("My tasks (0)", "Team tasks (1)", "Sign out", "Task list", "Claim & open"):
        assert english in html, english
    assert "Tugas Saya" not in html and "Keluar" not in html
    assert re.search(r"<td>\d+ working days left", html), "time left in English"
    forbidden = b.get("/admin/pengguna")
    assert "Not allowed (403)" in text(forbidden) and "You are not allowed to open this page." in text(forbidden)

    assert "My tasks" in text(browser("aptika.implementasi").get("/"))  # kept for the next sign-in

    b.post("/bahasa", {"language": "id"})
    html = text(b.get("/"))
    assert '<html lang="id">' in html and "Tugas Saya (0)" in html and "My tasks" not in html
    assert re.search(r"<td>sisa \d+ hari kerja", html)
    assert b.post("/bahasa", {"language": "fr"}).status_code == 422


def test_api_token_is_shown_once_and_can_be_revoked(rt, browser):
    b = browser("aptika.implementasi")
    b.get("/token")
    html = text(b.post("/token", {"name": "Skrip laporan"}))
    [token] = re.findall(r'<code id="new-token">([^<]+)</code>', html)
    assert token.startswith("alur_") and "Skrip laporan" in html
    assert accounts.user_for_token(rt, token).login == "aptika.implementasi"

    html = text(b.get("/token"))
    assert token not in html and "Skrip laporan" in html
    [token_id] = re.findall(r'name="revoke" value="(\d+)"', html)
    response = b.post("/token", {"revoke": token_id})
    assert response.status_code == 200
    html = text(response)
    assert "Token dicabut." in html and "<td>dicabut</td>" in html
    assert 'name="revoke"' not in html  # nothing left to revoke
    assert accounts.user_for_token(rt, token) is None
    assert b.post("/token", {"revoke": token_id}).status_code == 200  # revoking twice is harmless
    for forged in ("abc", "99999999999999999999999", "-1"):
        assert b.post("/token", {"revoke": forged}).status_code == 404, forged  # was a 500

    assert b.post("/token", {"name": "  "}).status_code == 422

    other = browser("aptika.teknis")
    other.get("/token")
    assert other.post("/token", {"revoke": token_id}).status_code == 404  # not someone else's token


def test_numbers_in_queries_and_forms_written_with_other_digits_or_too_long_are_not_500s(rt, browser):
    """str.isdigit() takes "²" (int() does not) and any number of digits (the database does not)."""
    start(rt)
    kadis = browser("kadis")
    for query in ("halaman=%C2%B2", "halaman=99999999999999999999"):  # the first page
        assert kadis.get(f"/kegiatan/cari?{query}").status_code == 200, query
    for query in ("langkah=%C2%B2", "langkah=99999999999999999999"):  # said at the step's field
        assert kadis.get(f"/kegiatan/cari?{query}").status_code == 422, query
    kadis.get("/monitoring/laporan")
    assert kadis.post("/monitoring/laporan", {"kesimpulan": "Baik", "revision": "²"}).status_code == 422
    kadis.get("/monitoring/formulir-sop")
    assert kadis.post("/monitoring/formulir-sop", {"catatan-²": "x", "revision": "²"}).status_code == 422
    owner = browser("pemilik.proses")
    owner.get(f"/sop/{KEY}/kop")
    assert owner.post(f"/sop/{KEY}/kop", {"base_version": "²"}).status_code in (200, 302, 409, 422)


def test_numbers_past_the_database_range_in_the_worklist_filter_and_migration_form_are_not_500s(rt, browser):
    """Each was sent to the database as it was: an OverflowError on SQLite, out of range on PostgreSQL."""
    start(rt)
    staff = browser("aptika.implementasi")
    assert staff.get("/?step=99999999999999999999").status_code == 422
    owner = browser("pemilik.proses")
    owner.get(f"/editor/{KEY}")
    for form in ({"instance": "99999999999999999999"}, {"instance": "1", "target": "99999999999999999999"},
                 {"target": "99999999999999999999"}):
        assert owner.post(f"/editor/{KEY}/migrasi", form).status_code == 404, form


def test_with_a_second_sop_deployed_the_monitoring_pages_let_the_reader_choose_which(rt, browser):
    """The figures cover one SOP, by default the first key in alphabetical order. Importing an SOP whose key
    sorts first made the dashboard, the report and the form show its (empty) figures, with no way back to the
    office's SOP but typing ?sop= into the address: the filters now offer every deployed SOP."""
    import yaml

    from process.loader import load
    from process.sop_import import import_sop
    from tests.integration.sop import SEED_ANSWERS, SEED_TEXT

    def filters(page: str, form: str) -> str:
        start_at = page.index(f'id="{form}"')
        return page[start_at:page.index("</form>", start_at)]

    start(rt)
    imported = import_sop(SEED_TEXT.name, SEED_TEXT.read_bytes(), key="layanan_aduan",
                          answers=yaml.safe_load(SEED_ANSWERS.read_text(encoding="utf-8")))
    services.deploy(rt, load(imported.bpmn_xml, imported.yaml_text), "import")
    kadis = browser("kadis")

    page = text(kadis.get("/monitoring"))
    choice = filters(page, "monitoring-filter")
    assert '<select name="sop">' in choice
    assert 'value="layanan_aduan" selected' in choice and f'value="{KEY}" >' in choice
    assert 'data-bidang="aptika"' not in section(page, "table-bidang-state", "peta-panas")

    page = text(kadis.get(f"/monitoring?sop={KEY}"))
    assert f'value="{KEY}" selected' in filters(page, "monitoring-filter")
    assert 'data-bidang="aptika"' in section(page, "table-bidang-state", "peta-panas")  # the office's activity
    assert f"sop={KEY}" in filters(page, "monitoring-filter").split('id="report-links"')[1]
    for url, form in (("/monitoring/laporan", "report-filter"), ("/monitoring/formulir-sop", "sop-form-filter")):
        assert f'value="{KEY}" selected' in filters(text(kadis.get(f"{url}?sop={KEY}")), form), url


def test_the_archive_search_offers_the_steps_of_the_sop_chosen(rt, browser):
    """A step number is one SOP's step. The search listed the first SOP's steps whatever was deployed, and
    its step filter matched that number in every SOP; with several SOPs it now offers an SOP, and the
    steps of the one chosen."""
    import yaml

    from process.loader import load
    from process.sop_import import import_sop
    from tests.integration.sop import SEED_ANSWERS, SEED_TEXT

    def form(page: str) -> str:
        return page[page.index('id="search-form"'):page.index("</form>", page.index('id="search-form"'))]

    ours = start(rt)
    kadis = browser("kadis")
    alone = form(text(kadis.get("/kegiatan/cari")))
    assert '<select name="sop">' not in alone and 'value="1" ' in alone  # one SOP: its steps, no choice

    imported = import_sop(SEED_TEXT.name, SEED_TEXT.read_bytes(), key="layanan_aduan",
                          answers=yaml.safe_load(SEED_ANSWERS.read_text(encoding="utf-8")))
    services.deploy(rt, load(imported.bpmn_xml, imported.yaml_text), "import")
    theirs = services.start(rt, "layanan_aduan", "aptika", "Aduan warga", "sekretaris")

    several = form(text(kadis.get("/kegiatan/cari")))
    assert '<select name="sop">' in several
    assert re.search(r'<select name="langkah" disabled', several)  # which SOP's step 1? none offered yet

    def ids(query: str) -> list[int]:
        return [int(i) for i in re.findall(r'class="result" data-id="(\d+)"', text(kadis.get(f"/kegiatan/cari?{query}")))]
    assert ids("") == [theirs, ours]
    page = text(kadis.get(f"/kegiatan/cari?sop={KEY}&langkah=1"))
    assert f'value="{KEY}" selected' in form(page) and 'value="1" selected' in form(page)
    assert ids(f"sop={KEY}&langkah=1") == [ours]
    assert ids("sop=layanan_aduan&langkah=1") == [theirs]
    assert ids("sop=layanan_aduan") == [theirs]


def test_an_on_time_rate_is_written_to_a_tenth_and_never_rounded_to_all_or_nothing(app):
    """Whole percents wrote 199 steps on time out of 200 as "100%" on the dashboard and the report, and 1 of
    300 as "0%"; the SOP form's notes wrote the same rates to a tenth (they are worded by `percent` too)."""
    from flask_babel import force_locale

    from web.monitoring import _pct, percent

    with app.test_request_context():
        with force_locale("id"):
            assert [percent(r) for r in (199 / 200, 1 / 300, 2 / 3, 0.5, 1.0, 0.0, None)] == \
                ["99,5%", "0,3%", "66,7%", "50%", "100%", "0%", "—"]
            assert (percent(1999 / 2000), percent(1 / 3000)) == ("99,9%", "0,1%")  # not 100% and 0%
        with force_locale("en"):
            assert (percent(2 / 3), percent(1999 / 2000)) == ("66.7%", "99.9%")
    assert (_pct(1999 / 2000), _pct(1.0), _pct(None)) == (99.9, 100.0, None)


def test_a_badge_time_of_almost_an_hour_is_an_hour_not_60_minutes(app):
    from flask_babel import force_locale

    from web.monitoring import short_work_time

    with app.test_request_context(), force_locale("id"):
        assert [short_work_time(m) for m in (45, 59.4, 59.6, 90, 600)] == \
            ["45 mnt", "59 mnt", "1 jam", "1,5 jam", "10 jam"]


def test_a_calendar_day_steps_badge_time_is_in_days_from_a_day_on(app):
    from flask_babel import force_locale

    from web.monitoring import short_time_taken

    with app.test_request_context(), force_locale("id"):
        assert [short_time_taken(m, False) for m in (45, 1439, 1440, 11640)] == ["45 mnt", "24 jam", "1 hari", "8,1 hari"]
        assert short_time_taken(11640, True) == "194 jam"
    with app.test_request_context(), force_locale("en"):
        assert short_time_taken(11640, False) == "8.1 d"


def test_a_step_late_only_after_working_hours_is_not_late_by_0_minutes(rt, clock, browser):
    """The longest cases give lateness in working time. A step due at the end of the working day and done
    after it was late by no working time at all, and its badge read "terlambat 0 menit"."""
    instance_id = start(rt)
    for step in (1, 2):
        do_step(rt, instance_id, step)
    nine = MONDAY_MORNING                                          # Monday 2 March 2026, 09:00 WIB
    clock.set(nine + timedelta(hours=5, minutes=30))               # 14:30; Ramadan hours end at 15:00
    do_step(rt, instance_id, 3)                                    # step 4 is due at 15:00
    clock.set(nine + timedelta(hours=6, minutes=10))
    do_step(rt, instance_id, 4)
    clock.set(nine + timedelta(days=1))
    do_step(rt, instance_id, 5, {"terverifikasi": True})           # 30 working minutes late (08:00-08:30)

    page = text(browser("kadis").get("/monitoring"))
    cases = section(page, "terlama", "verifikasi")
    step_4 = cases[cases.index("<b>4</b>"):cases.index("<b>5</b>")]
    assert "0 menit</span>" not in step_4 and '<span class="badge late">Terlambat</span>' in step_4
    assert '<span class="badge late">terlambat 30 menit</span>' in cases[cases.index("<b>5</b>"):]


def test_an_overlap_of_one_day_reads_one_day_in_english(rt, browser):
    """The overlaps' badge read "schedules overlap by 1 day(s)"."""
    email = services.start(rt, KEY, "aptika", "Layanan email dinas", "aptika.implementasi")
    press = services.start(rt, KEY, "ikp", "Siaran pers bulanan", "ikp.implementasi")
    do_step(rt, email, 1)  # 2 to 31 March
    do_step(rt, press, 1, {**STEP_DATA[1], "tanggal_mulai": "2026-03-31", "tanggal_selesai": "2026-04-03"},
            bidang="ikp")
    head = browser("kadis")
    assert "jadwal beririsan 1 hari<" in text(head.get("/monitoring"))
    head.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    page = text(head.get("/monitoring"))
    assert "schedules overlap by 1 day<" in page and "day(s)" not in page


def heat_title(head, element: str) -> str:
    page = head.get("/monitoring").get_data(as_text=True)
    return json.loads(re.search(r'id="heatmap-data">(.*?)</script>', page, re.S).group(1))[element]["title"]


def test_the_heat_maps_tooltip_states_the_standard_as_the_sop_does_by_its_counting_rule(rt, browser):
    """A 30-day step's tooltip gave its standard as working hours ("standar 213 jam 30 menit"), as if the SOP
    said so. It states it in the SOP's unit, with the days counted as the step's rule counts them."""
    do_step(rt, start(rt), 1)
    head = browser("kadis")
    assert heat_title(head, "Step_01").endswith("standar 30 Hari Kerja")
    assert heat_title(head, "Step_03").endswith("standar 30 Menit")
    deploy_v2(rt, BPMN, YAML.replace("\n  days: kerja", "\n  days: kalender", 1))
    do_step(rt, start(rt), 1)
    assert heat_title(head, "Step_01").endswith("standar 30 Hari Kalender")
    head.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    assert heat_title(head, "Step_01").endswith("standard 30 calendar days")
    assert heat_title(head, "Step_03").endswith("standard 30 min")


def test_monitoring_measures_a_calendar_day_steps_time_taken_by_the_clock_as_its_activity_page_does(
        rt, browser, clock):
    """A "30 Hari Kalender" step finished after 8 days 2 hours read "8 hari 2 jam" on its activity page but
    "median 39 jam" (working time) on the heat map and in the step tables, while its on-time rate judged it
    by the calendar. Its time taken is measured by the rule that judges it, and said so."""
    deploy_v2(rt, BPMN, YAML.replace("\n  days: kerja", "\n  days: kalender", 1))
    instance_id = start(rt)
    clock.advance(days=8, hours=2)
    do_step(rt, instance_id, 1)
    do_step(rt, instance_id, 2)
    head = browser("kadis")
    assert "median 8 hari 2 jam, standar 30 Hari Kalender" in heat_title(head, "Step_01")
    assert heat_title(head, "Step_02").endswith("median 0 menit, standar 30 Hari Kalender")
    page = head.get("/monitoring").get_data(as_text=True)
    badges = json.loads(re.search(r'id="heatmap-data">(.*?)</script>', page, re.S).group(1))
    assert badges["Step_01"]["label"].endswith("\n8,1 hari")  # its badge too: not "194 jam" (clock hours)
    page = text(head.get("/monitoring"))
    steps = page[page.index('id="table-steps"'):]
    row = steps[steps.index('data-step="1"'):]
    assert "<td>8 hari 2 jam</td><td>8 hari 2 jam</td>" in row[:row.index("</tr>")]
    assert ">30 Hari Kalender</td>" in row[:row.index("</tr>")]  # its standard as the heat map states it
    worst = page[page.index('id="terlama"'):]
    assert "<th>Waktu kalender</th>" in worst[:worst.index("</table>")]
    assert "<td>8 hari 2 jam</td>" in worst[:worst.index("</table>")]
    # The recap's minutes and the SOP form's suggested note measure it so too.
    recap = head.get("/monitoring/rekap.csv").get_data(as_text=True)
    assert "Langkah 1 waktu kalender (menit)" in recap and "Langkah 3 waktu kerja (menit)" in recap
    assert ";11640;" in recap or ",11640," in recap
    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(head.get("/monitoring/rekap.xlsx").get_data()))
    assert [1, "30 Hari Kalender"] in [[r[0], r[2]] for r in book["Langkah SOP"].iter_rows(values_only=True)]
    assert "median waktu kalender 8 hari 2 jam (standar 30 Hari Kalender)" in text(head.get("/monitoring/formulir-sop"))


def test_english_monitoring_counts_one_as_one(rt, browser):
    """"1 activities" and "1 pairs": the dashboard's counts read the English plural whatever the count."""
    email = services.start(rt, KEY, "aptika", "Layanan email dinas", "aptika.implementasi")
    press = services.start(rt, KEY, "ikp", "Siaran pers bulanan", "ikp.implementasi")
    do_step(rt, email, 1)
    do_step(rt, press, 1, bidang="ikp")  # the same planned dates: one pair overlapping by schedule only
    head = browser("kadis")
    head.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    page = head.get("/monitoring").get_data(as_text=True)
    assert "Overlapping schedules only: 1 pair<" in page
    assert 'title="Step 2: 1 activity, 0 overdue"' in page
    assert "1 pairs" not in page and "1 activities" not in page
    # The heat map's tooltips too ("Step 3: 1 activities at this step").
    start(rt, "aptika", "Di langkah 1")
    page = head.get("/monitoring").get_data(as_text=True)
    heatmap = json.loads(re.search(r'id="heatmap-data">(.*?)</script>', page, re.S).group(1))
    assert heatmap["Step_01"]["title"].startswith("Step 1: 1 activity at this step (0 overdue);")
    assert heatmap["Step_02"]["title"].startswith("Step 2: 2 activities at this step (0 overdue);")
    # Indonesian has one form for both.
    head.post("/bahasa", {"language": "id"}, headers={"Referer": "/"})
    assert "Hanya jadwal yang beririsan: 1 pasangan<" in head.get("/monitoring").get_data(as_text=True)


@pytest.mark.parametrize("typed", ["2026-13-40", "27/11/2026"])
def test_an_unreadable_assessment_date_on_the_sop_form_is_said_at_its_field(rt, browser, typed):
    """The SOP monitoring form sent back with a date it could not read was a 500: the page wrote the
    typed date in its heading as a date."""
    services.start(rt, KEY, "aptika", "Layanan email dinas", "aptika.implementasi")
    sekretaris = browser("sekretaris")
    sekretaris.get("/monitoring/formulir-sop")
    response = sekretaris.post("/monitoring/formulir-sop", {"tanggal": typed, "berjalan_baik-1": "ya"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'name="tanggal" value="{typed}"' in page and "harus berupa tanggal (YYYY-MM-DD)" in page


def test_flash_messages_and_page_errors_are_announced(rt, browser):
    """A flash message ("Tugas diklaim.", an error) was a bare paragraph: a screen reader did not say it
    when the page came back. A message is a status, an error an alert."""
    instance_id, task_id, b = claimed_step_one(rt, browser)
    b.get("/")
    b.post(f"/tugas/{task_id}/lepas", headers={"Referer": "/"})
    assert '<p class="flash success" role="status">Tugas dikembalikan ke tim.</p>' in text(b.get("/"))
    b.post(f"/tugas/{task_id}/klaim", {"open": "1"})
    page = text(b.post(f"/tugas/{task_id}", {"action": "complete"}))
    assert re.search(r'<p class="flash error" role="alert">Periksa kembali isian', page)
    created = text(b.post("/token", {"name": "laptop"}))
    assert re.search(r'<p class="flash success" role="status">Token baru', created)
    assert 'class="flash' not in re.sub(r'<p class="flash [^"]+" role="(status|alert)"', "", page + created)


def test_english_list_pages_are_named_in_the_plural(rt, browser):
    """In English the activity list (and its menu item), an SOP's versions and the admin's Bidang page
    were titled 'Activity', 'Version' and 'Division': Indonesian has one word for both, English does not."""
    staff = browser("aptika.implementasi")
    staff.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    page = text(staff.get("/kegiatan"))
    assert "<title>Activities · Alur</title>" in page and "<h1>Activities</h1>" in page
    assert '<a href="/kegiatan" aria-current="page">Activities</a>' in page
    owner = browser("pemilik.proses")
    owner.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    assert f"<title>Versions · {KEY} · Alur</title>" in text(owner.get(f"/editor/{KEY}/versi"))
    assert f'/editor/{KEY}/versi">Versions</a>' in text(owner.get("/editor/"))
    admin = browser("admin")
    admin.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    page = text(admin.get("/admin/bidang"))
    assert "<title>Divisions · Alur</title>" in page and '<a href="/admin/bidang">Divisions</a>' in page
    # Indonesian stays as it was.
    admin.post("/bahasa", {"language": "id"}, headers={"Referer": "/"})
    assert "<title>Bidang · Alur</title>" in text(admin.get("/admin/bidang"))


def test_a_step_form_says_what_its_star_means(rt, browser):
    """The step form marked its required fields with '*' and said nowhere what the star means: a reader
    new to the form (or using a screen reader, which reads 'star') had to guess. The form says it first."""
    instance_id, task_id, b = claimed_step_one(rt, browser)
    form = section(text(b.get(f"/tugas/{task_id}")), "step-form")
    assert form.index('<p class="muted" id="required-note">Isian bertanda * wajib diisi.</p>') \
        < form.index('class="field"')
    b.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    assert "Fields marked * are required." in text(b.get(f"/tugas/{task_id}"))


def test_a_required_yes_or_no_question_is_marked_required_for_a_screen_reader(rt, browser):
    """A required text, date or choice field carried `required`, but a required yes/no question's two
    choices did not: a screen reader announced the others as required and this one not (its '*' aside)."""
    instance_id = start(rt)
    for step in (1, 2, 3, 4):
        do_step(rt, instance_id, step)
    task = task_of(rt, instance_id)
    services.claim(rt, task["id"], "aptika.teknis")
    form = section(text(browser("aptika.teknis").get(f"/tugas/{task['id']}")), "step-form")
    choices = re.findall(r'<input type="radio" name="terverifikasi"[^>]*>', form)
    assert len(choices) == 2 and all(" required" in choice for choice in choices), choices


def test_a_task_pages_title_names_its_activity(rt, browser):
    """Two tasks of step 1 in two tabs were both titled 'Langkah 1 · Alur': the tab and the browser's
    history did not say which activity each was. The title names the activity too."""
    instance_id, task_id, b = claimed_step_one(rt, browser)
    assert "<title>Langkah 1 · Layanan email dinas · Alur</title>" in text(b.get(f"/tugas/{task_id}"))


def test_an_error_pages_title_says_what_went_wrong(rt, browser):
    """An error page was titled by its status code alone ('404 · Alur', '403 · Alur'): a screen reader,
    which reads the title first, and the browser's tab said a number, not what went wrong. The title
    says what the page's heading says."""
    b = browser("aptika.implementasi")
    page = text(b.get("/kegiatan/999"))
    assert "<title>Tidak ditemukan (404) · Alur</title>" in page and "<h1>Tidak ditemukan (404)</h1>" in page
    assert "<title>Tidak diizinkan (403) · Alur</title>" in text(b.get("/admin/pengguna"))


def filter_form(page: str, form: str) -> str:
    start_at = page.index(f'id="{form}"')
    return page[start_at:page.index("</form>", start_at)]


@pytest.mark.parametrize("url, form", [("/monitoring", "monitoring-filter"), ("/monitoring/laporan", "report-filter"),
                                       ("/monitoring/formulir-sop", "sop-form-filter")])
def test_a_reversed_or_too_long_period_comes_back_with_the_filters_and_the_error_at_its_date(rt, browser, url, form):
    """A "from" date after the "until" date gave a bare error page: the filters were gone and its only link
    led to the task list. The page comes back with the filters as sent and the error at the date."""
    start(rt)
    kadis = browser("kadis")
    response = kadis.get(f"{url}?dari=2026-03-01&sampai=2026-02-01&bidang=aptika")
    assert response.status_code == 422
    page = text(response)
    filters = filter_form(page, form)
    assert 'name="dari" value="2026-03-01"' in filters and 'name="sampai" value="2026-02-01"' in filters
    assert 'value="aptika" selected' in filters
    assert re.search(r'name="dari"[^>]*></label>\s*<p class="field-error">setelah tanggal akhir</p>', filters)
    assert "Kembali ke daftar tugas" not in page
    page = text(kadis.get(f"{url}?dari=2000-01-01&sampai=2026-02-01"))
    assert re.search(r'name="sampai"[^>]*></label>\s*<p class="field-error">periode paling lama 10 tahun</p>',
                     filter_form(page, form))
    page = text(kadis.get(f"{url}?dari=kemarin"))
    assert re.search(r'name="dari"[^>]*></label>\s*<p class="field-error">harus berupa tanggal', filter_form(page, form))


@pytest.mark.parametrize("url, form, page", [
    ("/monitoring/rekap.xlsx", "monitoring-filter", "/monitoring"),
    ("/monitoring/rekap.csv", "monitoring-filter", "/monitoring"),
    ("/monitoring/laporan.pdf", "report-filter", "/monitoring/laporan"),
    ("/monitoring/formulir-sop.pdf", "sop-form-filter", "/monitoring/formulir-sop"),
    ("/monitoring/formulir-sop/cetak", "sop-form-filter", "/monitoring/formulir-sop")])
def test_a_download_with_a_reversed_or_too_long_period_comes_back_as_its_page_with_the_error(
        rt, browser, url, form, page):
    """A download's address with a reversed or too long period gave a bare error page, while its page
    came back with the filters and the error at the date. The download does so too, and its form
    shows the page (not the download) again."""
    start(rt)
    kadis = browser("kadis")
    response = kadis.get(f"{url}?dari=2026-03-01&sampai=2026-02-01&bidang=aptika")
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert f'action="{page}" class="filters card" id="{form}"' in text(response)
    filters = filter_form(text(response), form)
    assert 'name="dari" value="2026-03-01"' in filters and 'value="aptika" selected' in filters
    assert re.search(r'name="dari"[^>]*></label>\s*<p class="field-error">setelah tanggal akhir</p>', filters)
    assert "Kembali ke daftar tugas" not in text(response)
    response = kadis.get(f"{url}?dari=2000-01-01&sampai=2026-02-01")
    assert re.search(r'name="sampai"[^>]*></label>\s*<p class="field-error">periode paling lama 10 tahun</p>',
                     filter_form(text(response), form))


@pytest.mark.parametrize("url, form, typed", [
    ("/monitoring/laporan", "report-filter", {"kesimpulan": "Kesimpulan saya", "rekomendasi": "Rekomendasi saya"}),
    ("/monitoring/formulir-sop", "sop-form-filter", {"catatan-1": "Catatan saya", "tindakan-1": "Tindakan saya"})])
def test_a_period_error_after_sending_a_form_keeps_what_was_typed(rt, browser, url, form, typed):
    """The report or SOP form sent with a reversed period came back as the period page, and what had been
    typed was gone. The period page carries it, and its corrected period shows the form again with it,
    saving nothing yet."""
    start(rt)
    sekretaris = browser("sekretaris")
    sekretaris.get(url)
    response = sekretaris.post(f"{url}?dari=2026-03-01&sampai=2026-02-01&bidang=aptika", typed)
    assert response.status_code == 422
    filters = filter_form(text(response), form)
    assert f'<form method="post" action="{url}"' in text(response)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', filters))
    assert {name: fields.get(name) for name in typed} == typed
    fields.update(dari="2026-02-01", sampai="2026-03-01", bidang="aptika")
    response = sekretaris.post(url, fields)
    assert response.status_code == 200
    page = text(response)
    assert 'class="flash success"' not in page and 'name="dari" value="2026-02-01"' in page
    # It says the answers are not saved yet: the page looks like any other form page otherwise.
    assert '<p class="flash info" role="status" id="shown-again">Isian Anda belum disimpan' in page
    for name, value in typed.items():
        assert re.search(rf'<textarea name="{name}"[^>]*>{value}</textarea>', page), name
    assert f'action="{url}?dari=2026-02-01&amp;sampai=2026-03-01&amp;bidang=aptika"' in page


def test_answers_shown_again_over_a_conclusion_saved_for_the_corrected_period_say_so(rt, browser):
    """Typed on a page with no conclusion yet, sent with a reversed period and shown again for a period
    that has one: the form carried that conclusion's revision, so saving replaced it unseen."""
    from engine import reports
    start(rt)
    reports.save_report(rt, "sekretaris", date(2026, 2, 1), date(2026, 3, 1), "aptika", None,
                        "Kesimpulan rekan", "Rekomendasi rekan")
    sekretaris = browser("sekretaris")
    typed = {"kesimpulan": "Kesimpulan saya", "rekomendasi": "Rekomendasi saya", "revision": ""}
    response = sekretaris.post("/monitoring/laporan?dari=2026-03-01&sampai=2026-02-01&bidang=aptika", typed)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                             filter_form(text(response), "report-filter")))
    fields.update(dari="2026-02-01", sampai="2026-03-01", bidang="aptika")
    page = text(sekretaris.post("/monitoring/laporan", fields))
    assert 'id="changed-meanwhile"' in page and "Kesimpulan rekan" in page
    assert re.search(r'<textarea name="kesimpulan"[^>]*>Kesimpulan saya</textarea>', page)


def test_an_error_shown_alone_at_the_top_of_a_page_starts_with_a_capital(rt, browser):
    """Engine messages are lower case, as they also follow a field's name; shown alone as a page's alert
    ("tanggal awal periode setelah tanggal akhir") they read as a sentence cut off. There they start
    with a capital, in both languages; after a field's name they stay as they are."""
    start(rt)
    kadis = browser("kadis")
    page = text(kadis.get("/monitoring?dari=2026-03-01&sampai=2026-02-01"))
    assert '<p class="flash error" role="alert">Tanggal awal periode setelah tanggal akhir</p>' in page
    assert '<p class="field-error">setelah tanggal akhir</p>' in page
    assert "<p>Tugas tidak-ada tidak ditemukan</p>" in text(kadis.get("/tugas/tidak-ada"))
    kadis.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
    page = text(kadis.get("/monitoring/laporan?dari=2026-03-01&sampai=2026-02-01"))
    assert '<p class="flash error" role="alert">The period starts after it ends</p>' in page
    assert "<p>Task tidak-ada not found</p>" in text(kadis.get("/tugas/tidak-ada"))


def test_a_reversed_range_on_the_archive_search_is_said_at_its_field(rt, browser):
    """A search from a date after its "until" date quietly found nothing ("0 kegiatan ditemukan")."""
    start(rt)
    kadis = browser("kadis")
    response = kadis.get("/kegiatan/cari?judul=email&dari=2026-03-01&sampai=2026-02-01")
    assert response.status_code == 422
    page = text(response)
    form = filter_form(page, "search-form")
    assert 'name="judul" value="email"' in form and 'name="sampai" value="2026-02-01"' in form
    assert re.search(r'name="dari"[^>]*></label>\s*<p class="field-error">setelah tanggal akhir</p>', form)
    assert "kegiatan ditemukan" not in page and 'class="result"' not in page
    assert "1 kegiatan ditemukan" in text(kadis.get("/kegiatan/cari?judul=email&dari=2026-03-02&sampai=2026-03-02"))
    # A step that is no number was dropped as "every step": the search then found the wrong activities.
    for step in ("abc", "\uff11", "0"):
        response = kadis.get(f"/kegiatan/cari?judul=email&sop={KEY}&langkah={step}")
        assert response.status_code == 422, step
        form = filter_form(text(response), "search-form")
        assert re.search(r'</select></label>\s*<p class="field-error">harus berupa nomor langkah</p>', form), step


def test_a_cycles_file_the_scheduler_cannot_use_is_shown_on_the_administration_pages(rt, clock, browser, tmp_path):
    """A cycles file the scheduler could not use was said in the scheduler's log alone: the office saw
    only that the month's activities did not start. The administration pages now say which file and
    what is wrong with it, until a scheduler finds it corrected (one started since included)."""
    path = tmp_path / "siklus.yaml"
    path.write_text("cycles: {definition: x}\n", encoding="utf-8")
    scheduling = Runtime(dataclasses.replace(rt.settings, extra={"cycles_file": str(path)}), clock=clock)
    try:
        Scheduler(scheduling, deliver=False).run_pass()
        admin = browser("admin")
        for page in ("/admin/pengguna", "/admin/bidang"):
            [notice] = re.findall(r'<p class="flash error" role="alert" id="cycles-problem">([^<]*)</p>', text(admin.get(page)))
            assert notice.startswith(f"Tidak ada kegiatan berulang yang dimulai: berkas jadwal {path} tidak dapat "
                                     "dipakai (cycles: harus berupa daftar). Batas waktu dan eskalasi tetap berjalan"), notice
        admin.post("/bahasa", {"language": "en"}, headers={"Referer": "/"})
        assert f"No recurring activities are started: the schedule file {path} cannot be used (cycles: must be a list)." \
            in text(admin.get("/admin/bidang"))

        path.write_text(f"cycles:\n  - definition: {KEY}\n    start: 2026-03\n", encoding="utf-8")
        Scheduler(scheduling, deliver=False).run_pass()  # another scheduler, started since
        assert 'id="cycles-problem"' not in text(admin.get("/admin/bidang"))
    finally:
        scheduling.dispose()
