"""Browser tests: Debian's Chromium driven by Playwright against the real app on loopback.

The app runs in a thread with a ManualClock, so the test can move time past a
standard time and run one scheduler pass instead of waiting.
"""
from __future__ import annotations

import dataclasses
import io
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from engine import bootstrap, definitions
from engine.config import Settings
from engine.scheduler import Scheduler
from process import sop_document
from tests.conftest import require_service
from web.app import create_app

CHROMIUM = os.environ.get("ALUR_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("ALUR_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
PASSWORD = bootstrap.DEMO_PASSWORD


@pytest.fixture(scope="module")
def playwright_browser():
    require_service("Chromium", Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is not None,
                    f"install Debian's chromium ({CHROMIUM})")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture
def server(request, tmp_path, clock, demo_databases):
    """The app on loopback; parametrized indirectly, the upload limit in bytes (else the default)."""
    settings = Settings.from_env(database_url=f"sqlite:///{tmp_path / 'alur.db'}", data_dir=tmp_path / "data")
    upload_limit = getattr(request, "param", None)
    if upload_limit is not None:
        settings = dataclasses.replace(settings, max_upload_bytes=upload_limit)
    rt = demo_databases.runtime(settings, clock)
    app = create_app(runtime=rt)
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield rt, f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    rt.dispose()


def sign_in(browser, base: str, login: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="id-ID")
    page = context.new_page()
    page.goto(f"{base}/masuk")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def claim_and_open_first(page, step: int):
    row = page.locator("#team ~ table tr.task-row", has_text=f"{step}.").first
    row.locator("button[name=open]").click()
    page.wait_for_selector("#step-form")


def test_a_day_of_sop_work_in_the_browser(playwright_browser, server, clock, tmp_path):
    rt, base = server
    staff = sign_in(playwright_browser, base, "aptika.implementasi")

    # Start an instance.
    staff.click("text=Mulai kegiatan")
    staff.fill("input[name=title]", "Layanan email dinas")
    staff.fill("input[name=period]", "Maret 2026")
    staff.click("main form button[type=submit]")
    staff.wait_for_selector("#diagram[data-ready=true]")
    assert "Layanan email dinas" in staff.inner_text("h1")

    # Steps 1 to 3, with a document upload at step 1.
    document = tmp_path / "rencana.pdf"
    document.write_bytes(b"%PDF-1.4\n% rencana kegiatan\n")
    staff.goto(f"{base}/")
    shot(staff, "worklist")
    claim_and_open_first(staff, 1)
    assert "Dokumen kegiatan atau layanan" in staff.inner_text("aside")
    staff.fill("textarea[name=rencana_kegiatan]", "Pembuatan akun email untuk seluruh pegawai")
    staff.fill("input[name=tanggal_mulai]", "2026-03-02")
    staff.fill("input[name=tanggal_selesai]", "2026-03-31")
    staff.set_input_files("input[name=dokumen_rencana]", str(document))
    shot(staff, "task")
    staff.click("button[value=complete]")
    staff.wait_for_url(f"{base}/")
    assert "Langkah 1 selesai" in staff.inner_text("main")

    claim_and_open_first(staff, 2)
    staff.click("button[value=complete]")          # required field missing: inline message
    assert "wajib diisi" in staff.inner_text("#step-form")
    staff.fill("textarea[name=uraian_pelaksanaan]", "Akun dibuat dan dibagikan")
    staff.click("button[value=complete]")
    staff.wait_for_url(f"{base}/")

    claim_and_open_first(staff, 3)
    staff.fill("textarea[name=hasil_kegiatan]", "250 akun aktif")
    staff.click("button[value=complete]")
    staff.wait_for_url(f"{base}/")

    # Tim Teknis verifies, then rejects: the work goes back to step 3.
    teknis = sign_in(playwright_browser, base, "aptika.teknis")
    claim_and_open_first(teknis, 4)
    teknis.fill("textarea[name=hasil_verifikasi]", "Data akun belum lengkap")
    teknis.click("button[value=complete]")
    teknis.wait_for_url(f"{base}/")
    claim_and_open_first(teknis, 5)
    teknis.check("input[name=terverifikasi][value=false]")
    teknis.fill("textarea[name=catatan]", "Lengkapi daftar akun per bidang")
    teknis.click("button[value=complete]")
    teknis.wait_for_url(f"{base}/")

    staff.goto(f"{base}/")
    team = staff.inner_text("#team ~ table")
    assert "3. Melaporkan hasil kegiatan" in team

    # The clock passes step 3's standard time (30 working minutes); one scheduler pass.
    clock.advance(hours=3)
    Scheduler(rt, deliver=False).run_pass()
    staff.goto(f"{base}/")
    assert "Terlambat" in staff.inner_text("#team ~ table")

    instance_page = staff
    instance_page.click("#team ~ table tr.task-row a")
    instance_page.wait_for_selector("#diagram[data-ready=true]")
    assert instance_page.locator(".djs-element.step-overdue").count() == 1
    assert instance_page.locator(".djs-element.step-completed").count() >= 5
    shot(instance_page, "instance")

    # The head of the Bidang sees the alert and acknowledges it.
    kepala = sign_in(playwright_browser, base, "kepala.aptika")
    kepala.click("text=Pengawasan")
    alerts = kepala.locator("tr.alert-row")
    assert alerts.count() == 1
    assert "Layanan email dinas" in alerts.first.inner_text()
    assert "Melaporkan hasil kegiatan" in kepala.inner_text("#overdue-steps")
    shot(kepala, "supervisor")
    alerts.first.locator("button").click()
    kepala.wait_for_url(f"{base}/pengawasan")
    assert kepala.locator("tr.alert-row").count() == 0


@pytest.mark.parametrize("server", [4096], indirect=True)
def test_a_file_over_the_upload_limit_is_said_at_its_field_before_anything_typed_is_lost(
        playwright_browser, server):
    """A file more than 1 MiB over the limit was refused by the server before it read the form (a
    bare 413 page): what was typed was gone. The page now says so at the field and sends nothing."""
    from engine import services, worklist
    rt, base = server
    instance_id = services.start(rt, "monev_kegiatan_bidang", "aptika", "Layanan email dinas", "sekretaris")
    staff = sign_in(playwright_browser, base, "aptika.implementasi")
    claim_and_open_first(staff, 1)
    staff.fill("textarea[name=rencana_kegiatan]", "Rencana yang panjang diketik")
    staff.fill("input[name=tanggal_mulai]", "2026-03-02")
    staff.fill("input[name=tanggal_selesai]", "2026-03-31")
    big = b"%PDF-1.4 " + b"x" * (rt.settings.max_upload_bytes + 2 * 1024 * 1024)
    staff.set_input_files("input[name=dokumen_rencana]", {"name": "pindaian.pdf", "mimeType": "application/pdf",
                                                          "buffer": big})
    note = staff.locator("[data-field=dokumen_rencana] .too-large")
    assert note.inner_text() == "Berkas ini lebih besar dari 4 KB; pilih berkas yang lebih kecil."
    url = staff.url
    staff.click("button[value=complete]")
    staff.click("button[value=draft]")
    assert staff.url == url and note.is_visible()
    assert staff.input_value("textarea[name=rencana_kegiatan]") == "Rencana yang panjang diketik"
    assert [t["step"] for t in worklist.tasks(rt, instance_id=instance_id)] == [1]  # nothing was sent

    staff.set_input_files("input[name=dokumen_rencana]", {"name": "ringkas.pdf", "mimeType": "application/pdf",
                                                          "buffer": b"%PDF-1.4 ringkas"})
    assert note.count() == 0
    staff.click("button[value=complete]")
    staff.wait_for_url(f"{base}/")
    assert [t["step"] for t in worklist.tasks(rt, instance_id=instance_id)] == [2]


@pytest.mark.parametrize("server", [4096], indirect=True)
def test_a_file_too_large_is_announced_when_chosen(playwright_browser, server):
    """The note that a chosen file is over the limit appeared under the field while the focus stayed on the
    file button: nothing told a screen reader, whose user learnt of it only on sending. It is an alert."""
    from engine import services
    rt, base = server
    services.start(rt, "monev_kegiatan_bidang", "aptika", "Layanan email dinas", "sekretaris")
    staff = sign_in(playwright_browser, base, "aptika.implementasi")
    claim_and_open_first(staff, 1)
    staff.set_input_files("input[name=dokumen_rencana]", {"name": "pindaian.pdf", "mimeType": "application/pdf",
                                                          "buffer": b"%PDF-1.4 " + b"x" * 8192})
    assert staff.get_by_role("alert").inner_text() == "Berkas ini lebih besar dari 4 KB; pilih berkas yang lebih kecil."


def test_a_double_click_on_start_starts_one_activity(playwright_browser, server, monkeypatch):
    """A double click on the start page's button sent the form twice while the first answer was on its
    way: two activities of the same title, both counted in monitoring. A form already sent is not sent
    again."""
    import time

    from engine import queries, services
    rt, base = server
    start = services.start_once
    monkeypatch.setattr(services, "start_once", lambda *a, **k: (time.sleep(0.4), start(*a, **k))[1])  # a busy server
    staff = sign_in(playwright_browser, base, "aptika.implementasi")
    staff.goto(f"{base}/kegiatan/baru")
    staff.fill("input[name=title]", "Layanan email dinas")
    # The second click 100 ms after the first, as a person's double click, while the first is being answered.
    staff.evaluate("""() => {
        const button = document.querySelector('form:has(input[name=title]) button[type=submit]');
        button.click();
        setTimeout(() => button.click(), 100);
    }""")
    staff.wait_for_timeout(1500)  # both answered, if both were sent
    assert re.search(r"/kegiatan/\d+$", staff.url)
    assert [i["title"] for i in queries.instances(rt, "aptika.implementasi")] == ["Layanan email dinas"]

    # A form sent, and come back to (the back button, from the page cache), can be sent again.
    staff.go_back()
    staff.fill("input[name=title]", "Layanan web dinas")
    staff.click("form:has(input[name=title]) button[type=submit]")
    staff.wait_for_url(re.compile(r".*/kegiatan/\d+$"))
    assert sorted(i["title"] for i in queries.instances(rt, "aptika.implementasi")) == \
        ["Layanan email dinas", "Layanan web dinas"]


def test_a_title_or_answer_without_spaces_does_not_widen_the_page(playwright_browser, server):
    """A name written as files are named, with underscores (no place to wrap at), as a title, an answer
    or a document's file name made the activity, list, search and task pages wider than the window,
    the table's other columns pushed off the screen."""
    from engine import services, worklist
    rt, base = server
    name = "Laporan_Monitoring_dan_Evaluasi_Kegiatan_Layanan_Bidang_Aplikasi_Informatika_Triwulan_I_2026_final"
    instance_id = services.start(rt, "monev_kegiatan_bidang", "aptika", name * 2, "aptika.implementasi")
    [task] = worklist.tasks(rt, instance_id=instance_id)
    services.claim(rt, task["id"], "aptika.implementasi")
    services.complete(rt, task["id"], "aptika.implementasi",
                      {"rencana_kegiatan": name * 2, "tanggal_mulai": "2026-03-02", "tanggal_selesai": "2026-03-31"},
                      files={"dokumen_rencana": (name + ".pdf", b"%PDF-1.4 rencana")})
    [task] = worklist.tasks(rt, instance_id=instance_id)
    staff = sign_in(playwright_browser, base, "aptika.implementasi")
    for path in (f"/kegiatan/{instance_id}", "/kegiatan", "/kegiatan/cari", "/", f"/tugas/{task['id']}"):
        staff.goto(base + path)
        widths = staff.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], path


def test_a_fields_error_is_tied_to_its_control_and_the_first_takes_the_focus(playwright_browser, server):
    """A step sent with a required field empty came back with 'wajib diisi' under the field, but the
    field was not marked invalid nor described by the message, and the focus stayed at the top of the
    page: a screen reader or keyboard user had to hunt for what was wrong."""
    from engine import services
    rt, base = server
    services.start(rt, "monev_kegiatan_bidang", "aptika", "Layanan email dinas", "sekretaris")
    staff = sign_in(playwright_browser, base, "aptika.implementasi")
    claim_and_open_first(staff, 1)
    staff.fill("input[name=tanggal_mulai]", "2026-03-02")
    staff.click("button[value=complete]")
    staff.wait_for_selector(".field-error")
    first = staff.locator("textarea[name=rencana_kegiatan]")
    assert first.get_attribute("aria-invalid") == "true"
    described = first.get_attribute("aria-describedby")
    assert described and "wajib diisi" in staff.inner_text(f"#{described}")
    assert staff.evaluate("document.activeElement.name") == "rencana_kegiatan"
    assert staff.locator("input[name=tanggal_mulai]").get_attribute("aria-invalid") is None
    # The start page's errors too (a field outside a .field block: the label before the message).
    staff.goto(f"{base}/kegiatan/baru")
    staff.fill("input[name=title]", "   ")
    staff.click("form:has(input[name=title]) button[type=submit]")
    staff.wait_for_selector(".field-error")
    title = staff.locator("input[name=title]")
    assert title.get_attribute("aria-invalid") == "true"
    assert staff.inner_text(f"#{title.get_attribute('aria-describedby')}")
    assert staff.evaluate("document.activeElement.name") == "title"


def test_the_message_a_page_comes_back_with_takes_the_focus(playwright_browser, server):
    """A flash message ("Draf disimpan.", "Tugas dikembalikan ke tim.") was a role=status region that already
    held its text when the page loaded, which screen readers do not say: nothing told a blind user that
    the draft was saved. The message takes the focus, so it is read; a field's error keeps it first, and a
    page without a message leaves the focus where the browser puts it."""
    from engine import services
    rt, base = server
    services.start(rt, "monev_kegiatan_bidang", "aptika", "Layanan email dinas", "sekretaris")
    staff = sign_in(playwright_browser, base, "aptika.implementasi")
    focused = "document.activeElement.matches('.flash') ? document.activeElement.textContent.trim() : document.activeElement.tagName"
    assert staff.evaluate(focused) == "BODY"
    claim_and_open_first(staff, 1)
    staff.fill("textarea[name=rencana_kegiatan]", "Rencana")
    staff.click("button[value=draft]")
    staff.wait_for_selector(".flash.success")
    assert staff.evaluate(focused) == "Draf disimpan."
    staff.press("body", "Tab")  # the keyboard goes on from the message, inside the page's content
    assert staff.evaluate("document.querySelector('main').contains(document.activeElement)")
    staff.click("button[value=complete]")  # required fields left empty: the first takes the focus
    staff.wait_for_selector(".field-error")
    assert staff.evaluate("document.activeElement.name") == "tanggal_mulai"


def test_a_field_with_help_is_described_by_the_help_and_its_error(playwright_browser, server):
    """The page ties a field's help to its control; the error said when the form comes back is added to
    that description, not put in its place."""
    from engine import services
    from tests.integration.test_definitions import BPMN, YAML, deploy_v2
    rt, base = server
    helped = YAML.replace("type: text, required: true}", "type: text, required: true, help: Tulis per butir}", 1)
    deploy_v2(rt, BPMN, helped)
    services.start(rt, "monev_kegiatan_bidang", "aptika", "Layanan email dinas", "sekretaris")
    staff = sign_in(playwright_browser, base, "aptika.implementasi")
    claim_and_open_first(staff, 1)
    staff.click("button[value=complete]")
    staff.wait_for_selector(".field-error")
    described = staff.locator("textarea[name=rencana_kegiatan]").get_attribute("aria-describedby").split()
    assert described[0] == "help-rencana_kegiatan" and len(described) == 2
    assert staff.inner_text(f"#{described[0]}") == "Tulis per butir"
    assert staff.inner_text(f"#{described[1]}") == "wajib diisi"


def test_the_user_forms_errors_are_tied_to_their_fields(playwright_browser, server):
    """The user form listed its errors above the fields, tied to none: now each is under its field, the
    field marked invalid and described by it, and the first takes the focus."""
    rt, base = server
    admin = sign_in(playwright_browser, base, "admin")
    admin.goto(f"{base}/admin/pengguna")
    admin.fill("input[name=login]", "Budi Baru")
    admin.fill("input[name=name]", "Budi")
    admin.check("input[name=roles][value=implementasi]")  # a lane's role, and no Bidang
    admin.click("#user-form button[type=submit]")
    admin.wait_for_selector(".field-error")
    for name, said in (("login", "nama pengguna hanya huruf kecil"), ("bidang", "wajib diisi untuk peran ini"),
                       ("password", "wajib diisi untuk pengguna baru")):
        control = admin.locator(f"#user-form [name={name}]")
        assert control.get_attribute("aria-invalid") == "true", name
        assert said in admin.inner_text(f"#{control.get_attribute('aria-describedby')}"), name
    assert admin.locator("input[name=name]").get_attribute("aria-invalid") is None
    assert admin.evaluate("document.activeElement.name") == "login"
    # The roles' error (their own admin role taken away) is tied to every role's box.
    admin.goto(f"{base}/admin/pengguna?login=admin")
    admin.uncheck("input[name=roles][value=admin]")
    admin.click("#user-form button[type=submit]")
    admin.wait_for_selector(".field-error")
    boxes = admin.locator("input[name=roles]")
    assert boxes.count() > 1 and all(boxes.nth(i).get_attribute("aria-invalid") == "true" for i in range(boxes.count()))
    assert "peran administratornya" in admin.inner_text(f"#{boxes.first.get_attribute('aria-describedby')}")
    assert admin.evaluate("[document.activeElement.name, document.activeElement.value]") == \
        ["roles", boxes.first.get_attribute("value")]


def test_on_a_phone_a_wide_table_scrolls_in_its_box_not_the_page(playwright_browser, server, clock):
    """At a phone's width (390 px) the worklist, activity, search, supervision and monitoring tables, and
    the top bar with the user's name, were wider than the screen: the whole page scrolled sideways and
    the top bar's 'Keluar' stood outside it. A wide table now scrolls within its own box; the top bar
    wraps."""
    from engine import services
    rt, base = server
    instance_id = services.start(rt, "monev_kegiatan_bidang", "aptika", "Layanan email dinas", "sekretaris")
    clock.advance(hours=30)
    Scheduler(rt, deliver=False).run_pass()
    for login, paths in (("aptika.implementasi", ["/", "/kegiatan", "/kegiatan/cari", f"/kegiatan/{instance_id}"]),
                         ("kepala.aptika", ["/pengawasan", "/monitoring"])):
        page = sign_in(playwright_browser, base, login)
        page.set_viewport_size({"width": 390, "height": 844})
        for path in paths:
            page.goto(base + path)
            widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            assert widths[0] <= widths[1], (login, path, widths)
            topbar = page.evaluate("(e => [e.scrollWidth, e.clientWidth])(document.querySelector('.topbar'))")
            assert topbar[0] <= topbar[1], (login, path, topbar)
        # The table keeps its meaning for a screen reader, and its words whole (not "Merenca-nakan").
        page.goto(base + paths[0])
        assert page.get_by_role("table").count() >= 1
        page.close()
    staff = sign_in(playwright_browser, base, "aptika.implementasi")
    staff.set_viewport_size({"width": 390, "height": 844})
    cell = staff.locator("#team ~ table tr.task-row td").first
    assert staff.evaluate("c => c.scrollWidth <= c.clientWidth && getComputedStyle(c).overflowWrap !== 'anywhere'",
                          cell.element_handle())


def test_at_320_px_the_monitoring_charts_fit_the_window(playwright_browser, server, clock):
    """At 320 px wide (a 1280 px screen zoomed to 400%, as staff with low vision read it) the monitoring
    page scrolled sideways: each chart kept a width wider than the window."""
    from engine import services
    rt, base = server
    services.start(rt, "monev_kegiatan_bidang", "aptika", "Layanan email dinas", "sekretaris")
    page = sign_in(playwright_browser, base, "kadis")
    page.goto(base + "/monitoring")
    page.wait_for_selector("#chart-trend[data-ready]")
    page.set_viewport_size({"width": 320, "height": 700})
    page.wait_for_timeout(300)
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths
    assert page.locator(".chart").count() == 3 and boxes_outside(page, "main", ".chart") == []


def test_a_keyboard_user_skips_the_menu_to_claim_and_complete_a_step(playwright_browser, server):
    """Every page began with the menu, the language choice and 'Keluar': a keyboard user tabbed through
    them on each page before reaching the task. The first Tab now offers 'Langsung ke isi', which leads
    into the page's content; a step is then claimed and completed with the keyboard alone."""
    from engine import services, worklist
    rt, base = server
    instance_id = services.start(rt, "monev_kegiatan_bidang", "aptika", "Layanan email dinas", "sekretaris")
    staff = sign_in(playwright_browser, base, "aptika.implementasi")
    staff.keyboard.press("Tab")
    assert staff.evaluate("document.activeElement.innerText") == "Langsung ke isi"
    skip_to_content(staff)
    staff.keyboard.press("Tab")
    assert staff.evaluate("document.activeElement.name") == "bidang"  # the worklist's first filter
    for _ in range(40):
        if staff.evaluate("document.activeElement.innerText") == "Klaim & buka":
            break
        staff.keyboard.press("Tab")
    staff.keyboard.press("Enter")
    staff.wait_for_selector("#step-form")
    staff.wait_for_load_state("load")  # a Tab pressed while the page still loads lands elsewhere
    staff.keyboard.press("Tab")
    skip_to_content(staff)
    staff.keyboard.press("Tab")   # the activity's link above the heading
    staff.keyboard.press("Tab")
    assert staff.evaluate("document.activeElement.name") == "rencana_kegiatan"
    staff.keyboard.type("Rencana diketik")
    staff.fill("input[name=tanggal_mulai]", "2026-03-02")   # (a date's parts each take a Tab)
    staff.fill("input[name=tanggal_selesai]", "2026-03-31")
    staff.set_input_files("input[name=dokumen_rencana]", {"name": "rencana.pdf", "mimeType": "application/pdf",
                                                          "buffer": b"%PDF-1.4 rencana"})
    staff.focus("input[name=dokumen_rencana]")
    staff.keyboard.press("Tab")
    assert staff.evaluate("document.activeElement.value") == "complete"
    staff.keyboard.press("Enter")
    staff.wait_for_url(re.compile(re.escape(base) + r"/(#isi)?$"))  # the page's #isi is kept through the redirect
    assert [t["step"] for t in worklist.tasks(rt, instance_id=instance_id)] == [2]


def test_browsing_the_language_choice_with_the_keyboard_does_not_switch_the_page(playwright_browser, server):
    """The language choice sent itself on every change: a keyboard user pressing the arrow key on it to
    hear the other language was thrown onto a reloaded page in English, what was typed into the sign-in
    form lost and the focus at its first field. The choice now takes effect by its own button."""
    rt, base = server
    context = playwright_browser.new_context(locale="id-ID")
    page = context.new_page()
    page.goto(f"{base}/masuk")
    page.fill("input[name=login]", "aptika.implementasi")
    page.focus("select[name=language]")
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(500)
    assert page.evaluate("document.documentElement.lang") == "id"
    assert page.evaluate("document.activeElement.name") == "language"
    assert page.input_value("input[name=login]") == "aptika.implementasi"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.innerText") == "Ganti bahasa"
    page.keyboard.press("Enter")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.inner_text("h1") == "Sign in to Alur"
    context.close()


CONTRAST = """selector => Array.from(document.querySelectorAll(selector)).filter(e => e.innerText.trim()).map(e => {
    const luminance = color => {
        const [r, g, b] = color.match(/[\\d.]+/g).slice(0, 3).map(v => v / 255)
            .map(c => c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
        return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
    const style = getComputedStyle(e);
    const [light, dark] = [luminance(style.color), luminance(style.backgroundColor)].sort((a, b) => b - a);
    return [e.className, e.innerText.trim(), Math.round((light + 0.05) / (dark + 0.05) * 100) / 100]; })"""


def test_the_badges_words_contrast_enough_with_their_colour(playwright_browser, server, clock):
    """The orange 'Terlambat' badge (and the monitoring's orange chips) had white text at 4.3:1, and the heat
    map's amber and grey badges and legend at 2.9:1 and 2.5:1: under the 4.5:1 that small text needs, so
    staff with low vision could not read the very words that say a step is late."""
    from engine import services
    from tests.integration.sop import do_step
    rt, base = server
    instance_id = services.start(rt, "monev_kegiatan_bidang", "aptika", "Layanan email dinas", "sekretaris")
    for step in (1, 2):
        do_step(rt, instance_id, step)
    clock.advance(hours=3)
    Scheduler(rt, deliver=False).run_pass()
    for login, path, ready in (("aptika.implementasi", "/", None), ("aptika.implementasi", f"/kegiatan/{instance_id}", None),
                               ("kadis", "/monitoring", "#heatmap[data-ready]")):
        page = sign_in(playwright_browser, base, login)
        page.goto(base + path)
        if ready:
            page.wait_for_selector(ready)
        badges = page.evaluate(CONTRAST, ".badge, .chip, .heat, .heat-badge")
        assert any("overdue" in kind for kind, _, _ in badges), (path, badges)
        assert [b for b in badges if b[2] < 4.5] == [], path
        page.close()


def test_a_text_fields_edge_stands_out_from_the_page(playwright_browser, server):
    """Text fields, lists and text areas were edged in a pale grey at 1.35:1 against the white card: staff
    with low vision could not see where to type (a component's edge needs 3:1)."""
    from engine import services
    rt, base = server
    services.start(rt, "monev_kegiatan_bidang", "aptika", "Layanan email dinas", "sekretaris")
    staff = sign_in(playwright_browser, base, "aptika.implementasi")
    claim_and_open_first(staff, 1)
    edges = staff.evaluate("""Array.from(document.querySelectorAll('#step-form :is(textarea, input[type=date])'))
        .map(e => { const card = getComputedStyle(e.closest('.card')).backgroundColor;
                    return [e.name, getComputedStyle(e).borderTopColor, card]; })""")
    assert len(edges) == 3
    for name, edge, card in edges:
        assert contrast(edge, card) >= 3, (name, edge, card)


def contrast(*colors: str) -> float:
    """The contrast ratio of two CSS rgb() colours."""
    def luminance(color: str) -> float:
        r, g, b = (int(v) / 255 for v in re.findall(r"[\d.]+", color)[:3])
        return sum(w * (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
                   for w, c in zip((0.2126, 0.7152, 0.0722), (r, g, b)))
    light, dark = sorted(map(luminance, colors), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def skip_to_content(page) -> None:
    """Enter on the focused 'Langsung ke isi' link; the next Tab starts from the content only once the
    browser has followed the link, which it does after the key press returns."""
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#isi"
    page.keyboard.press("Enter")
    page.wait_for_function("location.hash === '#isi'")


def test_on_a_phone_the_heat_maps_badges_stay_readable_and_apart(playwright_browser, server, clock):
    """At 375 px the diagram was shrunk to fit the screen (about a ninth of its size) while its badges kept
    their full size: fifteen badges were drawn over one another. The diagram now keeps a size its badges
    fit in, and its box scrolls sideways."""
    from engine import services
    from tests.integration.sop import do_step
    rt, base = server
    for title in ("Layanan email dinas", "Pengembangan aplikasi", "Sosialisasi keamanan informasi"):
        instance_id = services.start(rt, "monev_kegiatan_bidang", "aptika", title, "sekretaris")
        clock.advance(hours=3)
        do_step(rt, instance_id, 1)
        do_step(rt, instance_id, 2)
    page = sign_in(playwright_browser, base, "kadis")
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(base + "/monitoring")
    page.wait_for_selector("#heatmap[data-ready]")
    badges = page.evaluate("""Array.from(document.querySelectorAll('.heat-badge')).map(b => {
        const r = b.getBoundingClientRect(); return [b.dataset.step, r.left, r.top, r.right, r.bottom]; })""")
    assert len(badges) >= 15
    for i, (step, left, top, right, bottom) in enumerate(badges):
        assert bottom - top >= 20, (step, bottom - top)  # two lines of at least 10 px: not shrunk
        for other, l2, t2, r2, b2 in badges[i + 1:]:
            assert right <= l2 or r2 <= left or bottom <= t2 or b2 <= top, (step, other)
    shot(page, "monitoring-phone-heatmap")
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths  # the diagram's box scrolls, not the page


def _an_activity_on_a_phone(playwright_browser, server):
    """A new activity's page at 375 × 812, its diagram drawn: the page."""
    from engine import services
    rt, base = server
    instance_id = services.start(rt, "monev_kegiatan_bidang", "aptika", "Layanan email dinas", "sekretaris")
    page = sign_in(playwright_browser, base, "aptika.implementasi")
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{base}/kegiatan/{instance_id}")
    page.wait_for_selector("#diagram[data-ready]")
    return page


def test_on_a_phone_the_activitys_diagram_keeps_a_readable_size_and_scrolls(playwright_browser, server):
    """At 375 px the activity's diagram was shrunk to fit the screen (its steps a few pixels high, their
    names unreadable). It keeps the heat map's smallest zoom, in a box that scrolls sideways, not the page."""
    page = _an_activity_on_a_phone(playwright_browser, server)
    step = page.locator('#diagram .djs-shape[data-element-id="Step_01"]').bounding_box()
    assert step["width"] >= 0.4 * 100 - 1, step  # a task is 100 units wide; at the smallest zoom, 40 px
    steps = "#diagram .djs-shape[data-element-id^=Step_]"
    assert boxes_outside(page, "#diagram", steps) == []  # the whole diagram, in its scrolling box
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths  # the diagram's box scrolls, not the page
    shot(page, "activity-phone-diagram")


def test_on_a_phone_the_activitys_diagram_box_is_as_high_as_the_diagram(playwright_browser, server):
    """At 375 px the diagram at its smallest zoom is about 200 px high, but its box kept the desktop's
    520 px: white bands above and below it, and the page's content pushed a screen down."""
    page = _an_activity_on_a_phone(playwright_browser, server)
    box, drawn = page.evaluate("""[document.getElementById('diagram').clientHeight,
                                   document.querySelector('#diagram .viewport').getBoundingClientRect().height]""")
    assert drawn <= box <= drawn + 2 * 12 + 4, (box, drawn)  # the diagram and its padding
    assert boxes_outside(page, "#diagram", "#diagram .djs-shape[data-element-id^=Step_]") == []


# One step between a start and an end event: a small SOP's diagram.
SMALL_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    id="Definitions_kecil" targetNamespace="http://alur.test">
  <bpmn:process id="kecil" isExecutable="true">
    <bpmn:startEvent id="Mulai"/><bpmn:task id="Step_01" name="Satu langkah"/><bpmn:endEvent id="Selesai"/>
    <bpmn:sequenceFlow id="f1" sourceRef="Mulai" targetRef="Step_01"/>
    <bpmn:sequenceFlow id="f2" sourceRef="Step_01" targetRef="Selesai"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="gambar"><bpmndi:BPMNPlane id="bidang" bpmnElement="kecil">
    <bpmndi:BPMNShape id="Mulai_di" bpmnElement="Mulai"><dc:Bounds x="100" y="100" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="Step_01_di" bpmnElement="Step_01"><dc:Bounds x="200" y="78" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="Selesai_di" bpmnElement="Selesai"><dc:Bounds x="360" y="100" width="36" height="36"/></bpmndi:BPMNShape>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>"""


@pytest.mark.parametrize("login, address, box", [("aptika.implementasi", "/kegiatan/{id}", "#diagram"),
                                                 ("kadis", "/monitoring", "#heatmap")])
def test_a_small_sops_diagram_is_not_blown_up_on_a_desktop(playwright_browser, server, login, address, box):
    """The activity's diagram was fitted as bpmn-js fits one, never above its own size; fitted for phones
    (refit.js), a one-step SOP filled the box, its step drawn almost five times its size."""
    from engine import services
    rt, base = server
    instance_id = services.start(rt, "monev_kegiatan_bidang", "aptika", "Layanan email dinas", "sekretaris")
    page = sign_in(playwright_browser, base, login)
    page.route("**/diagram.bpmn*", lambda route: route.fulfill(content_type="application/xml", body=SMALL_BPMN))
    page.goto(base + address.format(id=instance_id))
    page.wait_for_selector(f"{box}[data-ready]")
    step = page.locator(f'{box} .djs-shape[data-element-id="Step_01"] .djs-visual > rect').bounding_box()
    assert 100 <= step["width"] <= 106, step  # a task is 100 units wide (and its line): at its own size
    assert boxes_outside(page, box, f"{box} .djs-shape[data-element-id]") == []


def boxes_outside(page, container: str, items: str) -> list[str]:
    """The `items` whose box reaches past the `container`'s box (cut off, out of reach of its scrolling)."""
    return page.evaluate("""([container, items]) => {
        const c = document.querySelector(container).getBoundingClientRect();
        return Array.from(document.querySelectorAll(items)).filter(e => {
            const r = e.getBoundingClientRect();
            return r.left < c.left - 1 || r.right > c.right + 1 || r.top < c.top - 1 || r.bottom > c.bottom + 1;
        }).map(e => e.dataset.step || e.dataset.elementId); }""", [container, items])


def test_the_diagrams_fit_again_when_the_window_is_resized(playwright_browser, server, clock):
    """The heat map and the activity's diagram were fitted once, on loading: a window narrowed (a phone
    rotated) cut off the right of the diagram, and widened again, the heat map kept a phone's size."""
    from engine import services
    from tests.integration.sop import do_step
    rt, base = server
    instance_id = services.start(rt, "monev_kegiatan_bidang", "aptika", "Layanan email dinas", "sekretaris")
    clock.advance(hours=3)
    do_step(rt, instance_id, 1)
    page = sign_in(playwright_browser, base, "kadis")
    page.goto(base + "/monitoring")
    page.wait_for_selector("#heatmap[data-ready]")
    assert boxes_outside(page, "#heatmap", ".heat-badge") == []
    first_badge = "(() => { const r = document.querySelector('.heat-badge').getBoundingClientRect(); return [r.x, r.y]; })()"
    page.mouse.move(*page.evaluate("(() => { const r = document.getElementById('heatmap').getBoundingClientRect();"
                                   " return [r.x + r.width / 2, r.y + r.height / 2]; })()"))
    page.mouse.wheel(0, 60)  # the user pans the diagram
    page.wait_for_timeout(200)
    panned = page.evaluate(first_badge)
    page.set_viewport_size({"width": 1400, "height": 900})  # a phone's address bar: the height alone
    page.wait_for_timeout(300)
    assert page.evaluate(first_badge) == panned
    page.set_viewport_size({"width": 375, "height": 812})
    page.wait_for_timeout(300)
    assert boxes_outside(page, "#heatmap", ".heat-badge") == []  # the whole diagram, in its scrolling box
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.wait_for_timeout(300)
    width, page_width = page.evaluate("[document.getElementById('heatmap').offsetWidth,"
                                      " document.getElementById('heatmap').parentElement.clientWidth]")
    assert width == page_width  # the page's width again, not the phone's scrolling box
    assert boxes_outside(page, "#heatmap", ".heat-badge") == []

    page.goto(f"{base}/kegiatan/{instance_id}")
    page.wait_for_selector("#diagram[data-ready]")
    steps = "#diagram .djs-shape[data-element-id^=Step_]"
    assert boxes_outside(page, "#diagram", steps) == []
    page.set_viewport_size({"width": 375, "height": 812})
    page.wait_for_timeout(300)
    assert boxes_outside(page, "#diagram", steps) == []


@pytest.mark.parametrize("width", [1400, 375])
def test_the_heat_maps_badges_leave_each_steps_name_readable(playwright_browser, server, clock, width):
    """The badges were drawn in each step's top-left corner, over the start of its name (on a phone,
    over most of it). They sit above the step's top edge, inside the diagram's box."""
    from engine import services
    from tests.integration.sop import do_step
    rt, base = server
    instance_id = services.start(rt, "monev_kegiatan_bidang", "aptika", "Layanan email dinas", "sekretaris")
    clock.advance(hours=3)
    do_step(rt, instance_id, 1)
    page = sign_in(playwright_browser, base, "kadis")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(base + "/monitoring")
    page.wait_for_selector("#heatmap[data-ready]")
    covered = page.evaluate("""Array.from(document.querySelectorAll('.heat-badge')).map(badge => {
        const id = badge.closest('.djs-overlays').dataset.containerId;
        const b = badge.getBoundingClientRect();
        const texts = Array.from(document.querySelectorAll(
            `.djs-element[data-element-id="${id}"] .djs-visual text`)).map(t => t.getBoundingClientRect());
        return [id, texts.length, texts.some(t => b.left < t.right && t.left < b.right &&
                                                  b.top < t.bottom && t.top < b.bottom)]; })""")
    assert len(covered) >= 15
    assert [id for id, labels, over in covered if labels != 1 or over] == []
    assert boxes_outside(page, "#heatmap", ".heat-badge") == []
    shot(page, f"monitoring-heatmap-{width}")


@pytest.mark.parametrize("width", [1400, 390])
def test_the_step_tables_show_each_steps_whole_name(playwright_browser, server, width):
    """The monitoring step tables cut each step's name at 15rem with an ellipsis ("1 · Merencanakan keg…"):
    the rest was only in a tooltip, out of reach of the keyboard and of touch. A long name wraps."""
    rt, base = server
    page = sign_in(playwright_browser, base, "kadis")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(base + "/monitoring")
    cells = page.evaluate("""Array.from(document.querySelectorAll('td.step-name')).map(c => {
        const style = getComputedStyle(c);
        return [c.closest('table').id, c.parentElement.dataset.step, c.scrollWidth <= c.clientWidth,
                style.textOverflow, style.overflowX]; })""")
    assert len(cells) == 30
    assert [c for c in cells if c[2:] != [True, "clip", "visible"]] == []
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths  # the page does not scroll sideways for it


def typed_kept(page) -> list[str]:
    """The keys of the typed text the task page keeps in this tab's sessionStorage."""
    return page.evaluate("Object.keys(sessionStorage).filter((key) => key.startsWith('alur:typed:'))")


def sign_in_again(page, login: str) -> None:
    """On the sign-in page (a session that ran out led there): signing in, which leads back."""
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")


def test_what_was_typed_comes_back_after_the_session_ran_out(playwright_browser, server):
    """A session that ran out while a step's form was being filled lost everything typed: sending
    answered with an error page, and after signing in again the form was empty. The page keeps the
    text fields in the tab's sessionStorage and puts them back; a completion (or a draft) drops them."""
    from engine import services, worklist
    rt, base = server
    instance_id = services.start(rt, "monev_kegiatan_bidang", "aptika", "Layanan email dinas", "sekretaris")
    staff = sign_in(playwright_browser, base, "aptika.implementasi")
    claim_and_open_first(staff, 1)
    task_url = staff.url
    staff.fill("textarea[name=rencana_kegiatan]", "Rencana yang panjang diketik")
    staff.fill("input[name=tanggal_mulai]", "2026-03-02")
    staff.context.clear_cookies()  # the session ran out: the browser drops the expired cookie
    staff.click("button[value=complete]")
    staff.wait_for_url(re.compile(r".*/masuk\?next="))  # the sign-in page, leading back to the task
    assert "Sesi Anda telah berakhir" in staff.inner_text("main")
    assert [t["step"] for t in worklist.tasks(rt, instance_id=instance_id)] == [1]  # nothing was sent
    sign_in_again(staff, "aptika.implementasi")
    staff.wait_for_selector("#step-form")
    assert staff.url == task_url
    assert staff.input_value("textarea[name=rencana_kegiatan]") == "Rencana yang panjang diketik"
    assert staff.input_value("input[name=tanggal_mulai]") == "2026-03-02"
    assert staff.locator("#typed-restored").is_visible()

    # Another user in this tab never gets it; nor does a form whose task moved on meanwhile.
    assert typed_kept(staff) and all("aptika.implementasi" in key for key in typed_kept(staff))
    staff.fill("input[name=tanggal_selesai]", "2026-03-01")  # before the start: refused, kept
    staff.click("button[value=complete]")
    staff.wait_for_selector(".field-error")
    staff.fill("input[name=tanggal_selesai]", "2026-03-31")
    staff.click("button[value=complete]")
    staff.wait_for_url(f"{base}/")
    assert [t["step"] for t in worklist.tasks(rt, instance_id=instance_id)] == [2]
    assert typed_kept(staff) == []


def test_another_user_signing_in_in_the_tab_drops_what_the_last_one_kept(playwright_browser, server):
    """On a shared office computer the text one user typed stayed in the tab's sessionStorage when their
    session ran out and someone else signed in there (readable in the browser's tools); signing in as
    another user drops it."""
    from engine import services
    rt, base = server
    services.start(rt, "monev_kegiatan_bidang", "aptika", "Layanan email dinas", "sekretaris")
    staff = sign_in(playwright_browser, base, "aptika.implementasi")
    claim_and_open_first(staff, 1)
    staff.fill("textarea[name=rencana_kegiatan]", "Rahasia yang diketik")
    staff.context.clear_cookies()  # the session ran out; the next person uses the same tab
    staff.goto(f"{base}/masuk")
    assert typed_kept(staff)  # kept for its user signing in again
    sign_in_again(staff, "aptika.teknis")
    staff.wait_for_url(f"{base}/")
    assert typed_kept(staff) == []


def test_a_newer_draft_wins_over_what_the_tab_kept(playwright_browser, server):
    """Text kept in the tab is not put back over a draft saved since (in another tab, or by the draft
    button), and saving a draft or signing out drops what the tab kept."""
    from engine import queries, services, worklist
    rt, base = server
    instance_id = services.start(rt, "monev_kegiatan_bidang", "aptika", "Layanan email dinas", "sekretaris")
    staff = sign_in(playwright_browser, base, "aptika.implementasi")
    claim_and_open_first(staff, 1)
    staff.fill("textarea[name=rencana_kegiatan]", "Diketik di tab ini")
    [task] = worklist.tasks(rt, instance_id=instance_id)
    queries.save_draft(rt, task["id"], "aptika.implementasi", {"rencana_kegiatan": "Draf dari tab lain"})
    staff.reload()
    assert staff.input_value("textarea[name=rencana_kegiatan]") == "Draf dari tab lain"
    assert typed_kept(staff) == []
    staff.fill("textarea[name=rencana_kegiatan]", "Lalu disimpan sebagai draf")
    staff.click("button[value=draft]")
    staff.wait_for_selector("text=Draf disimpan.")
    assert typed_kept(staff) == []
    staff.fill("textarea[name=rencana_kegiatan]", "Diketik lalu keluar")  # a shared computer: signing out drops it
    assert typed_kept(staff)
    staff.click("text=Keluar")
    staff.wait_for_url(re.compile(r".*/masuk$"))
    assert typed_kept(staff) == []


def task_page_on_a_clock(playwright_browser, server):
    """Step 1's task page, claimed by aptika.implementasi, with the page's clock installed; and its
    session warning."""
    from engine import services
    rt, base = server
    services.start(rt, "monev_kegiatan_bidang", "aptika", "Layanan email dinas", "sekretaris")
    staff = sign_in(playwright_browser, base, "aptika.implementasi")
    staff.clock.install()
    claim_and_open_first(staff, 1)
    return staff, staff.locator("#session-ending")


def test_a_notice_before_the_session_runs_out_keeps_it(playwright_browser, server):
    """Nothing warned that the session was about to run out (WCAG 2.2.1): shortly before, the task page
    says so and offers to stay signed in, which keeps the session alive."""
    staff, notice = task_page_on_a_clock(playwright_browser, server)
    assert not notice.is_visible()
    staff.clock.fast_forward("57:00")
    assert not notice.is_visible()
    staff.set_viewport_size({"width": 1400, "height": 400})
    staff.locator("button[value=complete]").scroll_into_view_if_needed()  # typing at the bottom of the form
    staff.clock.fast_forward("01:30")  # two minutes before the 60 idle minutes end
    assert notice.is_visible() and notice.get_attribute("role") == "alert"
    box = notice.bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= 400  # in sight, wherever the page was scrolled to
    with staff.expect_response(lambda response: response.request.method == "HEAD") as pinged:
        notice.locator("button").click()
    assert pinged.value.ok
    assert not notice.is_visible()
    staff.clock.fast_forward("57:00")  # counted again from the ping
    assert not notice.is_visible()

    # Too late (the computer slept): the button leads to signing in, and back to the task.
    staff.fill("textarea[name=rencana_kegiatan]", "Diketik sebelum tidur")
    staff.clock.fast_forward("01:30")
    staff.context.clear_cookies()
    task_url = staff.url
    notice.locator("button").click()
    staff.wait_for_url(re.compile(r".*/masuk\?next="))
    sign_in_again(staff, "aptika.implementasi")
    staff.wait_for_url(task_url)
    assert staff.input_value("textarea[name=rencana_kegiatan]") == "Diketik sebelum tidur"


def test_the_session_warning_counts_from_the_last_request_of_any_tab(playwright_browser, server):
    """The warning was timed from the page's own loading: with the worklist used in another tab meanwhile
    (every request renews the session), the task page still said the session was about to end. It
    counts from the browser's last request, in any of its tabs, and goes when another tab renews it."""
    _rt, base = server
    staff, notice = task_page_on_a_clock(playwright_browser, server)
    other = staff.context.new_page()
    staff.clock.fast_forward("30:00")
    other.goto(base + "/")  # work in another tab
    staff.clock.fast_forward("29:00")  # 59 minutes after the task page loaded, 29 after the last request
    assert not notice.is_visible()
    staff.clock.fast_forward("28:30")
    assert not notice.is_visible()
    staff.clock.fast_forward("01:00")  # two minutes before the session ends
    assert notice.is_visible()
    other.goto(base + "/kegiatan")
    notice.wait_for(state="hidden")


REPORT = "/monitoring/laporan?dari=2026-02-01&sampai=2026-03-01&bidang=aptika"


@pytest.mark.parametrize("login, address, typed, send", [
    pytest.param("aptika.implementasi", "/kegiatan/baru",
                 {"input[name=title]": "Judul kegiatan yang panjang", "input[name=period]": "Maret 2026"},
                 "main form button[type=submit]", id="start"),
    pytest.param("sekretaris", REPORT,
                 {"textarea[name=kesimpulan]": "Kesimpulan yang panjang\ndua baris", "textarea[name=rekomendasi]": "Saran"},
                 "#report-form button[type=submit]", id="report"),
    pytest.param("sekretaris", "/monitoring/formulir-sop?dari=2026-02-01&sampai=2026-03-01&bidang=aptika",
                 {"textarea[name=catatan-1]": "Catatan langkah satu", "input[name=penilai-2]": "Penilai dua",
                  "input[name=berjalan_baik-1][value=tidak]": True, "textarea[name=tindakan-1]": "Diperbaiki"},
                 "#sop-form button[type=submit]", id="sop-form"),
    pytest.param("pemilik.proses", "/sop/monev_kegiatan_bidang/kop",
                 {"textarea[name=dasar_hukum]": "Peraturan Menteri A\nPeraturan Daerah B", "input[name=nomor]": "800/1"},
                 ".kop-form button[type=submit]", id="sop-header"),
    pytest.param("admin", "/admin/pengguna?login=aptika.teknis",
                 {"input[name=name]": "Nama Baru Teknis", "input[name=email]": "teknis@contoh.go.id",
                  "input[name=active]": False},
                 "#user-form button[type=submit]", id="user"),
    pytest.param("admin", "/admin/bidang?code=ikp", {"input[name=name]": "Informasi dan Komunikasi Publik"},
                 "main form.card button[type=submit]", id="bidang"),
    pytest.param("aptika.implementasi", "/token", {"input[name=name]": "skrip laporan bulanan"},
                 "main form.card button[type=submit]", id="token"),
])
def test_what_was_typed_on_any_form_comes_back_after_the_session_ran_out(playwright_browser, server, login,
                                                                         address, typed, send):
    """Only the task page kept typed text: a session that ran out on the start page, the SOP header, a
    report's conclusion, the SOP form, the admin forms or the token form led, after signing in again, to
    an empty form. Each keeps it (text and ticks) in the tab, warns before the idle time ends, and drops it
    once sent."""
    base = server[1]
    page = sign_in(playwright_browser, base, login)
    page.goto(base + address)
    for answer in page.locator("input[type=radio][value=ya]").all():  # the SOP form's steps, answered first
        answer.check()
    for field, value in typed.items():
        page.set_checked(field, value) if isinstance(value, bool) else page.fill(field, value)
    if page.locator("input[name=password]").count():  # a password is never kept in the tab
        page.fill("input[name=password]", "Rahasia-baru-99")
    kept = page.evaluate("JSON.stringify(sessionStorage)")
    token = page.get_attribute("meta[name=csrf-token]", "content")
    assert typed_kept(page) and "Rahasia" not in kept and token not in kept
    assert page.locator("#session-ending").count() == 1
    page.context.clear_cookies()  # the session ran out
    page.click(send)
    page.wait_for_url(re.compile(r".*/masuk\?next="))
    sign_in_again(page, login)
    page.wait_for_url(base + address)  # the same page, with its query string
    for field, value in typed.items():
        assert (page.is_checked(field) if isinstance(value, bool) else page.input_value(field)) == value
    assert page.locator("#typed-restored").is_visible()
    if page.locator("input[name=password]").count():
        assert page.input_value("input[name=password]") == ""
    page.click(send)
    page.wait_for_selector(".flash.success")
    page.wait_for_load_state()  # keep.js has read the page
    assert typed_kept(page) == []


def test_a_conclusion_saved_meanwhile_wins_over_what_the_tab_kept(playwright_browser, server):
    """Text kept in the tab is not put back over a conclusion saved since (by a colleague)."""
    from datetime import date
    from engine import reports
    rt, base = server
    page = sign_in(playwright_browser, base, "sekretaris")
    page.goto(base + REPORT)
    page.fill("textarea[name=kesimpulan]", "Diketik di tab ini")
    reports.save_report(rt, "kadis", date(2026, 2, 1), date(2026, 3, 1), "aptika", None, "Disimpan rekan", "")
    page.reload()
    assert page.input_value("textarea[name=kesimpulan]") == "Disimpan rekan"
    assert not page.locator("#typed-restored").is_visible()
    assert typed_kept(page) == []


def test_the_sop_pages_own_print_names_its_version_and_its_pages(playwright_browser, server, clock):
    """Printed from the browser, the SOP document's page is the PDF's paper: A4 landscape with its page
    numbers and its version, the day deployed and, for a replaced one, which version replaced it."""
    pypdf = pytest.importorskip("pypdf")
    rt, base = server
    key = "monev_kegiatan_bidang"
    clock.advance(days=7)
    definitions.update_header(rt, key, dict(definitions.get_version(rt, key).definition.header,
                                            tanggal_revisi="2026-03-09"), "pemilik.proses")
    page = sign_in(playwright_browser, base, "aptika.implementasi")
    page.goto(f"{base}/sop/{key}/v1")
    reader = pypdf.PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True)))
    pages = [" ".join(p.extract_text().split()) for p in reader.pages]
    assert len(pages) == 3
    assert float(reader.pages[0].mediabox.width) > float(reader.pages[0].mediabox.height)
    assert "SOP 000.8.3.3/327 · versi 1, 2 Maret 2026 · diganti versi 2" in pages[-1] and "Halaman 3 dari 3" in pages[-1]
    assert "Halaman 1 dari 3" in pages[0] and "Unduh PDF" not in pages[0]
    # The table breaks where the document planned it, at its off-page connectors ("A", row 10 to row 11).
    doc = sop_document.build(definitions.get_version(rt, key, 1).definition, rt.calendar.rule())
    assert [m.label for m in doc.off_page] == ["A"]
    for row in doc.rows:
        assert f"{row.number} {' '.join(row.uraian.split())}" in pages[row.page], row.number
