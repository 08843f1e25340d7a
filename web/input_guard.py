"""Text that no field can hold, refused at the edge with a clear error.

NUL cannot be stored in PostgreSQL's text columns, and a lone UTF-16
surrogate (JSON's "\\ud800") cannot be encoded as UTF-8 for any database or
for the event log's hash. No browser sends either; a crafted request got a
500 from deep inside the engine. Checked once per request, before any view:
the path (404, no such address), the query and form values, and every
string of a JSON body. The step forms check their own values too
(`process.forms`), for text that arrives inside a multipart JSON part.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Flask, abort, request

from engine.errors import InvalidData
from process.messages import Text

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_MESSAGE = Text("memuat karakter yang tidak dapat disimpan (NUL atau surrogate)")


def init_app(app: Flask) -> None:
    app.before_request(refuse_unstorable_text)


def refuse_unstorable_text() -> None:
    if UNSTORABLE.search(request.path):
        abort(404)
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if UNSTORABLE.search(key) or UNSTORABLE.search(value):
                _refuse(key)
    if request.is_json:
        try:
            body = request.get_json(silent=True)
        except RecursionError:  # nested deeper than the parser goes: the view answers that
            return
        where = unstorable_in(body)
        if where is not None:
            _refuse(where)


def unstorable_in(value: Any) -> str | None:
    """The field whose value holds unstorable text somewhere in a parsed JSON value ("_" at the top).

    Named by the nearest key, as the views name fields (the step form's
    `rencana_kegiatan`, not `data.rencana_kegiatan`); None if there is none.
    """
    stack = [("_", value)]
    while stack:  # not recursive: a body may nest deeper than Python's stack
        field, item = stack.pop()
        if isinstance(item, str):
            if UNSTORABLE.search(item):
                return field
        elif isinstance(item, dict):
            for key, child in item.items():
                if UNSTORABLE.search(key):
                    return field
                stack.append((key, child))
        elif isinstance(item, list):
            stack.extend((field, child) for child in item)
    return None


def _refuse(where: str) -> None:
    field = UNSTORABLE.sub("?", where)  # a key may itself hold the bad character
    raise InvalidData(Text("isian %(field)s memuat karakter yang tidak dapat disimpan (NUL atau surrogate)",
                           field=field), {field: _MESSAGE})
