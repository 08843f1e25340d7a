"""`alur tick`, `alur alerts`, `alur ack` and `alur scheduler`, run as real processes."""
from __future__ import annotations

import json
import re
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from benchmarks.population import Template, clone
from engine import accounts, bootstrap
from engine.clock import Clock, ManualClock
from engine.config import Settings
from engine.db import Alert, Timer, User
from engine.runtime import Runtime
from engine.scheduler import Scheduler
from tests.conftest import MONDAY_MORNING, fresh_database
from tests.integration.timer_helpers import SmtpSink, events_per_instance, free_port, long_due_timer, start

ALUR = str(Path(sys.executable).parent / "alur")


def write_escalation(directory: Path, smtp_port: int | None) -> Path:
    path = directory / "escalation.yaml"
    host = "127.0.0.1" if smtp_port else "null"
    path.write_text(f"smtp: {{host: {host}, port: {smtp_port or 25}, from: 'Alur <alur@dinas.test>'}}\n")
    return path


def environment(tmp_path: Path, database_url: str | None = None, smtp_port: int | None = None, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALUR_")}
    env.update(ALUR_DATA_DIR=str(tmp_path / "data"),
               ALUR_ESCALATION_FILE=str(write_escalation(tmp_path, smtp_port)), **extra)
    if database_url:
        env["ALUR_DATABASE_URL"] = database_url
    return env


def alur(env: dict, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([ALUR, *args], env=env, capture_output=True, text=True, timeout=60)
    if ok:
        assert result.returncode == 0, result.stderr
    return result


def test_tick_escalates_mails_and_the_recipient_acknowledges(tmp_path):
    port = free_port()
    env = environment(tmp_path, smtp_port=port)
    alur(env, "init", "--demo")
    instance_id = alur(env, "start", "--bidang", "aptika", "--title", "Layanan email dinas").stdout.strip()
    [task] = json.loads(alur(env, "tasks", "--instance", instance_id, "--json").stdout)
    due = datetime.fromisoformat(task["due_at"])

    with SmtpSink(port) as sink:
        early = alur(env, "tick", "--at", (due - timedelta(minutes=1)).isoformat())
        assert "dijalankan: 0" in early.stdout
        late = alur(env, "tick", "--at", (due + timedelta(minutes=1)).isoformat())
        assert "dijalankan: 1" in late.stdout and "peringatan terkirim: 1" in late.stdout
    assert [m[1]["Subject"] for m in sink.messages] == ["[Alur] Langkah 1 terlambat: Layanan email dinas"]

    [alert] = json.loads(alur(env, "alerts", "--user", "kepala.aptika", "--json").stdout)
    assert (alert["level"], alert["step"], alert["instance_id"], alert["bidang"]) == (1, 1, int(instance_id), "aptika")
    assert alert["title"] == "Layanan email dinas" and alert["task_id"] == task["id"]
    assert alert["sent_at"] and alert["acknowledged_at"] is None
    assert json.loads(alur(env, "alerts", "--user", "kadis", "--json").stdout) == []
    # The text list reads the alert's time on the office's clock.
    raised = datetime.fromisoformat(alert["created_at"]).astimezone(ZoneInfo("Asia/Jakarta"))
    assert f"  {raised:%Y-%m-%d %H:%M} WIB  terkirim, belum dibaca" in alur(env, "alerts", "--user", "kepala.aptika").stdout

    refused = alur(env, "ack", str(alert["id"]), "--user", "kadis", ok=False)
    assert refused.returncode == 4 and "bukan ditujukan kepada kadis" in refused.stderr
    assert "sudah dibaca" in alur(env, "ack", str(alert["id"]), "--user", "kepala.aptika").stdout
    [alert] = json.loads(alur(env, "alerts", "--user", "kepala.aptika", "--json").stdout)
    assert alert["acknowledged_at"] is not None
    show = json.loads(alur(env, "show", instance_id, "--json").stdout)
    assert [e["kind"] for e in show["history"]][-3:] == ["overdue", "escalated", "alert_acknowledged"]
    assert show["current_steps"][0]["overdue"] is True


def test_an_english_speaking_supervisor_is_mailed_in_english(tmp_path):
    port = free_port()
    env = environment(tmp_path, smtp_port=port)
    alur(env, "init", "--demo")
    rt = Runtime(Settings(database_url=f"sqlite:///{tmp_path / 'data' / 'alur.db'}", data_dir=tmp_path / "data"))
    try:
        with rt.uow() as session:
            head = session.scalars(select(User).where(User.login == "kepala.aptika")).one()
        accounts.set_language(rt, head.id, "en")
    finally:
        rt.dispose()
    instance_id = alur(env, "start", "--bidang", "aptika", "--title", "Layanan email dinas").stdout.strip()
    [task] = json.loads(alur(env, "tasks", "--instance", instance_id, "--json").stdout)
    due = datetime.fromisoformat(task["due_at"])

    with SmtpSink(port) as sink:
        alur(env, "tick", "--at", (due + timedelta(minutes=1)).isoformat())
    [(_, message)] = sink.messages
    assert message["Subject"] == "[Alur] Step 1 is late: Layanan email dinas"  # the title is the office's own
    text = message.get_payload(decode=True).decode(message.get_content_charset())
    assert text.startswith("Dear Kepala ")
    assert "has passed its standard time and is not finished" in text
    assert re.search(r"Deadline +: (Monday|Tuesday|Wednesday|Thursday|Friday), \d+ [A-Z][a-z]+ 20\d\d at \d\d:\d\d", text)
    assert "Mohon" not in text and "Yth." not in text and "pukul" not in text
    assert "Standard time : 30 days\r\n" in text  # as English pages word it, not the SOP's "30 Hari"


def test_tick_is_refused_unless_the_database_is_a_demo_or_the_override_is_set(tmp_path):
    env = environment(tmp_path)
    alur(env, "init")
    refused = alur(env, "tick", "--at", "2027-01-05T09:00", ok=False)
    assert refused.returncode == 4 and "demo" in refused.stderr
    allowed = alur({**env, "ALUR_ALLOW_CLOCK_OVERRIDE": "1"}, "tick", "--at", "2027-01-05T09:00")
    assert "timer jatuh tempo: 0" in allowed.stdout


def test_the_scheduler_runs_until_it_is_told_to_stop(tmp_path):
    env = environment(tmp_path)
    alur(env, "init", "--demo")
    once = alur(env, "scheduler", "--once")
    assert "timer jatuh tempo: 0" in once.stdout
    process = subprocess.Popen([ALUR, "scheduler", "--interval", "0.1"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert "berjalan" in process.stdout.readline()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert "berhenti" in process.stdout.read()
    finally:
        process.kill()


@pytest.mark.parametrize("content, says", [
    (None, "ALUR_CYCLES_FILE: berkas {path} tidak ada; isi off bila tanpa mulai berulang"),
    ("cycles: {definition: x}\n", "cycles: harus berupa daftar"),
])
def test_a_cycles_file_that_cannot_be_used_stops_the_recurring_starts_alone(tmp_path, content, says):
    """`alur scheduler` refused to start on a cycles file it could not use (or one ALUR_CYCLES_FILE named
    that was not there): until it was corrected no timer fired and nothing escalated, for every
    instance. The scheduler now fires the timers and says in one line what is wrong with the file,
    naming it by the path it was looked for at (the name is relative here)."""
    env = environment(tmp_path, ALUR_CYCLES_FILE="siklus.yaml")
    path = tmp_path / "siklus.yaml"
    if content is not None:
        path.write_text(content)
    alur(env, "init", "--demo")
    long_due_timer(tmp_path / "data", Path(env["ALUR_ESCALATION_FILE"]))
    result = subprocess.run([ALUR, "scheduler", "--once"], env=env, cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert "dijalankan: 1" in result.stdout
    said = [line for line in result.stderr.splitlines() if "cycles file" in line]
    assert len(said) == 1 and "ERROR" in said[0] and f"({path})" in said[0], result.stderr
    assert said[0].endswith(says.format(path=path)) and "Traceback" not in result.stderr


def test_a_scheduler_started_before_the_first_alur_init_waits_for_it_then_fires_the_timers(tmp_path):
    """Under systemd the scheduler may start before the first `alur init`: it stopped with "jalankan
    `alur init` dahulu", and once systemd gave up restarting it no timer fired and nothing escalated.
    It now says once what it waits for, and fires the timers once the database has been prepared."""
    env = environment(tmp_path)
    process = subprocess.Popen([ALUR, "scheduler", "--interval", "0.1"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert _wait_readable(process.stderr, 30), "the scheduler said nothing"
        assert "WARNING the database (ALUR_DATABASE_URL) has not been prepared: waiting for `alur init`" \
            in process.stderr.readline()
        assert process.poll() is None
        alur(env, "init", "--demo")
        timer_id = long_due_timer(tmp_path / "data", Path(env["ALUR_ESCALATION_FILE"]))
        settings = Settings.from_env(database_url=f"sqlite:///{tmp_path / 'data' / 'alur.db'}",
                                     data_dir=tmp_path / "data", escalation_file=Path(env["ALUR_ESCALATION_FILE"]))
        rt = Runtime(settings)
        try:
            deadline = time.monotonic() + 30
            while not _timer_fired(rt, timer_id):
                assert time.monotonic() < deadline and process.poll() is None, "the timer did not fire"
                time.sleep(0.1)
        finally:
            rt.dispose()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        said = process.stderr.read()
        assert "INFO the database has been prepared: firing timers" in said
        assert "waiting for" not in said and "Traceback" not in said, said  # the wait was said once
    finally:
        process.kill()
        process.wait()


def _timer_fired(rt: Runtime, timer_id: int) -> bool:
    with rt.uow() as session:
        return session.get(Timer, timer_id).fired_at is not None


class Systemd:
    """The notify socket systemd hands a `Type=notify` service, and what the service told it."""

    def __init__(self, tmp_path):
        import socket
        self.address = str(tmp_path / "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.address)
        self.sock.settimeout(0.1)

    def start(self, env: dict, interval: str, watchdog_usec: str) -> subprocess.Popen:
        process = subprocess.Popen([ALUR, "scheduler", "--interval", interval], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, env={**env, "NOTIFY_SOCKET": self.address,
                                                                   "WATCHDOG_USEC": watchdog_usec})
        first = self.sock.recv(100) if _wait_readable(self.sock, 30) else b""
        assert first == b"READY=1"
        return process

    def received(self, seconds: float) -> list[bytes]:
        import socket
        messages, until = [], time.monotonic() + seconds
        while time.monotonic() < until:
            try:
                messages.append(self.sock.recv(100))
            except socket.timeout:
                pass
        return messages


def test_a_scheduler_under_systemd_tells_its_watchdog_it_is_alive_and_falls_silent_when_hung(tmp_path):
    """`Type=notify` and `WatchdogSec=`: READY=1, then WATCHDOG=1 from the loop itself, so a hung
    scheduler stops sending and systemd kills and restarts it."""
    env = environment(tmp_path)
    alur(env, "init", "--demo")
    systemd = Systemd(tmp_path)
    # A period of 0.8 s: a beat at most every 0.2 s, while passes run every 0.1 s.
    process = systemd.start(env, interval="0.1", watchdog_usec="800000")
    try:
        beats = systemd.received(1.5)
        assert set(beats) == {b"WATCHDOG=1"} and 3 <= len(beats) <= 9, beats
        process.send_signal(signal.SIGSTOP)  # hung
        time.sleep(0.3)
        systemd.received(0.1)  # a beat sent just before the stop
        assert systemd.received(1.0) == []
        process.send_signal(signal.SIGCONT)
        assert b"WATCHDOG=1" in systemd.received(1.0)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        systemd.sock.close()


def test_a_scheduler_waiting_longer_than_its_watchdog_period_waits_less(tmp_path):
    """--interval 60 under WatchdogSec=0.8s: the scheduler waited a minute between beats and systemd
    killed it as hung, over and over. While nothing is due it now waits at most half the period."""
    env = environment(tmp_path)
    alur(env, "init", "--demo")
    systemd = Systemd(tmp_path)
    process = systemd.start(env, interval="60", watchdog_usec="800000")
    try:
        assert len(systemd.received(1.5)) >= 2
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        systemd.sock.close()


def _wait_readable(sock, seconds: float) -> bool:
    import select as selector
    return bool(selector.select([sock], [], [], seconds)[0])


@pytest.mark.postgres
def test_a_scheduler_killed_in_the_middle_of_a_batch_loses_and_repeats_nothing(tmp_path):
    url = fresh_database("postgresql", tmp_path)
    env = environment(tmp_path, url)
    settings = Settings.from_env(database_url=url, data_dir=tmp_path / "data",
                                 escalation_file=Path(env["ALUR_ESCALATION_FILE"]))
    rt = Runtime(settings, clock=ManualClock(MONDAY_MORNING))
    bootstrap.init(rt, demo=True)
    # Started in March: by the real clock both levels of every instance are long due.
    template = Template(rt, start(rt))
    ids = [template.instance["id"]] + clone(rt, template, 399, lambda n: template.timer["due_at"])
    rt.dispose()

    process = subprocess.Popen([ALUR, "scheduler", "--interval", "0.1", "--batch", "40", "--lease", "30"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rt = Runtime(settings, clock=Clock())
    try:
        deadline = time.monotonic() + 30
        while fired(rt) < 60:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    with rt.uow() as session:
        abandoned = session.scalar(select(func.count()).select_from(Timer).where(
            Timer.lock_owner.is_not(None), Timer.fired_at.is_(None)))
    assert 0 < fired(rt) < 2 * len(ids) and abandoned > 0  # killed with claimed rows in hand

    # Another scheduler, once the dead one's claims have expired.
    later = Runtime(settings, clock=ManualClock(datetime.now(timezone.utc) + timedelta(seconds=31)))
    survivor = Scheduler(later, owner="pengganti", deliver=False)
    while survivor.run_pass().claimed:
        pass
    assert events_per_instance(rt, "overdue") == {i: 1 for i in ids}
    assert events_per_instance(rt, "escalated") == {i: 2 for i in ids}
    with rt.uow() as session:
        levels = session.execute(select(Alert.level, func.count()).group_by(Alert.level)).all()
        assert sorted(levels) == [(1, len(ids)), (2, len(ids))]
        assert session.scalar(select(func.count()).select_from(Timer).where(Timer.fired_at.is_(None))) == 0
    rt.dispose()
    later.dispose()


def fired(rt) -> int:
    with rt.uow() as session:
        return session.scalar(select(func.count()).select_from(Timer).where(Timer.fired_at.is_not(None)))
