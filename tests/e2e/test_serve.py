"""`alur serve`, the real gunicorn server, as browsers and API clients meet it.

Threaded workers keep HTTP/1.1 connections alive (a client's requests stay
on the worker that holds its workflows in memory), and a client that is
slow to send its request ties up one thread, not the worker.
"""
from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Iterator

import pytest

from benchmarks.common import children
from engine.bootstrap import DEMO_PASSWORD
from engine.config import Settings
from engine.db import Timer
from engine.runtime import Runtime
from tests.integration.timer_helpers import free_port, long_due_timer

ALUR = Path(sys.executable).parent / "alur"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("alur-serve"), "--workers", "1", "--threads", "2") as (_proc, port, log):
        yield port, log


@contextmanager
def serving(data_dir: Path, *options: str, **settings: str) -> Iterator[tuple[subprocess.Popen, int, Path]]:
    """`alur serve` on a fresh demo database: (its process, its port, its log); `settings` are
    further environment variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALUR_")}
    env.update(ALUR_DATA_DIR=str(data_dir), ALUR_SECRET_KEY="test-serve", **settings)
    subprocess.run([str(ALUR), "init", "--demo"], env=env, check=True, capture_output=True, timeout=120)
    port = free_port()
    log_path = data_dir / "serve.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen([str(ALUR), "serve", "--port", str(port), *options],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log_path.read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "alur serve did not listen within 30 s"
                time.sleep(0.1)
        yield proc, port, log_path
    finally:
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_one_connection_carries_several_requests(server):
    conn = http.client.HTTPConnection("127.0.0.1", server[0], timeout=10)
    try:
        conn.request("GET", "/masuk")
        first = conn.getresponse()
        first.read()
        sock = conn.sock
        assert first.status == 200 and not first.will_close
        conn.request("GET", "/masuk")
        second = conn.getresponse()
        second.read()
        assert second.status == 200
        assert conn.sock is sock  # the same TCP connection: the server kept it open
    finally:
        conn.close()


def test_a_client_slow_to_send_does_not_hold_up_the_others(server):
    with socket.create_connection(("127.0.0.1", server[0]), timeout=10) as slow:
        slow.sendall(b"GET /masuk HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and the rest never comes
        time.sleep(0.2)
        conn = http.client.HTTPConnection("127.0.0.1", server[0], timeout=5)
        try:
            conn.request("GET", "/masuk")
            response = conn.getresponse()
            assert response.status == 200
        finally:
            conn.close()


def test_no_control_socket_is_shared_with_other_servers_on_the_host(server):
    # gunicorn's default control socket is one path per user: a second
    # server (another office's, a test run) would take it over.
    log = server[1].read_text()
    assert "Using worker: gthread" in log and "Control socket" not in log


def test_a_file_sent_from_disk_is_logged_with_its_size(server):
    """gunicorn hands a file (a document download, a static file) to sendfile() without counting its
    bytes: the access log showed every download as 0 bytes."""
    port, log = server
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/alur.js", timeout=10) as response:
        size = len(response.read())
        assert int(response.headers["Content-Length"]) == size > 0
    deadline = time.monotonic() + 10
    while not (lines := [line for line in log.read_text().splitlines() if "GET /static/alur.js " in line]):
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    assert f'" 200 {size} "' in lines[-1], lines[-1]


def test_the_scheduler_beside_the_server_is_a_process_of_its_own_and_every_worker_can_write(tmp_path):
    """`make run` serves with --scheduler. A scheduler thread in gunicorn's master was forked into the
    workers, sometimes in the middle of a transaction: those workers could not write (sign-in was a 500)."""
    with serving(tmp_path, "--workers", "2", "--threads", "2", "--scheduler") as (proc, port, log):
        scheduler = _scheduler_of(proc.pid)
        for _ in range(8):  # new connections, spread over both workers
            assert _sign_in(port, "kadis") == 200, log.read_text()[-3000:]
        assert "penjadwal" in log.read_text()  # the scheduler's own start line
        # Its own session: a terminal's Ctrl-C reaches the server, which stops it with SIGTERM.
        assert os.getsid(scheduler) != os.getsid(proc.pid)
    assert _gone(scheduler), "the scheduler outlived its server"
    # Stopped by the server on its way out, not found orphaned a second later.
    assert "penjadwal berhenti" in log.read_text() and "tidak ada lagi" not in log.read_text()


def test_a_scheduler_whose_server_was_killed_stops_by_itself(tmp_path):
    with serving(tmp_path, "--workers", "1", "--scheduler") as (proc, _port, _log):
        scheduler = _scheduler_of(proc.pid)
        proc.kill()  # SIGKILL: no hook of the server runs
        proc.wait(10)
        assert _gone(scheduler, seconds=10), "the scheduler kept running without its server"
        assert "tidak ada lagi; berhenti" in _log.read_text()


def test_a_scheduler_that_dies_is_started_again_and_fires_the_timers(tmp_path):
    """Killed outright (an OOM kill, kill -9), the scheduler is replaced: timers and escalations go on."""
    with serving(tmp_path, "--workers", "1", "--scheduler") as (proc, _port, log):
        first = _scheduler_of(proc.pid)
        os.kill(first, signal.SIGKILL)
        second = _scheduler_of(proc.pid, other_than=first)
        assert _schedulers(proc.pid) == [second]  # one at a time
        assert f"scheduler (pid:{first}) was killed by SIGKILL" in log.read_text()
        timer_id = long_due_timer(tmp_path)
        assert _fired(tmp_path, timer_id), log.read_text()[-3000:]
        assert _schedulers(proc.pid) == [second]
    assert _gone(second), "the new scheduler outlived its server"
    assert "penjadwal berhenti" in log.read_text()


def test_a_scheduler_that_hangs_is_killed_and_replaced(tmp_path):
    """Alive but stopped (SIGSTOP stands for a call that never returns): it stops beating, and the
    server kills it and starts another, which fires the timers."""
    # A stall time of 5 s needs an alert's delivery to take less: mail waits at most 2 s here.
    escalation = tmp_path / "escalation.yaml"
    escalation.write_text("smtp:\n  host: localhost\n  timeout_seconds: 2\n")
    with serving(tmp_path, "--workers", "1", "--scheduler", ALUR_SCHEDULER_STALL_SECONDS="5",
                 ALUR_ESCALATION_FILE=str(escalation)) as (proc, _port, log):
        first = _scheduler_of(proc.pid)
        deadline = time.monotonic() + 20
        while "berjalan (interval" not in log.read_text():  # its loop has begun
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        time.sleep(2)  # beating meanwhile: not killed
        assert _schedulers(proc.pid) == [first]
        os.kill(first, signal.SIGSTOP)
        second = _scheduler_of(proc.pid, other_than=first)
        assert f"scheduler (pid:{first}) gave no sign of life for 5 s; killing it" in log.read_text()
        assert _schedulers(proc.pid) == [second]
        timer_id = long_due_timer(tmp_path)
        assert _fired(tmp_path, timer_id), log.read_text()[-3000:]
    assert _gone(second), "the new scheduler outlived its server"


def test_a_cycles_file_that_cannot_be_used_leaves_the_scheduler_beside_the_server_firing_timers(tmp_path):
    """`alur serve --scheduler` refused to start on a cycles file it could not use: no page was served,
    no timer fired and nothing escalated. It serves, and its scheduler fires the timers and says once
    what is wrong with the file (the recurring starts alone wait for it to be corrected)."""
    cycles_file = tmp_path / "siklus.yaml"
    cycles_file.write_text("cycles: {definition: x}\n")
    with serving(tmp_path, "--workers", "1", "--scheduler", ALUR_CYCLES_FILE=str(cycles_file)) as (proc, _port, log):
        timer_id = long_due_timer(tmp_path)
        assert _fired(tmp_path, timer_id), log.read_text()[-3000:]
        deadline = time.monotonic() + 20
        while "cycles file" not in log.read_text():  # said in the pass, after its timers were fired
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        said = [line for line in log.read_text().splitlines() if "cycles file" in line]
        assert len(said) == 1 and said[0].endswith("timers and escalation go on: cycles: harus berupa daftar"), said
        assert "Traceback" not in log.read_text()


def test_a_stall_time_shorter_than_an_alerts_delivery_is_refused_before_serving(tmp_path):
    """Mail may wait 10 s (the shipped escalation.yaml): a scheduler declared hung after 5 s would be
    killed while it waits on a slow mail server, again and again. Without the scheduler it does not matter."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALUR_")}
    env.update(ALUR_DATA_DIR=str(tmp_path), ALUR_SECRET_KEY="test-serve", ALUR_SCHEDULER_STALL_SECONDS="5")
    subprocess.run([str(ALUR), "init", "--demo"], env=env, check=True, capture_output=True, timeout=120)
    refused = subprocess.run([str(ALUR), "serve", "--port", str(free_port()), "--scheduler"],
                             env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert "ALUR_SCHEDULER_STALL_SECONDS (5 detik) harus lebih lama dari satu pengiriman peringatan (10 detik" \
        in refused.stderr
    assert "Listening" not in refused.stderr and "Traceback" not in refused.stderr


def _fired(data_dir: Path, timer_id: int, seconds: float = 20) -> bool:
    settings = Settings.from_env(database_url=f"sqlite:///{data_dir / 'alur.db'}", data_dir=data_dir)
    rt = Runtime(settings)
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with rt.uow() as session:
                if session.get(Timer, timer_id).fired_at is not None:
                    return True
            time.sleep(0.2)
        return False
    finally:
        rt.dispose()


def _scheduler_of(pid: int, other_than: int | None = None) -> int:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = [child for child in _schedulers(pid) if child != other_than]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError("alur serve --scheduler started no scheduler process")


def _schedulers(pid: int) -> list[int]:
    """The server's live scheduler children (a zombie's cmdline is empty)."""
    found = []
    for child in children(pid):
        try:
            if b"web.cli\x00scheduler" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
        except OSError:
            pass
    return found


def _gone(pid: int, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":  # exited, not yet reaped by its (gone) parent
            return True
        time.sleep(0.1)
    return False


def _sign_in(port: int, login: str) -> int:
    """Sign in through the form, as a browser does on a new connection; the final status."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    page = opener.open(f"http://127.0.0.1:{port}/masuk", timeout=60).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "login": login, "password": DEMO_PASSWORD}).encode()
    try:
        return opener.open(f"http://127.0.0.1:{port}/masuk", data=form, timeout=60).status
    except urllib.error.HTTPError as err:
        return err.code


@pytest.mark.parametrize("setting, expected", [
    ({"ALUR_CALENDAR_FILE": "/nonexistent/kalender.yaml"}, "ALUR_CALENDAR_FILE: berkas /nonexistent/kalender.yaml tidak ada"),
    ({"ALUR_ESCALATION_FILE": "/nonexistent/eskalasi.yaml"}, "ALUR_ESCALATION_FILE: berkas /nonexistent/eskalasi.yaml tidak ada"),
    ({"ALUR_DATABASE_URL": "bukan-url"}, "ALUR_DATABASE_URL"),
    ({"ALUR_SESSION_IDLE_MINUTES": "sejam"}, "ALUR_SESSION_IDLE_MINUTES harus bilangan bulat"),
    ({"ALUR_MAX_UPLOAD_BYTES": "20M"}, "ALUR_MAX_UPLOAD_BYTES harus bilangan bulat"),
    ({"ALUR_DATABASE_URL": "postgresql+psycopg://alur:rahasia@127.0.0.1:1/alur"}, "ALUR_DATABASE_URL"),
    ({"ALUR_DATABASE_URL": "sqlite:///{data}/kosong.db"}, "alur init"),
])
def test_a_configuration_no_worker_could_serve_is_refused_before_serving(tmp_path, setting, expected):
    """A missing calendar, a database URL that cannot be read or reached, a database never prepared:
    one sentence and exit 1 before listening, not a traceback per worker after "Listening" (or a server
    that listens and answers every sign-in with a 500)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALUR_")}
    env.update(ALUR_DATA_DIR=str(tmp_path), ALUR_SECRET_KEY="test-serve")
    subprocess.run([str(ALUR), "init", "--demo"], env=env, check=True, capture_output=True, timeout=120)
    env.update({key: value.format(data=tmp_path) for key, value in setting.items()})
    refused = subprocess.run([str(ALUR), "serve", "--port", str(free_port()), "--workers", "1"],
                             env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1, refused.stderr
    line = refused.stderr.strip()
    assert line.startswith("galat: ") and expected in line and "\n" not in line, refused.stderr
    assert "rahasia" not in line
    assert "Listening" not in refused.stderr and "Traceback" not in refused.stderr
    assert "Alur: http" not in refused.stdout


def test_a_port_in_use_is_refused_in_one_sentence_before_serving(tmp_path):
    """gunicorn tried five times over five seconds, after "Alur: http://…" had been printed, and ended
    with "Can't connect to" in English; the administrator is told the port is taken, at once."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALUR_")}
    env.update(ALUR_DATA_DIR=str(tmp_path), ALUR_SECRET_KEY="test-serve")
    subprocess.run([str(ALUR), "init"], env=env, check=True, capture_output=True, timeout=120)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = subprocess.run([str(ALUR), "serve", "--port", str(port), "--workers", "1"],
                                 env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1, refused.stderr
    # Refused before gunicorn was handed the port: its address line never printed, and none of its
    # "Connection in use" / "Retrying in 1 second" lines (a time limit failed on a busy machine).
    assert refused.stderr.strip() == f"galat: alamat 127.0.0.1:{port} sudah dipakai proses lain: " \
        "pilih --port lain, atau hentikan proses itu", refused.stderr
    assert "Alur: http" not in refused.stdout
