"""The scheduler beside `alur serve --scheduler`: one child process, kept running by the server.

A scheduler that dies on its own (a crash, an OOM kill, kill -9) would stop every timer and
escalation while the web app kept serving, so the server starts a new one. Never two at once:
a new child is started only once the old one has been reaped. A child that keeps dying soon
after it starts is restarted after a growing delay, not in a tight loop.

A scheduler that hangs while alive (stuck in a call that never returns, stopped with SIGSTOP)
stops the timers just as surely. So the child beats: it writes a byte down a pipe after every
pass, every instance whose timers it fired and every alert it tried to send (`heartbeat`). A
child silent for `stall_after` seconds is killed (SIGKILL: a hung process may not heed SIGTERM)
and then restarted like any that died. The waits inside a pass have timeouts far below the
default (SQLite's busy timeout, SMTP's and the webhook's); on PostgreSQL, a row lock another
session holds for longer than the stall time counts as a hang too, and the new scheduler waits
for it again.

Driven by gunicorn's master loop (web/serve.py, Master).
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
from typing import Callable, Mapping

log = logging.getLogger("alur.scheduler")

FIRST_DELAY = 1.0  # seconds from noticing a death to the restart
MAX_DELAY = 60.0
STABLE_AFTER = 30.0  # a child that ran this long died of something new: the delay starts over
STALL_AFTER = 120.0  # seconds without a heartbeat (start-up included) before a child counts as hung
HEARTBEAT_OPTION = "--heartbeat-fd"


def _spawn(command: list[str], pass_fds: tuple[int, ...] = ()) -> subprocess.Popen:
    # In a session of its own: a terminal's Ctrl-C reaches the server alone, whose on_exit
    # stops the scheduler with SIGTERM, letting its pass finish (an interrupt could land
    # between sending an alert and recording it).
    return subprocess.Popen(command, start_new_session=True, pass_fds=pass_fds)


def heartbeat(fd: int) -> Callable[[], None]:
    """The child's side: a beat is one byte down the pipe the server handed over as `fd`."""
    os.set_blocking(fd, False)

    def beat() -> None:
        try:
            os.write(fd, b".")
        except (BlockingIOError, BrokenPipeError):
            pass  # full: the server has not read yet, and has beats enough; gone: the server is too
    return beat


def systemd_watchdog(environ: Mapping[str, str] = os.environ,
                     clock: Callable[[], float] = time.monotonic) -> Watchdog | None:
    """A standalone `alur scheduler` under systemd: the same beats, told to systemd's watchdog.

    With `Type=notify` systemd hands the service NOTIFY_SOCKET, and with
    `WatchdogSec=` also WATCHDOG_USEC: a service that does not send WATCHDOG=1
    within that time is killed and (with `Restart=`) started again, as
    `alur serve --scheduler` does with its own child. READY=1 goes at once;
    then a beat sends WATCHDOG=1 at most four times per watchdog period, since
    a busy pass beats for every instance. None when there is no watchdog to tell.
    """
    address = environ.get("NOTIFY_SOCKET", "")
    if not address:
        return None
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.connect(address)
        sock.send(b"READY=1")
    except OSError as err:  # no systemd there after all: the timers matter more than telling it
        log.warning("NOTIFY_SOCKET %r cannot be reached (%s): systemd is not told", address, err)
        sock.close()
        return None
    usec = environ.get("WATCHDOG_USEC", "")
    period = int(usec) / 1_000_000 if usec.isdigit() else 0
    if period <= 0 or environ.get("WATCHDOG_PID", str(os.getpid())) != str(os.getpid()):
        sock.close()
        return None
    return Watchdog(sock, period, clock)


class Watchdog:
    """Beats told to systemd's watchdog, at most four times in its `period` (seconds)."""

    def __init__(self, sock: socket.socket, period: float, clock: Callable[[], float]):
        self.sock, self.period, self.clock = sock, period, clock
        self.last = float("-inf")

    def __call__(self) -> None:
        now = self.clock()
        if now - self.last >= self.period / 4:
            self.last = now
            try:
                self.sock.send(b"WATCHDOG=1")
            except OSError:
                pass  # systemd restarting: the next beat tries again


class Companion:
    def __init__(self, command: list[str], log, clock: Callable[[], float] = time.monotonic,
                 spawn: Callable[..., subprocess.Popen] = _spawn, stall_after: float = STALL_AFTER):
        self.command, self.log, self.clock, self.spawn = command, log, clock, spawn
        self.stall_after = stall_after
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.delay = 0.0  # the last delay before a restart; 0 until one was needed
        self.restart_at: float | None = None
        self.stopped = False
        self.beats: int | None = None  # the read end of the running child's heartbeat pipe
        self.last_beat = 0.0

    def start(self) -> None:
        self.started_at = self.last_beat = self.clock()
        self.restart_at = None
        beats, child_end = os.pipe()
        try:
            self.process = self.spawn([*self.command, HEARTBEAT_OPTION, str(child_end)], pass_fds=(child_end,))
        except OSError as err:  # no fork under memory pressure, say: try again later, keep serving
            os.close(beats)
            self.log.error("scheduler could not be started: %s", err)
            self._restart_later()
            return
        finally:
            os.close(child_end)  # the child holds its own copy
        os.set_blocking(beats, False)
        self.beats = beats
        self.log.info("scheduler started (pid:%s)", self.process.pid)

    def watch(self) -> None:
        """Kill a running child that has not beaten for `stall_after` seconds; `reap` then sees it."""
        if self.process is None or self.beats is None or self.process.poll() is not None:
            return
        try:
            heard = os.read(self.beats, 65536)
        except BlockingIOError:
            heard = b""
        if heard:
            self.last_beat = self.clock()
        elif self.clock() - self.last_beat >= self.stall_after:
            self.log.error("scheduler (pid:%s) gave no sign of life for %d s; killing it",
                           self.process.pid, self.clock() - self.last_beat)
            self.process.kill()
            self.process.wait()

    def reap(self) -> None:
        """Notice, without waiting, that the child has exited; its restart is then due later."""
        if self.process is None or self.process.poll() is None:
            return
        report = self.log.info if self.stopped else self.log.error  # unexpected only while serving
        report("scheduler (pid:%s) %s", self.process.pid, _how_it_ended(self.process.returncode))
        self.process = None
        self._close_beats()
        if not self.stopped:
            self._restart_later()

    def maintain(self) -> None:
        """Called on every turn of the master loop: kill a hung child, restart a dead one once its
        delay is over."""
        self.watch()
        self.reap()
        if self.process is None and self.restart_at is not None and self.clock() >= self.restart_at:
            self.log.warning("restarting the scheduler")
            self.start()

    def hold(self) -> None:
        """No more restarts: the server is stopping."""
        self.stopped = True
        self.restart_at = None

    def stop(self) -> None:
        """SIGTERM, so the pass in hand finishes; SIGKILL if it has not ended in 15 s."""
        self.hold()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close_beats()

    def _close_beats(self) -> None:
        if self.beats is not None:
            os.close(self.beats)
            self.beats = None

    def _restart_later(self) -> None:
        ran_for = self.clock() - self.started_at
        self.delay = FIRST_DELAY if ran_for >= STABLE_AFTER else min(max(2 * self.delay, FIRST_DELAY), MAX_DELAY)
        self.restart_at = self.clock() + self.delay
        self.log.warning("scheduler will be restarted in %g s", self.delay)


def _how_it_ended(returncode: int) -> str:
    if returncode >= 0:
        return f"exited with code {returncode}"
    try:
        return f"was killed by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"was killed by signal {-returncode}"
