"""The office's logo on its official prints: the SOP document, the SOP monitoring form, the evaluation report.

The image is a file the installation names with ALUR_LOGO_FILE (the city's
coat of arms, as on the paper SOP). It is read once when the app starts and
put into the pages as a data URI, because the PDFs are drawn from HTML that
loads nothing from outside. Only PNG and JPEG are taken: an SVG could carry
scripts and references to other files. A file that cannot be used stops the
start with a message naming it, rather than printing documents without it.
"""
from __future__ import annotations

import base64
from pathlib import Path

import filetype
from flask import Flask

MAX_LOGO_BYTES = 1024 * 1024
IMAGE_TYPES = ("image/png", "image/jpeg")


class LogoError(ValueError):
    """ALUR_LOGO_FILE names a file that cannot be printed as the logo."""


def data_uri(path: Path | None) -> str | None:
    """The logo as a data: URI, or None without one."""
    if path is None:
        return None
    try:
        content = path.read_bytes()
    except OSError as err:
        raise LogoError(f"ALUR_LOGO_FILE: cannot read {path}: {err.strerror or err}") from None
    if len(content) > MAX_LOGO_BYTES:
        raise LogoError(f"ALUR_LOGO_FILE: {path} is larger than {MAX_LOGO_BYTES // 1024} KB")
    kind = filetype.guess(content[:8192])
    if kind is None or kind.mime not in IMAGE_TYPES:
        raise LogoError(f"ALUR_LOGO_FILE: {path} is not a PNG or JPEG image")
    return f"data:{kind.mime};base64,{base64.b64encode(content).decode('ascii')}"


def init_app(app: Flask, path: Path | None) -> None:
    app.jinja_env.globals["logo"] = data_uri(path)
