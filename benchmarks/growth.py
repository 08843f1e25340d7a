"""Growth: what a step, a worklist query and a scheduler pass cost as the database grows.

Measured on the databases of benchmarks.timers.scale (1k, 10k and 100k
active instances by default), before the timer measurements add their
samples:

* step: `services.claim` + `services.complete` of steps 1-3 of instances
  started for the purpose (in Bidang aptika);
* worklist query: `engine.worklist.tasks` for `aptika.implementasi`, who
  sees the same 30 tasks at every size (the clones live in Bidang of their
  own);
* scheduler pass: an idle `Scheduler.run_pass()` (nothing due).

The verdict: the cost at the largest size may be at most 1.25 x ln(largest)
/ ln(smallest) times the cost at the smallest, i.e. grow no faster than a
logarithm of the size (with a quarter for noise). The medians are plotted
to benchmarks/results/growth.png.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import Summary
from benchmarks.throughput import KEY, next_task, step_data
from engine import services, worklist
from engine.scheduler import Scheduler
from tests.integration.sop import performer

METRICS = ("step", "worklist", "scheduler")
LABELS = {"step": "step (claim + complete) ms", "worklist": "worklist query ms", "scheduler": "idle scheduler pass ms"}


@dataclass
class Config:
    instances: int = 20  # started per size; steps 1-3 of each are timed
    samples: int = 200  # worklist queries and scheduler passes per size

    @classmethod
    def quick(cls) -> "Config":
        return cls(instances=6, samples=60)


@dataclass
class Point:
    database: str
    instances: int
    metric: str
    ms: Summary
    visible: int | None = None

    def as_dict(self) -> dict:
        return {**self.__dict__, "ms": self.ms.as_dict()}


def measure(s, config: Config) -> list[Point]:
    rt = s.rt
    steps: list[float] = []
    for n in range(config.instances + 1):  # the first warms up
        instance_id = services.start(rt, KEY, "aptika", f"Pertumbuhan {n}", None)
        for _ in range(3):
            task = next_task(rt, instance_id)
            login = performer(task.step, "aptika")
            data = step_data(task.step, iter([True]), False)
            began = time.perf_counter()
            services.claim(rt, task.id, login)
            services.complete(rt, task.id, login, data)
            if n:
                steps.append((time.perf_counter() - began) * 1000)
    visible = len(worklist.tasks(rt, "aptika.implementasi"))
    queries = _timed(lambda: worklist.tasks(rt, "aptika.implementasi"), config.samples)
    scheduler = Scheduler(rt)
    passes = _timed(scheduler.run_pass, config.samples)
    return [Point(s.database, s.instances, "step", Summary.of(steps)),
            Point(s.database, s.instances, "worklist", Summary.of(queries), visible),
            Point(s.database, s.instances, "scheduler", Summary.of(passes))]


def _timed(fn, samples: int) -> list[float]:
    for _ in range(10):
        fn()
    times = []
    for _ in range(samples):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return times


def allowed_ratio(smallest: int, largest: int) -> float:
    return 1.25 * math.log(largest) / math.log(smallest)


def verdicts(points: list[Point]) -> list[dict]:
    """Per database and metric: the medians by size, the ratio largest/smallest, and whether it is allowed."""
    out = []
    for database in sorted({p.database for p in points}):
        for metric in METRICS:
            series = sorted((p for p in points if p.database == database and p.metric == metric),
                            key=lambda p: p.instances)
            if len(series) < 2:
                continue
            first, last = series[0], series[-1]
            ratio = last.ms.median / first.ms.median
            allowed = allowed_ratio(first.instances, last.instances)
            out.append({"database": database, "metric": metric,
                        "medians_ms": {p.instances: round(p.ms.median, 3) for p in series},
                        "ratio": ratio, "allowed": allowed, "ok": ratio <= allowed})
    return out


def plot(points: list[Point], path: Path) -> Path | None:
    """The medians (and p95, dashed) per metric against the size, one line per database."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install -e '.[bench]'): no growth.png")
        return None
    figure, axes = plt.subplots(1, len(METRICS), figsize=(5 * len(METRICS), 4), constrained_layout=True)
    for axis, metric in zip(axes, METRICS):
        for database in sorted({p.database for p in points}):
            series = sorted((p for p in points if p.database == database and p.metric == metric),
                            key=lambda p: p.instances)
            if not series:
                continue
            sizes = [p.instances for p in series]
            line, = axis.plot(sizes, [p.ms.median for p in series], marker="o", label=f"{database} median")
            axis.plot(sizes, [p.ms.p95 for p in series], linestyle="--", color=line.get_color(), alpha=0.6,
                      label=f"{database} p95")
        axis.set_xscale("log")
        axis.set_ylim(bottom=0)
        axis.set_xlabel("active instances")
        axis.set_title(LABELS[metric])
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize="small")
    figure.suptitle("Alur: cost as the database grows")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
