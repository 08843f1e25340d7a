"""What a page's form sends for its stale check: the version or revision the page showed (a task,
a draft in the editor, the evaluation report, the SOP monitoring form); and for a retry, the one-time
key of a form whose command is safe to send again (starting an activity, completing a step)."""
from __future__ import annotations

import secrets

from flask import request

from engine import services
from process.numbers import whole_number

RETRY_FIELD = "idempotency_key"


def seen(field: str = "version") -> int | None:
    """The version (or revision) the page showed. One that is not a number (or in other digits than
    0-9) cannot match any, so it is taken as stale (-1) rather than skipping the check; none at all
    is a client that asks for no check."""
    sent = request.form.get(field)
    if sent is None:
        return None
    number = whole_number(sent)
    return -1 if number is None else number


def retry_key(asked: str) -> str | None:
    """A command's retry key from its form: the form's one-time key with what the command asks (the
    service's request hash). The same form sent again (a double click, the back button, a reload)
    is its first command again; sent with other answers (back, and an answer changed), another
    command. None when no usable key came (none, or edited by hand)."""
    key = _sent_key()
    return f"{key}.{asked}" if key else None


def form_key() -> str:
    """The one-time key a command's form carries (a template global): the one it sent, shown again
    after a mistake, unless no retry key could be made of it; else a fresh one."""
    return _sent_key() or secrets.token_urlsafe(18)


# What retry_key adds to the form's key: a dot and the request hash (a SHA-256 in hex).
_ASKED_ROOM = 1 + 64


def _sent_key() -> str | None:
    """The form's key, if a command's retry key can be made of it."""
    key = request.form.get(RETRY_FIELD)
    return key if key and services.usable_retry_key(key, room=_ASKED_ROOM) else None
