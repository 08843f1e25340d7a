"""The Unicode encoding a file's byte-order mark names: one reading for every text upload and import."""
from __future__ import annotations

import codecs

# UTF-32 before UTF-16: UTF-32's little-endian mark (FF FE 00 00) begins with UTF-16's (FF FE), and a
# UTF-32 file read as UTF-16 is each character followed by a NUL.
_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


def marked_encoding(data: bytes) -> str | None:
    """The codec that reads `data` as its byte-order mark says (the mark left out), or None without one."""
    return next((encoding for mark, encoding in _MARKS if data.startswith(mark)), None)
