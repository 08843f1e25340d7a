"""A worker process for the crash test: starts instances and completes steps 1-4 of each, until told to stop.

    python -m tests.integration.crash_worker NAME ACK_FILE STOP_FILE

Runs on ALUR_DATABASE_URL through the service layer. After each command
returns (its transaction committed) it appends a line to ACK_FILE and
fsyncs it: "started <instance>" or "done <task id>", the first of each life
after "ready <pid>" (the test kills only processes at work). Those lines are the
acknowledgements the test holds the database to. Killed at any moment, it is
started again with the same NAME and resumes its unfinished instances (found
by title). Once STOP_FILE exists it finishes what it has and exits 0.
"""
from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

from sqlalchemy import select

from engine import services
from engine.config import Settings
from engine.db import Instance, TaskRow
from engine.errors import Conflict
from engine.runtime import Runtime
from tests.integration.sop import STEP_DATA, performer

KEY = "monev_kegiatan_bidang"
BIDANG = "aptika"
LAST_STEP = 4


def main(name: str, ack_path: str, stop_path: str) -> None:
    rt = Runtime(Settings.from_env())
    ack = open(ack_path, "a", encoding="utf-8")
    rng = random.Random()

    def acknowledge(line: str) -> None:
        if not ready:  # the first command of this life is done: start-up (imports, parsing) is over
            ready.append(f"ready {os.getpid()}\n")
            ack.write(ready[0])
        ack.write(line + "\n")
        ack.flush()
        os.fsync(ack.fileno())

    ready: list[str] = []
    count = 0
    while True:
        unfinished = _unfinished(rt, name)
        if not unfinished:
            if Path(stop_path).exists():
                return
            count += 1
            instance_id = services.start(rt, KEY, BIDANG, f"{name}-{os.getpid()}-{count}", None)
            acknowledge(f"started {instance_id}")
            continue
        for row in unfinished:
            login = performer(row.step, BIDANG)
            try:
                services.claim(rt, row.id, login)
                time.sleep(rng.random() * 0.02)  # room for a kill between claim and completion
                services.complete(rt, row.id, login, STEP_DATA[row.step])
            except Conflict:
                continue  # a scheduler saved the instance meanwhile: look again
            acknowledge(f"done {row.id}")


def _unfinished(rt, name: str) -> list[TaskRow]:
    """This worker's open steps 1-4 (a restarted worker finds what its predecessor left)."""
    with rt.uow() as session:
        return list(session.scalars(
            select(TaskRow).join(Instance, Instance.id == TaskRow.instance_id)
            .where(Instance.title.like(f"{name}-%"), TaskRow.state == "open", TaskRow.step <= LAST_STEP)
            .order_by(TaskRow.instance_id)))


if __name__ == "__main__":
    main(*sys.argv[1:4])
