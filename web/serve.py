"""Serving the app with gunicorn (`alur serve`), optionally with the scheduler beside it."""
from __future__ import annotations

import os
import sys

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from web.companion import STALL_AFTER, Companion


class AlurServer(BaseApplication):
    def __init__(self, options: dict, companion: list[str] | None = None, stall_after: float = STALL_AFTER):
        self.options = options
        self.companion, self.stall_after = companion, stall_after
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from web.app import create_app
        return create_app()

    def run(self) -> None:
        # BaseApplication.run, with a master that also runs the scheduler if there is one.
        master = Arbiter if self.companion is None else Master
        try:
            master(self).run()
        except RuntimeError as err:
            print(f"\nError: {err}\n", file=sys.stderr)
            sys.stderr.flush()
            sys.exit(1)


class Master(Arbiter):
    """gunicorn's master, which also runs the scheduler, one process of its own (web/companion.py).

    Once per server, not per worker: the scheduler serves no requests. Everything happens in the
    master's main thread: no thread of ours is forked into the workers.
    """

    def __init__(self, app: AlurServer):
        super().__init__(app)
        self.companion = Companion(app.companion, self.log, stall_after=app.stall_after)

    def start(self) -> None:
        super().start()  # ends where gunicorn calls when_ready: listening, workers not yet forked
        self.companion.start()

    def reap_workers(self) -> None:
        # First, by its pid: gunicorn's waitpid(-1) would reap it as an unknown child, status unseen.
        self.companion.reap()
        super().reap_workers()

    def manage_workers(self) -> None:
        # Called on every turn of the master loop (at least once a second), never while stopping.
        super().manage_workers()
        self.companion.maintain()

    def stop(self, graceful: bool = True) -> None:
        # The workers first, as before; the scheduler is then told to stop, not restarted.
        self.companion.hold()
        super().stop(graceful)
        self.companion.stop()


def check_before_serving(settings) -> None:
    """Meet once, before "Listening", what every worker meets at its start or at its first request.

    In the workers alone, a missing calendar or escalation file and a database URL that cannot be read
    gave one traceback per worker and gunicorn's "Worker failed to boot"; a database that cannot be
    reached, or was never prepared with `alur init`, gave a server that listened and answered with 500s.
    Raises `InvalidData` with one sentence naming the setting; the password of the URL is never shown.
    """
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    from engine import schema
    from engine.config import session_idle_minutes
    from engine.db import database_problem, make_engine
    from engine.errors import InvalidData
    from engine.runtime import _load_calendar, load_escalation
    from process.calendar import CalendarConfigError

    try:
        _load_calendar(settings)
        load_escalation(settings)
        session_idle_minutes()  # read by each worker's app
    except (CalendarConfigError, ValueError) as err:
        raise InvalidData(str(err)) from err
    try:
        engine = make_engine(settings.database_url)
    except (ArgumentError, NoSuchModuleError, ImportError) as err:
        raise InvalidData("ALUR_DATABASE_URL bukan alamat basis data yang dapat dipakai "
                          "(contoh: postgresql+psycopg://pengguna:sandi@host/alur)") from err
    try:
        with engine.connect() as connection:
            revision = schema.current_revision(connection)
    except SQLAlchemyError as err:
        raise InvalidData(database_problem(err)) from err
    finally:
        engine.dispose()  # no connection of the master's is forked into the workers
    schema.refuse_other(engine, revision)


def check_address(host: str, port: int) -> None:
    """The address is free, checked before "Alur: http://…": gunicorn itself retries a taken port for
    five seconds and ends with "Can't connect to" (English, after the address was announced)."""
    import errno
    import socket

    from engine.errors import InvalidData
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as err:
        raise InvalidData(f"--host {host} tidak dikenal: {err.strerror}") from err
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind(address)
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise InvalidData(f"alamat {host}:{port} sudah dipakai proses lain: pilih --port lain, "
                                  "atau hentikan proses itu") from err
            raise InvalidData(f"alamat {host}:{port} tidak dapat dipakai: {err.strerror}") from err


def stall_seconds(longest_try: float = 0.0) -> float:
    """How long the scheduler may stay silent before it counts as hung (ALUR_SCHEDULER_STALL_SECONDS).

    It beats after each alert it tries, so the stall time must outlast one alert's delivery
    (`longest_try`: the mail and webhook timeouts). Shorter, a slow mail server would get a sound
    scheduler killed again and again, each time in the middle of a send.
    """
    value = os.environ.get("ALUR_SCHEDULER_STALL_SECONDS", "")
    if not value:
        seconds = STALL_AFTER
    # ASCII digits only: str.isdigit() takes "²" (which int() refuses) and other scripts' digits;
    # at most 9 of them, so that float() cannot overflow.
    elif not (value.isascii() and value.isdigit() and len(value) <= 9) or int(value) < 1:
        raise ValueError(f"ALUR_SCHEDULER_STALL_SECONDS harus bilangan bulat detik, bukan {value!r}")
    else:
        seconds = float(value)
    if seconds <= longest_try:
        raise ValueError(
            f"ALUR_SCHEDULER_STALL_SECONDS ({seconds:g} detik) harus lebih lama dari satu pengiriman peringatan "
            f"({longest_try:g} detik: smtp.timeout_seconds ditambah timeout_seconds webhook di escalation.yaml); "
            "jika tidak, penjadwal dihentikan saat menunggu server surat")
    return seconds


def serve(host: str, port: int, workers: int, threads: int, companion: list[str] | None = None,
          stall_after: float = STALL_AFTER) -> None:
    # Threaded workers: a worker waiting on the database (a PostgreSQL round
    # trip, SQLite's writer queue) or on a slow client serves another request
    # meanwhile, and HTTP/1.1 connections are kept alive between requests, so
    # a browser's or client's requests keep to the worker that holds its
    # instances' workflows in memory (engine/workflow_cache.py).
    # gunicorn's control socket (for `gunicornc`) is off: its default path is
    # one per user, so a second server on the host would take it over.
    # sendfile() is off: gunicorn does not count the bytes it sends that way, so
    # the access log showed every document download as 0 bytes. Documents are
    # at most ALUR_MAX_UPLOAD_BYTES; copying them through the worker costs little.
    AlurServer({"bind": f"{host}:{port}", "workers": workers, "worker_class": "gthread", "threads": threads,
                "keepalive": 5, "accesslog": "-", "timeout": 60, "worker_tmp_dir": "/dev/shm",
                "control_socket_disable": True, "sendfile": False}, companion, stall_after).run()
