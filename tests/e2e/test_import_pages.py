"""Importing an SOP table in the app: upload, questions pinned and answered, deploy; through the Flask test client."""
from __future__ import annotations

import io

import yaml

from engine import editor, services, worklist
from process.sop_import.yaml_writer import dump
from process.yaml_blocks import replace_block
from tests.e2e.test_editor_pages import Browser, app, browser, text  # noqa: F401 (fixtures)
from tests.integration.sop import SEED_ANSWERS, SEED_TEXT

KEY = "monev_impor"


def upload(owner: Browser, data: bytes, filename: str, key: str = KEY):
    owner.get("/editor/")
    return owner.post("/editor/impor", {"source": (io.BytesIO(data), filename), "key": key},
                      content_type="multipart/form-data")


def answers_form(answers: dict) -> dict:
    return {f"jawaban-{element}.{field}": str(value) for element, fields in answers.items()
            for field, value in fields.items()}


def test_the_editor_index_offers_the_import_once(browser):
    html = browser("pemilik.proses").get("/editor/").get_data(as_text=True)
    assert html.count('id="import-form"') == 1
    title = html[html.index("<title>"):html.index("</title>")]
    assert "<form" not in title and "Editor SOP" in title


def test_the_imports_count_of_questions_reads_as_english(browser):
    """The English message after an import read "Answer the 14 question(s) marked on the diagram"."""
    owner = browser("pemilik.proses")
    owner.post("/bahasa", {"language": "en"}, headers={"Referer": "/editor/"})
    upload(owner, SEED_TEXT.read_bytes(), "sop-monev.txt")
    html = text(owner.get(f"/editor/{KEY}"))
    assert "Answer the 14 questions marked on the diagram before deploying." in html and "(s)" not in html


def test_upload_answer_and_deploy_the_seed_table(rt, browser):
    owner = browser("pemilik.proses")
    response = upload(owner, SEED_TEXT.read_bytes(), "sop-monev.txt")
    assert response.status_code == 302 and response.location.endswith(f"/editor/{KEY}")
    page = owner.get(f"/editor/{KEY}")
    html = text(page)
    assert "Jawab 14 pertanyaan yang ditandai pada diagram" in html
    assert 'id="question-Gateway_12.tidak"' in html and 'name="jawaban-Step_04.pelaksana"' in html
    source = owner.get(f"/editor/{KEY}/sumber.json").get_json()
    assert source["revision"] == 1 and len(source["questions"]) == 14
    pinned = {p["element_id"] for p in source["problems"] if "pertanyaan terbuka" in p["message"]}
    assert pinned == {q["element"] for q in source["questions"]}
    assert owner.post(f"/editor/{KEY}/deploy").status_code == 422          # questions block the deploy

    # Step 12's Tidak was answered in the diagram by hand: the owner marks it answered.
    response = owner.post(f"/editor/{KEY}/pertanyaan/selesai", {"question": "Gateway_12.tidak", "revision": "1"})
    assert response.status_code == 302
    assert "Gateway_12.tidak" not in {q["id"] for q in owner.get(f"/editor/{KEY}/sumber.json").get_json()["questions"]}
    # The lanes from READING.md, and the target the hand edit would have given, answered in the form.
    answers = yaml.safe_load(SEED_ANSWERS.read_text(encoding="utf-8"))
    owner.get(f"/editor/{KEY}")
    response = owner.post(f"/editor/{KEY}/pertanyaan", {**answers_form(answers), "revision": "2"})
    assert response.status_code == 302
    source = owner.get(f"/editor/{KEY}/sumber.json").get_json()
    assert source["questions"] == [] and source["problems"] == [] and source["deployable"]
    assert "Lane_Belum_Ditentukan" not in source["bpmn_xml"]
    response = owner.post(f"/editor/{KEY}/deploy")
    assert response.status_code == 302
    assert [r["version"] for r in editor.definitions(rt, "pemilik.proses") if r["key"] == KEY] == [1]

    instance_id = services.start(rt, KEY, "aptika", "Impor berjalan", "aptika.implementasi")
    [task] = worklist.tasks(rt, instance_id=instance_id)
    assert task["step"] == 1 and task["lane"] == "implementasi" and task["due_at"] is not None


def test_a_stale_or_wrong_answer_is_refused_and_changes_nothing(rt, browser):
    owner = browser("pemilik.proses")
    upload(owner, SEED_TEXT.read_bytes(), "sop-monev.txt")
    owner.get(f"/editor/{KEY}")
    response = owner.post(f"/editor/{KEY}/pertanyaan", {"jawaban-Step_04.pelaksana": "Tim Entah", "revision": "1"})
    assert response.status_code == 422 and "&#39;Tim Entah&#39; bukan salah satu Pelaksana dalam tabel" in text(response)
    response = owner.post(f"/editor/{KEY}/pertanyaan", {"jawaban-Step_04.pelaksana": "Tim Teknis", "revision": "0"})
    assert response.status_code == 409
    source = owner.get(f"/editor/{KEY}/sumber.json").get_json()
    assert source["revision"] == 1 and len(source["questions"]) == 14


def test_malformed_tables_taken_keys_and_staff_are_refused(rt, browser):
    owner = browser("pemilik.proses")
    bad = b"No,Uraian Prosedur,Tim Teknis,Kelengkapan,Waktu,Output\n1,A,X,,1 Hari,\n3,B,X,,1 Hari,\n"
    response = upload(owner, bad, "rusak.csv", key="")
    assert response.status_code == 422
    assert "rusak.csv: baris 3: nomor langkah 3 tidak urut (seharusnya 2)" in text(response)
    response = upload(owner, SEED_TEXT.read_bytes(), "sop.txt", key="monev_kegiatan_bidang")
    assert response.status_code == 409 and "sudah dipakai" in text(response)
    assert [r["key"] for r in editor.definitions(rt, "pemilik.proses")] == ["monev_kegiatan_bidang"]
    staff = browser("aptika.implementasi")
    staff.get("/")
    response = staff.post("/editor/impor", {"source": (io.BytesIO(SEED_TEXT.read_bytes()), "sop.txt")},
                          content_type="multipart/form-data")
    assert response.status_code == 403
    assert staff.post(f"/editor/{KEY}/pertanyaan", {"jawaban-Step_01.pelaksana": "Tim Teknis"}).status_code == 403


DECISION_12 = "(&#39;Apakah hasil evaluasi kegiatan dan layanan ada kendala?&#39;)"


def test_the_questions_speak_the_owners_language(rt, browser):
    owner = browser("pemilik.proses")
    upload(owner, SEED_TEXT.read_bytes(), "sop-monev.txt")
    html = text(owner.get(f"/editor/{KEY}"))
    assert (f"<b>Gateway_12</b>: Keputusan pada langkah 12 {DECISION_12}: tabel tidak menyebut ke mana cabang "
            "&#39;Tidak&#39; berlanjut.") in html
    assert '<option value="selesai">selesai (proses berakhir)</option>' in html

    owner.post("/bahasa", {"language": "en"}, headers={"Referer": f"/editor/{KEY}"})
    html = text(owner.get(f"/editor/{KEY}"))
    assert (f"<b>Gateway_12</b>: Decision in step 12 {DECISION_12}: the table does not say where &#39;Tidak&#39; "
            "goes. Which step follows (a step number, or &#39;selesai&#39;)?") in html
    assert "<b>Step_04</b>: In step 4 (&#39;Melakukan verifikasi hasil kegiatan dan layanan bidang&#39;) no " \
           "Pelaksana column is marked: who carries it out?" in html
    assert "Keputusan pada langkah" not in html and "tidak ada kolom Pelaksana" not in html
    # The answer that ends the process is the table's word 'selesai'; its choice says what it means.
    assert '<option value="selesai">selesai (the process ends)</option>' in html
    source = owner.get(f"/editor/{KEY}/sumber.json").get_json()  # what the diagram's pins show
    asked = {q["id"]: q["text"] for q in source["questions"]}
    assert asked["Step_04.pelaksana"].startswith("In step 4 ('Melakukan verifikasi") and len(asked) == 14
    problems = {p["element_id"]: p["message"] for p in source["problems"]}
    assert problems["Gateway_12"].startswith("open question Gateway_12.tidak: Decision in step 12 ('Apakah")


def test_refusals_of_the_import_speak_the_owners_language(rt, browser):
    owner = browser("pemilik.proses")
    upload(owner, SEED_TEXT.read_bytes(), "sop-monev.txt")
    owner.get(f"/editor/{KEY}")
    wrong = {"jawaban-Step_04.pelaksana": "Tim Entah", "revision": "1"}
    html = text(owner.post(f"/editor/{KEY}/pertanyaan", wrong))
    assert "jawaban tidak dapat dipakai: Step_04.pelaksana: &#39;Tim Entah&#39; bukan salah satu Pelaksana " \
           "dalam tabel (Tim Administrasi, Tim Teknis, Tim Implementasi, Sekretaris)" in html
    bad = b"No,Uraian Prosedur,Tim Teknis,Kelengkapan,Waktu,Output\n1,A,X,,1 Hari,\nx,B,X,,1 Hari,\n"
    html = text(upload(owner, bad, "rusak.csv", key=""))
    assert "rusak.csv: baris 3: No &#39;x&#39; bukan nomor langkah" in html

    owner.post("/bahasa", {"language": "en"}, headers={"Referer": f"/editor/{KEY}"})
    owner.get(f"/editor/{KEY}")
    response = owner.post(f"/editor/{KEY}/pertanyaan", wrong)
    assert response.status_code == 422
    assert "Answer refused: the answers cannot be used: Step_04.pelaksana: &#39;Tim Entah&#39; is not one of the " \
           "table&#39;s Pelaksana (Tim Administrasi, Tim Teknis, Tim Implementasi, Sekretaris)" in text(response)
    assert "<b>Gateway_12</b>: Decision in step 12" in text(response)  # the page it returns to speaks English too
    response = upload(owner, bad, "rusak.csv", key="")
    assert response.status_code == 422
    assert "Import refused: file rusak.csv cannot be imported: rusak.csv: row 3: No &#39;x&#39; is not a step " \
           "number" in text(response)


def test_a_question_stored_before_questions_were_translated_shows_as_written(rt, browser):
    owner = browser("pemilik.proses")
    upload(owner, SEED_TEXT.read_bytes(), "sop-monev.txt")
    draft = editor.source(rt, KEY, "pemilik.proses")
    old = {"id": "Step_04.pelaksana", "element": "Step_04", "field": "pelaksana", "options": ["Tim Teknis"],
           "text": "In step 4 ('Melakukan verifikasi') no Pelaksana column is marked: who carries it out?"}
    yaml_text = replace_block(draft["yaml_text"], "questions", dump({"questions": [old]}))
    editor.save_draft(rt, KEY, "pemilik.proses", draft["bpmn_xml"], yaml_text=yaml_text, revision=1)
    shown = "<b>Step_04</b>: In step 4 (&#39;Melakukan verifikasi&#39;) no Pelaksana column is marked: who " \
            "carries it out?"
    for language in ("id", "en"):
        owner.post("/bahasa", {"language": language}, headers={"Referer": f"/editor/{KEY}"})
        html = text(owner.get(f"/editor/{KEY}"))
        assert shown in html and html.count('class="question"') == 1
    # It is answered as before.
    response = owner.post(f"/editor/{KEY}/pertanyaan", {"jawaban-Step_04.pelaksana": "Tim Teknis", "revision": "2"})
    assert response.status_code == 302
    assert editor.source(rt, KEY, "pemilik.proses")["questions"] == []


def test_saving_a_draft_with_open_questions_never_answers_that_it_has_none(browser):
    """The save's answer said `questions: []` for a draft with 14 open questions (nobody read it yet)."""
    owner = browser("pemilik.proses")
    upload(owner, SEED_TEXT.read_bytes(), "sop-monev.txt")
    owner.get(f"/editor/{KEY}")
    source = owner.get(f"/editor/{KEY}/sumber.json").get_json()
    saved = owner.post_json(f"/editor/{KEY}/draf", {"bpmn_xml": source["bpmn_xml"], "steps": source["steps"],
                                                   "revision": source["revision"]})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.get_json().get("questions") in (None, source["questions"])
    assert len(owner.get(f"/editor/{KEY}/sumber.json").get_json()["questions"]) == 14
