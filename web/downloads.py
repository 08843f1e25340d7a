"""How the app names a file it hands out: one Content-Disposition for every download."""
from __future__ import annotations

from urllib.parse import quote

from werkzeug.http import dump_options_header


def attachment(name: str) -> str:
    """Content-Disposition saving the response as `name`.

    Names carry SOP keys, which are process ids and may hold quotes or letters beyond ASCII.
    Werkzeug quotes the value; a header is sent as Latin-1 (gunicorn refuses anything else), so a
    name beyond ASCII also goes in UTF-8 as filename* (RFC 6266), beside an ASCII stand-in."""
    name = "".join(c if c.isprintable() else "_" for c in name)
    plain = name.encode("ascii", "replace").decode().replace("?", "_")
    options = {"filename": plain}
    # Beside the quoted name, the exact one: browsers differ in undoing a quoted name's backslashes.
    if plain != name or '"' in name or "\\" in name:
        options["filename*"] = "UTF-8''" + quote(name, safe="")
    return dump_options_header("attachment", options)
