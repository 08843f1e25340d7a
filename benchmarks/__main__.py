"""`python -m benchmarks` (`make bench`): Alur's benchmarks, on SQLite and PostgreSQL.

Runs on SQLite always, and on PostgreSQL when ALUR_BENCH_POSTGRES_URL is set.
That database's public schema is DROPPED and recreated: point it at a
database of its own, never at real data.

Benchmarks (all by default; choose with --only, e.g. --only engine,http):

  engine    whole SOP runs through the service layer (steps/s, one process;
            several processes on PostgreSQL) and the naive SpiffWorkflow
            baseline. Targets: >= 500 steps/s on SQLite, >= 5x the baseline.
  http      claim + complete through the REST API against `alur serve
            --workers 2`, concurrent clients. Target: >= 200 completions/s.
  worklist  engine.worklist.tasks and the worklist page with 100,000 open and
            1,000,000 completed tasks. Target: p95 < 30 ms.
  timers    idle scheduler pass and timer lateness at 1k/10k/100k active
            instances (in-process loop and an `alur scheduler` process).
            Targets: idle pass median < 10 ms, p99 lateness <= interval + 1 s.
  memory    peak RSS (VmHWM) of a gunicorn worker after the http run and of
            the `alur scheduler` process of the timers run (so it runs those
            two). Target: web worker < 200 MB.
  monitoring
            the dashboard's figures and the recap over a year of 1,200
            activities (18,000 completed steps). No target: reported.
  growth    a step, a worklist query and an idle scheduler pass at each size
            of the timers run; must grow no faster than a logarithm. Plot:
            benchmarks/results/growth.png.

Every figure is a median and percentiles over repeated runs or samples.
Results: benchmarks/results/bench-<time>.json and .txt (and latest.*).
`--quick` runs everything smaller (a few minutes).
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import api, growth, monitoring_year, throughput, timers, worklist_latency
from benchmarks.common import databases, machine

RESULTS = Path(__file__).parent / "results"
BENCHMARKS = ("engine", "http", "worklist", "monitoring", "timers", "memory", "growth")


def main() -> None:
    args = _arguments()
    logging.basicConfig(level=logging.WARNING)
    selected = set(args.only)
    dbs = databases(args.database)
    if args.database == "postgresql" and not dbs:
        raise SystemExit("--database postgresql needs ALUR_BENCH_POSTGRES_URL")
    report = Report(machine(), args)
    if not any(name == "postgresql" for name, _ in dbs) and args.database is None:
        report.say("ALUR_BENCH_POSTGRES_URL not set: SQLite only")
    report.say(f"machine: {report.machine['nproc']} x {report.machine['cpu']}, {report.machine['ram_gb']} GB RAM, "
               f"Python {report.machine['python']}, SQLite {report.machine['sqlite']}, "
               f"PostgreSQL {report.machine['postgresql'] or '-'}; load average "
               f"{' '.join(f'{x:.2f}' for x in report.machine['load_average_at_start'])}")
    began = time.perf_counter()
    if "engine" in selected:
        report.section("engine")
        config = throughput.Config.quick() if args.quick else throughput.Config()
        for name, url in dbs:
            report.engine += throughput.run(name, url, config, log=report.say)
        report.table(*engine_table(report.engine))
    if selected & {"http", "memory"}:
        report.section("http")
        config = api.Config.quick() if args.quick else api.Config()
        for name, url in dbs:
            report.http.append(api.run(name, url, config, log=report.say))
        report.table(*http_table(report.http))
    if "worklist" in selected:
        report.section("worklist")
        config = worklist_latency.Config.quick() if args.quick else worklist_latency.Config()
        for name, url in dbs:
            report.worklist += worklist_latency.run(name, url, config, log=report.say)
        report.table(*worklist_table(report.worklist))
    if "monitoring" in selected:
        report.section("monitoring")
        config = monitoring_year.Config.quick() if args.quick else monitoring_year.Config()
        for name, url in dbs:
            report.monitoring += monitoring_year.run(name, url, config, log=report.say)
        report.table(*monitoring_table(report.monitoring))
    if selected & {"timers", "memory", "growth"}:
        report.section("timers" if selected & {"timers", "memory"} else "growth")
        sizes = args.sizes or ([100, 1_000, 10_000] if args.quick else [1_000, 10_000, 100_000])
        growth_config = growth.Config.quick() if args.quick else growth.Config()
        samples = args.samples or (50 if args.quick else 200)
        window = args.window or (3.0 if args.quick else 10.0)
        idle_passes = args.idle_passes or (100 if args.quick else 300)
        for name, url in dbs:
            for size in sizes:
                with timers.scale(name, url, size) as s:
                    report.say(f"  {name}: {size:,} instances ready in {s.setup_s:.1f}s")
                    if "growth" in selected:
                        report.growth += growth.measure(s, growth_config)
                    if selected & {"timers", "memory"}:
                        # The `alur scheduler` process runs at the largest size: its lateness there,
                        # and its memory (the figure asked for).
                        in_process = size == max(sizes)
                        report.timers.append(timers.measure_on(s, args.interval, samples, window, idle_passes,
                                                               subprocess_scheduler=in_process))
                        report.say(f"  {name}: {size:,} instances: {_timer_line(report.timers[-1])}")
        if selected & {"timers", "memory"}:
            report.table(*timers_table(report.timers))
        if "growth" in selected:
            report.section("growth")
            report.growth_verdicts = growth.verdicts(report.growth)
            report.table(*growth_table(report.growth))
            report.table(*growth_verdict_table(report.growth_verdicts))
            RESULTS.mkdir(exist_ok=True)
            if (path := growth.plot(report.growth, RESULTS / "growth.png")) is not None:
                report.say(f"plot: {path}")
    if "memory" in selected:
        report.section("memory")
        report.table(*memory_table(report.http, report.timers))
    report.section("summary")
    report.table(*summary_table(report))
    report.say(f"\nall benchmarks took {time.perf_counter() - began:.0f}s")
    report.write()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", type=_names, default=list(BENCHMARKS),
                        help=f"comma separated, from: {','.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats (a few minutes)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), help="only this one")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=None,
                        help="timers/growth: active instances, comma separated (default 1000,10000,100000; "
                             "quick 100,1000,10000)")
    parser.add_argument("--interval", type=float, default=1.0, help="timers: scheduler poll interval (s)")
    parser.add_argument("--samples", type=int, default=None,
                        help="timers: timers coming due during a lateness run (default 200; quick 50)")
    parser.add_argument("--window", type=float, default=None,
                        help="timers: seconds over which the samples come due (default 10; quick 3)")
    parser.add_argument("--idle-passes", type=int, default=None, help="timers: idle passes (default 300; quick 100)")
    return parser.parse_args()


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    return names


# -- the report -------------------------------------------------------------------------------

class Report:
    def __init__(self, machine_info: dict, args: argparse.Namespace):
        self.machine = machine_info
        self.args = args
        self.lines: list[str] = []
        self.engine: list[throughput.Row] = []
        self.http: list[api.Result] = []
        self.worklist: list[worklist_latency.Row] = []
        self.monitoring: list[monitoring_year.Row] = []
        self.timers: list[timers.Result] = []
        self.growth: list[growth.Point] = []
        self.growth_verdicts: list[dict] = []

    def say(self, line: str) -> None:
        print(line, flush=True)
        self.lines.append(line)

    def section(self, name: str) -> None:
        self.say(f"\n== {name} ==")

    def table(self, columns: tuple[str, ...], rows: list[tuple]) -> None:
        cells = [[str(c) for c in columns]] + [[_cell(v) for v in row] for row in rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
        self.say(" | ".join(c.rjust(w) for c, w in zip(cells[0], widths)))
        self.say("-+-".join("-" * w for w in widths))
        for row in cells[1:]:
            self.say(" | ".join(c.rjust(w) for c, w in zip(row, widths)))

    def write(self) -> None:
        RESULTS.mkdir(exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        payload = {
            "run_at": stamp, "machine": self.machine,
            "options": {k: v for k, v in vars(self.args).items()},
            "engine": [r.as_dict() for r in self.engine],
            "http": [r.as_dict() for r in self.http],
            "worklist": [r.as_dict() for r in self.worklist],
            "monitoring": [r.as_dict() for r in self.monitoring],
            "timers": [r.as_dict() for r in self.timers],
            "growth": [p.as_dict() for p in self.growth],
            "growth_verdicts": self.growth_verdicts,
            "summary": [dict(zip(SUMMARY_COLUMNS, row)) for row in summary_table(self)[1]],
        }
        text = json.dumps(payload, indent=2, default=str)
        for name in (f"bench-{stamp}.json", "latest.json"):
            (RESULTS / name).write_text(text)
        for name in (f"bench-{stamp}.txt", "latest.txt"):
            (RESULTS / name).write_text("\n".join(self.lines) + "\n")
        print(f"\nresults written to {RESULTS}/bench-{stamp}.json and .txt (also latest.*)")


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _ok(condition: bool | None) -> str:
    return "-" if condition is None else ("ok" if condition else "MISSED")


def _timer_line(r: timers.Result) -> str:
    line = f"idle p50 {r.idle_p50_ms:.2f} ms, lateness p99 {r.late_p99_s:.3f}s"
    if r.proc_late_p99_s is not None:
        line += f" (scheduler process {r.proc_late_p99_s:.3f}s, peak RSS {r.scheduler_peak_rss_mb:.0f} MB)"
    return line


# -- tables ----------------------------------------------------------------------------------------

def engine_table(rows: list[throughput.Row]):
    columns = ("database", "mode", "repeats", "steps/repeat", "steps/s p50", "min", "max", "steps/CPU-s",
               "step ms p50", "p95", "p99", "claim ms p50", "complete ms p50", "x naive")
    return columns, [
        (r.database, r.mode, r.repeats, r.steps_per_repeat, r.steps_per_s.median, r.steps_per_s.min,
         r.steps_per_s.max, r.cpu_steps_per_s.median if r.cpu_steps_per_s else None,
         r.step_ms.median if r.step_ms else None, r.step_ms.p95 if r.step_ms else None,
         r.step_ms.p99 if r.step_ms else None, r.claim_ms.median if r.claim_ms else None,
         r.complete_ms.median if r.complete_ms else None, r.vs_naive)
        for r in rows]


def http_table(rows: list[api.Result]):
    columns = ("database", "workers", "clients", "rounds", "completions/round", "completions/s p50", "min", "max",
               "complete ms p50", "p95", "p99", "claim ms p50", "p95", "p99", "errors", "worker CPU ms/completion",
               "client CPU ms/completion", "CPU bound /s", "busiest worker's CPU share")
    return columns, [
        (r.database, r.workers, r.clients, r.rounds, r.completions_per_round, r.completions_per_s.median,
         r.completions_per_s.min, r.completions_per_s.max, r.complete_ms.median, r.complete_ms.p95,
         r.complete_ms.p99, r.claim_ms.median, r.claim_ms.p95, r.claim_ms.p99, r.errors,
         r.worker_cpu_ms_per_completion, r.client_cpu_ms_per_completion, r.cpu_bound_completions_per_s,
         r.busiest_worker_share)
        for r in rows]


def worklist_table(rows: list[worklist_latency.Row]):
    columns = ("database", "what", "user", "rows seen", "open tasks", "completed tasks", "p50 ms", "p95 ms",
               "p99 ms", "max ms", "target")
    return columns, [
        (r.database, r.what, r.user, r.rows, r.open_tasks, r.completed_tasks, r.ms.median, r.ms.p95, r.ms.p99,
         r.ms.max, _ok(r.ms.p95 < worklist_latency.TARGET_P95_MS))
        for r in rows]


def monitoring_table(rows: list[monitoring_year.Row]):
    columns = ("database", "what", "activities", "completed steps", "p50 ms", "p95 ms", "max ms", "runs")
    return columns, [(r.database, r.what, r.activities, r.task_rows, r.ms.median, r.ms.p95, r.ms.max, r.ms.n)
                     for r in rows]


def timers_table(rows: list[timers.Result]):
    columns = ("database", "instances", "setup s", "idle p50 ms", "idle p99 ms", "idle max ms", "late p50 s",
               "late p99 s", "late max s", "process late p50 s", "process late p99 s", "scheduler RSS MB",
               "targets")
    return columns, [
        (r.database, r.instances, r.setup_s, r.idle_p50_ms, r.idle_p99_ms, r.idle_max_ms, r.late_p50_s,
         r.late_p99_s, r.late_max_s, r.proc_late_p50_s, r.proc_late_p99_s, r.scheduler_peak_rss_mb,
         _ok(r.meets_targets))
        for r in rows]


def growth_table(points: list[growth.Point]):
    columns = ("database", "metric", "instances", "p50 ms", "p95 ms", "p99 ms", "samples", "rows seen")
    return columns, [(p.database, p.metric, p.instances, p.ms.median, p.ms.p95, p.ms.p99, p.ms.n, p.visible)
                     for p in sorted(points, key=lambda p: (p.database, growth.METRICS.index(p.metric),
                                                            p.instances))]


def growth_verdict_table(verdicts: list[dict]):
    columns = ("database", "metric", "medians ms by size", "largest/smallest", "allowed (log)", "verdict")
    return columns, [
        (v["database"], v["metric"], "  ".join(f"{k:,}: {m:.2f}" for k, m in v["medians_ms"].items()), v["ratio"],
         v["allowed"], _ok(v["ok"]))
        for v in verdicts]


def memory_table(http_rows: list[api.Result], timer_rows: list[timers.Result]):
    columns = ("database", "process", "peak RSS MB (VmHWM)", "target")
    rows = []
    for r in http_rows:
        for n, rss in enumerate(r.worker_peak_rss_mb):
            rows.append((r.database, f"gunicorn worker {n + 1}", rss, _ok(rss < api.TARGET_WORKER_RSS_MB)))
        rows.append((r.database, "gunicorn master", r.master_peak_rss_mb, "-"))
    for r in timer_rows:
        if r.scheduler_peak_rss_mb is not None:
            rows.append((r.database, f"alur scheduler ({r.instances:,} instances)", r.scheduler_peak_rss_mb, "-"))
    return columns, rows


SUMMARY_COLUMNS = ("benchmark", "database", "measure", "p50", "p95", "target", "verdict")


def summary_table(report: Report):
    rows = []
    for r in report.engine:
        if r.mode == "service layer":
            rows.append(("engine", r.database, "steps/s, service layer, 1 process", r.steps_per_s.median, None,
                         f">= {throughput.TARGET_STEPS_PER_S}" if r.database == "sqlite" else "-",
                         _ok(r.steps_per_s.median >= throughput.TARGET_STEPS_PER_S) if r.database == "sqlite"
                         else "-"))
            rows.append(("engine", r.database, "x naive baseline (plain table)", r.vs_naive, None,
                         f">= {throughput.TARGET_VS_NAIVE}", _ok(r.vs_naive >= throughput.TARGET_VS_NAIVE)))
        elif r.processes > 1:
            rows.append(("engine", r.database, f"steps/s, {r.processes} processes", r.steps_per_s.median, None, "-",
                         "-"))
        else:  # the naive baseline and the like-for-like loop
            rows.append(("engine", r.database, f"steps/s, {r.mode}" + (f" (x{r.vs_naive:.2f} naive)"
                         if r.vs_naive else ""), r.steps_per_s.median, None, "-", "-"))
    for r in report.http:
        rows.append(("http", r.database, f"completions/s ({r.clients} clients, {r.workers} workers)",
                     r.completions_per_s.median, None, f">= {api.TARGET_COMPLETIONS_PER_S}",
                     _ok(r.completions_per_s.median >= api.TARGET_COMPLETIONS_PER_S)))
        rows.append(("http", r.database, "complete latency ms (p99 " + _cell(r.complete_ms.p99) + ")",
                     r.complete_ms.median, r.complete_ms.p95, "-", "-"))
    for r in report.worklist:
        rows.append(("worklist", r.database, f"{r.what}, {r.user} ({r.rows} rows)", r.ms.median, r.ms.p95,
                     f"p95 < {worklist_latency.TARGET_P95_MS} ms", _ok(r.ms.p95 < worklist_latency.TARGET_P95_MS)))
    for r in report.monitoring:
        rows.append(("monitoring", r.database, f"{r.what}, a year of {r.activities:,} activities", r.ms.median,
                     r.ms.p95, "-", "-"))
    for r in report.timers:
        rows.append(("timers", r.database, f"idle pass ms, {r.instances:,} instances", r.idle_p50_ms, None,
                     "p50 < 10 ms", _ok(r.idle_p50_ms < 10)))
        late = max(r.late_p99_s, r.proc_late_p99_s or 0)
        rows.append(("timers", r.database, f"lateness s (p99 {_cell(late)}), {r.instances:,} instances",
                     r.late_p50_s, None, f"p99 <= {r.interval_s + 1:g} s", _ok(late <= r.interval_s + 1)))
    for r in report.http:
        worst = max(r.worker_peak_rss_mb) if r.worker_peak_rss_mb else float("nan")
        rows.append(("memory", r.database, "web worker peak RSS MB", worst, None,
                     f"< {api.TARGET_WORKER_RSS_MB}", _ok(worst < api.TARGET_WORKER_RSS_MB)))
    for r in report.timers:
        if r.scheduler_peak_rss_mb is not None and r.instances == max(t.instances for t in report.timers):
            rows.append(("memory", r.database, f"scheduler peak RSS MB ({r.instances:,} instances)",
                         r.scheduler_peak_rss_mb, None, "-", "-"))
    for v in report.growth_verdicts:
        sizes = list(v["medians_ms"])
        rows.append(("growth", v["database"], f"{v['metric']}: x{v['ratio']:.2f} from {sizes[0]:,} to {sizes[-1]:,}",
                     v["medians_ms"][sizes[-1]], None, f"<= x{v['allowed']:.2f} (log)", _ok(v["ok"])))
    return SUMMARY_COLUMNS, rows


if __name__ == "__main__":
    main()
