"""One SQLite writer at a time, handed on the moment the last one finishes.

SQLite lets one transaction write at a time. A writer that finds the lock
taken is left to SQLite's busy handler, which sleeps 1, 2, 5, 10… ms between
tries: with two web workers and a scheduler writing a step every few
milliseconds, the waiters sleep while the lock is long free, and the cores
idle. So Alur's own writers queue before SQLite's lock does, on a lock the
kernel hands over at once: an `flock` on a file beside the database (between
processes) behind a `threading.Lock` (between threads of one process: one
flock per process is enough, and a thread never waits on its own process).

The queue only orders writers; SQLite's lock still guards the data, so a
writer from outside (the sqlite3 shell, a backup) is as safe as before. A
thread that already writes through another connection (a nested unit of
work, which SQLite would refuse anyway) does not wait here longer than the
busy timeout: it goes on to SQLite, which decides.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import threading


class WriterQueue:
    """The per-process side of one database's writer lock."""

    def __init__(self, lock_path: str, timeout: float):
        self.lock_path, self.timeout = lock_path, timeout
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None
        self._fd_lock = threading.Lock()

    def acquire(self) -> bool:
        """Wait for our turn to write; False if the wait was given up (SQLite decides then)."""
        if not self._threads.acquire(timeout=self.timeout):
            return False
        try:
            fcntl.flock(self._file(), fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise
        return True

    def release(self) -> None:
        try:
            fcntl.flock(self._file(), fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _file(self) -> int:
        # Opened once per process (after a fork the child opens its own: a
        # descriptor inherited from the parent would share the parent's lock).
        if self._fd is None or self._pid != os.getpid():
            with self._fd_lock:
                if self._fd is None or self._pid != os.getpid():
                    self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
                    self._pid = os.getpid()
        return self._fd


def connection_class(queue: WriterQueue) -> type[sqlite3.Connection]:
    """A sqlite3 connection that leaves the writer queue when its transaction ends, however it ends."""

    class QueuedConnection(sqlite3.Connection):
        _in_queue = False

        def begin_write(self) -> None:
            if not self._in_queue:
                self._in_queue = queue.acquire()
            try:
                self.execute("BEGIN IMMEDIATE")
            except BaseException:
                self._leave()
                raise

        def commit(self) -> None:
            try:
                super().commit()
            finally:
                self._leave()

        def rollback(self) -> None:
            try:
                super().rollback()
            finally:
                self._leave()

        def close(self) -> None:
            try:
                super().close()
            finally:
                self._leave()

        def _leave(self) -> None:
            if self._in_queue:
                self._in_queue = False
                queue.release()

    return QueuedConnection
