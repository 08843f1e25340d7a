"""Starting an activity is safe to retry: a start sent again with its retry key (the API's
Idempotency-Key, the start page's hidden field) answers the activity the first one started.

Runs on SQLite and PostgreSQL (the `database_url` fixture).
"""
from __future__ import annotations

import warnings

import pytest
from sqlalchemy import event, func, select

from engine import services
from engine.db import Event, Instance, RetryKey
from engine.errors import InvalidData, KeyReused
from tests.integration.together import at_once

KEY = "monev_kegiatan_bidang"
WHO = "aptika.implementasi"


def counts(rt) -> tuple[int, int, int]:
    with rt.uow() as session:
        return tuple(session.scalar(select(func.count()).select_from(table)) for table in (Instance, Event, RetryKey))


def start(rt, retry_key, title="Layanan email dinas", actor=WHO, period="2026-Q1") -> services.Started:
    return services.start_once(rt, KEY, "aptika", title, actor, period, retry_key=retry_key)


def test_the_same_key_again_answers_the_first_activity_and_writes_nothing(rt):
    first = start(rt, "kunci-1")
    assert first == services.Started(first.instance_id, again=False)
    written = counts(rt)
    assert written[0] == 1 and written[2] == 1
    assert start(rt, "kunci-1") == services.Started(first.instance_id, again=True)
    assert counts(rt) == written


def test_the_same_key_for_another_start_is_refused_and_nothing_is_written(rt):
    first = start(rt, "kunci-1")
    written = counts(rt)
    with pytest.raises(KeyReused) as err:
        start(rt, "kunci-1", title="Kegiatan lain")
    assert err.value.status == 422 and err.value.code == "idempotency_key_reused"
    assert err.value.errors == {"Idempotency-Key": f"sudah dipakai untuk kegiatan {first.instance_id}"}
    assert counts(rt) == written


def test_the_same_start_with_other_spaces_around_its_title_is_the_same_start(rt):
    """The activity keeps its title and period trimmed: a retry that differs only by spaces around them
    asks for the same activity (it was refused as another request, and on the start page started a twin)."""
    first = start(rt, "kunci-1")
    written = counts(rt)
    again = start(rt, "kunci-1", title="  Layanan email dinas ", period=" 2026-Q1")
    assert again == services.Started(first.instance_id, again=True)
    assert counts(rt) == written


def test_keys_are_each_users_own_and_no_key_starts_every_time(rt):
    mine = start(rt, "kunci-1")
    theirs = start(rt, "kunci-1", actor="aptika.teknis")
    assert theirs.instance_id != mine.instance_id and not theirs.again
    assert start(rt, None).instance_id != start(rt, None).instance_id
    assert counts(rt)[0] == 4


def test_a_key_older_than_a_day_starts_a_new_activity(rt, clock):
    first = start(rt, "kunci-1")
    clock.advance(hours=23, minutes=59)
    assert start(rt, "kunci-1").again
    clock.advance(minutes=2)
    later = start(rt, "kunci-1", title="Kegiatan bulan depan")
    assert later.instance_id != first.instance_id and not later.again
    assert counts(rt)[0] == 2 and counts(rt)[2] == 1


def test_the_scheduler_purges_keys_older_than_a_day_and_keeps_younger_ones(rt, clock):
    """Key rows were never deleted (one for every keyed start, forever); the hourly tidy-up purges the
    ones a day old, which no longer answer anything."""
    from engine.scheduler import TIDY_EVERY, Scheduler

    scheduler = Scheduler(rt, deliver=False)
    start(rt, "kunci-1")
    start(rt, "kunci-2", actor="aptika.teknis")
    clock.advance(hours=12)
    younger = start(rt, "kunci-3", title="Kegiatan kedua")
    clock.advance(hours=12, seconds=TIDY_EVERY.total_seconds())
    scheduler.run_pass()
    assert keys(rt) == [(WHO, "kunci-3", younger.instance_id)]
    assert services.purge_expired_retry_keys(rt) == 0  # nothing twice
    assert start(rt, "kunci-3", title="Kegiatan kedua").again  # a key within its day still answers


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_purge_finds_the_keys_due_by_their_index(rt, clock):
    """The purge's statements, as it sends them, read ix_retry_key_created_at: without it each hourly
    purge read every key (a day of keyed commands, one per completion from the pages) holding the writer."""
    start(rt, "kunci-1")
    clock.advance(days=1, seconds=1)
    sent = []
    listener = lambda conn, cursor, sql, parameters, *args: sent.append((sql, parameters))  # noqa: E731
    event.listen(rt.engine, "before_cursor_execute", listener)
    try:
        assert services.purge_expired_retry_keys(rt) == 1
    finally:
        event.remove(rt.engine, "before_cursor_execute", listener)
    purge = [(sql, parameters) for sql, parameters in sent if "retry_key" in sql]
    assert [sql.split()[0] for sql, _ in purge] == ["SELECT", "DELETE"]
    with rt.engine.connect() as connection:
        for sql, parameters in purge:
            plan = [row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)]
            assert any("INDEX ix_retry_key_created_at" in step for step in plan), (sql, plan)


def keys(rt) -> list[tuple[str, str, int]]:
    with rt.uow() as session:
        return [(row.login, row.key, row.instance_id) for row in session.scalars(select(RetryKey))]


@pytest.mark.parametrize("key, message", [("", "wajib diisi"), ("   ", "wajib diisi"),
                                          ("k" * 256, "terlalu panjang (paling banyak 255 karakter)"),
                                          ("kunci\u00e9", "hanya huruf, angka dan tanda baca ASCII"),
                                          ("kun\tci", "hanya huruf, angka dan tanda baca ASCII")])
def test_an_empty_or_unusable_key_is_refused(rt, key, message):
    with pytest.raises(InvalidData) as err:
        start(rt, key)
    assert err.value.errors == {"Idempotency-Key": message}
    assert counts(rt) == (0, 0, 0)
    assert not start(rt, "k" * 255).again  # the longest key is taken


def starts_at_once(settings, clock, retry_key: str) -> tuple[list[services.Started], list[BaseException]]:
    """Two starts with one key from two runtimes (each its own connections), released together."""
    return at_once(settings, clock, 2, lambda runtime: start(runtime, retry_key), timeout=60)


def test_two_starts_with_the_same_key_at_once_start_one_activity(rt, settings, clock):
    results, errors = starts_at_once(settings, clock, "kunci-1")
    assert not errors
    assert len({r.instance_id for r in results}) == 1 and sorted(r.again for r in results) == [False, True]
    assert counts(rt)[0] == 1 and counts(rt)[2] == 1


def test_two_starts_at_once_with_a_key_older_than_a_day_start_one_activity_quietly(rt, settings, clock):
    """Both found the old key row and deleted it; on PostgreSQL the second delete, waiting for the first,
    then matched nothing, and each such race logged SQLAlchemy's "DELETE statement on table 'start_key'
    expected to delete 1 row(s); 0 were matched" warning: a row gone meanwhile is no matter here."""
    first = start(rt, "kunci-1")
    clock.advance(hours=24)
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        results, errors = starts_at_once(settings, clock, "kunci-1")
    assert not errors
    assert [str(w.message) for w in warned] == []
    assert len({r.instance_id for r in results}) == 1 and sorted(r.again for r in results) == [False, True]
    assert results[0].instance_id != first.instance_id and counts(rt)[2] == 1
