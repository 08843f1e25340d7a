"""SQLite writers queue on a lock the kernel hands over at once, and always leave the queue."""
from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time

import pytest
from sqlalchemy import text

from engine import sqlite_writer
from engine.config import Settings
from engine.runtime import Runtime


def _hold(lock_path: str, held, release) -> None:
    queue = sqlite_writer.WriterQueue(lock_path, timeout=5)
    queue.acquire()
    held.set()
    release.wait(10)
    queue.release()


def test_a_writer_in_another_process_waits_and_goes_on_the_moment_the_lock_is_released(tmp_path):
    lock_path = str(tmp_path / "alur.db-writers")
    ctx = multiprocessing.get_context("spawn")
    held, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold, args=(lock_path, held, release))
    holder.start()
    try:
        assert held.wait(30)
        queue = sqlite_writer.WriterQueue(lock_path, timeout=5)
        got = []
        waiter = threading.Thread(target=lambda: got.append((queue.acquire(), time.monotonic())))
        waiter.start()
        time.sleep(0.3)
        assert not got, "the lock was taken while another process held it"
        released_at = time.monotonic()
        release.set()
        waiter.join(10)
        assert got and got[0][0] is True
        assert got[0][1] - released_at < 0.25  # handed over at once, not after a busy-handler sleep
        queue.release()
    finally:
        release.set()
        holder.join(10)


def test_a_thread_that_already_writes_is_not_kept_waiting_by_its_own_process(tmp_path):
    queue = sqlite_writer.WriterQueue(str(tmp_path / "x-writers"), timeout=0.2)
    assert queue.acquire() is True
    began = time.monotonic()
    assert queue.acquire() is False  # a nested writer: SQLite decides, after the timeout
    assert time.monotonic() - began < 2
    queue.release()
    assert queue.acquire() is True
    queue.release()


@pytest.mark.parametrize("ending", ["commit", "rollback", "close", "failed begin"])
def test_a_connection_leaves_the_queue_however_its_transaction_ends(tmp_path, ending):
    database = tmp_path / "alur.db"
    queue = sqlite_writer.WriterQueue(f"{database}-writers", timeout=5)
    connect = sqlite_writer.connection_class(queue)
    first = sqlite3.connect(database, factory=connect, isolation_level=None, check_same_thread=False)
    first.execute("CREATE TABLE t (x INTEGER)")
    if ending == "failed begin":
        first.execute("BEGIN")  # a transaction already open: BEGIN IMMEDIATE fails
        with pytest.raises(sqlite3.OperationalError):
            first.begin_write()
        first.rollback()
    else:
        first.begin_write()
        first.execute("INSERT INTO t VALUES (1)")
        getattr(first, ending)()
    second = sqlite3.connect(database, factory=connect, isolation_level=None, check_same_thread=False)
    done = threading.Event()

    def write() -> None:
        second.begin_write()
        second.execute("INSERT INTO t VALUES (2)")
        second.commit()
        done.set()

    threading.Thread(target=write, daemon=True).start()
    assert done.wait(3), f"the queue was not left after {ending}"


def test_a_unit_of_work_that_fails_lets_the_next_writer_in_at_once(tmp_path):
    rt = Runtime(Settings.from_env(database_url=f"sqlite:///{tmp_path / 'alur.db'}", data_dir=tmp_path / "data"))
    try:
        with rt.uow() as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
            session.commit()
        with pytest.raises(RuntimeError):
            with rt.uow() as session:
                session.execute(text("INSERT INTO t VALUES (1)"))
                raise RuntimeError("the command failed")
        finished = []

        def write() -> None:
            with rt.uow() as session:
                session.execute(text("INSERT INTO t VALUES (2)"))
                session.commit()
            finished.append(True)

        thread = threading.Thread(target=write)
        thread.start()
        thread.join(3)
        assert finished
        with rt.reading() as connection:
            assert connection.execute(text("SELECT x FROM t")).scalars().all() == [2]
    finally:
        rt.dispose()


def test_the_scheduler_moves_the_wal_into_the_database_file_and_commands_rarely_do(tmp_path):
    """A commit that fills the WAL checkpoints it (two fsyncs and the pages copied): at SQLite's default of
    1,000 pages one commit in about 40 paid for that. Commands now leave it to 10,000 pages, and the
    scheduler checkpoints on every pass, in the background."""
    from engine import bootstrap, services
    from engine.db import SQLITE_WAL_AUTOCHECKPOINT
    from engine.scheduler import Scheduler

    database = tmp_path / "alur.db"
    rt = Runtime(Settings.from_env(database_url=f"sqlite:///{database}", data_dir=tmp_path))
    try:
        bootstrap.init(rt, demo=True)
        with rt.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == SQLITE_WAL_AUTOCHECKPOINT

        def in_the_database_file() -> list[str]:
            # immutable: the file alone, as if the WAL were lost (what has been checkpointed survives that)
            file_only = sqlite3.connect(f"file:{database}?immutable=1", uri=True)
            try:
                return [t for (t,) in file_only.execute("SELECT title FROM instance")]
            finally:
                file_only.close()
        scheduler = Scheduler(rt, deliver=False)
        scheduler.run_pass()  # the schema and the demo data, written by init, into the file
        services.start(rt, "monev_kegiatan_bidang", "aptika", "Di WAL dulu", "aptika.implementasi")
        assert in_the_database_file() == []  # a few pages: no commit checkpointed them
        scheduler.run_pass()
        assert in_the_database_file() == ["Di WAL dulu"]
    finally:
        rt.dispose()
