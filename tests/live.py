"""A real HTTP server around a test's app, in a thread, on a free port.

For the tests that must go through the network stack (schemathesis, concurrent
clients) but do not need gunicorn's processes: werkzeug's threaded server, one
thread per request, all sharing the test's Runtime.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import select
from werkzeug.serving import make_server

from engine import accounts
from engine.db import User


@contextmanager
def serve(app) -> Iterator[str]:
    """Serve the app until the block ends; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def token_for(rt, login: str) -> str:
    """A fresh API token of the user."""
    with rt.uow() as session:
        user_id = session.scalars(select(User.id).where(User.login == login)).one()
    return accounts.create_token(rt, user_id, "tes")[1]
