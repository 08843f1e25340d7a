"""Importing an SOP table in Debian's Chromium: the questions are pinned to their elements, answered, deployed."""
from __future__ import annotations

from engine import editor
from tests.e2e.test_browser import playwright_browser, server, shot, sign_in, sign_in_again  # noqa: F401 (fixtures)
from tests.unit.test_sop_import import HEADER_SUB, HEADER_TOP, KOP, _row, _xlsx

ROWS = [
    *KOP, HEADER_TOP, HEADER_SUB,
    _row(1, "Menerima surat permohonan data", "Tim Administrasi", kelengkapan="Surat permohonan"),
    _row(2, "Memeriksa kelengkapan berkas", None, waktu="1 Jam"),                 # no actor marked
    _row(3, "Apakah berkas lengkap?", "Tim Teknis", waktu="15 Menit"),            # Tidak not given
    _row(4, "Menyerahkan data kepada pemohon", "Sekretaris", waktu="1 Hari"),
]


def imported(playwright_browser, base: str, tmp_path):
    """The process owner's page on the draft imported from ROWS, drawn."""
    source = tmp_path / "permohonan_data.xlsx"
    source.write_bytes(_xlsx(ROWS))
    owner = sign_in(playwright_browser, base, "pemilik.proses")
    owner.goto(f"{base}/editor/")
    owner.set_input_files("#import-form input[name=source]", str(source))
    owner.click("#import-form button[type=submit]")
    owner.wait_for_url(f"{base}/editor/permohonan_data")
    owner.wait_for_selector("#modeler[data-ready=true]")
    return owner


def test_questions_are_pinned_in_the_editor_answered_and_the_definition_deployed(playwright_browser, server, tmp_path):
    rt, base = server
    owner = imported(playwright_browser, base, tmp_path)
    assert "Jawab 2 pertanyaan" in owner.inner_text("main .flash")
    assert owner.locator("#deploy").is_disabled()

    # One "?" per element with a question, drawn on that element's top-left corner.
    pins = owner.locator(".djs-overlay-question .question-pin")
    assert pins.count() == 2
    for element in ("Step_02", "Gateway_03"):
        pin = owner.locator(f'.question-pin[data-element="{element}"]').bounding_box()
        shape = owner.locator(f'.djs-element.djs-shape[data-element-id="{element}"]').bounding_box()
        centre = (pin["x"] + pin["width"] / 2, pin["y"] + pin["height"] / 2)
        assert abs(centre[0] - shape["x"]) < 20 and abs(centre[1] - shape["y"]) < 20, (element, pin, shape)
    assert owner.locator('.question-pin[data-element="Gateway_03"]').get_attribute("title").count("Tidak") >= 1
    # The step without an actor sits in the "not yet decided" lane.
    assert owner.locator('.djs-element[data-element-id="Lane_Belum_Ditentukan"]').count() == 1
    shot(owner, "import-questions-pinned")

    # A pin leads to its question; the answers redraw the diagram.
    owner.click('.question-pin[data-element="Step_02"]')
    assert owner.evaluate("() => document.activeElement.name") == "jawaban-Step_02.pelaksana"
    owner.select_option('select[name="jawaban-Step_02.pelaksana"]', "Tim Teknis")
    owner.select_option('select[name="jawaban-Gateway_03.tidak"]', "1")
    owner.click("#answer-submit")
    owner.wait_for_selector("#modeler[data-ready=true]")
    assert "Jawaban disimpan" in owner.inner_text("main .flash")
    assert owner.locator(".question-pin").count() == 0 and owner.locator("#questions").count() == 0
    assert owner.locator('.djs-element[data-element-id="Lane_Belum_Ditentukan"]').count() == 0
    assert owner.locator('.djs-element[data-element-id="Flow_03_Tidak"]').count() == 1
    assert owner.locator("#problem-list li").count() == 0
    shot(owner, "import-answered")

    owner.click("#deploy")
    owner.wait_for_url(f"{base}/editor/permohonan_data/versi")
    assert [r["version"] for r in editor.definitions(rt, "pemilik.proses") if r["key"] == "permohonan_data"] == [1]


def test_questions_can_be_answered_after_saving_the_diagram_on_the_same_page(playwright_browser, server, tmp_path):
    """A save moves the draft's revision: the question forms must send the new one, or the owner's
    own save is taken for a colleague's (409)."""
    rt, base = server
    owner = imported(playwright_browser, base, tmp_path)
    owner.click("#save-draft")
    owner.wait_for_function("() => document.getElementById('modeler').dataset.revision === '2'")
    owner.select_option('select[name="jawaban-Step_02.pelaksana"]', "Tim Teknis")
    owner.click("#answer-submit")
    owner.wait_for_selector("#modeler[data-ready=true]")
    assert "Jawaban disimpan" in owner.inner_text("main .flash")
    assert editor.source(rt, "permohonan_data", "pemilik.proses")["revision"] == 3
    # "Answered in the diagram" sends the revision too.
    owner.click("#save-draft")
    owner.wait_for_function("() => document.getElementById('modeler').dataset.revision === '4'")
    owner.click("#questions button.secondary")
    owner.wait_for_selector("#modeler[data-ready=true]")
    assert "Jawaban disimpan" in owner.inner_text("main .flash")
    assert editor.source(rt, "permohonan_data", "pemilik.proses")["questions"] == []


def test_a_form_whose_leaving_was_called_off_can_be_sent_again(playwright_browser, server, tmp_path):
    """With unsaved changes in the diagram, sending the answers asks first whether to leave the page.
    The owner stays (to save the diagram): the answers were not sent, and the button sends them later."""
    rt, base = server
    owner = imported(playwright_browser, base, tmp_path)
    owner.evaluate("""() => { const m = window.alurModeler;
        m.get('modeling').updateLabel(m.get('elementRegistry').get('Step_01'), 'Menerima surat permohonan'); }""")
    asked = []

    def stay(dialog):
        asked.append(dialog.type)
        dialog.dismiss()
    owner.once("dialog", stay)
    owner.select_option('select[name="jawaban-Step_02.pelaksana"]', "Tim Teknis")
    owner.click("#answer-submit")
    owner.wait_for_timeout(500)
    assert asked == ["beforeunload"] and owner.url == f"{base}/editor/permohonan_data"
    owner.click("#save-draft")
    owner.wait_for_function("() => document.getElementById('modeler').dataset.revision === '2'")
    with owner.expect_navigation(timeout=5000):
        owner.click("#answer-submit")
    owner.wait_for_selector("#modeler[data-ready=true]")
    assert "Jawaban disimpan" in owner.inner_text("main .flash")
    assert editor.source(rt, "permohonan_data", "pemilik.proses")["revision"] == 3


def test_answers_typed_when_the_session_ran_out_come_back_on_the_editor(playwright_browser, server, tmp_path):
    """Sending the answers after the session ran out led, once signed in again, to the worklist with the
    answers gone. The sign-in leads back to the editor and puts them back (not over a newer revision;
    a save of the diagram on the same page is the page's own)."""
    rt, base = server
    owner = imported(playwright_browser, base, tmp_path)
    owner.click("#save-draft")
    owner.wait_for_function("() => document.getElementById('modeler').dataset.revision === '2'")
    owner.select_option('select[name="jawaban-Step_02.pelaksana"]', "Tim Teknis")
    owner.select_option('select[name="jawaban-Gateway_03.tidak"]', "1")
    owner.context.clear_cookies()  # the session ran out
    owner.click("#answer-submit")
    owner.wait_for_url(f"{base}/masuk?next=/editor/permohonan_data")
    sign_in_again(owner, "pemilik.proses")
    owner.wait_for_url(f"{base}/editor/permohonan_data")
    owner.wait_for_selector("#modeler[data-ready=true]")
    assert owner.input_value('select[name="jawaban-Step_02.pelaksana"]') == "Tim Teknis"
    assert owner.input_value('select[name="jawaban-Gateway_03.tidak"]') == "1"
    assert owner.locator("#typed-restored").is_visible()
    assert editor.source(rt, "permohonan_data", "pemilik.proses")["revision"] == 2  # nothing was sent

    # A revision saved meanwhile (here: the diagram, in another tab) wins over the kept answers.
    owner.select_option('select[name="jawaban-Step_02.pelaksana"]', "Sekretaris")
    draft = editor.source(rt, "permohonan_data", "pemilik.proses")
    editor.save_draft(rt, "permohonan_data", "pemilik.proses", draft["bpmn_xml"], yaml_text=draft["yaml_text"],
                      revision=2)
    owner.reload()
    owner.wait_for_selector("#modeler[data-ready=true]")
    assert owner.input_value('select[name="jawaban-Step_02.pelaksana"]') == ""
    assert not owner.locator("#typed-restored").is_visible()
