"""web/companion.py: the scheduler beside `alur serve --scheduler` is restarted when it dies,
one at a time, and after a growing delay while it keeps dying at once. A fake clock and fake
processes; tests/e2e/test_serve.py kills a real one."""
from __future__ import annotations

import os
import signal
import socket

import pytest

from web.companion import (FIRST_DELAY, HEARTBEAT_OPTION, MAX_DELAY, STABLE_AFTER, STALL_AFTER, Companion,
                           systemd_watchdog)


class FakeProcess:
    """A child as Popen shows it; `beat()` writes to the heartbeat pipe it was given, as the real one does."""

    def __init__(self, pid: int, command: list[str], pass_fds: tuple[int, ...]):
        self.pid, self.returncode, self.signals = pid, None, []
        fd = int(command[command.index(HEARTBEAT_OPTION) + 1])
        assert pass_fds == (fd,)
        self.beat_fd = os.dup(fd)  # the child's copy: the server closes its own after the start

    def beat(self):
        os.write(self.beat_fd, b".")

    def poll(self):
        return self.returncode

    def terminate(self):
        self.signals.append(signal.SIGTERM)
        self.returncode = 0

    def kill(self):
        self.signals.append(signal.SIGKILL)
        self.returncode = -signal.SIGKILL

    def wait(self, timeout=None):
        return self.returncode


class Log:
    def __init__(self):
        self.lines = []

    def _add(self, message, *args):
        self.lines.append(message % args)
    info = warning = error = _add


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def companion():
    clock, spawned = Clock(), []

    def spawn(command, pass_fds=()):
        spawned.append(FakeProcess(100 + len(spawned), command, pass_fds))
        return spawned[-1]
    made = Companion(["alur", "scheduler"], Log(), clock=clock, spawn=spawn)
    made.spawned, made.now = spawned, clock
    yield made
    made.stop()
    for process in spawned:
        os.close(process.beat_fd)


def die(companion, returncode=-signal.SIGKILL, after=1.0):
    companion.now.now += after
    companion.process.returncode = returncode
    companion.reap()


def test_a_killed_scheduler_is_started_again_after_a_second_and_the_log_says_so(companion):
    companion.start()
    die(companion)
    companion.maintain()
    assert len(companion.spawned) == 1  # not at once
    companion.now.now += FIRST_DELAY
    companion.maintain()
    assert [p.pid for p in companion.spawned] == [100, 101] and companion.process.pid == 101
    assert companion.log.lines == ["scheduler started (pid:100)", "scheduler (pid:100) was killed by SIGKILL",
                                   "scheduler will be restarted in 1 s", "restarting the scheduler",
                                   "scheduler started (pid:101)"]


def test_a_running_scheduler_is_never_started_twice(companion):
    companion.start()
    for _ in range(5):
        companion.now.now += MAX_DELAY
        companion.spawned[0].beat()
        companion.maintain()
    assert len(companion.spawned) == 1


def test_one_that_keeps_dying_at_once_is_restarted_ever_more_slowly_up_to_a_minute(companion):
    companion.start()
    delays = []
    for _ in range(9):
        die(companion, returncode=1, after=0.5)
        delays.append(companion.delay)
        companion.now.now += companion.delay
        companion.maintain()
    assert delays == [1, 2, 4, 8, 16, 32, MAX_DELAY, MAX_DELAY, MAX_DELAY]
    assert len(companion.spawned) == 10
    assert "scheduler (pid:100) exited with code 1" in companion.log.lines


def test_after_a_long_run_the_delay_starts_over(companion):
    companion.start()
    for _ in range(4):
        die(companion, after=0.5)
        companion.now.now += companion.delay
        companion.maintain()
    die(companion, after=STABLE_AFTER)
    assert companion.delay == FIRST_DELAY


def test_a_failed_start_is_tried_again_later_and_the_server_keeps_serving(companion):
    attempts = []

    def no_fork(command, pass_fds=()):
        attempts.append(command)
        raise OSError(12, "Cannot allocate memory")
    companion.spawn = no_fork
    companion.start()
    companion.now.now += FIRST_DELAY
    companion.maintain()
    assert len(attempts) == 2 and companion.process is None and companion.delay == 2
    assert "scheduler could not be started: [Errno 12] Cannot allocate memory" in companion.log.lines


def test_once_the_server_stops_nothing_is_restarted(companion):
    companion.start()
    first = companion.process
    companion.hold()  # the server has begun to stop its workers
    die(companion, returncode=0)
    companion.now.now += MAX_DELAY
    companion.maintain()
    companion.stop()
    assert companion.spawned == [first] and first.signals == []


def test_stop_sends_sigterm_to_a_running_scheduler(companion):
    companion.start()
    companion.stop()
    companion.now.now += MAX_DELAY
    companion.maintain()
    assert companion.spawned[0].signals == [signal.SIGTERM] and len(companion.spawned) == 1


def test_a_scheduler_that_stops_beating_is_killed_and_started_again(companion):
    """Alive but hung (a call that never returns, SIGSTOP): as good as dead for the timers."""
    companion.start()
    for _ in range(3):  # beating: left alone, however long it runs
        companion.now.now += STALL_AFTER - 1
        companion.spawned[0].beat()
        companion.maintain()
    assert companion.spawned[0].signals == []
    companion.now.now += STALL_AFTER
    companion.maintain()  # silent for the whole stall time
    assert companion.spawned[0].signals == [signal.SIGKILL]
    companion.now.now += FIRST_DELAY
    companion.maintain()
    assert [p.pid for p in companion.spawned] == [100, 101]
    assert companion.log.lines[1:4] == [f"scheduler (pid:100) gave no sign of life for {int(STALL_AFTER)} s; killing it",
                                        "scheduler (pid:100) was killed by SIGKILL",
                                        "scheduler will be restarted in 1 s"]


def test_the_stall_time_counts_from_the_start_too(companion):
    """A child that hangs before its first pass (say, connecting to the database) is caught as well."""
    companion.start()
    companion.now.now += STALL_AFTER - 1
    companion.maintain()
    assert companion.spawned[0].signals == []
    companion.now.now += 1
    companion.maintain()
    assert companion.spawned[0].signals == [signal.SIGKILL]


def test_no_pipe_is_left_open_by_a_restart(companion):
    companion.start()
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(5):
        die(companion, after=STABLE_AFTER)
        companion.now.now += FIRST_DELAY
        companion.maintain()
    assert len(os.listdir("/proc/self/fd")) == before + 5  # the fake children's own copies only


@pytest.mark.parametrize("value,expected", [("", STALL_AFTER), ("7", 7.0), ("0", ValueError), ("2m", ValueError),
                                            ("²", ValueError), ("١٢٠", ValueError), ("9" * 400, ValueError)])
def test_the_stall_time_is_read_from_the_environment(monkeypatch, value, expected):
    from web.serve import stall_seconds
    monkeypatch.setenv("ALUR_SCHEDULER_STALL_SECONDS", value)
    if expected is ValueError:
        with pytest.raises(ValueError, match="ALUR_SCHEDULER_STALL_SECONDS harus bilangan bulat detik"):
            stall_seconds()
    else:
        assert stall_seconds() == expected


@pytest.mark.parametrize("value,longest_try,refused", [("", 119, False), ("", 120, True), ("16", 15, False),
                                                       ("15", 15, True), ("5", 10, True)])
def test_the_stall_time_must_outlast_an_alerts_delivery(monkeypatch, value, longest_try, refused):
    from web.serve import stall_seconds
    monkeypatch.setenv("ALUR_SCHEDULER_STALL_SECONDS", value)
    if refused:
        with pytest.raises(ValueError, match=r"harus lebih lama dari satu pengiriman peringatan \(%d detik" % longest_try):
            stall_seconds(longest_try)
    else:
        assert stall_seconds(longest_try) == float(value or STALL_AFTER)


def _notify_socket(address: str):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.setblocking(False)
    return sock


def _messages(sock) -> list[bytes]:
    out = []
    while True:
        try:
            out.append(sock.recv(100))
        except BlockingIOError:
            return out


def test_without_systemd_there_is_no_watchdog_to_tell():
    assert systemd_watchdog({}) is None


def test_the_watchdog_hears_at_most_four_beats_a_period(tmp_path):
    sock = _notify_socket(str(tmp_path / "n.sock"))
    now = [100.0]
    beat = systemd_watchdog({"NOTIFY_SOCKET": str(tmp_path / "n.sock"), "WATCHDOG_USEC": "2000000",
                             "WATCHDOG_PID": str(os.getpid())}, clock=lambda: now[0])
    assert _messages(sock) == [b"READY=1"]
    for _ in range(10):  # a busy pass: a beat per instance, all at once
        beat()
    assert _messages(sock) == [b"WATCHDOG=1"]
    now[0] += 0.4
    beat()
    assert _messages(sock) == []
    now[0] += 0.1
    beat()
    assert _messages(sock) == [b"WATCHDOG=1"]
    sock.close()


def test_an_abstract_notify_socket_is_reached_and_a_watchdog_for_another_process_is_not_fed():
    name = f"alur-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.setblocking(False)
    # WATCHDOG_PID names another process (a parent's): only readiness is told.
    assert systemd_watchdog({"NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}) is None
    assert _messages(sock) == [b"READY=1"]
    sock.close()


def test_a_notify_socket_that_cannot_be_reached_or_a_bad_period_does_not_stop_the_scheduler(tmp_path):
    """The timers matter more than telling systemd: the scheduler runs on, untold."""
    assert systemd_watchdog({"NOTIFY_SOCKET": str(tmp_path / "nobody.sock"), "WATCHDOG_USEC": "2000000"}) is None
    sock = _notify_socket(str(tmp_path / "n.sock"))
    assert systemd_watchdog({"NOTIFY_SOCKET": str(tmp_path / "n.sock"), "WATCHDOG_USEC": "dua detik"}) is None
    assert _messages(sock) == [b"READY=1"]
    sock.close()
