"""Importing an SOP table through the REST API: import, answer, resolve, deploy; refusals change nothing."""
from __future__ import annotations

import io

import yaml

from engine import accounts, editor
from tests.e2e.test_api_definitions import Api, app, as_user, client, user_id  # noqa: F401 (fixtures)
from tests.integration.sop import SEED_ANSWERS, SEED_TEXT

KEY = "monev_api"


def import_seed(api: Api, key: str = KEY):
    return api.post("/definitions/imports", data={"source": (io.BytesIO(SEED_TEXT.read_bytes()), "sop.txt"),
                                                  "key": key}, content_type="multipart/form-data")


def test_import_answer_resolve_and_deploy(rt, as_user):
    owner = as_user("pemilik.proses")
    response = import_seed(owner)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["key"] == KEY and body["revision"] == 1 and not body["deployable"]
    assert len(body["questions"]) == 14 and response.headers["Location"].endswith(f"/definitions/{KEY}/draft")
    assert {"id": "Gateway_12.tidak", "element": "Gateway_12", "field": "tidak"}.items() <= \
        next(q for q in body["questions"] if q["id"] == "Gateway_12.tidak").items()
    assert owner.post(f"/definitions/{KEY}/draft/deploy").status_code == 422
    # The draft, opened again, lists them too: what an API client needs to answer them later.
    assert owner.get(f"/definitions/{KEY}/draft").get_json()["questions"] == body["questions"]

    # Questions speak the token owner's language.
    accounts.set_language(rt, user_id(rt, "pemilik.proses"), "en")
    response = owner.post(f"/definitions/{KEY}/draft/questions/Gateway_12.tidak/resolved", json={"revision": 1})
    assert response.status_code == 200 and len(response.get_json()["questions"]) == 13
    indonesian = {q["id"]: q["text"] for q in body["questions"]}
    english = {q["id"]: q["text"] for q in response.get_json()["questions"]}
    assert all(text != indonesian[id_] for id_, text in english.items()), english
    assert english["Step_01.pelaksana"].startswith("In step 1 ("), english["Step_01.pelaksana"]
    accounts.set_language(rt, user_id(rt, "pemilik.proses"), "id")
    answers = yaml.safe_load(SEED_ANSWERS.read_text(encoding="utf-8"))
    response = owner.post(f"/definitions/{KEY}/draft/answers", json={"answers": answers, "revision": 2})
    body = response.get_json()
    assert response.status_code == 200 and body["questions"] == [] and body["deployable"], body
    response = owner.post(f"/definitions/{KEY}/draft/deploy")
    assert response.status_code == 201 and response.get_json()["version"] == 1


def test_refusals_name_the_problem_and_store_nothing(rt, as_user):
    owner = as_user("pemilik.proses")
    bad = b"No,Uraian Prosedur,Tim Teknis,Kelengkapan,Waktu,Output\n1,A,X,,1 Hari,\n1,B,X,,1 Hari,\n"
    response = owner.post("/definitions/imports", data={"source": (io.BytesIO(bad), "rusak.csv")},
                          content_type="multipart/form-data")
    assert response.status_code == 422
    assert "rusak.csv: baris 3: nomor langkah 1 tidak urut (seharusnya 2)" in response.get_json()["error"]["message"]
    assert import_seed(owner, key="monev_kegiatan_bidang").status_code == 409
    assert import_seed(as_user("aptika.implementasi")).status_code == 403
    assert [r["key"] for r in editor.definitions(rt, "pemilik.proses")] == ["monev_kegiatan_bidang"]
    assert import_seed(owner).status_code == 201
    response = owner.post(f"/definitions/{KEY}/draft/answers", json={"answers": {"Step_04": {"waktu": "kapan-kapan"}}})
    assert response.status_code == 422 and "Step_04.waktu" in response.get_json()["error"]["message"]
    response = owner.post(f"/definitions/{KEY}/draft/answers", json={"answers": {"Step_04": "Tim Teknis"}})
    assert response.status_code == 422
    assert owner.post(f"/definitions/{KEY}/draft/questions/Step_99.waktu/resolved", json={}).status_code == 404
    assert len(editor.source(rt, KEY, "pemilik.proses")["questions"]) == 14


def test_refusals_speak_the_token_owners_language(rt, as_user):
    owner = as_user("pemilik.proses")
    bad = b"No,Uraian Prosedur,Tim Teknis,Kelengkapan,Waktu,Output\n1,A,X,,1 Hari,\nx,B,X,,1 Hari,\n"

    def refusal(response) -> tuple[str, dict]:
        assert response.status_code == 422
        error = response.get_json()["error"]
        return error["message"], error["fields"]

    def import_bad():
        return owner.post("/definitions/imports", data={"source": (io.BytesIO(bad), "rusak.csv")},
                          content_type="multipart/form-data")

    assert refusal(import_bad()) == ("berkas rusak.csv tidak dapat diimpor: rusak.csv: baris 3: No 'x' bukan nomor "
                                     "langkah", {"source": "rusak.csv: baris 3: No 'x' bukan nomor langkah"})
    assert import_seed(owner).status_code == 201
    wrong = {"answers": {"Lane_Teknis": {"peran": "kepala"}}, "revision": 1}
    message, _ = refusal(owner.post(f"/definitions/{KEY}/draft/answers", json=wrong))
    assert message.startswith("jawaban tidak dapat dipakai: Lane_Teknis.peran: 'kepala' bukan salah satu peran kantor")

    accounts.set_language(rt, user_id(rt, "pemilik.proses"), "en")
    assert refusal(import_bad()) == ("file rusak.csv cannot be imported: rusak.csv: row 3: No 'x' is not a step "
                                     "number", {"source": "rusak.csv: row 3: No 'x' is not a step number"})
    message, _ = refusal(owner.post(f"/definitions/{KEY}/draft/answers", json=wrong))
    assert message.startswith("the answers cannot be used: Lane_Teknis.peran: 'kepala' is not one of the office's roles")
