"""Everything Alur has stored, as one comparable value: "bad input changes nothing" in one assert.

`stored(rt)` reads every row of every table and hashes every file under the
data directory (uploaded documents); `assert_unchanged(before, rt)` says
which tables or files differ. The one column left out is an API token's
`last_used_at`, which records that a request was made, not what it changed.
"""
from __future__ import annotations

import hashlib
from typing import Any

from engine.db import Base

IGNORED_COLUMNS = {("api_token", "last_used_at")}
IGNORED_FILES = {"secret_key"}


def stored(rt) -> dict[str, Any]:
    tables: dict[str, Any] = {}
    with rt.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if (table.name, c.name) not in IGNORED_COLUMNS]
            rows = conn.execute(table.select().with_only_columns(*columns)).all()
            tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
    data_dir = rt.settings.data_dir
    files = {str(path.relative_to(data_dir)): hashlib.sha256(path.read_bytes()).hexdigest()
             for path in sorted(data_dir.rglob("*"))
             if path.is_file() and path.name not in IGNORED_FILES and not path.name.startswith("alur.db")} \
        if data_dir.exists() else {}
    return {"tables": tables, "files": files}


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What differs, named: table names and file paths."""
    names = [f"table {name}" for name in before["tables"] if before["tables"][name] != after["tables"].get(name)]
    names += [f"file {path}" for path in sorted(set(before["files"]) ^ set(after["files"]))]
    names += [f"file {path} (content)" for path in before["files"]
              if path in after["files"] and before["files"][path] != after["files"][path]]
    return names


def assert_unchanged(before: dict[str, Any], rt, what: str = "") -> None:
    differ = changes(before, stored(rt))
    assert not differ, f"{what}: stored data changed: {', '.join(differ)}"
