"""Monitoring figures, exports, search and archive, on a year of SOP work.

The year is generated once per database through the real service layer: a
few dozen instances of all four Bidang, driven step by step while a
ManualClock moves with random (seeded) delays, so some steps are late, some
results are sent back at step 5 and some problems are raised at step 12.
Every figure is then checked against a plain computation written here from
`services.show()` (task rows and event history), not from the SQL of
`engine.monitoring`.
"""
from __future__ import annotations

import csv
import io
import math
import random
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from difflib import SequenceMatcher

import pytest
from openpyxl import load_workbook
from sqlalchemy import event

from engine import bootstrap, monitoring, queries, schema, services
from engine.clock import ManualClock
from engine.config import Settings
from engine.errors import Conflict, Forbidden
from engine.runtime import Runtime
from tests.conftest import DATABASES, fresh_database
from tests.integration.sop import STEP_DATA, STEP_FILES, open_task, performer
from web.app import create_app

UTC = timezone.utc
BIDANG = ("sekretariat", "aptika", "ikp", "statistik-persandian")
# Monday 5 January 2026, 08:30 WIB.
YEAR_START = datetime(2026, 1, 5, 1, 30, tzinfo=UTC)
INSTANCES = 32
TITLES = {
    "sekretariat": ["Rapat koordinasi perencanaan anggaran", "Penyusunan laporan keuangan dinas",
                    "Pengelolaan arsip dinas", "Pelatihan pegawai"],
    "aptika": ["Layanan email dinas", "Pengembangan aplikasi Sidela", "Sosialisasi keamanan informasi",
               "Pemeliharaan jaringan internet"],
    "ikp": ["Siaran pers wali kota", "Layanan email dinas untuk humas", "Pengelolaan media sosial",
            "Sosialisasi keterbukaan informasi publik"],
    "statistik-persandian": ["Sosialisasi keamanan informasi persandian", "Survei statistik sektoral",
                             "Pengelolaan sertifikat elektronik", "Penyusunan data statistik sektoral"],
}
MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
          "November", "Desember"]
# Delays between two steps by standard time: some well within, some late.
DELAYS = {
    "P30D": [timedelta(days=d) for d in (10, 25, 38, 60)],
    "P7D": [timedelta(days=d) for d in (2, 6, 12, 20)],
    "P1D": [timedelta(hours=2), timedelta(hours=20), timedelta(days=3), timedelta(days=6)],
    "short": [timedelta(minutes=10), timedelta(minutes=25), timedelta(hours=2), timedelta(hours=26)],
}
STANDARD = {1: "P30D", 2: "P30D", 10: "P30D", 11: "P7D", 15: "P7D", 12: "P1D", 13: "P1D", 14: "P1D"}
# Instances left open: instance index -> how many steps it gets done.
LEFT_OPEN = {5: 9, 13: 3, 21: 12, 28: 1, 29: 4, 30: 0, 31: 2}


@dataclass
class Year:
    rt: Runtime
    clock: ManualClock
    ids: list[int]
    now: datetime
    shows: dict[int, dict] = field(default_factory=dict)


def generate_year(rt: Runtime, clock: ManualClock, rng: random.Random, count: int = INSTANCES) -> list[int]:
    """Drive `count` instances through the service layer over a year; return their ids."""
    ids = []
    for i in range(count):
        bidang = BIDANG[i % 4]
        start = YEAR_START + timedelta(days=11 * i, hours=rng.choice((0, 1, 3, 6)))
        clock.set(start)
        title = TITLES[bidang][(i // 4) % 4]
        local = start.astimezone(rt.calendar.tz)
        instance_id = services.start(rt, "monev_kegiatan_bidang", bidang, title, f"{bidang}.implementasi",
                                     f"{MONTHS[local.month - 1]} {local.year}")
        ids.append(instance_id)
        rejections = rng.choice((0, 0, 0, 1, 1, 2))
        kendala = rng.random() < 0.4
        path = [1, 2] + [3, 4, 5] * (rejections + 1) + [6, 7, 8, 9, 10, 11, 12] + ([13, 14] if kendala else []) + [15]
        verdicts = iter([False] * rejections + [True])
        for n, step in enumerate(path):
            if n == LEFT_OPEN.get(i, len(path)):
                break
            clock.advance(seconds=rng.choice(DELAYS[STANDARD.get(step, "short")]).total_seconds())
            data = dict(STEP_DATA.get(step, {}))
            files = STEP_FILES.get(step)
            if step == 1:
                first = clock.now().astimezone(rt.calendar.tz).date() + timedelta(days=rng.randint(0, 10))
                data.update(rencana_kegiatan=f"Rencana {title}", tanggal_mulai=first.isoformat(),
                            tanggal_selesai=(first + timedelta(days=rng.randint(5, 40))).isoformat())
            elif step == 5:
                data = {"terverifikasi": next(verdicts), "catatan": "cek"}
            elif step == 12:
                data = {"ada_kendala": kendala, "uraian_kendala": f"Kendala kegiatan {i}" if kendala else ""}
            elif step == 13:
                data = {"analisa_permasalahan": f"Analisa {i}", "solusi": f"Solusi {i}"}
                if i % 2:
                    files = {"notulen_rapat": ("notulen.pdf", b"%PDF-1.4 notulen " + str(i).encode())}
            task = open_task(rt, instance_id)
            assert task["step"] == step
            login = performer(step, bidang)
            services.claim(rt, task["id"], login)
            services.complete(rt, task["id"], login, data, files=files)
    return ids


@pytest.fixture(scope="module", params=DATABASES)
def year(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"monitoring-{request.param}")
    url = fresh_database(request.param, tmp)
    clock = ManualClock(YEAR_START)
    rt = Runtime(Settings.from_env(database_url=url, data_dir=tmp / "data"), clock=clock)
    bootstrap.init(rt, demo=True)
    ids = generate_year(rt, clock, random.Random(20260105))
    now = datetime(2027, 1, 20, 3, 0, tzinfo=UTC)
    clock.set(now)
    data = Year(rt, clock, ids, now)
    data.shows = {i: services.show(rt, i) for i in ids}
    yield data
    rt.dispose()


@pytest.fixture(scope="module")
def client_for(year):
    app = create_app(runtime=year.rt, testing=True)
    app.config["WTF_CSRF_ENABLED"] = False

    def sign_in(login: str):
        client = app.test_client()
        response = client.post("/masuk", data={"login": login, "password": bootstrap.DEMO_PASSWORD})
        assert response.status_code == 302
        return client
    return sign_in


# -- the plain computation ---------------------------------------------------------

def at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def minutes(rt, a: str, b: str) -> float:
    return rt.calendar.working_time_between(at(a), at(b)) / timedelta(minutes=1)


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(q * len(ordered)) - 1]


def selected(year: Year, start: date, end: date, bidang: str | None = None) -> list[dict]:
    tz = year.rt.calendar.tz
    return [info for info in year.shows.values()
            if start <= at(info["created_at"]).astimezone(tz).date() <= end
            and (bidang is None or info["bidang"] == bidang)]


def completed_steps(infos: list[dict]) -> list[dict]:
    return [{**s, "title": info["title"]} for info in infos for s in info["steps"] if s["state"] == "completed"]


def is_late_now(step: dict, now: datetime) -> bool:
    return step["state"] == "open" and (step["overdue"] or (step["due_at"] is not None and at(step["due_at"]) < now))


def expected_figures(year: Year, start: date, end: date, bidang: str | None = None) -> dict:
    rt, now, tz = year.rt, year.now, year.rt.calendar.tz
    infos = selected(year, start, end, bidang)
    by_bidang = {}
    for info in infos:
        row = by_bidang.setdefault(info["bidang"], {"total": 0, "running": 0, "completed": 0, "overdue": 0,
                                                    "at_step": defaultdict(int)})
        row["total"] += 1
        row[info["state"]] += 1
        if any(is_late_now(s, now) for s in info["steps"]):
            row["overdue"] += 1
        for s in info["steps"]:
            if s["state"] == "open":
                row["at_step"][s["step"]] += 1
    steps = defaultdict(lambda: {"done": 0, "on_time": 0, "minutes": [], "allowed": [], "cases": []})
    cells = defaultdict(lambda: {"done": 0, "on_time": 0, "minutes": []})
    per_bidang = defaultdict(lambda: [0, 0])
    months = defaultdict(lambda: [0, 0])
    for s in completed_steps(infos):
        took = minutes(rt, s["created_at"], s["completed_at"])
        on_time = at(s["completed_at"]) <= at(s["due_at"])
        for bucket in (steps[s["step"]], cells[(s["step"], s["bidang"])]):
            bucket["done"] += 1
            bucket["on_time"] += on_time
            bucket["minutes"].append(took)
        steps[s["step"]]["allowed"].append(minutes(rt, s["created_at"], s["due_at"]))
        steps[s["step"]]["cases"].append((-took, s["instance_id"], s["completed_by"]))
        per_bidang[s["bidang"]][0] += 1
        per_bidang[s["bidang"]][1] += on_time
        month = at(s["completed_at"]).astimezone(tz).strftime("%Y-%m")
        months[month][0] += 1
        months[month][1] += on_time
    open_now = defaultdict(int)
    for info in infos:
        for s in info["steps"]:
            if s["state"] == "open":
                open_now[s["step"]] += 1
    verification = defaultdict(lambda: [0, 0])
    problems = {}
    for info in infos:
        for e in info["history"]:
            if e["kind"] != "step_completed":
                continue
            if e["step"] == 5:
                verification[info["bidang"]][0] += 1
                verification[info["bidang"]][1] += e["data"]["terverifikasi"] is False
            elif e["step"] == 12 and e["data"]["ada_kendala"]:
                problems[info["id"]] = {"uraian": e["data"]["uraian_kendala"], "analisa": None, "solusi": None,
                                        "laporan": None}
            elif e["step"] == 13:
                problems[info["id"]].update(analisa=e["data"]["analisa_permasalahan"], solusi=e["data"]["solusi"])
            elif e["step"] == 14:
                problems[info["id"]]["laporan"] = int(e["data"]["laporan_solusi"])
    return {"by_bidang": by_bidang, "steps": steps, "cells": cells, "per_bidang": per_bidang, "months": months,
            "open_now": open_now, "verification": verification, "problems": problems}


WORD = re.compile(r"[0-9a-z]+")


def words(title: str) -> list[str]:
    return [w for w in WORD.findall(title.lower()) if w not in monitoring.STOPWORDS and not w.isdigit()]


def expected_overlaps(year: Year, start: date, end: date) -> dict[tuple[int, int], tuple[bool, bool]]:
    infos = selected(year, start, end)
    plans = {}
    for info in infos:
        for e in info["history"]:
            if e["kind"] == "step_completed" and e["step"] == 1:
                plans[info["id"]] = (date.fromisoformat(e["data"]["tanggal_mulai"]),
                                     date.fromisoformat(e["data"]["tanggal_selesai"]))
    found = {}
    for a in infos:
        for b in infos:
            if a["id"] >= b["id"] or a["bidang"] == b["bidang"]:
                continue
            wa, wb = set(words(a["title"])), set(words(b["title"]))
            jaccard = len(wa & wb) / len(wa | wb) if wa | wb else 0
            ratio = SequenceMatcher(None, " ".join(words(a["title"])), " ".join(words(b["title"]))).ratio()
            alike = bool(wa & wb) and (jaccard >= 0.5 or ratio >= 0.8)
            dates = a["id"] in plans and b["id"] in plans and \
                plans[a["id"]][0] <= plans[b["id"]][1] and plans[b["id"]][0] <= plans[a["id"]][1]
            if alike or dates:
                found[(a["id"], b["id"])] = (alike, dates)
    return found


# -- the figures ---------------------------------------------------------------------

WHOLE_YEAR = (date(2026, 1, 1), date(2026, 12, 31))


def test_the_generated_year_has_what_the_figures_need(year):
    infos = list(year.shows.values())
    assert len(infos) == INSTANCES
    assert {i["bidang"] for i in infos} == set(BIDANG)
    done = completed_steps(infos)
    assert len(done) > 400
    late = [s for s in done if at(s["completed_at"]) > at(s["due_at"])]
    assert 0.1 * len(done) < len(late) < 0.9 * len(done)
    assert any(i["state"] == "running" for i in infos) and any(i["state"] == "completed" for i in infos)
    history = [e for i in infos for e in i["history"] if e["kind"] == "step_completed"]
    assert any(e["step"] == 5 and e["data"]["terverifikasi"] is False for e in history)
    assert any(e["step"] == 12 and e["data"]["ada_kendala"] for e in history)
    assert any(is_late_now(s, year.now) for i in infos for s in i["steps"])


@pytest.mark.parametrize("start,end,bidang", [
    (*WHOLE_YEAR, None),
    (date(2026, 4, 1), date(2026, 7, 31), None),
    (*WHOLE_YEAR, "ikp"),
], ids=["year", "four-months", "one-bidang"])
def test_figures_equal_a_plain_computation(year, start, end, bidang):
    rt = year.rt
    figures = monitoring.figures(rt, "kadis", start, end, bidang)
    expected = expected_figures(year, start, end, bidang)

    # Activities by state per Bidang, and where the running ones are.
    got = {b["bidang"]: b for b in figures["by_bidang"]}
    assert set(got) == set(expected["by_bidang"])
    for code, row in expected["by_bidang"].items():
        for key in ("total", "running", "completed", "overdue"):
            assert got[code][key] == row[key], (code, key)
        assert got[code]["at_step"] == dict(row["at_step"])
    assert figures["totals"]["total"] == sum(r["total"] for r in expected["by_bidang"].values())

    # Per step: done, on time, rate, median, 90th percentile, worst cases.
    steps = {s["step"]: s for s in figures["steps"]}
    assert set(steps) == set(range(1, 16))
    for number, s in steps.items():
        e = expected["steps"].get(number)
        if e is None:
            assert s["done"] == 0 and s["median_minutes"] is None and s["level"] == "none"
            continue
        assert (s["done"], s["on_time"]) == (e["done"], e["on_time"]), number
        assert s["on_time_rate"] == pytest.approx(e["on_time"] / e["done"])
        assert s["median_minutes"] == pytest.approx(statistics.median(e["minutes"]))
        assert s["p90_minutes"] == pytest.approx(nearest_rank(e["minutes"], 0.9))
        assert s["standard_minutes"] == pytest.approx(statistics.median(e["allowed"]))
        worst = sorted(e["cases"])[:5]
        assert [(w["instance_id"], w["performer"]) for w in s["worst"]] == [(i, p) for _m, i, p in worst]
        assert [w["minutes"] for w in s["worst"]] == pytest.approx([-m for m, _i, _p in worst])
        ratio = statistics.median(e["minutes"]) / statistics.median(e["allowed"])
        assert s["level"] == ("green" if ratio <= 1 else "amber" if ratio <= 2 else "red")
        assert s["open_now"] == expected["open_now"].get(number, 0)
        # Per step x Bidang.
        for code, cell in s["by_bidang"].items():
            c = expected["cells"].get((number, code))
            if c is None:
                assert cell["done"] == 0
                continue
            assert (cell["done"], cell["on_time"]) == (c["done"], c["on_time"])
            assert cell["median_minutes"] == pytest.approx(statistics.median(c["minutes"]))
            assert cell["p90_minutes"] == pytest.approx(nearest_rank(c["minutes"], 0.9))
    assert any(s["level"] == "green" for s in steps.values())
    assert {s["level"] for s in steps.values()} - {"green"}, "the data should make some step amber or red"

    # Per Bidang on-time rate.
    for row in figures["bidang_on_time"]:
        done, on_time = expected["per_bidang"].get(row["bidang"], [0, 0])
        assert (row["done"], row["on_time"]) == (done, on_time)

    # The heat map: one entry per step element, the same numbers.
    assert len(figures["heatmap"]) == 15
    for entry in figures["heatmap"].values():
        step = steps[entry["step"]]
        assert (entry["open_now"], entry["on_time_rate"], entry["median_minutes"], entry["level"]) == \
            (step["open_now"], step["on_time_rate"], step["median_minutes"], step["level"])

    # Verification outcomes per Bidang.
    got = {v["bidang"]: v for v in figures["verification"]}
    assert set(got) == set(expected["verification"])
    for code, (decisions, sent_back) in expected["verification"].items():
        assert (got[code]["decisions"], got[code]["sent_back"]) == (decisions, sent_back)

    # Problems raised at step 12, with analysis, solution and the report document.
    got = {p["instance_id"]: p for p in figures["problems"]}
    assert set(got) == set(expected["problems"])
    for instance_id, e in expected["problems"].items():
        p = got[instance_id]
        assert (p["uraian_kendala"], p["analisa_permasalahan"], p["solusi"]) == (e["uraian"], e["analisa"], e["solusi"])
        if e["laporan"] is not None:
            assert e["laporan"] in {d["id"] for d in p["documents"] if d["field"] == "laporan_solusi"}

    # Trend: on-time rate per month of completion, from the period's first month to its last or to the
    # last month in which a step of the period's activities was finished, whichever is later: every
    # finished step is in it once, as in the step table.
    trend = {m["month"]: m for m in figures["trend"]}
    assert list(trend)[0] == start.strftime("%Y-%m")
    assert list(trend)[-1] == max([end.strftime("%Y-%m"), *expected["months"]])
    for month, (done, on_time) in expected["months"].items():
        assert (trend[month]["done"], trend[month]["on_time"]) == (done, on_time), month
    assert sum(m["done"] for m in trend.values()) == sum(s["done"] for s in steps.values())


def test_possible_overlaps_between_bidang(year):
    figures = monitoring.figures(year.rt, "kadis", *WHOLE_YEAR)
    overlaps = figures["overlaps"]
    expected = expected_overlaps(year, *WHOLE_YEAR)
    assert overlaps["count"] == len(expected)
    assert overlaps["similar_titles"] == sum(alike for alike, _d in expected.values())
    assert overlaps["dates_overlap"] == sum(dates for _a, dates in expected.values())
    assert overlaps["similar_titles"] > 0
    for pair in overlaps["pairs"]:
        key = (pair["a"]["id"], pair["b"]["id"])
        assert expected[key] == (pair["similar_title"], pair["dates_overlap"])
        assert pair["a"]["bidang"] != pair["b"]["bidang"]
    # Alike titles come first.
    flags = [p["similar_title"] for p in overlaps["pairs"]]
    assert flags == sorted(flags, reverse=True)
    titles = {(p["a"]["title"], p["b"]["title"]) for p in overlaps["pairs"] if p["similar_title"]}
    assert ("Layanan email dinas", "Layanan email dinas untuk humas") in titles
    assert not any("Survei statistik sektoral" in pair for pair in titles)


def test_figures_take_a_fixed_number_of_queries(year):
    statements = []

    def count(*_args):
        statements.append(1)
    event.listen(year.rt.engine, "before_cursor_execute", count)
    try:
        monitoring.figures(year.rt, "kadis", *WHOLE_YEAR)
        whole = len(statements)
        statements.clear()
        monitoring.figures(year.rt, "kadis", date(2026, 1, 1), date(2026, 1, 31))
        assert len(statements) == whole  # no query per row: the same count for 32 instances or 3
        statements.clear()
        monitoring.recap(year.rt, "kadis", *WHOLE_YEAR)
        assert len(statements) < 15
    finally:
        event.remove(year.rt.engine, "before_cursor_execute", count)


def test_who_may_see_the_figures(year):
    rt = year.rt
    kepala = monitoring.figures(rt, "kepala.aptika", *WHOLE_YEAR)
    assert kepala["bidang"] == "aptika" and {b["bidang"] for b in kepala["by_bidang"]} == {"aptika"}
    with pytest.raises(Forbidden):
        monitoring.figures(rt, "kepala.aptika", *WHOLE_YEAR, bidang="ikp")
    for login in ("sekretaris", "pemilik.proses", "kadis"):
        assert len(monitoring.figures(rt, login, *WHOLE_YEAR)["by_bidang"]) == 4
    for login in ("aptika.implementasi", "sekretariat.teknis", "admin"):
        with pytest.raises(Forbidden):
            monitoring.figures(rt, login)
        with pytest.raises(Forbidden):
            monitoring.recap(rt, login)


def test_every_bidang_list_of_the_figures_goes_by_name(year):
    """The pengawasan page lists the Bidang by name; the dashboard's filter, its activities per
    Bidang and on-time tables and the recap's summary went by code, so "Sekretariat" came before
    "Bidang Statistik dan Persandian" on one page and after it on the next."""
    rt = year.rt
    by_name = ["aptika", "ikp", "statistik-persandian", "sekretariat"]
    figures = monitoring.figures(rt, "kadis", *WHOLE_YEAR)
    assert [b["code"] for b in figures["bidang_choices"]] == by_name
    assert [b["bidang"] for b in figures["by_bidang"]] == by_name
    assert [b["bidang"] for b in figures["bidang_on_time"]] == by_name
    assert [b["bidang"] for b in monitoring.recap(rt, "kadis", *WHOLE_YEAR)["summary"]] == by_name


def test_the_dashboards_charts_are_images_with_a_name(year, client_for):
    """The charts' canvases carried a name but no role: a browser does not expose a canvas's name, so a
    screen reader skipped each chart as if it were not there."""
    html = client_for("kadis").get("/monitoring?dari=2026-01-01&sampai=2026-12-31").get_data(as_text=True)
    for chart, name in (("chart-steps", "Ketepatan waktu per langkah"), ("chart-bidang", "Ketepatan waktu per Bidang"),
                        ("chart-trend", "Tren per bulan")):
        assert f'<canvas id="{chart}" role="img" aria-label="{name}' in html, chart


def test_each_steps_heat_dot_says_its_level_in_words(year, client_for):
    """The step table's coloured dot (green, amber, red, grey: the heat map's level) was colour alone, with
    no words: a screen reader skipped it, and a colour-blind reader could not tell the levels apart.
    Each dot now says its level as the legend words it."""
    html = client_for("kadis").get("/monitoring?dari=2026-01-01&sampai=2026-12-31").get_data(as_text=True)
    steps = html[html.index('id="table-steps"'):html.index('id="per-bidang-waktu"')]
    dots = re.findall(r'<span class="heat heat-(\w+) dot" role="img" aria-label="([^"]+)" title="\2"></span>', steps)
    assert len(dots) == len(re.findall(r'class="heat heat-\w+ dot"', steps)) == steps.count("<tr data-step=")
    words = {"green": "median dalam standar", "amber": "sampai 2× standar", "red": "lebih dari 2× standar",
             "none": "belum ada data"}
    assert {level for level, _ in dots} >= {"green", "red"}
    assert all(words[level] == said for level, said in dots), dots


def test_the_step_tables_show_each_steps_name_as_text_not_only_a_tooltip(year, client_for):
    """The step tables showed only the step's number; its name was in a title attribute alone, which a
    keyboard or touch user cannot reach."""
    import html as markup
    page = markup.unescape(client_for("kadis").get("/monitoring?dari=2026-01-01&sampai=2026-12-31")
                           .get_data(as_text=True))
    for start, end in (('id="table-steps"', 'id="per-bidang-waktu"'), ('id="table-step-bidang"', 'id="terlama"')):
        table = page[page.index(start):page.index(end)]
        cells = re.findall(r'<td class="step-name"[^>]*>(.*?)</td>', table)
        assert cells and len(cells) == table.count("<tr data-step="), start
        for cell in cells:
            number, name = re.fullmatch(r'.*<b>([^<]+)</b> · (.+)', cell).groups()
            assert name.strip() and not name.startswith("<"), cell


def test_the_step_tables_overdue_count_says_it_is_overdue(year, client_for):
    """The step table's 'Kini' cell read '3 2': the open steps, then the overdue ones in an orange badge
    that only its colour told apart. A screen reader, and a colour-blind reader, met two bare numbers."""
    html = client_for("kadis").get("/monitoring?dari=2026-01-01&sampai=2026-12-31").get_data(as_text=True)
    steps = html[html.index('id="table-steps"'):html.index('id="per-bidang-waktu"')]
    badges = re.findall(r'<span class="badge overdue">([^<]*)</span>', steps)
    assert badges and all(re.fullmatch(r"\d+ terlambat", badge) for badge in badges), badges


def test_a_position_chip_with_late_activities_says_so_in_words(year, client_for):
    """A position chip ('3: 2', two activities at step 3) turned orange when some of them were late, and only
    its tooltip said how many: a colour-blind reader, or one using the keyboard, could not tell."""
    html = client_for("kadis").get("/monitoring?dari=2026-01-01&sampai=2026-12-31").get_data(as_text=True)
    table = html[html.index('id="table-bidang-state"'):html.index('id="peta-panas"')]
    late = re.findall(r'<span class="chip late"[^>]*>([^<]*)</span>', table)
    assert late and all(re.fullmatch(r"\d+: \d+ \(\d+ terlambat\)", chip) for chip in late), late
    calm = re.findall(r'<span class="chip"[^>]*>([^<]*)</span>', table)
    assert calm and all(re.fullmatch(r"\d+: \d+", chip) for chip in calm), calm


def test_dashboard_pages_and_permissions(year, client_for):
    staff = client_for("aptika.implementasi")
    for url in ("/monitoring", "/monitoring/rekap.xlsx", "/monitoring/rekap.csv", "/monitoring/diagram.bpmn"):
        assert staff.get(url).status_code == 403, url
    assert b'href="/monitoring"' not in staff.get("/").data

    kadis = client_for("kadis")
    page = kadis.get("/monitoring?dari=2026-01-01&sampai=2026-12-31")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for anchor in ('id="chart-steps"', 'id="chart-bidang"', 'id="chart-trend"', 'id="heatmap"', 'id="table-steps"',
                   'id="table-bidang"', 'id="table-trend"', 'id="table-verification"', 'id="table-problems"',
                   'id="table-overlaps"', "/vendor/chart.js/chart.umd.min.js", 'href="/monitoring"'):
        assert anchor in html, anchor
    assert kadis.get("/monitoring?dari=kemarin").status_code == 422
    for url in ("/monitoring?dari=0001-01-01&sampai=2026-01-01", "/monitoring?dari=2026-01-01&sampai=9999-12-31",
                "/monitoring/rekap.csv?dari=0001-01-01", "/monitoring/laporan?dari=0001-01-01",
                "/kegiatan/cari?dari=0001-01-01", "/kegiatan/cari?sampai=9999-12-31"):
        assert kadis.get(url).status_code == 422, url  # was a 500 (OverflowError at the time zone)
    # A trend of a thousand years of months: the report's PDF took a worker over a minute and a half.
    for url in ("/monitoring", "/monitoring/laporan", "/monitoring/laporan.pdf", "/monitoring/rekap.csv",
                "/monitoring/formulir-sop"):
        response = kadis.get(url + "?dari=1900-01-01&sampai=2999-12-31")
        assert response.status_code == 422 and "periode paling lama 10 tahun" in response.get_data(as_text=True), url
    assert kadis.get("/monitoring?dari=2016-01-01&sampai=2025-12-31").status_code == 200
    assert kadis.get("/monitoring/diagram.bpmn").data.startswith(b"<?xml")
    assert kadis.get("/vendor/chart.js/chart.umd.min.js").status_code == 200
    assert kadis.get("/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js").status_code == 200
    assert kadis.get("/vendor/left-pad/index.js").status_code == 404

    kepala = client_for("kepala.ikp")
    assert kepala.get("/monitoring").status_code == 200
    assert kepala.get("/monitoring?bidang=aptika").status_code == 403
    assert client_for("pemilik.proses").get("/monitoring").status_code == 200
    assert client_for("sekretaris").get("/monitoring").status_code == 200



def test_the_dashboard_writes_dates_as_the_report_does(year, client_for):
    """The heading's period and the overlaps' planned dates read "1 Januari 2026", as the report and the
    SOP form write them, not ISO dates."""
    pair = next(p for p in monitoring.figures(year.rt, "kadis", *WHOLE_YEAR)["overlaps"]["pairs"] if p["a"]["start"])
    start, end = date.fromisoformat(pair["a"]["start"]), date.fromisoformat(pair["a"]["end"])
    english = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December"]
    kadis = client_for("kadis")
    for language, months in (("id", MONTHS), ("en", english)):
        kadis.post("/bahasa", data={"language": language})
        try:
            html = kadis.get("/monitoring?dari=2026-01-01&sampai=2026-12-31").get_data(as_text=True)
        finally:
            kadis.post("/bahasa", data={"language": "id"})
        heading = re.search(r'<p class="muted">(.*?)</p>', html, re.S).group(1)
        assert f"1 {months[0]} 2026 – 31 {months[11]} 2026" in heading, language
        assert "2026-01-01" not in heading
        overlaps = html[html.index('id="table-overlaps"'):]
        written = lambda day: f"{day.day} {months[day.month - 1]} {day.year}"  # noqa: E731
        assert f"{written(start)} – {written(end)}" in overlaps, language
        assert pair["a"]["start"] not in overlaps


# -- exports -------------------------------------------------------------------------

def _expected_recap_rows(year: Year, bidang: str | None = None) -> list[dict]:
    return sorted(selected(year, *WHOLE_YEAR, bidang), key=lambda i: (i["created_at"], i["id"]))


def test_recap_xlsx(year, client_for):
    response = client_for("kadis").get("/monitoring/rekap.xlsx?dari=2026-01-01&sampai=2026-12-31")
    assert response.status_code == 200
    assert "rekap-monev-monev_kegiatan_bidang-2026-01-01_2026-12-31.xlsx" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Ringkasan", "Kegiatan", "Langkah SOP"]
    tz = year.rt.calendar.tz

    sheet = book["Kegiatan"]
    rows = list(sheet.iter_rows(values_only=True))
    heads = list(rows[0])
    assert heads[:7] == ["No", "ID kegiatan", "Kode bidang", "Bidang", "Judul kegiatan", "Periode", "Status"]
    for n in range(1, 16):
        for part in ("mulai", "selesai", "pelaksana", "waktu kerja (menit)", "tepat waktu"):
            assert f"Langkah {n} {part}" in heads
    expected = _expected_recap_rows(year)
    assert [r[1] for r in rows[1:]] == [i["id"] for i in expected]
    col = {h: i for i, h in enumerate(heads)}
    for row, info in zip(rows[1:], expected):
        assert row[col["Kode bidang"]] == info["bidang"] and row[col["Judul kegiatan"]] == info["title"]
        assert row[col["Status"]] == {"running": "Berjalan", "completed": "Selesai"}[info["state"]]
        assert row[col["Dimulai"]] == at(info["created_at"]).astimezone(tz).replace(tzinfo=None)
        assert row[col["Terlambat"]] == ("Ya" if any(is_late_now(s, year.now) for s in info["steps"]) else "Tidak")
        rejected = sum(1 for e in info["history"] if e["kind"] == "step_completed" and e["step"] == 5
                       and e["data"]["terverifikasi"] is False)
        assert row[col["Dikembalikan saat verifikasi (kali)"]] == rejected
        for n in range(1, 16):
            passes = [s for s in info["steps"] if s["step"] == n]
            cells = [row[col[f"Langkah {n} {part}"]] for part in
                     ("mulai", "selesai", "pelaksana", "waktu kerja (menit)", "tepat waktu")]
            if not passes:
                assert cells == [None] * 5, (info["id"], n)
                continue
            assert cells[0] == at(passes[0]["created_at"]).astimezone(tz).replace(tzinfo=None)
            last = passes[-1]
            if last["state"] == "completed":
                assert cells[1] == at(last["completed_at"]).astimezone(tz).replace(tzinfo=None)
                assert cells[2] == last["completed_by"]
                took = sum(minutes(year.rt, p["created_at"], p["completed_at"]) for p in passes)
                assert cells[3] == round(took)
                on_time = all(at(p["completed_at"]) <= at(p["due_at"]) for p in passes)
                assert cells[4] == ("Ya" if on_time else "Tidak")
            else:
                assert cells[1] is None
                if is_late_now(last, year.now) or any(
                        at(p["completed_at"]) > at(p["due_at"]) for p in passes if p["state"] == "completed"):
                    assert cells[4] == "Tidak"

    summary = list(book["Ringkasan"].iter_rows(values_only=True))
    assert summary[0][0] == "Rekapitulasi Monitoring dan Evaluasi Kegiatan Layanan Bidang"
    assert summary[2][1] == "01/01/2026 – 31/12/2026"
    assert summary[5][:3] == ("Kode bidang", "Bidang", "Jumlah kegiatan")
    figures = expected_figures(year, *WHOLE_YEAR)
    by_code = {r[0]: r for r in summary[6:] if r[0]}
    assert set(by_code) == set(BIDANG)
    for code, e in figures["by_bidang"].items():
        row = by_code[code]
        assert row[2:6] == (e["total"], e["completed"], e["running"], e["overdue"])
        done, on_time = figures["per_bidang"][code]
        assert row[6:8] == (done, on_time)
        assert row[8] == pytest.approx(on_time / done)
        assert row[9] == figures["verification"][code][1]
        assert row[10] == sum(1 for p in figures["problems"] if year.shows[p]["bidang"] == code)
    assert summary[-1][1] == "Jumlah" and summary[-1][2] == INSTANCES
    assert [r[0] for r in book["Langkah SOP"].iter_rows(min_row=2, values_only=True)] == list(range(1, 16))


def test_recap_csv_with_a_bidang_filter(year, client_for):
    response = client_for("sekretaris").get("/monitoring/rekap.csv?dari=2026-01-01&sampai=2026-12-31&bidang=aptika")
    assert response.status_code == 200
    assert response.data.startswith("\ufeff".encode())
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "rekap-monev-monev_kegiatan_bidang-2026-01-01_2026-12-31-aptika.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    heads = rows[0]
    assert len(heads) == 15 + 15 * 5 and all(len(r) == len(heads) for r in rows)
    expected = _expected_recap_rows(year, "aptika")
    assert [int(r[1]) for r in rows[1:]] == [i["id"] for i in expected]
    col = {h: i for i, h in enumerate(heads)}
    tz = year.rt.calendar.tz
    for row, info in zip(rows[1:], expected):
        assert row[col["Dimulai"]] == at(info["created_at"]).astimezone(tz).strftime("%Y-%m-%d %H:%M")
        first = next(s for s in info["steps"] if s["step"] == 1)
        assert row[col["Langkah 1 pelaksana"]] == (first["completed_by"] or "")
    # A kepala gets their own Bidang only.
    assert client_for("kepala.aptika").get("/monitoring/rekap.csv?bidang=ikp").status_code == 403


# -- search and archive ----------------------------------------------------------------

def found(rt, login="kadis", **filters) -> list[int]:
    result = monitoring.search(rt, login, per_page=200, **filters)
    assert result["total"] == len(result["rows"])
    return [r["id"] for r in result["rows"]]


def newest_first(infos) -> list[int]:
    return sorted((i["id"] for i in infos), reverse=True)


def test_search_filters(year):
    rt, infos, now = year.rt, list(year.shows.values()), year.now
    assert found(rt) == newest_first(infos)
    assert found(rt, bidang="aptika") == newest_first(i for i in infos if i["bidang"] == "aptika")
    assert found(rt, title="SOSIALISASI keamanan") == newest_first(
        i for i in infos if "sosialisasi keamanan" in i["title"].lower())
    assert found(rt, title="100%") == []
    assert found(rt, period="maret") == newest_first(i for i in infos if "maret" in i["period"].lower())
    for state in ("running", "completed"):
        assert found(rt, state=state) == newest_first(i for i in infos if i["state"] == state)
    hits = 0
    for step in range(1, 16):
        expected = newest_first(i for i in infos if any(s["state"] == "open" and s["step"] == step for s in i["steps"]))
        assert found(rt, step=step) == expected, step
        hits += bool(expected)
    assert hits >= 3
    assert found(rt, performer="ikp.teknis") == newest_first(
        i for i in infos if any(s["completed_by"] == "ikp.teknis" for s in i["steps"]))
    late = newest_first(i for i in infos if any(is_late_now(s, now) for s in i["steps"]))
    assert late and found(rt, overdue=True) == late
    assert found(rt, overdue=False) == [i for i in newest_first(infos) if i not in late]
    assert found(rt, start=date(2026, 6, 1), end=date(2026, 6, 30)) == newest_first(
        i for i in infos if at(i["created_at"]).astimezone(rt.calendar.tz).strftime("%Y-%m") == "2026-06")
    assert found(rt, bidang="ikp", state="completed", performer="sekretaris") == newest_first(
        i for i in infos if i["bidang"] == "ikp" and i["state"] == "completed")

    # Pages.
    pages = [monitoring.search(rt, "kadis", per_page=10, page=p) for p in (1, 2, 3, 4)]
    assert pages[0]["pages"] == 4 and pages[0]["total"] == INSTANCES
    assert [r["id"] for p in pages for r in p["rows"]] == newest_first(infos)

    # Permission: staff see their own Bidang only.
    assert found(rt, "aptika.implementasi") == newest_first(i for i in infos if i["bidang"] == "aptika")
    with pytest.raises(Forbidden):
        monitoring.search(rt, "aptika.implementasi", bidang="ikp")


def test_search_page(year, client_for):
    client = client_for("kadis")
    html = client.get("/kegiatan/cari?judul=email&status=completed").get_data(as_text=True)
    ids = [int(i) for i in re.findall(r'class="result" data-id="(\d+)"', html)]
    assert ids == newest_first(i for i in year.shows.values()
                               if "email" in i["title"].lower() and i["state"] == "completed")
    html = client.get("/kegiatan/cari?halaman=2").get_data(as_text=True)
    assert len(re.findall(r'class="result"', html)) == INSTANCES - 25
    assert client_for("aptika.implementasi").get("/kegiatan/cari?bidang=ikp").status_code == 403


def test_archive_hides_but_never_deletes(year, client_for):
    rt = year.rt
    done = min(i for i, info in year.shows.items() if info["state"] == "completed")
    running = min(i for i, info in year.shows.items() if info["state"] == "running")
    with pytest.raises(Forbidden):
        monitoring.archive(rt, done, "kadis")
    with pytest.raises(Conflict):
        monitoring.archive(rt, running, "admin")
    admin = client_for("admin")
    assert client_for("kadis").post(f"/kegiatan/{done}/arsip").status_code == 403
    try:
        assert admin.post(f"/kegiatan/{done}/arsip", data={"next": "/kegiatan/cari"}).status_code == 302
        assert done not in found(rt)
        assert done not in [r["id"] for r in queries.instances(rt, "kadis")]
        assert found(rt, archived="ya") == [done]
        assert done in found(rt, archived="semua") and len(found(rt, archived="semua")) == INSTANCES
        assert services.show(rt, done)["history"][-1]["kind"] == "archived"
        # Still counted: archiving hides from lists, not from the figures.
        assert monitoring.figures(rt, "kadis", *WHOLE_YEAR)["totals"]["total"] == INSTANCES
        html = admin.get("/kegiatan/cari?arsip=ya").get_data(as_text=True)
        assert "Keluarkan dari arsip" in html
    finally:
        assert admin.post(f"/kegiatan/{done}/pulihkan").status_code == 302
    assert done in found(rt)
    assert services.show(rt, done)["history"][-1]["kind"] == "unarchived"


def test_an_empty_period(year, client_for):
    figures = monitoring.figures(year.rt, "kadis", date(2025, 1, 1), date(2025, 2, 28))
    assert figures["totals"]["total"] == 0 and figures["by_bidang"] == [] and figures["problems"] == []
    assert [m["month"] for m in figures["trend"]] == ["2025-01", "2025-02"]
    assert all(s["done"] == 0 and s["level"] == "none" for s in figures["steps"])
    client = client_for("kadis")
    assert client.get("/monitoring?dari=2025-01-01&sampai=2025-02-28").status_code == 200
    book = load_workbook(io.BytesIO(client.get("/monitoring/rekap.xlsx?dari=2025-01-01&sampai=2025-02-28").data))
    assert book["Kegiatan"].max_row == 1
    assert client.get("/monitoring?dari=2026-02-01&sampai=2026-01-01").status_code == 422


def test_fast_working_time_equals_the_calendar():
    from process.calendar import WorkingCalendar
    calendar = WorkingCalendar.default()
    work = monitoring.WorkTime(calendar)
    rng = random.Random(3)
    for _ in range(400):
        a = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 700 * 24 * 60))
        b = a + timedelta(minutes=rng.choice((5, 300, 3000, 30000, 90000)) * rng.random())
        assert work.between(a, b) == calendar.working_time_between(a, b)
        assert work.between(b, a) == calendar.working_time_between(b, a)


# -- the schema and speed ----------------------------------------------------------------

def test_migration_0004_goes_down_and_up(tmp_path):
    from alembic import command
    url = f"sqlite:///{tmp_path / 'm.db'}"
    rt = Runtime(Settings.from_env(database_url=url, data_dir=tmp_path / "data"))
    try:
        schema.upgrade(rt.engine)
        config = schema.alembic_config(url)
        command.downgrade(config, "0003")  # below 0004, whatever revisions came after it
        with rt.engine.connect() as conn:
            assert "archived_at" not in {c[1] for c in conn.exec_driver_sql("PRAGMA table_info(instance)")}
        schema.upgrade(rt.engine)
        with rt.engine.connect() as conn:
            assert "archived_at" in {c[1] for c in conn.exec_driver_sql("PRAGMA table_info(instance)")}
            indexes = {r[1] for r in conn.exec_driver_sql("PRAGMA index_list(task)")}
            assert {"ix_task_state_step", "ix_task_completed_by"} <= indexes
    finally:
        rt.dispose()


