"""`alur backup` and `alur restore`: the database and the uploaded documents in one archive.

The archive is a gzipped tar:
- `manifest.json`: format, schema revision, source database kind, time, row
  counts per table, and the documents (SHA-256 and size);
- `tables/<table>.jsonl`: every row of every table, one JSON object a line,
  in primary-key order;
- `files/<sha256>`: each stored document's bytes.

Why a logical dump through SQLAlchemy and not `pg_dump` or SQLite's backup
API: one format and one code path for both databases; a backup of the SQLite
pilot restores into PostgreSQL (and back); and it needs no client programs
whose version must match the server's. The rows are read in one read-only
transaction (REPEATABLE READ on PostgreSQL, a WAL read snapshot on SQLite),
so the dump is consistent while the office keeps working, and writers are
never blocked. Documents are written to disk before their row is committed
and never deleted, so every document row in the snapshot has its bytes.

A restore needs an empty database (no Alur rows) unless forced, and a backup
of the same schema revision as this Alur (restore it with the Alur version
that wrote it, then upgrade). It first reads the whole archive (each
document against its hash, each table's rows as JSON against the manifest's
count), so a damaged one is refused before anything is written or dropped.
Then it creates the schema, copies the documents in, loads all rows in one
transaction, moves PostgreSQL's id sequences past the restored ids, and
checks the row counts.

A forced restore first archives the database it replaces
(`<data dir>/cadangan/sebelum-pemulihan-<time>.tar.gz`, in the office's
time, with this same code, leaving out and naming document files already
lost): dropping the
tables, creating the schema and loading the rows are not one transaction
on every database, so a load the database refuses half-way is answered by
loading that archive back and removing the document files the failed
load copied in (but those the put-back database names). It is kept afterwards, as the way back from
restoring the wrong archive. Once the load succeeded, document files that no
restored row names (the replaced database's) are moved beside it, to
`<data dir>/cadangan/sebelum-pemulihan-<time>-berkas/`; so are, in a restore
into an empty database, the files no database names (left by one dropped by
hand, say): `files/` holds the restored database's documents alone.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import Date, MetaData, create_engine, event, func, insert, inspect, select, text
from sqlalchemy.engine import Engine

from engine import documents, schema
from engine.db import Base, Document, UtcDateTime
from engine.errors import AlurError, Conflict, InvalidData
from engine.runtime import Runtime

FORMAT = "alur-backup/1"
BATCH = 1000
SHA256 = re.compile(r"^[0-9a-f]{64}$")


# -- backup ---------------------------------------------------------------------------

def backup(rt: Runtime, target: Path, skip_missing_files: bool = False, overwrite: bool = False) -> dict[str, Any]:
    """Write the archive to `target` (through a temporary file, renamed at the end); return the manifest.

    An existing `target` (yesterday's archive, its name typed again) is refused unless `overwrite`.

    A document whose file is not on disk, or does not hold the bytes its hash names (damaged),
    stops the backup: an archive with damaged bytes would be refused by every restore. With
    `skip_missing_files` such a file is left out instead and named in the manifest's
    `missing_documents` (the copy a forced restore makes of the database it replaces, whose
    files may be what was lost).
    """
    target = Path(target)
    if target.exists() and not overwrite:
        raise InvalidData(f"{target} sudah ada; pakai --overwrite untuk menimpanya")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise _unwritable(target, err) from err
    reader = _snapshot_engine(rt.settings.database_url)
    try:
        with tempfile.TemporaryDirectory() as scratch, reader.connect() as conn:
            _begin_snapshot(conn)
            revision = schema.current_revision(conn)
            _check_revision(rt, revision)
            counts = {}
            for table in Base.metadata.sorted_tables:
                with open(Path(scratch) / f"{table.name}.jsonl", "w", encoding="utf-8") as out:
                    counts[table.name] = _dump_table(conn, table, out)
            shas = sorted(set(conn.execute(select(Document.sha256)).scalars()))
            conn.rollback()
            unusable = {sha: why for sha in shas if (why := _unusable(rt, sha)) is not None}
            if unusable and not skip_missing_files:
                raise InvalidData(f"{next(iter(unusable.values()))}; cadangan dibatalkan")
            missing = sorted(unusable)
            shas = [sha for sha in shas if sha not in unusable]
            manifest = {"format": FORMAT, "revision": revision, "database": reader.dialect.name,
                        "created_at": rt.now().isoformat(), "tables": counts,
                        "documents": [{"sha256": sha, "size": _file(rt, sha).stat().st_size} for sha in shas]}
            if missing:
                manifest["missing_documents"] = missing
            try:
                _write(rt, target, manifest, Path(scratch))
            except OSError as err:  # a folder not writable, a full disk
                raise _unwritable(target, err) from err
    finally:
        reader.dispose()
    return manifest


def _check_revision(rt: Runtime, revision: str | None) -> None:
    """The archive holds the tables this Alur knows, stamped with the database's revision: for a
    database of another revision it would be stamped as complete and not be (a table a newer Alur
    added left out). None: a database never prepared, which the dump names."""
    head = schema.head_revision(rt.engine)
    if revision is None or revision == head:
        return
    if schema.is_known(rt.engine, revision):
        raise InvalidData(f"basis data ini masih skema {revision}, Alur ini skema {head}: cadangkan dengan "
                          "versi Alur sebelumnya, atau tingkatkan dahulu dengan `alur init`")
    raise InvalidData(f"basis data ini skema {revision}, lebih baru dari Alur ini (skema {head}): "
                      "cadangkan dengan versi Alur yang meningkatkannya")


def _write(rt: Runtime, target: Path, manifest: dict[str, Any], scratch: Path) -> None:
    """The archive, through a temporary file beside `target` that is renamed to it at the end."""
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".partial")
    os.close(fd)
    try:
        with tarfile.open(partial, "w:gz") as archive:
            _add_bytes(archive, "manifest.json", json.dumps(manifest, indent=2).encode())
            for name in manifest["tables"]:
                archive.add(scratch / f"{name}.jsonl", arcname=f"tables/{name}.jsonl")
            for document in manifest["documents"]:
                archive.add(_file(rt, document["sha256"]), arcname=f"files/{document['sha256']}")
        os.replace(partial, target)
    finally:
        Path(partial).unlink(missing_ok=True)


def _unwritable(target: Path, err: OSError) -> InvalidData:
    return InvalidData(f"cadangan tidak dapat ditulis ke {target}: {err.strerror or err}")


def _snapshot_engine(url: str) -> Engine:
    """An engine for one consistent read: no write lock on SQLite (the runtime's begins IMMEDIATE)."""
    if not url.startswith("sqlite"):
        return create_engine(url, isolation_level="REPEATABLE READ")
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # BEGIN is ours, below

    @event.listens_for(engine, "begin")
    def _deferred_begin(conn):
        conn.exec_driver_sql("BEGIN")
    return engine


def _begin_snapshot(conn) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET TRANSACTION READ ONLY"))
    else:
        conn.execute(text("SELECT 1 FROM sqlite_master LIMIT 1"))  # takes the read snapshot now


def _dump_table(conn, table, out) -> int:
    count = 0
    result = conn.execution_options(yield_per=BATCH).execute(select(table).order_by(*table.primary_key.columns))
    for row in result.mappings():
        out.write(json.dumps({k: _to_json(v) for k, v in row.items()}, ensure_ascii=False) + "\n")
        count += 1
    return count


def _to_json(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _unusable(rt: Runtime, sha: str) -> str | None:
    """Why a document's stored file cannot go into a backup (missing, or not the bytes its hash
    names); None when it can."""
    path = documents.file_path(rt, sha)
    if not path.is_file():
        return f"berkas dokumen {sha} tidak ada di {path.parent}"
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != sha:
        return f"berkas dokumen {sha} di {path.parent} rusak (isinya tidak cocok dengan hash-nya)"
    return None


def _file(rt: Runtime, sha: str) -> Path:
    path = documents.file_path(rt, sha)
    if not path.is_file():
        raise InvalidData(f"berkas dokumen {sha} tidak ada di {path.parent}; cadangan dibatalkan")
    return path


def _add_bytes(archive: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(content)
    archive.addfile(info, io.BytesIO(content))


# -- restore --------------------------------------------------------------------------

def restore(rt: Runtime, source: Path, force: bool = False) -> dict[str, Any]:
    """Load an archive into this runtime's database and data directory; return the manifest."""
    try:
        archive = tarfile.open(source, "r:gz")
        manifest = _manifest(archive)
    except (tarfile.TarError, EOFError, OSError) as err:  # a PDF picked by mistake, a cut download
        raise InvalidData(f"{source} bukan arsip cadangan Alur (.tar.gz yang utuh)") from err
    with archive:
        _check_archive_revision(rt, manifest["revision"])
        empty = _is_empty(rt.engine)
        if not empty and not force:
            raise Conflict("basis data tujuan tidak kosong; pakai --force untuk menimpanya")
        # All of it is read before anything is written or dropped: with --force, damage found after
        # the drop left neither the database that was there nor the one in the backup.
        _check_archive(archive, manifest)
        # The office's time, as the command line prints it; sortable, and without ':' for Windows copies.
        stamp = f"sebelum-pemulihan-{rt.now().astimezone(rt.calendar.tz):%Y%m%dT%H%M%S%f}"
        previous = None if empty else _keep_previous(rt, stamp)
        if previous is not None:
            _drop_everything(rt.engine)
        stored = _stored_files(rt)
        try:
            _load(rt, archive, manifest)
        except (Exception, KeyboardInterrupt) as err:
            # Rows can read well and still be refused by the database (a key that points nowhere),
            # and an operator may interrupt a long load (Ctrl-C).
            reason = "dihentikan (Ctrl-C)" if isinstance(err, KeyboardInterrupt) else _reason(err)
            if previous is None:
                _discard_new_files(rt, stored, set())
                raise InvalidData(f"cadangan tidak dapat dimuat: {reason}; basis data tetap kosong") from err
            try:
                _put_back(rt, previous, stored)
            except (Exception, KeyboardInterrupt) as again:  # the copy is still there: say how to use it
                raise InvalidData(f"cadangan tidak dapat dimuat: {reason}; basis data semula juga tidak dapat "
                                  f"dikembalikan ({_reason(again)}); pulihkan dengan "
                                  f"alur restore --force {previous}") from err
            raise InvalidData(f"cadangan tidak dapat dimuat: {reason}; basis data semula dikembalikan "
                              f"dari salinannya, {previous}") from err
    aside = rt.settings.data_dir / "cadangan" / f"{stamp}-berkas"
    try:
        moved = _set_aside_other_files(rt, manifest, aside)
    except OSError as err:  # the database is restored all the same: say so, and what is left to move
        kept = f" (basis data yang ditimpa disimpan di {previous})" if previous else ""
        raise InvalidData(f"dipulihkan dari {source}{kept}, tetapi berkas dokumen yang tidak disebut basis data "
                          f"yang dipulihkan tidak dapat dipindahkan dari {rt.settings.data_dir / 'files'} ke "
                          f"{aside}: {_reason(err)}") from err
    return {**manifest, "previous": str(previous) if previous else None,
            "previous_files": str(moved) if moved else None}


def _check_archive_revision(rt: Runtime, revision: str) -> None:
    """Rows load only into the schema that wrote them: an older archive into the Alur that made it
    (upgraded afterwards by `alur init`), a newer one only into the newer Alur that made it."""
    head = schema.head_revision(rt.engine)
    if revision == head:
        return
    made_by = f"pulihkan dengan versi Alur yang membuatnya (migrasi terakhirnya {revision})"
    if schema.is_known(rt.engine, revision):
        raise InvalidData(f"cadangan ini dari skema {revision}, Alur ini skema {head}: {made_by}, "
                          "lalu tingkatkan dengan `alur init`")
    raise InvalidData(f"cadangan ini dari skema {revision}, lebih baru dari Alur ini (skema {head}): {made_by}")


def _keep_previous(rt: Runtime, stamp: str) -> Path:
    """Archive the database a forced restore replaces, beside the documents: put back if the load
    fails, and kept afterwards as the way back from a restore of the wrong archive."""
    target = rt.settings.data_dir / "cadangan" / f"{stamp}.tar.gz"
    try:
        backup(rt, target, skip_missing_files=True)  # lost files may be why the restore is run
    except Exception as err:
        raise Conflict(f"basis data yang akan ditimpa tidak dapat dicadangkan lebih dulu ({_reason(err)}); "
                       "tidak ada yang diubah") from err
    return target


def _put_back(rt: Runtime, previous: Path, stored: set[Path]) -> None:
    """Load the replaced database's archive again, after a failed load; remove the document files that
    load added (not in `stored`) unless the put-back database names them (files it had lost)."""
    _drop_everything(rt.engine)
    with tarfile.open(previous, "r:gz") as kept:
        manifest = _manifest(kept)
        _load(rt, kept, manifest)
    _discard_new_files(rt, stored, _named(manifest))


def _stored_files(rt: Runtime) -> set[Path]:
    return {path for path in (rt.settings.data_dir / "files").glob("*/*") if path.is_file()}


def _discard_new_files(rt: Runtime, stored: set[Path], keep: set[str]) -> None:
    """Delete the document files a failed load copied in (not in `stored`), but those in `keep`."""
    for path in _stored_files(rt) - stored:
        if path.name not in keep:
            path.unlink(missing_ok=True)


def _named(manifest: dict[str, Any]) -> set[str]:
    """The documents a backup's rows name: those it holds and those it left out as missing."""
    return {d["sha256"] for d in manifest["documents"]} | set(manifest.get("missing_documents", []))


def _set_aside_other_files(rt: Runtime, manifest: dict[str, Any], aside: Path) -> Path | None:
    """Move the document files no row of the restored database names (the replaced database's, whose
    bytes its archive also holds) to `aside`, in the same layout; `aside`, or None if there were none."""
    restored = _named(manifest)
    moved = None
    for path in sorted((rt.settings.data_dir / "files").glob("*/*")):
        if path.name not in restored and path.is_file():
            moved = aside / path.parent.name / path.name
            moved.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, moved)
    return aside if moved else None


def _load(rt: Runtime, archive: tarfile.TarFile, manifest: dict[str, Any]) -> None:
    """Documents, schema and rows from a checked archive into an empty database; rows in one transaction."""
    _restore_files(rt, archive, manifest)
    schema.upgrade(rt.engine)
    with rt.engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            _load_table(conn, table, archive.extractfile(f"tables/{table.name}.jsonl"))
        _advance_sequences(conn)
        found = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                 for t in Base.metadata.sorted_tables}
        if found != manifest["tables"]:
            raise InvalidData(f"jumlah baris tidak cocok setelah pemulihan: {found} != {manifest['tables']}")


def _reason(err: Exception) -> str:
    """An error's first line: our own message as it is, a driver's with its kind (without
    SQLAlchemy's statement and link)."""
    if isinstance(err, AlurError):
        return str(err)
    inner = getattr(err, "orig", None) or err
    lines = str(inner).strip().splitlines()
    return f"{type(inner).__name__}: {lines[0]}" if lines else type(inner).__name__


def _manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        manifest = json.load(archive.extractfile("manifest.json"))
    except (KeyError, ValueError, TypeError):
        raise InvalidData("bukan arsip cadangan Alur (manifest.json tidak ada atau rusak)") from None
    if manifest.get("format") != FORMAT:
        raise InvalidData(f"format cadangan tidak dikenal: {manifest.get('format')!r}")
    return manifest


def _is_empty(engine: Engine) -> bool:
    names = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        return not any(conn.execute(select(func.count()).select_from(t)).scalar_one()
                       for t in Base.metadata.sorted_tables if t.name in names)


def _drop_everything(engine: Engine) -> None:
    """Drop every table (and Alur's trigger functions): dropping a table is not deleting its rows."""
    existing = MetaData()
    existing.reflect(engine)
    with engine.begin() as conn:
        existing.drop_all(conn)
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP FUNCTION IF EXISTS alur_event_append_only, alur_event_chain_forward CASCADE"))


def _check_archive(archive: tarfile.TarFile, manifest: dict[str, Any]) -> None:
    """Every document's bytes match their hash, and every table's lines are JSON, as many as the
    manifest counts; InvalidData naming what is wrong. Nothing is written."""
    for document in manifest["documents"]:
        _document_bytes(archive, document["sha256"])
    try:
        for table in Base.metadata.sorted_tables:
            try:
                member = archive.extractfile(f"tables/{table.name}.jsonl")
            except KeyError:
                member = None
            if member is None:
                raise InvalidData(f"tabel {table.name} tidak ada dalam cadangan")
            count = 0
            for line in _lines(member):
                json.loads(line)
                count += 1
            if count != manifest["tables"].get(table.name):
                raise InvalidData(f"tabel {table.name} dalam cadangan berisi {count} baris, manifest menyebut "
                                  f"{manifest['tables'].get(table.name)}")
    except (ValueError, EOFError, tarfile.TarError, OSError) as err:  # bad JSON or UTF-8, a cut archive
        raise InvalidData(f"cadangan rusak: {err}") from None


def _document_bytes(archive: tarfile.TarFile, sha: str) -> bytes:
    if not SHA256.match(sha):
        raise InvalidData(f"nama berkas tidak sah dalam cadangan: {sha!r}")
    try:
        member = archive.extractfile(f"files/{sha}")
    except KeyError:
        member = None
    content = member.read() if member is not None else b""
    if hashlib.sha256(content).hexdigest() != sha:
        raise InvalidData(f"berkas {sha} dalam cadangan rusak (hash tidak cocok)")
    return content


def _restore_files(rt: Runtime, archive: tarfile.TarFile, manifest: dict[str, Any]) -> None:
    for document in manifest["documents"]:
        sha = document["sha256"]
        content = _document_bytes(archive, sha)
        if _unusable(rt, sha) is not None:  # a file damaged on disk gives way to the archive's bytes
            documents.file_path(rt, sha).unlink(missing_ok=True)
        documents.write_file(rt, sha, content)


def _load_table(conn, table, lines) -> None:
    converters = {c.name: _from_json(c.type) for c in table.columns}
    batch = []
    for line in _lines(lines):
        row = json.loads(line)
        batch.append({k: converters[k](v) if v is not None else None for k, v in row.items()})
        if len(batch) >= BATCH:
            conn.execute(insert(table), batch)
            batch = []
    if batch:
        conn.execute(insert(table), batch)


def _lines(handle) -> Iterator[str]:
    for raw in io.TextIOWrapper(handle, encoding="utf-8"):
        if raw.strip():
            yield raw


def _from_json(column_type):
    if isinstance(column_type, UtcDateTime):
        return datetime.fromisoformat
    if isinstance(column_type, Date):
        return date.fromisoformat
    return lambda value: value


def _advance_sequences(conn) -> None:
    """PostgreSQL hands out ids from sequences; start them after the restored rows."""
    if conn.dialect.name != "postgresql":
        return
    for table in Base.metadata.sorted_tables:
        if "id" not in table.c:
            continue
        sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar()
        if sequence:
            conn.execute(text(f'SELECT setval(:s, COALESCE((SELECT MAX(id) FROM "{table.name}"), 0) + 1, false)'),
                         {"s": sequence})
