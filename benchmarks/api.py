"""HTTP throughput: claim and complete through the REST API, with concurrent clients.

The benchmark starts `alur serve --workers 2` (gunicorn) in a subprocess on
127.0.0.1 and a free port, with a data directory and database of its own.
Client threads each drive their own instances through whole SOP runs, both
paths as in the engine benchmark, on one HTTP/1.1 connection kept alive per
SOP run (http.client), as a browser keeps one for a burst of work: per step
POST /api/v1/tasks/{id}/claim then POST /api/v1/tasks/{id}/complete (JSON,
or multipart with the documents of steps 14 and 15), each as the step's
performer with a bearer token. The id of the next open task is read from the database by the client
(one indexed query on a kept DB-API connection outside any transaction,
which on SQLite takes no lock; not timed and not sent to the server), so the
server sees only claims and completions. The client runs on the same cores
as the server, so its own CPU per completion is reported too.

Why a connection per SOP run and not one per client for the whole round:
gunicorn gives a connection to one worker for its whole life, and when the
clients connected at once at the start of a round, one worker often took
most of them: per-worker CPU of 0.59 and 1.88 s, or 0.0 and 2.35 s, in
rounds of about 2 s, with one worker idle while the other was saturated.
Throughput then measured that split. Connecting per run spreads the
connections as an office's browsers do, coming and going; the busiest
worker's share of the workers' CPU is reported, so a lopsided split shows.

Afterwards the peak resident memory (VmHWM) of each gunicorn worker is read
from /proc: the web worker memory figure.
"""
from __future__ import annotations

import http.client
import json
import os
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import bindparam, create_engine, select

from benchmarks.common import (
    Summary, alur_command, children, cpu_seconds, free_port, fresh_runtime, stop, subprocess_env, vm_hwm_mb,
    wait_port,
)
from benchmarks.throughput import KEY, path_of, step_data
from engine import accounts, services
from engine.db import TaskRow, User
from tests.integration.sop import STEP_FILES, performer

BIDANG = ("aptika", "ikp", "statistik-persandian")


@dataclass
class Config:
    clients: int = 8
    runs_per_client: int = 3  # whole SOP runs per client per round (~15 steps each)
    rounds: int = 3
    workers: int = 2

    @classmethod
    def quick(cls) -> "Config":
        return cls(clients=4, runs_per_client=1, rounds=2)


@dataclass
class Result:
    database: str
    clients: int
    workers: int
    rounds: int
    completions_per_round: int
    completions_per_s: Summary
    claim_ms: Summary
    complete_ms: Summary
    errors: int
    worker_peak_rss_mb: list[float]
    master_peak_rss_mb: float
    # CPU the gunicorn workers spent per completion (claim and complete requests together),
    # and what the machine's cores would allow at that cost if the server had them all.
    worker_cpu_ms_per_completion: float = float("nan")
    cpu_bound_completions_per_s: float = float("nan")
    # CPU the load client itself spent per completion, on the same cores.
    client_cpu_ms_per_completion: float = float("nan")
    # The busiest worker's share of the workers' CPU in a round (median): 1/workers when balanced.
    busiest_worker_share: float = float("nan")

    def as_dict(self) -> dict:
        out = dict(self.__dict__)
        for key in ("completions_per_s", "claim_ms", "complete_ms"):
            out[key] = out[key].as_dict()
        return out


class Client:
    def __init__(self, port: int, tokens: dict[str, str]):
        self.port, self.tokens = port, tokens
        self._local = threading.local()

    def post(self, path: str, login: str, body: bytes, content_type: str) -> tuple[int, dict]:
        conn = self._connection()
        try:
            conn.request("POST", path, body=body, headers={
                "Authorization": f"Bearer {self.tokens[login]}", "Content-Type": content_type})
            response = conn.getresponse()
            payload = response.read()
        except BaseException:
            conn.close()
            self._local.conn = None
            raise
        if response.will_close:
            conn.close()
            self._local.conn = None
        return response.status, (json.loads(payload) if payload else {})

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        return conn

    def hang_up(self) -> None:
        """Close the calling thread's connection (when the thread is done)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def claim(self, task_id: str, login: str) -> tuple[int, dict]:
        return self.post(f"/api/v1/tasks/{task_id}/claim", login, b"{}", "application/json")

    def complete(self, task_id: str, login: str, data: dict, files: dict | None) -> tuple[int, dict]:
        if not files:
            return self.post(f"/api/v1/tasks/{task_id}/complete", login, json.dumps({"data": data}).encode(),
                             "application/json")
        body, content_type = multipart({"data": json.dumps(data)}, files)
        return self.post(f"/api/v1/tasks/{task_id}/complete", login, body, content_type)


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f'Content-Type: application/octet-stream\r\n\r\n'.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class OpenTask(NamedTuple):
    id: str
    step: int


class Reader:
    """The client's lookup of an instance's open task, on plain DB-API connections the threads share.

    The client shares the machine's cores with the server, so its own work is
    kept small: one compiled query on a kept connection, outside any
    transaction (so on SQLite it holds no lock between lookups).
    """

    def __init__(self, engine):
        self.engine = engine
        self._connections: list = []
        self._free: list = []
        self._query = select(TaskRow.id, TaskRow.step).where(
            TaskRow.instance_id == bindparam("instance"), TaskRow.state == "open").compile(engine)

    def next_task(self, instance_id: int) -> OpenTask | None:
        conn = self._free.pop() if self._free else self._connect()
        try:
            cursor = conn.cursor()
            params = self._query.construct_params({"instance": instance_id})
            positions = self._query.positiontup
            cursor.execute(str(self._query), tuple(params[k] for k in positions) if positions else params)
            row = cursor.fetchone()
            cursor.close()
        finally:
            self._free.append(conn)  # list.append and pop are atomic: the client threads share the list
        return None if row is None else OpenTask(*row)

    def _connect(self):
        conn = self.engine.raw_connection()
        if self.engine.dialect.name == "postgresql":
            conn.driver_connection.autocommit = True
        self._connections.append(conn)
        return conn

    def close(self) -> None:
        for conn in self._connections:
            conn.close()
        self.engine.dispose()


def drive(reader, client: Client, instance_id: int, n: int, bidang: str, claims: list, completes: list,
          errors: list) -> int:
    """One whole SOP run over HTTP; returns the completions."""
    verdicts, kendala = path_of(n)
    answers = iter(verdicts)
    done = 0
    while (task := reader.next_task(instance_id)) is not None:
        login = performer(task.step, bidang)
        data = step_data(task.step, answers, kendala)
        a = time.perf_counter()
        status, body = client.claim(task.id, login)
        b = time.perf_counter()
        if status != 200:
            errors.append(("claim", status, body))
            raise RuntimeError(f"claim answered {status}: {body}")
        status, body = client.complete(task.id, login, data, STEP_FILES.get(task.step))
        c = time.perf_counter()
        if status != 200:
            errors.append(("complete", status, body))
            raise RuntimeError(f"complete answered {status}: {body}")
        claims.append((b - a) * 1000)
        completes.append((c - b) * 1000)
        done += 1
    return done


def tokens_for(rt) -> dict[str, str]:
    logins = {performer(step, b) for b in BIDANG for step in range(1, 16)}
    tokens = {}
    with rt.uow() as session:
        ids = {u.login: u.id for u in session.query(User).filter(User.login.in_(logins))}
    for login in sorted(logins):
        tokens[login] = accounts.create_token(rt, ids[login], "benchmark")[1]
    return tokens


def run(database: str, url: str | None, config: Config, log=print) -> Result:
    with tempfile.TemporaryDirectory(prefix="alur-bench-http-") as tmp:
        data_dir = Path(tmp)
        with fresh_runtime(url, data_dir) as rt:
            db_url = rt.settings.database_url
            tokens = tokens_for(rt)
            instances = [[services.start(rt, KEY, BIDANG[c % len(BIDANG)], f"HTTP {r}.{c}.{i}", None)
                          for i in range(config.runs_per_client)]
                         for r in range(config.rounds + 1) for c in range(config.clients)]
            # The client's own reads: no BEGIN IMMEDIATE (engine.db's SQLite transactions take the write lock).
            reader = Reader(create_engine(db_url, connect_args={"check_same_thread": False} if url is None else {}))
            port = free_port()
            out = open(data_dir / "server.log", "wb")
            server = subprocess.Popen(
                alur_command("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(config.workers)),
                env=subprocess_env(db_url, data_dir, ALUR_SECRET_KEY="benchmark"), stdout=out,
                stderr=subprocess.STDOUT, cwd=str(data_dir))
            try:
                wait_port(port, 60, server)
                client = Client(port, tokens)
                rates, claims, completes, errors, per_round, cpu_ms, client_cpu_ms = [], [], [], [], 0, [], []
                busiest: list[float] = []
                for round_no in range(config.rounds + 1):  # round 0 warms the workers up
                    batch = instances[round_no * config.clients:(round_no + 1) * config.clients]
                    counts = [0] * config.clients
                    round_claims: list[list[float]] = [[] for _ in batch]
                    round_completes: list[list[float]] = [[] for _ in batch]
                    failures: list[BaseException] = []

                    def client_thread(c: int) -> None:
                        try:
                            for i, instance_id in enumerate(batch[c]):
                                counts[c] += drive(reader, client, instance_id, round_no * 1000 + c * 10 + i,
                                                   BIDANG[c % len(BIDANG)], round_claims[c], round_completes[c],
                                                   errors)
                                client.hang_up()  # the next run on a new connection (see the docstring)
                        except BaseException as err:  # reported below
                            failures.append(err)
                        finally:
                            client.hang_up()

                    threads = [threading.Thread(target=client_thread, args=(c,)) for c in range(config.clients)]
                    cpu_before = {pid: cpu_seconds(pid) for pid in children(server.pid)}
                    client_before = time.process_time()
                    began = time.perf_counter()
                    for t in threads:
                        t.start()
                    for t in threads:
                        t.join()
                    took = time.perf_counter() - began
                    per_worker = [cpu_seconds(pid) - before for pid, before in cpu_before.items()]
                    cpu_used = sum(per_worker)
                    client_used = time.process_time() - client_before
                    if failures:
                        raise RuntimeError(f"HTTP client failed: {failures[0]!r}") from failures[0]
                    if round_no:
                        cpu_ms.append(cpu_used * 1000 / sum(counts))
                        client_cpu_ms.append(client_used * 1000 / sum(counts))
                        busiest.append(max(per_worker) / cpu_used)
                        rates.append(sum(counts) / took)
                        per_round = sum(counts)
                        claims += [x for c in round_claims for x in c]
                        completes += [x for c in round_completes for x in c]
                        log(f"  {database}: round {round_no}: {sum(counts)} completions in {took:.1f}s")
                workers = children(server.pid)
                worker_rss = [vm_hwm_mb(pid) for pid in workers]
                master_rss = vm_hwm_mb(server.pid)
            finally:
                stop(server)
                out.close()
                reader.close()
    per_completion = Summary.of(cpu_ms).median
    return Result(database, config.clients, config.workers, config.rounds, per_round, Summary.of(rates),
                  Summary.of(claims), Summary.of(completes), len(errors), worker_rss, master_rss, per_completion,
                  (os.cpu_count() or 1) * 1000 / per_completion, Summary.of(client_cpu_ms).median,
                  Summary.of(busiest).median)


TARGET_COMPLETIONS_PER_S = 200
TARGET_WORKER_RSS_MB = 200
