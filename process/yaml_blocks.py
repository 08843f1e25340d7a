"""Editing one top-level block of a YAML file as text, so comments elsewhere survive.

The office's YAML files carry comments that explain them; rewriting a whole
file through a YAML dumper would drop them. These functions find and replace
the lines of one top-level key instead.
"""
from __future__ import annotations

import re


def block_range(lines: list[str], key: str) -> tuple[int, int] | None:
    """Lines [start, end) of a top-level key's block, without the comments above the next key."""
    start = next((i for i, line in enumerate(lines) if re.match(rf"^{re.escape(key)}\s*:", line)), None)
    if start is None:
        return None
    end = len(lines)
    for i in range(start + 1, len(lines)):
        if re.match(r"^[^\s#]", lines[i]):
            end = i
            break
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1  # blank lines and comments just above the next key belong to it
    return start, end


def block_text(text: str, key: str) -> str:
    """The text of a top-level key's block ("" when the key is absent)."""
    lines = (text or "").splitlines(keepends=True)
    found = block_range(lines, key)
    if found is None:
        return ""
    block = "".join(lines[found[0]:found[1]])
    return block if block.endswith("\n") else block + "\n"


def replace_block(text: str, key: str, block: str) -> str:
    """The text with a top-level key's block replaced (added first when absent, removed when empty)."""
    lines = (text or "").splitlines(keepends=True)
    found = block_range(lines, key)
    if found is None:
        return block + ("\n" + text if text.strip() else "") if block else text
    start, end = found
    # One blank line between blocks, however often the block is replaced.
    tail = "".join(lines[end:]).lstrip("\n")
    return "".join(lines[:start]) + block + ("\n" + tail if tail and block else tail)
