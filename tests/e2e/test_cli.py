"""The real `alur` executable, driven as a process owner and the office's staff would drive it.

Each call is a separate process on a SQLite database in a temporary data
directory. Errors must be readable lines on stderr with a non-zero exit,
never a Python traceback.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine import services
from engine.bootstrap import DEMO_PASSWORD

ALUR = Path(sys.executable).parent / "alur"
DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"
SEED_BPMN = DEFINITIONS / "monev_kegiatan_bidang.bpmn"
SEED_YAML = DEFINITIONS / "monev_kegiatan_bidang.yaml"
TASK_KEYS = {"id", "instance_id", "step", "name", "lane", "bidang", "assignee", "due_at", "overdue", "form"}
STEP_1_DATA = {"rencana_kegiatan": "Rencana layanan email dinas", "tanggal_mulai": "2026-03-02",
               "tanggal_selesai": "2026-03-31"}


class Alur:
    def __init__(self, data_dir: Path):
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ALUR_")}
        self.env.update(ALUR_DATA_DIR=str(data_dir), NO_COLOR="1")
        self.data_dir = data_dir

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([str(ALUR), *args], env=self.env, capture_output=True, text=True, timeout=60)
        assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr
        if ok:
            assert result.returncode == 0, f"alur {' '.join(args)} failed:\n{result.stderr}"
        else:
            assert result.returncode != 0, f"alur {' '.join(args)} should have failed:\n{result.stdout}"
        return result

    def json(self, *args: str):
        return json.loads(self(*args, "--json").stdout)


@pytest.fixture(scope="module")
def alur(tmp_path_factory) -> Alur:
    assert ALUR.exists(), f"the console script is not installed at {ALUR}"
    cli = Alur(tmp_path_factory.mktemp("alur-data"))
    result = cli("init", "--demo")
    assert "monev_kegiatan_bidang v1 (di-deploy)" in result.stdout
    assert f"pengguna demo siap; kata sandi: {DEMO_PASSWORD}" in result.stdout
    return cli


def start(alur: Alur, title: str) -> tuple[int, dict]:
    started = alur.json("start", "--bidang", "aptika", "--title", title)
    assert set(started) == {"id"} and isinstance(started["id"], int)
    mine = [t for t in alur.json("tasks", "--user", "aptika.implementasi") if t["instance_id"] == started["id"]]
    assert len(mine) == 1
    return started["id"], mine[0]


@pytest.fixture(scope="module")
def opened(alur) -> tuple[int, dict]:
    """An instance and its first task, as `alur tasks` listed it right after the start."""
    return start(alur, "Layanan email dinas")


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def test_tasks_json_shape(opened):
    instance_id, task = opened
    assert TASK_KEYS <= set(task)
    assert task["instance_id"] == instance_id
    assert (task["step"], task["lane"], task["bidang"], task["assignee"], task["overdue"]) == \
        (1, "implementasi", "aptika", None, False)
    assert task["name"].startswith("Merencanakan kegiatan dan layanan Bidang")
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d", task["due_at"])
    form = task["form"]
    assert form["type"] == "object"
    assert form["required"] == ["rencana_kegiatan", "tanggal_mulai", "tanggal_selesai"]
    assert form["properties"]["dokumen_rencana"]["type"] == "string"
    assert form["properties"]["tanggal_mulai"]["format"] == "date"


def test_an_empty_task_list_says_so(alur):
    """As `alur alerts` says it has none: an empty output read as a failure."""
    assert alur("tasks", "--user", "kadis").stdout == "tidak ada tugas terbuka\n"
    assert alur.json("tasks", "--user", "kadis") == []


def test_stored_text_with_an_escape_sequence_is_not_sent_to_the_terminal(alur):
    """A title stored before forms refused control characters: `alur show` (and `alur alerts`) printed
    its escape sequence raw, which a terminal obeys (here: clear the screen)."""
    instance_id, _ = start(alur, "Layanan biasa")
    with sqlite3.connect(alur.data_dir / "alur.db") as db:
        db.execute("UPDATE instance SET title = ? WHERE id = ?", ("Layanan \x1b[2J palsu", instance_id))
    shown = alur("show", str(instance_id)).stdout
    assert "\x1b" not in shown and "Layanan \ufffd[2J palsu" in shown
    assert alur.json("show", str(instance_id))["title"] == "Layanan \x1b[2J palsu"  # JSON escapes it itself


def test_a_line_break_in_a_title_does_not_make_or_overwrite_a_line_on_the_terminal(alur):
    """A title may hold a line break (the API takes one): printed raw, "\r" wrote over the line shown
    and "\n" began a line of its own, one that reads as another activity's or alert's."""
    instance_id, _ = start(alur, "Layanan biasa")
    with sqlite3.connect(alur.data_dir / "alur.db") as db:
        db.execute("UPDATE instance SET title = ? WHERE id = ?", ("Layanan\r#99 Palsu\nbaris", instance_id))
    shown = alur("show", str(instance_id)).stdout
    assert "\r" not in shown and f"#{instance_id} Layanan #99 Palsu baris (" in shown


def test_an_error_naming_what_was_typed_shows_its_control_characters(alur):
    """An error line repeats what was typed: its escape sequence reached a terminal as it was."""
    refused = alur("claim", "zz\x1b[2J", "--user", "aptika.teknis", ok=False)
    assert error_lines(refused) == ["galat: tugas zz\ufffd[2J tidak ditemukan"]


def test_unknown_task_id(alur):
    result = alur("claim", "tidak-ada", "--user", "aptika.implementasi", ok=False)
    assert error_lines(result) == ["galat: tugas tidak-ada tidak ditemukan"]
    assert result.returncode == 1


def test_invalid_data_json_is_a_usage_error(alur, opened):
    _, task = opened  # the JSON is read before the task is looked up, whatever its state
    result = alur("complete", task["id"], "--user", "aptika.implementasi", "--data", "{rencana: x", ok=False)
    assert result.returncode == 2  # click's usage-error exit code
    assert "Error: --data bukan JSON yang sah" in result.stderr
    assert "Usage: alur complete" in result.stderr


def test_a_file_option_without_its_field_is_a_usage_error(alur, opened):
    _, task = opened
    result = alur("complete", task["id"], "--user", "aptika.implementasi", "--file", "rencana.pdf", ok=False)
    assert result.returncode == 2
    assert "Error: --file harus berbentuk FIELD=PATH, bukan 'rencana.pdf'" in result.stderr


HUGE = "99999999999999999999"  # past any database integer


@pytest.mark.parametrize("args, option", [
    (("show", HUGE), "INSTANCE_ID"),
    (("show", "0"), "INSTANCE_ID"),
    (("tasks", "--instance", HUGE), "--instance"),
    (("ack", HUGE, "--user", "sekretaris"), "ALERT_ID"),
    (("scheduler", "--once", "--batch", "0"), "--batch"),
    (("scheduler", "--once", "--interval", "nan"), "--interval"),
    (("scheduler", "--once", "--lease", "-1"), "--lease"),
    (("serve", "--port", "99999"), "--port"),
    (("serve", "--workers", "0"), "--workers"),
])
def test_a_number_out_of_range_is_a_usage_error_naming_it(alur, args, option):
    result = alur(*args, ok=False)
    assert result.returncode == 2, result.stderr  # click's usage error, before anything runs
    assert f"Invalid value for '{option}'" in result.stderr


@pytest.mark.parametrize("option, value, says", [
    ("--interval", "nan", "'nan' bukan bilangan detik"),
    ("--interval", "inf", "'inf' bukan bilangan detik"),
    ("--interval", "sejam", "'sejam' bukan bilangan detik"),
    ("--interval", "0", "harus lebih dari 0 dan paling lama 3600 detik, bukan 0"),
    ("--interval", "-1", "harus lebih dari 0 dan paling lama 3600 detik, bukan -1"),
    ("--lease", "86401", "harus lebih dari 0 dan paling lama 86400 detik, bukan 86401"),
])
def test_seconds_that_cannot_be_used_are_refused_in_indonesian(alur, option, value, says):
    """Alur's own option type answered in English ("'nan' is not a number of seconds", "inf is not in
    the range 0<x<=3600", "'sejam' is not a valid seconds") in the Indonesian command line."""
    result = alur("scheduler", "--once", f"{option}={value}", ok=False)
    assert result.returncode == 2, result.stderr
    assert f"Invalid value for '{option}': {says}" in result.stderr, result.stderr


def test_serve_with_a_logo_it_cannot_use_stops_before_listening(alur, tmp_path):
    """It also said so in English, after the error's class name ("galat: LogoError: … is not a PNG")."""
    bad = tmp_path / "lambang.png"
    bad.write_text("bukan gambar")
    alur.env["ALUR_LOGO_FILE"] = str(bad)
    try:
        result = alur("serve", "--port", "1", ok=False)  # it must stop before it listens
    finally:
        del alur.env["ALUR_LOGO_FILE"]
    assert error_lines(result) == [f"galat: ALUR_LOGO_FILE: {bad} bukan gambar PNG atau JPEG"]
    assert "Listening" not in result.stderr + result.stdout


def test_claim_complete_and_show(alur, opened, tmp_path):
    instance_id, task = opened
    task_id = task["id"]

    # Someone of the same role in another Bidang may not take it, and is told it is the Bidang
    # ("not a member of Tim Implementasi" read as wrong to a member of Tim Implementasi).
    refused = alur("claim", task_id, "--user", "ikp.implementasi", ok=False)
    assert error_lines(refused) == ["galat: ikp.implementasi bukan anggota Tim Implementasi Bidang Aplikasi Informatika"]
    assert refused.returncode == 4  # Forbidden

    assert alur("claim", task_id, "--user", "aptika.implementasi").stdout.strip() == f"tugas {task_id} diklaim"

    # Bad data: one readable line per problem.
    bad = alur("complete", task_id, "--user", "aptika.implementasi",
               "--data", json.dumps({"tanggal_mulai": "kemarin", "asal": "x"}), ok=False)
    lines = [line.strip() for line in error_lines(bad)]
    assert lines[0] == "galat: isian langkah 1 tidak valid"
    assert sorted(lines[1:]) == sorted([
        "asal: isian tidak dikenal pada langkah ini",
        "rencana_kegiatan: wajib diisi",
        "tanggal_mulai: harus berupa tanggal (YYYY-MM-DD)",
        "tanggal_selesai: wajib diisi",
    ])

    # Good data with a document attached to the file field.
    document = tmp_path / "rencana.pdf"
    content = b"%PDF-1.4\n% rencana kegiatan aptika\n"
    document.write_bytes(content)
    done = alur("complete", task_id, "--user", "aptika.implementasi", "--data", json.dumps(STEP_1_DATA),
                "--file", f"dokumen_rencana={document}")
    assert done.stdout.strip() == f"tugas {task_id} selesai; kegiatan {instance_id} berjalan"

    assert alur("show", str(instance_id)).stdout.startswith(f"#{instance_id} ")
    assert " — berjalan, monev_kegiatan_bidang v1\n" in alur("show", str(instance_id)).stdout
    shown = alur.json("show", str(instance_id))
    assert shown["state"] == "running"
    # Text output reads times on the office's clock, as the pages do; --json keeps them ISO, in UTC.
    due = datetime.fromisoformat(shown["current_steps"][0]["due_at"])
    assert due.utcoffset() == timedelta(0)
    wib = due.astimezone(ZoneInfo("Asia/Jakarta")).strftime("%Y-%m-%d %H:%M WIB")
    assert f", batas {wib}" in alur("show", str(instance_id)).stdout
    assert f" batas {wib} " in alur("tasks", "--instance", str(instance_id)).stdout
    assert [(s["step"], s["lane"]) for s in shown["current_steps"]] == [(2, "implementasi")]
    kinds = [e["kind"] for e in shown["history"]]
    completed = next(e for e in shown["history"] if e["kind"] == "step_completed")
    assert kinds[:4] == ["started", "step_ready", "claimed", "step_completed"]
    # The text output names events in Indonesian, as the activity page does, not by their codes.
    history = alur("show", str(instance_id)).stdout.split("Riwayat:\n")[1].splitlines()
    step_1 = f'langkah 1 "{task["name"]}"'  # named, as the page names it
    assert [line.split(" WIB ")[1] for line in history[1:4]] == [
        f"langkah siap {step_1}", f"diklaim {step_1} aptika.implementasi",
        f"langkah selesai {step_1} aptika.implementasi {json.dumps(completed['data'], ensure_ascii=False)}"]
    assert " dimulai " in history[0] and not any(line.endswith(" ") for line in history)
    assert completed["step"] == 1 and completed["actor"] == "aptika.implementasi"
    assert {k: completed["data"][k] for k in STEP_1_DATA} == STEP_1_DATA
    assert completed["data"]["dokumen_rencana"]  # the stored document's id
    # The document's bytes were stored under the data directory.
    assert any(p.is_file() and p.read_bytes() == content for p in alur.data_dir.rglob("*"))


def test_show_names_each_step_as_the_version_it_happened_under_names_it(rt, monkeypatch):
    """After a migration to a version that inserted a step before the verification (steps 5-15 became
    6-16), `alur show` printed the history's steps by number alone: its "langkah 5", done under version
    1, read as version 2's new step 5. Each step is named as its version names it, and a number the
    activity's version gives another step says its version, as the activity page does."""
    from click.testing import CliRunner

    from engine import editor
    from tests.integration.sop import do_step
    from tests.integration.test_definitions import KEY, OWNER, deploy_v2, step_inserted_before_verification
    from web.cli import main
    instance_id = services.start(rt, KEY, "aptika", "Layanan email dinas", "aptika.implementasi", "2026-Q1")
    for step in (1, 2, 3, 4, 5, 6):
        do_step(rt, instance_id, step, {"terverifikasi": True} if step == 5 else None)
    deploy_v2(rt, *step_inserted_before_verification())
    editor.migrate(rt, instance_id, OWNER)
    monkeypatch.setenv("ALUR_DATABASE_URL", rt.settings.database_url)
    monkeypatch.setenv("ALUR_DATA_DIR", str(rt.settings.data_dir))

    result = CliRunner().invoke(main, ["show", str(instance_id)])
    assert result.exit_code == 0, result.output
    history = result.output.split("Riwayat:\n")[1]
    assert ' langkah selesai langkah 5 (versi 1) "Apakah hasil kegiatan dan layanan bidang terverifikasi?" ' \
           'aptika.teknis {"terverifikasi": true}\n' in history
    assert ' langkah selesai langkah 4 "Melakukan verifikasi hasil kegiatan dan layanan bidang" aptika.teknis {' \
        in history  # numbered alike in both versions
    assert ' langkah siap langkah 7 (versi 1) "Memberikan Data Kegiatan dan Layanan yang diperlukan"\n' in history


@pytest.fixture
def offline(tmp_path) -> Alur:
    """`alur validate` needs no database."""
    return Alur(tmp_path / "data")


def test_validate_the_seed(offline):
    result = offline("validate", str(SEED_BPMN), str(SEED_YAML))
    assert result.stdout.strip() == "ok: 2 berkas"


def test_validate_a_broken_copy(offline, tmp_path):
    bpmn_path, yaml_path = tmp_path / "rusak.bpmn", tmp_path / "rusak.yaml"
    text = SEED_BPMN.read_text(encoding="utf-8")
    text = text.replace(">PT120M<", ">PT30X<").replace('alur:role="teknis"', 'alur:role="keuangan"')
    bpmn_path.write_text(text, encoding="utf-8")
    shutil.copyfile(SEED_YAML, yaml_path)
    missing = tmp_path / "tidak_ada.bpmn"

    result = offline("validate", str(bpmn_path), str(missing), ok=False)
    assert result.returncode == 1
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    parsed = [re.match(r"^(.+?\.(?:bpmn|yaml)): (\S+): (.+)$", line) for line in lines]
    assert all(parsed), lines
    found = {(m[1], m[2]): m[3] for m in parsed}
    assert "durasi 'PT30X' tidak terbaca" in found[(str(bpmn_path), "Timer_06")]
    assert "lane 'Tim Teknis' tidak dikenal" in found[(str(bpmn_path), "Lane_Teknis")]
    assert found[(str(missing), "-")] == "berkas tidak ditemukan"
    assert len(found) == 3


@pytest.mark.parametrize("error,code", [("LostRace", 3), ("Conflict", 3), ("Forbidden", 4), ("NotFound", 1)])
def test_exit_codes_follow_the_kind_of_error_subclasses_included(error, code):
    """A lost race is a conflict: exit 3, as the README says (the lookup was by exact type: exit 1)."""
    import click
    from click.testing import CliRunner

    from engine import errors
    from web.cli import friendly

    @click.command()
    @friendly
    def failing() -> None:
        raise getattr(errors, error)("data ini baru saja diubah oleh orang lain")

    result = CliRunner().invoke(failing)
    assert result.exit_code == code, result.output


def test_tick_help_names_the_override_for_non_demo_databases():
    """`alur tick` runs on a non-demo database with ALUR_ALLOW_CLOCK_OVERRIDE=1 (README, and the
    refusal says so); its --help said "demo databases only"."""
    from click.testing import CliRunner

    from web.cli import main

    result = CliRunner().invoke(main, ["tick", "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "ALUR_ALLOW_CLOCK_OVERRIDE=1" in " ".join(result.output.split())


# What most commands do without: the web app (Flask and all under it, Pillow for the letterhead),
# Alembic (with Mako and Pygments), Babel's catalogue readers, the SOP importer and the definition
# editor. Imported by every `alur`, they made starting it, `alur --help` included, take most of a second.
ONLY_WHERE_NEEDED = ("flask", "flask_babel", "flask_login", "flask_wtf", "jinja2", "PIL", "gunicorn", "alembic",
                     "mako", "pygments", "babel.support", "babel.messages", "web.app", "engine.editor",
                     "process.sop_import")


def test_starting_alur_imports_only_what_every_command_needs():
    listing = "import json, sys, web.cli; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", listing], cwd=DEFINITIONS.parent, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    imported = json.loads(result.stdout)
    assert [m for m in imported if any(m == name or m.startswith(f"{name}.") for name in ONLY_WHERE_NEEDED)] == []


def test_output_cut_short_by_its_reader_is_no_error(alur, opened):
    """`alur show 3 | head -1`: the reader stops reading; that printed "galat: BrokenPipeError"."""
    instance_id, _ = opened
    for args in (("show", str(instance_id)), ("tasks",), ("alerts",)):
        process = subprocess.Popen([str(ALUR), *args], env=alur.env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
        process.stdout.close()  # gone before the first line is written
        assert process.stderr.read() == b"", args
        process.wait(timeout=60)
        process.stderr.close()


def test_deploy_as_an_unknown_user_is_refused_and_deploys_nothing(alur, tmp_path):
    """`alur deploy --user` recorded any name typed as the deployer, even a login nobody has or a
    staff member's who may not change the SOP."""
    bpmn_path, yaml_path = tmp_path / "monev_kegiatan_bidang.bpmn", tmp_path / "monev_kegiatan_bidang.yaml"
    shutil.copyfile(SEED_BPMN, bpmn_path)
    yaml_path.write_text(SEED_YAML.read_text(encoding="utf-8").replace("Teliti, sistematis", "Teliti dan sistematis"),
                         encoding="utf-8")

    result = alur("deploy", "--user", "pemilik.prosess", str(bpmn_path), ok=False)
    assert "pengguna 'pemilik.prosess' tidak dikenal" in result.stderr
    staff = alur("deploy", "--user", "aptika.teknis", str(bpmn_path), ok=False)
    assert staff.returncode == 4 and "tidak berwenang mengubah SOP" in staff.stderr
    deployed = alur("deploy", "--user", "pemilik.proses", str(bpmn_path)).stdout
    with sqlite3.connect(alur.data_dir / "alur.db") as db:
        deployers = [row[0] for row in db.execute("SELECT deployed_by FROM definition_version ORDER BY id")]
    assert "(di-deploy)" in deployed and deployers[-1] == "pemilik.proses"
    assert "pemilik.prosess" not in deployers


def test_init_after_a_newer_version_was_deployed_says_the_newer_one_stays(tmp_path):
    """`alur init` after `alur deploy` made v2 said "monev_kegiatan_bidang v1 (tidak berubah)", which
    reads as if v1 were put back; v2 is the one new activities start on."""
    cli = Alur(tmp_path / "data")
    cli("init", "--demo")
    bpmn_path, yaml_path = tmp_path / "monev_kegiatan_bidang.bpmn", tmp_path / "monev_kegiatan_bidang.yaml"
    shutil.copyfile(SEED_BPMN, bpmn_path)
    yaml_path.write_text(SEED_YAML.read_text(encoding="utf-8").replace("Teliti, sistematis", "Teliti dan sistematis"),
                         encoding="utf-8")
    assert "monev_kegiatan_bidang v2 (di-deploy)" in cli("deploy", "--user", "pemilik.proses", str(bpmn_path)).stdout
    assert cli("init").stdout.splitlines() == [
        "monev_kegiatan_bidang v1 (berkas tidak berubah; versi terbaru v2 tetap berlaku)"]


@pytest.mark.parametrize("args", [("tasks",), ("scheduler", "--once"), ("audit", "verify"), ("backup", "x.tar.gz")])
def test_a_database_never_prepared_or_unreachable_is_one_sentence(tmp_path, args):
    """Before `alur init` (or with a database that cannot be reached) every command printed the
    driver's error with the SQL statement and its parameters over several lines."""
    cli = Alur(tmp_path)
    result = cli(*args, ok=False)
    assert result.returncode == 1
    assert error_lines(result) == [error_lines(result)[0]] and "[SQL:" not in result.stderr, result.stderr
    assert error_lines(result)[0].startswith("galat: basis data") and "alur init" in result.stderr, result.stderr
    cli.env["ALUR_DATABASE_URL"] = "postgresql+psycopg://alur:rahasia@127.0.0.1:1/alur"
    result = cli(*args, ok=False)
    assert result.returncode == 1
    assert len(error_lines(result)) == 1 and "sqlalche.me" not in result.stderr, result.stderr
    assert error_lines(result)[0].startswith("galat: basis data ALUR_DATABASE_URL tidak dapat dibuka: ")
    assert "rahasia" not in result.stderr


def test_the_first_administrator_of_a_production_database_is_made_from_the_command_line(tmp_path):
    """`alur init` without --demo (the README's production set-up) makes no account, and only an
    administrator can make one: nobody could sign in. `alur admin` makes the first one, asking for
    the password twice, and gives a locked-out administrator a new password."""
    from engine import accounts
    from engine.config import Settings
    from engine.runtime import Runtime

    cli = Alur(tmp_path)
    cli("init")

    def admin(*args: str, typed: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(ALUR), "admin", *args], env=cli.env, input=typed, capture_output=True,
                              text=True, timeout=60)

    short = admin("kantor.admin", "--name", "Admin Kantor", typed="pendek\npendek\n")
    assert short.returncode == 1 and "minimal 8 karakter" in short.stderr, short.stderr
    made = admin("kantor.admin", "--name", "Admin Kantor", typed="sandi-kantor-1\nsandi-kantor-1\n")
    assert made.returncode == 0, made.stderr
    assert "sandi-kantor-1" not in made.stdout + made.stderr
    rt = Runtime(Settings.from_env(database_url=f"sqlite:///{tmp_path / 'alur.db'}", data_dir=tmp_path))
    try:
        user_id = accounts.authenticate(rt, "kantor.admin", "sandi-kantor-1")
        assert [u["roles"] for u in accounts.list_users(rt) if u["id"] == user_id] == [["admin"]]
        reset = admin("kantor.admin", typed="sandi-kantor-2\nsandi-kantor-2\n")
        assert reset.returncode == 0, reset.stderr
        assert accounts.authenticate(rt, "kantor.admin", "sandi-kantor-2") == user_id
        assert [u["name"] for u in accounts.list_users(rt)] == ["Admin Kantor"]
    finally:
        rt.engine.dispose()
    missing = admin("orang.baru", typed="sandi-kantor-3\nsandi-kantor-3\n")
    assert missing.returncode == 1 and "name" in missing.stderr, missing.stderr


@pytest.mark.parametrize("args, says", [
    (["orang.baru"], "name: wajib diisi"),                         # a new account needs --name
    (["Orang Baru!", "--name", "Orang Baru"], "login: nama pengguna hanya huruf kecil"),
    (["orang.baru", "--name", "x" * 500], "name: paling panjang"),
])
def test_an_administrator_is_told_of_a_missing_name_or_a_bad_login_before_typing_the_password(
        rt, monkeypatch, args, says):
    """`alur admin NEW` without --name asked for the password twice and only then said the name was
    missing: the typing was wasted. The password is asked for once the rest is known to be usable."""
    from click.testing import CliRunner

    from web.cli import main
    monkeypatch.setenv("ALUR_DATABASE_URL", rt.settings.database_url)
    monkeypatch.setenv("ALUR_DATA_DIR", str(rt.settings.data_dir))
    result = CliRunner().invoke(main, ["admin", *args], input="sandi-kantor-1\nsandi-kantor-1\n")
    assert result.exit_code == 1 and "Password" not in result.output, result.output
    assert says in result.output
    # An account that exists keeps its name: only the password is asked for.
    reset = CliRunner().invoke(main, ["admin", "admin"], input="sandi-kantor-1\nsandi-kantor-1\n")
    assert reset.exit_code == 0 and "Password" in reset.output, reset.output


def test_an_administrator_made_before_alur_init_is_told_to_run_it(tmp_path):
    """On a new machine (no data directory yet) `alur admin` said the database of ALUR_DATABASE_URL
    could not be opened, a setting the operator had not set, instead of asking for `alur init`."""
    cli = Alur(tmp_path / "belum-ada")
    result = cli("admin", "kantor.admin", "--name", "Admin Kantor", "--password", "sandi-kantor-1", ok=False)
    assert result.returncode == 1
    assert error_lines(result) == [error_lines(result)[0]] and "jalankan `alur init` dahulu" in result.stderr, \
        result.stderr


def test_an_administrator_is_told_of_a_bad_setting_before_typing_the_password(tmp_path):
    """With a setting that cannot be read, or no database, `alur admin` asked for the password twice
    and only then said so; it says so first, asking nothing."""
    cli = Alur(tmp_path)
    cli("init")
    bad_setting = dict(cli.env, ALUR_MAX_UPLOAD_BYTES="20M")
    for env, says in ((bad_setting, "galat: ALUR_MAX_UPLOAD_BYTES harus bilangan bulat"),
                      (dict(cli.env, ALUR_DATA_DIR=str(tmp_path / "belum-ada")), "jalankan `alur init` dahulu")):
        result = subprocess.run([str(ALUR), "admin", "kantor.admin", "--name", "Admin Kantor"], env=env,
                                input="sandi-kantor-1\nsandi-kantor-1\n", capture_output=True, text=True, timeout=60)
        assert result.returncode == 1 and "Password" not in result.stdout + result.stderr, result.stdout
        assert error_lines(result)[0].startswith("galat: ") and says in result.stderr, result.stderr


@pytest.mark.parametrize("variable, content, begins", [
    ("ALUR_CALENDAR_FILE", None, "galat: ALUR_CALENDAR_FILE: berkas {path} tidak ada"),
    ("ALUR_ESCALATION_FILE", None, "galat: ALUR_ESCALATION_FILE: berkas {path} tidak ada"),
    ("ALUR_CALENDAR_FILE", "hours: [tidak ditutup\n", "galat: YAML kalender tidak dapat dibaca: "),
    ("ALUR_ESCALATION_FILE", "levels: [tidak ditutup\n", "galat: YAML eskalasi tidak dapat dibaca: "),
    ("ALUR_CALENDAR_FILE", "hours: {saturday: null}\n", "galat: hours: setidaknya satu hari harus punya jam kerja"),
    ("ALUR_ESCALATION_FILE", "smtp: {port: 70000}\n", "galat: smtp.port: harus nomor port, bukan 70000"),
])
def test_a_calendar_or_escalation_file_that_cannot_be_used_is_one_line(alur, tmp_path, variable, content, begins):
    """The scheduler and every other command printed the error's class name and, for a YAML
    error, the parser's message over five lines; and the messages were English in the
    Indonesian command line ("ALUR_CALENDAR_FILE: … does not exist"). (A cycles file that cannot be
    used no longer stops the scheduler: tests/e2e/test_scheduler_cli.py.)"""
    path = tmp_path / "berkas.yaml"
    begins = begins.format(path=path)
    if content is not None:
        path.write_text(content)
    alur.env[variable] = str(path)
    try:
        result = alur("scheduler", "--once", ok=False)
    finally:
        del alur.env[variable]
    assert result.returncode == 1
    assert len(error_lines(result)) == 1 and error_lines(result)[0].startswith(begins), result.stderr


@pytest.mark.parametrize("variable, command", [("ALUR_CALENDAR_FILE", "scheduler"), ("ALUR_ESCALATION_FILE", "scheduler"),
                                               ("ALUR_LOGO_FILE", "serve")])
def test_a_file_setting_named_relatively_is_named_by_the_path_it_was_looked_for_at(alur, tmp_path, variable,
                                                                                  command):
    """ALUR_CYCLES_FILE=cycles.yaml said "berkas cycles.yaml tidak ada": under systemd the working
    directory is /, and the operator looked for the file beside the definitions."""
    args = [str(ALUR), command, *(("--once",) if command == "scheduler" else ("--port", "1"))]
    result = subprocess.run(args, env={**alur.env, variable: "hilang.yaml"}, cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert len(error_lines(result)) == 1 and f" {tmp_path / 'hilang.yaml'} " in error_lines(result)[0], result.stderr


@pytest.mark.parametrize("content", [b"%PDF-1.4 bukan arsip\n", b"\x1f\x8b\x08\x00potong", "gzip-bukan-tar"])
def test_restoring_a_file_that_is_no_backup_names_it_in_indonesian(alur, tmp_path, content):
    """A PDF picked by mistake, a cut download, a gzip holding no tar: the tarfile and gzip modules'
    errors came out as "galat: ReadError: not a gzip file" or "galat: EOFError: Compressed file ended…"."""
    import gzip
    kept, _task = start(alur, "Sebelum pemulihan yang ditolak")
    archive = tmp_path / "cadangan.tar.gz"
    archive.write_bytes(gzip.compress(b"halo\n") if content == "gzip-bukan-tar" else content)
    result = alur("restore", str(archive), "--force", ok=False)
    assert result.returncode == 1
    assert error_lines(result) == [f"galat: {archive} bukan arsip cadangan Alur (.tar.gz yang utuh)"], result.stderr
    assert alur.json("show", str(kept))["id"] == kept  # nothing was dropped


@pytest.mark.parametrize("variable, value", [("ALUR_MAX_UPLOAD_BYTES", "20M"), ("ALUR_WORKFLOW_CACHE_SIZE", "-1"),
                                             ("ALUR_MAX_UPLOAD_BYTES", "２０")])
def test_a_number_setting_that_is_no_number_is_named_in_one_sentence(alur, variable, value):
    """Every command said "galat: ValueError: invalid literal for int() with base 10: '20M'",
    naming neither the setting nor what it takes."""
    alur.env[variable] = value
    try:
        result = alur("tasks", ok=False)
    finally:
        del alur.env[variable]
    assert result.returncode == 1
    assert error_lines(result) == [f"galat: {variable} harus bilangan bulat, paling sedikit "
                                   f"{0 if variable == 'ALUR_WORKFLOW_CACHE_SIZE' else 1}, bukan {value!r}"], result.stderr


def test_a_definitions_folder_that_is_not_there_stops_a_command_naming_where_it_was_looked_for(tmp_path):
    """Under systemd the working directory is `/`: a relative ALUR_DEFINITIONS_DIR was looked for there,
    and a wrong one meant the built-in calendar and escalation and no cycles, without a word."""
    cli = Alur(tmp_path)
    result = subprocess.run([str(ALUR), "init"], env=dict(cli.env, ALUR_DEFINITIONS_DIR="definitions"), cwd="/",
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stdout
    assert error_lines(result) == ["galat: ALUR_DEFINITIONS_DIR: folder /definitions tidak ada"], result.stderr
