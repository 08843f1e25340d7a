"""Worklist latency with 100,000 open and 1,000,000 completed tasks (see benchmarks.office).

Measured for two users who each see a few dozen rows: `aptika.implementasi`
(a Bidang lane) and `sekretaris` (the lane that serves the whole office):

* query: `engine.worklist.tasks(rt, login)`, the call behind the worklist
  page and GET /api/v1/tasks;
* page: GET / (the worklist page, rendered) through Flask's test client,
  signed in as the user.
"""
from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import Summary, fresh_runtime, settle
from benchmarks.office import populate
from engine import bootstrap
from engine import worklist as engine_worklist

USERS = ("aptika.implementasi", "sekretaris")
TARGET_P95_MS = 30


@dataclass
class Config:
    open_tasks: int = 100_000
    completed_tasks: int = 1_000_000
    samples: int = 200

    @classmethod
    def quick(cls) -> "Config":
        return cls(open_tasks=10_000, completed_tasks=100_000, samples=60)


@dataclass
class Row:
    database: str
    what: str  # "query" or "page"
    user: str
    rows: int
    open_tasks: int
    completed_tasks: int
    setup_s: float
    ms: Summary

    def as_dict(self) -> dict:
        return {**self.__dict__, "ms": self.ms.as_dict()}


def timed(fn, samples: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(samples):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return times


def signed_in_client(app, login: str):
    client = app.test_client()
    page = client.get("/masuk").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/masuk", data={"login": login, "password": bootstrap.DEMO_PASSWORD,
                                           "csrf_token": token})
    if response.status_code != 302:
        raise RuntimeError(f"sign-in as {login} failed: {response.status_code}")
    return client


def run(database: str, url: str | None, config: Config, log=print) -> list[Row]:
    from web.app import create_app

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="alur-bench-worklist-") as tmp:
        with fresh_runtime(url, Path(tmp)) as rt:
            began = time.perf_counter()
            office = populate(rt, config.open_tasks, config.completed_tasks)
            settle(rt)
            setup = time.perf_counter() - began
            log(f"  {database}: {office.open_tasks:,} open and {office.completed_tasks:,} completed tasks "
                f"in {setup:.0f}s")
            app = create_app(runtime=rt)
            for login in USERS:
                seen = len(engine_worklist.tasks(rt, login))
                query = timed(lambda: engine_worklist.tasks(rt, login), config.samples)
                rows.append(Row(database, "query", login, seen, office.open_tasks, office.completed_tasks, setup,
                                Summary.of(query)))
                client = signed_in_client(app, login)

                def page() -> None:
                    response = client.get("/")
                    if response.status_code != 200:
                        raise RuntimeError(f"GET / answered {response.status_code}")

                pages = timed(page, config.samples)
                rows.append(Row(database, "page", login, seen, office.open_tasks, office.completed_tasks, setup,
                                Summary.of(pages)))
                log(f"  {database}: {login} sees {seen} tasks; query p95 {Summary.of(query).p95:.1f} ms, "
                    f"page p95 {Summary.of(pages).p95:.1f} ms")
    return rows
