"""Claiming, completing and who may do what: conflicts, permissions, invalid data."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from engine import services, worklist
from engine.db import Document, Event, Instance
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.runtime import Runtime
from process import changes
from process.loader import load_file
from tests.integration.sop import STEP_DATA, do_step, open_task

KEY = "monev_kegiatan_bidang"


@pytest.fixture
def instance_id(rt):
    return services.start(rt, KEY, "aptika", "Layanan email dinas", "aptika.implementasi")


def snapshot(rt, instance_id):
    with rt.uow() as session:
        instance = session.get(Instance, instance_id)
        events = session.scalars(select(Event.kind).where(Event.instance_id == instance_id)).all()
        return instance.version, instance.workflow_json, instance.state, list(events)


def test_invalid_or_missing_form_data_is_refused_and_nothing_changes(rt, instance_id):
    task = open_task(rt, instance_id)
    services.claim(rt, task["id"], "aptika.implementasi")
    before = snapshot(rt, instance_id)
    bad = [
        {},                                                              # required fields missing
        {**STEP_DATA[1], "tanggal_mulai": "2 Maret"},                    # not a date
        {**STEP_DATA[1], "tidak_ada": "x"},                              # unknown field
        {**STEP_DATA[1], "dokumen_rencana": "999"},                      # a document that does not exist
        [1, 2],                                                          # not a mapping (the CLI's --data)
        "rencana",
    ]
    expected_field = ["rencana_kegiatan", "tanggal_mulai", "tidak_ada", "dokumen_rencana", "data", "data"]
    for data, field in zip(bad, expected_field):
        with pytest.raises(InvalidData) as err:
            services.complete(rt, task["id"], "aptika.implementasi", data)
        assert field in err.value.errors
    assert snapshot(rt, instance_id) == before
    assert open_task(rt, instance_id)["id"] == task["id"]
    with rt.uow() as session:
        assert session.scalars(select(Document)).all() == []


def test_a_file_field_with_a_file_of_the_wrong_field_is_refused(rt, instance_id):
    task = open_task(rt, instance_id)
    services.claim(rt, task["id"], "aptika.implementasi")
    with pytest.raises(InvalidData) as err:
        services.complete(rt, task["id"], "aptika.implementasi", STEP_DATA[1],
                          files={"rencana_kegiatan": ("a.txt", b"x")})
    assert "rencana_kegiatan" in err.value.errors


def test_a_refused_file_does_not_hide_the_forms_other_mistakes(rt, instance_id):
    """One answer names every mistake: a page cannot keep a chosen file, so a mistake told only after
    the file was fixed means choosing every file again once more."""
    task = open_task(rt, instance_id)
    services.claim(rt, task["id"], "aptika.implementasi")
    wrong_dates = {**STEP_DATA[1], "tanggal_selesai": "2026-03-01"}  # before tanggal_mulai
    with pytest.raises(InvalidData) as err:
        services.complete(rt, task["id"], "aptika.implementasi", wrong_dates,
                          files={"dokumen_rencana": ("rencana.exe", b"MZ\x90\x00\x03\x00" * 20)})
    assert set(err.value.errors) == {"dokumen_rencana", "tanggal_selesai"}
    # Nothing was kept of the refused attempt.
    with rt.uow() as session:
        assert session.scalars(select(Document)).all() == []
    assert open_task(rt, instance_id)["id"] == task["id"]


@pytest.mark.parametrize("order", ["too_large_first", "too_large_last"])
def test_a_file_too_large_is_413_whatever_else_is_refused_and_in_whatever_order(rt, instance_id, monkeypatch, order):
    """Every refused file is named in one answer; one too large makes it 413, as it would alone, not
    422 because a part refused otherwise happened to come first in the request."""
    from dataclasses import replace
    from engine.errors import TooLarge
    monkeypatch.setattr(rt, "settings", replace(rt.settings, max_upload_bytes=64))
    task = open_task(rt, instance_id)
    services.claim(rt, task["id"], "aptika.implementasi")
    parts = [("dokumen_rencana", ("rencana.pdf", b"%PDF-1.4 " + b"x" * 200)), ("bukan_berkas", ("a.pdf", b"%PDF-1.4"))]
    files = dict(parts if order == "too_large_first" else parts[::-1])
    with pytest.raises(TooLarge) as err:
        services.complete(rt, task["id"], "aptika.implementasi", STEP_DATA[1], files=files)
    assert err.value.status == 413 and set(err.value.errors) == {"dokumen_rencana", "bukan_berkas"}


def test_uploaded_document_is_stored_and_referenced(rt, instance_id):
    task = open_task(rt, instance_id)
    services.claim(rt, task["id"], "aptika.implementasi")
    # An emoji built with zero-width joiners is a name, not a hidden trick (only bidi controls are).
    services.complete(rt, task["id"], "aptika.implementasi", STEP_DATA[1],
                      files={"dokumen_rencana": ("rencana tim 👨‍💻.pdf", b"%PDF rencana")})
    with rt.uow() as session:
        [document] = session.scalars(select(Document)).all()
        assert (document.filename, document.size, document.field) == ("rencana tim 👨‍💻.pdf", 12, "dokumen_rencana")
        document_id, sha = document.id, document.sha256
    history = services.show(rt, instance_id)["history"]
    completed = next(e for e in history if e["kind"] == "step_completed")
    assert completed["data"]["dokumen_rencana"] == str(document_id)
    assert (rt.settings.data_dir / "files" / sha[:2] / sha).read_bytes() == b"%PDF rencana"


def test_claim_conflicts(rt, instance_id):
    with rt.uow() as session:
        from engine.db import Membership, User
        colleague = User(login="aptika.implementasi2", name="Rekan", bidang_code="aptika",
                         roles=[Membership(role="implementasi")])
        session.add(colleague)
        session.commit()
    task = open_task(rt, instance_id)
    services.claim(rt, task["id"], "aptika.implementasi")
    with pytest.raises(Conflict, match="sudah diklaim oleh aptika.implementasi"):
        services.claim(rt, task["id"], "aptika.implementasi2")
    with pytest.raises(Conflict):
        services.complete(rt, task["id"], "aptika.implementasi2", STEP_DATA[1])
    with pytest.raises(Conflict):
        services.unclaim(rt, task["id"], "aptika.implementasi2")
    services.unclaim(rt, task["id"], "aptika.implementasi")
    services.claim(rt, task["id"], "aptika.implementasi2")
    services.complete(rt, task["id"], "aptika.implementasi2", STEP_DATA[1])
    with pytest.raises(Conflict, match="sudah selesai oleh aptika.implementasi2"):
        services.complete(rt, task["id"], "aptika.implementasi2", STEP_DATA[1])
    with pytest.raises(Conflict):
        services.claim(rt, task["id"], "aptika.implementasi")


def test_a_stale_version_is_a_conflict(rt, instance_id):
    task = open_task(rt, instance_id)
    services.claim(rt, task["id"], "aptika.implementasi")          # bumps the row version
    with pytest.raises(Conflict, match="berubah"):
        services.complete(rt, task["id"], "aptika.implementasi", STEP_DATA[1], expected_version=task["version"])
    fresh = open_task(rt, instance_id)
    services.complete(rt, task["id"], "aptika.implementasi", STEP_DATA[1], expected_version=fresh["version"])


def test_a_claim_retried_with_the_version_it_was_sent_with_stands(rt, instance_id):
    """A client whose claim's answer was lost sends it again, with the version it had: that was 409,
    as if someone else had moved the task. Its own claim stands: the same answer, nothing written."""
    task = open_task(rt, instance_id)
    first = services.claim(rt, task["id"], "aptika.implementasi", task["version"])
    assert services.claim(rt, task["id"], "aptika.implementasi", task["version"]) == first
    assert snapshot(rt, instance_id)[3].count("claimed") == 1
    assert open_task(rt, instance_id)["version"] == first["version"] == task["version"] + 1
    with rt.uow() as session:
        from engine.db import Membership, User
        session.add(User(login="aptika.implementasi2", name="Rekan", bidang_code="aptika",
                         roles=[Membership(role="implementasi")]))
        session.commit()
    with pytest.raises(Conflict, match="sudah diklaim oleh aptika.implementasi"):  # a colleague's: still refused
        services.claim(rt, task["id"], "aptika.implementasi2", first["version"])


def test_completing_without_claiming_is_refused(rt, instance_id):
    task = open_task(rt, instance_id)
    with pytest.raises(Conflict, match="klaim"):
        services.complete(rt, task["id"], "aptika.implementasi", STEP_DATA[1])


@pytest.mark.parametrize("login", ["ikp.implementasi", "aptika.teknis", "sekretaris", "kepala.aptika"])
def test_only_the_lane_role_in_that_bidang_may_claim(rt, instance_id, login):
    task = open_task(rt, instance_id)
    with pytest.raises(Forbidden):
        services.claim(rt, task["id"], login)
    assert [t["id"] for t in worklist.tasks(rt, login)] == []
    assert [t["id"] for t in worklist.tasks(rt, "aptika.implementasi")] == [task["id"]]


def test_the_sekretaris_lane_serves_every_bidang(rt):
    ids = [services.start(rt, KEY, bidang, f"Kegiatan {bidang}") for bidang in ("aptika", "ikp")]
    for instance_id, bidang in zip(ids, ("aptika", "ikp")):
        for step in (1, 2, 3, 4):
            do_step(rt, instance_id, step, bidang=bidang)
        do_step(rt, instance_id, 5, {"terverifikasi": True}, bidang=bidang)
        for step in (6, 7, 8):
            do_step(rt, instance_id, step, bidang=bidang)
    offered = worklist.tasks(rt, "sekretaris")
    assert sorted((t["step"], t["bidang"]) for t in offered) == [(9, "aptika"), (9, "ikp")]
    with pytest.raises(Forbidden):
        services.claim(rt, offered[0]["id"], "aptika.implementasi")
    assert services.claim(rt, offered[0]["id"], "sekretaris")["assignee"] == "sekretaris"


def test_concurrent_completions_apply_exactly_once(settings, clock, rt, instance_id):
    task = open_task(rt, instance_id)
    services.claim(rt, task["id"], "aptika.implementasi")
    outcomes, barrier = [], threading.Barrier(4)

    def attempt():
        runtime = Runtime(settings, clock=clock)
        barrier.wait()
        try:
            services.complete(runtime, task["id"], "aptika.implementasi", STEP_DATA[1])
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        finally:
            runtime.dispose()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "ok"]
    history = services.show(rt, instance_id)["history"]
    assert [e["step"] for e in history if e["kind"] == "step_completed"] == [1]
    assert [t["step"] for t in worklist.tasks(rt, instance_id=instance_id)] == [2]


def test_concurrent_claims_give_the_task_to_exactly_one(settings, clock, rt, instance_id):
    with rt.uow() as session:
        from engine.db import Membership, User
        for i in range(3):
            session.add(User(login=f"impl{i}", name="x", bidang_code="aptika", roles=[Membership(role="implementasi")]))
        session.commit()
    task = open_task(rt, instance_id)
    winners, barrier = [], threading.Barrier(3)

    def attempt(login):
        runtime = Runtime(settings, clock=clock)
        barrier.wait()
        try:
            services.claim(runtime, task["id"], login)
            winners.append(login)
        except Conflict:
            pass
        finally:
            runtime.dispose()

    threads = [threading.Thread(target=attempt, args=(f"impl{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    assert open_task(rt, instance_id)["assignee"] == winners[0]


def test_deploy_stores_a_new_version_only_when_content_changed(rt, tmp_path):
    definition = load_file(rt.settings.definitions_dir / f"{KEY}.bpmn")
    again = services.deploy(rt, definition, "pemilik.proses")
    assert (again.version, again.created) == (1, False)
    bpmn = definition.bpmn_xml.replace('name="7 Hari" cancelActivity="false" attachedToRef="Step_11"',
                                       'name="5 Hari" cancelActivity="false" attachedToRef="Step_11"')
    bpmn = bpmn.replace("<bpmn:timeDuration xsi:type=\"bpmn:tFormalExpression\">P7D</bpmn:timeDuration>\n"
                        "      </bpmn:timerEventDefinition>\n    </bpmn:boundaryEvent>\n    <bpmn:userTask id=\"Step_12\"",
                        "<bpmn:timeDuration xsi:type=\"bpmn:tFormalExpression\">P5D</bpmn:timeDuration>\n"
                        "      </bpmn:timerEventDefinition>\n    </bpmn:boundaryEvent>\n    <bpmn:userTask id=\"Step_12\"")
    assert bpmn != definition.bpmn_xml
    (tmp_path / f"{KEY}.bpmn").write_text(bpmn)
    (tmp_path / f"{KEY}.yaml").write_text(definition.yaml_text)
    changed = services.deploy(rt, load_file(tmp_path / f"{KEY}.bpmn"), "pemilik.proses")
    assert (changed.version, changed.created) == (2, True)
    from engine.db import DefinitionVersion
    with rt.uow() as session:
        summary = session.scalars(select(DefinitionVersion.summary).where(DefinitionVersion.version == 2)).one()
    assert "Langkah 11: waktu baku 7 Hari menjadi 5 Hari" in changes.read(summary)


@pytest.mark.parametrize("size,text", [(500, "500 byte"), (4096, "4 KB"), (1536, "1.5 KB"),
                                       (1572864, "1.5 MB"), (20 * 1024 * 1024 + 1, "20 MB")])
def test_a_size_limit_reads_as_what_it_is_never_more(size, text):
    from engine.documents import size_text
    assert size_text(size) == text


def _save(rt, login, bidang, roles, active=True):
    from engine import accounts
    return accounts.save_user(rt, "admin", login, "Rekan", bidang, roles, password="rahasia-123", active=active)


def test_deactivating_a_user_returns_their_claimed_tasks_to_the_lane(rt, instance_id):
    """Otherwise the step waits on someone who can no longer sign in, and colleagues get 409."""
    _save(rt, "aptika.implementasi2", "aptika", ["implementasi"])
    task = open_task(rt, instance_id)
    services.claim(rt, task["id"], "aptika.implementasi2")
    saved = _save(rt, "aptika.implementasi2", "aptika", ["implementasi"], active=False)
    assert saved["released"] == [task["id"]]
    assert open_task(rt, instance_id)["assignee"] is None
    with rt.uow() as session:
        last = session.scalars(select(Event).where(Event.instance_id == instance_id).order_by(Event.seq.desc())).first()
    assert (last.kind, last.actor, last.data) == ("unclaimed", "admin", {"from": "aptika.implementasi2"})
    services.claim(rt, task["id"], "aptika.implementasi")  # a colleague takes it at once
    services.complete(rt, task["id"], "aptika.implementasi", STEP_DATA[1])


def test_a_user_moved_out_of_the_lane_or_bidang_loses_only_the_claims_they_may_no_longer_take(rt, instance_id):
    _save(rt, "aptika.implementasi2", "aptika", ["implementasi", "teknis"])
    task = open_task(rt, instance_id)
    services.claim(rt, task["id"], "aptika.implementasi2")
    assert _save(rt, "aptika.implementasi2", "aptika", ["implementasi"])["released"] == []  # still in the lane
    assert open_task(rt, instance_id)["assignee"] == "aptika.implementasi2"
    assert _save(rt, "aptika.implementasi2", "ikp", ["implementasi"])["released"] == [task["id"]]
    assert open_task(rt, instance_id)["assignee"] is None


def test_only_the_kepala_dinas_reassigns_a_sekretaris_step_of_a_bidangs_activity(rt, instance_id):
    """The office's escalation rules give the Sekretaris lane's late steps to the Kepala Dinas, not to
    the Kepala Bidang whose activity it is: reassigning follows the same rules."""
    for step in range(1, 9):
        do_step(rt, instance_id, step, {"terverifikasi": True, "catatan": ""} if step == 5 else None)
    task = open_task(rt, instance_id)
    assert task["lane"] == "sekretaris"
    _save(rt, "sekretaris2", None, ["sekretaris"])
    with pytest.raises(Forbidden) as refused:
        worklist.reassign(rt, task["id"], "kepala.aptika", "sekretaris2")
    assert str(refused.value) == "hanya Kepala Dinas yang boleh mengalihkan tugas ini"
    assert worklist.reassign(rt, task["id"], "kadis", "sekretaris2")["assignee"] == "sekretaris2"
    first = services.start(rt, KEY, "aptika", "Langkah bidang", "aptika.implementasi")
    bidang_task = open_task(rt, first)
    with pytest.raises(Forbidden) as refused:
        worklist.reassign(rt, bidang_task["id"], "kepala.ikp", "aptika.implementasi")
    assert str(refused.value) == "hanya Kepala Bidang (Bidang Aplikasi Informatika) atau Kepala Dinas yang boleh mengalihkan tugas ini"
    assert worklist.reassign(rt, bidang_task["id"], "kepala.aptika", "aptika.implementasi")["assignee"] \
        == "aptika.implementasi"


def test_an_office_whose_rules_name_no_supervisor_refuses_reassigning_with_a_reason(rt, instance_id):
    from dataclasses import replace

    from engine.escalation_config import EscalationConfig
    rules = EscalationConfig.from_yaml("levels:\n  1: {bidang: null, office: null}\n  2: {bidang: null, office: null}\n")
    rt.escalation = replace(rt.escalation, levels=rules.levels)
    task = open_task(rt, instance_id)
    with pytest.raises(Forbidden) as refused:
        worklist.reassign(rt, task["id"], "kadis", "aptika.implementasi")
    assert str(refused.value) == "hanya pengawas yang disebut aturan eskalasi yang boleh mengalihkan tugas ini"


def test_drafts_of_closed_tasks_are_removed_by_the_scheduler_and_open_ones_kept(rt, clock, instance_id):
    """A draft nobody can submit would only keep unsent text in the database and its backups."""
    from engine import queries
    from engine.db import TaskDraft
    from engine.scheduler import TIDY_EVERY, Scheduler

    scheduler = Scheduler(rt, deliver=False)

    done = open_task(rt, instance_id)
    services.claim(rt, done["id"], "aptika.implementasi")
    queries.save_draft(rt, done["id"], "aptika.implementasi", {"rencana_kegiatan": "separuh"})
    services.complete(rt, done["id"], "aptika.implementasi", STEP_DATA[1])
    other = services.start(rt, KEY, "aptika", "Masih terbuka", "aptika.implementasi")
    still_open = open_task(rt, other)
    services.claim(rt, still_open["id"], "aptika.implementasi")
    queries.save_draft(rt, still_open["id"], "aptika.implementasi", {"rencana_kegiatan": "belum"})

    def drafts():
        with rt.uow() as session:
            return [(d.task_id, d.data) for d in session.scalars(select(TaskDraft).order_by(TaskDraft.saved_at))]
    scheduler.run_pass()
    assert len(drafts()) == 2  # not on every pass
    clock.advance(seconds=TIDY_EVERY.total_seconds())
    scheduler.run_pass()
    assert drafts() == [(still_open["id"], {"rencana_kegiatan": "belum"})]


def test_a_draft_drops_what_is_not_the_steps_before_measuring_it(rt, instance_id):
    """A long value under a name the step does not have was refused with the draft; it is dropped
    like any other unknown name, and the step's own fields are kept (or measured)."""
    from engine import queries
    from process.forms import MAX_TEXT_LENGTH

    task = open_task(rt, instance_id)
    services.claim(rt, task["id"], "aptika.implementasi")
    queries.save_draft(rt, task["id"], "aptika.implementasi",
                       {"rencana_kegiatan": "separuh", "bukan_isian": "x" * (MAX_TEXT_LENGTH + 1)})
    assert queries.task_view(rt, task["id"], "aptika.implementasi")["draft"] == {"rencana_kegiatan": "separuh"}
    with pytest.raises(InvalidData) as refused:
        queries.save_draft(rt, task["id"], "aptika.implementasi", {"rencana_kegiatan": "x" * (MAX_TEXT_LENGTH + 1)})
    assert set(refused.value.errors) == {"rencana_kegiatan"}
    assert queries.task_view(rt, task["id"], "aptika.implementasi")["draft"] == {"rencana_kegiatan": "separuh"}


def sent_back_to_step_three(rt, clock, instance_id, note: str = "Jumlah penerima belum sesuai daftar hadir"):
    """Run the activity to verification with a report at step 3, and answer "not verified" with a note."""
    for step in (1, 2):
        do_step(rt, instance_id, step)
    task = open_task(rt, instance_id)
    services.claim(rt, task["id"], "aptika.implementasi")
    services.complete(rt, task["id"], "aptika.implementasi", STEP_DATA[3],
                      files={"laporan_kegiatan": ("laporan.pdf", b"%PDF-1.4 laporan")})
    do_step(rt, instance_id, 4)
    clock.advance(hours=2)
    do_step(rt, instance_id, 5, {"terverifikasi": False, "catatan": note})
    return open_task(rt, instance_id)


def test_a_step_sent_back_says_who_sent_it_back_why_and_what_was_sent_before(rt, clock, instance_id):
    """The verification sending the report back opened step 3 again with an empty form and no word of
    why: the note was only in the activity's history. The task says who sent it back, when, from
    which step and with what answers, and what was submitted the last time (documents aside)."""
    from engine import queries

    first = queries.task_view(rt, open_task(rt, instance_id)["id"], "aptika.implementasi")
    assert first["sent_back"] is None and first["previous"] == {}  # a first pass: nothing to say

    task = sent_back_to_step_three(rt, clock, instance_id)
    assert task["step"] == 3
    view = queries.task_view(rt, task["id"], "aptika.implementasi")
    assert view["sent_back"] == {
        "by": "aptika.teknis", "at": (clock.now()).isoformat(), "step": 5,
        "name": "Apakah hasil kegiatan dan layanan bidang terverifikasi?",
        "answers": [{"name": "terverifikasi", "label": "Hasil kegiatan dan layanan terverifikasi?",
                     "type": "boolean", "value": False},
                    {"name": "catatan", "label": "Catatan verifikasi", "type": "text",
                     "value": "Jumlah penerima belum sesuai daftar hadir"}]}
    assert view["previous"] == STEP_DATA[3]  # the report's document is not put back in the form
    assert view["draft"] == {}

    services.claim(rt, task["id"], "aptika.implementasi")  # a draft is kept apart: the page prefers it
    queries.save_draft(rt, task["id"], "aptika.implementasi", {"hasil_kegiatan": "Diperbaiki"})
    view = queries.task_view(rt, task["id"], "aptika.implementasi")
    assert view["draft"] == {"hasil_kegiatan": "Diperbaiki"} and view["previous"] == STEP_DATA[3]

    # The steps after it run again in their turn, not sent back: they start empty (the verifier's
    # earlier "no" is not offered again to be sent by mistake).
    do_step(rt, instance_id, 3, {"hasil_kegiatan": "Diperbaiki", "jumlah_penerima_manfaat": 118})
    for step in (4, 5):
        again = queries.task_view(rt, open_task(rt, instance_id)["id"], "aptika.teknis")
        assert again["task"]["step"] == step and again["sent_back"] is None and again["previous"] == {}
        do_step(rt, instance_id, step, {"terverifikasi": True} if step == 5 else None)
    six = open_task(rt, instance_id)  # opened by the decision, done once: never sent back, open or done
    do_step(rt, instance_id, 6)
    assert queries.task_view(rt, six["id"], "aptika.administrasi")["sent_back"] is None


def test_the_worklist_says_which_steps_were_sent_back(rt, clock, instance_id):
    """A step sent back at verification looked like any other open task on the worklist. Its row says
    so (`sent_back`); a first pass and the steps after it that run again in their turn do not."""
    def row(login: str) -> dict:
        [task] = worklist.tasks(rt, login, instance_id=instance_id)
        return task

    assert row("aptika.implementasi")["sent_back"] is False
    sent_back_to_step_three(rt, clock, instance_id)
    assert row("aptika.implementasi")["sent_back"] is True
    clock.advance(hours=1)
    do_step(rt, instance_id, 3, {"hasil_kegiatan": "Diperbaiki", "jumlah_penerima_manfaat": 118})
    assert row("aptika.teknis")["step"] == 4 and row("aptika.teknis")["sent_back"] is False


def test_a_task_held_by_a_deactivated_user_goes_back_within_the_hour(rt, clock, instance_id):
    """A task can be left held by someone who may no longer take it without `save_user` seeing it
    (an account changed in the database by hand, say). The scheduler's hourly tidy-up gives it back."""
    from engine import accounts
    from engine.db import User
    from engine.scheduler import TIDY_EVERY, Scheduler

    _save(rt, "aptika.implementasi2", "aptika", ["implementasi"])
    kept = open_task(rt, services.start(rt, KEY, "aptika", "Tetap diklaim", "aptika.implementasi"))
    services.claim(rt, kept["id"], "aptika.implementasi")  # a claim that stays right
    task = open_task(rt, instance_id)
    services.claim(rt, task["id"], "aptika.implementasi2")
    with rt.uow() as session:
        session.scalars(select(User).where(User.login == "aptika.implementasi2")).one().active = False
        session.commit()
    assert open_task(rt, instance_id)["assignee"] == "aptika.implementasi2"

    scheduler = Scheduler(rt, deliver=False)
    scheduler.run_pass()
    assert open_task(rt, instance_id)["assignee"] == "aptika.implementasi2"  # not on every pass
    clock.advance(seconds=TIDY_EVERY.total_seconds())
    scheduler.run_pass()
    assert open_task(rt, instance_id)["assignee"] is None
    assert open_task(rt, kept["instance_id"])["assignee"] == "aptika.implementasi"
    with rt.uow() as session:
        given_back = session.execute(select(Event.actor, Event.data).where(
            Event.instance_id == instance_id, Event.kind == "unclaimed")).all()
    assert given_back == [(None, {"from": "aptika.implementasi2"})]
    assert accounts.release_stranded_claims(rt) == []  # nothing twice


def _paused(monkeypatch, module, name):
    """`module.name` made to stop after it ran, inside its caller's transaction, until let go:
    (reached, go_on) events."""
    reached, go_on, real = threading.Event(), threading.Event(), getattr(module, name)

    def run_then_wait(*args, **kwargs):
        result = real(*args, **kwargs)
        reached.set()
        go_on.wait(10)
        return result
    monkeypatch.setattr(module, name, run_then_wait)
    return reached, go_on


def _in_thread(target, *args):
    """target(*args) started in a thread: (thread, outcome), outcome holding its result or error."""
    outcome = {}

    def run():
        try:
            outcome["result"] = target(*args)
        except Exception as err:  # noqa: BLE001 - handed to the test
            outcome["error"] = err
    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_a_claim_in_the_instant_its_claimant_is_deactivated_is_given_back_by_the_save(rt, settings, clock,
                                                                                     instance_id, monkeypatch):
    """The claim holds its claimant's row until it commits, so the save that deactivates them waits
    and then sees the claim, and gives the task back at once. (On SQLite the claim holds the
    write lock, which the save waits for just the same.)"""
    from engine import services as service_module

    _save(rt, "aptika.implementasi2", "aptika", ["implementasi"])
    task = open_task(rt, instance_id)
    claimed, go_on = _paused(monkeypatch, service_module, "log")  # the claim's last write before its commit
    claimant = Runtime(settings, clock=clock)
    try:
        claim, claim_outcome = _in_thread(services.claim, claimant, task["id"], "aptika.implementasi2")
        assert claimed.wait(10)
        save, save_outcome = _in_thread(_save, rt, "aptika.implementasi2", "aptika", ["implementasi"], False)
        save.join(0.5)
        assert save.is_alive()  # waiting for the claim
        go_on.set()
        claim.join(15)
        save.join(15)
    finally:
        go_on.set()
        claimant.dispose()
    assert claim_outcome["result"]["assignee"] == "aptika.implementasi2"
    assert save_outcome["result"]["released"] == [task["id"]]
    assert open_task(rt, instance_id)["assignee"] is None


def _reassign_to(rt, task_id, login):
    return worklist.reassign(rt, task_id, "kepala.aptika", login)


@pytest.mark.parametrize("command", [services.claim, _reassign_to], ids=["claim", "reassign"])
@pytest.mark.parametrize("change", [
    {"active": False},
    {"roles": ["teknis"]},  # moved out of the lane
    {"bidang": "ikp"},  # moved out of the Bidang
])
def test_a_claim_in_the_instant_its_claimant_is_moved_out_waits_and_is_refused(rt, settings, clock, instance_id,
                                                                               monkeypatch, change, command):
    """The save holds the user's row until it commits; a claim (or a supervisor's reassign to that
    user) made meanwhile waits, then reads the user as saved and is refused: the task is never held
    by someone who may not take it."""
    from engine import accounts

    _save(rt, "aptika.implementasi2", "aptika", ["implementasi"])
    task = open_task(rt, instance_id)
    saved, go_on = _paused(monkeypatch, accounts, "_release_claims")  # the save's last step before its commit
    claimant = Runtime(settings, clock=clock)
    try:
        wanted = {"bidang": "aptika", "roles": ["implementasi"], "active": True, **change}
        save, save_outcome = _in_thread(_save, rt, "aptika.implementasi2", wanted["bidang"], wanted["roles"],
                                        wanted["active"])
        assert saved.wait(10)
        claim, claim_outcome = _in_thread(command, claimant, task["id"], "aptika.implementasi2")
        claim.join(0.5)
        assert claim.is_alive()  # waiting for the save
        go_on.set()
        save.join(15)
        claim.join(15)
    finally:
        go_on.set()
        claimant.dispose()
    assert "error" not in save_outcome
    assert isinstance(claim_outcome.get("error"), (NotFound, Forbidden, InvalidData)), claim_outcome
    assert open_task(rt, instance_id)["assignee"] is None


def test_a_claim_given_up_while_the_user_is_saved_leaves_the_save_standing(rt, settings, clock, instance_id,
                                                                            monkeypatch):
    """The holder lets the step go (or completes it) between the administrator's read of their tasks and
    the write: the save goes through, nothing is released twice. (SQLite takes one writer at a time.)"""
    if rt.engine.dialect.name == "sqlite":
        pytest.skip("SQLite runs one writer at a time: the two commands cannot interleave")
    from engine import accounts
    _save(rt, "aptika.implementasi2", "aptika", ["implementasi"])
    task = open_task(rt, instance_id)
    services.claim(rt, task["id"], "aptika.implementasi2")
    other, may_take = Runtime(settings, clock=clock), accounts.may_take

    def unclaimed_meanwhile(account, row):
        if open_task(other, instance_id)["assignee"] is not None:
            services.unclaim(other, task["id"], "aptika.implementasi2")
        return may_take(account, row)
    monkeypatch.setattr(accounts, "may_take", unclaimed_meanwhile)
    try:
        saved = _save(rt, "aptika.implementasi2", "ikp", ["implementasi"])
    finally:
        other.dispose()
    assert saved["bidang"] == "ikp" and saved["released"] == []
    with rt.uow() as session:
        kinds = session.scalars(select(Event.kind).where(Event.instance_id == instance_id)).all()
    assert kinds.count("unclaimed") == 1


def test_reassigning_a_task_to_its_holder_changes_and_logs_nothing(rt, instance_id):
    task = open_task(rt, instance_id)
    services.claim(rt, task["id"], "aptika.implementasi")
    before = snapshot(rt, instance_id)
    again = worklist.reassign(rt, task["id"], "kepala.aptika", "aptika.implementasi")
    assert again["assignee"] == "aptika.implementasi" and again["version"] == open_task(rt, instance_id)["version"]
    assert snapshot(rt, instance_id) == before  # no "reassigned" entry from a holder to the same holder


def test_an_unclaim_or_reassign_retried_with_the_version_it_was_sent_with_changes_nothing(rt, instance_id):
    """As a retried claim: the first call moved the version, so its retry (the answer lost) was 409."""
    task = open_task(rt, instance_id)
    held = services.claim(rt, task["id"], "aptika.implementasi")
    released = services.unclaim(rt, task["id"], "aptika.implementasi", held["version"])
    again = services.unclaim(rt, task["id"], "aptika.implementasi", held["version"])
    assert again == {**released, "released": False}
    moved = worklist.reassign(rt, task["id"], "kepala.aptika", "aptika.implementasi", released["version"])
    again = worklist.reassign(rt, task["id"], "kepala.aptika", "aptika.implementasi", released["version"])
    assert again == {**moved, "moved": False}
    assert snapshot(rt, instance_id)[3][-3:] == ["claimed", "unclaimed", "reassigned"]


@pytest.mark.parametrize("title, period, field",
                         [("Rapat\x0bkoordinasi", "", "title"), ("Rapat", "Triwulan\x1bI", "period")])
def test_a_title_or_period_with_a_control_character_is_refused_as_step_text_is(rt, title, period, field):
    """A step's text refused control characters, the activity's title and period took them: one broke
    the XLSX recap of the whole office, and they reach the alert mail's subject."""
    with pytest.raises(InvalidData) as err:
        services.start(rt, KEY, "aptika", title, "aptika.implementasi", period)
    assert err.value.errors == {field: "memuat karakter kendali yang tidak diizinkan"}
    with rt.uow() as session:
        assert session.scalars(select(Instance)).all() == []
    # A line break or tab typed in a title is no control character the forms refuse either.
    assert services.start(rt, KEY, "aptika", "Rapat\tkoordinasi", "aptika.implementasi")
