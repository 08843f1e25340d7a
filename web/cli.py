"""`alur`: the command line. Each command is a few lines over the service layer."""
from __future__ import annotations

import functools
import json
import math
import os
import re
import sys
import time
from datetime import datetime
from pathlib import Path

import click
import yaml
from sqlalchemy.exc import SQLAlchemyError

from engine import bootstrap, schema, services, worklist
from engine.config import Settings, SettingError
from engine.db import MAX_INTEGER, database_problem
from engine.errors import AlurError, Conflict, Forbidden
from engine.escalation_config import EscalationConfigError
from engine.events import EVENT_LABELS
from engine.runtime import Runtime, load_escalation
from process.calendar import CalendarConfigError
from process.cycles import CycleConfigError
from process.forms import printable
from process.loader import ERROR, DefinitionError, load_file, validate_paths
from process.user_yaml import user_yaml
from web.catalogues import catalogue

EXIT_CODES = {Conflict: 3, Forbidden: 4}

# Numbers are checked where they are read, so a wrong one is a usage error
# naming the option: an id past the database's integer would otherwise fail
# deep inside (SQLite: OverflowError), and a port, worker count or interval
# out of range inside gunicorn or the scheduler.
RECORD_ID = click.IntRange(1, MAX_INTEGER)


class Seconds(click.FloatRange):
    """Seconds above 0 and at most `most`, refused in Indonesian (click's FloatRange says "inf is not
    in the range 0<x<=3600"). "nan", which float() reads and every comparison lets through, and "inf"
    are no number of seconds."""
    name = "seconds"

    def __init__(self, most: float):
        super().__init__(0, most, min_open=True)  # the range --help shows

    def convert(self, value, param, ctx):
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            seconds = math.nan
        if not math.isfinite(seconds):
            self.fail(f"{value!r} bukan bilangan detik", param, ctx)
        if not 0 < seconds <= self.max:
            self.fail(f"harus lebih dari 0 dan paling lama {self.max:g} detik, bukan {value}", param, ctx)
        return seconds


def runtime() -> Runtime:
    settings = Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Runtime(settings, catalogue=catalogue)


def friendly(command):
    """Errors become one readable line on stderr and a non-zero exit, never a traceback."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except AlurError as err:
            _echo(f"galat: {err}", err=True)
            for field, message in getattr(err, "errors", {}).items():
                _echo(f"  {field}: {message}", err=True)
            sys.exit(next((code for kind, code in EXIT_CODES.items() if isinstance(err, kind)), 1))
        except DefinitionError as err:
            for problem in err.problems:
                _echo(str(problem), err=True)
            sys.exit(1)
        except (click.ClickException, click.exceptions.Exit, SystemExit):
            raise
        except BrokenPipeError:  # `alur tasks | head`: the reader has what it wanted, no error to report
            # What is left in stdout's buffer goes nowhere, not into a second error at exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(1)
        except (CalendarConfigError, EscalationConfigError, CycleConfigError, SettingError) as err:  # the key it names
            _echo(f"galat: {err}", err=True)
            sys.exit(1)
        except SQLAlchemyError as err:  # a database never prepared or not reachable: not the SQL sent
            if os.environ.get("ALUR_DEBUG"):
                raise
            _echo(f"galat: {database_problem(err)}", err=True)
            sys.exit(1)
        except Exception as err:  # the last guard: one line, not a traceback
            if os.environ.get("ALUR_DEBUG"):
                raise
            click.echo(f"galat: {type(err).__name__}: {err}", err=True)
            sys.exit(1)
    return wrapper


def emit(value, as_json: bool, text) -> None:
    if as_json:
        click.echo(json.dumps(value, ensure_ascii=False, indent=2))
    else:
        text(value)


def _echo(line: str, err: bool = False) -> None:
    """A line that holds stored or sent text (a title, a step's name, history, a table's cell in a
    question or an error): its control characters are shown, not sent to the terminal (JSON output
    escapes them anyway). A line break in it (a title may hold one) is a space: "\r" would write over
    the line, "\n" begin one that reads as another row."""
    click.echo(_LINE_BREAK.sub(" ", printable(line)), err=err)


_LINE_BREAK = re.compile(r"\r\n?|\n")


@click.group()
def main() -> None:
    """Alur: SOP workflows for government offices."""


@main.command()
@click.option("--demo", is_flag=True, help="Also create the demo Bidang and users.")
@friendly
def init(demo: bool) -> None:
    """Create or upgrade the database and deploy the definitions."""
    rt = runtime()
    for deployed in bootstrap.init(rt, demo=demo):
        click.echo(_deployed(deployed))
    if demo:
        click.echo(f"pengguna demo siap; kata sandi: {bootstrap.DEMO_PASSWORD}")


def _deployed(deployed) -> str:
    if deployed.file_differs:  # an upgrade's file, not put over a version deployed since from the app
        return (f"{deployed.key} v{deployed.version} tetap berlaku: berkasnya berbeda, tetapi versi terbaru "
                "di-deploy dari aplikasi; deploy berkas dengan `alur deploy` bila memang dimaksud")
    if deployed.newest is not None:  # not a rollback: the file is an older version's
        return (f"{deployed.key} v{deployed.version} (berkas tidak berubah; versi terbaru v{deployed.newest} "
                "tetap berlaku)")
    return f"{deployed.key} v{deployed.version} ({'di-deploy' if deployed.created else 'tidak berubah'})"


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@friendly
def validate(paths: tuple[str, ...]) -> None:
    """Check definition files without deploying them; warnings are shown and do not fail the check."""
    problems = validate_paths(paths)
    for problem in problems:
        click.echo(str(problem))
    if any(p.severity == ERROR for p in problems):
        sys.exit(1)
    warnings = f", {len(problems)} peringatan" if problems else ""
    click.echo(f"ok: {len(paths)} berkas{warnings}")


@main.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Directory for KEY.bpmn and KEY.yaml.")
@click.option("--key", default=None, help="Definition key (process id); default: from the file name.")
@click.option("--answers", "answers_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="YAML answers: element id -> {pelaksana|waktu|ya|tidak|peran: value}.")
@friendly
def import_(source: str, out_dir: str, key: str | None, answers_path: str | None) -> None:
    """Import an SOP table (.csv, .xlsx, PDF text .txt, .yaml) as a BPMN + YAML definition."""
    from process import sop_import  # the reader, interpreter and writers: this command's alone

    answers = None
    if answers_path:
        try:
            answers = user_yaml(Path(answers_path).read_text(encoding="utf-8"))
        except yaml.YAMLError as err:
            click.echo(f"galat: {answers_path}: YAML rusak: {' '.join(str(err).split())}", err=True)
            sys.exit(1)
    try:
        result = sop_import.import_sop(source, Path(source).read_bytes(), key=key, answers=answers)
    except (sop_import.SourceError, sop_import.AnswerError) as err:
        _echo(f"galat: {err}", err=True)
        sys.exit(1)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    bpmn_path, yaml_path = out / f"{result.key}.bpmn", out / f"{result.key}.yaml"
    bpmn_path.write_text(result.bpmn_xml, encoding="utf-8")
    yaml_path.write_text(result.yaml_text, encoding="utf-8")
    click.echo(f"{bpmn_path} dan {yaml_path} ditulis: {len(result.sop.steps)} langkah, "
               f"{len(result.sop.actors)} Pelaksana")
    if not result.questions:
        click.echo("tidak ada pertanyaan terbuka: periksa dengan `alur validate`, lalu deploy")
        return
    click.echo(f"{len(result.questions)} pertanyaan terbuka, juga tercantum di 'questions' dalam {yaml_path}:")
    for question in result.questions:
        _echo(f"  {question.id}: {question.text}")
    click.echo("jawab di editor, atau dalam berkas YAML untuk --answers (mis. Step_04: {pelaksana: Tim Teknis})")


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--user", "login", default=None)
@friendly
def deploy(path: str, login: str | None) -> None:
    """Deploy one definition file (with its YAML beside it)."""
    from engine import editor  # the editor's checks (and SpiffWorkflow's diff), only for --user

    rt, definition = runtime(), load_file(path)
    deployed = editor.deploy_as(rt, login, definition) if login else services.deploy(rt, definition)
    click.echo(_deployed(deployed))


@main.command()
@click.option("--bidang", required=True)
@click.option("--title", required=True)
@click.option("--definition", "key", default="monev_kegiatan_bidang", show_default=True)
@click.option("--user", "login", default=None)
@click.option("--json", "as_json", is_flag=True)
@friendly
def start(bidang: str, title: str, key: str, login: str | None, as_json: bool) -> None:
    """Start an instance for a Bidang; prints its id."""
    instance_id = services.start(runtime(), key, bidang, title, login)
    emit({"id": instance_id}, as_json, lambda v: click.echo(v["id"]))


@main.command()
@click.option("--user", "login", default=None)
@click.option("--instance", "instance_id", type=RECORD_ID, default=None)
@click.option("--json", "as_json", is_flag=True)
@friendly
def tasks(login: str | None, instance_id: int | None, as_json: bool) -> None:
    """Open tasks, for one user or everyone."""
    rt = runtime()
    emit(worklist.tasks(rt, login, instance_id), as_json, lambda rows: _print_tasks(rows, rt.calendar.tz))


def _print_tasks(rows, tz) -> None:
    if not rows:
        click.echo("tidak ada tugas terbuka")
    for t in rows:
        flag = " TERLAMBAT" if t["overdue"] else ""
        who = t["assignee"] or "-"
        _echo(f"{t['id']}  #{t['instance_id']} langkah {t['step']:>2} {t['lane']:<13} {t['bidang']:<20} "
                   f"{who:<28} batas {_local(t['due_at'], tz)}{flag}  {t['name']}")


@main.command()
@click.argument("task_id")
@click.option("--user", "login", required=True)
@friendly
def claim(task_id: str, login: str) -> None:
    """Claim a task offered to you."""
    services.claim(runtime(), task_id, login)
    click.echo(f"tugas {task_id} diklaim")


@main.command()
@click.argument("task_id")
@click.option("--user", "login", required=True)
@friendly
def unclaim(task_id: str, login: str) -> None:
    """Give a claimed task back to the team."""
    released = services.unclaim(runtime(), task_id, login)["released"]
    click.echo(f"tugas {task_id} dilepas" if released else f"tugas {task_id} tidak sedang diklaim; tidak ada yang berubah")


@main.command()
@click.argument("task_id")
@click.option("--user", "login", required=True)
@click.option("--data", "data_json", default="{}", help="The step's form data as a JSON object.")
@click.option("--file", "files", multiple=True, metavar="FIELD=PATH", help="Attach a document to a file field.")
@friendly
def complete(task_id: str, login: str, data_json: str, files: tuple[str, ...]) -> None:
    """Complete a claimed task with its form data."""
    try:
        data = json.loads(data_json)
    except json.JSONDecodeError as err:
        raise click.UsageError(f"--data bukan JSON yang sah: {err.msg}") from None
    attachments = {}
    for item in files:
        field, sep, path = item.partition("=")
        if not sep or not field or not path:
            raise click.UsageError(f"--file harus berbentuk FIELD=PATH, bukan {item!r}")
        attachments[field] = Path(path)
    result = services.complete(runtime(), task_id, login, data, attachments)
    click.echo(f"tugas {task_id} selesai; kegiatan {result['instance_id']} {_state(result['instance_state'])}")


def _local(moment: str | None, tz) -> str:
    """A stored time (ISO, UTC) as the office's clock reads it, as the pages show it; --json keeps ISO."""
    if not moment:
        return "-"
    return datetime.fromisoformat(moment).astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def _state(state: str) -> str:
    """An instance's state as the CLI says it."""
    return {"running": "berjalan", "completed": "selesai"}.get(state, state)


@main.command()
@click.argument("instance_id", type=RECORD_ID)
@click.option("--json", "as_json", is_flag=True)
@friendly
def show(instance_id: int, as_json: bool) -> None:
    """An instance: state, current steps and history."""
    rt = runtime()
    emit(services.show(rt, instance_id), as_json, lambda info: _print_instance(info, rt.calendar.tz))


def _print_instance(info, tz) -> None:
    _echo(f"#{info['id']} {info['title']} ({info['bidang']}) — {_state(info['state'])}, "
               f"{info['definition']} v{info['definition_version']}")
    click.echo("Langkah saat ini:")
    for t in info["current_steps"]:
        _echo(f"  {t['step']:>2}. {t['name']} [{t['lane']}] oleh {t['assignee'] or '-'}, batas {_local(t['due_at'], tz)}"
                   + (" TERLAMBAT" if t["overdue"] else ""))
    click.echo("Riwayat:")
    for e in info["history"]:
        # The event in words, as the activity page names it ("langkah selesai", not "step_completed").
        words = [_local(e["at"], tz), EVENT_LABELS.get(e["kind"], e["kind"])]
        words += [_history_step(e)] if e["step"] else []
        words += [e["actor"]] if e["actor"] else []
        words += [json.dumps(e["data"], ensure_ascii=False)] if e["data"] else []
        _echo("  " + " ".join(words))


def _history_step(event) -> str:
    """A history entry's step as the activity page gives it: by its name in the version it happened
    under, and that version where the activity's version numbers the step otherwise."""
    words = f"langkah {event['step']}" + (f" (versi {event['step_version']})" if event["renumbered"] else "")
    return words + (f' "{event["step_name"]}"' if event["step_name"] else "")


# -- timers, escalation and alerts ------------------------------------------------
# Imported inside the commands: only these commands need the scheduler.


@main.command()
@click.option("--interval", type=Seconds(3600), default=1.0, show_default=True,
              help="Seconds between passes while nothing is due.")
@click.option("--once", is_flag=True, help="Run one pass, then exit.")
@click.option("--batch", type=click.IntRange(1, 100_000), default=100, show_default=True,
              help="Timer rows claimed per pass.")
@click.option("--lease", type=Seconds(86_400), default=60.0, show_default=True,
              help="Seconds a claim lasts; rows of a scheduler that died are taken over after it.")
@click.option("--server-pid", type=int, hidden=True,
              help="Stop when this process (`alur serve --scheduler`, which started this one) is gone.")
@click.option("--heartbeat-fd", type=int, hidden=True,
              help="Beat down this pipe, which the server that started this one watches (web/companion.py).")
@friendly
def scheduler(interval: float, once: bool, batch: int, lease: float, server_pid: int | None,
              heartbeat_fd: int | None) -> None:
    """Fire due timers, escalate late steps and send the alert mail. Several may run at once."""
    import logging
    import signal
    from datetime import timedelta

    from engine.scheduler import Scheduler

    from web.companion import heartbeat, systemd_watchdog

    rt = runtime()
    # A cycles file that cannot be used is not refused here: that stopped every timer and escalation.
    # The scheduler logs it and goes on without recurring starts; the periods missed meanwhile are
    # started once the file is corrected. A broken calendar or escalation file is still refused (by
    # runtime() above): fired on the wrong working hours, or sent to the wrong people, a deadline or
    # an alert cannot be taken back.
    prepared = _prepared(rt)  # a database of another Alur's schema is refused here, before systemd hears READY
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # Who watches for a hang: the server that started this scheduler, or systemd's watchdog.
    watchdog = systemd_watchdog() if heartbeat_fd is None else None
    beat = heartbeat(heartbeat_fd) if heartbeat_fd is not None else watchdog or (lambda: None)
    if watchdog is not None and interval > watchdog.period / 2:
        # A scheduler that waits longer than the watchdog's period is killed as hung while it waits.
        logging.getLogger("alur.scheduler").warning(
            "--interval %g s is longer than half of WatchdogSec (%g s): waiting %g s instead",
            interval, watchdog.period, watchdog.period / 2)
        interval = watchdog.period / 2
    worker = Scheduler(rt, batch=batch, lease=timedelta(seconds=lease), heartbeat=beat)
    if once:
        if prepared is False:  # one pass on a database never prepared: refused in refuse_other's words
            schema.refuse_other(rt.engine, None)
        _print_pass(worker.run_pass())
        return
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    if server_pid is not None:
        _stop_without(server_pid, worker)
    click.echo(f"penjadwal {worker.owner} berjalan (interval {interval:g} detik); hentikan dengan Ctrl-C")
    try:
        worker.run_forever(interval)
    except KeyboardInterrupt:
        worker.stop()
    click.echo("penjadwal berhenti")


def _prepared(rt: Runtime) -> bool | None:
    """Timers are fired only by the Alur the database's schema is of: not by code put back after an
    upgrade, nor by newer code before `alur init` upgraded the database (schema.OtherSchema). None:
    the database cannot be reached; the scheduler's loop waits for it, as for a first `alur init`."""
    from engine.scheduler import database_prepared
    try:
        return database_prepared(rt)
    except SQLAlchemyError:
        return None


def _stop_without(server_pid: int, worker) -> None:
    """A server killed outright (SIGKILL) cannot stop its scheduler: the scheduler notices instead
    (it is no longer the server's child), even if that happened while it was starting."""
    import threading

    def watch() -> None:
        while os.getppid() == server_pid:
            time.sleep(1)
        click.echo(f"penjadwal: server {server_pid} tidak ada lagi; berhenti")
        worker.stop()
    threading.Thread(target=watch, name="server-watch", daemon=True).start()


@main.command()
@click.option("--at", "at", required=True, metavar="ISO_TIME",
              help="The time the clock should read, e.g. 2026-04-22T09:00 (office time zone unless given).")
@friendly
def tick(at: str) -> None:
    """Run one scheduler pass as if the clock read --at (demo databases, or ALUR_ALLOW_CLOCK_OVERRIDE=1)."""
    from engine.clock import ManualClock
    from engine.errors import InvalidData
    from engine.scheduler import Scheduler

    settings = Settings.from_env()
    probe = Runtime(settings)
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        raise InvalidData(f"--at bukan waktu ISO yang valid: {at!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=probe.calendar.tz)
    if not (settings.allow_clock_override or bootstrap.is_demo(probe)):
        raise Forbidden("tick hanya untuk basis data demo (alur init --demo) "
                        "atau bila ALUR_ALLOW_CLOCK_OVERRIDE=1")
    probe.dispose()
    _print_pass(Scheduler(Runtime(settings, clock=ManualClock(moment), catalogue=catalogue)).run_pass())


def _print_pass(report) -> None:
    click.echo(f"timer jatuh tempo: {report.claimed}, dijalankan: {report.fired}, "
               f"bentrok: {report.conflicts}, gagal: {report.errors}; "
               f"peringatan terkirim: {report.delivery.sent}, gagal kirim: {report.delivery.failed}, "
               f"tidak terkirim: {report.delivery.skipped}")


@main.command()
@click.option("--user", "login", default=None, help="Only the alerts sent to this supervisor.")
@click.option("--json", "as_json", is_flag=True)
@friendly
def alerts(login: str | None, as_json: bool) -> None:
    """Escalation alerts, newest first."""
    from engine import alerts as alert_service

    rt = runtime()
    emit(alert_service.alerts(rt, login), as_json, lambda rows: _print_alerts(rows, rt.calendar.tz))


def _print_alerts(rows, tz) -> None:
    if not rows:
        click.echo("tidak ada peringatan")
    for a in rows:
        state = "dibatalkan" if a["cancelled_at"] else ("terkirim" if a["sent_at"] else "belum terkirim")
        read = "sudah dibaca" if a["acknowledged_at"] else "belum dibaca"
        _echo(f"{a['id']:>5}  tingkat {a['level']}  {a['recipient']:<18} #{a['instance_id']} {a['title']} "
                   f"({a['bidang']}) langkah {a['step']}  {_local(a['created_at'], tz)}  {state}, {read}")


@main.command()
@click.argument("alert_id", type=RECORD_ID)
@click.option("--user", "login", required=True)
@friendly
def ack(alert_id: int, login: str) -> None:
    """Mark an alert sent to you as read."""
    from engine import alerts as alert_service

    alert_service.acknowledge(runtime(), alert_id, login)
    click.echo(f"peringatan {alert_id} ditandai sudah dibaca")


# -- audit, backup and restore ------------------------------------------------------

EXIT_NOT_VERIFIED = 5


@main.group()
def audit() -> None:
    """The tamper-evident event log."""


@audit.command()
@click.option("--json", "as_json", is_flag=True)
@friendly
def verify(as_json: bool) -> None:
    """Check every instance's event chain; exit 5 and name each problem if it does not verify."""
    from engine import audit as audit_log

    verdict = audit_log.verify(runtime())
    if as_json:
        click.echo(json.dumps(verdict.as_dict(), ensure_ascii=False, indent=2))
    else:
        for problem in verdict.problems:
            click.echo(problem, err=True)
        state = "utuh" if verdict.ok else f"TIDAK UTUH, {len(verdict.problems)} masalah"
        click.echo(f"log peristiwa {state}: {verdict.instances} kegiatan, {verdict.events} entri; "
                   f"digest {verdict.digest}")
    if not verdict.ok:
        sys.exit(EXIT_NOT_VERIFIED)


@main.command()
@click.argument("archive", type=click.Path(dir_okay=False))
@click.option("--overwrite", is_flag=True, help="Replace ARCHIVE if it exists (refused otherwise).")
@friendly
def backup(archive: str, overwrite: bool) -> None:
    """Write the database and the uploaded documents to one archive file (.tar.gz)."""
    from engine import backup as backups

    manifest = backups.backup(runtime(), Path(archive), overwrite=overwrite)
    click.echo(f"cadangan ditulis ke {archive}: {_summary(manifest)}")


@main.command()
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that is not empty (its tables are dropped).")
@friendly
def restore(archive: str, force: bool) -> None:
    """Restore an archive from `alur backup` into an empty database and the data directory."""
    from engine import backup as backups

    rt = runtime()
    manifest = backups.restore(rt, Path(archive), force=force)
    made = _local(manifest["created_at"], rt.calendar.tz)
    click.echo(f"dipulihkan dari {archive} (dibuat {made}): {_summary(manifest)}")
    if manifest["previous"]:
        click.echo(f"basis data yang ditimpa disimpan di {manifest['previous']}")
    if manifest["previous_files"]:  # into an empty database: files left by none, moved all the same
        which = "yang tidak termasuk cadangan ini" if manifest["previous"] else \
            "sisa yang tidak disebut basis data mana pun (basis data tujuan kosong)"
        click.echo(f"berkas dokumen {which} dipindahkan ke {manifest['previous_files']}")


def _summary(manifest: dict) -> str:
    tables = manifest["tables"]
    return (f"{tables['instance']} kegiatan, {tables['task']} tugas, {tables['event']} entri log, "
            f"{tables['document']} dokumen ({len(manifest['documents'])} berkas)")


@main.command("admin")
@click.argument("login")
@click.option("--name", help="The administrator's full name (required for a new account).")
@click.option("--password", help="Asked twice when not given (better than on the command line).")
@friendly
def admin_account(login: str, name: str | None, password: str | None) -> None:
    """Make an administrator (the first one), or give one a new password and unlock it."""
    from engine import accounts
    rt = runtime()
    # A database never prepared, a bad login or a new account's missing name: said before the password is typed.
    accounts.check_admin(rt, login, name)
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    created = accounts.ensure_admin(rt, login, name, password)
    if created:
        _echo(f"administrator {login.strip().lower()} dibuat; masuk di halaman web lalu tambahkan bidang dan pengguna")
    else:
        _echo(f"administrator {login.strip().lower()}: kata sandi baru, aktif, berperan admin")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1),
              help="Request threads per worker.")
@click.option("--scheduler/--no-scheduler", "with_scheduler", default=False,
              help="Also run the timer scheduler, as a process of its own (what `make run` does).")
@friendly
def serve(host: str, port: int, workers: int, threads: int, with_scheduler: bool) -> None:
    """Serve the web app with gunicorn."""
    from web import letterhead
    from web.serve import check_address, check_before_serving, stall_seconds
    from web.serve import serve as run_server
    check_before_serving(Settings.from_env())
    # Checked here, once: in the app factory alone a bad logo would fail every worker after "Listening".
    letterhead.data_uri(Settings.from_env().logo_file)
    # Read before "Listening": a stall time shorter than an alert's delivery is refused here.
    stall_after = stall_seconds(load_escalation(Settings.from_env()).longest_try_seconds if with_scheduler else 0.0)
    check_address(host, port)
    click.echo(f"Alur: http://{host}:{port}/")
    # The scheduler is a process of its own (`alur scheduler`), started and stopped with the server,
    # and started again if it dies (web/companion.py).
    # A thread in gunicorn's master was forked into every worker, sometimes half-way through a
    # transaction: workers began with its locks held and could not write at all.
    command = [sys.executable, "-m", "web.cli", "scheduler", "--server-pid", str(os.getpid())] \
        if with_scheduler else None
    run_server(host, port, workers, threads, companion=command, stall_after=stall_after)


if __name__ == "__main__":  # `python -m web.cli`: how `alur serve` starts its scheduler
    main()
