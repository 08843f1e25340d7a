"""Every endpoint and page against every role: one table, the expected status in each cell.

The table has one row per (method, URL rule) of the app; the test fails if
the app has a rule the table lacks (a new route needs its row) or the table
names one the app no longer has. Columns are the kinds of user: anonymous,
each lane role in the Bidang of the object (aptika) and in another (ikp),
the Sekretaris (an office-wide lane), the kepala of aptika and of ikp, the
kepala dinas, the process owner and the administrator. Pages are requested
with a browser session, the API with each user's bearer token.

Every request is a real, well-formed one for that route (a valid form, a real
task or document id), so a 403 or 404 is the permission check speaking and a
2xx/3xx means the user really may. Each unsafe request runs on the same
starting state (the SQLite file is restored from a copy after it), and when
an unsafe request is refused (4xx), nothing stored may have changed (but a
migration refused for a reason: its one history row, REFUSAL_LOGGED).

Permissions do not depend on the database, so this runs on SQLite only. PDF
rendering is replaced by a stub: the permission check comes before it, and
WeasyPrint would cost seconds per cell.
"""
from __future__ import annotations

import io
import shutil
from datetime import datetime, timedelta
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine import alerts, bootstrap, editor, queries, services, worklist
from engine.clock import ManualClock
from engine.config import Settings
from engine.db import Event, User
from engine.runtime import Runtime
from engine.scheduler import Scheduler
from tests.conftest import MONDAY_MORNING, cheap_password_hash
from tests.integration.sop import STEP_DATA
from tests.live import token_for
from tests.sessions import session_id
from tests.stored import changes, stored
from tests.unit.test_sop_import import HEADER_SUB, HEADER_TOP, _csv, _row
from web.app import create_app

KEY = "monev_kegiatan_bidang"
PDF = b"%PDF-1.4 rencana"
# The columns: who asks. Objects (instances, tasks, documents, alerts) belong to aptika.
USERS = {
    "anon": None,
    "impl": "aptika.implementasi", "impl@ikp": "ikp.implementasi",
    "tek": "aptika.teknis", "tek@ikp": "ikp.teknis",
    "adm": "aptika.administrasi", "adm@ikp": "ikp.administrasi",
    "sekr": "sekretaris",
    "kep": "kepala.aptika", "kep@ikp": "kepala.ikp",
    "kadis": "kadis", "owner": "pemilik.proses", "admin": "admin",
}
COLUMNS = tuple(USERS)


@dataclass
class Row:
    method: str
    rule: str
    expect: str  # one status per column, in COLUMNS order
    url: str = ""  # the rule with the fixture's ids filled in ({open}, {held}, ...); default: the rule itself
    json: Any = None
    data: dict | None = None
    files: dict = field(default_factory=dict)

    def path(self, ids: dict[str, Any]) -> str:
        return (self.url or self.rule).format(**ids)


def R(method: str, rule: str, expect: str, url: str = "", **kwargs) -> Row:
    return Row(method, rule, expect, url, **kwargs)


API = "/api/v1"
PERIOD = "{}?dari=2026-03-01&sampai=2026-03-31&bidang=aptika"
UPLOAD = {"bpmn": ("proses.bpmn", "bpmn")}  # the deployed diagram, under another process id
# A migration refused for a reason (here: to a version older than the activity's) writes that reason to
# the activity's history on purpose, the process owner sees why; that history row is all it may write.
REFUSAL_LOGGED = {("POST", API + "/instances/<int:instance_id>/migrate"): "migration_refused"}
# Statuses per column:      anon impl i@ik tek  t@ik adm  a@ik sekr kep  k@ik kadis owner admin
MATRIX = [
    R("GET", "/", "302 200 200 200 200 200 200 200 200 200 200 200 200"),
    R("GET", "/masuk", "200 200 200 200 200 200 200 200 200 200 200 200 200"),
    R("POST", "/masuk", "302 302 302 302 302 302 302 302 302 302 302 302 302", data={"login": "aptika.teknis", "password": "alur-demo"}),
    R("POST", "/keluar", "302 302 302 302 302 302 302 302 302 302 302 302 302"),
    R("POST", "/bahasa", "302 302 302 302 302 302 302 302 302 302 302 302 302", data={"language": "en"}),
    R("GET", "/token", "302 200 200 200 200 200 200 200 200 200 200 200 200"),
    R("POST", "/token", "302 200 200 200 200 200 200 200 200 200 200 200 200", data={"name": "skrip"}),
    R("GET", "/static/<path:filename>", "200 200 200 200 200 200 200 200 200 200 200 200 200", "/static/alur.css"),
    R("GET", "/favicon.ico", "200 200 200 200 200 200 200 200 200 200 200 200 200"),
    R("GET", "/vendor/<package>/<path:filename>", "200 200 200 200 200 200 200 200 200 200 200 200 200", "/vendor/chart.js/chart.umd.min.js"),
    R("GET", "/vendor/bpmn-js/<path:filename>", "200 200 200 200 200 200 200 200 200 200 200 200 200", "/vendor/bpmn-js/bpmn-modeler.production.min.js"),
    # the worklist and tasks
    R("POST", "/filter", "302 302 302 302 302 302 302 302 302 302 302 302 302", data={"name": "Langkah 1", "step": "1"}),
    R("POST", "/filter/<int:filter_id>/hapus", "302 302 403 403 403 403 403 403 403 403 403 403 403", "/filter/{filter}/hapus"),
    R("GET", "/tugas/<task_id>", "302 200 403 200 403 200 403 200 200 403 200 200 200", "/tugas/{t_held}"),
    R("POST", "/tugas/<task_id>", "302 302 403 403 403 403 403 403 403 403 403 403 403", "/tugas/{t_held}", data={"action": "draft", "rencana_kegiatan": "Draf"}),
    R("POST", "/tugas/<task_id>/klaim", "302 302 403 403 403 403 403 403 403 403 403 403 403", "/tugas/{t_open}/klaim"),
    R("POST", "/tugas/<task_id>/lepas", "302 302 403 403 403 403 403 403 403 403 403 403 403", "/tugas/{t_held}/lepas"),
    R("GET", "/dokumen/<int:document_id>", "302 200 403 200 403 200 403 200 200 403 200 200 200", "/dokumen/{doc}"),
    # instances
    R("GET", "/kegiatan", "302 200 200 200 200 200 200 200 200 200 200 200 200"),
    R("GET", "/kegiatan/baru", "302 200 200 200 200 200 200 200 200 200 200 200 200"),
    R("POST", "/kegiatan/baru", "302 302 403 302 403 302 403 302 403 403 403 403 302", data={"definition": KEY, "bidang": "aptika", "title": "Baru", "period": "2026-Q1"}),
    R("GET", "/kegiatan/<int:instance_id>", "302 200 403 200 403 200 403 200 200 403 200 200 200", "/kegiatan/{open}"),
    R("GET", "/kegiatan/<int:instance_id>/diagram.bpmn", "302 200 403 200 403 200 403 200 200 403 200 200 200", "/kegiatan/{open}/diagram.bpmn"),
    R("GET", "/kegiatan/cari", "302 200 200 200 200 200 200 200 200 200 200 200 200"),
    R("POST", "/kegiatan/<int:instance_id>/arsip", "302 403 403 403 403 403 403 403 403 403 403 403 409", "/kegiatan/{open}/arsip"),
    R("POST", "/kegiatan/<int:instance_id>/pulihkan", "302 403 403 403 403 403 403 403 403 403 403 403 302", "/kegiatan/{open}/pulihkan"),
    # supervision
    R("GET", "/pengawasan", "302 403 403 403 403 403 403 403 200 200 200 403 403"),
    R("POST", "/pengawasan/tugas/<task_id>/alihkan", "302 403 403 403 403 403 403 403 302 403 302 403 403", "/pengawasan/tugas/{t_open}/alihkan",
      data={"assignee": "aptika.implementasi"}),
    R("POST", "/pengawasan/peringatan/<int:alert_id>/baca", "302 403 403 403 403 403 403 403 302 403 403 403 403", "/pengawasan/peringatan/{alert}/baca"),
    # monitoring and reports
    R("GET", "/monitoring", "302 403 403 403 403 403 403 200 200 200 200 200 403"),
    R("GET", "/monitoring/diagram.bpmn", "302 403 403 403 403 403 403 200 200 200 200 200 403"),
    R("GET", "/monitoring/rekap.csv", "302 403 403 403 403 403 403 200 200 200 200 200 403"),
    R("GET", "/monitoring/rekap.xlsx", "302 403 403 403 403 403 403 200 200 200 200 200 403"),
    R("GET", "/monitoring/laporan", "302 403 403 403 403 403 403 200 200 200 200 200 403"),
    R("POST", "/monitoring/laporan", "302 403 403 403 403 403 403 302 403 403 302 403 403", PERIOD.format("/monitoring/laporan"),
      data={"kesimpulan": "Baik", "rekomendasi": "Lanjutkan"}),
    R("GET", "/monitoring/laporan.pdf", "302 403 403 403 403 403 403 200 200 200 200 200 403"),
    R("GET", "/monitoring/formulir-sop", "302 403 403 403 403 403 403 200 200 200 200 200 403"),
    R("POST", "/monitoring/formulir-sop", "302 403 403 403 403 403 403 302 302 403 302 403 403", PERIOD.format("/monitoring/formulir-sop"),
      data={"tanggal": "2026-03-02", **{f"berjalan_baik-{n}": "ya" for n in range(1, 16)}}),
    R("GET", "/monitoring/formulir-sop/cetak", "302 403 403 403 403 403 403 200 200 200 200 200 403"),
    R("GET", "/monitoring/formulir-sop.pdf", "302 403 403 403 403 403 403 200 200 200 200 200 403"),
    # the SOP document
    R("GET", "/sop/<key>", "302 302 302 302 302 302 302 302 302 302 302 302 302", "/sop/{key}"),
    R("GET", "/sop/<key>/v<int:version>", "302 200 200 200 200 200 200 200 200 200 200 200 200", "/sop/{key}/v1"),
    R("GET", "/sop/<key>/v<int:version>.pdf", "302 200 200 200 200 200 200 200 200 200 200 200 200", "/sop/{key}/v1.pdf"),
    R("GET", "/sop/<key>/kop", "302 403 403 403 403 403 403 403 403 403 403 200 200", "/sop/{key}/kop"),
    R("POST", "/sop/<key>/kop", "302 403 403 403 403 403 403 403 403 403 403 302 302", "/sop/{key}/kop", data={"nomor": "000.8.3.3/327", "base_version": "2"}),
    # the editor
    R("GET", "/editor/", "302 403 403 403 403 403 403 403 403 403 403 200 200"),
    R("POST", "/editor/unggah", "302 403 403 403 403 403 403 403 403 403 403 302 302", files=UPLOAD),
    R("GET", "/editor/<key>", "302 403 403 403 403 403 403 403 403 403 403 200 200", "/editor/{key}"),
    R("GET", "/editor/<key>/sumber.json", "302 403 403 403 403 403 403 403 403 403 403 200 200", "/editor/{key}/sumber.json"),
    R("POST", "/editor/<key>/draf", "302 403 403 403 403 403 403 403 403 403 403 200 200", "/editor/{key}/draf", json={"bpmn_xml": "", "steps": None}),
    R("GET", "/editor/<key>/draf.bpmn", "302 403 403 403 403 403 403 403 403 403 403 200 200", "/editor/{key}/draf.bpmn"),
    R("POST", "/editor/<key>/deploy", "302 403 403 403 403 403 403 403 403 403 403 302 302", "/editor/{key}/deploy"),
    R("POST", "/editor/<key>/buang", "302 403 403 403 403 403 403 403 403 403 403 302 302", "/editor/{key}/buang"),
    R("GET", "/editor/<key>/versi", "302 403 403 403 403 403 403 403 403 403 403 200 200", "/editor/{key}/versi"),
    R("POST", "/editor/<key>/migrasi", "302 403 403 403 403 403 403 403 403 403 403 200 200", "/editor/{key}/migrasi", data={}),
    R("GET", "/editor/<key>/versi/<int:version>", "302 403 403 403 403 403 403 403 403 403 403 200 200", "/editor/{key}/versi/1"),
    R("GET", "/editor/<key>/versi/<int:version>/diagram.bpmn", "302 403 403 403 403 403 403 403 403 403 403 200 200", "/editor/{key}/versi/1/diagram.bpmn"),
    R("POST", "/editor/impor", "302 403 403 403 403 403 403 403 403 403 403 302 302", data={"key": "impor_baru"}, files={"source": ("impor.csv", "table")}),
    R("POST", "/editor/<key>/pertanyaan", "302 403 403 403 403 403 403 403 403 403 403 302 302", "/editor/{imported}/pertanyaan", data={"jawaban-Step_01.pelaksana": "administrasi", "revision": "1"}),
    R("POST", "/editor/<key>/pertanyaan/selesai", "302 403 403 403 403 403 403 403 403 403 403 302 302", "/editor/{imported}/pertanyaan/selesai", data={"question": "Step_01.pelaksana", "revision": "1"}),
    # administration
    R("GET", "/admin/pengguna", "302 403 403 403 403 403 403 403 403 403 403 403 200"),
    R("POST", "/admin/pengguna", "302 403 403 403 403 403 403 403 403 403 403 403 302", data={"login": "pengguna.baru", "name": "Pengguna Baru", "bidang": "aptika",
                                           "roles": "implementasi", "active": "1", "password": "rahasia-sekali"}),
    R("GET", "/admin/bidang", "302 403 403 403 403 403 403 403 403 403 403 403 200"),
    R("POST", "/admin/bidang", "302 403 403 403 403 403 403 403 403 403 403 403 302", data={"code": "baru", "name": "Bidang Baru"}),
    # the REST API
    R("GET", API + "/openapi.json", "200 200 200 200 200 200 200 200 200 200 200 200 200"),
    R("GET", API + "/tasks", "401 200 200 200 200 200 200 200 200 200 200 200 200"),
    R("GET", API + "/tasks/<task_id>", "401 200 403 200 403 200 403 200 200 403 200 200 200", API + "/tasks/{t_held}"),
    R("POST", API + "/tasks/<task_id>/claim", "401 200 403 403 403 403 403 403 403 403 403 403 403", API + "/tasks/{t_open}/claim", json={}),
    R("POST", API + "/tasks/<task_id>/unclaim", "401 200 403 403 403 403 403 403 403 403 403 403 403", API + "/tasks/{t_held}/unclaim", json={}),
    R("POST", API + "/tasks/<task_id>/complete", "401 200 403 403 403 403 403 403 403 403 403 403 403", API + "/tasks/{t_held}/complete", json={"data": STEP_DATA[1]}),
    R("POST", API + "/tasks/<task_id>/reassign", "401 403 403 403 403 403 403 403 200 403 200 403 403", API + "/tasks/{t_open}/reassign",
      json={"assignee": "aptika.implementasi"}),
    R("GET", API + "/instances", "401 200 200 200 200 200 200 200 200 200 200 200 200"),
    R("POST", API + "/instances", "401 201 403 201 403 201 403 201 403 403 403 403 201", json={"definition": KEY, "bidang": "aptika", "title": "Baru"}),
    R("GET", API + "/instances/<int:instance_id>", "401 200 403 200 403 200 403 200 200 403 200 200 200", API + "/instances/{open}"),
    R("POST", API + "/instances/<int:instance_id>/migrate", "401 403 403 403 403 403 403 403 403 403 403 409 409", API + "/instances/{newer}/migrate", json={"target": 1}),
    R("GET", API + "/start-choices", "401 200 200 200 200 200 200 200 200 200 200 200 200"),
    R("GET", API + "/documents/<int:document_id>", "401 200 403 200 403 200 403 200 200 403 200 200 200", API + "/documents/{doc}"),
    R("GET", API + "/alerts", "401 200 200 200 200 200 200 200 200 200 200 200 200"),
    R("POST", API + "/alerts/<int:alert_id>/ack", "401 403 403 403 403 403 403 403 200 403 403 403 403", API + "/alerts/{alert}/ack"),
    R("GET", API + "/definitions", "401 403 403 403 403 403 403 403 403 403 403 200 200"),
    R("POST", API + "/definitions/uploads", "401 403 403 403 403 403 403 403 403 403 403 201 201", files=UPLOAD),
    R("GET", API + "/definitions/<key>/draft", "401 403 403 403 403 403 403 403 403 403 403 200 200", API + "/definitions/{key}/draft"),
    R("PUT", API + "/definitions/<key>/draft", "401 403 403 403 403 403 403 403 403 403 403 200 200", API + "/definitions/{key}/draft", json={"bpmn_xml": ""}),
    R("DELETE", API + "/definitions/<key>/draft", "401 403 403 403 403 403 403 403 403 403 403 204 204", API + "/definitions/{key}/draft"),
    R("POST", API + "/definitions/<key>/draft/deploy", "401 403 403 403 403 403 403 403 403 403 403 200 200", API + "/definitions/{key}/draft/deploy"),
    R("POST", API + "/definitions/imports", "401 403 403 403 403 403 403 403 403 403 403 201 201", data={"key": "impor_api"}, files={"source": ("impor.csv", "table")}),
    R("POST", API + "/definitions/<key>/draft/answers", "401 403 403 403 403 403 403 403 403 403 403 200 200", API + "/definitions/{imported}/draft/answers", json={"answers": {"Step_01": {"pelaksana": "administrasi"}}, "revision": 1}),
    R("POST", API + "/definitions/<key>/draft/questions/<question>/resolved", "401 403 403 403 403 403 403 403 403 403 403 200 200", API + "/definitions/{imported}/draft/questions/Step_01.pelaksana/resolved", json={"revision": 1}),
    R("GET", API + "/definitions/<key>/versions", "401 403 403 403 403 403 403 403 403 403 403 200 200", API + "/definitions/{key}/versions"),
    R("GET", API + "/definitions/<key>/versions/<int:version>", "401 403 403 403 403 403 403 403 403 403 403 200 200", API + "/definitions/{key}/versions/1"),
    R("GET", API + "/definitions/<key>/migrations", "401 403 403 403 403 403 403 403 403 403 403 200 200", API + "/definitions/{key}/migrations"),
    R("POST", API + "/definitions/<key>/migrations", "401 403 403 403 403 403 403 403 403 403 403 200 200", API + "/definitions/{key}/migrations", json={}),
]


@pytest.fixture(autouse=True)
def cheap_hashes_and_pdfs(monkeypatch):
    monkeypatch.setattr("engine.bootstrap.generate_password_hash", cheap_password_hash)
    monkeypatch.setattr("engine.accounts.generate_password_hash", cheap_password_hash)
    monkeypatch.setattr("web.sop_document.render_pdf", lambda html: b"%PDF-stub")
    monkeypatch.setattr("web.reports.render_pdf", lambda html: b"%PDF-stub")


class World:
    """The starting state: a SQLite file (and its copy to restore), the app, ids and tokens."""

    def __init__(self, tmp_path: Path):
        self.db = tmp_path / "alur.db"
        self.copy = tmp_path / "alur.db.start"
        clock = ManualClock(MONDAY_MORNING)
        self.rt = Runtime(Settings.from_env(database_url=f"sqlite:///{self.db}", data_dir=tmp_path / "data"),
                          clock=clock)
        rt = self.rt
        bootstrap.init(rt, demo=True)
        # An aptika instance whose step 1 came due: an alert for kepala.aptika.
        late = services.start(rt, KEY, "aptika", "Terlambat", "sekretaris", "2026-Q1")
        [due] = services.show(rt, late)["current_steps"]
        clock.set(datetime.fromisoformat(due["due_at"]) + timedelta(minutes=1))
        Scheduler(rt, deliver=False).run_pass()
        [alert] = alerts.alerts(rt, "kepala.aptika")
        opened = services.start(rt, KEY, "aptika", "Terbuka", "sekretaris", "2026-Q1")
        held = services.start(rt, KEY, "aptika", "Diklaim", "sekretaris", "2026-Q1")
        held_task = services.show(rt, held)["current_steps"][0]["id"]
        services.claim(rt, held_task, "aptika.implementasi")
        with_doc = services.start(rt, KEY, "aptika", "Berdokumen", "sekretaris", "2026-Q1")
        doc_task = services.show(rt, with_doc)["current_steps"][0]["id"]
        services.claim(rt, doc_task, "aptika.implementasi")
        services.complete(rt, doc_task, "aptika.implementasi", STEP_DATA[1],
                          files={"dokumen_rencana": ("rencana.pdf", PDF)})
        [document] = queries.instance_view(rt, with_doc, "admin")["documents"]
        filter_id = worklist.save_filter(rt, "aptika.implementasi", "Milik saya", {"step": "1"}, shared=False)
        self.bpmn = editor.version_source(rt, KEY, 1, "admin")["bpmn_xml"]
        newest = self.bpmn + "<!-- versi 2 -->\n"
        editor.save_draft(rt, KEY, "pemilik.proses", newest)
        editor.deploy_draft(rt, KEY, "pemilik.proses")  # version 2: an activity on it cannot go back to 1
        newer = services.start(rt, KEY, "aptika", "Versi baru", "sekretaris", "2026-Q1")
        editor.save_draft(rt, KEY, "pemilik.proses", newest)
        # An imported table whose step 1 has no actor marked: one open question on the draft.
        table = _csv([HEADER_TOP, HEADER_SUB, _row(1, "Menerima berkas", None),
                      _row(2, "Memproses berkas", "Tim Teknis", waktu="1 Jam")])
        imported = editor.import_source(rt, "pemilik.proses", "impor.csv", table, key="monev_impor")
        assert [q["id"] for q in imported["questions"]] == ["Step_01.pelaksana"]
        self.files = {"bpmn": self.bpmn.replace(f'id="{KEY}"', 'id="proses_lain"').encode(), "table": table}
        self.tokens = {column: token_for(rt, login) for column, login in USERS.items() if login}
        self.user_ids = {column: user_id(rt, login) for column, login in USERS.items() if login}
        self.ids = {"key": KEY, "version": 1, "open": opened, "held": held, "alert": alert["id"],
                    "t_open": services.show(rt, opened)["current_steps"][0]["id"], "t_held": held_task,
                    "doc": document["id"], "filter": filter_id, "imported": imported["key"], "newer": newer}
        self.rt.engine.dispose()
        shutil.copyfile(self.db, self.copy)
        self.app = create_app(runtime=rt, testing=True)
        self.app.config["WTF_CSRF_ENABLED"] = False  # CSRF has its own tests; here only roles matter

    def restore(self) -> None:
        self.rt.engine.dispose()
        shutil.copyfile(self.copy, self.db)

    def request(self, row: Row, column: str):
        client = self.app.test_client()
        headers = {}
        if column != "anon":
            if row.rule.startswith(API):
                headers["Authorization"] = f"Bearer {self.tokens[column]}"
            else:
                with client.session_transaction() as session:
                    session["_user_id"] = session_id(self.rt, self.user_ids[column])
                    session["_fresh"] = True
        kwargs: dict[str, Any] = {"headers": headers}
        if row.json is not None:
            kwargs["json"] = row.json
        if row.data is not None or row.files:
            form = dict(row.data or {})
            form.update({name: (io.BytesIO(self.files[content]), filename)
                         for name, (filename, content) in row.files.items()})
            kwargs["data"] = form
            if row.files:
                kwargs["content_type"] = "multipart/form-data"
        return client.open(row.path(self.ids), method=row.method, **kwargs)


def only_logged(before: dict, after: dict, kind: str | None) -> bool:
    """Whether the one change is a history row of that kind (and the history chain's head)."""
    if kind is None or changes(before, after) != ["table event", "table event_chain"]:
        return False
    old, new = before["tables"]["event"], after["tables"]["event"]
    column = [c.name for c in Event.__table__.columns].index("kind")
    return len(new) == len(old) + 1 and [row[column] for row in new if row not in old] == [kind]


def user_id(rt, login: str) -> int:
    with rt.uow() as session:
        return session.scalars(select(User.id).where(User.login == login)).one()


def app_rules(app) -> set[tuple[str, str]]:
    return {(method, rule.rule) for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_against_every_role(tmp_path):
    world = World(tmp_path)
    table = {(row.method, row.rule) for row in MATRIX}
    assert len(table) == len(MATRIX), "a rule is in the table twice"
    missing, stale = app_rules(world.app) - table, table - app_rules(world.app)
    assert not missing, f"routes without a row in the permission matrix: {sorted(missing)}"
    assert not stale, f"rows for routes the app does not have: {sorted(stale)}"
    wrong, changed = [], []
    cells = 0
    for row in MATRIX:
        expected = row.expect.split()
        assert len(expected) == len(COLUMNS), f"{row.method} {row.rule}: {len(expected)} cells"
        for column, want in zip(COLUMNS, expected):
            unsafe = row.method not in ("GET", "HEAD")
            before = stored(world.rt) if unsafe else None
            status = world.request(row, column).status_code
            cells += 1
            after = stored(world.rt) if unsafe else None
            if unsafe and status >= 400 and (differ := changes(before, after)) \
                    and not only_logged(before, after, REFUSAL_LOGGED.get((row.method, row.rule))):
                changed.append(f"{row.method} {row.rule} as {column} ({status}) changed {differ}")
            if unsafe:
                world.restore()
            if str(status) != want:
                wrong.append(f"{row.method} {row.rule} as {column}: expected {want}, got {status}")
    world.rt.dispose()
    assert cells == len(MATRIX) * len(COLUMNS)
    assert not wrong, "\n".join(wrong)
    assert not changed, "\n".join(changed)
