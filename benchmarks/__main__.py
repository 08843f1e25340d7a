"""`python -m benchmarks` (`make bench`): scheduler cost and timer lateness at scale.

Runs on SQLite always, and on PostgreSQL when ALUR_BENCH_POSTGRES_URL is set.
That database's public schema is DROPPED and recreated: point it at a
database of its own, never at real data.

Targets: an idle pass under 10 ms (median) at every size; p99 lateness
within the poll interval + 1 s. Lateness is fired_at - due_at of timers that
come due while the scheduler loop runs on the real clock.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.timers import Result, measure

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    args = _arguments()
    logging.basicConfig(level=logging.WARNING)
    databases = [("sqlite", None)]
    if os.environ.get("ALUR_BENCH_POSTGRES_URL"):
        databases.append(("postgresql", os.environ["ALUR_BENCH_POSTGRES_URL"]))
    else:
        print("ALUR_BENCH_POSTGRES_URL not set: SQLite only")
    results = []
    print(_header())
    for name, url in databases:
        if args.database and name != args.database:
            continue
        for size in args.sizes:
            result = measure(name, url, size, args.interval, args.samples, args.window, args.idle_passes)
            results.append(result)
            print(_line(result), flush=True)
    _write(results)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")],
                        default=[1_000, 10_000, 100_000], help="active instances, comma separated")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), help="only this one")
    parser.add_argument("--interval", type=float, default=1.0, help="scheduler poll interval (s)")
    parser.add_argument("--samples", type=int, default=200, help="timers coming due during the lateness run")
    parser.add_argument("--window", type=float, default=10.0, help="seconds over which the samples come due")
    parser.add_argument("--idle-passes", type=int, default=300)
    return parser.parse_args()


COLUMNS = ("database", "instances", "setup s", "idle p50 ms", "idle p99 ms", "idle max ms",
           "late p50 s", "late p99 s", "late max s", "targets")


def _header() -> str:
    return " | ".join(f"{c:>11}" for c in COLUMNS) + "\n" + "-+-".join("-" * 11 for _ in COLUMNS)


def _line(r: Result) -> str:
    values = (r.database, f"{r.instances:,}", f"{r.setup_s:.1f}", f"{r.idle_p50_ms:.2f}", f"{r.idle_p99_ms:.2f}",
              f"{r.idle_max_ms:.2f}", f"{r.late_p50_s:.3f}", f"{r.late_p99_s:.3f}", f"{r.late_max_s:.3f}",
              "ok" if r.meets_targets else "MISSED")
    return " | ".join(f"{v:>11}" for v in values)


def _write(results: list[Result]) -> None:
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    payload = {"run_at": stamp, "results": [r.as_dict() for r in results]}
    (RESULTS / f"timers-{stamp}.json").write_text(json.dumps(payload, indent=2))
    table = "\n".join([_header(), *(_line(r) for r in results)]) + "\n"
    (RESULTS / f"timers-{stamp}.txt").write_text(table)
    print(f"\nresults written to {RESULTS}/timers-{stamp}.json and .txt")


if __name__ == "__main__":
    main()
