"""The REST API under /api/v1 through Flask's test client, on SQLite and PostgreSQL."""
from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select

from engine import accounts, services, worklist
from engine.db import Document, User
from engine.runtime import Runtime
from engine.scheduler import Scheduler
from tests.integration.sop import STEP_DATA, STEP_FILES, do_step, open_task, performer
from tests.integration.test_definitions import (
    BPMN, OWNER, YAML, deploy_v2, gateway_without_a_path, step_inserted_before_verification,
)
from tests.sessions import session_id
from web.app import create_app

KEY = "monev_kegiatan_bidang"
PDF = b"%PDF-1.4 dokumen rencana"


@pytest.fixture
def app(rt):
    return create_app(runtime=rt, testing=True)


@pytest.fixture
def client(app):
    return app.test_client()


def user_id(rt, login: str) -> int:
    with rt.uow() as session:
        return session.scalars(select(User.id).where(User.login == login)).one()


class Api:
    """A client that sends one user's bearer token with every request."""

    def __init__(self, client, token: str):
        self.client, self.token = client, token

    def _headers(self, headers):
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, path, headers=None, **kwargs):
        return self.client.get("/api/v1" + path, headers=self._headers(headers), **kwargs)

    def post(self, path, headers=None, **kwargs):
        return self.client.post("/api/v1" + path, headers=self._headers(headers), **kwargs)


@pytest.fixture
def as_user(rt, client):
    """as_user(login) -> an Api client holding a fresh token of that user."""
    def make(login: str) -> Api:
        _, token = accounts.create_token(rt, user_id(rt, login), "tes")
        return Api(client, token)
    return make


def start(rt, bidang="aptika", title="Layanan email dinas") -> int:
    return services.start(rt, KEY, bidang, title, f"{bidang}.implementasi", "2026-Q1")


def open_task_id(api: Api, instance_id: int) -> str:
    response = api.get(f"/tasks?instance={instance_id}")
    assert response.status_code == 200, response.get_json()
    [task] = response.get_json()["tasks"]
    return task["id"]


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.is_json
    body = response.get_json()["error"]
    assert body["code"] == code
    assert body["message"]
    return body


def second_implementer(rt) -> str:
    accounts.save_user(rt, "admin", "aptika.implementasi2", "Tim Implementasi Dua", "aptika", ["implementasi"],
                       password="rahasia-sekali")
    return "aptika.implementasi2"


# -- authentication ----------------------------------------------------------------------

def test_no_token_is_401(client):
    body = error(client.get("/api/v1/tasks"), 401, "unauthorized")
    assert "token" in body["message"].lower()
    response = client.get("/api/v1/tasks")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    error(client.get("/api/v1/tasks", headers={"Authorization": "Basic YWRtaW46YWRtaW4="}), 401, "unauthorized")
    error(client.get("/api/v1/tasks", headers={"Authorization": "Bearer"}), 401, "unauthorized")
    error(client.get("/api/v1/tasks", headers={"Authorization": "Bearer alur_tidak-ada"}), 401, "unauthorized")
    error(client.post("/api/v1/instances", json={}), 401, "unauthorized")


def test_revoked_token_is_401(rt, client):
    uid = user_id(rt, "aptika.implementasi")
    token_id, token = accounts.create_token(rt, uid, "skrip")
    api = Api(client, token)
    assert api.get("/tasks").status_code == 200
    accounts.revoke_token(rt, uid, token_id)
    error(api.get("/tasks"), 401, "unauthorized")


def test_token_of_a_deactivated_user_is_401(rt, client):
    accounts.save_user(rt, "admin", "tamu", "Tamu", "aptika", ["implementasi"], password="rahasia-sekali")
    _, token = accounts.create_token(rt, user_id(rt, "tamu"), "skrip")
    api = Api(client, token)
    assert api.get("/tasks").status_code == 200
    accounts.save_user(rt, "admin", "tamu", "Tamu", "aptika", ["implementasi"], active=False)
    error(api.get("/tasks"), 401, "unauthorized")


def _sign_in(rt, client, login: str) -> str:
    """A browser session for `login`; returns the CSRF token a page of the app hands out."""
    with client.session_transaction() as session:
        session["_user_id"] = session_id(rt, user_id(rt, login))
        session["_fresh"] = True
    page = client.get("/token")
    assert page.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def test_browser_session_reads_freely_but_needs_csrf_header_to_write(rt, client):
    instance_id = start(rt)
    csrf_token = _sign_in(rt, client, "aptika.implementasi")
    listing = client.get(f"/api/v1/tasks?instance={instance_id}")
    assert listing.status_code == 200
    task_id = listing.get_json()["tasks"][0]["id"]

    error(client.post(f"/api/v1/tasks/{task_id}/claim"), 403, "csrf_failed")
    error(client.post(f"/api/v1/tasks/{task_id}/claim", headers={"X-CSRFToken": "palsu"}), 403, "csrf_failed")
    claimed = client.post(f"/api/v1/tasks/{task_id}/claim", headers={"X-CSRFToken": csrf_token})
    assert claimed.status_code == 200 and claimed.get_json()["assignee"] == "aptika.implementasi"
    # An Authorization header is judged alone, even next to a valid session.
    error(client.get("/api/v1/tasks", headers={"Authorization": "Bearer salah"}), 401, "unauthorized")


def test_api_messages_speak_the_token_owners_language(rt, as_user):
    instance_id = start(rt)
    api = as_user("aptika.teknis")
    task_id = open_task_id(as_user("aptika.implementasi"), instance_id)
    refused = api.post(f"/tasks/{task_id}/claim").get_json()["error"]
    assert refused["message"] == "aptika.teknis bukan anggota Tim Implementasi untuk tugas ini"
    accounts.set_language(rt, user_id(rt, "aptika.teknis"), "en")
    refused = api.post(f"/tasks/{task_id}/claim").get_json()["error"]
    assert refused["code"] == "forbidden"  # what a program reads does not change
    assert refused["message"] == "aptika.teknis may not take this task: it is for the Implementation team"


def test_a_member_of_the_role_in_another_bidang_is_told_it_is_the_bidang(rt, as_user):
    """"not a member of Implementation team" read as wrong to a member of the Implementation team of
    another Bidang: the refusal names the task's Bidang."""
    task_id = open_task_id(as_user("aptika.implementasi"), start(rt))
    api = as_user("ikp.implementasi")
    refused = error(api.post(f"/tasks/{task_id}/claim"), 403, "forbidden")
    assert refused["message"] == "ikp.implementasi bukan anggota Tim Implementasi Bidang Aplikasi Informatika"
    accounts.set_language(rt, user_id(rt, "ikp.implementasi"), "en")
    refused = error(api.post(f"/tasks/{task_id}/claim"), 403, "forbidden")
    assert refused["message"] == \
        "ikp.implementasi may not take this task: it is for the Implementation team of Bidang Aplikasi Informatika"


def test_the_apis_own_refusals_speak_the_token_owners_language_too(rt, as_user):
    """Not only the engine's messages: a body the schema refuses, or one that is not JSON, was
    answered to an English token owner in Indonesian."""
    task_id = open_task_id(as_user("aptika.implementasi"), start(rt))
    accounts.set_language(rt, user_id(rt, "aptika.implementasi"), "en")
    api = as_user("aptika.implementasi")

    refused = error(api.post(f"/tasks/{task_id}/complete", json={"data": {}, "version": "x", "dat": 1}),
                    422, "invalid_data")
    assert refused == {"code": "invalid_data", "message": "the request's data is not valid",
                       "fields": {"version": "must be a whole number", "dat": "unknown field"}}
    assert error(api.get("/tasks?sort=acak"), 422, "invalid_data")["fields"]["sort"].startswith("must be one of: ")
    assert error(api.post("/instances", json={}), 422, "invalid_data")["fields"]["bidang"] == "required"
    assert error(api.get("/instances?limit=0"), 422, "invalid_data")["fields"]["limit"] == "between 1 and 500"
    assert error(api.post(f"/tasks/{task_id}/complete", data="x", content_type="text/plain"),
                 400, "bad_request")["message"] == "send the request body as JSON (Content-Type: application/json)"
    # An address that is no endpoint, or not for this method, is refused in the token owner's language too.
    assert error(api.get("/nothing"), 404, "not_found")["message"] == "address not found"
    assert error(api.client.delete("/api/v1/tasks", headers=api._headers(None)), 405,
                 "method_not_allowed")["message"] == "this HTTP method is not allowed for this address"
    assert error(api.get("/nothing", headers={"Authorization": "Bearer salah"}), 404, "not_found")["message"] == \
        "alamat tidak ditemukan"  # a token that names nobody: the refusal is still a 404, in Indonesian
    # Text no database can hold is refused before the view reads the token; in its owner's language too.
    assert error(api.post("/instances", json={"definition": KEY, "bidang": "aptika", "title": "a\x00b"}),
                 422, "invalid_data") == {
        "code": "invalid_data", "message": "the field title contains characters that cannot be stored (NUL or surrogate)",
        "fields": {"title": "contains characters that cannot be stored (NUL or surrogate)"}}
    assert error(api.get("/tasks?bidang=a%00b"), 422, "invalid_data")["fields"]["bidang"] == \
        "contains characters that cannot be stored (NUL or surrogate)"


def test_bearer_requests_need_no_csrf_token(rt, as_user):
    instance_id = start(rt)
    api = as_user("aptika.implementasi")
    task_id = open_task_id(api, instance_id)
    assert api.post(f"/tasks/{task_id}/claim").status_code == 200


# -- tasks -------------------------------------------------------------------------------------

def test_list_tasks_with_filters(rt, as_user):
    mine = start(rt, title="Layanan email dinas")
    start(rt, bidang="ikp", title="Siaran pers")
    api = as_user("aptika.implementasi")

    tasks = api.get("/tasks").get_json()["tasks"]
    assert [(t["instance_id"], t["step"], t["bidang"]) for t in tasks] == [(mine, 1, "aptika")]
    assert tasks[0]["instance_title"] == "Layanan email dinas"
    assert tasks[0]["assignee"] is None and tasks[0]["state"] == "open" and "version" in tasks[0]
    assert "form" not in tasks[0]

    second = start(rt, title="Aplikasi Sidela")
    assert len(api.get("/tasks").get_json()["tasks"]) == 2
    assert [t["instance_id"] for t in api.get(f"/tasks?instance={second}").get_json()["tasks"]] == [second]
    assert len(api.get("/tasks?step=1&bidang=aptika&sort=-due").get_json()["tasks"]) == 2
    assert api.get("/tasks?step=2").get_json()["tasks"] == []
    assert api.get("/tasks?bidang=ikp").get_json()["tasks"] == []
    assert api.get("/tasks?overdue=true").get_json()["tasks"] == []
    assert len(api.get("/tasks?overdue=false").get_json()["tasks"]) == 2
    assert as_user("aptika.teknis").get("/tasks").get_json()["tasks"] == []

    body = error(api.get("/tasks?sort=acak&step=satu"), 422, "invalid_data")
    assert set(body["fields"]) == {"sort", "step"}
    assert "harus" in body["fields"]["step"]
    error(api.get("/tasks?overdue=mungkin"), 422, "invalid_data")
    # A filter given twice (both Bidang wanted?) was read as its first value alone, without a word.
    body = error(api.get("/tasks?bidang=aptika&bidang=ikp&_=1&_=2"), 422, "invalid_data")
    assert body["fields"] == {"bidang": "dikirim lebih dari sekali"}  # `_`, a cache buster, is ignored
    error(as_user("kadis").get("/instances?state=running&state=completed"), 422, "invalid_data")
    # Spaces around a value, which the worklist page trims ("/?sort=%20due"), were refused here.
    assert len(api.get("/tasks?sort=%20due&overdue=false%20&bidang=%20aptika").get_json()["tasks"]) == 2
    assert as_user("kadis").get("/instances?state=%20running").status_code == 200


def test_a_list_refuses_a_query_parameter_it_does_not_know(rt, as_user):
    """`?stepp=3` (a typo) or `?limit=abc` (the task list has no limit) gave the whole list, as if
    nothing had been asked; they are named. `_`, the cache buster some clients add, is still ignored."""
    start(rt)
    api = as_user("aptika.implementasi")
    body = error(api.get("/tasks?stepp=3&limit=abc&step=1"), 422, "invalid_data")
    assert body["fields"] == {"stepp": "parameter tidak dikenal", "limit": "parameter tidak dikenal"}
    assert len(api.get("/tasks?_=1700000000&step=1").get_json()["tasks"]) == 1
    for path, name in (("/instances?stat=running", "stat"), ("/alerts?unread=true", "unread")):
        assert error(as_user("kadis").get(path), 422, "invalid_data")["fields"] == {name: "parameter tidak dikenal"}
    # Sent twice, an unknown one was "sent more than once", as if it were known.
    body = error(api.get("/tasks?foo=1&foo=2&step=1"), 422, "invalid_data")
    assert body["fields"] == {"foo": "parameter tidak dikenal"}
    # A known one sent twice was answered alone, hiding the unknown one (and a bad value) beside it.
    body = error(api.get("/tasks?step=1&step=2&stepp=3&sort=acak"), 422, "invalid_data")
    assert body["fields"] == {"step": "dikirim lebih dari sekali", "stepp": "parameter tidak dikenal",
                              "sort": "harus salah satu dari: " + ", ".join(worklist.SORTS)}


def test_a_get_that_takes_no_parameter_refuses_one(rt, as_user):
    """`/start-choices?bidang=ikp` answered for every Bidang, `/tasks/<id>?version=3` checked nothing."""
    api = as_user("aptika.implementasi")
    task_id = open_task_id(api, start(rt))
    for path, name in ((f"/tasks/{task_id}?version=3", "version"), ("/start-choices?bidang=ikp", "bidang")):
        assert error(api.get(path), 422, "invalid_data")["fields"] == {name: "parameter tidak dikenal"}
    assert api.get(f"/tasks/{task_id}?_=1700000000").status_code == 200
    assert api.get("/openapi.json?_=1").status_code == 200
    assert "422" in api.get("/openapi.json").get_json()["paths"]["/start-choices"]["get"]["responses"]


def test_a_step_sent_back_says_over_the_api_who_sent_it_back_why_and_what_was_sent(rt, clock, as_user):
    """The task page says why a step came back and starts from the last submission; the API's task
    left both out, so a client could not show the verifier's note."""
    from tests.integration.test_tasks import sent_back_to_step_three

    instance_id = start(rt)
    api = as_user("aptika.implementasi")
    first = api.get(f"/tasks/{open_task_id(api, instance_id)}").get_json()
    assert first["sent_back"] is None and first["previous"] == {}
    task_id = sent_back_to_step_three(rt, clock, instance_id, note="Lampirkan daftar hadir")["id"]
    view = api.get(f"/tasks/{task_id}").get_json()
    back = view["sent_back"]
    assert (back["by"], back["step"], back["at"]) == ("aptika.teknis", 5, clock.now().isoformat())
    assert {"name": "catatan", "label": "Catatan verifikasi", "type": "text",
            "value": "Lampirkan daftar hadir"} in back["answers"]
    assert view["previous"] == {k: v for k, v in STEP_DATA[3].items() if k != "laporan_kegiatan"}
    spec = api.get("/openapi.json").get_json()["components"]["schemas"]
    assert {"sent_back", "previous"} <= set(spec["TaskDetail"]["properties"])


def test_the_task_list_says_which_step_was_sent_back(rt, clock, as_user):
    """The worklist page marks a step sent back ("Dikembalikan"); the API's list left it out."""
    from tests.integration.test_tasks import sent_back_to_step_three

    fresh, back = start(rt), start(rt, title="Layanan domain")
    sent_back_to_step_three(rt, clock, back)
    listed = {t["instance_id"]: t for t in as_user("aptika.implementasi").get("/tasks").get_json()["tasks"]}
    assert (listed[back]["step"], listed[back]["sent_back"]) == (3, True)
    assert (listed[fresh]["step"], listed[fresh]["sent_back"]) == (1, False)
    spec = as_user("aptika.implementasi").get("/openapi.json").get_json()["components"]["schemas"]
    assert spec["WorklistTask"]["properties"]["sent_back"]["type"] == "boolean"


def test_get_task_includes_form_as_json_schema_and_guidance(rt, as_user):
    instance_id = start(rt)
    api = as_user("aptika.implementasi")
    task_id = open_task_id(api, instance_id)
    view = api.get(f"/tasks/{task_id}").get_json()
    assert view["task"]["id"] == task_id and view["task"]["step"] == 1
    assert view["instance"] == {"id": instance_id, "title": "Layanan email dinas", "bidang": "aptika",
                                "period": "2026-Q1"}
    step = view["step"]
    assert step["kelengkapan"] == "Dokumen kegiatan atau layanan" and step["output"] == "Kegiatan Bidang"
    form = step["form"]
    assert form["type"] == "object"
    assert form["properties"]["tanggal_mulai"] == {"title": "Tanggal mulai pelaksanaan", "type": "string",
                                                   "format": "date"}
    assert set(form["required"]) == {"rencana_kegiatan", "tanggal_mulai", "tanggal_selesai"}
    assert "dokumen_rencana" in form["properties"]
    assert view["may_claim"] is True and view["may_complete"] is False
    assert [f.get("min", "absent") for f in step["fields"]] == [None, None, None, None]
    # A number field's min is listed with its fields, as its JSON Schema's minimum.
    for step in (1, 2):
        do_step(rt, instance_id, step)
    view = api.get(f"/tasks/{open_task_id(api, instance_id)}").get_json()
    served = next(f for f in view["step"]["fields"] if f["name"] == "jumlah_penerima_manfaat")
    assert (served["type"], served["min"], served["whole"]) == ("number", 0, True)
    assert view["step"]["form"]["properties"]["jumlah_penerima_manfaat"] == {
        "title": "Jumlah penerima layanan", "type": "integer", "minimum": 0}
    assert [f["whole"] for f in view["step"]["fields"]] == [False, True, False]
    # A fraction sent as a JSON number is refused on that field.
    task_id = open_task_id(api, instance_id)
    api.post(f"/tasks/{task_id}/claim")
    refused = error(api.post(f"/tasks/{task_id}/complete",
                             json={"data": {**STEP_DATA[3], "jumlah_penerima_manfaat": 12.5}}), 422, "invalid_data")
    assert refused["fields"] == {"jumlah_penerima_manfaat": "harus bilangan bulat"}


def test_task_of_another_bidang_is_403(rt, as_user):
    instance_id = start(rt)
    task_id = open_task_id(as_user("aptika.implementasi"), instance_id)
    other = as_user("ikp.implementasi")
    error(other.get(f"/tasks/{task_id}"), 403, "forbidden")
    error(other.post(f"/tasks/{task_id}/claim"), 403, "forbidden")
    error(other.post(f"/tasks/{task_id}/complete", json={"data": STEP_DATA[1]}), 403, "forbidden")


def test_wrong_role_is_403(rt, as_user):
    instance_id = start(rt)
    task_id = open_task_id(as_user("aptika.implementasi"), instance_id)
    teknis = as_user("aptika.teknis")
    error(teknis.post(f"/tasks/{task_id}/claim"), 403, "forbidden")
    error(teknis.post(f"/tasks/{task_id}/complete", json={"data": STEP_DATA[1]}), 403, "forbidden")


def test_unknown_task_is_404(as_user):
    api = as_user("aptika.implementasi")
    error(api.get("/tasks/tidak-ada"), 404, "not_found")
    error(api.post("/tasks/tidak-ada/claim"), 404, "not_found")
    error(api.post("/tasks/tidak-ada/unclaim"), 404, "not_found")
    error(api.post("/tasks/tidak-ada/complete", json={"data": {}}), 404, "not_found")


def test_a_worklist_filter_naming_no_bidang_or_in_other_digits_is_refused(rt, as_user):
    """`?bidang=XYZ` answered [] as if the Bidang had no task, and `?step=１` (a full-width digit) or
    `?step=1_0` were read as steps 1 and 10 by int()."""
    start(rt)
    api = as_user("aptika.implementasi")
    body = error(api.get("/tasks?bidang=XYZ"), 422, "invalid_data")
    assert body["fields"] == {"bidang": "tidak dikenal"}
    for bad in ("\uff11", "1_0", "\u0661"):  # full-width 1, an underscore, Arabic-Indic 1
        body = error(api.get(f"/tasks?step={bad}"), 422, "invalid_data")
        assert set(body["fields"]) == {"step"}, bad
        error(api.get(f"/tasks?instance={bad}"), 422, "invalid_data")
        error(api.post("/tasks/tidak-ada/claim", json={"version": bad}), 422, "invalid_data")
    assert len(api.get("/tasks?step=1&bidang=aptika").get_json()["tasks"]) == 1
    assert len(api.get("/tasks?step=+1").get_json()["tasks"]) == 1


def test_claim_and_unclaim(rt, as_user):
    instance_id = start(rt)
    api = as_user("aptika.implementasi")
    task_id = open_task_id(api, instance_id)

    claimed = api.post(f"/tasks/{task_id}/claim")
    assert claimed.status_code == 200
    assert claimed.get_json()["assignee"] == "aptika.implementasi"
    assert api.post(f"/tasks/{task_id}/claim").status_code == 200  # claiming one's own task again is harmless

    colleague = as_user(second_implementer(rt))
    body = error(colleague.post(f"/tasks/{task_id}/claim"), 409, "conflict")
    assert "aptika.implementasi" in body["message"]
    error(colleague.post(f"/tasks/{task_id}/unclaim"), 409, "conflict")

    released = api.post(f"/tasks/{task_id}/unclaim")
    assert released.status_code == 200 and released.get_json()["assignee"] is None
    assert colleague.post(f"/tasks/{task_id}/claim").get_json()["assignee"] == "aptika.implementasi2"


def test_a_claim_retried_after_its_answer_was_lost_is_the_same_success(rt, as_user):
    """The retry carries the version the first claim was sent with, which that claim moved: it was 409."""
    instance_id = start(rt)
    api = as_user("aptika.implementasi")
    task_id = open_task_id(api, instance_id)
    version = api.get(f"/tasks/{task_id}").get_json()["task"]["version"]
    first = api.post(f"/tasks/{task_id}/claim", json={"version": version})
    again = api.post(f"/tasks/{task_id}/claim", json={"version": version})
    assert (first.status_code, again.status_code) == (200, 200), again.get_json()
    assert again.get_json() == first.get_json() and first.get_json()["version"] == version + 1
    history = as_user("kadis").get(f"/instances/{instance_id}").get_json()["history"]
    assert [e["kind"] for e in history].count("claimed") == 1


def test_unclaim_repeated_changes_nothing_and_a_colleagues_hold_is_named(rt, as_user):
    """A repeated unclaim (a client retrying after a lost answer) was 409 "not claimed by you", as when
    a colleague holds the task: the client could not tell the two apart."""
    instance_id = start(rt)
    api = as_user("aptika.implementasi")
    task_id = open_task_id(api, instance_id)
    api.post(f"/tasks/{task_id}/claim")
    first = api.post(f"/tasks/{task_id}/unclaim")
    assert first.status_code == 200 and first.get_json()["released"] is True
    again = api.post(f"/tasks/{task_id}/unclaim")
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["released"] is False and again.get_json()["assignee"] is None
    assert again.get_json()["version"] == first.get_json()["version"]
    kinds = [e["kind"] for e in api.get(f"/instances/{instance_id}").get_json()["history"]]
    assert kinds.count("unclaimed") == 1

    colleague = as_user(second_implementer(rt))
    colleague.post(f"/tasks/{task_id}/claim")
    body = error(api.post(f"/tasks/{task_id}/unclaim"), 409, "conflict")
    assert "aptika.implementasi2" in body["message"]


def test_claim_with_a_stale_version_is_409(rt, as_user):
    instance_id = start(rt)
    api = as_user("aptika.implementasi")
    task_id = open_task_id(api, instance_id)
    seen = api.get(f"/tasks/{task_id}").get_json()["task"]["version"]
    assert api.post(f"/tasks/{task_id}/claim", json={"version": seen}).status_code == 200
    api.post(f"/tasks/{task_id}/unclaim")
    error(api.post(f"/tasks/{task_id}/claim", json={"version": seen}), 409, "conflict")
    body = error(api.post(f"/tasks/{task_id}/claim", json={"version": "baru"}), 422, "invalid_data")
    assert "version" in body["fields"]
    # A version with a fraction is not cut down to a whole one (1.7 read as 1 could pass a stale check).
    current = api.get(f"/tasks/{task_id}").get_json()["task"]["version"]
    body = error(api.post(f"/tasks/{task_id}/claim", json={"version": current + 0.5}), 422, "invalid_data")
    assert "version" in body["fields"]
    assert api.post(f"/tasks/{task_id}/claim", json={"version": float(current)}).status_code == 200


def test_a_form_encoded_body_is_refused_not_read_as_empty(rt, as_user):
    """A form-encoded (or multipart) body where JSON is expected is 400: read as {}, its stale version
    went unchecked and the task was claimed or unclaimed anyway."""
    instance_id = start(rt)
    api = as_user("aptika.implementasi")
    task_id = open_task_id(api, instance_id)
    stale = api.get(f"/tasks/{task_id}").get_json()["task"]["version"] + 7
    for content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        body = error(api.post(f"/tasks/{task_id}/claim", data={"version": str(stale)}, content_type=content_type),
                     400, "bad_request")
        assert "JSON" in body["message"]
    # A multipart body whose parts cannot be read (a wrong boundary, cut short) was read as empty too.
    unreadable = f'--XYZ\r\nContent-Disposition: form-data; name="version"\r\n\r\n{stale}\r\n--XYZ--\r\n'
    for content_type in ("multipart/form-data; boundary=ANDERS", "multipart/form-data; boundary=XYZ"):
        sent = unreadable if "ANDERS" in content_type else unreadable[:40]
        error(api.post(f"/tasks/{task_id}/claim", data=sent, content_type=content_type), 400, "bad_request")
    # A version sent in the address was ignored too, and the stale task claimed.
    body = error(api.post(f"/tasks/{task_id}/claim?version={stale}"), 422, "invalid_data")
    assert body["fields"] == {"version": "parameter alamat tidak diterima di sini; kirim di badan permintaan"}
    error(api.post(f"/tasks/{task_id}/complete?version={stale}", json={"data": STEP_DATA[1]}), 422, "invalid_data")
    assert api.get(f"/tasks/{task_id}").get_json()["task"]["assignee"] is None
    error(as_user("kepala.aptika").post(f"/tasks/{task_id}/reassign", data={"assignee": "aptika.implementasi"},
                                        content_type="application/x-www-form-urlencoded"), 400, "bad_request")
    # An empty body of any type is still an empty body.
    assert api.post(f"/tasks/{task_id}/claim", data="",
                    content_type="application/x-www-form-urlencoded").status_code == 200


def test_complete_with_json(rt, as_user):
    instance_id = start(rt)
    api = as_user("aptika.implementasi")
    task_id = open_task_id(api, instance_id)
    version = api.post(f"/tasks/{task_id}/claim").get_json()["version"]

    done = api.post(f"/tasks/{task_id}/complete", json={"data": STEP_DATA[1], "version": version})
    assert done.status_code == 200, done.get_json()
    result = done.get_json()
    assert result["state"] == "completed" and result["completed_by"] == "aptika.implementasi"
    assert result["instance_state"] == "running"
    assert api.get(f"/tasks?instance={instance_id}").get_json()["tasks"][0]["step"] == 2

    body = error(api.post(f"/tasks/{task_id}/complete", json={"data": STEP_DATA[1]}), 409, "conflict")
    assert "selesai" in body["message"]


def test_a_completion_sent_again_with_its_idempotency_key_answers_the_task_as_it_is_now(rt, as_user):
    """The answer to a completion lost (a dropped connection): sent again with its key, it is the task
    the first request completed, not 409 "already done by" the same user; files count in the request."""
    instance_id = start(rt)
    api = as_user("aptika.implementasi")
    task_id = open_task_id(api, instance_id)
    version = api.post(f"/tasks/{task_id}/claim").get_json()["version"]

    def send(key, pdf=PDF, name="rencana.pdf"):
        return api.post(f"/tasks/{task_id}/complete", content_type="multipart/form-data",
                        headers={"Idempotency-Key": key} if key else {},
                        data={"data": json.dumps(STEP_DATA[1]), "version": str(version),
                              "dokumen_rencana": (io.BytesIO(pdf), name)})

    first = send("req-1")
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers, first.get_json()
    again = send("req-1")
    assert again.status_code == 200, again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    history = api.get(f"/instances/{instance_id}").get_json()["history"]
    assert [e["kind"] for e in history].count("step_completed") == 1
    for other in ({"pdf": PDF + b" lain"}, {"name": "rencana-lain.pdf"}):  # the same key, another file
        refused = error(send("req-1", **other), 422, "idempotency_key_reused")
        assert refused["fields"] == {"Idempotency-Key": f"sudah dipakai untuk tugas {task_id}"}
    assert "selesai oleh aptika.implementasi" in error(send(None), 409, "conflict")["message"]  # no key: as before
    # A colleague is not answered by the key: the task is done by someone else.
    other = as_user("aptika.teknis").post(f"/tasks/{task_id}/complete", json={"data": STEP_DATA[1]},
                                          headers={"Idempotency-Key": "req-1"})
    assert "selesai oleh aptika.implementasi" in error(other, 409, "conflict")["message"]
    accounts.set_language(rt, user_id(rt, "aptika.implementasi"), "en")
    refused = error(send("req-1", name="lain.pdf"), 422, "idempotency_key_reused")
    assert refused == {"code": "idempotency_key_reused",
                       "message": f"this Idempotency-Key was already used to complete task {task_id} with other data",
                       "fields": {"Idempotency-Key": f"already used for task {task_id}"}}
    operation = as_user("kadis").get("/openapi.json").get_json()["paths"]["/tasks/{task_id}/complete"]["post"]
    assert [(p["in"], p["name"]) for p in operation["parameters"] if p["in"] == "header"] == \
        [("header", "Idempotency-Key")]
    assert "Idempotent-Replayed" in operation["description"]


def test_complete_with_a_stale_version_is_409(rt, as_user):
    instance_id = start(rt)
    api = as_user("aptika.implementasi")
    task_id = open_task_id(api, instance_id)
    before_claim = api.get(f"/tasks/{task_id}").get_json()["task"]["version"]
    api.post(f"/tasks/{task_id}/claim")
    error(api.post(f"/tasks/{task_id}/complete", json={"data": STEP_DATA[1], "version": before_claim}),
          409, "conflict")
    assert api.get(f"/tasks/{task_id}").get_json()["task"]["state"] == "open"


def test_complete_without_claiming_is_409(rt, as_user):
    instance_id = start(rt)
    api = as_user("aptika.implementasi")
    task_id = open_task_id(api, instance_id)
    error(api.post(f"/tasks/{task_id}/complete", json={"data": STEP_DATA[1]}), 409, "conflict")


def test_invalid_data_is_422_with_field_errors(rt, as_user):
    instance_id = start(rt)
    api = as_user("aptika.implementasi")
    task_id = open_task_id(api, instance_id)
    api.post(f"/tasks/{task_id}/claim")

    body = error(api.post(f"/tasks/{task_id}/complete",
                          json={"data": {"rencana_kegiatan": "Rencana", "tanggal_mulai": "2 Maret", "asal": 1}}),
                 422, "invalid_data")
    assert body["fields"] == {"tanggal_mulai": "harus berupa tanggal (YYYY-MM-DD)", "tanggal_selesai": "wajib diisi",
                              "asal": "isian tidak dikenal pada langkah ini"}
    body = error(api.post(f"/tasks/{task_id}/complete", json={"data": {**STEP_DATA[1], "rencana_kegiatan": " \n "}}),
                 422, "invalid_data")
    assert body["fields"] == {"rencana_kegiatan": "wajib diisi"}
    body = error(api.post(f"/tasks/{task_id}/complete", json={"data": [1, 2]}), 422, "invalid_data")
    assert body["fields"] == {"data": "harus berupa objek JSON"}
    body = error(api.post(f"/tasks/{task_id}/complete", json={"data": {}, "extra": True}), 422, "invalid_data")
    assert body["fields"] == {"extra": "isian tidak dikenal"}
    body = error(api.post(f"/tasks/{task_id}/complete", data="{bukan json", content_type="application/json"),
                 400, "bad_request")
    body = error(api.post(f"/tasks/{task_id}/complete", data={"data": "{bukan json"},
                          content_type="multipart/form-data"), 422, "invalid_data")
    assert body["fields"] == {"data": "bukan teks JSON yang valid"}
    # Parts that cannot be read (a wrong boundary) were an empty form: a step whose fields are all
    # optional was completed with nothing, its document lost without a word.
    parts = f'--XYZ\r\nContent-Disposition: form-data; name="data"\r\n\r\n{json.dumps(STEP_DATA[1])}\r\n--XYZ--\r\n'
    body = error(api.post(f"/tasks/{task_id}/complete", data=parts, content_type="multipart/form-data; boundary=ABC"),
                 400, "bad_request")
    assert body["fields"] == {"_": "bukan multipart/form-data yang dapat dibaca"}
    assert api.get(f"/tasks/{task_id}").get_json()["task"]["state"] == "open"


def test_complete_with_files_as_multipart_and_download(rt, as_user):
    instance_id = start(rt)
    api = as_user("aptika.implementasi")
    task_id = open_task_id(api, instance_id)
    version = api.post(f"/tasks/{task_id}/claim").get_json()["version"]

    done = api.post(f"/tasks/{task_id}/complete", content_type="multipart/form-data", data={
        "data": json.dumps(STEP_DATA[1]), "version": str(version),
        "dokumen_rencana": (io.BytesIO(PDF), "rencana.pdf"),
    })
    assert done.status_code == 200, done.get_json()

    info = api.get(f"/instances/{instance_id}").get_json()
    [document] = info["documents"]
    assert document["filename"] == "rencana.pdf" and document["field"] == "dokumen_rencana"
    assert document["size"] == len(PDF) and document["task_id"] == task_id
    step_1 = next(e for e in info["history"] if e["kind"] == "step_completed")
    assert step_1["data"]["dokumen_rencana"] == str(document["id"])

    download = api.get(f"/documents/{document['id']}")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.mimetype == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]
    assert "rencana.pdf" in download.headers["Content-Disposition"]
    error(as_user("ikp.implementasi").get(f"/documents/{document['id']}"), 403, "forbidden")
    error(api.get("/documents/999999"), 404, "not_found")


def test_refused_file_type_is_422(rt, as_user):
    instance_id = start(rt)
    api = as_user("aptika.implementasi")
    task_id = open_task_id(api, instance_id)
    api.post(f"/tasks/{task_id}/claim")
    body = error(api.post(f"/tasks/{task_id}/complete", data={
        "data": json.dumps(STEP_DATA[1]), "dokumen_rencana": (io.BytesIO(b"MZ\x90\x00\x03\x00" * 20), "x.pdf")}),
        422, "invalid_data")
    assert "dokumen_rencana" in body["fields"]


def test_oversized_upload_is_413(rt, settings, clock, as_user):
    small = Runtime(replace(settings, max_upload_bytes=64), clock=clock)
    try:
        client = create_app(runtime=small, testing=True).test_client()
        instance_id = start(rt)
        api = as_user("aptika.implementasi")
        api.client = client
        task_id = open_task_id(api, instance_id)
        api.post(f"/tasks/{task_id}/claim")

        # Larger than max_upload_bytes: refused by the engine.
        body = error(api.post(f"/tasks/{task_id}/complete", data={
            "data": json.dumps(STEP_DATA[1]), "dokumen_rencana": (io.BytesIO(PDF * 10), "rencana.pdf")}),
            413, "too_large")
        assert "rencana.pdf" in body["message"]
        # Larger than the whole request may be: refused by Flask before anything is read.
        body = error(api.post(f"/tasks/{task_id}/complete", data={
            "data": "{}", "dokumen_rencana": (io.BytesIO(b"%PDF" + b"x" * (1024 * 1024 + 100)), "besar.pdf")}),
            413, "too_large")
        assert "64 byte" in body["message"]
        assert api.get(f"/tasks/{task_id}").get_json()["task"]["state"] == "open"
        # A file within the limit goes through.
        assert api.post(f"/tasks/{task_id}/complete", data={
            "data": json.dumps(STEP_DATA[1]), "dokumen_rencana": (io.BytesIO(PDF), "rencana.pdf")}).status_code == 200
    finally:
        small.dispose()


def test_an_instances_documents_are_listed_in_upload_order(rt, as_user):
    """Listed without an order, the documents came in whatever order the database keeps them in: on
    PostgreSQL a row written again (as a restore writes it) came last, so a client saw the list reshuffled."""
    instance_id = start(rt)
    for step, field in ((1, "dokumen_rencana"), (2, "dokumen_pelaksanaan")):
        task = open_task(rt, instance_id)
        services.claim(rt, task["id"], performer(step, "aptika"))
        services.complete(rt, task["id"], performer(step, "aptika"), STEP_DATA[step],
                          files={field: (f"{field}.pdf", PDF)})
    with rt.uow() as session:
        first = session.execute(select(Document.__table__).order_by(Document.id).limit(1)).mappings().one()
        session.execute(delete(Document).where(Document.id == first["id"]))
        session.execute(insert(Document), [dict(first)])
        session.commit()
    documents = as_user("aptika.implementasi").get(f"/instances/{instance_id}").get_json()["documents"]
    assert [d["field"] for d in documents] == ["dokumen_rencana", "dokumen_pelaksanaan"]


def test_each_file_is_held_to_the_upload_limit_not_the_request_as_a_whole(rt, settings, clock, as_user):
    """The limit is each file's, as the task page says at each file field. The request as a whole was
    held to the limit and 1 MB more: two files of a step, each within the limit, were refused with a
    bare 'too large' that named no file."""
    limit = 1024 * 1024
    deploy_v2(rt, BPMN, YAML.replace(
        "      - {name: dokumen_rencana, label: Dokumen kegiatan atau layanan, type: file}\n",
        "      - {name: dokumen_rencana, label: Dokumen kegiatan atau layanan, type: file}\n"
        "      - {name: lampiran_rencana, label: Lampiran, type: file}\n", 1))
    small = Runtime(replace(settings, max_upload_bytes=limit), clock=clock)
    try:
        small_app = create_app(runtime=small, testing=True)
        api = as_user("aptika.implementasi")
        api.client = small_app.test_client()
        task_id = open_task_id(api, start(rt))
        api.post(f"/tasks/{task_id}/claim")
        at_the_limit = b"%PDF-1.4 " + b"x" * (limit - 9)

        def complete(lampiran: bytes):
            return api.post(f"/tasks/{task_id}/complete", data={
                "data": json.dumps(STEP_DATA[1]), "dokumen_rencana": (io.BytesIO(at_the_limit), "rencana.pdf"),
                "lampiran_rencana": (io.BytesIO(lampiran), "lampiran.pdf")})

        # Looked up only for a body past one file's worth; an address no task can have is not looked up.
        assert api.post("/tasks/a%00b/complete", data={
            "dokumen_rencana": (io.BytesIO(at_the_limit), "rencana.pdf"),
            "lampiran_rencana": (io.BytesIO(at_the_limit), "lampiran.pdf")}).status_code == 404
        body = error(complete(at_the_limit + b"x"), 413, "too_large")
        assert body["fields"] == {"lampiran_rencana": "berkas lampiran.pdf lebih besar dari 1 MB"}
        assert complete(at_the_limit).status_code == 200
        documents = api.get(f"/instances/{api.get(f'/tasks/{task_id}').get_json()['task']['instance_id']}")
        assert [d["size"] for d in documents.get_json()["documents"]] == [limit, limit]

        # The task page's form likewise.
        instance_id = start(rt)
        task_id = open_task_id(api, instance_id)
        services.claim(rt, task_id, "aptika.implementasi")
        small_app.config["WTF_CSRF_ENABLED"] = False
        browser = small_app.test_client()
        with browser.session_transaction() as cookie:
            cookie["_user_id"] = session_id(rt, user_id(rt, "aptika.implementasi"))
        response = browser.post(f"/tugas/{task_id}", content_type="multipart/form-data", data={
            **STEP_DATA[1], "action": "complete", "dokumen_rencana": (io.BytesIO(at_the_limit), "rencana.pdf"),
            "lampiran_rencana": (io.BytesIO(at_the_limit), "lampiran.pdf")})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        assert open_task(rt, instance_id)["step"] == 2
        # Past one file's worth per file field the body is not read: the answer names the limit, per file.
        too_large = b"%PDF-1.4 " + b"x" * (2 * limit + 1024 * 1024)
        body = error(api.post(f"/tasks/{task_id}/complete", data={
            "data": "{}", "dokumen_rencana": (io.BytesIO(too_large), "besar.pdf")}), 413, "too_large")
        assert body["message"] == "permintaan terlalu besar; batas unggahan 1 MB per berkas"
        page = browser.post(f"/tugas/{task_id}", content_type="multipart/form-data", data={
            "dokumen_rencana": (io.BytesIO(too_large), "besar.pdf")})
        assert page.status_code == 413
        assert "Berkas yang diunggah terlalu besar: paling besar 1 MB per berkas." in page.get_data(as_text=True)
    finally:
        small.dispose()


def test_an_unclaim_retried_after_its_answer_was_lost_is_the_same_success(rt, as_user):
    """The retry carries the version the first unclaim was sent with, which that unclaim moved: it was 409."""
    instance_id = start(rt)
    api = as_user("aptika.implementasi")
    task_id = open_task_id(api, instance_id)
    version = api.post(f"/tasks/{task_id}/claim").get_json()["version"]
    first = api.post(f"/tasks/{task_id}/unclaim", json={"version": version})
    again = api.post(f"/tasks/{task_id}/unclaim", json={"version": version})
    assert (first.status_code, again.status_code) == (200, 200), again.get_json()
    assert again.get_json() == {**first.get_json(), "released": False}


def test_reassign_by_supervisor(rt, as_user):
    instance_id = start(rt)
    task_id = open_task_id(as_user("aptika.implementasi"), instance_id)
    colleague = second_implementer(rt)

    moved = as_user("kepala.aptika").post(f"/tasks/{task_id}/reassign", json={"assignee": colleague})
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["assignee"] == colleague and moved.get_json()["moved"] is True
    again = as_user("kepala.aptika").post(f"/tasks/{task_id}/reassign", json={"assignee": colleague})
    assert again.status_code == 200 and again.get_json()["moved"] is False  # already theirs: nothing changed
    assert as_user("kadis").post(f"/tasks/{task_id}/reassign",
                                 json={"assignee": "aptika.implementasi"}).get_json()["assignee"] \
        == "aptika.implementasi"

    error(as_user("aptika.implementasi").post(f"/tasks/{task_id}/reassign", json={"assignee": colleague}),
          403, "forbidden")
    error(as_user("kepala.ikp").post(f"/tasks/{task_id}/reassign", json={"assignee": colleague}), 403, "forbidden")
    body = error(as_user("kepala.aptika").post(f"/tasks/{task_id}/reassign", json={"assignee": "aptika.teknis"}),
                 422, "invalid_data")
    assert "assignee" in body["fields"]
    body = error(as_user("kepala.aptika").post(f"/tasks/{task_id}/reassign", json={}), 422, "invalid_data")
    assert body["fields"] == {"assignee": "wajib diisi"}
    error(as_user("kepala.aptika").post("/tasks/tidak-ada/reassign", json={"assignee": colleague}), 404, "not_found")
    # An unknown assignee is a mistake in the body: 404 would read as "no such task".
    body = error(as_user("kepala.aptika").post(f"/tasks/{task_id}/reassign", json={"assignee": "siapa.saja"}),
                 422, "invalid_data")
    assert body["fields"] == {"assignee": "pengguna tidak dikenal"}


def test_reassign_with_a_stale_version_is_409(rt, as_user):
    """A reassign took no version: a supervisor working from an old view silently overrode a claim
    made meanwhile."""
    instance_id = start(rt)
    api = as_user("aptika.implementasi")
    task_id = open_task_id(api, instance_id)
    head = as_user("kepala.aptika")
    seen = head.get(f"/tasks/{task_id}").get_json()["task"]["version"]
    colleague = second_implementer(rt)
    api.post(f"/tasks/{task_id}/claim")  # meanwhile
    body = error(head.post(f"/tasks/{task_id}/reassign", json={"assignee": colleague, "version": seen}),
                 409, "conflict")
    assert "berubah" in body["message"]
    assert api.get(f"/tasks/{task_id}").get_json()["task"]["assignee"] == "aptika.implementasi"
    body = error(head.post(f"/tasks/{task_id}/reassign", json={"assignee": colleague, "version": "baru"}),
                 422, "invalid_data")
    assert "version" in body["fields"]
    current = api.get(f"/tasks/{task_id}").get_json()["task"]["version"]
    moved = head.post(f"/tasks/{task_id}/reassign", json={"assignee": colleague, "version": current})
    assert moved.status_code == 200 and moved.get_json()["assignee"] == colleague
    spec = head.get("/openapi.json").get_json()["components"]["schemas"]
    assert "version" in spec["ReassignBody"]["properties"]


def test_reassigning_to_a_deactivated_user_says_the_account_is_inactive(rt, as_user):
    """The user exists: "unknown user" sent the supervisor looking for a typo."""
    instance_id = start(rt)
    task_id = open_task_id(as_user("aptika.implementasi"), instance_id)
    colleague = second_implementer(rt)
    accounts.save_user(rt, "admin", colleague, "Tim Implementasi Dua", "aptika", ["implementasi"], active=False)
    head = as_user("kepala.aptika")
    body = error(head.post(f"/tasks/{task_id}/reassign", json={"assignee": colleague}), 422, "invalid_data")
    assert body["message"] == "akun pengguna 'aptika.implementasi2' tidak aktif"
    assert body["fields"] == {"assignee": "akun pengguna tidak aktif"}
    accounts.set_language(rt, user_id(rt, "kepala.aptika"), "en")
    body = error(head.post(f"/tasks/{task_id}/reassign", json={"assignee": colleague}), 422, "invalid_data")
    assert body["message"] == "the account of user 'aptika.implementasi2' is inactive"
    assert body["fields"] == {"assignee": "the user's account is inactive"}
    assert head.get(f"/tasks/{task_id}").get_json()["task"]["assignee"] is None


# -- instances -----------------------------------------------------------------------------------

def test_start_instance(rt, as_user):
    api = as_user("aptika.implementasi")
    response = api.post("/instances", json={"definition": KEY, "bidang": "aptika", "title": "Aplikasi Matur",
                                            "period": "2026-03"})
    assert response.status_code == 201, response.get_json()
    info = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/instances/{info['id']}")
    assert info["state"] == "running" and info["title"] == "Aplikasi Matur" and info["period"] == "2026-03"
    assert info["definition"] == KEY and info["definition_version"] == 1
    assert [s["step"] for s in info["current_steps"]] == [1]
    assert info["history"][0]["kind"] == "started" and info["history"][0]["actor"] == "aptika.implementasi"
    assert info["markers"]["current"]

    body = error(api.post("/instances", json={"definition": KEY, "bidang": "ikp", "title": "Bukan bidang saya"}),
                 403, "forbidden")  # the Bidang by its name, not its code
    assert body["message"] == ("aptika.implementasi tidak boleh memulai kegiatan untuk "
                               "Bidang Informasi dan Komunikasi Publik")
    body = error(api.post("/instances", json={"definition": KEY, "bidang": "tidak-ada", "title": "X"}),
                 403, "forbidden")  # no such Bidang: its code, as sent
    assert body["message"] == "aptika.implementasi tidak boleh memulai kegiatan untuk tidak-ada"
    error(as_user("kepala.aptika").post("/instances", json={"definition": KEY, "bidang": "aptika", "title": "X"}),
          403, "forbidden")
    # A definition never deployed is a mistake in the body, named by its field, as an unknown Bidang is (below).
    body = error(api.post("/instances", json={"definition": "tidak_ada", "bidang": "aptika", "title": "X"}),
                 422, "invalid_data")
    assert body["fields"] == {"definition": "belum di-deploy"}
    body = error(api.post("/instances", json={"definition": KEY, "bidang": "aptika"}), 422, "invalid_data")
    assert body["fields"] == {"title": "wajib diisi"}
    body = error(api.post("/instances", json={"definition": KEY, "bidang": "aptika", "title": "   "}),
                 422, "invalid_data")
    assert body["fields"] == {"title": "wajib diisi"}
    # An empty Bidang was refused as "may not start activities for " (403), an empty definition as
    # "definition '' not deployed": both are fields left empty.
    body = error(api.post("/instances", json={"definition": "", "bidang": "", "title": "X"}), 422, "invalid_data")
    assert body["fields"] == {"definition": "wajib diisi", "bidang": "wajib diisi"}
    body = error(api.post("/instances", json=["bukan", "objek"]), 422, "invalid_data")
    assert body["fields"] == {"_": "harus berupa objek JSON"}
    body = error(api.post("/instances", data="null", content_type="application/json"), 422, "invalid_data")
    assert body["fields"] == {"_": "harus berupa objek JSON"}  # valid JSON, so not "not valid JSON" (400)
    error(api.post("/instances", data="title=X"), 400, "bad_request")
    # The secretary starts work for any Bidang.
    assert as_user("sekretaris").post("/instances", json={"definition": KEY, "bidang": "ikp",
                                                          "title": "Siaran pers"}).status_code == 201
    # A Bidang that does not exist is a mistake in the body, not a missing resource (404 reads as "no such URL").
    body = error(as_user("sekretaris").post("/instances", json={"definition": KEY, "bidang": "humas", "title": "X"}),
                 422, "invalid_data")
    assert body["fields"] == {"bidang": "tidak dikenal"}


def test_a_start_sent_again_with_its_idempotency_key_answers_the_first_activity(rt, as_user):
    api = as_user("aptika.implementasi")
    body = {"definition": KEY, "bidang": "aptika", "title": "Aplikasi Matur", "period": "2026-03"}
    first = api.post("/instances", json=body, headers={"Idempotency-Key": "req-1"})
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = api.post("/instances", json=body, headers={"Idempotency-Key": "req-1"})
    assert again.status_code == 201, again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"] and again.get_json() == first.get_json()
    instance_id = first.get_json()["id"]
    assert [i["id"] for i in api.get("/instances").get_json()["instances"]] == [instance_id]
    # The key with another body: refused, nothing started.
    refused = error(api.post("/instances", json={**body, "title": "Lain"}, headers={"Idempotency-Key": "req-1"}),
                    422, "idempotency_key_reused")
    assert refused["fields"] == {"Idempotency-Key": f"sudah dipakai untuk kegiatan {instance_id}"}
    # Another user's same key is their own.
    other = as_user("aptika.teknis").post("/instances", json=body, headers={"Idempotency-Key": "req-1"})
    assert other.status_code == 201 and other.get_json()["id"] != instance_id
    for key, message in (("", "wajib diisi"), ("k" * 256, "terlalu panjang (paling banyak 255 karakter)")):
        refused = error(api.post("/instances", json=body, headers={"Idempotency-Key": key}), 422, "invalid_data")
        assert refused["fields"] == {"Idempotency-Key": message}
    assert len(as_user("kadis").get("/instances").get_json()["instances"]) == 2
    accounts.set_language(rt, user_id(rt, "aptika.implementasi"), "en")
    refused = error(api.post("/instances", json={**body, "title": "Lain"}, headers={"Idempotency-Key": "req-1"}),
                    422, "idempotency_key_reused")
    assert refused == {"code": "idempotency_key_reused",
                       "message": f"this Idempotency-Key was already used to start activity {instance_id} with other data",
                       "fields": {"Idempotency-Key": f"already used for activity {instance_id}"}}
    header = as_user("kadis").get("/openapi.json").get_json()["paths"]["/instances"]["post"]["parameters"]
    assert [(p["in"], p["name"]) for p in header] == [("header", "Idempotency-Key")]


def test_list_and_show_instances(rt, as_user):
    aptika = start(rt, title="Layanan email dinas")
    ikp = start(rt, bidang="ikp", title="Siaran pers")
    api = as_user("aptika.implementasi")

    listed = api.get("/instances").get_json()["instances"]
    assert [(i["id"], i["bidang"], i["state"]) for i in listed] == [(aptika, "aptika", "running")]
    assert {i["id"] for i in as_user("sekretaris").get("/instances").get_json()["instances"]} == {aptika, ikp}
    assert api.get("/instances?state=completed").get_json()["instances"] == []
    assert len(as_user("kadis").get("/instances?limit=1").get_json()["instances"]) == 1
    # At most 500 a page, newest first: the rest was out of a client's reach. `before` pages back by id.
    third = start(rt, title="Aplikasi Sidela")
    kadis = as_user("kadis")
    assert [i["id"] for i in kadis.get("/instances?limit=2").get_json()["instances"]] == [third, ikp]
    assert [i["id"] for i in kadis.get(f"/instances?limit=2&before={ikp}").get_json()["instances"]] == [aptika]
    assert [i["id"] for i in api.get(f"/instances?before={third}").get_json()["instances"]] == [aptika]
    assert kadis.get(f"/instances?before={aptika}").get_json()["instances"] == []
    assert error(api.get("/instances?before=0"), 422, "invalid_data")["fields"] == {"before": "harus 1 atau lebih"}
    body = error(api.get("/instances?state=hilang&limit=0"), 422, "invalid_data")
    assert set(body["fields"]) == {"state", "limit"}

    info = api.get(f"/instances/{aptika}").get_json()
    assert info["id"] == aptika and info["definition_name"]
    assert info["steps"][0]["mutu_baku"] and info["steps"][0]["working_minutes"] == 0
    error(api.get(f"/instances/{ikp}"), 403, "forbidden")
    error(api.get("/instances/999999"), 404, "not_found")


def migrated_after_six_steps(rt) -> int:
    """An activity that did steps 1-6 under version 1, migrated to a version 2 that inserted a step
    before the verification (its steps 5-15 became 6-16)."""
    from engine import editor
    instance_id = start(rt)
    for step in (1, 2, 3, 4, 5, 6):
        do_step(rt, instance_id, step, {"terverifikasi": True} if step == 5 else None)
    deploy_v2(rt, *step_inserted_before_verification())
    editor.migrate(rt, instance_id, OWNER)
    return instance_id


def test_the_history_names_each_step_as_the_version_it_happened_under_names_it(rt, as_user):
    """After a migration to a version that inserted a step before the verification (steps 5-15 became
    6-16), the API's history gave only step numbers: its step 5, done under version 1, read as version
    2's new step 5. Each entry with a step names it and gives the version it belongs to, as the page does."""
    from engine import editor
    instance_id = migrated_after_six_steps(rt)
    api = as_user("aptika.implementasi")
    api.post(f"/tasks/{open_task_id(api, instance_id)}/claim")  # under version 2: its step 8

    history = api.get(f"/instances/{instance_id}").get_json()["history"]
    named = {(e["kind"], e["step"]): (e["step_name"], e["step_version"]) for e in history}
    v1, v2 = editor.definition_of(rt, KEY, 1), editor.definition_of(rt, KEY, 2)
    assert named["step_completed", 5] == ("Apakah hasil kegiatan dan layanan bidang terverifikasi?", 1)
    assert v2.step(5).name == "Memeriksa kelengkapan dokumen hasil kegiatan"  # not version 1's step 5
    assert named["step_completed", 4] == (v1.step(4).name, 1)  # numbered alike in both: still version 1's
    assert named["step_ready", 7] == ("Memberikan Data Kegiatan dan Layanan yang diperlukan", 1)
    assert named["claimed", 8] == ("Memberikan Data Kegiatan dan Layanan yang diperlukan", 2)
    assert named["migrated", None] == named["started", None] == (None, None)
    entry = api.get("/openapi.json").get_json()["components"]["schemas"]["HistoryEvent"]["properties"]
    assert entry["step_name"]["type"] == "string" and entry["step_version"]["type"] == "integer"


def test_the_steps_list_names_the_version_each_step_was_done_under_as_the_history_does(rt, as_user):
    """After the same migration the history said each step's version (and whether its number now reads as
    another step's), while the steps list said neither: its step 5, done under version 1, read as version
    2's step 5. The steps come with `step_version` and `renumbered` from the history's own reckoning."""
    instance_id = migrated_after_six_steps(rt)
    api = as_user("aptika.implementasi")
    api.post(f"/tasks/{open_task_id(api, instance_id)}/claim")

    info = api.get(f"/instances/{instance_id}").get_json()
    steps = {s["step"]: (s["step_version"], s["renumbered"]) for s in info["steps"]}
    assert steps == {1: (1, False), 2: (1, False), 3: (1, False), 4: (1, False), 5: (1, True), 6: (1, True),
                     8: (2, False)}
    history = {(e["kind"], e["step"]): (e["step_version"], e["renumbered"]) for e in info["history"]}
    assert history["step_completed", 5] == steps[5] and history["claimed", 8] == steps[8]
    schemas = api.get("/openapi.json").get_json()["components"]["schemas"]
    for schema in ("StepRun", "HistoryEvent"):
        found = schemas[schema]["properties"]
        assert found["step_version"]["type"] == "integer" and found["renumbered"]["type"] == "boolean"


def test_start_choices(as_user):
    choices = as_user("aptika.implementasi").get("/start-choices").get_json()
    assert choices["bidang"] == [{"code": "aptika", "name": "Bidang Aplikasi Informatika"}]
    assert [d["key"] for d in choices["definitions"]] == [KEY]
    assert len(as_user("sekretaris").get("/start-choices").get_json()["bidang"]) == 4
    assert as_user("kepala.aptika").get("/start-choices").get_json()["bidang"] == []


# -- alerts -----------------------------------------------------------------------------------------

def _overdue_step(rt, clock) -> int:
    instance_id = start(rt)
    info = services.show(rt, instance_id)
    clock.set(datetime.fromisoformat(info["current_steps"][0]["due_at"]) + timedelta(minutes=1))
    Scheduler(rt, deliver=False).run_pass()
    return instance_id


def test_alerts_list_and_acknowledge(rt, clock, as_user):
    instance_id = _overdue_step(rt, clock)
    kepala = as_user("kepala.aptika")

    [alert] = kepala.get("/alerts").get_json()["alerts"]
    assert alert["instance_id"] == instance_id and alert["level"] == 1 and alert["step"] == 1
    assert alert["recipient"] == "kepala.aptika" and alert["acknowledged_at"] is None
    assert alert["title"] == "Layanan email dinas" and alert["bidang"] == "aptika"
    assert len(kepala.get("/alerts?unacknowledged=true").get_json()["alerts"]) == 1
    assert as_user("aptika.implementasi").get("/alerts").get_json()["alerts"] == []
    assert as_user("kepala.ikp").get("/alerts").get_json()["alerts"] == []
    assert as_user("aptika.implementasi").get("/tasks?overdue=true").get_json()["tasks"][0]["overdue"] is True

    error(as_user("kepala.ikp").post(f"/alerts/{alert['id']}/ack"), 403, "forbidden")
    # The endpoint takes no body: what one holds is refused, not ignored ({} or nothing is fine).
    body = error(kepala.post(f"/alerts/{alert['id']}/ack", json={"acknowledged": False}), 422, "invalid_data")
    assert body["fields"] == {"acknowledged": "isian tidak dikenal"}
    assert kepala.get("/alerts?unacknowledged=true").get_json()["alerts"] != []
    error(kepala.post("/alerts/999999/ack"), 404, "not_found")
    error(kepala.get("/alerts?unacknowledged=barangkali"), 422, "invalid_data")

    acknowledged = kepala.post(f"/alerts/{alert['id']}/ack")
    assert acknowledged.status_code == 200
    assert acknowledged.get_json()["acknowledged_at"] is not None
    assert kepala.get("/alerts?unacknowledged=true").get_json()["alerts"] == []
    assert kepala.get("/alerts").get_json()["alerts"][0]["acknowledged_at"] is not None


# -- the whole SOP ------------------------------------------------------------------------------------

def test_whole_sop_through_the_api(rt, clock, as_user):
    starter = as_user("aptika.implementasi")
    created = starter.post("/instances", json={"definition": KEY, "bidang": "aptika", "title": "Layanan email dinas",
                                               "period": "2026-Q1"})
    assert created.status_code == 201
    instance_id = created.get_json()["id"]
    clients: dict[str, Api] = {}

    expected = [1, 2, 3, 4, 5, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    verdicts = iter([False, True])
    result = None
    for step in expected:
        clock.advance(minutes=10)
        login = performer(step, "aptika")
        api = clients.setdefault(login, as_user(login))
        task_id = open_task_id(api, instance_id)
        view = api.get(f"/tasks/{task_id}").get_json()
        assert view["step"]["number"] == step, f"expected step {step}"
        version = api.post(f"/tasks/{task_id}/claim", json={"version": view["task"]["version"]}).get_json()["version"]
        data = dict(STEP_DATA.get(step, {}))
        if step == 5:
            data = {"terverifikasi": next(verdicts), "catatan": "cek"}
        elif step == 12:
            data = {"ada_kendala": True, "uraian_kendala": "server"}
        assert set(data) <= set(view["step"]["form"]["properties"])
        files = STEP_FILES.get(step)
        if files:
            form = {"data": json.dumps(data), "version": str(version)}
            form.update({name: (io.BytesIO(content), filename) for name, (filename, content) in files.items()})
            response = api.post(f"/tasks/{task_id}/complete", data=form, content_type="multipart/form-data")
        else:
            response = api.post(f"/tasks/{task_id}/complete", json={"data": data, "version": version})
        assert response.status_code == 200, (step, response.get_json())
        result = response.get_json()

    assert result["instance_state"] == "completed"
    info = starter.get(f"/instances/{instance_id}").get_json()
    assert info["state"] == "completed" and info["completed_at"] and info["current_steps"] == []
    assert [e["step"] for e in info["history"] if e["kind"] == "step_completed"] == expected
    assert info["history"][-1]["kind"] == "completed"
    assert sorted(d["filename"] for d in info["documents"]) == ["laporan-evaluasi.pdf", "laporan-solusi.pdf"]
    for document in info["documents"]:
        assert starter.get(f"/documents/{document['id']}").data.startswith(b"%PDF-1.4")
    assert starter.get(f"/tasks?instance={instance_id}").get_json()["tasks"] == []
    assert [i["state"] for i in starter.get("/instances?state=completed").get_json()["instances"]] == ["completed"]


# -- the OpenAPI document and error shapes ------------------------------------------------------------

def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_openapi_document_lists_every_route(app, client):
    response = client.get("/api/v1/openapi.json")  # no token: the description is public
    assert response.status_code == 200 and response.mimetype == "application/json"
    doc = json.loads(response.get_data(as_text=True))
    assert doc["openapi"].startswith("3.")
    assert doc["servers"] == [{"url": "/api/v1"}]
    schemas = doc["components"]["schemas"]
    for name in ("Task", "TaskDetail", "InstanceDetail", "Alert", "Error", "StartBody", "CompleteBody"):
        assert schemas[name]["type"] == "object"
    assert set(doc["components"]["securitySchemes"]) == {"bearerAuth", "sessionCookie"}
    # The description told integrators every message is Indonesian; they follow the token owner's language.
    description = " ".join(doc["info"]["description"].split())
    assert "Indonesian ``message``" not in description and "the token owner's language" in description

    routes = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")]
    assert len(routes) >= 14
    for rule in routes:
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len("/api/v1"):])
        assert path in doc["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = doc["paths"][path][method.lower()]
            assert operation["summary"] and operation["responses"]
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(rule.arguments)
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert len(documented) == sum(len(r.methods - {"HEAD", "OPTIONS"}) for r in routes)

    for ref in set(_refs(doc)):
        section, kind, name = ref.removeprefix("#/").split("/")
        assert name in doc[section][kind], ref
    tasks = doc["paths"]["/tasks"]["get"]
    assert {p["name"] for p in tasks["parameters"]} == {"bidang", "step", "overdue", "sort", "instance"}
    assert "401" in tasks["responses"]
    complete = doc["paths"]["/tasks/{task_id}/complete"]["post"]
    assert set(complete["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert {"409", "413", "422"} <= set(complete["responses"])
    assert doc["paths"]["/openapi.json"]["get"]["security"] == []


def test_unknown_route_and_wrong_method_are_json(as_user):
    api = as_user("aptika.implementasi")
    error(api.get("/tidak-ada"), 404, "not_found")
    response = api.client.delete("/api/v1/tasks", headers=api._headers(None))
    error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_a_step_whose_gateway_cannot_be_passed_is_422_step_blocked_with_the_reason(rt, as_user):
    deploy_v2(rt, gateway_without_a_path())
    instance_id = start(rt)
    for step in (1, 2, 3, 4):
        do_step(rt, instance_id, step)
    api = as_user("aptika.teknis")
    task_id = open_task_id(api, instance_id)
    assert api.post(f"/tasks/{task_id}/claim", json={}).status_code == 200

    body = error(api.post(f"/tasks/{task_id}/complete", json={"data": {"terverifikasi": True, "catatan": "ok"}}),
                 422, "step_blocked")

    assert "Gateway_05" in body["message"] and "No conditions satisfied" in body["message"]
    assert open_task_id(api, instance_id) == task_id


@pytest.mark.parametrize("bad", ["a\x00b", "a\ud800b"], ids=["nul", "lone-surrogate"])
def test_text_no_database_can_hold_is_refused_everywhere_with_nothing_written(rt, as_user, client, bad):
    """NUL (PostgreSQL's text refuses it) and a lone surrogate (not UTF-8) were 500s from deep inside."""
    from tests.stored import stored
    api = as_user("aptika.implementasi")
    instance_id = start(rt)
    task_id = open_task_id(api, instance_id)
    assert api.post(f"/tasks/{task_id}/claim", json={}).status_code == 200
    before = stored(rt)

    body = error(api.post("/instances", json={"definition": KEY, "bidang": "aptika", "title": bad}),
                 422, "invalid_data")
    assert list(body["fields"]) == ["title"] and "NUL" in body["fields"]["title"]
    error(api.post(f"/tasks/{task_id}/complete", json={"data": {**STEP_DATA[1], "rencana_kegiatan": bad}}),
          422, "invalid_data")
    # Inside a multipart request's JSON part the text arrives escaped; the form's own check refuses it.
    body = error(api.post(f"/tasks/{task_id}/complete", content_type="multipart/form-data", data={
        "data": json.dumps({**STEP_DATA[1], "rencana_kegiatan": bad}),
        "dokumen_rencana": (io.BytesIO(b"%PDF-1.4 x"), "rencana.pdf")}), 422, "invalid_data")
    assert "rencana_kegiatan" in body["fields"]
    error(api.post(f"/tasks/{task_id}/reassign", json={"assignee": bad}), 422, "invalid_data")
    # (A URL cannot carry a lone surrogate: NUL stands for both here.)
    body = error(api.get("/instances?state=a%00b"), 422, "invalid_data")
    assert "NUL" in body["fields"]["state"]
    assert api.get("/tasks/a%00b").status_code == 404
    assert api.post("/tasks/a%00b/claim", json={}).status_code == 404
    assert stored(rt) == before
