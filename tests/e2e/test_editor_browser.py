"""The SOP editor in Debian's Chromium: move a step to another lane, change its standard time, deploy.

Same set-up as tests/e2e/test_browser.py: the real app on loopback in a
thread, with a ManualClock, driven by Playwright.
"""
from __future__ import annotations

import re

from engine import editor, services, worklist
from engine.db import Instance, TaskRow
from process.mutu_baku import MutuBaku
from sqlalchemy import select
from tests.e2e.test_browser import playwright_browser, server, shot, sign_in  # noqa: F401 (fixtures)
from tests.integration.sop import do_step, nested_lanes

KEY = "monev_kegiatan_bidang"


def drive_to_step7(rt, instance_id: int) -> TaskRow:
    for step in range(1, 7):
        do_step(rt, instance_id, step, {"terverifikasi": True} if step == 5 else None)
    with rt.uow() as session:
        return session.scalars(select(TaskRow).where(TaskRow.instance_id == instance_id,
                                                     TaskRow.state == "open")).one()


def lane_of(page, element_id: str) -> str:
    return page.evaluate("""(id) => {
        const registry = window.alurModeler.get('elementRegistry');
        const lane = registry.filter((e) => e.type === 'bpmn:Lane')
            .find((l) => (l.businessObject.flowNodeRef || []).some((n) => n.id === id));
        return lane ? lane.id : null;
    }""", element_id)


def drag_step7_into_administrasi(page) -> None:
    """Drag the shape like a user; if the drop did not land in the lane, move it through the modeler's API."""
    # Scale 1 around steps 6 to 8, so both lanes are on screen.
    page.evaluate("""() => { const canvas = window.alurModeler.get('canvas');
        const { width, height } = canvas.getSize();
        canvas.viewbox({ x: 1480 - width / 2, y: 40, width, height }); }""")
    box = page.locator('.djs-element.djs-shape[data-element-id="Step_07"]').bounding_box()
    start = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.move(*start)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(start[0], start[1] - 340 * i / 20)
    page.mouse.up()
    if lane_of(page, "Step_07") != "Lane_Administrasi":
        print("dragging did not move Step_07 into the lane; moving it through modeling.moveElements")
        page.evaluate("""() => {
            const m = window.alurModeler, registry = m.get('elementRegistry');
            const shape = registry.get('Step_07');
            m.get('modeling').moveElements([shape], {x: 0, y: 125 - shape.y}, registry.get('Lane_Administrasi'));
        }""")


def open_editor(page, base: str, key: str = KEY):
    """The editor of `key`, once bpmn-js has drawn the diagram; returns the page."""
    page.goto(f"{base}/editor/{key}")
    page.wait_for_selector("#modeler[data-ready=true]")
    return page


def test_the_process_owner_moves_step_7_and_changes_its_standard_time(playwright_browser, server, clock):
    rt, base = server
    before = services.start(rt, KEY, "aptika", "Dimulai sebelum perubahan", "sekretaris")

    owner = sign_in(playwright_browser, base, "pemilik.proses")
    owner.click("text=Editor SOP")
    owner.click(f'tr[data-key="{KEY}"] >> text=Ubah')
    owner.wait_for_selector("#modeler[data-ready=true]")
    assert owner.locator("#deploy").is_disabled()
    shot(owner, "editor-open")

    drag_step7_into_administrasi(owner)
    assert lane_of(owner, "Step_07") == "Lane_Administrasi"
    assert owner.locator("#deploy").is_disabled()  # unsaved changes

    # The side panel: step 7's standard time from 30 to 60 Menit.
    owner.evaluate("() => { const m = window.alurModeler; m.get('selection').select(m.get('elementRegistry').get('Step_07')); }")
    owner.wait_for_selector('#panel[data-element="Step_07"] input[name=mutu_baku]')
    assert owner.input_value("#panel input[name=mutu_baku]") == "30 Menit"
    assert owner.input_value("#panel input[name=step]") == "7"
    assert "Dokumen kegiatan atau layanan" in owner.input_value("#panel textarea[name=kelengkapan]")
    owner.fill("#panel input[name=mutu_baku]", "60 Menit")
    owner.press("#panel input[name=mutu_baku]", "Tab")
    assert owner.evaluate("""() => {
        const timer = window.alurModeler.get('elementRegistry').get('Timer_07').businessObject;
        return [timer.eventDefinitions[0].timeDuration.body, timer.name, timer.cancelActivity];
    }""") == ["PT60M", "60 Menit", False]
    shot(owner, "editor-step7-panel")

    owner.click("#save-draft")
    owner.wait_for_function("() => document.getElementById('status').textContent.includes('Draf disimpan')")
    assert owner.locator("#problem-list li").count() == 0
    assert owner.locator("#deploy").is_enabled()
    shot(owner, "editor-saved")

    # The saved draft keeps every alur attribute through bpmn-js's export.
    draft_xml = owner.evaluate(f"() => fetch('/editor/{KEY}/sumber.json').then((r) => r.json()).then((s) => s.bpmn_xml)")
    assert len(re.findall(r'<bpmn:lane [^>]*alur:role="', draft_xml)) == 4
    assert len(re.findall(r'<bpmn:lane [^>]*alur:scope="', draft_xml)) == 4
    assert len(re.findall(r'<bpmn:userTask [^>]*alur:step="\d+"', draft_xml)) == 15

    owner.click("#deploy")
    owner.wait_for_url(f"{base}/editor/{KEY}/versi")
    summary = owner.inner_text('#versions tr[data-version="2"]')
    assert "Langkah 7 dipindah dari Tim Implementasi ke Tim Administrasi" in summary
    assert "Langkah 7: waktu baku 30 Menit menjadi 60 Menit" in summary
    assert owner.locator(f'#candidates tr[data-instance="{before}"]').count() == 1  # may be migrated, not forced
    shot(owner, "editor-versions")

    # A problem is pinned to its element: a draft without step 7's SOP number.
    open_editor(owner, base, KEY)
    owner.evaluate("""() => { const m = window.alurModeler;
        m.get('modeling').updateProperties(m.get('elementRegistry').get('Step_07'), {'alur:step': undefined}); }""")
    owner.click("#save-draft")
    owner.wait_for_selector('.djs-overlay-problem .problem-badge')
    assert owner.locator('#problem-list li[data-element="Step_07"]').count() >= 1
    assert owner.locator("#deploy").is_disabled()
    shot(owner, "editor-problems")

    # New work follows version 2; work started before keeps version 1.
    after = services.start(rt, KEY, "aptika", "Dimulai sesudah perubahan", "sekretaris")
    with rt.uow() as session:
        assert session.get(Instance, after).definition.version == 2
        assert session.get(Instance, before).definition.version == 1
    old_row = drive_to_step7(rt, before)
    new_row = drive_to_step7(rt, after)
    assert old_row.lane_role == "implementasi"
    assert old_row.due_at == rt.calendar.due(old_row.created_at, MutuBaku.parse("30 Menit"))
    assert new_row.lane_role == "administrasi"
    assert new_row.due_at == rt.calendar.due(new_row.created_at, MutuBaku.parse("60 Menit"))
    assert {t["instance_id"] for t in worklist.tasks(rt, "aptika.administrasi")} == {after}
    assert {t["instance_id"] for t in worklist.tasks(rt, "aptika.implementasi")} == {before}

    administrasi = sign_in(playwright_browser, base, "aptika.administrasi")
    team = administrasi.inner_text("#team ~ table")
    assert "7. Memberikan Data Kegiatan" in team and "Dimulai sesudah perubahan" in team
    assert "Dimulai sebelum perubahan" not in team
    shot(administrasi, "editor-step7-offered-to-administrasi")


def select_element(page, element_id: str) -> None:
    page.evaluate("""(id) => { const m = window.alurModeler;
        m.get('selection').select(m.get('elementRegistry').get(id)); }""", element_id)
    page.wait_for_selector(f'#panel[data-element="{element_id}"]')


def change(page, selector: str, value: str) -> None:
    page.fill(f"#panel {selector}", value)
    page.press(f"#panel {selector}", "Tab")


def save(page, key: str = KEY) -> dict:
    page.evaluate("() => { document.getElementById('status').textContent = ''; }")
    page.click("#save-draft")
    page.wait_for_function("() => /Draf disimpan|Gagal/.test(document.getElementById('status').textContent)")
    return page.evaluate(f"() => fetch('/editor/{key}/sumber.json').then((r) => r.json())")


def test_the_side_panel_edits_lanes_conditions_forms_and_creates_a_missing_timer(playwright_browser, server):
    rt, base = server
    owner = sign_in(playwright_browser, base, "pemilik.proses")
    console: list[str] = []
    owner.on("console", lambda message: console.append(message.text))
    open_editor(owner, base, KEY)
    assert not [m for m in console if "unsupported configuration" in m], console

    # A date field may name the date it cannot be before (step 1: the end of implementation, its start).
    select_element(owner, "Step_01")
    assert owner.input_value("#panel .form-field[data-index='2'] select[name=field_not_before]") == "tanggal_mulai"
    assert owner.locator("#panel .form-field[data-index='0'] select[name=field_not_before]").count() == 0
    # A number field may say the smallest number it takes (step 3: people served, never negative).
    select_element(owner, "Step_03")
    served = owner.locator("#panel .form-field[data-index='1'] input[name=field_min]")
    assert served.input_value() == "0"
    assert owner.locator("#panel .form-field[data-index='0'] input[name=field_min]").count() == 0
    served.fill("1")
    served.press("Tab")
    # ... and whether it takes whole numbers only (people served: yes); unticked here, it takes 12,5.
    whole = owner.locator("#panel .form-field[data-index='1'] input[name=field_whole]")
    assert whole.is_checked()
    assert owner.locator("#panel .form-field[data-index='0'] input[name=field_whole]").count() == 0
    whole.uncheck()

    # A lane: its name, role and scope.
    select_element(owner, "Lane_Teknis")
    assert owner.input_value("#panel select[name=role]") == "teknis"
    change(owner, "input[name=name]", "Tim Teknis Bidang")
    owner.select_option("#panel select[name=scope]", "office")

    # A flow out of a gateway: a condition reading data no form provides is a problem pinned to the flow.
    select_element(owner, "Flow_12_Ya")
    assert owner.input_value("#panel input[name=condition]") == "ada_kendala == True"
    change(owner, "input[name=condition]", "kendala_berat == True")
    source = save(owner)
    [problem] = [p for p in source["problems"] if p["severity"] == "error"]
    assert problem["element_id"] == "Flow_12_Ya" and "kendala_berat" in problem["message"]
    # The gateway may now find no way on: a warning of its own, pinned to the gateway.
    assert [p["element_id"] for p in source["problems"] if p["severity"] == "warning"] == ["Gateway_12"]
    assert owner.locator('.djs-overlay-problem .problem-badge').count() == 2
    assert owner.locator("#deploy").is_disabled()

    # A step without a standard time gets its timer from the panel.
    owner.evaluate("""() => { const m = window.alurModeler;
        m.get('modeling').removeShape(m.get('elementRegistry').get('Timer_09')); }""")
    select_element(owner, "Step_09")
    assert owner.input_value("#panel input[name=mutu_baku]") == ""
    change(owner, "input[name=mutu_baku]", "sepuluh menit")
    assert "Tidak terbaca" in owner.inner_text("#panel")
    change(owner, "input[name=mutu_baku]", "2 Hari Kalender")
    timer = owner.evaluate("""() => {
        const task = window.alurModeler.get('elementRegistry').get('Step_09');
        const t = task.attachers.find((a) => a.type === 'bpmn:BoundaryEvent');
        return t && [t.businessObject.cancelActivity, t.businessObject.eventDefinitions[0].timeDuration.body, t.businessObject.name];
    }""")
    assert timer == [False, "P2D", "2 Hari Kalender"]

    # The step's form: one more field, a choice.
    owner.click("#panel button[name=add_field]")
    last = owner.locator("#panel fieldset.form-field").last
    last.locator("input[name=field_name]").fill("cara_terima")
    last.locator("input[name=field_name]").press("Tab")
    last.locator("input[name=field_label]").fill("Cara menerima data")
    last.locator("input[name=field_label]").press("Tab")
    last.locator("select[name=field_type]").select_option("choice")
    last = owner.locator("#panel fieldset.form-field").last
    last.locator("input[name=field_choices]").fill("Surel, Google Drive")
    last.locator("input[name=field_choices]").press("Tab")
    change(owner, "textarea[name=output]", "Data diterima")

    select_element(owner, "Flow_12_Ya")
    change(owner, "input[name=condition]", "ada_kendala == True")
    source = save(owner)
    assert source["problems"] == []
    assert owner.locator("#deploy").is_enabled()
    shot(owner, "editor-side-panel")

    assert source["steps"]["3"]["form"][1] == {"name": "jumlah_penerima_manfaat", "label": "Jumlah penerima layanan",
                                               "type": "number", "min": 1}
    step9 = source["steps"]["9"]
    assert step9["output"] == "Data diterima" and step9["counting"] == {"days": "kalender"}
    assert step9["form"][-1] == {"name": "cara_terima", "label": "Cara menerima data", "type": "choice",
                                 "choices": ["Surel", "Google Drive"]}
    xml = source["bpmn_xml"]
    assert re.search(r'<bpmn:lane id="Lane_Teknis" name="Tim Teknis Bidang" alur:role="teknis" alur:scope="office"', xml)
    owner.click("#deploy")
    owner.wait_for_url(f"{base}/editor/{KEY}/versi")
    summary = owner.inner_text('#versions tr[data-version="2"]')
    assert "Langkah 9: waktu baku 5 Menit menjadi 2 Hari" in summary
    assert "Langkah 9: isian formulir diubah" in summary
    deployed = editor.definition_of(rt, KEY, 2)
    step = deployed.step(9)
    assert (step.mutu_baku, step.counting["days"], step.form.fields[-1].choices) == (
        MutuBaku.parse("2 Hari"), "kalender", ("Surel", "Google Drive"))
    assert deployed.step(5).lane.scope == "office"
    assert [f.min for f in deployed.step(3).form.fields] == [None, 1, None]


def test_a_camunda_modeler_file_is_uploaded_and_opened_in_the_editor(playwright_browser, server, tmp_path):
    rt, base = server
    from tests.integration.test_definitions import CAMUNDA_BPMN
    upload = tmp_path / "surat.bpmn"
    upload.write_text(CAMUNDA_BPMN, encoding="utf-8")
    owner = sign_in(playwright_browser, base, "pemilik.proses")
    owner.goto(f"{base}/editor/")
    owner.set_input_files("#upload-form input[name=bpmn]", str(upload))
    owner.click("#upload-form button[type=submit]")
    owner.wait_for_url(f"{base}/editor/Process_surat_masuk")
    owner.wait_for_selector("#modeler[data-ready=true]")
    assert "masalah" in owner.inner_text("main .flash")
    assert owner.locator('#problem-list li[data-element="Activity_catat"]').count() >= 2
    assert owner.locator('#problem-list li[data-element="Activity_kirim"]').count() == 1
    assert owner.locator(".djs-overlay-problem .problem-badge").count() == 2
    shot(owner, "editor-camunda-upload")

    # Alur's attributes are added beside Camunda's, which are kept.
    select_element(owner, "Activity_catat")
    change(owner, "input[name=step]", "1")
    change(owner, "input[name=mutu_baku]", "1 Hari")
    source = save(owner, "Process_surat_masuk")
    xml = source["bpmn_xml"]
    assert 'xmlns:alur="https://alur.id/schema/bpmn/1.0"' in xml
    assert re.search(r'<bpmn:userTask id="Activity_catat" name="Catat surat" [^>]*camunda:assignee="demo"', xml)
    assert re.search(r'<bpmn:userTask [^>]*alur:step="1"', xml)
    assert re.search(r'<bpmn:boundaryEvent [^>]*cancelActivity="false" attachedToRef="Activity_catat"', xml)
    messages = [p["message"] for p in source["problems"]]
    assert not any("belum memiliki nomor SOP" in m or "belum memiliki mutu baku waktu" in m for m in messages)
    assert any("tidak berada di lane mana pun" in m for m in messages) and any("serviceTask" in m for m in messages)


def test_the_editor_opens_with_the_whole_diagram_clear_of_the_palette(playwright_browser, server):
    _, base = server
    owner = open_editor(sign_in(playwright_browser, base, "pemilik.proses"), base)
    shot(owner, "editor-opened-beside-palette")
    palette = owner.locator("#modeler .djs-palette").bounding_box()
    modeler = owner.locator("#modeler").bounding_box()
    shapes = owner.evaluate("""() => window.alurModeler.get('elementRegistry')
        .filter((e) => e.type === 'bpmn:StartEvent' || e.type === 'bpmn:Participant' || e.type === 'bpmn:EndEvent')
        .map((e) => e.id)""")
    for element_id in shapes:
        box = owner.locator(f'.djs-element.djs-shape[data-element-id="{element_id}"]').bounding_box()
        assert box["x"] >= palette["x"] + palette["width"], element_id  # not under the palette
        assert box["x"] + box["width"] <= modeler["x"] + modeler["width"] + 1, element_id  # nor cut off on the right


def test_a_field_given_another_type_or_name_in_the_side_panel_keeps_no_hidden_key(playwright_browser, server):
    """min and not_before are shown for number and date fields only: kept past a change of type they were
    errors the panel gave no way to clear (its input was gone)."""
    rt, base = server
    owner = open_editor(sign_in(playwright_browser, base, "pemilik.proses"), base)
    # Step 3's count of people served becomes a text: its min goes with the number type.
    select_element(owner, "Step_03")
    owner.locator("#panel .form-field[data-index='1'] input[name=field_whole]").check()
    owner.locator("#panel .form-field[data-index='1'] select[name=field_type]").select_option("text")
    assert owner.locator("#panel input[name=field_min]").count() == 0
    assert owner.locator("#panel input[name=field_whole]").count() == 0
    # Step 1's end date becomes a text: its not_before goes with the date type.
    select_element(owner, "Step_01")
    owner.locator("#panel .form-field[data-index='2'] select[name=field_type]").select_option("text")
    source = save(owner)
    assert source["problems"] == []
    assert source["steps"]["3"]["form"][1] == {"name": "jumlah_penerima_manfaat", "label": "Jumlah penerima layanan",
                                               "type": "text"}
    assert "not_before" not in source["steps"]["1"]["form"][2]

    # Back to a date naming its start; the start renamed: the end follows it ...
    select_element(owner, "Step_01")
    owner.locator("#panel .form-field[data-index='2'] select[name=field_type]").select_option("date")
    owner.locator("#panel .form-field[data-index='2'] select[name=field_not_before]").select_option("tanggal_mulai")
    start_name = owner.locator("#panel .form-field[data-index='1'] input[name=field_name]")
    start_name.fill("mulai")
    start_name.press("Tab")
    assert owner.input_value("#panel .form-field[data-index='2'] select[name=field_not_before]") == "mulai"
    source = save(owner)
    assert source["problems"] == [] and source["steps"]["1"]["form"][2]["not_before"] == "mulai"
    # ... and the start removed, or made a text, leaves the end without it.
    owner.locator("#panel .form-field[data-index='1'] select[name=field_type]").select_option("text")
    source = save(owner)
    assert source["problems"] == [] and "not_before" not in source["steps"]["1"]["form"][2]
    owner.locator("#panel .form-field[data-index='1'] select[name=field_type]").select_option("date")
    owner.locator("#panel .form-field[data-index='2'] select[name=field_not_before]").select_option("mulai")
    owner.locator("#panel .form-field[data-index='1'] button", has_text="Hapus").click()
    source = save(owner)
    assert source["problems"] == []
    assert [f["name"] for f in source["steps"]["1"]["form"]] == ["rencana_kegiatan", "tanggal_selesai", "dokumen_rencana"]
    assert "not_before" not in source["steps"]["1"]["form"][1]


def test_the_editors_summary_counts_one_warning_and_several_problems_in_english(playwright_browser, server):
    """The summary read "1 warning(s); …" and "3 problem(s) must be fixed …": the script picks the form
    for the count the server gives it."""
    rt, _ = server
    from tests.integration.test_definitions import BPMN, CAMUNDA_BPMN
    no_way_on = BPMN.replace(">terverifikasi == False<", ">terverifikasi == False and 1 == 2<", 1)
    editor.save_draft(rt, KEY, "pemilik.proses", no_way_on)
    editor.upload(rt, "pemilik.proses", CAMUNDA_BPMN.encode(), None)
    errors = len(editor.errors(editor.source(rt, "Process_surat_masuk", "pemilik.proses")["problems"]))
    assert errors > 1
    base = server[1]
    owner = sign_in(playwright_browser, base, "pemilik.proses")
    owner.select_option("select[name=language]", "en")
    with owner.expect_navigation():
        owner.click("form:has(select[name=language]) button[type=submit]")
    for key, summary in ((KEY, "1 warning; the draft can still be deployed."),
                         ("Process_surat_masuk", f"{errors} problems must be fixed before deploying.")):
        open_editor(owner, base, key)
        assert owner.inner_text("#problem-summary") == summary


def _a_save_after_the_session_ran_out(playwright_browser, base: str):
    """The owner's editor, open, saved after the session's cookie went: the page."""
    owner = open_editor(sign_in(playwright_browser, base, "pemilik.proses"), base)
    owner.context.clear_cookies()
    owner.click("#save-draft")
    owner.wait_for_function("() => !document.getElementById('status').textContent.includes('Menyimpan')")
    return owner


def _signed_in_in_another_tab(page, base: str, login: str) -> None:
    again = page.context.new_page()  # a new session, with a new form token
    again.goto(f"{base}/masuk")
    again.fill("input[name=login]", login)
    again.fill("input[name=password]", "alur-demo")
    again.click("main button[type=submit]")
    again.wait_for_url(f"{base}/")


def test_a_save_after_the_session_ran_out_says_to_sign_in_again_and_keeps_the_diagram(playwright_browser, server):
    """The save got the sign-in page (or a 400 page) instead of JSON: the status read "save failed" and an
    English JSON parse error, with no word of the session."""
    base = server[1]
    owner = _a_save_after_the_session_ran_out(playwright_browser, base)
    status = owner.inner_text("#status")
    assert "Sesi Anda telah berakhir" in status and "JSON" not in status, status
    assert owner.locator("#modeler .djs-element").count() > 10  # the diagram is still on the page
    _signed_in_in_another_tab(owner, base, "pemilik.proses")
    owner.click("#save-draft")
    owner.wait_for_function("() => document.getElementById('status').textContent.includes('Draf disimpan')")


def test_a_save_after_someone_else_signed_in_in_another_tab_is_not_saved_as_them(playwright_browser, server):
    """After one owner's session ran out, another user signing in on the same computer gave the open editor
    their new session's form token: the next save stored the first owner's diagram under the other's name."""
    base = server[1]
    owner = _a_save_after_the_session_ran_out(playwright_browser, base)
    _signed_in_in_another_tab(owner, base, "admin")
    owner.click("#save-draft")
    owner.wait_for_function("() => !document.getElementById('status').textContent.includes('Menyimpan')")
    assert "Sesi Anda telah berakhir" in owner.inner_text("#status")


def editor_on_a_clock(playwright_browser, base: str):
    """The editor of an SOP with no import questions, with the page's clock installed; and its session
    warning."""
    owner = sign_in(playwright_browser, base, "pemilik.proses")
    owner.clock.install()
    return open_editor(owner, base), owner.locator("#session-ending")


def test_the_editor_warns_before_the_session_runs_out_with_no_import_questions(playwright_browser, server):
    """The editor warned that the session was about to end only while an import's questions were on the
    page: a process owner drawing for an hour lost the unsaved diagram without a word. Whenever the editor
    is open it says so shortly before, in sight above the diagram, and offers to stay signed in."""
    owner, notice = editor_on_a_clock(playwright_browser, server[1])
    assert owner.locator("#questions").count() == 0
    owner.clock.fast_forward("57:00")
    assert not notice.is_visible()
    owner.clock.fast_forward("01:30")  # two minutes before the 60 idle minutes end
    assert notice.is_visible() and notice.get_attribute("role") == "alert"
    box = notice.bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= owner.viewport_size["height"]
    with owner.expect_response(lambda response: response.request.method == "HEAD") as pinged:
        notice.locator("button").click()
    assert pinged.value.ok
    assert not notice.is_visible()
    owner.clock.fast_forward("57:00")  # counted again from the ping
    assert not notice.is_visible()


def test_a_save_renews_the_session_and_its_warning_counts_from_the_save(playwright_browser, server):
    """The save renewed the session on the server, but the page still counted from its loading: two
    minutes before the hour since then it warned that the session was ending, just after a save."""
    owner, notice = editor_on_a_clock(playwright_browser, server[1])

    def save(revision: int) -> None:
        owner.click("#save-draft")
        owner.wait_for_function(f"() => document.getElementById('modeler').dataset.revision === '{revision}'")

    owner.clock.fast_forward("50:00")
    save(1)
    owner.clock.fast_forward("09:00")  # 59 minutes after the page was loaded, 9 after the save
    assert not notice.is_visible()
    owner.clock.fast_forward("49:30")  # two minutes before the 60 idle minutes since the save end
    assert notice.is_visible()
    save(2)  # a save now renews it too: the warning no longer holds
    assert not notice.is_visible()
    owner.clock.fast_forward("57:30")
    assert not notice.is_visible()


def test_a_refused_deploy_shows_the_editor_again_warning_from_the_deploy(playwright_browser, server):
    """A deploy refused (a colleague saved meanwhile) shows the editor again, at the deploy's address:
    its warning counts from the deploy, and staying signed in asks the editor's own address."""
    rt, base = server
    owner, notice = editor_on_a_clock(playwright_browser, base)
    owner.click("#save-draft")
    owner.wait_for_function("() => document.getElementById('modeler').dataset.revision === '1'")
    editor.save_draft(rt, KEY, "pemilik.proses", editor.source(rt, KEY, "pemilik.proses")["bpmn_xml"])
    owner.clock.fast_forward("50:00")
    owner.click("#deploy")
    owner.wait_for_selector("#modeler[data-ready=true]")
    assert "Deploy ditolak" in owner.inner_text(".flash.error")
    assert owner.url == f"{base}/editor/{KEY}"  # the editor's address, not the deploy's
    owner.clock.fast_forward("57:00")  # 107 minutes after the editor was loaded, 57 after the deploy
    assert not notice.is_visible()
    owner.clock.fast_forward("01:30")
    assert notice.is_visible()
    with owner.expect_response(lambda response: response.request.method == "HEAD") as pinged:
        notice.locator("button").click()
    assert pinged.value.ok, pinged.value.status
    assert not notice.is_visible()


def child_lanes(page, parent: str) -> list[str]:
    """The ids of a lane's child lanes, top to bottom."""
    return page.evaluate("""(id) => window.alurModeler.get('elementRegistry').filter((e) => e.type === 'bpmn:Lane'
        && e.businessObject.$parent.$parent && e.businessObject.$parent.$parent.id === id)
        .sort((a, b) => a.y - b.y).map((e) => e.id)""", parent)


def test_a_lane_divided_in_two_is_two_actors_each_needing_its_role(playwright_browser, server):
    """bpmn-js's lane menu divides a lane into child lanes; Alur refused the diagram whatever was done next."""
    rt, base = server
    owner = open_editor(sign_in(playwright_browser, base, "pemilik.proses"), base)
    select_element(owner, "Lane_Teknis")
    owner.click('.djs-context-pad .entry[data-action="lane-divide-two"]')
    upper, lower = child_lanes(owner, "Lane_Teknis")
    select_element(owner, "Lane_Teknis")  # the parent is a title only: no role to choose
    assert owner.locator("#panel select[name=role]").count() == 0
    assert "lane di dalamnya" in owner.inner_text("#panel")

    # Each new lane needs a role; steps 4 and 5 lay on the line between them, so bpmn-js listed them in neither.
    source = save(owner)
    errors = {p["element_id"]: p["message"] for p in source["problems"] if p["severity"] == "error"}
    assert set(errors) == {upper, lower, "Step_04", "Step_05"}, errors
    assert all("belum memiliki nama maupun peran" in errors[lane] for lane in (upper, lower))
    assert "hanya tercantum di lane induk 'Tim Teknis'" in errors["Step_04"]
    shot(owner, "editor-lane-divided")

    for lane, role in ((upper, "teknis"), (lower, "administrasi")):
        select_element(owner, lane)
        owner.select_option("#panel select[name=role]", role)
    owner.evaluate("""(lane) => { const m = window.alurModeler, registry = m.get('elementRegistry');
        m.get('modeling').moveElements(['Step_04', 'Step_05'].map((id) => registry.get(id)), {x: 0, y: -25},
                                       registry.get(lane)); }""", upper)
    source = save(owner)
    assert [p for p in source["problems"] if p["severity"] == "error"] == []
    assert re.search(r'<bpmn:lane id="Lane_Teknis" name="Tim Teknis"[^>]*>.*?<bpmn:childLaneSet', source["bpmn_xml"],
                     re.S)
    owner.click("#deploy")
    owner.wait_for_url(f"{base}/editor/{KEY}/versi")
    deployed = editor.definition_of(rt, KEY, 2)
    assert [lane.role for lane in deployed.lanes] == ["administrasi", "teknis", "administrasi", "implementasi",
                                                      "sekretaris"]
    assert deployed.step(4).lane.id == deployed.step(5).lane.id == upper

    instance_id = services.start(rt, KEY, "aptika", "Sesudah lane dibagi", "aptika.implementasi")
    for step in (1, 2, 3):
        do_step(rt, instance_id, step)
    [task] = worklist.tasks(rt, "aptika.teknis")
    assert (task["instance_id"], task["step"]) == (instance_id, 4)


def test_a_diagram_with_child_lanes_opens_saves_and_deploys_from_the_editor(playwright_browser, server):
    """Camunda Modeler's child lanes, round trip: bpmn-js writes them back and the leaf lanes are the actors."""
    rt, base = server
    from tests.integration.test_definitions import BPMN
    editor.save_draft(rt, KEY, "pemilik.proses", nested_lanes(BPMN))
    owner = open_editor(sign_in(playwright_browser, base, "pemilik.proses"), base)
    assert owner.locator("#problem-list li").count() == 0
    assert child_lanes(owner, "Lane_Diskominfo") == ["Lane_Administrasi", "Lane_Teknis", "Lane_Implementasi",
                                                     "Lane_Sekretaris"]
    select_element(owner, "Lane_Sekretaris")
    change(owner, "input[name=name]", "Sekretaris Dinas")
    source = save(owner)
    assert source["problems"] == []
    xml = source["bpmn_xml"]
    assert xml.count("<bpmn:childLaneSet") == 1 and len(re.findall(r'<bpmn:lane [^>]*alur:role="', xml)) == 4
    owner.click("#deploy")
    owner.wait_for_url(f"{base}/editor/{KEY}/versi")
    deployed = editor.definition_of(rt, KEY, 2)
    assert [lane.name for lane in deployed.lanes] == ["Tim Administrasi", "Tim Teknis", "Tim Implementasi",
                                                      "Sekretaris Dinas"]
    owner.goto(f"{base}/sop/{KEY}")
    assert owner.locator("table.flow thead tr:nth-child(2) th").all_inner_texts()[:4] == [
        "Tim Administrasi", "Tim Teknis", "Tim Implementasi", "Sekretaris Dinas"]


def test_a_lanes_problem_badge_lies_inside_the_canvas_at_the_opening_zoom(playwright_browser, server):
    """A lane's badge was drawn on its top-right corner, which at the opening zoom is the canvas's right
    edge: the badge was half cut off. A lane's badge sits inside its top-left corner, on its title band."""
    rt, base = server
    owner = open_editor(sign_in(playwright_browser, base, "pemilik.proses"), base)
    select_element(owner, "Lane_Teknis")
    owner.click('.djs-context-pad .entry[data-action="lane-divide-two"]')
    save(owner)
    owner.reload()
    owner.wait_for_selector("#modeler[data-ready=true]")
    canvas = owner.locator("#modeler").bounding_box()
    for lane in child_lanes(owner, "Lane_Teknis"):
        badge = owner.locator(f'.djs-overlays[data-container-id="{lane}"] .problem-badge').bounding_box()
        shape = owner.locator(f'.djs-element.djs-shape[data-element-id="{lane}"]').bounding_box()
        right = canvas["x"] + canvas["width"]
        assert canvas["x"] <= badge["x"] and badge["x"] + badge["width"] <= right, (badge, canvas)
        assert shape["x"] <= badge["x"] and badge["y"] >= shape["y"], (badge, shape)  # inside the lane it belongs to
    shot(owner, "editor-lane-badges")


def test_the_side_panel_finds_a_step_numbered_with_a_leading_zero_on_one_side_only(playwright_browser, server):
    """The diagram numbers step 10 "010" and the YAML keys step 8 "08" (a file from another tool): the
    server reads both as steps 8 and 10, but the panel looked the details up by the diagram's text and
    showed none; typing them in then wrote step 10 twice, "010" and "10"."""
    rt, base = server
    yaml_text = re.sub(r"(?m)^  8:$", "  08:", (rt.settings.definitions_dir / f"{KEY}.yaml").read_text())
    bpmn_xml = (rt.settings.definitions_dir / f"{KEY}.bpmn").read_text().replace('alur:step="10"', 'alur:step="010"')
    editor.save_draft(rt, KEY, "pemilik.proses", bpmn_xml, yaml_text=yaml_text)
    owner = open_editor(sign_in(playwright_browser, base, "pemilik.proses"), base)
    select_element(owner, "Step_08")
    assert owner.input_value("#panel textarea[name=kelengkapan]") == "Platform Google Workspace"
    select_element(owner, "Step_10")
    assert owner.input_value("#panel textarea[name=output]") == "Data dan informasi"
    change(owner, "textarea[name=output]", "Laporan monitoring")
    source = save(owner)
    assert source["problems"] == []
    assert re.findall(r"(?m)^  0*10:$", source["yaml_text"]) == ["  10:"]
    assert source["steps"]["10"]["output"] == "Laporan monitoring"
    assert source["steps"]["10"]["form"][0]["name"] == "capaian"  # the rest of the step's details kept
