"""How much of a request body is read: the upload limit is each file's, not the request's.

ALUR_MAX_UPLOAD_BYTES is what one file may be, as the task page says at each
file field, and the engine refuses a file over it by its name, at its field
(`engine.documents`). The body is still capped before it is read, so nothing
unbounded is: one file's worth, or for a step's completion one per file field
of the step, and room for the form's text besides. Two files of a step, each
within the limit, were refused together with a bare "too large".
"""
from __future__ import annotations

from flask import Flask, request

from engine import queries
from web.input_guard import UNSTORABLE

FORM_ROOM = 1024 * 1024  # the text parts and the multipart framing around the files
COMPLETIONS = frozenset({"tasks.show", "api.complete_task"})  # the page's form and the API's


def init_app(app: Flask, limit: int) -> None:
    """Before any hook that reads the body (the CSRF check reads the form)."""
    app.config["MAX_CONTENT_LENGTH"] = body_cap(limit, 1)
    app.before_request(room_for_each_file)


def body_cap(limit: int, files: int) -> int:
    return limit * max(files, 1) + FORM_ROOM


def room_for_each_file() -> None:
    if request.method != "POST" or request.endpoint not in COMPLETIONS:
        return
    if request.content_length is not None and request.content_length <= request.max_content_length:
        return  # within one file's worth: nothing to look up (nearly every completion)
    task_id = str((request.view_args or {}).get("task_id", ""))
    if UNSTORABLE.search(task_id):  # no task has it, and the database refuses to look (input_guard: 404)
        return
    from web.app import runtime
    rt = runtime()
    files = queries.file_fields(rt, task_id)
    if files > 1:
        request.max_content_length = body_cap(rt.settings.max_upload_bytes, files)
