"""Engine throughput: whole SOP runs through the service layer, and the naive baseline.

* Service layer: `services.start`, then per step `services.claim` +
  `services.complete` (form check, documents for steps 14 and 15, workflow
  loaded from SQL and saved, task/timer rows, event log: history on). Runs
  alternate between the SOP's two paths, so both outcomes of both
  decisions are taken: sent back once at step 5 and kendala at step 12 (17
  steps, all 15 SOP steps), or verified at once without kendala (13 steps).
  Timed: start + claim + complete; the benchmark's own lookup of the next
  open task (one indexed query) is not.
* Several processes (PostgreSQL): the same, in N worker processes started
  with multiprocessing, each with its own Runtime and its own instances;
  throughput is all their steps over the wall time from the first start to
  the last finish.
* Naive baseline: what embedding SpiffWorkflow the obvious way costs. The
  whole workflow, process definition included, is kept as one JSON text
  made by SpiffWorkflow's default `BpmnWorkflowSerializer`, in a plain table
  `naive_workflow(id, state)` in the same database. Per step, one
  transaction: SELECT the text, deserialize it (the definition too), set
  the step's data, run the task and the engine steps, serialize it again,
  UPDATE. No claims, rows, timers or history. The same loop with the text
  in a Python dict instead of a table is reported as "naive, in memory".
* Taking turns: the service layer, the naive baseline and the others run
  their repeats in turn (one repeat of each, then the next), and "x naive"
  is the median over repeats of the two rates measured side by side, so a
  shared machine's drift over minutes does not pass for a difference.
* Like for like: the naive loop and table with Alur's own serializer
  (definition left out, parsed spec cached per version) instead: "Alur
  serializer, plain table". Its ratio to the naive baseline is what storing
  the workflow without its definition buys; the service layer's ratio also
  pays for everything the loop leaves out.
"""
from __future__ import annotations

import multiprocessing
import queue
import re
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generator

from sqlalchemy import Column, Integer, MetaData, Table, Text, insert, select, update

from benchmarks.common import Summary, fresh_runtime, runtime
from engine import services
from engine.db import TaskRow
from tests.integration.sop import STEP_DATA, STEP_FILES, performer

KEY = "monev_kegiatan_bidang"
BIDANG = ("aptika", "ikp", "statistik-persandian", "sekretariat")


@dataclass
class Row:
    database: str
    mode: str
    processes: int
    repeats: int
    steps_per_repeat: int
    steps_per_s: Summary
    cpu_steps_per_s: Summary | None = None
    step_ms: Summary | None = None  # claim + complete (service) or one naive step
    claim_ms: Summary | None = None
    complete_ms: Summary | None = None
    vs_naive: float | None = None
    extra: dict = field(default_factory=dict)
    repeat_rates: list[float] = field(default_factory=list)  # steps/s of each repeat, in order

    def as_dict(self) -> dict:
        out = dict(self.__dict__)
        for key in ("steps_per_s", "cpu_steps_per_s", "step_ms", "claim_ms", "complete_ms"):
            if out[key] is not None:
                out[key] = out[key].as_dict()
        return out


@dataclass
class Config:
    runs: int = 20  # whole SOP runs per repeat (~15 steps each)
    repeats: int = 5
    processes: tuple[int, ...] = (2, 4)
    process_runs: int = 20  # per worker process, per repeat
    process_repeats: int = 3

    @classmethod
    def quick(cls) -> "Config":
        return cls(runs=6, repeats=3, processes=(2,), process_runs=6, process_repeats=2)


# -- one SOP run through the service layer ---------------------------------------------------

def path_of(n: int) -> tuple[list[bool], bool]:
    """Run n's answers: (step 5 answers, step 12 answer); even runs take every step."""
    return ([False, True], True) if n % 2 == 0 else ([True], False)


def step_data(step: int, answers, kendala: bool) -> dict:
    if step == 5:
        return {"terverifikasi": next(answers), "catatan": "cek"}
    if step == 12:
        return {"ada_kendala": kendala, "uraian_kendala": "server penuh" if kendala else ""}
    return dict(STEP_DATA.get(step, {}))


def next_task(rt, instance_id: int):
    with rt.uow() as session:
        return session.execute(select(TaskRow.id, TaskRow.step).where(
            TaskRow.instance_id == instance_id, TaskRow.state == "open")).first()


def sop_run(rt, n: int, bidang: str, claims: list[float], completes: list[float]) -> tuple[int, float]:
    """One whole run; returns (steps completed, seconds spent in the service layer)."""
    verdicts, kendala = path_of(n)
    answers = iter(verdicts)
    began = time.perf_counter()
    instance_id = services.start(rt, KEY, bidang, f"Kegiatan {n}", None)
    spent = time.perf_counter() - began
    steps = 0
    while (task := next_task(rt, instance_id)) is not None:
        login = performer(task.step, bidang)
        data = step_data(task.step, answers, kendala)
        a = time.perf_counter()
        services.claim(rt, task.id, login)
        b = time.perf_counter()
        result = services.complete(rt, task.id, login, data, files=STEP_FILES.get(task.step))
        c = time.perf_counter()
        claims.append((b - a) * 1000)
        completes.append((c - b) * 1000)
        spent += c - a
        steps += 1
    assert result["instance_state"] == "completed", result
    return steps, spent


def service_layer(database: str, rt, config: Config) -> Generator[None, None, Row]:
    """Yields after each repeat (see `interleaved`); returns the Row."""
    claims: list[float] = []
    completes: list[float] = []
    sop_run(rt, 0, "aptika", [], [])  # warm up: spec cache, connection pool, statement cache
    rates, cpu_rates, steps_each = [], [], 0
    n = 1
    for _ in range(config.repeats):
        steps = 0
        spent = 0.0
        cpu = time.process_time()
        for _ in range(config.runs):
            done, seconds = sop_run(rt, n, "aptika", claims, completes)
            steps, spent, n = steps + done, spent + seconds, n + 1
        cpu = time.process_time() - cpu
        rates.append(steps / spent)
        cpu_rates.append(steps / cpu)
        steps_each = steps
        yield
    step_ms = [a + b for a, b in zip(claims, completes)]
    return Row(database, "service layer", 1, config.repeats, steps_each, Summary.of(rates), Summary.of(cpu_rates),
               Summary.of(step_ms), Summary.of(claims), Summary.of(completes), repeat_rates=rates)


# -- several processes ---------------------------------------------------------------------------

def _worker(url: str, data_dir: str, number: int, runs: int, barrier, results) -> None:
    rt = runtime(url, Path(data_dir))
    try:
        bidang = BIDANG[number % len(BIDANG)]
        sop_run(rt, 0, bidang, [], [])  # warm up
        barrier.wait()
        claims: list[float] = []
        completes: list[float] = []
        began = time.time()
        steps = 0
        for n in range(runs):
            steps += sop_run(rt, number * 100_000 + n + 1, bidang, claims, completes)[0]
        results.put((number, steps, began, time.time(), claims, completes))
    except BaseException as err:  # reported to the parent, which fails the benchmark
        results.put((number, err))
        raise
    finally:
        rt.dispose()


def processes(database: str, url: str, data_dir: Path, count: int, config: Config) -> Row:
    ctx = multiprocessing.get_context("spawn")
    rates, claims, completes, steps_each = [], [], [], 0
    for _ in range(config.process_repeats):
        barrier, results = ctx.Barrier(count), ctx.Queue()
        workers = [ctx.Process(target=_worker, args=(url, str(data_dir), i, config.process_runs, barrier, results))
                   for i in range(count)]
        for w in workers:
            w.start()
        reports = []
        deadline = time.monotonic() + 1800
        while len(reports) < count:
            try:
                reports.append(results.get(timeout=1))
            except queue.Empty:
                dead = [w for w in workers if w.exitcode not in (None, 0)]
                if dead or time.monotonic() > deadline:
                    for w in workers:
                        w.kill()
                    raise RuntimeError(f"worker process failed (exit codes {[w.exitcode for w in workers]})")
        for w in workers:
            w.join()
        failed = [r for r in reports if len(r) == 2]
        if failed:
            raise RuntimeError(f"worker {failed[0][0]} failed: {failed[0][1]!r}")
        steps = sum(r[1] for r in reports)
        wall = max(r[3] for r in reports) - min(r[2] for r in reports)
        rates.append(steps / wall)
        steps_each = steps
        for r in reports:
            claims += r[4]
            completes += r[5]
    step_ms = [a + b for a, b in zip(claims, completes)]
    return Row(database, f"service layer, {count} processes", count, config.process_repeats, steps_each,
               Summary.of(rates), None, Summary.of(step_ms), Summary.of(claims), Summary.of(completes))


# -- the naive baseline --------------------------------------------------------------------------

class Naive:
    """SpiffWorkflow used the obvious way: default serializer, definition embedded, default engine."""

    def __init__(self, rt):
        from SpiffWorkflow.bpmn.parser import BpmnParser
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer

        with rt.uow() as session:
            version = services._latest_version(session, KEY)
            self.definition = rt.definition(version)[0]
        # The library's own timers evaluate timeDuration as an expression: quote
        # the ISO durations (Alur's DeadlineTimer reads them as they are).
        xml = re.sub(r"(<bpmn:timeDuration[^>]*>)\s*([^<\"]+?)\s*(</)", r'\1"\2"\3', self.definition.bpmn_xml)
        parser = BpmnParser()
        parser.add_bpmn_str(xml.encode(), filename=f"{KEY}.bpmn")
        self.spec = parser.get_spec(KEY)
        self.serializer = BpmnWorkflowSerializer()

    def new(self) -> str:
        from SpiffWorkflow.bpmn import BpmnWorkflow

        workflow = BpmnWorkflow(self.spec)
        workflow.do_engine_steps()
        return self.serializer.serialize_json(workflow)

    def step(self, state: str, answers, kendala: bool) -> str | None:
        """One step on a serialized workflow; None when it has ended."""
        from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
        from SpiffWorkflow.util.task import TaskState

        workflow = self.serializer.deserialize_json(state)
        ready = [t for t in workflow.get_tasks(state=TaskState.READY) if isinstance(t.task_spec, UserTask)]
        if not ready:
            return None
        task = ready[0]
        number = self.definition.step_for_element(task.task_spec.bpmn_id).number
        data = step_data(number, answers, kendala)
        data.update({f.name: "1" for f in self.definition.step(number).form.fields
                     if f.type == "file" and f.required})
        task.data.update(data)
        task.run()
        workflow.refresh_timers()
        workflow.do_engine_steps()
        return self.serializer.serialize_json(workflow)


class Lean:
    """The same loop with Alur's own SpiffWorkflow adapter: no definition in the JSON (the parsed spec is
    cached per version), the restricted script engine, the calendar's deadline timers. The like-for-like
    comparison with Naive: same step work, same plain table, only the storage of the workflow differs."""

    def __init__(self, rt):
        from engine import spiff

        self.rt, self.spiff = rt, spiff
        with rt.uow() as session:
            version = services._latest_version(session, KEY)
            self.definition, self.spec = rt.definition(version)
        self.engine = rt.script_engine(self.definition)

    def new(self) -> str:
        workflow = self.spiff.new_workflow(self.spec, self.engine)
        workflow.refresh_timers()
        workflow.do_engine_steps()
        return self.rt.serializer.dumps(workflow)

    def step(self, state: str, answers, kendala: bool) -> str | None:
        workflow = self.rt.serializer.loads(state, self.spec, self.engine)
        ready = self.spiff.ready_user_tasks(workflow)
        if not ready:
            return None
        task = ready[0]
        number = self.definition.step_for_element(task.task_spec.bpmn_id).number
        data = step_data(number, answers, kendala)
        data.update({f.name: "1" for f in self.definition.step(number).form.fields
                     if f.type == "file" and f.required})
        task.data.update(data)
        task.run()
        workflow.refresh_timers()
        workflow.do_engine_steps()
        return self.rt.serializer.dumps(workflow)


def naive_table(database: str, rt, config: Config) -> Generator[None, None, Row]:
    return plain_table(database, rt, config, Naive(rt), "naive, plain table", "naive_workflow")


def lean_table(database: str, rt, config: Config) -> Generator[None, None, Row]:
    return plain_table(database, rt, config, Lean(rt), "Alur serializer, plain table", "lean_workflow")


def plain_table(database: str, rt, config: Config, naive, mode: str, name: str) -> Generator[None, None, Row]:
    """Yields after each repeat (see `interleaved`); returns the Row."""
    table = Table(name, MetaData(), Column("id", Integer, primary_key=True), Column("state", Text))
    table.create(rt.engine, checkfirst=True)
    times: list[float] = []
    rates, cpu_rates, steps_each = [], [], 0

    def run(n: int, record: bool) -> int:
        verdicts, kendala = path_of(n)
        answers = iter(verdicts)
        with rt.engine.begin() as conn:
            conn.execute(insert(table).values(id=n, state=naive.new()))
        steps = 0
        while True:
            began = time.perf_counter()
            with rt.engine.begin() as conn:
                state = conn.execute(select(table.c.state).where(table.c.id == n)).scalar_one()
                state = naive.step(state, answers, kendala)
                if state is None:
                    break
                conn.execute(update(table).where(table.c.id == n).values(state=state))
            if record:
                times.append((time.perf_counter() - began) * 1000)
            steps += 1
        return steps

    run(0, False)
    n = 1
    for _ in range(config.repeats):
        steps, spent, cpu = 0, 0.0, time.process_time()
        began = time.perf_counter()
        for _ in range(config.runs):
            steps += run(n, True)
            n += 1
        spent = time.perf_counter() - began
        cpu = time.process_time() - cpu
        rates.append(steps / spent)
        cpu_rates.append(steps / cpu)
        steps_each = steps
        yield
    with rt.engine.connect() as conn:
        size = len(conn.execute(select(table.c.state).where(table.c.id == n - 1)).scalar_one())
    return Row(database, mode, 1, config.repeats, steps_each, Summary.of(rates),
               Summary.of(cpu_rates), Summary.of(times), extra={"final_json_bytes": size}, repeat_rates=rates)


def naive_memory(rt, config: Config) -> Generator[None, None, Row]:
    """Yields after each repeat (see `interleaved`); returns the Row."""
    naive = Naive(rt)
    times: list[float] = []
    rates, cpu_rates, steps_each = [], [], 0
    n = 0
    for repeat in range(config.repeats + 1):  # the first is a warm-up
        steps, cpu, spent = 0, time.process_time(), 0.0
        for _ in range(config.runs):
            verdicts, kendala = path_of(n)
            answers = iter(verdicts)
            state = naive.new()
            while True:
                began = time.perf_counter()
                state = naive.step(state, answers, kendala)
                if state is None:
                    break
                took = time.perf_counter() - began
                spent += took
                steps += 1
                if repeat:
                    times.append(took * 1000)
            n += 1
        if repeat:
            rates.append(steps / spent)
            cpu_rates.append(steps / (time.process_time() - cpu))
            steps_each = steps
            yield
    return Row("-", "naive, in memory", 1, config.repeats, steps_each, Summary.of(rates), Summary.of(cpu_rates),
               Summary.of(times), repeat_rates=rates)


# -- the benchmark -------------------------------------------------------------------------------

def interleaved(*modes: Generator[None, None, Row]) -> list[Row]:
    """Run the modes' repeats in turn (one repeat of each, then the next), and return their Rows.

    A shared machine's speed drifts over minutes; taking turns puts each
    repeat of the service layer beside a repeat of the baseline made at
    nearly the same moment, so their ratio does not take the drift for a
    difference between them.
    """
    rows: list[Row | None] = [None] * len(modes)
    while any(row is None for row in rows):
        for i, mode in enumerate(modes):
            if rows[i] is None:
                try:
                    next(mode)
                except StopIteration as done:
                    rows[i] = done.value
    return rows  # type: ignore[return-value]


def ratio(row: Row, baseline: Row) -> float:
    """The median over repeats of row's rate / the baseline's rate in the same turn."""
    return statistics.median(a / b for a, b in zip(row.repeat_rates, baseline.repeat_rates))


def run(database: str, url: str | None, config: Config, log=print) -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="alur-bench-engine-") as tmp:
        with fresh_runtime(url, Path(tmp)) as rt:
            modes = [service_layer(database, rt, config), naive_table(database, rt, config),
                     lean_table(database, rt, config)]
            if database == "sqlite":
                modes.append(naive_memory(rt, config))
            rows = interleaved(*modes)
            service, naive, lean = rows[:3]
            service.vs_naive, lean.vs_naive = ratio(service, naive), ratio(lean, naive)
            log(f"  {database}: service layer {service.steps_per_s.median:.0f} steps/s")
            log(f"  {database}: naive baseline {naive.steps_per_s.median:.0f} steps/s")
            log(f"  {database}: Alur serializer in the same loop {lean.steps_per_s.median:.0f} steps/s")
        if url is not None:
            for count in config.processes:
                row = processes(database, url, Path(tmp), count, config)
                row.vs_naive = row.steps_per_s.median / naive.steps_per_s.median
                rows.append(row)
                log(f"  {database}: {count} processes {row.steps_per_s.median:.0f} steps/s")
    return rows


TARGET_STEPS_PER_S = 500
TARGET_VS_NAIVE = 5
