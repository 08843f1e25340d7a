"""`alur backup` and `alur restore`: everything comes back, into an empty database of either kind."""
from __future__ import annotations

import io
import json
import os
import re
import tarfile
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, select, text

from engine import audit, bootstrap, documents, schema, services
from engine.clock import ManualClock
from engine.config import Settings
from engine.db import Alert, Document, Event, EventChain, Instance, TaskRow, Timer, User
from engine.runtime import Runtime
from engine.scheduler import Scheduler
from tests.conftest import MONDAY_MORNING, fresh_database
from tests.integration.sop import do_step
from tests.integration.timer_helpers import ONE_MINUTE, open_row, quiet
from web.cli import main

KEY = "monev_kegiatan_bidang"
PLAN = ("rencana.pdf", b"%PDF-1.4 rencana kegiatan")
LATER_PLAN = ("rencana-baru.pdf", b"%PDF-1.4 rencana yang ditulis sesudah cadangan")


def office(kind: str, directory) -> Runtime:
    directory.mkdir(parents=True, exist_ok=True)
    rt = Runtime(Settings.from_env(database_url=fresh_database(kind, directory), data_dir=directory / "data"),
                 clock=ManualClock(MONDAY_MORNING))
    quiet(rt)
    return rt


def populate(rt) -> None:
    """Instances at different points: documents uploaded, a claim, an overdue step with alerts, one archived."""
    bootstrap.init(rt, demo=True)
    first = services.start(rt, KEY, "aptika", "Layanan email dinas", "aptika.implementasi")
    task = open_row(rt, first)
    services.claim(rt, task.id, "aptika.implementasi")
    services.complete(rt, task.id, "aptika.implementasi",
                      {"rencana_kegiatan": "Email", "tanggal_mulai": "2026-03-02", "tanggal_selesai": "2026-03-31"},
                      files={"dokumen_rencana": PLAN})
    do_step(rt, first, 2, data={"uraian_pelaksanaan": "Dilaksanakan"})
    second = services.start(rt, KEY, "ikp", "Siaran pers", "ikp.implementasi")
    services.claim(rt, open_row(rt, second).id, "ikp.implementasi")
    services.start(rt, KEY, "statistik-persandian", "Survei", "statistik-persandian.implementasi")
    rt.clock.set(open_row(rt, second).due_at + ONE_MINUTE)
    Scheduler(rt, deliver=False).run_pass()


def contents(rt) -> dict:
    """Everything a restore must bring back, as plain values."""
    with rt.uow() as session:
        def rows(model, *order):
            return [{c.key: getattr(r, c.key) for c in model.__mapper__.column_attrs}
                    for r in session.scalars(select(model).order_by(*order))]
        return {
            "instances": rows(Instance, Instance.id), "tasks": rows(TaskRow, TaskRow.id),
            "events": rows(Event, Event.id), "chains": rows(EventChain, EventChain.instance_id),
            "documents": rows(Document, Document.id), "timers": rows(Timer, Timer.id),
            "alerts": rows(Alert, Alert.id), "users": rows(User, User.id),
        }


CASES = [
    pytest.param("sqlite", "sqlite", id="sqlite-to-sqlite"),
    pytest.param("postgresql", "postgresql", id="postgresql-to-postgresql", marks=pytest.mark.postgres),
    pytest.param("sqlite", "postgresql", id="sqlite-to-postgresql", marks=pytest.mark.postgres),
]


@pytest.mark.parametrize("source_kind,target_kind", CASES)
def test_a_backup_restored_into_an_empty_database_has_everything(source_kind, target_kind, tmp_path, monkeypatch):
    source = office(source_kind, tmp_path / "source")
    try:
        populate(source)
        before = contents(source)
        archive = tmp_path / "alur.tar.gz"
        _cli(monkeypatch, source, ["backup", str(archive)])
    finally:
        source.dispose()
    # PostgreSQL to PostgreSQL: the worker's one database is emptied (fresh_database), like a new server.
    target = office(target_kind, tmp_path / "target")
    try:
        out = _cli(monkeypatch, target, ["restore", str(archive)])
        assert "3 kegiatan" in out and "1 dokumen (1 berkas)" in out
        assert re.search(r"\(dibuat \d{4}-\d\d-\d\d \d\d:\d\d WIB\)", out), out  # on the office's clock
        after = contents(target)
        for name, rows in before.items():
            assert after[name] == rows, name
        assert len(after["events"]) > 10 and len(after["alerts"]) >= 1 and after["timers"]
        [document] = after["documents"]
        assert documents.file_path(target, document["sha256"]).read_bytes() == PLAN[1]
        assert audit.verify(target).ok
        assert "log peristiwa utuh: 3 kegiatan" in _cli(monkeypatch, target, ["audit", "verify"])
        # The restored office works on: new ids follow the restored ones, chains go on.
        fourth = services.start(target, KEY, "aptika", "Sesudah pemulihan", "aptika.implementasi")
        assert fourth == max(r["id"] for r in after["instances"]) + 1
        do_step(target, after["instances"][0]["id"], 3)
        assert audit.verify(target).ok
    finally:
        target.dispose()


def test_restore_refuses_a_database_that_is_not_empty_unless_forced(tmp_path, monkeypatch):
    source = office("sqlite", tmp_path / "source")
    try:
        populate(source)
        archive = tmp_path / "alur.tar.gz"
        _cli(monkeypatch, source, ["backup", str(archive)])
        other = services.start(source, KEY, "aptika", "Ditulis sesudah cadangan", "aptika.implementasi")
        result = _invoke(monkeypatch, source, ["restore", str(archive)])
        assert result.exit_code == 3 and "tidak kosong" in result.output
        assert contents(source)["instances"][-1]["id"] == other  # untouched
        output = _cli(monkeypatch, source, ["restore", "--force", str(archive)])
        assert other not in [r["id"] for r in contents(source)["instances"]]
        [previous] = (source.settings.data_dir / "cadangan").glob("sebelum-pemulihan-*.tar.gz")
        assert f"basis data yang ditimpa disimpan di {previous}" in output  # the way back, if it was the wrong archive
        with tarfile.open(previous) as kept:
            assert b"Ditulis sesudah cadangan" in kept.extractfile("tables/instance.jsonl").read()
        assert audit.verify(source).ok
    finally:
        source.dispose()


def test_a_backup_does_not_overwrite_an_existing_file_unless_told_to(tmp_path, monkeypatch):
    """`alur backup` given yesterday's archive name replaced that archive without a word."""
    source = office("sqlite", tmp_path / "source")
    try:
        bootstrap.init(source, demo=True)
        archive = tmp_path / "kemarin.tar.gz"
        archive.write_bytes(b"arsip kemarin")
        result = _invoke(monkeypatch, source, ["backup", str(archive)])
        assert result.exit_code == 1
        assert result.output == f"galat: {archive} sudah ada; pakai --overwrite untuk menimpanya\n"
        assert archive.read_bytes() == b"arsip kemarin" and list(tmp_path.glob("kemarin*")) == [archive]
        assert "cadangan ditulis" in _cli(monkeypatch, source, ["backup", "--overwrite", str(archive)])
        with tarfile.open(archive) as written:
            assert json.load(written.extractfile("manifest.json"))["tables"]["user_account"] > 0
        assert list(tmp_path.glob("kemarin*")) == [archive]
    finally:
        source.dispose()


def test_a_backup_of_a_database_a_newer_alur_upgraded_is_refused_not_written_without_its_tables(
        tmp_path, monkeypatch):
    """Code put back to an older Alur after an upgrade (a rollback) dumped only the tables it knows
    and stamped the archive with the database's newer revision: restored with the newer Alur, the
    archive passed every check and the newer tables' rows were silently gone."""
    source = office("sqlite", tmp_path / "source")
    try:
        bootstrap.init(source, demo=True)
        with source.engine.begin() as conn:
            conn.execute(text("CREATE TABLE newer_thing (id INTEGER PRIMARY KEY)"))
            conn.execute(text("INSERT INTO newer_thing VALUES (1)"))
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        archive = tmp_path / "alur.tar.gz"
        result = _invoke(monkeypatch, source, ["backup", str(archive)])
        assert result.exit_code == 1, result.output
        head = schema.head_revision(source.engine)
        assert result.output == (f"galat: basis data ini skema 9999, lebih baru dari Alur ini (skema {head}): "
                                 "cadangkan dengan versi Alur yang meningkatkannya\n")
        assert not archive.exists()
        with source.engine.begin() as conn:  # not yet upgraded (`git pull` done, `alur init` not)
            conn.execute(text("UPDATE alembic_version SET version_num = '0009'"))
        result = _invoke(monkeypatch, source, ["backup", str(archive)])
        assert result.exit_code == 1 and "basis data ini masih skema 0009" in result.output, result.output
        assert not archive.exists()
    finally:
        source.dispose()


def test_a_backup_that_cannot_be_written_names_the_archive_not_a_temporary_file(tmp_path, monkeypatch):
    """"galat: FileExistsError: [Errno 17] File exists: …" or "PermissionError: … x.tar.gza_bwc_2e.partial":
    the error's class and a temporary file's name the operator never typed."""
    source = office("sqlite", tmp_path / "source")
    try:
        bootstrap.init(source, demo=False)
        (tmp_path / "bukan-folder").write_text("sebuah berkas")
        unwritable = tmp_path / "readonly"
        unwritable.mkdir()
        monkeypatch.setattr("tempfile.mkstemp", lambda **_: (_ for _ in ()).throw(PermissionError(13, "Permission denied")))
        for archive in (tmp_path / "bukan-folder" / "x.tar.gz", unwritable / "x.tar.gz"):
            result = _invoke(monkeypatch, source, ["backup", str(archive)])
            assert result.exit_code == 1
            assert result.output.startswith(f"galat: cadangan tidak dapat ditulis ke {archive}: "), result.output
            assert "Error" not in result.output and ".partial" not in result.output
    finally:
        source.dispose()


def test_a_forced_restore_moves_the_replaced_databases_document_files_aside(tmp_path, monkeypatch):
    """The documents of the replaced database stayed under files/, mixed with the restored ones,
    though no row of the restored database names them."""
    with _written_after_backup("sqlite", tmp_path, monkeypatch) as (source, good, before):
        later = _plan_written_later(source, before)
        [replaced] = [r["sha256"] for r in contents(source)["documents"] if r["instance_id"] == later]
        output = _cli(monkeypatch, source, ["restore", "--force", str(good)])
        [kept] = [r["sha256"] for r in before["documents"]]
        files = source.settings.data_dir / "files"
        assert [p.name for p in files.glob("*/*")] == [kept]  # only the restored database's documents
        [aside] = (source.settings.data_dir / "cadangan").glob("sebelum-pemulihan-*-berkas")
        assert (aside / replaced[:2] / replaced).read_bytes() == LATER_PLAN[1]
        assert f"berkas dokumen yang tidak termasuk cadangan ini dipindahkan ke {aside}" in output, output
        assert documents.file_path(source, kept).read_bytes() == PLAN[1]


def test_a_restore_into_an_empty_database_says_the_stray_document_files_it_moves_aside_belong_to_no_database(
        tmp_path, monkeypatch):
    """Without --force there is no replaced database: the files no row names were moved into a
    sebelum-pemulihan-…-berkas folder with no database copy beside it, said as if "not in this backup"."""
    archive = _backup_of_an_office(tmp_path, monkeypatch)
    target = office("sqlite", tmp_path / "target")
    try:
        stray = target.settings.data_dir / "files" / "ab" / ("ab" + "0" * 62)
        stray.parent.mkdir(parents=True)
        stray.write_bytes(b"sisa")
        output = _cli(monkeypatch, target, ["restore", str(archive)])
        [aside] = (target.settings.data_dir / "cadangan").glob("sebelum-pemulihan-*-berkas")
        assert (aside / "ab" / stray.name).read_bytes() == b"sisa" and not stray.exists()
        assert not list((target.settings.data_dir / "cadangan").glob("*.tar.gz"))
        assert (f"berkas dokumen sisa yang tidak disebut basis data mana pun (basis data tujuan kosong) "
                f"dipindahkan ke {aside}") in output, output
        assert "tidak termasuk cadangan ini" not in output
    finally:
        target.dispose()


def test_a_document_file_that_cannot_be_moved_aside_is_one_sentence_after_the_restore(tmp_path, monkeypatch):
    """A file the restore could not move out of files/ (permissions) gave a bare PermissionError
    after the database had been restored, as if nothing had been."""
    with _written_after_backup("sqlite", tmp_path, monkeypatch) as (source, good, before):
        later = _plan_written_later(source, before)
        move = os.replace

        def refused(path, to):  # moving a document file aside; the backup's own rename goes through
            if "-berkas" in str(to):
                raise PermissionError(13, "Permission denied")
            move(path, to)
        monkeypatch.setattr("engine.backup.os.replace", refused)
        result = _invoke(monkeypatch, source, ["restore", "--force", str(good)])
        [previous] = (source.settings.data_dir / "cadangan").glob("sebelum-pemulihan-*.tar.gz")
        aside = previous.with_name(previous.name.removesuffix(".tar.gz") + "-berkas")
        assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, result.output
        assert result.output.startswith(
            f"galat: dipulihkan dari {good} (basis data yang ditimpa disimpan di {previous}), tetapi berkas "
            f"dokumen yang tidak disebut basis data yang dipulihkan tidak dapat dipindahkan dari "
            f"{source.settings.data_dir / 'files'} ke {aside}: PermissionError: "), result.output
        assert [r["id"] for r in contents(source)["instances"]] == [r["id"] for r in before["instances"][:-1]]


def test_the_copies_of_the_replaced_database_are_named_by_the_offices_time(tmp_path, monkeypatch):
    """Their names gave the time in UTC (20260401T173000…, at half past midnight WIB on 2 April)
    while the command line prints times in the office's time zone."""
    from engine import backup as backups
    with _written_after_backup("sqlite", tmp_path, monkeypatch) as (source, good, _before):
        source.clock.set(datetime(2026, 4, 1, 17, 30, tzinfo=timezone.utc))
        result = backups.restore(source, good, force=True)
        assert Path(result["previous"]).name == "sebelum-pemulihan-20260402T003000000000.tar.gz"


def test_a_damaged_or_foreign_archive_is_refused_and_nothing_is_written(tmp_path, monkeypatch):
    good = _backup_of_an_office(tmp_path, monkeypatch)
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(good) as archive, tarfile.open(damaged, "w:gz") as out:
        for member in archive.getmembers():
            data = archive.extractfile(member).read()
            if member.name.startswith("files/"):
                data = data[:-1] + b"X"
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as out:
        out.add(__file__, arcname="manifest.json")
    target = office("sqlite", tmp_path / "target")
    try:
        bad_json = tmp_path / "bad-json.tar.gz"
        _damaged(good, bad_json, "tables/event.jsonl", lambda data: data[: len(data) // 2])
        for archive, message in ((damaged, "rusak"), (foreign, "bukan arsip cadangan Alur"), (bad_json, "rusak")):
            result = _invoke(monkeypatch, target, ["restore", str(archive)])
            assert result.exit_code == 1 and message in result.output
        assert not any((target.settings.data_dir / "files").rglob("*"))
        assert "instance" not in inspect(target.engine).get_table_names()
    finally:
        target.dispose()


def test_a_backup_of_another_schema_revision_is_refused_saying_what_to_do(tmp_path, monkeypatch):
    """A backup from a newer Alur (code rolled back after an upgrade) was told to be restored with the
    Alur that made it "then upgraded", which is no way forward; an older one did not say how far."""
    good = _backup_of_an_office(tmp_path, monkeypatch)
    target = office("sqlite", tmp_path / "target")
    try:
        head = schema.head_revision(target.engine)
        for revision, message in (
                ("0009", f"galat: cadangan ini dari skema 0009, Alur ini skema {head}: pulihkan dengan versi Alur "
                         "yang membuatnya (migrasi terakhirnya 0009), lalu tingkatkan dengan `alur init`\n"),
                ("9999", f"galat: cadangan ini dari skema 9999, lebih baru dari Alur ini (skema {head}): "
                         "pulihkan dengan versi Alur yang membuatnya (migrasi terakhirnya 9999)\n")):
            archive = tmp_path / f"skema-{revision}.tar.gz"
            _damaged(good, archive, "manifest.json",
                     lambda data: data.replace(f'"revision": "{head}"'.encode(), f'"revision": "{revision}"'.encode()))
            result = _invoke(monkeypatch, target, ["restore", str(archive)])
            assert (result.exit_code, result.output) == (1, message)
        assert "instance" not in inspect(target.engine).get_table_names()
    finally:
        target.dispose()


def _damaged(good, out_path, member_name: str, change) -> None:
    with tarfile.open(good) as archive, tarfile.open(out_path, "w:gz") as out:
        for member in archive.getmembers():
            data = archive.extractfile(member).read()
            if member.name.startswith(member_name):
                data = change(data)
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))


def _backup_of_an_office(tmp_path, monkeypatch) -> Path:
    """`alur backup` of a populated office, closed afterwards: the archive's path."""
    source = office("sqlite", tmp_path / "source")
    try:
        populate(source)
        archive = tmp_path / "alur.tar.gz"
        _cli(monkeypatch, source, ["backup", str(archive)])
    finally:
        source.dispose()
    return archive


def _plan_written_later(source, before) -> int:
    """Complete the newest activity's first step with a document the backup does not hold; its id."""
    later = before["instances"][-1]["id"]
    task = open_row(source, later)
    services.claim(source, task.id, "aptika.implementasi")
    services.complete(source, task.id, "aptika.implementasi",
                      {"rencana_kegiatan": "Nanti", "tanggal_mulai": "2026-03-02",
                       "tanggal_selesai": "2026-03-31"}, files={"dokumen_rencana": LATER_PLAN})
    return later


@contextmanager
def _written_after_backup(kind: str, tmp_path, monkeypatch):
    """An office backed up to `alur.tar.gz` and then written to: (runtime, archive, its contents now)."""
    source = office(kind, tmp_path / "source")
    try:
        populate(source)
        good = tmp_path / "alur.tar.gz"
        _cli(monkeypatch, source, ["backup", str(good)])
        services.start(source, KEY, "aptika", "Ditulis sesudah cadangan", "aptika.implementasi")
        yield source, good, contents(source)
    finally:
        source.dispose()


def test_a_forced_restore_of_a_damaged_archive_leaves_the_database_as_it_was(tmp_path, monkeypatch):
    """--force dropped every table first and found the damage after: neither the old database nor the backup."""
    with _written_after_backup("sqlite", tmp_path, monkeypatch) as (source, good, before):
        cases = (("files/", lambda data: data[:-1] + b"X", "rusak"),
                 ("tables/event.jsonl", lambda data: data[: len(data) // 2], "cadangan rusak"),
                 ("tables/task.jsonl", lambda data: data.split(b"\n", 1)[1], "baris"))
        for number, (member, change, message) in enumerate(cases):
            damaged = tmp_path / f"damaged-{number}.tar.gz"
            _damaged(good, damaged, member, change)
            result = _invoke(monkeypatch, source, ["restore", "--force", str(damaged)])
            assert result.exit_code == 1 and message in result.output, (member, result.output)
            assert contents(source) == before, member
        assert audit.verify(source).ok


@pytest.mark.parametrize("kind", [pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_forced_restore_that_fails_while_loading_puts_the_database_back(kind, tmp_path, monkeypatch):
    """Rows that read well but that the database refuses (a task of an instance that is not in the
    archive) are found only while loading, after the old tables were dropped."""
    with _written_after_backup(kind, tmp_path, monkeypatch) as (source, good, before):
        orphan = tmp_path / "orphan.tar.gz"
        _damaged(good, orphan, "tables/task.jsonl",
                 lambda data: data.replace(b'"instance_id": 1,', b'"instance_id": 999,'))
        result = _invoke(monkeypatch, source, ["restore", "--force", str(orphan)])
        assert result.exit_code == 1, result.output
        assert "tidak dapat dimuat" in result.output and "dikembalikan" in result.output
        assert contents(source) == before
        assert audit.verify(source).ok
        [previous] = (source.settings.data_dir / "cadangan").glob("sebelum-pemulihan-*.tar.gz")
        assert str(previous) in result.output  # the copy it was put back from is kept, and named
        services.start(source, KEY, "aptika", "Masih berjalan", "aptika.implementasi")  # ids and sequences fine


def test_a_restore_that_fails_while_loading_leaves_the_document_files_as_they_were(tmp_path, monkeypatch):
    """The failed archive's documents stayed under files/ beside the put-back database's (or in the
    data directory of a database left empty), though no row names them."""
    with _written_after_backup("sqlite", tmp_path, monkeypatch) as (source, good, before):
        later = _plan_written_later(source, before)
        newer = tmp_path / "newer.tar.gz"
        _cli(monkeypatch, source, ["backup", str(newer)])
        _cli(monkeypatch, source, ["restore", "--force", str(good)])  # only PLAN's file under files/ now
        orphan = tmp_path / "orphan.tar.gz"
        _damaged(newer, orphan, "tables/task.jsonl",
                 lambda data: data.replace(b'"instance_id": 1,', b'"instance_id": 999,'))
        files = source.settings.data_dir / "files"
        stored = sorted(p.relative_to(files) for p in files.rglob("*") if p.is_file())
        restored = contents(source)
        result = _invoke(monkeypatch, source, ["restore", "--force", str(orphan)])
        assert result.exit_code == 1 and "dikembalikan" in result.output, result.output
        assert sorted(p.relative_to(files) for p in files.rglob("*") if p.is_file()) == stored
        assert contents(source) == restored
    empty = office("sqlite", tmp_path / "empty")
    try:
        result = _invoke(monkeypatch, empty, ["restore", str(orphan)])
        assert result.exit_code == 1 and "tetap kosong" in result.output, result.output
        assert not [p for p in (empty.settings.data_dir / "files").rglob("*") if p.is_file()]
    finally:
        empty.dispose()


def _invoke(monkeypatch, rt, args):
    monkeypatch.setenv("ALUR_DATABASE_URL", rt.settings.database_url)
    monkeypatch.setenv("ALUR_DATA_DIR", str(rt.settings.data_dir))
    return CliRunner().invoke(main, args)


def _cli(monkeypatch, rt, args) -> str:
    result = _invoke(monkeypatch, rt, args)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("kind", [pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_forced_restore_goes_ahead_when_the_replaced_database_has_lost_document_files(kind, tmp_path, monkeypatch):
    """Lost files are what a restore is for: the copy of the database it replaces is made without
    them (naming them), instead of refusing the restore."""
    with _written_after_backup(kind, tmp_path, monkeypatch) as (source, good, before):
        [lost] = [r["sha256"] for r in before["documents"]]
        documents.file_path(source, lost).unlink()
        orphan = tmp_path / "orphan.tar.gz"
        _damaged(good, orphan, "tables/task.jsonl",
                 lambda data: data.replace(b'"instance_id": 1,', b'"instance_id": 999,'))
        result = _invoke(monkeypatch, source, ["restore", "--force", str(orphan)])
        assert result.exit_code == 1 and "dikembalikan" in result.output, result.output
        assert contents(source) == before  # put back from a copy made without the lost file
        [first] = (source.settings.data_dir / "cadangan").glob("sebelum-pemulihan-*.tar.gz")
        with tarfile.open(first) as kept:
            assert json.load(kept.extractfile("manifest.json"))["missing_documents"] == [lost]
        documents.file_path(source, lost).unlink()  # the failed load had copied it in
        _cli(monkeypatch, source, ["restore", "--force", str(good)])
        assert documents.file_path(source, lost).read_bytes() == PLAN[1]
        assert audit.verify(source).ok


def test_a_forced_restore_interrupted_while_loading_puts_the_database_back(tmp_path, monkeypatch):
    """Ctrl-C during a long load (the operator thinking it hung) left an empty database and said only
    "Aborted!", not where the copy of the old one was."""
    from engine import backup as backups
    with _written_after_backup("sqlite", tmp_path, monkeypatch) as (source, good, before):
        real = backups._load_table
        calls = []

        def interrupted(conn, table, lines):
            calls.append(table.name)
            if table.name == "task" and calls.count("task") == 1:  # the new archive's, not the put-back's
                raise KeyboardInterrupt
            return real(conn, table, lines)
        monkeypatch.setattr(backups, "_load_table", interrupted)
        result = _invoke(monkeypatch, source, ["restore", "--force", str(good)])
        assert result.exit_code == 1, result.output
        [previous] = (source.settings.data_dir / "cadangan").glob("sebelum-pemulihan-*.tar.gz")
        assert "dihentikan" in result.output and str(previous) in result.output
        assert contents(source) == before


def test_a_put_back_that_fails_too_names_the_copy_to_restore_by_hand(tmp_path, monkeypatch):
    from engine import backup as backups
    with _written_after_backup("sqlite", tmp_path, monkeypatch) as (source, good, before):
        def refused(conn, table, lines):
            raise RuntimeError("disk penuh")
        monkeypatch.setattr(backups, "_load_table", refused)
        result = _invoke(monkeypatch, source, ["restore", "--force", str(good)])
        assert result.exit_code == 1, result.output
        [previous] = (source.settings.data_dir / "cadangan").glob("sebelum-pemulihan-*.tar.gz")
        assert "disk penuh" in result.output and f"alur restore --force {previous}" in result.output
        monkeypatch.undo()
        _cli(monkeypatch, source, ["restore", "--force", str(previous)])
        assert contents(source) == before


@pytest.mark.parametrize("kind", [pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_document_file_damaged_on_disk_stops_the_backup_instead_of_making_it_unrestorable(kind, tmp_path,
                                                                                            monkeypatch):
    """The archive used to take the damaged bytes, and every restore of it was then refused
    (hash mismatch): a backup that cannot be restored, found out only on the day it is needed."""
    with _written_after_backup(kind, tmp_path, monkeypatch) as (source, good, before):
        [damaged] = [r["sha256"] for r in before["documents"]]
        documents.file_path(source, damaged).write_bytes(b"%PDF-1.4 rusak")
        archive = tmp_path / "tonight.tar.gz"
        result = _invoke(monkeypatch, source, ["backup", str(archive)])
        assert result.exit_code == 1 and damaged in result.output and "rusak" in result.output, result.output
        assert not archive.exists() and not list(tmp_path.glob("tonight.tar.gz*"))
        # A forced restore still goes ahead: its copy of the replaced database leaves the file out, named.
        _cli(monkeypatch, source, ["restore", "--force", str(good)])
        [previous] = (source.settings.data_dir / "cadangan").glob("sebelum-pemulihan-*.tar.gz")
        with tarfile.open(previous) as kept:
            assert json.load(kept.extractfile("manifest.json"))["missing_documents"] == [damaged]


def test_a_restore_replaces_a_document_file_damaged_on_disk_with_the_archives_bytes(tmp_path, monkeypatch):
    """The restore kept whatever file was already stored under the hash: the good bytes in the
    archive were dropped and the damaged ones stayed."""
    with _written_after_backup("sqlite", tmp_path, monkeypatch) as (source, good, before):
        [damaged] = [r["sha256"] for r in before["documents"]]
        documents.file_path(source, damaged).write_bytes(b"%PDF-1.4 rusak")
        _cli(monkeypatch, source, ["restore", "--force", str(good)])
        assert documents.file_path(source, damaged).read_bytes() == PLAN[1]
