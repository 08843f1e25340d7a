"""The SOP editor's pages and actions through the Flask test client, CSRF protection on."""
from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import select

from engine import editor, services
from engine.bootstrap import DEMO_PASSWORD
from engine.db import DefinitionVersion, Event
from process.loader import load
from tests.integration.test_definitions import (
    BILLION_LAUGHS, BPMN, CAMUNDA_BPMN, KEY, YAML, deploy_v2, step7_to_administrasi, step_renamed,
    without_step_number,
)
from web.app import create_app

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Browser:
    """A test client that remembers the CSRF token of the last page it rendered."""

    def __init__(self, app):
        self.client = app.test_client()
        self.token: str | None = None

    def _remember(self, response):
        if response.mimetype == "text/html":
            text = response.get_data(as_text=True)
            found = TOKEN.search(text) or META_TOKEN.search(text)
            if found:
                self.token = found.group(1)
        return response

    def get(self, url: str, **kwargs):
        return self._remember(self.client.get(url, **kwargs))

    def post(self, url: str, data: dict | None = None, csrf: bool = True, **kwargs):
        data = dict(data or {})
        if csrf:
            data["csrf_token"] = self.token
        return self._remember(self.client.post(url, data=data, **kwargs))

    def post_json(self, url: str, body: dict, csrf: bool = True):
        headers = {"X-CSRFToken": self.token} if csrf else {}
        return self.client.post(url, json=body, headers=headers)


@pytest.fixture
def app(rt):
    return create_app(runtime=rt, testing=True)


@pytest.fixture
def browser(app):
    def open_as(login: str) -> Browser:
        b = Browser(app)
        b.get("/masuk")
        response = b.post("/masuk", {"login": login, "password": DEMO_PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        b.get("/")
        return b
    return open_as


def text(response) -> str:
    return response.get_data(as_text=True)


def version_numbers(rt) -> list[int]:
    with rt.uow() as session:
        return list(session.scalars(select(DefinitionVersion.version).where(DefinitionVersion.key == KEY)
                                    .order_by(DefinitionVersion.version)))


@pytest.mark.parametrize("login", ["aptika.implementasi", "kepala.aptika", "sekretaris"])
def test_staff_get_403_on_every_editor_page_and_action(rt, browser, login):
    instance_id = services.start(rt, KEY, "aptika", "Layanan email", "sekretaris")
    staff = browser(login)
    assert "Editor SOP" not in text(staff.get("/"))
    for url in ("/editor/", f"/editor/{KEY}", f"/editor/{KEY}/sumber.json", f"/editor/{KEY}/versi",
                f"/editor/{KEY}/versi/1", f"/editor/{KEY}/versi/1/diagram.bpmn", f"/editor/{KEY}/draf.bpmn"):
        assert staff.get(url).status_code == 403, url
    assert staff.post_json(f"/editor/{KEY}/draf", {"bpmn_xml": BPMN, "steps": None}).status_code == 403
    for url, data in ((f"/editor/{KEY}/deploy", {}), (f"/editor/{KEY}/buang", {}),
                      (f"/editor/{KEY}/migrasi", {"instance": str(instance_id)}), (f"/editor/{KEY}/migrasi", {}),
                      ("/editor/unggah", {"bpmn": (io.BytesIO(CAMUNDA_BPMN.encode()), "a.bpmn")})):
        assert staff.post(url, data, content_type="multipart/form-data").status_code == 403, url
    assert editor.definitions(rt, "pemilik.proses")[0]["draft"] is None


def test_the_process_owner_sees_the_editor(rt, browser):
    owner = browser("pemilik.proses")
    assert 'href="/editor/"' in text(owner.get("/"))
    listing = owner.get("/editor/")
    assert listing.status_code == 200 and f'data-key="{KEY}"' in text(listing)
    page = owner.get(f"/editor/{KEY}")
    body = text(page)
    assert page.status_code == 200 and 'id="modeler"' in body
    assert "bpmn-modeler.production.min.js" in body and "editor.js" in body
    assert re.search(r'<button type="submit" id="deploy"\s+disabled>', body)  # nothing saved yet
    assert re.search(r'id="discard-form"\s+hidden>', body)  # no draft to discard
    source = owner.get(f"/editor/{KEY}/sumber.json").get_json()
    assert source["origin"] == "version" and source["bpmn_xml"] == BPMN and "7" in source["steps"]
    assert browser("admin").get(f"/editor/{KEY}").status_code == 200


def test_saving_returns_problems_and_deploy_is_refused(rt, browser):
    owner = browser("pemilik.proses")
    owner.get(f"/editor/{KEY}")
    assert owner.post_json(f"/editor/{KEY}/draf", {"bpmn_xml": BPMN, "steps": None}, csrf=False).status_code == 400

    response = owner.post_json(f"/editor/{KEY}/draf", {"bpmn_xml": without_step_number(BPMN, "Step_07"),
                                                       "steps": None, "revision": 0})
    assert response.status_code == 200
    saved = response.get_json()
    assert saved["revision"] == 1 and not saved["deployable"]
    assert any(p["element_id"] == "Step_07" and "belum memiliki nomor SOP" in p["message"] for p in saved["problems"])

    stale = owner.post_json(f"/editor/{KEY}/draf", {"bpmn_xml": BPMN, "steps": None, "revision": 0})
    assert stale.status_code == 409 and "muat ulang" in stale.get_json()["error"]

    refused = owner.post(f"/editor/{KEY}/deploy")
    assert refused.status_code == 422 and "Deploy ditolak" in text(refused)
    assert version_numbers(rt) == [1]
    assert 'id="modeler"' in text(refused)  # back in the editor, with the draft


def test_a_draft_with_warnings_only_can_be_deployed_and_they_speak_the_users_language(rt, browser):
    no_way_on = BPMN.replace(">terverifikasi == False<", ">terverifikasi == False and 1 == 2<", 1)
    owner = browser("pemilik.proses")
    owner.get(f"/editor/{KEY}")
    saved = owner.post_json(f"/editor/{KEY}/draf", {"bpmn_xml": no_way_on, "steps": None, "revision": 0}).get_json()
    [warning] = saved["problems"]
    assert (warning["element_id"], warning["severity"]) == ("Gateway_05", "warning") and saved["deployable"]
    assert warning["message"].startswith("percabangan Terverifikasi? tidak memiliki alur bawaan")

    owner.post("/bahasa", {"language": "en"}, headers={"Referer": f"/editor/{KEY}"})
    [warning] = owner.get(f"/editor/{KEY}/sumber.json").get_json()["problems"]
    assert warning["message"] == ("gateway Terverifikasi? has no default flow: when none of its conditions holds, "
                                  "the step before it is refused on completion; set a default flow")

    deployed = owner.post(f"/editor/{KEY}/deploy")
    assert deployed.status_code == 302 and version_numbers(rt) == [1, 2]


def test_the_validators_errors_speak_the_process_owners_language(rt, browser):
    refused = without_step_number(BPMN, "Step_07").replace(">terverifikasi == False<", ">__import__('os')<", 1)
    owner = browser("pemilik.proses")
    owner.get(f"/editor/{KEY}")
    saved = owner.post_json(f"/editor/{KEY}/draf", {"bpmn_xml": refused, "steps": None, "revision": 0}).get_json()
    indonesian = {p["element_id"]: p["message"] for p in saved["problems"]}
    assert indonesian["Step_07"] == "langkah belum memiliki nomor SOP (atribut alur:step)"
    assert indonesian["Flow_05_Tidak"].startswith("kondisi \"__import__('os')\" ditolak: hanya fungsi berikut")

    owner.post("/bahasa", {"language": "en"}, headers={"Referer": f"/editor/{KEY}"})
    stored = owner.get(f"/editor/{KEY}/sumber.json").get_json()["problems"]  # read back from the database
    english = {p["element_id"]: p["message"] for p in stored}
    assert english["Step_07"] == "the step has no SOP number (attribute alur:step)"
    # The reason inside the message is translated too, although it was stored as a value of its own.
    assert english["Flow_05_Tidak"].startswith("condition \"__import__('os')\" refused: only these functions may be called")


def test_the_editor_leads_to_each_versions_sop_document(rt, browser):
    """The process owner, who starts no activity, reaches the official SOP document (and from it the header
    editor) from the editor's list and from each version."""
    owner = browser("pemilik.proses")
    assert f'href="/sop/{KEY}/v1"' in text(owner.get("/editor/"))
    deploy_v2(rt, step7_to_administrasi())
    assert f'href="/sop/{KEY}/v2"' in text(owner.get("/editor/"))
    versions = text(owner.get(f"/editor/{KEY}/versi"))
    assert f'href="/sop/{KEY}/v1"' in versions and f'href="/sop/{KEY}/v2"' in versions


def test_save_deploy_view_versions_and_migrate(rt, browser):
    at_step_1 = services.start(rt, KEY, "aptika", "Di langkah 1", "sekretaris")
    owner = browser("pemilik.proses")
    owner.get(f"/editor/{KEY}")
    steps = owner.get(f"/editor/{KEY}/sumber.json").get_json()["steps"]
    steps["7"]["output"] = "Data lengkap"
    saved = owner.post_json(f"/editor/{KEY}/draf", {"bpmn_xml": step7_to_administrasi(), "steps": steps,
                                                    "revision": 0}).get_json()
    assert saved["problems"] == [] and saved["deployable"]
    editor_page = text(owner.get(f"/editor/{KEY}"))
    assert re.search(r'<button type="submit" id="deploy"\s+>', editor_page)

    deployed = owner.post(f"/editor/{KEY}/deploy")
    assert deployed.status_code == 302 and deployed.location.endswith(f"/editor/{KEY}/versi")
    assert version_numbers(rt) == [1, 2]
    versions = text(owner.get(f"/editor/{KEY}/versi"))
    assert "Versi 2 di-deploy." in versions
    assert "Langkah 7 dipindah dari Tim Implementasi ke Tim Administrasi" in versions
    assert "Langkah 7: waktu baku 30 Menit menjadi 60 Menit" in versions
    assert f'data-instance="{at_step_1}"' in versions
    assert "<td>Di langkah 1</td><td>Bidang Aplikasi Informatika</td>" in versions  # its name, not "aptika"
    # What changed is kept as messages, so an English reader reads it in English (lane names are the SOP's).
    owner.post("/bahasa", {"language": "en"}, headers={"Referer": f"/editor/{KEY}/versi"})
    english = text(owner.get(f"/editor/{KEY}/versi"))
    assert "Step 7 moved from Tim Implementasi to Tim Administrasi" in english
    # The standard times are ours to word, as on every other English page ("30 Menit" is the SOP's notation).
    assert "Step 7: standard time 30 min became 60 min" in english and "First version" in english
    version_2 = text(owner.get(f"/editor/{KEY}/versi/2"))
    assert "Step 7 moved from" in version_2 and "Step 7: standard time 30 min became 60 min" in version_2
    owner.post("/bahasa", {"language": "id"}, headers={"Referer": f"/editor/{KEY}/versi"})

    viewer = owner.get(f"/editor/{KEY}/versi/1")
    assert viewer.status_code == 200 and "bpmn-navigated-viewer" in text(viewer)
    assert owner.get(f"/editor/{KEY}/versi/1/diagram.bpmn").get_data(as_text=True) == BPMN
    assert owner.get(f"/editor/{KEY}/versi/9").status_code == 404

    migrated = owner.post(f"/editor/{KEY}/migrasi", {"instance": str(at_step_1), "target": "2"})
    assert migrated.status_code == 200 and "dipindah ke versi 2" in text(migrated)
    assert services.show(rt, at_step_1)["definition_version"] == 2
    history = text(owner.get(f"/kegiatan/{at_step_1}"))
    assert "dipindah ke versi SOP baru" in history
    # The form sent again (the back button, a second tab) moves nothing and says so.
    again = text(owner.post(f"/editor/{KEY}/migrasi", {"instance": str(at_step_1), "target": "2"}))
    assert "sudah memakai versi 2" in again and "dipindah ke versi 2" not in again


def test_steps_numbered_with_leading_zeros_keep_their_own_details(rt, browser):
    """A diagram from another tool numbers its steps "08" and "010"; the editor keys each step's details
    by that number. The YAML read 010 as octal 8 and 08 as text: step 10's form landed on step 8, and
    step 8's was "no step 08 on the diagram"."""
    owner = browser("pemilik.proses")
    owner.get(f"/editor/{KEY}")
    padded = BPMN.replace('alur:step="8"', 'alur:step="08"').replace('alur:step="10"', 'alur:step="010"')
    steps = owner.get(f"/editor/{KEY}/sumber.json").get_json()["steps"]
    steps["08"], steps["010"] = steps.pop("8"), steps.pop("10")
    saved = owner.post_json(f"/editor/{KEY}/draf", {"bpmn_xml": padded, "steps": steps, "revision": 0}).get_json()
    assert saved["problems"] == [] and saved["deployable"]
    source = owner.get(f"/editor/{KEY}/sumber.json").get_json()
    # The editor finds each step's details under its number, as the server reads it: "010" is step 10.
    steps["8"], steps["10"] = steps.pop("08"), steps.pop("010")
    assert source["steps"] == steps
    forms = {s.number: [f.name for f in s.form.fields] for s in load(source["bpmn_xml"], source["yaml_text"]).steps}
    assert forms[8] == ["ringkasan_input"] and forms[10] == ["capaian", "catatan_monitoring"]


def test_the_editor_is_handed_a_zero_padded_yaml_step_under_the_diagrams_number(rt, browser):
    """The YAML keys step 10 "010", the diagram says 10: the editor looked the details up under "10"
    and found none, and details typed in then were written twice ("010" and "10")."""
    owner = browser("pemilik.proses")
    padded = YAML.replace("\n  10:\n", "\n  010:\n")
    editor.save_draft(rt, KEY, "pemilik.proses", BPMN, yaml_text=padded)
    steps = owner.get(f"/editor/{KEY}/sumber.json").get_json()["steps"]
    assert "010" not in steps and steps["10"]["form"][0]["name"] == "capaian"
    steps["10"]["output"] = "Laporan monitoring"
    saved = owner.post_json(f"/editor/{KEY}/draf", {"bpmn_xml": BPMN, "steps": steps, "revision": 1}).get_json()
    assert saved["problems"] == []
    yaml_text = owner.get(f"/editor/{KEY}/sumber.json").get_json()["yaml_text"]
    assert "\n  010:" not in yaml_text and yaml_text.count("\n  10:\n") == 1


def test_migrate_all_shows_refusals_with_reasons(rt, browser):
    at_step_1 = services.start(rt, KEY, "aptika", "Di langkah 1", "sekretaris")
    editor.save_draft(rt, KEY, "pemilik.proses", step_renamed(BPMN, "Step_01", "Step_01_baru"), yaml_text=YAML)
    editor.deploy_draft(rt, KEY, "pemilik.proses")
    owner = browser("pemilik.proses")
    page = text(owner.get(f"/editor/{KEY}/versi"))
    assert "Step_01" in page and "tidak ada di versi 2" in page
    response = owner.post(f"/editor/{KEY}/migrasi", {"target": "2"})
    body = text(response)
    assert response.status_code == 200 and 'class="refused"' in body and "Step_01" in body
    # The reasons are messages: an English reader reads them in English, in the list and after a try.
    owner.post("/bahasa", {"language": "en"}, headers={"Referer": f"/editor/{KEY}/versi"})
    reason = "does not exist in version 2 (element Step_01 was removed or replaced)"
    assert reason in text(owner.get(f"/editor/{KEY}/versi"))
    assert reason in text(owner.post(f"/editor/{KEY}/migrasi", {"target": "2"}))
    assert reason in text(owner.post(f"/editor/{KEY}/migrasi", {"instance": str(at_step_1), "target": "2"}))
    history = text(owner.get(f"/kegiatan/{at_step_1}"))  # and the activity's history says it the same way
    assert f"version 1 to version 2: step 1 (" in history and reason in history
    with rt.uow() as session:
        assert session.scalars(select(Event.kind).where(Event.instance_id == at_step_1,
                                                        Event.kind == "migration_refused")).all()
    assert services.show(rt, at_step_1)["definition_version"] == 1


def test_upload_of_a_camunda_file_opens_it_as_a_draft(rt, browser):
    owner = browser("pemilik.proses")
    owner.get("/editor/")
    response = owner.post("/editor/unggah", {"bpmn": (io.BytesIO(CAMUNDA_BPMN.encode()), "surat.bpmn")},
                          content_type="multipart/form-data")
    assert response.status_code == 302 and response.location.endswith("/editor/Process_surat_masuk")
    page = owner.get("/editor/Process_surat_masuk")
    assert page.status_code == 200 and "masalah yang harus diperbaiki" in text(page)
    source = owner.get("/editor/Process_surat_masuk/sumber.json").get_json()
    assert source["origin"] == "draft" and source["problems"] and source["latest_version"] is None


def test_upload_over_a_colleagues_draft_is_refused_and_says_whose_it_is(rt, browser):
    editor.upload(rt, "admin", CAMUNDA_BPMN.encode(), None)
    owner = browser("pemilik.proses")
    owner.get("/editor/")
    response = owner.post("/editor/unggah", {"bpmn": (io.BytesIO(CAMUNDA_BPMN.encode()), "surat.bpmn")},
                          content_type="multipart/form-data")
    assert response.status_code == 409
    assert "Unggahan ditolak: draf Process_surat_masuk sedang dikerjakan admin (revisi 1)" in text(response)
    assert editor.source(rt, "Process_surat_masuk", "pemilik.proses")["saved_by"] == "admin"
    owner.post("/bahasa", {"language": "en"}, headers={"Referer": "/editor/"})
    response = owner.post("/editor/unggah", {"bpmn": (io.BytesIO(CAMUNDA_BPMN.encode()), "surat.bpmn")},
                          content_type="multipart/form-data")
    assert "draft Process_surat_masuk is being worked on by admin (revision 1)" in text(response)


def test_deploy_and_discard_act_only_on_the_draft_the_page_loaded(rt, browser):
    editor.save_draft(rt, KEY, "pemilik.proses", BPMN, yaml_text=YAML)
    owner = browser("pemilik.proses")
    page = text(owner.get(f"/editor/{KEY}"))
    loaded = re.search(r'id="deploy-form".*?name="revision" value="(\d+)"', page, re.S).group(1)
    editor.save_draft(rt, KEY, "admin", BPMN, yaml_text=YAML + "\n")  # a colleague saves meanwhile
    for action, refusal in (("deploy", "Deploy ditolak"), ("buang", "Draf tidak dibuang")):
        response = owner.post(f"/editor/{KEY}/{action}", {"revision": loaded})
        assert response.status_code == 409
        assert f"{refusal}: draf sudah disimpan oleh admin sejak Anda membukanya" in text(response)
    assert editor.source(rt, KEY, "pemilik.proses")["saved_by"] == "admin"
    assert [v["version"] for v in editor.versions(rt, KEY, "pemilik.proses")] == [1]


def test_a_revision_that_is_not_a_number_is_stale_not_a_skipped_check(rt, browser):
    """`revision=abc` (or "１", other digits) was read as no revision, and the deploy went over a
    colleague's save unchecked; it cannot match any revision, so it is refused as stale."""
    editor.save_draft(rt, KEY, "pemilik.proses", BPMN, yaml_text=YAML)
    owner = browser("pemilik.proses")
    owner.get(f"/editor/{KEY}")
    editor.save_draft(rt, KEY, "admin", BPMN, yaml_text=YAML + "\n")  # a colleague saves meanwhile
    for sent in ("abc", "\uff11", "9" * 5000):
        for action, refusal in (("deploy", "Deploy ditolak"), ("buang", "Draf tidak dibuang")):
            response = owner.post(f"/editor/{KEY}/{action}", {"revision": sent})
            assert response.status_code == 409, (action, sent[:5])
            assert refusal in text(response)
    assert [v["version"] for v in editor.versions(rt, KEY, "pemilik.proses")] == [1]


def test_deploy_or_discard_after_a_colleague_deployed_the_draft_shows_the_editor_with_a_conflict(rt, browser):
    editor.save_draft(rt, KEY, "pemilik.proses", BPMN, yaml_text=YAML + "\n")
    owner = browser("pemilik.proses")
    page = text(owner.get(f"/editor/{KEY}"))
    loaded = re.search(r'id="deploy-form".*?name="revision" value="(\d+)"', page, re.S).group(1)
    editor.deploy_draft(rt, KEY, "admin")  # a colleague deploys it meanwhile
    for action, refusal in (("deploy", "Deploy ditolak"), ("buang", "Draf tidak dibuang")):
        response = owner.post(f"/editor/{KEY}/{action}", {"revision": loaded})
        assert response.status_code == 409, action
        assert f"{refusal}: draf yang Anda buka sudah dibuang atau di-deploy" in text(response)


def test_upload_with_yaml(rt, browser):
    owner = browser("pemilik.proses")
    owner.get("/editor/")
    other = BPMN.replace('"monev_kegiatan_bidang"', '"monev_salinan"')
    response = owner.post("/editor/unggah", {"bpmn": (io.BytesIO(other.encode()), "salinan.bpmn"),
                                             "yaml": (io.BytesIO(YAML.encode()), "salinan.yaml")},
                          content_type="multipart/form-data")
    assert response.status_code == 302
    assert "tanpa masalah" in text(owner.get("/editor/monev_salinan"))


def test_upload_with_warnings_only_says_so_not_that_there_is_no_problem(rt, browser):
    """The editor lists the warnings: the message after the upload must not say the draft has none."""
    no_way_on = BPMN.replace(">terverifikasi == False<", ">terverifikasi == False and 1 == 2<", 1)
    owner = browser("pemilik.proses")
    owner.get("/editor/")
    response = owner.post("/editor/unggah", {"bpmn": (io.BytesIO(no_way_on.encode()), "monev.bpmn"),
                                             "yaml": (io.BytesIO(YAML.encode()), "monev.yaml")},
                          content_type="multipart/form-data")
    assert response.status_code == 302
    html = text(owner.get(f"/editor/{KEY}"))
    assert "tanpa masalah" not in html
    assert f"Berkas diunggah sebagai draf {KEY} dengan 1 peringatan; draf tetap dapat di-deploy." in html
    # The list said so too: its red badge read "1 masalah", counting the warning as a problem.
    listed = text(owner.get("/editor/"))
    row = listed[listed.index(f'data-key="{KEY}"'):]
    row = row[:row.index("</tr>")]
    assert '<span class="badge ok">siap deploy</span>' in row and "masalah" not in row, row

    owner.post("/bahasa", {"language": "en"}, headers={"Referer": "/editor/"})
    owner.get("/editor/")
    owner.post("/editor/unggah", {"bpmn": (io.BytesIO(no_way_on.encode()), "monev.bpmn"),
                                  "yaml": (io.BytesIO(YAML.encode()), "monev.yaml")}, content_type="multipart/form-data")
    assert (f"File uploaded as draft {KEY} with 1 warning; the draft can still be deployed."
            in text(owner.get(f"/editor/{KEY}")))


def test_the_editors_counts_of_problems_and_warnings_follow_the_number(rt, browser):
    """English read "1 warning(s)", "3 problem(s)": the upload's message, the list's badge and the editor's
    summary (its script picks the form for the count) say "1 warning", "3 problems"."""
    owner = browser("pemilik.proses")
    owner.post("/bahasa", {"language": "en"}, headers={"Referer": "/editor/"})
    owner.get("/editor/")
    owner.post("/editor/unggah", {"bpmn": (io.BytesIO(CAMUNDA_BPMN.encode()), "surat.bpmn")},
               content_type="multipart/form-data")
    count = len(editor.errors(editor.source(rt, "Process_surat_masuk", "pemilik.proses")["problems"]))
    assert count > 1
    page = text(owner.get("/editor/Process_surat_masuk"))
    assert f"File uploaded as draft Process_surat_masuk with {count} problems to fix before deploying." in page
    labels = json.loads(re.search(r'id="editor-labels">(.*?)</script>', page).group(1))
    assert labels["problems_some"] == ["{n} problem must be fixed before deploying.",
                                       "{n} problems must be fixed before deploying."]
    assert labels["warnings_only"] == ["{n} warning; the draft can still be deployed.",
                                       "{n} warnings; the draft can still be deployed."]
    problems = count  # the list's badge counts what stops a deploy, as the summary does: not the warnings
    assert f">{problems} problems</span>" in text(owner.get("/editor/"))
    refused = text(owner.post("/editor/Process_surat_masuk/deploy"))
    assert "Deploy refused: the draft still needs fixing before it can be deployed" in refused and "(s)" not in refused
    # Indonesian has one form.
    owner.post("/bahasa", {"language": "id"}, headers={"Referer": "/editor/"})
    page = text(owner.get("/editor/Process_surat_masuk"))
    labels = json.loads(re.search(r'id="editor-labels">(.*?)</script>', page).group(1))
    assert labels["problems_some"] == ["{n} masalah harus diperbaiki sebelum deploy."] * 2
    assert f">{problems} masalah</span>" in text(owner.get("/editor/"))


def test_billion_laughs_and_missing_files_are_refused(rt, browser):
    owner = browser("pemilik.proses")
    owner.get("/editor/")
    response = owner.post("/editor/unggah", {"bpmn": (io.BytesIO(BILLION_LAUGHS), "lol.bpmn")},
                          content_type="multipart/form-data")
    assert response.status_code == 422 and "Unggahan ditolak" in text(response)
    assert "entity tidak diizinkan" in text(response)
    assert owner.post("/editor/unggah", {}, content_type="multipart/form-data").status_code == 422
    assert [r["key"] for r in editor.definitions(rt, "pemilik.proses")] == [KEY]


def test_discarding_a_draft(rt, browser):
    owner = browser("pemilik.proses")
    editor.save_draft(rt, KEY, "pemilik.proses", BPMN, yaml_text=YAML)
    assert re.search(r'id="discard-form"\s*>', text(owner.get(f"/editor/{KEY}")))
    response = owner.post(f"/editor/{KEY}/buang")
    assert response.status_code == 302
    assert owner.get(f"/editor/{KEY}/sumber.json").get_json()["origin"] == "version"


def test_the_editor_speaks_english_to_an_english_speaking_owner(rt, browser):
    from engine import accounts
    owner = browser("pemilik.proses")
    accounts.set_language(rt, editor_user_id(rt, "pemilik.proses"), "en")
    listing = text(owner.get("/editor/"))
    assert "SOP editor" in listing and "Upload as draft" in listing
    page = text(owner.get(f"/editor/{KEY}"))
    assert "Save draft" in page and "Select a lane, step or flow" in page


def editor_user_id(rt, login: str) -> int:
    from engine.db import User
    with rt.uow() as session:
        return session.scalars(select(User.id).where(User.login == login)).one()
