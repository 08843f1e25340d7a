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


def serve(host: str, port: int, workers: int, on_ready=None) -> None:
    AlurServer({"bind": f"{host}:{port}", "workers": workers, "accesslog": "-", "timeout": 60,
                "worker_tmp_dir": "/dev/shm"}, on_ready).run()
