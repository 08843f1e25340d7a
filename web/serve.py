"""Serving the app with gunicorn (`alur serve`), optionally with the scheduler beside it."""
from __future__ import annotations

from gunicorn.app.base import BaseApplication


class AlurServer(BaseApplication):
    def __init__(self, options: dict, on_ready=None):
        self.options = options
        self.on_ready = on_ready
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if self.on_ready is not None:
            # In the master, after the workers are up: the scheduler does not
            # serve requests, so it lives once per server, not once per worker.
            self.cfg.set("when_ready", lambda server: self.on_ready())

    def load(self):
        from web import create_app
        return create_app()


def serve(host: str, port: int, workers: int, threads: int, on_ready=None) -> None:
    # Threaded workers: a worker waiting on the database (a PostgreSQL round
    # trip, SQLite's writer queue) or on a slow client serves another request
    # meanwhile, and HTTP/1.1 connections are kept alive between requests, so
    # a browser's or client's requests keep to the worker that holds its
    # instances' workflows in memory (engine/workflow_cache.py).
    # gunicorn's control socket (for `gunicornc`) is off: its default path is
    # one per user, so a second server on the host would take it over.
    AlurServer({"bind": f"{host}:{port}", "workers": workers, "worker_class": "gthread", "threads": threads,
                "keepalive": 5, "accesslog": "-", "timeout": 60, "worker_tmp_dir": "/dev/shm",
                "control_socket_disable": True}, on_ready).run()
