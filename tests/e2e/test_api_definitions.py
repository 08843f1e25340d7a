"""The process owner's REST API (/api/v1/definitions..., /instances/{id}/migrate) on SQLite and PostgreSQL.

Permissions are engine.editor's; these tests check that every endpoint goes
through them (403 for staff, nothing changed) and that the engine's answers
come out as the documented statuses and bodies.
"""
from __future__ import annotations

import codecs
import io
import re
import time

import pytest
from sqlalchemy import select

from engine import accounts, editor, services
from engine.db import DefinitionDraft, Event, User
from tests.integration.test_definitions import (
    BILLION_LAUGHS, BPMN, CAMUNDA_BPMN, KEY, YAML, open_row, remove_element, step7_to_administrasi, step_renamed,
    without_step_number,
)
from tests.sessions import session_id
from web.app import create_app

OWNER = "pemilik.proses"
STAFF = ("aptika.implementasi", "kepala.aptika", "kadis", "sekretaris")
COPY_BPMN = BPMN.replace('"monev_kegiatan_bidang"', '"monev_salinan"')


@pytest.fixture
def app(rt):
    return create_app(runtime=rt, testing=True)


@pytest.fixture
def client(app):
    return app.test_client()


class Api:
    """A client that sends one user's bearer token with every request to /api/v1."""

    def __init__(self, client, token: str):
        self.client, self.token = client, token

    def _call(self, method: str, path: str, headers=None, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        return self.client.open("/api/v1" + path, method=method, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self._call("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self._call("POST", path, **kwargs)

    def put(self, path, **kwargs):
        return self._call("PUT", path, **kwargs)

    def delete(self, path, **kwargs):
        return self._call("DELETE", path, **kwargs)


def user_id(rt, login: str) -> int:
    with rt.uow() as session:
        return session.scalars(select(User.id).where(User.login == login)).one()


@pytest.fixture
def as_user(rt, client):
    """as_user(login) -> an Api client holding a fresh token of that user."""
    def make(login: str) -> Api:
        _, token = accounts.create_token(rt, user_id(rt, login), "tes")
        return Api(client, token)
    return make


@pytest.fixture
def owner(as_user) -> Api:
    return as_user(OWNER)


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.is_json
    body = response.get_json()["error"]
    assert body["code"] == code
    assert body["message"]
    return body


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    return response.get_json()


def start(rt, title: str = "Layanan email dinas") -> int:
    return services.start(rt, KEY, "aptika", title, "sekretaris")


def instance_version(rt, instance_id: int) -> int:
    return services.show(rt, instance_id)["definition_version"]


def upload(api: Api, bpmn: bytes, yaml: bytes | None = None, filename: str = "proses.bpmn"):
    data = {"bpmn": (io.BytesIO(bpmn), filename)}
    if yaml is not None:
        data["yaml"] = (io.BytesIO(yaml), "proses.yaml")
    return api.post("/definitions/uploads", data=data, content_type="multipart/form-data")


def deploy_v2(api: Api, bpmn: str) -> dict:
    saved = ok(api.put(f"/definitions/{KEY}/draft", json={"bpmn_xml": bpmn, "yaml_text": YAML}))
    assert saved["problems"] == [], saved["problems"]
    return ok(api.post(f"/definitions/{KEY}/draft/deploy"), 201)


def draft_row(rt, key: str = KEY) -> DefinitionDraft | None:
    with rt.uow() as session:
        draft = session.get(DefinitionDraft, key)
        if draft is not None:
            session.expunge(draft)
        return draft


# -- definitions and drafts ----------------------------------------------------------------

def test_list_definitions(rt, owner):
    start(rt)
    [row] = ok(owner.get("/definitions"))["definitions"]
    assert (row["key"], row["version"], row["draft"], row["running"]) == (KEY, 1, None, 1)
    assert row["name"] and row["deployed_at"]

    owner.put(f"/definitions/{KEY}/draft", json={"bpmn_xml": BPMN, "yaml_text": YAML})
    [row] = ok(owner.get("/definitions"))["definitions"]
    assert row["draft"]["revision"] == 1 and row["draft"]["saved_by"] == OWNER and row["draft"]["deployable"]


def test_show_draft_opens_the_newest_version_without_a_draft(owner):
    source = ok(owner.get(f"/definitions/{KEY}/draft"))
    assert (source["key"], source["origin"], source["revision"], source["latest_version"]) == (KEY, "version", 0, 1)
    assert source["bpmn_xml"] == BPMN and source["yaml_text"] == YAML
    assert source["steps"]["7"]["form"][0]["name"] == "data_diberikan"
    assert "administrasi" in source["roles"] and source["problems"] == []
    error(owner.get("/definitions/tidak_ada/draft"), 404, "not_found")


def test_saving_a_draft_returns_its_problems(rt, owner):
    instance_id = start(rt)
    response = owner.put(f"/definitions/{KEY}/draft",
                         json={"bpmn_xml": without_step_number(BPMN, "Step_07"), "revision": 0})
    saved = ok(response)
    assert (saved["key"], saved["origin"], saved["revision"], saved["saved_by"]) == (KEY, "draft", 1, OWNER)
    assert saved["deployable"] is False
    assert any(p["element_id"] == "Step_07" and "belum memiliki nomor SOP" in p["message"] for p in saved["problems"])

    source = ok(owner.get(f"/definitions/{KEY}/draft"))
    assert source["origin"] == "draft" and source["problems"] == saved["problems"]
    # Problems speak the token owner's language, as the editor's pages do.
    accounts.set_language(rt, user_id(rt, OWNER), "en")
    for answer in (ok(owner.get(f"/definitions/{KEY}/draft")), ok(owner.get("/definitions"))["definitions"][0]["draft"]):
        assert any(p["element_id"] == "Step_07" and p["message"] == "the step has no SOP number (attribute alur:step)"
                   for p in answer["problems"]), answer["problems"]
    accounts.set_language(rt, user_id(rt, OWNER), "id")
    assert source["yaml_text"] == YAML  # no yaml_text and no steps: the YAML stays as it was
    assert instance_version(rt, instance_id) == 1  # running work is not touched

    # The editor's JSON model of the steps is written back into the YAML.
    steps = source["steps"]
    steps["7"]["output"] = "Data lengkap"
    fixed = ok(owner.put(f"/definitions/{KEY}/draft", json={"bpmn_xml": BPMN, "steps": steps, "revision": 1}))
    assert fixed["revision"] == 2 and fixed["problems"] == [] and fixed["deployable"] is True
    assert "    output: Data lengkap\n" in draft_row(rt).yaml_text


def test_a_draft_saved_with_control_characters_reads_back_as_the_sop_import_would_have_written_it(rt, owner):
    """NEL (U+0085) in a step's text read back from the YAML as a space, and a terminal escape or a
    bell was kept for the task page; the import's rule cleans them: NEL is a line break, the rest left out."""
    steps = ok(owner.get(f"/definitions/{KEY}/draft"))["steps"]
    steps["7"]["output"] = "Data\x85lengkap"
    steps["7"]["kelengkapan"] = "Data kegiatan\x1b[0m"
    steps["7"]["form"][0]["label"] = "Data\u2028diberikan?\x07"
    saved = ok(owner.put(f"/definitions/{KEY}/draft", json={"bpmn_xml": BPMN, "steps": steps, "revision": 0}))
    assert saved["problems"] == []
    again = ok(owner.get(f"/definitions/{KEY}/draft"))["steps"]["7"]
    assert (again["output"], again["kelengkapan"]) == ("Data\nlengkap", "Data kegiatan[0m")
    assert again["form"][0]["label"] == "Data\u2028diberikan?"


def test_saving_over_a_newer_revision_is_409(rt, owner, as_user):
    ok(owner.put(f"/definitions/{KEY}/draft", json={"bpmn_xml": BPMN, "yaml_text": YAML, "revision": 0}))
    ok(as_user("admin").put(f"/definitions/{KEY}/draft", json={"bpmn_xml": BPMN, "yaml_text": YAML, "revision": 1}))

    body = error(owner.put(f"/definitions/{KEY}/draft",
                           json={"bpmn_xml": step7_to_administrasi(), "yaml_text": YAML, "revision": 1}),
                 409, "conflict")
    assert "admin" in body["message"] and "muat ulang" in body["message"]
    error(owner.put(f"/definitions/{KEY}/draft", json={"bpmn_xml": BPMN, "revision": 0}), 409, "conflict")
    draft = draft_row(rt)
    assert (draft.revision, draft.saved_by, draft.bpmn_xml) == (2, "admin", BPMN)


def test_a_draft_body_that_does_not_fit_is_refused(rt, owner):
    body = error(owner.put(f"/definitions/{KEY}/draft", json={"yaml_text": YAML}), 422, "invalid_data")
    assert body["fields"] == {"bpmn_xml": "wajib diisi"}
    body = error(owner.put(f"/definitions/{KEY}/draft", json={"bpmn_xml": BPMN, "yaml_text": YAML, "steps": {}}),
                 422, "invalid_data")
    assert set(body["fields"]) == {"steps"}
    body = error(owner.put(f"/definitions/{KEY}/draft", json={"bpmn_xml": BPMN, "revision": "satu", "x": 1}),
                 422, "invalid_data")
    assert set(body["fields"]) == {"revision", "x"}
    error(owner.put(f"/definitions/{KEY}/draft", data="<bpmn/>", content_type="application/xml"), 400, "bad_request")
    huge = " " * (editor.MAX_BPMN_BYTES + 1)
    error(owner.put(f"/definitions/{KEY}/draft", json={"bpmn_xml": huge}), 413, "too_large")
    assert draft_row(rt) is None


def test_discarding_a_draft(rt, owner):
    ok(owner.put(f"/definitions/{KEY}/draft", json={"bpmn_xml": BPMN, "yaml_text": YAML}))
    response = owner.delete(f"/definitions/{KEY}/draft")
    assert response.status_code == 204 and response.data == b""
    assert draft_row(rt) is None
    assert ok(owner.get(f"/definitions/{KEY}/draft"))["origin"] == "version"
    error(owner.delete(f"/definitions/{KEY}/draft"), 404, "not_found")


def test_deploy_or_discard_naming_a_stale_revision_is_409(rt, owner, as_user):
    loaded = ok(owner.put(f"/definitions/{KEY}/draft", json={"bpmn_xml": BPMN, "yaml_text": YAML}))["revision"]
    ok(as_user("admin").put(f"/definitions/{KEY}/draft", json={"bpmn_xml": BPMN, "yaml_text": YAML + "\n"}))
    body = error(owner.post(f"/definitions/{KEY}/draft/deploy", json={"revision": loaded}), 409, "conflict")
    assert "disimpan oleh admin" in body["message"]
    error(owner.delete(f"/definitions/{KEY}/draft?revision={loaded}"), 409, "conflict")
    # The revision sent in a body, as deploy takes it, was ignored: the colleague's draft went unseen.
    body = error(owner.delete(f"/definitions/{KEY}/draft", json={"revision": loaded}), 422, "invalid_data")
    assert body["fields"] == {"revision": "isian tidak dikenal"}
    assert draft_row(rt).revision == loaded + 1
    assert owner.delete(f"/definitions/{KEY}/draft?revision={loaded + 1}", json={}).status_code == 204


def test_deploy_or_discard_of_a_revision_a_colleague_deployed_meanwhile_is_409_not_404(rt, owner, as_user):
    """REVISION_HELP promises 409 when the loaded draft was discarded or deployed since; 404 read as
    "no such definition" and told nothing of the colleague."""
    loaded = ok(owner.put(f"/definitions/{KEY}/draft", json={"bpmn_xml": BPMN, "yaml_text": YAML}))["revision"]
    ok(as_user("admin").post(f"/definitions/{KEY}/draft/deploy", json={"revision": loaded}))
    body = error(owner.post(f"/definitions/{KEY}/draft/deploy", json={"revision": loaded}), 409, "conflict")
    assert "dibuang atau di-deploy" in body["message"]
    error(owner.delete(f"/definitions/{KEY}/draft?revision={loaded}"), 409, "conflict")
    # Without a draft revision (or naming none, 0) there is simply nothing to act on.
    error(owner.post(f"/definitions/{KEY}/draft/deploy", json={"revision": 0}), 404, "not_found")
    error(owner.delete(f"/definitions/{KEY}/draft"), 404, "not_found")


# -- uploads ---------------------------------------------------------------------------------

def test_upload_of_a_camunda_file_becomes_a_draft_with_problems(owner):
    response = upload(owner, CAMUNDA_BPMN.encode(), filename="surat.bpmn")
    draft = ok(response, 201)
    assert response.headers["Location"].endswith("/api/v1/definitions/Process_surat_masuk/draft")
    assert (draft["key"], draft["origin"], draft["revision"], draft["deployable"]) == \
        ("Process_surat_masuk", "draft", 1, False)
    assert any(p["element"] == "Activity_kirim" and "serviceTask tidak didukung" in p["message"]
               for p in draft["problems"])
    listed = {r["key"]: r for r in ok(owner.get("/definitions"))["definitions"]}
    assert listed["Process_surat_masuk"]["version"] is None and listed["Process_surat_masuk"]["draft"]
    body = error(owner.post("/definitions/Process_surat_masuk/draft/deploy"), 422, "invalid_data")
    assert "Activity_kirim" in body["fields"]


def test_upload_with_its_yaml_can_be_deployed(owner):
    draft = ok(upload(owner, COPY_BPMN.encode(), YAML.encode()), 201)
    assert (draft["key"], draft["problems"], draft["deployable"]) == ("monev_salinan", [], True)
    deployed = ok(owner.post("/definitions/monev_salinan/draft/deploy"), 201)
    assert (deployed["key"], deployed["version"], deployed["created"]) == ("monev_salinan", 1, True)
    assert deployed["summary"] == "Versi pertama"


@pytest.mark.parametrize("encoding", ["UTF-16", "ISO-8859-1"])
def test_an_upload_in_the_encoding_its_xml_declares_can_be_deployed(owner, encoding):
    """The text is stored and parsed as UTF-8: a UTF-16 file was taken, then its draft read as broken XML
    ('encoding specified in XML declaration is incorrect'); an ISO-8859-1 one was refused as not UTF-8."""
    text = COPY_BPMN.replace('encoding="UTF-8"', f'encoding="{encoding}"').replace(
        'name="Mulai">', 'name="Mulai \xe9">', 1)
    draft = ok(upload(owner, text.encode(encoding), YAML.encode()), 201)
    assert (draft["key"], draft["problems"], draft["deployable"]) == ("monev_salinan", [], True)
    assert 'name="Mulai \xe9"' in ok(owner.get("/definitions/monev_salinan/draft"))["bpmn_xml"]
    assert ok(owner.post("/definitions/monev_salinan/draft/deploy"), 201)["version"] == 1


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-32-be"])
def test_a_yaml_upload_with_a_byte_order_mark_is_read_in_the_encoding_it_marks(owner, encoding):
    """A UTF-32 file's mark (FF FE 00 00) begins as UTF-16's does: it was read as UTF-16, each
    character followed by a NUL, and refused as not UTF-8 (big-endian too)."""
    marked = YAML.replace("Kelengkapan, Output", "Kelengkapan \u2013 \xe9, Output", 1)
    data = (codecs.BOM_UTF32_BE if encoding == "utf-32-be" else b"") + marked.encode(encoding)
    draft = ok(upload(owner, COPY_BPMN.encode(), data), 201)
    assert (draft["key"], draft["problems"]) == ("monev_salinan", [])
    assert ok(owner.get("/definitions/monev_salinan/draft"))["yaml_text"] == marked


def test_a_billion_laughs_upload_is_refused_quickly(rt, owner):
    began = time.process_time()  # CPU time of this process, where the app runs: not stretched by a busy machine
    body = error(upload(owner, BILLION_LAUGHS, filename="lol.bpmn"), 422, "invalid_data")
    assert time.process_time() - began < 2
    assert "entity tidak diizinkan" in body["message"] and "entity tidak diizinkan" in body["fields"]["bpmn"]
    assert [r["key"] for r in ok(owner.get("/definitions"))["definitions"]] == [KEY]
    assert draft_row(rt, "lol") is None


def test_uploads_that_are_missing_not_bpmn_or_too_large_are_refused(owner):
    body = error(owner.post("/definitions/uploads", data={}, content_type="multipart/form-data"),
                 422, "invalid_data")
    assert body["fields"] == {"bpmn": "wajib diisi"}
    body = error(owner.post("/definitions/uploads", data={"bpmn": "<bpmn/>"}, content_type="multipart/form-data"),
                 422, "invalid_data")
    assert body["fields"] == {"bpmn": "harus berupa berkas"}
    error(owner.post("/definitions/uploads", json={"bpmn": CAMUNDA_BPMN}), 400, "bad_request")
    cut_short = '--XYZ\r\nContent-Disposition: form-data; name="bpmn"; filename="a.bpmn"\r\n\r\n<bpmn:defin'
    error(owner.post("/definitions/uploads", data=cut_short, content_type="multipart/form-data; boundary=XYZ"),
          400, "bad_request")  # not "bpmn: required": it was sent, and could not be read
    body = error(upload(owner, b"<html><body>bukan bpmn</body></html>"), 422, "invalid_data")
    assert "bpmn" in body["fields"]
    error(upload(owner, b" " * (editor.MAX_BPMN_BYTES + 1)), 413, "too_large")
    error(upload(owner, COPY_BPMN.encode(), b"#" * (editor.MAX_YAML_BYTES + 1)), 413, "too_large")
    assert [r["key"] for r in ok(owner.get("/definitions"))["definitions"]] == [KEY]


def test_an_upload_over_a_colleagues_draft_is_409_unless_it_names_the_revision(rt, owner, as_user):
    ok(upload(as_user("admin"), CAMUNDA_BPMN.encode()), 201)
    body = error(upload(owner, CAMUNDA_BPMN.encode()), 409, "conflict")
    assert "admin" in body["message"] and "revisi 1" in body["message"]
    assert draft_row(rt, "Process_surat_masuk").saved_by == "admin"
    data = {"bpmn": (io.BytesIO(CAMUNDA_BPMN.encode()), "surat.bpmn"), "revision": "1"}
    draft = ok(owner.post("/definitions/uploads", data=data, content_type="multipart/form-data"), 201)
    assert (draft["revision"], draft["saved_by"]) == (2, OWNER)


# -- deploying and versions ---------------------------------------------------------------------

def test_deploy_is_refused_while_the_draft_has_problems(rt, owner):
    ok(owner.put(f"/definitions/{KEY}/draft", json={"bpmn_xml": without_step_number(BPMN, "Step_07")}))
    body = error(owner.post(f"/definitions/{KEY}/draft/deploy"), 422, "invalid_data")
    assert "masalah" in body["message"]
    assert "belum memiliki nomor SOP" in body["fields"]["Step_07"]
    assert [v["version"] for v in ok(owner.get(f"/definitions/{KEY}/versions"))["versions"]] == [1]
    assert draft_row(rt) is not None  # kept, to be fixed
    error(owner.post("/definitions/tanpa_draf/draft/deploy"), 404, "not_found")


def test_deploy_creates_the_next_version(rt, clock, owner):
    old = start(rt, "Sebelum perubahan")
    clock.advance(minutes=5)
    ok(owner.put(f"/definitions/{KEY}/draft", json={"bpmn_xml": step7_to_administrasi(), "revision": 0}))
    response = owner.post(f"/definitions/{KEY}/draft/deploy")
    deployed = ok(response, 201)
    assert response.headers["Location"].endswith(f"/api/v1/definitions/{KEY}/versions/2")
    assert (deployed["key"], deployed["version"], deployed["created"], deployed["deployed_by"]) == (KEY, 2, True, OWNER)
    assert deployed["deployed_at"] == clock.now().isoformat()
    assert "Langkah 7 dipindah dari Tim Implementasi ke Tim Administrasi" in deployed["summary"]

    listing = ok(owner.get(f"/definitions/{KEY}/versions"))
    assert listing["key"] == KEY
    [v2, v1] = listing["versions"]
    assert (v2["version"], v2["deployed_by"], v2["summary"], v2["running"]) == (2, OWNER, deployed["summary"], 0)
    assert (v1["version"], v1["running"]) == (1, 1) and v1["content_hash"]
    assert ok(owner.get(f"/definitions/{KEY}/versions/1"))["bpmn_xml"] == BPMN
    second = ok(owner.get(f"/definitions/{KEY}/versions/2"))
    assert second["version"] == 2 and "PT60M" in second["bpmn_xml"] and second["yaml_text"] == YAML
    error(owner.get(f"/definitions/{KEY}/versions/9"), 404, "not_found")
    error(owner.get("/definitions/tidak_ada/versions"), 404, "not_found")

    source = ok(owner.get(f"/definitions/{KEY}/draft"))
    assert (source["origin"], source["latest_version"]) == ("version", 2)  # the draft is gone
    error(owner.post(f"/definitions/{KEY}/draft/deploy"), 404, "not_found")
    assert instance_version(rt, start(rt, "Sesudah perubahan")) == 2
    assert instance_version(rt, old) == 1


def test_a_draft_equal_to_the_newest_version_makes_no_new_version(owner):
    ok(owner.put(f"/definitions/{KEY}/draft", json={"bpmn_xml": BPMN, "yaml_text": YAML}))
    result = ok(owner.post(f"/definitions/{KEY}/draft/deploy"), 200)
    assert (result["version"], result["created"]) == (1, False)


def test_deploying_a_draft_older_than_another_change_is_409(rt, owner):
    from process.loader import load
    ok(owner.put(f"/definitions/{KEY}/draft", json={"bpmn_xml": step7_to_administrasi(), "revision": 0}))
    services.deploy(rt, load(step7_to_administrasi(minutes=45), YAML), "admin")
    body = error(owner.post(f"/definitions/{KEY}/draft/deploy"), 409, "conflict")
    assert body["message"] == ("versi 2 di-deploy oleh admin setelah draf ini dibuat dari versi 1; buang draf ini "
                               "dan ulangi perubahan Anda pada versi terbaru")
    accounts.set_language(rt, user_id(rt, OWNER), "en")  # the token owner's language
    body = error(owner.post(f"/definitions/{KEY}/draft/deploy"), 409, "conflict")
    assert body["message"].startswith("version 2 was deployed by admin after this draft was made from version 1")
    assert [v["version"] for v in ok(owner.get(f"/definitions/{KEY}/versions"))["versions"]] == [2, 1]


# -- migration ------------------------------------------------------------------------------------

def test_migration_allowed(rt, owner):
    instance_id = start(rt)
    deploy_v2(owner, step7_to_administrasi())

    listing = ok(owner.get(f"/definitions/{KEY}/migrations"))
    assert (listing["key"], listing["target"]) == (KEY, 2)
    assert listing["instances"] == [{"id": instance_id, "title": "Layanan email dinas", "bidang": "aptika",
                                     "version": 1, "current_steps": [1], "eligible": True, "reason": None}]
    assert ok(owner.get(f"/definitions/{KEY}/migrations?target=2")) == listing

    moved = ok(owner.post(f"/instances/{instance_id}/migrate", json={"target": 2}))
    assert (moved["id"], moved["from"], moved["to"]) == (instance_id, 1, 2)
    assert [s["step"] for s in moved["steps"]] == [1]
    assert instance_version(rt, instance_id) == 2
    assert ok(owner.get(f"/definitions/{KEY}/migrations"))["instances"] == []


def test_a_migration_retried_after_it_was_done_changes_nothing_and_logs_nothing(rt, owner):
    """A retry (its answer lost) was 409 "already on version 2" and wrote another migration_refused
    to the activity's history each time; it answers what is, with `migrated` false."""
    instance_id = start(rt)
    deploy_v2(owner, step7_to_administrasi())
    moved = ok(owner.post(f"/instances/{instance_id}/migrate", json={"target": 2}))
    assert (moved["from"], moved["to"], moved["migrated"]) == (1, 2, True)
    for body in ({"target": 2}, {}):
        again = ok(owner.post(f"/instances/{instance_id}/migrate", json=body))
        assert (again["id"], again["from"], again["to"], again["steps"], again["migrated"]) == (instance_id, 2, 2, [],
                                                                                               False)
    with rt.uow() as session:
        kinds = session.scalars(select(Event.kind).where(Event.instance_id == instance_id,
                                                         Event.kind.like("migrat%"))).all()
    assert kinds == ["migrated"] and instance_version(rt, instance_id) == 2


def test_migration_refused_is_409_with_the_reason(rt, owner):
    instance_id = start(rt)
    deploy_v2(owner, step_renamed(BPMN, "Step_01", "Step_01_baru"))

    [row] = ok(owner.get(f"/definitions/{KEY}/migrations"))["instances"]
    assert row["eligible"] is False and "Step_01" in row["reason"]
    body = error(owner.post(f"/instances/{instance_id}/migrate"), 409, "conflict")
    assert "langkah 1" in body["message"] and "Step_01" in body["message"]
    assert instance_version(rt, instance_id) == 1
    with rt.uow() as session:
        refused = session.scalars(select(Event).where(Event.instance_id == instance_id,
                                                      Event.kind == "migration_refused")).all()
    assert [e.actor for e in refused] == [OWNER]

    [result] = ok(owner.post(f"/definitions/{KEY}/migrations", json={}))["results"]
    assert (result["id"], result["migrated"]) == (instance_id, False) and "Step_01" in result["reason"]
    assert "from" not in result
    # Reasons speak the token owner's language, as the API's errors do.
    accounts.set_language(rt, user_id(rt, OWNER), "en")
    [row] = ok(owner.get(f"/definitions/{KEY}/migrations"))["instances"]
    [result] = ok(owner.post(f"/definitions/{KEY}/migrations", json={}))["results"]
    for reason in (row["reason"], result["reason"]):
        assert "Step_01" in reason and "step 1" in reason and "langkah" not in reason, reason
    accounts.set_language(rt, user_id(rt, OWNER), "id")
    body = error(owner.post(f"/instances/{instance_id}/migrate", json={"target": 2}), 409, "conflict")
    assert "langkah 1" in body["message"]
    assert instance_version(rt, instance_id) == 1


def test_a_draft_taking_away_a_waiting_steps_standard_time_is_not_deployed_and_nothing_moves(rt, owner):
    instance_id = start(rt)
    due = open_row(rt, instance_id).due_at
    saved = ok(owner.put(f"/definitions/{KEY}/draft",
                         json={"bpmn_xml": remove_element(BPMN, "boundaryEvent", "Timer_01"), "yaml_text": YAML}))
    assert any(p["element"] == "Step_01" and "belum memiliki mutu baku waktu" in p["message"]
               for p in saved["problems"])

    body = error(owner.post(f"/definitions/{KEY}/draft/deploy"), 422, "invalid_data")
    assert "belum memiliki mutu baku waktu" in body["fields"]["Step_01"]
    assert ok(owner.get(f"/definitions/{KEY}/migrations")) == {"key": KEY, "target": 1, "instances": []}
    assert (instance_version(rt, instance_id), open_row(rt, instance_id).due_at) == (1, due)


def test_migrate_all_moves_every_eligible_instance(rt, owner):
    first, second = start(rt, "Pertama"), start(rt, "Kedua")
    deploy_v2(owner, step7_to_administrasi())
    response = ok(owner.post(f"/definitions/{KEY}/migrations", json={"target": 2}))
    assert response["key"] == KEY
    assert {r["id"]: (r["migrated"], r["reason"], r["from"], r["to"]) for r in response["results"]} == \
        {first: (True, None, 1, 2), second: (True, None, 1, 2)}
    assert (instance_version(rt, first), instance_version(rt, second)) == (2, 2)


def test_migration_requests_that_do_not_fit_are_refused(rt, owner):
    instance_id = start(rt)
    body = error(owner.get(f"/definitions/{KEY}/migrations?target=0"), 422, "invalid_data")
    assert set(body["fields"]) == {"target"}
    error(owner.get(f"/definitions/{KEY}/migrations?target=9"), 404, "not_found")
    error(owner.get("/definitions/tidak_ada/migrations"), 404, "not_found")
    body = error(owner.post(f"/instances/{instance_id}/migrate", json={"target": "dua"}), 422, "invalid_data")
    assert set(body["fields"]) == {"target"}
    error(owner.post(f"/definitions/{KEY}/migrations", json={"versi": 2}), 422, "invalid_data")
    error(owner.post("/instances/999999/migrate"), 404, "not_found")


# -- permissions and authentication ------------------------------------------------------------------

@pytest.mark.parametrize("login", STAFF)
def test_staff_get_403_on_every_endpoint_and_nothing_changes(rt, as_user, login):
    instance_id = start(rt)
    admin = as_user("admin")
    deploy_v2(admin, step7_to_administrasi())  # an instance on v1 that could move to v2
    ok(admin.put(f"/definitions/{KEY}/draft", json={"bpmn_xml": step7_to_administrasi(minutes=45)}))  # deployable
    staff = as_user(login)

    calls = {
        "list": lambda: staff.get("/definitions"),
        "source": lambda: staff.get(f"/definitions/{KEY}/draft"),
        "save": lambda: staff.put(f"/definitions/{KEY}/draft", json={"bpmn_xml": BPMN, "yaml_text": YAML}),
        "discard": lambda: staff.delete(f"/definitions/{KEY}/draft"),
        "upload": lambda: upload(staff, CAMUNDA_BPMN.encode()),
        "deploy": lambda: staff.post(f"/definitions/{KEY}/draft/deploy"),
        "versions": lambda: staff.get(f"/definitions/{KEY}/versions"),
        "version": lambda: staff.get(f"/definitions/{KEY}/versions/1"),
        "candidates": lambda: staff.get(f"/definitions/{KEY}/migrations"),
        "migrate_all": lambda: staff.post(f"/definitions/{KEY}/migrations", json={}),
        "migrate": lambda: staff.post(f"/instances/{instance_id}/migrate", json={}),
        # Malformed input: still 403, not 422 (which would tell them how to call it).
        "save_malformed": lambda: staff.put(f"/definitions/{KEY}/draft", json={"bpmn_xml": 5}),
        "upload_empty": lambda: staff.post("/definitions/uploads", data={}, content_type="multipart/form-data"),
        "candidates_malformed": lambda: staff.get(f"/definitions/{KEY}/migrations?target=dua"),
        "migrate_malformed": lambda: staff.post(f"/instances/{instance_id}/migrate", json={"target": "dua"}),
    }
    for name, call in calls.items():
        response = call()
        assert response.status_code == 403, (name, response.status_code, response.get_data(as_text=True))
        assert response.get_json()["error"]["code"] == "forbidden", name

    draft = draft_row(rt)
    assert (draft.saved_by, draft.revision) == ("admin", 1)
    assert draft_row(rt, "Process_surat_masuk") is None
    assert [v["version"] for v in editor.versions(rt, KEY, OWNER)] == [2, 1]
    assert instance_version(rt, instance_id) == 1
    with rt.uow() as session:
        assert session.scalars(select(Event.kind).where(Event.instance_id == instance_id,
                                                        Event.kind.like("migrat%"))).all() == []


def test_no_token_is_401(client):
    for method, path in (("GET", "/definitions"), ("PUT", f"/definitions/{KEY}/draft"),
                         ("DELETE", f"/definitions/{KEY}/draft"), ("POST", "/definitions/uploads"),
                         ("POST", "/instances/1/migrate")):
        error(client.open("/api/v1" + path, method=method), 401, "unauthorized")


def test_browser_session_needs_the_csrf_header_to_change_a_draft(rt, client):
    with client.session_transaction() as session:
        session["_user_id"] = session_id(rt, user_id(rt, OWNER))
        session["_fresh"] = True
    page = client.get("/token")
    csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)

    assert client.get(f"/api/v1/definitions/{KEY}/draft").status_code == 200
    body = {"bpmn_xml": BPMN, "yaml_text": YAML}
    error(client.put(f"/api/v1/definitions/{KEY}/draft", json=body), 403, "csrf_failed")
    assert draft_row(rt) is None
    assert ok(client.put(f"/api/v1/definitions/{KEY}/draft", json=body,
                         headers={"X-CSRFToken": csrf_token}))["revision"] == 1
    error(client.delete(f"/api/v1/definitions/{KEY}/draft"), 403, "csrf_failed")
    assert draft_row(rt) is not None
    assert client.delete(f"/api/v1/definitions/{KEY}/draft", headers={"X-CSRFToken": csrf_token}).status_code == 204
    assert draft_row(rt) is None


# -- the OpenAPI document -------------------------------------------------------------------------------

def test_openapi_documents_the_definition_endpoints(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    paths, schemas = doc["paths"], doc["components"]["schemas"]
    expected = {
        "/definitions": {"get"},
        "/definitions/{key}/draft": {"get", "put", "delete"},
        "/definitions/uploads": {"post"},
        "/definitions/{key}/draft/deploy": {"post"},
        "/definitions/{key}/versions": {"get"},
        "/definitions/{key}/versions/{version}": {"get"},
        "/definitions/{key}/migrations": {"get", "post"},
        "/instances/{instance_id}/migrate": {"post"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) == methods, path
        for method in methods:
            assert "403" in paths[path][method]["responses"], (path, method)

    save = paths["/definitions/{key}/draft"]["put"]
    assert save["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/DraftBody"}
    assert {"409", "413", "422"} <= set(save["responses"])
    assert set(schemas["DraftBody"]["properties"]) == {"bpmn_xml", "yaml_text", "steps", "revision"}
    assert schemas["DraftBody"]["required"] == ["bpmn_xml"]
    assert set(paths["/definitions/{key}/draft"]["delete"]["responses"]) >= {"204", "404"}

    upload_doc = paths["/definitions/uploads"]["post"]
    form = upload_doc["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form == {"$ref": "#/components/schemas/UploadForm"}
    assert schemas["UploadForm"]["properties"]["bpmn"] == {**schemas["UploadForm"]["properties"]["bpmn"],
                                                          "type": "string", "format": "binary"}
    assert {"201", "413", "422"} <= set(upload_doc["responses"])

    deploy = paths["/definitions/{key}/draft/deploy"]["post"]
    assert {"200", "201", "404", "409", "422"} <= set(deploy["responses"])
    assert {"version", "summary", "created"} <= set(schemas["DeployResult"]["properties"])
    migrate = paths["/instances/{instance_id}/migrate"]["post"]
    assert "409" in migrate["responses"] and migrate["requestBody"]["required"] is False
    assert set(schemas["Migration"]["properties"]) == {"id", "from", "to", "steps", "migrated"}
    assert [p["name"] for p in paths["/definitions/{key}/migrations"]["get"]["parameters"]] == ["key", "target"]


def test_a_draft_step_key_written_with_other_digits_is_sorted_as_text(rt, owner):
    """"²".isdigit() is true and int("²") fails: the draft's steps were a 500."""
    saved = ok(owner.put(f"/definitions/{KEY}/draft", json={"bpmn_xml": BPMN, "steps": {"²": {}}}))
    assert any(p["element"] == "steps.²" for p in saved["problems"]), saved["problems"]


@pytest.mark.parametrize("number", ["\u00b2", "99999999999"])
def test_a_step_number_that_no_task_row_can_hold_is_a_problem_not_a_500(rt, owner, number):
    """"²" was a 500 on upload; 99999999999 was deployed, and every start of it was a 500 on PostgreSQL."""
    bpmn = COPY_BPMN.replace('alur:step="1"', f'alur:step="{number}"', 1)
    yaml_text = YAML.replace("\n  1:\n", f"\n  {number}:\n", 1) if number.isascii() else YAML
    draft = ok(upload(owner, bpmn.encode(), yaml_text.encode()), 201)
    assert not draft["deployable"]
    assert any(p["element"] == "Step_01" and "nomor SOP" in p["message"] for p in draft["problems"]), draft
    error(owner.post("/definitions/monev_salinan/draft/deploy"), 422, "invalid_data")
    assert [d["key"] for d in ok(owner.get("/definitions"))["definitions"] if d["version"]] == [KEY]


def test_answers_naming_a_draft_revision_deployed_meanwhile_are_409_not_404(rt, owner, as_user):
    loaded = ok(owner.put(f"/definitions/{KEY}/draft", json={"bpmn_xml": BPMN, "yaml_text": YAML}))["revision"]
    ok(as_user("admin").post(f"/definitions/{KEY}/draft/deploy", json={"revision": loaded}))
    answers = {"answers": {"Step_02": {"pelaksana": "Tim Teknis"}}, "revision": loaded}
    error(owner.post(f"/definitions/{KEY}/draft/answers", json=answers), 409, "conflict")
    error(owner.post(f"/definitions/{KEY}/draft/questions/Step_02.pelaksana/resolved", json={"revision": loaded}),
          409, "conflict")
    error(owner.post(f"/definitions/{KEY}/draft/answers", json={**answers, "revision": None}), 404, "not_found")
