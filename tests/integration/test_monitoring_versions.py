"""Monitoring across SOP versions that number the monitored steps differently.

Version 2 of the seed SOP inserts a step before the verification, so the
verification is step 6 and the problem, analysis and report steps are 13-15
(5 and 12-14 in version 1). Activities run on both versions, one of them moved
from version 1 to version 2 half-way, through send-backs and problems: the
figures, the recapitulation and the SOP form's suggestions must count each
send-back and each problem once, and put them on the rows of the steps they
belong to.
"""
from __future__ import annotations

import html

import pytest

from engine import bootstrap, editor, monitoring, reports, services
from tests.integration.sop import STEP_DATA, STEP_FILES, open_task, performer
from tests.integration.test_definitions import (BPMN, INSERTED_FORM, KEY, OWNER, YAML, deploy_v2,
                                               step_inserted_before_verification)
from tests.integration.test_reports import suggested_notes
from web.app import create_app
from web import reports as web_reports

INSERTED = "x"   # the step version 2 inserts before the verification


def number(version: int, step: int | str) -> int:
    """A step of version 1 (or the inserted one) as version 2 numbers it."""
    if step == INSERTED:
        return 5
    return step if version == 1 or step < 5 else step + 1


def path(version: int, verdicts: list[bool], kendala: bool) -> list[int | str]:
    check = [3, 4] + ([INSERTED] if version == 2 else []) + [5]
    return [1, 2] + check * len(verdicts) + [6, 7, 8, 9, 10, 11, 12] + ([13, 14] if kendala else []) + [15]


def run(rt, instance_id: int, version: int, steps: list[int | str], verdicts: list[bool], kendala: bool) -> None:
    verdict = iter(verdicts)
    for step in steps:
        task = open_task(rt, instance_id)
        assert task["step"] == number(version, step), (step, task["step"])
        login = performer(4 if step == INSERTED else step, "aptika")
        data = dict(STEP_DATA.get(step, {}))
        if step == INSERTED:
            data = {INSERTED_FORM: "Lengkap"}
        elif step == 5:
            data = {"terverifikasi": next(verdict), "catatan": "cek"}
        elif step == 12:
            data = {"ada_kendala": kendala, "uraian_kendala": f"Kendala {instance_id}" if kendala else ""}
        elif step == 13:
            data = {"analisa_permasalahan": f"Analisa {instance_id}", "solusi": f"Solusi {instance_id}"}
        services.claim(rt, task["id"], login)
        services.complete(rt, task["id"], login, data, files=STEP_FILES.get(step))


def signed_in(rt, login: str):
    """A test client of the app over `rt`, signed in as `login`."""
    app = create_app(runtime=rt, testing=True)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    assert client.post("/masuk", data={"login": login, "password": bootstrap.DEMO_PASSWORD}).status_code == 302
    return client


def start(rt, title: str) -> int:
    return services.start(rt, KEY, "aptika", title, "aptika.implementasi")


def test_send_backs_and_problems_are_counted_at_each_versions_own_steps(rt, monkeypatch):
    # Version 1: sent back once with a problem; verified at once without; and one moved to version 2
    # after its verification (sent back once), which raises its problem at version 2's step 13.
    a = start(rt, "Layanan email dinas")
    run(rt, a, 1, path(1, [False, True], True), [False, True], True)
    b = start(rt, "Pemeliharaan jaringan internet")
    run(rt, b, 1, path(1, [True], False), [True], False)
    moved = start(rt, "Pengembangan aplikasi Sidela")
    moved_path = path(1, [False, True], True)
    run(rt, moved, 1, moved_path[:moved_path.index(7)], [False, True], True)

    deployed = deploy_v2(rt, *step_inserted_before_verification())
    assert deployed["version"] == 2, deployed
    assert editor.migrate(rt, moved, OWNER)["to"] == 2
    run(rt, moved, 2, moved_path[moved_path.index(7):], [], True)

    # Version 2: sent back twice with a problem; verified at once without.
    c = start(rt, "Sosialisasi keamanan informasi")
    run(rt, c, 2, path(2, [False, False, True], True), [False, False, True], True)
    d = start(rt, "Survei kepuasan layanan")
    run(rt, d, 2, path(2, [True], False), [True], False)

    figures = monitoring.figures(rt, "kadis")
    [verification] = figures["verification"]
    assert (verification["decisions"], verification["sent_back"]) == (2 + 1 + 2 + 3 + 1, 1 + 1 + 2)
    assert (verification["instances_sent_back"], verification["instances"]) == (3, 5)

    problems = {p["instance_id"]: p for p in figures["problems"]}
    assert set(problems) == {a, moved, c}
    for instance_id, p in problems.items():
        assert (p["uraian_kendala"], p["analisa_permasalahan"], p["solusi"]) == \
            (f"Kendala {instance_id}", f"Analisa {instance_id}", f"Solusi {instance_id}")
        assert p["analysed_by"] == p["reported_by"] == "sekretaris"
        assert [(d["field"], d["step"]) for d in p["documents"]] == \
            [("laporan_solusi", 14 if instance_id == a else 15)]

    # The step table counts a step by what it is, under the newest version's number: version 1's
    # verification (its step 5) is step 6, and step 5 is only the step version 2 inserted.
    done = {s["step"]: s for s in figures["steps"]}
    assert [s["step"] for s in figures["steps"]] == list(range(1, 17))
    assert done[5]["done"] == 3 + 1 and done[5]["element_id"] == "Step_04b"
    assert done[6]["done"] == 2 + 1 + 2 + 3 + 1 and done[6]["element_id"] == "Step_05"
    assert done[16]["done"] == 5 and done[1]["done"] == 5
    assert figures["heatmap"]["Step_05"]["done"] == 9 and figures["heatmap"]["Step_04b"]["done"] == 4

    recap = monitoring.recap(rt, "kadis")
    cells = {r["id"]: r["steps"] for r in recap["rows"]}
    assert 5 not in cells[a] and cells[a][6]["passes"] == 2 and cells[c][5]["passes"] == 3
    recap = {r["id"]: (r["sent_back"], r["problems"]) for r in recap["rows"]}
    assert recap == {a: (1, 1), b: (0, 0), moved: (1, 1), c: (2, 1), d: (0, 0)}

    # The SOP form: the newest version's rows, the send-backs on step 6, the problems on step 13.
    form = reports.sop_form(rt, "sekretaris")
    rows = {r["step"]: r for r in form["rows"]}
    assert list(rows) == list(range(1, 17))
    assert {n: (r["sent_back"], r["problems"]) for n, r in rows.items() if r["sent_back"] or r["problems"]} == \
        {6: (4, 0), 13: (0, 3)}
    notes = suggested_notes(rt, form["rows"])
    assert "dikembalikan 4 dari 9 keputusan verifikasi" in notes[6]
    assert "3 kendala dilaporkan" in notes[13]
    assert not any("dikembalikan" in note or "kendala dilaporkan" in note for n, note in notes.items() if n not in (6, 13))
    assert rows[6]["suggested"] == rows[13]["suggested"] == "tidak"
    assert (rows[5]["done"], rows[6]["done"]) == (4, 9)

    # The headings name the newest version's steps.
    client = signed_in(rt, "sekretaris")
    page = html.unescape(client.get("/monitoring").get_data(as_text=True))
    assert "Hasil verifikasi (langkah 6)" in page and "Kendala dan solusinya (langkah 13–15)" in page
    report = html.unescape(client.get("/monitoring/laporan").get_data(as_text=True))
    assert "Kendala yang dilaporkan (langkah 13)" in report
    printed = []
    monkeypatch.setattr(web_reports, "render_pdf", lambda text: printed.append(html.unescape(text)) or b"%PDF-1.4")
    assert client.get("/monitoring/laporan.pdf").status_code == 200
    assert "Hasil verifikasi (langkah 6)" in printed[0] and "Kendala dan solusinya (langkah 13–15)" in printed[0]


def planned_dates_moved_to_step_two(yaml_text: str) -> str:
    """A version whose step 1 only describes the plan and step 2 carries its dates."""
    dates = ("      - {name: tanggal_mulai, label: Tanggal mulai pelaksanaan, type: date, required: true}\n"
             "      - {name: tanggal_selesai, label: Tanggal selesai pelaksanaan, type: date, required: true, "
             "not_before: tanggal_mulai}\n")
    assert dates in yaml_text
    yaml_text = yaml_text.replace(dates, "", 1)
    step_two = "      - {name: uraian_pelaksanaan, label: Uraian pelaksanaan kegiatan, type: text, required: true}\n"
    assert step_two in yaml_text
    return yaml_text.replace(step_two, step_two + dates, 1)


def test_planned_dates_are_read_from_the_step_that_asks_for_them(rt):
    """Overlaps compare the activities' planned dates: read at whichever step's form asks for them,
    not at step 1 whatever the version."""
    assert deploy_v2(rt, BPMN, planned_dates_moved_to_step_two(YAML))["version"] == 2
    for bidang, title in (("aptika", "Bimbingan teknis website"), ("ikp", "Sosialisasi layanan aduan")):
        instance_id = services.start(rt, KEY, bidang, title, "sekretaris")
        for step, data in ((1, {"rencana_kegiatan": "Rencana"}),
                           (2, {"uraian_pelaksanaan": "Sesuai juknis", "tanggal_mulai": "2026-03-02",
                                "tanggal_selesai": "2026-03-31"})):
            task = open_task(rt, instance_id)
            assert task["step"] == step
            services.claim(rt, task["id"], performer(step, bidang))
            services.complete(rt, task["id"], performer(step, bidang), data)
    overlaps = monitoring.figures(rt, "kadis")["overlaps"]
    assert overlaps["dates_overlap"] == 1 and overlaps["similar_titles"] == 0
    assert overlaps["plan_step"] == 2
    # The page says where the dates come from, in either language.
    client = signed_in(rt, "kadis")
    page = html.unescape(client.get("/monitoring").get_data(as_text=True))
    assert "atau dengan jadwal pelaksanaan (langkah 2) yang beririsan" in page and "(langkah 1)" not in page
    client.post("/bahasa", data={"language": "en"}, headers={"Referer": "/"})
    page = html.unescape(client.get("/monitoring").get_data(as_text=True))
    assert "or with overlapping implementation schedules (step 2)." in page


def test_downloads_of_an_sop_whose_key_is_not_ascii_have_a_header_servers_can_send(rt, tmp_path):
    """A process id may hold any XML name character; the download's name carries the key, and a
    header outside ASCII (or with a quote) cannot be sent by gunicorn or breaks the filename."""
    from werkzeug.http import parse_options_header
    from process.loader import load_file
    key = 'monev_kegiatan_ş"x'
    (tmp_path / "sop.bpmn").write_text(BPMN.replace(f'"{KEY}"', '"monev_kegiatan_ş&quot;x"'), encoding="utf-8")
    (tmp_path / "sop.yaml").write_text(YAML, encoding="utf-8")
    assert services.deploy(rt, load_file(str(tmp_path / "sop.bpmn")), OWNER).key == key
    client = signed_in(rt, "kadis")
    for url in ("/monitoring/rekap.csv", "/monitoring/rekap.xlsx"):
        response = client.get(url, query_string={"sop": key, "dari": "2026-01-01", "sampai": "2026-03-31"})
        assert response.status_code == 200
        header = response.headers["Content-Disposition"]
        header.encode("ascii")
        kind, options = parse_options_header(header)
        assert kind == "attachment"
        assert options["filename"] == f"rekap-monev-{key}-2026-01-01_2026-03-31.{url.rsplit('.', 1)[1]}"
    # The SOP document and the editor's draft are named by the same helper.
    client = signed_in(rt, OWNER)
    for url, name in ((f"/sop/{key}/v1.pdf", f"SOP-{key}-v1.pdf"), (f"/editor/{key}/draf.bpmn", f"{key}.bpmn")):
        response = client.get(url)
        assert response.status_code == 200, url
        response.headers["Content-Disposition"].encode("ascii")
        assert parse_options_header(response.headers["Content-Disposition"]) == ("attachment", {"filename": name})


def test_a_saved_sop_form_keeps_its_answers_on_their_steps_after_a_version_inserts_one(rt):
    """A form saved under version 1 has the verification's answers at step 5; version 2 numbers it 6.
    The answers stay with their steps, and the inserted step has none yet."""
    a = start(rt, "Layanan email dinas")
    run(rt, a, 1, path(1, [False, True], False), [False, True], False)
    form = reports.sop_form(rt, "kadis")
    period = (form["scope"]["start"], form["scope"]["end"])
    answers = {r["step"]: {"berjalan_baik": "ya", "catatan": f"catatan {r['step']}", "tindakan": "",
                           "penilai": "Kadis"} for r in form["rows"]}
    answers[5] = {"berjalan_baik": "tidak", "catatan": "dikembalikan", "tindakan": "Perjelas juknis",
                  "penilai": "Kadis"}
    reports.save_sop_form(rt, "kadis", *period, None, None, answers)

    deploy_v2(rt, *step_inserted_before_verification())
    rows = {r["step"]: r for r in reports.sop_form(rt, "kadis", *period)["rows"]}
    assert list(rows) == list(range(1, 17))
    assert (rows[6]["berjalan_baik"], rows[6]["catatan"], rows[6]["tindakan"]) == \
        ("tidak", "dikembalikan", "Perjelas juknis")
    assert rows[5]["berjalan_baik"] == "" and not rows[5]["saved"]  # the inserted step: not assessed yet
    assert rows[16]["catatan"] == "catatan 15" and rows[16]["saved"]
    assert rows[4]["catatan"] == "catatan 4"


def test_an_activity_at_a_step_the_newest_version_removed_is_shown_apart_from_that_number(rt):
    """Version 2 replaces step 1's element by another: an activity still at the old step stays on
    version 1, and its position is never added to the new step that has the same number."""
    from tests.integration.test_definitions import step_renamed
    old = start(rt, "Masih di langkah lama")
    deploy_v2(rt, step_renamed(BPMN, "Step_01", "Step_01_baru"))
    new = start(rt, "Di langkah baru")
    [aptika] = monitoring.figures(rt, "kadis")["by_bidang"]
    assert aptika["at_step"] == {1: 1}
    assert [(c["step"], c["element_id"], c["count"], c["overdue"]) for c in aptika["at_removed_step"]] == \
        [(1, "Step_01", 1, 0)]
    rows = {r["id"]: r for r in monitoring.recap(rt, "kadis")["rows"]}
    assert (rows[old]["current_steps"], rows[old]["removed_steps"]) == ([], [1])
    assert (rows[new]["current_steps"], rows[new]["removed_steps"]) == ([1], [])

    client = signed_in(rt, "kadis")
    page = html.unescape(client.get("/monitoring").get_data(as_text=True))
    assert ">1: 1</span>" in page and ">1 (versi lama): 1</span>" in page
    csv_text = client.get("/monitoring/rekap.csv").get_data().decode("utf-8-sig")
    [old_line] = [line for line in csv_text.splitlines() if "Masih di langkah lama" in line]
    assert "1 (versi lama)" in old_line
    client.post("/bahasa", data={"language": "en"}, headers={"Referer": "/"})
    page = html.unescape(client.get("/monitoring").get_data(as_text=True))
    assert ">1 (earlier version): 1</span>" in page


def test_a_step_the_newest_version_removed_is_marked_in_the_step_tables_not_a_second_row_of_its_number(rt):
    """Step 7's element replaced by another: the step table had two rows "7" (the new step and the
    old one) told apart only by a tooltip, though the position chips said "7 (versi lama)"."""
    from tests.integration.test_definitions import step_renamed
    done = start(rt, "Selesai di versi 1")
    run(rt, done, 1, path(1, [True], False), [True], False)
    deploy_v2(rt, step_renamed(BPMN, "Step_07", "Step_07_baru"))
    sevens = [(s["element_id"], s["removed"]) for s in monitoring.figures(rt, "kadis")["steps"] if s["step"] == 7]
    assert sevens == [("Step_07_baru", False), ("Step_07", True)]

    client = signed_in(rt, "kadis")
    page = html.unescape(client.get("/monitoring").get_data(as_text=True))
    table = page[page.index('id="table-steps"'):page.index('id="per-bidang-waktu"')]
    assert table.count("<b>7</b>") == 1 and table.count("<b>7 (versi lama)</b>") == 1
    grid = page[page.index('id="table-step-bidang"'):page.index('id="terlama"')]
    assert grid.count("<b>7</b>") == 1 and grid.count("<b>7 (versi lama)</b>") == 1
    assert "<summary><b>7 (versi lama)</b>. Memberikan Data" in page
    assert '"7 (versi lama)"' in page  # the chart's label
    with create_app(runtime=rt, testing=True).test_request_context():
        labels = web_reports._charts(monitoring.figures(rt, "kadis"))["steps"]
    assert ">7 lama<" in labels  # the report's chart: a few letters under each bar


def test_answers_typed_on_a_form_opened_before_a_deploy_stay_on_their_steps(rt):
    """The form page names each row's diagram element. Answers typed on version 1's page (step 5 the
    verification) land on version 2's step 6 after a deploy inserted a step before it, and the new
    step asks for its own answer: nothing is saved on the wrong step."""
    import re
    from engine.errors import Conflict
    client = signed_in(rt, "kadis")
    page = client.get("/monitoring/formulir-sop").get_data(as_text=True)

    def typed_on(page: str) -> dict[str, str]:
        elements = dict(re.findall(r'name="langkah-(\d+)" value="([^"]+)"', page))
        data = {"tanggal": "2026-10-14", "revision": ""}
        for n, element in elements.items():
            data.update({f"langkah-{n}": element, f"berjalan_baik-{n}": "ya", f"catatan-{n}": f"catatan {element}",
                         f"tindakan-{n}": "", f"penilai-{n}": "Kadis"})
            if element == "Step_05":  # the verification
                data.update({f"berjalan_baik-{n}": "tidak", f"tindakan-{n}": "Perjelas juknis"})
        return data

    typed = typed_on(page)
    assert typed["langkah-5"] == "Step_05" and len([k for k in typed if k.startswith("langkah-")]) == 15
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"[^>]*id="sop-form"', page)[1])
    deploy_v2(rt, *step_inserted_before_verification())
    response = client.post(action, data=typed)
    assert response.status_code == 422  # the inserted step has no answer yet
    assert re.findall(r'class="field-error">([^<]*)', response.get_data(as_text=True)) == ["pilih Ya atau Tidak"]
    assert not reports.sop_form(rt, "kadis")["saved"]
    page = html.unescape(response.get_data(as_text=True))
    assert re.search(r'name="berjalan_baik-6" value="tidak"[^>]*checked', page)
    assert ">Perjelas juknis</textarea>" in page and ">catatan Step_06</textarea>" in page
    assert not re.search(r'name="berjalan_baik-5" value="\w+"[^>]*checked', page)

    assert client.post(action, data=typed_on(page)).status_code == 302
    rows = {r["step"]: r for r in reports.sop_form(rt, "kadis")["rows"]}
    assert (rows[6]["berjalan_baik"], rows[6]["tindakan"], rows[6]["catatan"]) == ("tidak", "Perjelas juknis",
                                                                                   "catatan Step_05")
    assert rows[7]["catatan"] == "catatan Step_06" and rows[5]["berjalan_baik"] == "ya"

    # Answers numbered by an older version are refused, not saved on other steps.
    form = reports.sop_form(rt, "kadis")
    period = (form["scope"]["start"], form["scope"]["end"])
    answers = {r["step"]: {"berjalan_baik": "ya"} for r in form["rows"]}
    with pytest.raises(Conflict):
        reports.save_sop_form(rt, "kadis", *period, None, None, answers, numbered_by=1)


def test_each_completion_is_measured_by_the_counting_rule_of_the_version_it_ran_under(rt, clock):
    """Version 1 counts step 1's 30 days as working days, version 2 as calendar days. A step 1 done under
    version 1 in 8 days 2 hours was measured by the clock (version 2's rule) as 8 days 2 hours; it took
    41 working hours, by the rule that judged it on time. Version 2's is measured by the clock."""
    from datetime import timedelta
    from tests.integration.sop import do_step
    took = timedelta(days=8, hours=2)
    old = start(rt, "Dikerjakan di versi 1")
    begun = clock.now()
    clock.advance(days=8, hours=2)
    do_step(rt, old, 1)
    deploy_v2(rt, BPMN, YAML.replace("\n  days: kerja", "\n  days: kalender", 1))
    new = start(rt, "Dikerjakan di versi 2")
    clock.advance(days=8, hours=2)
    do_step(rt, new, 1)
    working = rt.calendar.working_time_between(begun, begun + took) / timedelta(minutes=1)
    assert working == 41 * 60  # in Ramadan's working hours

    [step1] = [s for s in monitoring.figures(rt, "kadis")["steps"] if s["element_id"] == "Step_01"]
    assert {w["instance_id"]: w["minutes"] for w in step1["worst"]} == {old: working, new: took / timedelta(minutes=1)}
    assert {w["instance_id"]: w["working_time"] for w in step1["worst"]} == {old: True, new: False}
    assert (step1["working_time"], step1["one_rule"]) == (False, False)
    cells = {r["id"]: r["steps"][1]["minutes"] for r in monitoring.recap(rt, "kadis")["rows"]}
    assert cells == {old: working, new: took / timedelta(minutes=1)}

    client = signed_in(rt, "kadis")
    page = html.unescape(client.get("/monitoring").get_data(as_text=True))
    worst = page[page.index("<summary><b>1</b>"):]
    worst = worst[:worst.index("</details>")]
    assert "<th>Waktu</th>" in worst and "<td>41 jam</td>" in worst and "<td>8 hari 2 jam</td>" in worst
    csv_text = client.get("/monitoring/rekap.csv").get_data().decode("utf-8-sig")
    assert "Langkah 1 waktu kerja atau kalender menurut versi kegiatan (menit)" in csv_text
    assert "Langkah 3 waktu kerja (menit)" in csv_text  # its minutes: both versions count working time
