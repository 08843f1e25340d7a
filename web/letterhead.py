"""The office's logo on its official prints: the SOP document, the SOP monitoring form, the evaluation report.

The image is a file the installation names with ALUR_LOGO_FILE (the city's
coat of arms, as on the paper SOP). It is read once when the app starts and
put into the pages as a data URI, because the PDFs are drawn from HTML that
loads nothing from outside. Only PNG and JPEG are taken (an SVG could carry
scripts and references to other files), decoded whole at start (a truncated
or corrupt file would otherwise only drop out of the PDFs, with a line in a
log), and at most MAX_LOGO_SIDE pixels a side: every PDF decodes it again. A
file that cannot be used stops the start with a message naming it, rather
than printing documents without it.
"""
from __future__ import annotations

import base64
import io
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from PIL import Image, ImageFile

from engine.config import SettingError
from process.messages import Text

MAX_LOGO_BYTES = 1024 * 1024
MAX_LOGO_SIDE = 2000
# Pillow's formats: a camera's JPEG with extra frames reads as MPO, still a JPEG to a PDF.
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "MPO": "image/jpeg"}


class LogoError(SettingError):
    """ALUR_LOGO_FILE names a file that cannot be printed as the logo."""


def data_uri(path: Path | None) -> str | None:
    """The logo as a data: URI, or None without one."""
    if path is None:
        return None
    try:
        content = path.read_bytes()
    except OSError as err:
        raise LogoError(Text("ALUR_LOGO_FILE: %(path)s tidak dapat dibaca: %(reason)s", path=str(path),
                             reason=err.strerror or str(err))) from None
    if len(content) > MAX_LOGO_BYTES:
        raise LogoError(Text("ALUR_LOGO_FILE: %(path)s lebih besar dari %(limit)d KB", path=str(path),
                             limit=MAX_LOGO_BYTES // 1024))
    mime = _checked_image(path, content)
    return f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"


def _checked_image(path: Path, content: bytes) -> str:
    """The MIME type of a PNG or JPEG that decodes whole and is small enough in pixels."""
    try:
        # Only these readers look at the file: other formats are refused unread.
        with _truncated_refused(), Image.open(io.BytesIO(content), formats=["PNG", "JPEG"]) as image:
            kind, (width, height) = image.format, image.size
            if max(width, height) > MAX_LOGO_SIDE:
                raise LogoError(Text("ALUR_LOGO_FILE: %(path)s berukuran %(width)dx%(height)d piksel; yang dicetak "
                                     "paling besar %(side)d piksel per sisi", path=str(path), width=width,
                                     height=height, side=MAX_LOGO_SIDE))
            image.load()  # after the size check: decoding is what a huge image costs
    except LogoError:
        raise
    except Image.UnidentifiedImageError:
        raise LogoError(Text("ALUR_LOGO_FILE: %(path)s bukan gambar PNG atau JPEG", path=str(path))) from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise LogoError(Text("ALUR_LOGO_FILE: gambar %(path)s rusak (%(reason)s)", path=str(path),
                             reason=str(err))) from None
    return IMAGE_TYPES[kind]


@contextmanager
def _truncated_refused():
    """Pillow's LOAD_TRUNCATED_IMAGES off while the logo is checked.

    It is process-wide, and WeasyPrint turns it on when it is imported: after
    a first PDF, a truncated logo would load as a half-grey image.
    """
    saved = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = saved


def init_app(app: Flask, path: Path | None) -> None:
    app.jinja_env.globals["logo"] = data_uri(path)
