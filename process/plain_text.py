"""Text bound for a definition: what its diagram's XML and its YAML can hold, and where its lines break."""
from __future__ import annotations

import re
from typing import Any

# What neither the diagram's XML nor the definition's YAML can hold as text: control characters but tab
# and line breaks, lone surrogates, U+FFFE/U+FFFF. A table's cell may have them (copied from a PDF, a NUL
# in a CSV), as may text typed or pasted into the editor: they are left out, as the step's name reads the
# same without them.
_NOT_TEXT = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# NEL (U+0085) is a line break and stays one, as "\n": PyYAML writes it in a single-quoted scalar that reads back
# as a space ("a\x85b" became "a b").


def printable(value: Any) -> Any:
    """`value` without the characters no definition can hold; in the lists and mappings of read YAML too.

    The one rule for text bound for a definition: the import's cells and the
    editor's steps and header (engine.editor, engine.definitions)."""
    if isinstance(value, str):
        return _NOT_TEXT.sub("", value.replace("\x85", "\n"))
    if isinstance(value, list):
        return [printable(item) for item in value]
    if isinstance(value, dict):
        return {printable(key): printable(item) for key, item in value.items()}
    return value


# A line break as a person types one. str.splitlines() also cuts at a vertical tab, a form feed and \x1c-\x1e,
# which `printable` leaves out, and at U+2028/U+2029, which it keeps as the text's own.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def printable_lines(text: str) -> list[str]:
    """`text` made printable and cut into its lines: at \\n, \\r\\n and \\r, and at NEL, which is one."""
    return _LINE_BREAK.split(printable(text))
