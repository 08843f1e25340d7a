"""The one clock every engine component reads, so tests can move time."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone


class Clock:
    """The real clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class ManualClock(Clock):
    """A clock that only moves when told to (tests, `alur tick --at`)."""

    def __init__(self, start: datetime):
        self._now = _utc(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = _utc(moment)

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("clock times must carry a time zone")
    return moment.astimezone(timezone.utc)
