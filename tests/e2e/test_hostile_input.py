"""Hostile and broken input through the paths that store things, on SQLite and PostgreSQL.

Definitions (REST API upload, draft and deploy; the editor's pages) and step
completions (REST API JSON and multipart; the task page) are fed malformed
XML, BPMN with unsupported elements, huge and deeply nested documents,
external entities and entity expansion, expressions that try to leave the
evaluator, YAML with Python tags, form values of the wrong type and size,
uploads whose bytes lie about their name, and file names that climb out of
their folder. Each gets a clear error (status, code, a message naming the
problem) and `tests.stored` finds every table and stored file as before.

A draft is the one thing a broken definition may create: the editor keeps it
so its problems can be fixed (engine.editor.save_draft). For those cases the
test checks the draft's problems name the fault, and that deploying it is
refused with nothing changed at all.
"""
from __future__ import annotations

import io
import json
import re
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from engine import services
from engine.db import User
from engine.runtime import Runtime
from tests.integration.sop import STEP_DATA
from tests.live import token_for
from tests.sessions import session_id
from tests.stored import assert_unchanged, changes, stored
from web.app import create_app

KEY = "monev_kegiatan_bidang"
ROOT = Path(__file__).resolve().parents[2]
SEED_BPMN = (ROOT / "definitions" / f"{KEY}.bpmn").read_text()
SEED_YAML = (ROOT / "definitions" / f"{KEY}.yaml").read_text()
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64
MARKER = Path("/tmp/alur-hostile-yaml-ran")


def billion_laughs() -> str:
    entities = ['<!ENTITY lol "lol">'] + [f'<!ENTITY lol{i} "{("&lol%s;" % ("" if i == 1 else i - 1)) * 10}">'
                                          for i in range(1, 10)]
    return f'<?xml version="1.0"?><!DOCTYPE lolz [{"".join(entities)}]><lolz>&lol9;</lolz>'


XXE = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</bpmn:definitions>')
PARAMETER_ENTITY = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>'
                    '<d/>')


def nested(depth: int) -> str:
    return "<a>" * depth + "</a>" * depth


def with_process_id(bpmn: str, new_id: str) -> str:
    return bpmn.replace(f'id="{KEY}"', f'id="{new_id}"')


def with_condition(expression: str) -> str:
    """The seed with its first gateway condition replaced (XML-escaped)."""
    escaped = expression.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text, n = re.subn(r"(<bpmn:conditionExpression[^>]*>)terverifikasi == True(<)", rf"\g<1>{escaped}\2",
                      SEED_BPMN, count=1)
    assert n == 1
    return text


def with_element(element: str) -> str:
    text, n = re.subn(r"(<bpmn:process [^>]*>)", rf"\1{element}", SEED_BPMN, count=1)
    assert n == 1
    return text


# Files that are not BPMN at all: refused on upload with nothing stored. (name, bytes, status, fragment)
NOT_BPMN = [
    ("malformed", SEED_BPMN[: len(SEED_BPMN) // 2].encode(), 422, "rusak"),
    ("binary", PNG, 422, ""),
    ("empty", b"", 422, ""),
    ("xxe", XXE.encode(), 422, "entity tidak diizinkan"),
    ("parameter-entity", PARAMETER_ENTITY.encode(), 422, "entity tidak diizinkan"),
    ("billion-laughs", billion_laughs().encode(), 422, "entity tidak diizinkan"),
    ("deeply-nested", nested(100_000).encode(), 422, ""),
    ("huge", (SEED_BPMN + "<!--" + "x" * (2 * 1024 * 1024) + "-->").encode(), 413, ""),
]

CONDITION = "Flow_05_Ya: "  # the flow whose condition was replaced
# Definitions that are BPMN but must never run: a draft with problems, never a version.
# (name, bpmn, yaml or None, fragment expected in a problem)
NOT_DEPLOYABLE = [
    ("complex-gateway", with_element('<bpmn:complexGateway id="Gateway_rumit"/>'), SEED_YAML,
     "Gateway_rumit: complexGateway tidak didukung"),
    ("script-task", with_element('<bpmn:scriptTask id="Script_x"><bpmn:script>import os</bpmn:script>'
                                 '</bpmn:scriptTask>'), SEED_YAML, "Script_x: script task tidak diizinkan"),
    ("dunder", with_condition("().__class__.__base__.__subclasses__()"), SEED_YAML, CONDITION),
    ("import", with_condition("__import__('os').system('id')"), SEED_YAML, CONDITION),
    ("lambda", with_condition("(lambda: 1)() == 1"), SEED_YAML, CONDITION),
    ("comprehension-bomb", with_condition("len([x for x in range(10**9)]) > 0"), SEED_YAML, CONDITION),
    ("huge-exponent", with_condition("9**9**9**9 > 0"), SEED_YAML, CONDITION),
    ("os-attribute", with_condition("os.system('id') == 0"), SEED_YAML, CONDITION),
    ("format-escape", with_condition("'{0.__class__}'.format(1) == 'x'"), SEED_YAML, CONDITION),
    ("yaml-python-tag", SEED_BPMN, SEED_YAML.replace(
        "steps:", f"evil: !!python/object/apply:os.system [\"touch {MARKER}\"]\nsteps:", 1), "yaml"),
    ("yaml-python-name", SEED_BPMN, SEED_YAML.replace(
        "steps:", "evil: !!python/name:os.system\nsteps:", 1), "yaml"),
]


@pytest.fixture
def app(rt):
    MARKER.unlink(missing_ok=True)
    return create_app(runtime=rt, testing=True)


def api(app, rt, login: str):
    client = app.test_client()
    token = token_for(rt, login)

    def call(method: str, path: str, **kwargs):
        return client.open(f"/api/v1{path}", method=method, headers={"Authorization": f"Bearer {token}"}, **kwargs)
    return call


def signed_in(app, rt, login: str):
    """A test client with the user's browser session (the page paths)."""
    client = app.test_client()
    with rt.uow() as session:
        user_id = session.scalars(select(User.id).where(User.login == login)).one()
    with client.session_transaction() as cookie_session:
        cookie_session["_user_id"] = session_id(rt, user_id)
    return client


def clear_error(response, status: int, fragment: str = "", what: str = "") -> dict:
    assert response.status_code == status, (what, response.status_code, response.get_data(as_text=True)[:300])
    body = response.get_json()["error"]
    assert body["code"] and body["message"]
    if fragment:
        assert fragment in json.dumps(body, ensure_ascii=False), body
    return body


# -- definitions -------------------------------------------------------------------------------

def test_files_that_are_not_bpmn_are_refused_and_nothing_is_stored(app, rt):
    owner = api(app, rt, "pemilik.proses")
    before = stored(rt)
    for name, data, status, fragment in NOT_BPMN:
        # CPU time of this process, where the app runs: a busy machine stretches the wall time, not this.
        began = time.process_time()
        for filename in (f"{name}.bpmn", "../../../../tmp/alur-naik.bpmn", "/etc/alur.bpmn", "a\x00b.bpmn"):
            response = owner("POST", "/definitions/uploads", content_type="multipart/form-data",
                             data={"bpmn": (io.BytesIO(data), filename)})
            clear_error(response, status, fragment)
            assert_unchanged(before, rt, f"upload {name} as {filename!r}")
        assert time.process_time() - began < 10, f"{name} took too long"
        # The same text as a draft body: kept as a draft with the problem, never deployable.
        if status == 413:
            clear_error(owner("PUT", f"/definitions/{KEY}/draft", json={"bpmn_xml": data.decode()}), 413)
            assert_unchanged(before, rt, f"draft {name}")
    assert not Path("/tmp/alur-naik.bpmn").exists() and not Path("/etc/alur.bpmn").exists()


def test_definitions_that_must_not_run_stay_drafts_and_deploying_them_changes_nothing(app, rt):
    owner = api(app, rt, "pemilik.proses")
    for name, bpmn, yaml_text, fragment in NOT_DEPLOYABLE:
        key = f"hostile_{name.replace('-', '_')}"
        files = {"bpmn": (io.BytesIO(with_process_id(bpmn, key).encode()), f"{name}.bpmn")}
        if yaml_text is not None:
            files["yaml"] = (io.BytesIO(yaml_text.encode()), f"{name}.yaml")
        response = owner("POST", "/definitions/uploads", content_type="multipart/form-data", data=files)
        assert response.status_code == 201, (name, response.get_json())
        draft = response.get_json()
        assert not draft["deployable"]
        assert any(fragment in f"{p['element']}: {p['message']}" for p in draft["problems"]), \
            (name, draft["problems"])
        before = stored(rt)
        body = clear_error(owner("POST", f"/definitions/{key}/draft/deploy"), 422)
        assert body["fields"], name
        assert_unchanged(before, rt, f"deploy {name}")
    # The seed key itself, through PUT draft: the running definition is never replaced.
    for name, bpmn, yaml_text, fragment in NOT_DEPLOYABLE:
        body = {"bpmn_xml": bpmn, **({"yaml_text": yaml_text} if yaml_text is not None else {})}
        assert owner("PUT", f"/definitions/{KEY}/draft", json=body).status_code == 200
        before = stored(rt)
        clear_error(owner("POST", f"/definitions/{KEY}/draft/deploy"), 422)
        assert_unchanged(before, rt, f"deploy {name} over the seed")
    assert not MARKER.exists(), "a YAML tag ran code"


def test_the_editor_pages_refuse_the_same(app, rt):
    app.config["WTF_CSRF_ENABLED"] = False  # CSRF has its own tests
    browser = signed_in(app, rt, "pemilik.proses")
    before = stored(rt)
    for name, data, status, _fragment in NOT_BPMN:
        response = browser.post("/editor/unggah", content_type="multipart/form-data",
                                data={"bpmn": (io.BytesIO(data), f"../{name}.bpmn")})
        assert response.status_code == status, name
        assert "ditolak" in response.get_data(as_text=True), name
        assert_unchanged(before, rt, f"editor upload {name}")
    response = browser.post(f"/editor/{KEY}/draf", json={"bpmn_xml": with_condition("__import__('os')"),
                                                         "steps": None})
    assert response.status_code == 200 and response.get_json()["problems"]
    before = stored(rt)
    response = browser.post(f"/editor/{KEY}/deploy")
    assert response.status_code == 422 and "Deploy ditolak" in response.get_data(as_text=True)
    assert_unchanged(before, rt, "editor deploy")
    for body in ("bukan json", '{"a": ' * 100_000, json.dumps([1, 2]), json.dumps({"bpmn_xml": 5}), json.dumps({"bpmn_xml": "",
                                                                                            "revision": "x"})):
        response = browser.post(f"/editor/{KEY}/draf", data=body, content_type="application/json")
        assert response.status_code in (400, 422), body
    assert_unchanged(before, rt, "editor draft bodies")


# -- completing a step ----------------------------------------------------------------------------

@pytest.fixture
def held(rt):
    """Step 1 of an aptika instance, claimed by aptika.implementasi: (instance id, task id)."""
    instance_id = services.start(rt, KEY, "aptika", "Kegiatan", "sekretaris", "2026-Q1")
    [task] = services.show(rt, instance_id)["current_steps"]
    services.claim(rt, task["id"], "aptika.implementasi")
    return instance_id, task["id"]


GOOD = STEP_DATA[1]
# Step 1's form: rencana_kegiatan (text, required), tanggal_mulai and tanggal_selesai (dates, required),
# dokumen_rencana (file). (case, JSON body, field named in the error or None for the body itself)
BAD_DATA = [
    ("text-as-number", {"data": {**GOOD, "rencana_kegiatan": 12345}}, "rencana_kegiatan"),
    ("text-as-list", {"data": {**GOOD, "rencana_kegiatan": ["a", "b"]}}, "rencana_kegiatan"),
    ("text-as-object", {"data": {**GOOD, "rencana_kegiatan": {"$gt": ""}}}, "rencana_kegiatan"),
    ("text-too-long", {"data": {**GOOD, "rencana_kegiatan": "x" * 200_000}}, "rencana_kegiatan"),
    ("text-with-nul", {"data": {**GOOD, "rencana_kegiatan": "a\x00b"}}, "rencana_kegiatan"),
    ("impossible-date", {"data": {**GOOD, "tanggal_mulai": "2026-02-30"}}, "tanggal_mulai"),
    ("date-as-words", {"data": {**GOOD, "tanggal_mulai": "besok"}}, "tanggal_mulai"),
    ("date-as-number", {"data": {**GOOD, "tanggal_mulai": 20260302}}, "tanggal_mulai"),
    ("date-huge-number", {"data": {**GOOD, "tanggal_mulai": 10**300}}, "tanggal_mulai"),
    ("missing-required", {"data": {"rencana_kegiatan": "x"}}, "tanggal_mulai"),
    ("unknown-field", {"data": {**GOOD, "skrip": "rm -rf /"}}, "skrip"),
    ("dunder-field", {"data": {**GOOD, "__class__": "x"}}, "__class__"),
    ("file-id-of-nothing", {"data": {**GOOD, "dokumen_rencana": "999999"}}, "dokumen_rencana"),
    ("file-id-traversal", {"data": {**GOOD, "dokumen_rencana": "../../etc/passwd"}}, "dokumen_rencana"),
    # str.isdigit() takes these, int() or the database does not: they were 500s.
    ("file-id-superscript", {"data": {**GOOD, "dokumen_rencana": "\u00b2"}}, "dokumen_rencana"),
    ("file-id-huge-text", {"data": {**GOOD, "dokumen_rencana": "9" * 30}}, "dokumen_rencana"),
    ("file-id-huge-number", {"data": {**GOOD, "dokumen_rencana": 10**30}}, "dokumen_rencana"),
    ("file-id-past-int32", {"data": {**GOOD, "dokumen_rencana": 2**31}}, "dokumen_rencana"),
    ("data-as-list", {"data": [1, 2, 3]}, "data"),
    ("data-as-text", {"data": "rencana"}, "data"),
    ("version-as-text", {"data": GOOD, "version": "satu"}, "version"),
    ("version-huge", {"data": GOOD, "version": 10**30}, "version"),
    ("unknown-key", {"data": GOOD, "eval": "1"}, "eval"),
]
# Multipart uploads for dokumen_rencana: (case, file name, bytes, other form data, status)
BAD_UPLOADS = [
    ("exe-named-pdf", "rencana.pdf", EXE, GOOD, 422),
    ("pdf-named-exe", "rencana.exe", PDF, GOOD, 422),
    ("png-named-pdf", "rencana.pdf", PNG, GOOD, 422),
    ("html-named-pdf", "rencana.pdf", b"<html><script>alert(1)</script></html>", GOOD, 422),
    ("svg-named-png", "rencana.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', GOOD, 422),
    ("empty-pdf", "rencana.pdf", b"", GOOD, 422),
    ("empty-txt", "kosong.txt", b"", GOOD, 422),
    ("traversal", "../../../../tmp/alur-naik.pdf", PDF, GOOD, 422),
    ("absolute", "/etc/alur-naik.pdf", PDF, GOOD, 422),
    # Backslashes doubled: the multipart header quotes them, so the server reads ..\..\alur-naik.pdf
    ("windows-traversal", "..\\\\..\\\\alur-naik.pdf", PDF, GOOD, 422),
    ("nul-in-name", "rencana\x00.pdf", PDF, GOOD, 422),
    ("control-in-name", "ren\x1bcana.pdf", PDF, GOOD, 422),  # (a line break would end the part's header)
    ("rtl-override-in-name", "laporan\u202efdp.pdf", PDF, GOOD, 422),  # shown as "laporanpdf.pdf"
    ("only-dots", "..", PDF, GOOD, 422),
    ("good-file-bad-data", "rencana.pdf", PDF, {**GOOD, "tanggal_mulai": "kemarin"}, 422),
    ("too-large", "rencana.pdf", PDF + b"0" * 4096, GOOD, 413),
]


def test_step_data_of_the_wrong_type_or_size_is_refused_and_nothing_changes(app, rt, held):
    _instance_id, task_id = held
    performer = api(app, rt, "aptika.implementasi")
    before = stored(rt)
    for name, body, field in BAD_DATA:
        response = performer("POST", f"/tasks/{task_id}/complete", json=body)
        found = clear_error(response, 422, what=name)
        assert field in found.get("fields", {}), (name, found)
        assert_unchanged(before, rt, name)
    for raw in (b"{", b"\xff\xfe", b"[1,2]", b'{"data": {"a": ' * 5000):
        response = performer("POST", f"/tasks/{task_id}/complete", data=raw, content_type="application/json")
        assert response.status_code in (400, 422), raw[:20]
        assert response.get_json()["error"]["code"] in ("bad_request", "invalid_data")
    deep = '{"a": ' * 20_000 + "1" + "}" * 20_000
    response = performer("POST", f"/tasks/{task_id}/complete", data={"data": deep},
                         content_type="multipart/form-data")
    clear_error(response, 422, "data", what="deep multipart data")
    assert_unchanged(before, rt, "unreadable bodies")
    # And the task is still there to be completed properly.
    assert performer("POST", f"/tasks/{task_id}/complete", json={"data": GOOD}).status_code == 200


def test_uploads_that_lie_or_climb_out_are_refused_and_nothing_changes(app, rt, held, settings, clock):
    _instance_id, task_id = held
    small = Runtime(replace(settings, max_upload_bytes=4096), clock=clock)  # one small limit for "too-large"
    small_app = create_app(runtime=small, testing=True)
    try:
        performer = api(small_app, small, "aptika.implementasi")
        before = stored(rt)
        for name, filename, content, data, status in BAD_UPLOADS:
            form = {"data": json.dumps(data), "dokumen_rencana": (io.BytesIO(content), filename)}
            response = performer("POST", f"/tasks/{task_id}/complete", data=form,
                                 content_type="multipart/form-data")
            # The limit in the message as the office reads it (4 KB, not "0 MB").
            body = clear_error(response, status, "4 KB" if name == "too-large" else "", what=name)
            if name != "good-file-bad-data":  # the file's problem, named by its field (not "_")
                assert list(body["fields"]) == ["dokumen_rencana"], (name, body)
            differ = changes(before, stored(rt))
            assert not differ, f"{name}: stored data changed: {differ}"
        assert not Path("/tmp/alur-naik.pdf").exists() and not Path("/etc/alur-naik.pdf").exists()
        # Two documents for one field: which was meant? Refused, not one of them dropped silently.
        twice = MultiDict([("data", json.dumps(GOOD)), ("dokumen_rencana", (io.BytesIO(PDF), "satu.pdf")),
                           ("dokumen_rencana", (io.BytesIO(PDF + b" "), "dua.pdf"))])
        response = performer("POST", f"/tasks/{task_id}/complete", data=twice, content_type="multipart/form-data")
        clear_error(response, 422, "dokumen_rencana", what="a part sent twice")
        assert_unchanged(before, rt, "a part sent twice")
        # The page refuses the same, shown on the form.
        app.config["WTF_CSRF_ENABLED"] = False
        browser = signed_in(app, rt, "aptika.implementasi")
        for name, filename, content, data, status in BAD_UPLOADS[:-1]:
            form = {**{k: str(v) for k, v in data.items()}, "dokumen_rencana": (io.BytesIO(content), filename)}
            response = browser.post(f"/tugas/{task_id}", data=form, content_type="multipart/form-data")
            assert response.status_code == 422, (name, response.status_code)
            if name != "good-file-bad-data":  # at the file's field, not as "_: …" under the form
                html = response.get_data(as_text=True)
                assert re.search(r'data-field="dokumen_rencana">(?:(?!</div>).)*class="field-error"', html, re.S), name
                assert ">_: " not in html, name
            assert_unchanged(before, rt, f"page {name}")
        # A file over the limit brings the form back too, with what was typed: nothing to type again.
        small_app.config["WTF_CSRF_ENABLED"] = False
        browser = signed_in(small_app, small, "aptika.implementasi")
        typed = {**{k: str(v) for k, v in GOOD.items()}, "rencana_kegiatan": "Rencana panjang yang diketik"}
        response = browser.post(f"/tugas/{task_id}", content_type="multipart/form-data", data={
            **typed, "dokumen_rencana": (io.BytesIO(PDF + b"0" * 4096), "besar.pdf")})
        html = response.get_data(as_text=True)
        assert response.status_code == 413 and ">Rencana panjang yang diketik</textarea>" in html
        assert re.search(r'data-field="dokumen_rencana".*?class="field-error">[^<]*4 KB', html, re.S)
        assert_unchanged(before, rt, "page too-large")
    finally:
        small.dispose()
