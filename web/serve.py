"""Serving the app with gunicorn (`alur serve`), optionally with the scheduler beside it."""
from __future__ import annotations

import subprocess

from gunicorn.app.base import BaseApplication


class AlurServer(BaseApplication):
    def __init__(self, options: dict, companion: list[str] | None = None):
        self.options = options
        self.companion = companion
        self._process: subprocess.Popen | None = None
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if self.companion is not None:
            # Once per server, not per worker: the scheduler serves no requests.
            self.cfg.set("when_ready", lambda server: self._start_companion())
            self.cfg.set("on_exit", lambda server: self._stop_companion())

    def _start_companion(self) -> None:
        # In a session of its own: a terminal's Ctrl-C reaches the server alone, whose on_exit
        # stops the scheduler with SIGTERM, letting its pass finish (an interrupt could land
        # between sending an alert and recording it).
        self._process = subprocess.Popen(self.companion, start_new_session=True)

    def _stop_companion(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def load(self):
        from web import create_app
        return create_app()


def serve(host: str, port: int, workers: int, threads: int, companion: list[str] | None = None) -> None:
    # Threaded workers: a worker waiting on the database (a PostgreSQL round
    # trip, SQLite's writer queue) or on a slow client serves another request
    # meanwhile, and HTTP/1.1 connections are kept alive between requests, so
    # a browser's or client's requests keep to the worker that holds its
    # instances' workflows in memory (engine/workflow_cache.py).
    # gunicorn's control socket (for `gunicornc`) is off: its default path is
    # one per user, so a second server on the host would take it over.
    AlurServer({"bind": f"{host}:{port}", "workers": workers, "worker_class": "gthread", "threads": threads,
                "keepalive": 5, "accesslog": "-", "timeout": 60, "worker_tmp_dir": "/dev/shm",
                "control_socket_disable": True}, companion).run()
