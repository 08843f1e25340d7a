"""The scheduler beside `alur serve --scheduler`: one child process, kept running by the server.

A scheduler that dies on its own (a crash, an OOM kill, kill -9) would stop every timer and
escalation while the web app kept serving, so the server starts a new one. Never two at once:
a new child is started only once the old one has been reaped. A child that keeps dying soon
after it starts is restarted after a growing delay, not in a tight loop.

Driven by gunicorn's master loop (web/serve.py, Master).
"""
from __future__ import annotations

import signal
import subprocess
import time
from typing import Callable

FIRST_DELAY = 1.0  # seconds from noticing a death to the restart
MAX_DELAY = 60.0
STABLE_AFTER = 30.0  # a child that ran this long died of something new: the delay starts over


def _spawn(command: list[str]) -> subprocess.Popen:
    # In a session of its own: a terminal's Ctrl-C reaches the server alone, whose on_exit
    # stops the scheduler with SIGTERM, letting its pass finish (an interrupt could land
    # between sending an alert and recording it).
    return subprocess.Popen(command, start_new_session=True)


class Companion:
    def __init__(self, command: list[str], log, clock: Callable[[], float] = time.monotonic,
                 spawn: Callable[[list[str]], subprocess.Popen] = _spawn):
        self.command, self.log, self.clock, self.spawn = command, log, clock, spawn
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.delay = 0.0  # the last delay before a restart; 0 until one was needed
        self.restart_at: float | None = None
        self.stopped = False

    def start(self) -> None:
        self.started_at = self.clock()
        self.restart_at = None
        try:
            self.process = self.spawn(self.command)
        except OSError as err:  # no fork under memory pressure, say: try again later, keep serving
            self.log.error("scheduler could not be started: %s", err)
            self._restart_later()
            return
        self.log.info("scheduler started (pid:%s)", self.process.pid)

    def reap(self) -> None:
        """Notice, without waiting, that the child has exited; its restart is then due later."""
        if self.process is None or self.process.poll() is None:
            return
        report = self.log.info if self.stopped else self.log.error  # unexpected only while serving
        report("scheduler (pid:%s) %s", self.process.pid, _how_it_ended(self.process.returncode))
        self.process = None
        if not self.stopped:
            self._restart_later()

    def maintain(self) -> None:
        """Called on every turn of the master loop: restart a dead child once its delay is over."""
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
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

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
