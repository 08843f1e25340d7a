"""Helpers for the timer, escalation and delivery tests: config, servers, queries."""
from __future__ import annotations

import json
import socket
import threading
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import func, select

from engine import services
from engine.clock import ManualClock
from engine.config import Settings
from engine.db import Alert, Event, TaskRow, Timer
from engine.escalation_config import Smtp, Webhook
from engine.runtime import Runtime
from engine.scheduler import Scheduler

ONE_MINUTE = timedelta(minutes=1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def configure(rt, smtp_port: int | None = None, webhook_url: str | None = None,
              first_delay: float = 60.0) -> None:
    """Point a runtime's delivery at test servers; no port means e-mail off."""
    config = rt.escalation
    smtp = Smtp(host="127.0.0.1", port=smtp_port, sender="Alur <alur@dinas.test>", timeout=5) \
        if smtp_port else Smtp(host=None)
    rt.escalation = replace(config, smtp=smtp, webhook=Webhook(webhook_url),
                            retry=replace(config.retry, first_delay=first_delay))


def quiet(rt) -> None:
    """No e-mail, no webhook: for tests about firing, not delivery."""
    rt.escalation = replace(rt.escalation, smtp=Smtp(host=None), webhook=Webhook(None))


def tick(rt, clock, at: datetime, **scheduler_options) -> object:
    clock.set(at)
    return Scheduler(rt, **scheduler_options).run_pass()


def start(rt, bidang: str = "aptika", title: str = "Layanan email dinas") -> int:
    return services.start(rt, "monev_kegiatan_bidang", bidang, title, f"{bidang}.implementasi")


def overdue_instances(rt, clock, count: int, bidang: str = "aptika") -> list[int]:
    """Start `count` instances and let their first deadline pass (alerts written, not sent)."""
    ids = [start(rt, bidang, f"Kegiatan {i}") for i in range(count)]
    clock.set(open_row(rt, ids[0]).due_at + ONE_MINUTE)
    Scheduler(rt, deliver=False).run_pass()
    return ids


def open_row(rt, instance_id: int) -> TaskRow:
    with rt.uow() as session:
        return session.scalars(select(TaskRow).where(TaskRow.instance_id == instance_id,
                                                     TaskRow.state == "open")).one()


def alert_rows(rt, **where) -> list[Alert]:
    with rt.uow() as session:
        query = select(Alert).order_by(Alert.id)
        for name, value in where.items():
            query = query.where(getattr(Alert, name) == value)
        return list(session.scalars(query))


def timer_rows(rt, **where) -> list[Timer]:
    with rt.uow() as session:
        query = select(Timer).order_by(Timer.id)
        for name, value in where.items():
            query = query.where(getattr(Timer, name) == value)
        return list(session.scalars(query))


def event_count(rt, kind: str) -> int:
    with rt.uow() as session:
        return session.scalar(select(func.count()).select_from(Event).where(Event.kind == kind))


def events_per_instance(rt, kind: str) -> dict[int, int]:
    with rt.uow() as session:
        return dict(session.execute(select(Event.instance_id, func.count()).where(Event.kind == kind)
                                    .group_by(Event.instance_id)).all())


class SmtpSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it receives."""

    def __init__(self, port: int, **smtp_options):
        """`smtp_options`: aiosmtpd's, e.g. tls_context and require_starttls."""
        from aiosmtpd.controller import Controller

        self.messages: list = []
        self._lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=port, **smtp_options)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        with self._lock:
            self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"

    def __enter__(self) -> "SmtpSink":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


class WebhookSink:
    """A local HTTP server that records JSON POSTs; the first `failures` answers are HTTP 500."""

    def __init__(self, failures: int = 0):
        self.payloads: list[dict] = []
        self.failures = failures
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 -- http.server's naming
                data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if sink.failures > 0:
                    sink.failures -= 1
                    self.send_response(500)
                else:
                    sink.payloads.append(data)
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alur"

    def __enter__(self) -> "WebhookSink":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def long_due_timer(data_dir: Path, escalation_file: Path | None = None) -> int:
    """For a server or scheduler process on `data_dir`'s SQLite database: an instance started on
    MONDAY_MORNING (March 2026), whose first deadline is long due by the real clock. Its timer's id."""
    from tests.conftest import MONDAY_MORNING
    settings = Settings.from_env(database_url=f"sqlite:///{data_dir / 'alur.db'}", data_dir=data_dir,
                                 escalation_file=escalation_file)
    rt = Runtime(settings, clock=ManualClock(MONDAY_MORNING))
    try:
        instance_id = start(rt)
        with rt.uow() as session:
            return session.scalars(select(Timer.id).where(Timer.instance_id == instance_id)).one()
    finally:
        rt.dispose()
