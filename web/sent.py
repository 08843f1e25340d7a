"""What a page's form sends for its stale check: the version or revision the page showed (a task,
a draft in the editor, the evaluation report, the SOP monitoring form)."""
from __future__ import annotations

from flask import request

from process.numbers import whole_number


def seen(field: str = "version") -> int | None:
    """The version (or revision) the page showed. One that is not a number (or in other digits than
    0-9) cannot match any, so it is taken as stale (-1) rather than skipping the check; none at all
    is a client that asks for no check."""
    sent = request.form.get(field)
    if sent is None:
        return None
    number = whole_number(sent)
    return -1 if number is None else number
