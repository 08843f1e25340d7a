"""The event log is append-only and tamper-evident: `alur audit verify` names every change.

Tampering is done the way an intruder with database access would: with the
append-only triggers switched off, straight SQL on the tables.
"""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError

from engine import audit, events, schema, services
from engine.config import Settings
from engine.db import Event, EventChain
from engine.runtime import Runtime
from engine.errors import InvalidData
from tests.integration.sop import STEP_DATA, do_step, open_task, performer
from web.cli import EXIT_NOT_VERIFIED, main

KEY = "monev_kegiatan_bidang"


def start_with_steps(rt, title: str, steps: int = 2) -> int:
    instance_id = services.start(rt, KEY, "aptika", title, "aptika.implementasi")
    for step in range(1, steps + 1):
        do_step(rt, instance_id, step)
    return instance_id


def entries(rt, instance_id: int) -> list[Event]:
    with rt.uow() as session:
        return list(session.scalars(select(Event).where(Event.instance_id == instance_id).order_by(Event.id)))


@contextmanager
def triggers_off(rt):
    """A connection on which the append-only triggers do not fire (what an intruder would arrange)."""
    with rt.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            yield conn
        else:
            saved = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
            for name, _sql in saved:
                conn.execute(text(f"DROP TRIGGER {name}"))
            yield conn
            for _name, sql in saved:
                conn.execute(text(sql))


def test_a_log_written_by_the_engine_verifies_and_the_cli_says_so(rt, monkeypatch):
    first = start_with_steps(rt, "Layanan email dinas", steps=3)
    start_with_steps(rt, "Jaringan kantor", steps=1)
    verdict = audit.verify(rt)
    assert verdict.ok, verdict.problems
    assert verdict.instances == 2 and verdict.events == sum(len(entries(rt, i)) for i in (first, first + 1))
    chain = entries(rt, first)
    assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
    assert chain[0].prev_hash == events.GENESIS and all(b.prev_hash == a.hash for a, b in zip(chain, chain[1:]))

    monkeypatch.setenv("ALUR_DATABASE_URL", rt.settings.database_url)
    monkeypatch.setenv("ALUR_DATA_DIR", str(rt.settings.data_dir))
    result = CliRunner().invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"utuh: 2 kegiatan, {verdict.events} entri; digest {verdict.digest}" in result.output


def test_the_database_refuses_to_change_or_delete_an_entry(rt):
    instance_id = start_with_steps(rt, "Layanan email dinas", steps=1)
    entry = entries(rt, instance_id)[0]
    refused = [
        f"UPDATE event SET actor = 'someone' WHERE id = {entry.id}",
        f"DELETE FROM event WHERE id = {entry.id}",
        f"DELETE FROM event_chain WHERE instance_id = {instance_id}",
        f"UPDATE event_chain SET seq = 1 WHERE instance_id = {instance_id}",
    ]
    if rt.engine.dialect.name == "postgresql":
        refused += ["TRUNCATE event", "TRUNCATE event_chain CASCADE"]
    for statement in refused:
        with pytest.raises(DBAPIError, match="append-only|only moves forward"):
            with rt.engine.begin() as conn:
                conn.execute(text(statement))
    assert audit.verify(rt).ok
    assert entries(rt, instance_id)[0].actor == entry.actor


def test_every_kind_of_tampering_is_found_and_named(rt, monkeypatch):
    ids = {name: start_with_steps(rt, name) for name in
           ("edited", "middle deleted", "last deleted", "reordered", "all deleted", "log and head deleted",
            "rehashed last", "untouched")}
    chains = {name: entries(rt, i) for name, i in ids.items()}
    edited = chains["edited"][3]
    middle = chains["middle deleted"][2]
    a, b = chains["reordered"][1:3]
    last = chains["rehashed last"][-1]
    forged = events.entry_hash({"instance_id": last.instance_id, "seq": last.seq, "at": last.at, "actor": "kadis",
                                "kind": last.kind, "step": last.step, "task_id": last.task_id,
                                "data": last.data}, last.prev_hash)
    with triggers_off(rt) as conn:
        as_json = "CAST(:d AS JSON)" if conn.dialect.name == "postgresql" else ":d"
        conn.execute(text(f"UPDATE event SET data = {as_json} WHERE id = :i"),
                     {"d": '{"rencana_kegiatan": "lain"}', "i": edited.id})
        conn.execute(text("DELETE FROM event WHERE id = :i"), {"i": middle.id})
        conn.execute(text("DELETE FROM event WHERE id = :i"), {"i": chains["last deleted"][-1].id})
        conn.execute(text("UPDATE event SET id = -1 WHERE id = :i"), {"i": a.id})
        conn.execute(text("UPDATE event SET id = :a WHERE id = :b"), {"a": a.id, "b": b.id})
        conn.execute(text("UPDATE event SET id = :b WHERE id = -1"), {"b": b.id})
        conn.execute(text("DELETE FROM event WHERE instance_id = :i"), {"i": ids["all deleted"]})
        conn.execute(text("DELETE FROM event WHERE instance_id = :i"), {"i": ids["log and head deleted"]})
        conn.execute(text("DELETE FROM event_chain WHERE instance_id = :i"), {"i": ids["log and head deleted"]})
        conn.execute(text("UPDATE event SET actor = 'kadis', hash = :h WHERE id = :i"), {"h": forged, "i": last.id})

    verdict = audit.verify(rt)
    assert not verdict.ok
    report = "\n".join(verdict.problems)

    def about(name: str) -> str:
        return "\n".join(p for p in verdict.problems if p.startswith(f"kegiatan {ids[name]}:"))

    assert f"entri {edited.id} " in about("edited") and "isinya diubah" in about("edited")
    assert f"seharusnya seq {middle.seq}; entri sebelumnya hilang" in about("middle deleted")
    assert "1 entri terakhir dihapus" in about("last deleted")
    assert "urutannya tertukar" in about("reordered")
    assert f"seluruh {len(chains['all deleted'])} entri lognya hilang" in about("all deleted")
    assert "tidak punya log peristiwa" in about("log and head deleted")
    assert "bukan kepala rantai" in about("rehashed last")
    assert about("untouched") == "", report

    monkeypatch.setenv("ALUR_DATABASE_URL", rt.settings.database_url)
    monkeypatch.setenv("ALUR_DATA_DIR", str(rt.settings.data_dir))
    result = CliRunner().invoke(main, ["audit", "verify"])
    assert result.exit_code == EXIT_NOT_VERIFIED
    assert f"TIDAK UTUH, {len(verdict.problems)} masalah" in result.stdout
    assert result.stderr.splitlines() == verdict.problems


def test_commands_on_one_instance_extend_its_chain_and_a_failed_one_adds_nothing(rt):
    instance_id = start_with_steps(rt, "Layanan email dinas", steps=1)
    task = open_task(rt, instance_id)
    services.claim(rt, task["id"], "aptika.implementasi")
    with rt.uow() as session:
        before = session.get(EventChain, instance_id)
    with pytest.raises(InvalidData):
        services.complete(rt, task["id"], "aptika.implementasi", {"uraian_pelaksanaan": ""})
    with rt.uow() as session:
        assert session.get(EventChain, instance_id).seq == before.seq
    assert entries(rt, instance_id)[-1].seq == before.seq
    services.complete(rt, task["id"], "aptika.implementasi", STEP_DATA[2])
    chain = entries(rt, instance_id)
    assert chain[-1].seq > before.seq and chain[before.seq].prev_hash == before.head and audit.verify(rt).ok


def test_a_head_moved_by_another_process_is_read_not_guessed(rt, settings, clock):
    """Each process remembers the heads it wrote; a head another one moved since is read again."""
    other = Runtime(settings, clock=clock)  # a second process on the same database
    try:
        instance_id = start_with_steps(rt, "Layanan email dinas", steps=1)  # rt now remembers the head
        task = open_task(rt, instance_id)
        services.claim(other, task["id"], "aptika.implementasi")  # the head moves elsewhere
        services.complete(rt, task["id"], "aptika.implementasi", STEP_DATA[2])  # rt's guess is stale
        task = open_task(rt, instance_id)
        services.claim(other, task["id"], performer(task["step"], "aptika"))  # and again
        chain = entries(rt, instance_id)
        assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
        assert all(b.prev_hash == a.hash for a, b in zip(chain, chain[1:]))
        with rt.uow() as session:
            head = session.get(EventChain, instance_id)
        assert (head.seq, head.head) == (chain[-1].seq, chain[-1].hash)
        assert audit.verify(rt).ok
    finally:
        other.dispose()


def test_the_migration_chains_entries_written_before_it(database_url, tmp_path):
    """0008 on a database with history: the old entries are chained, and new ones follow them."""
    from alembic import command
    from engine import bootstrap
    rt = Runtime(Settings.from_env(database_url=database_url, data_dir=tmp_path / "data"))
    try:
        bootstrap.init(rt, demo=True)
        instance_id = start_with_steps(rt, "Layanan email dinas", steps=2)
        kinds = [e.kind for e in entries(rt, instance_id)]
        command.downgrade(schema.alembic_config(database_url), "0007")
        assert "hash" not in {c["name"] for c in inspect(rt.engine).get_columns("event")}
        assert "event_chain" not in inspect(rt.engine).get_table_names()
        schema.upgrade(rt.engine)
        assert [e.kind for e in entries(rt, instance_id)] == kinds
        assert audit.verify(rt).ok
        do_step(rt, instance_id, 3)
        assert audit.verify(rt).ok
    finally:
        rt.dispose()
