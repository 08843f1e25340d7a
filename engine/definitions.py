"""Deployed definitions: reading a version, and editing the SOP's header sheet (kop).

Saving the header deploys a NEW version through the ordinary deploy path
(`services.deploy`): the YAML of the newest version with only its `sop:`
section written anew, loaded and validated by `process.loader.load`. Running
instances stay on the version they started with.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import undefer

from engine import services
from engine.db import DefinitionVersion
from engine.editor import may_edit
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.runtime import Runtime
from process import sop_document
from process.definition import Definition
from process.forms import IMPLAUSIBLE_YEAR, plausible_year
from process.loader import HEADER_KEYS, DefinitionError, load
from process.user_yaml import user_yaml
from process.messages import Text
from process.plain_text import printable, printable_lines
from process.yaml_blocks import replace_block

HEADER_TEXTS = ("nomor", "judul_pencatatan")
HEADER_DATES = ("tanggal_pembuatan", "tanggal_revisi", "tanggal_efektif")
HEADER_LISTS = ("dasar_hukum", "kualifikasi_pelaksana", "keterkaitan", "peralatan_perlengkapan",
                "peringatan", "pencatatan_pendataan")
SIGNER_KEYS = ("jabatan", "nama", "pangkat", "nip")
MAX_HEADER_TEXT, MAX_HEADER_ITEMS = 1000, 60
_BULLET = re.compile(r"^(?:[-•*]|\d{1,3}[.)])\s+")


@dataclass(frozen=True)
class Version:
    key: str
    version: int
    latest: int                       # the newest version of the key
    deployed_at: datetime
    deployed_by: str | None
    definition: Definition


def get_version(rt: Runtime, key: str, version: int | None = None) -> Version:
    """A deployed version (the newest without `version`) with its loaded Definition."""
    with rt.uow() as session:
        latest = session.scalar(select(func.max(DefinitionVersion.version)).where(DefinitionVersion.key == key))
        number = latest if version is None else version
        row = session.scalars(select(DefinitionVersion).where(
            DefinitionVersion.key == key, DefinitionVersion.version == number)).first() if number else None
        if row is None:
            raise NotFound(Text("SOP %(key)r versi %(version)s tidak ditemukan", key=key, version=version) if version
                           else Text("SOP %(key)r tidak ditemukan", key=key))
        return Version(key, row.version, latest, row.deployed_at, row.deployed_by, rt.definition(row)[0])


def revision_behind(rt: Runtime, found: Version) -> Version | None:
    """The version that last changed the SOP's table (steps, performers, standard times, flow), when the
    header's Tanggal Revisi has not changed since and is older than that day: printed, `found` would claim
    the revision date of a procedure it no longer shows. None when the revision date followed the change,
    or the table is the first version's.

    Read on every view of the SOP page: an older version is built as a document only when its diagram or
    steps differ as text from the newer one's (a header edit changes neither)."""
    with rt.uow() as session:
        older_rows = session.scalars(select(DefinitionVersion).where(
            DefinitionVersion.key == found.key, DefinitionVersion.version < found.version)
            .order_by(DefinitionVersion.version.desc())
            .options(undefer(DefinitionVersion.bpmn_xml), undefer(DefinitionVersion.yaml_text))).all()
    revised, procedure, table = found.definition.header.get("tanggal_revisi"), _procedure(found.definition), None
    changed_in = found.version
    for row in older_rows:
        if _procedure(row) != procedure:
            older = rt.definition(row)[0]
            table = table or _table(rt, found.definition)
            if _table(rt, older) != table:
                since = get_version(rt, found.key, changed_in)
                kept = older.header.get("tanggal_revisi") == revised
                return since if kept and not _dated_since(rt, revised, since) else None
            procedure = _procedure(row)
        changed_in = row.version
    return None


def _procedure(version: Definition | DefinitionVersion) -> tuple[str, str]:
    """A version's texts without its header sheet: two versions alike here print the same table."""
    return version.bpmn_xml, replace_block(version.yaml_text, "sop", "")


def _table(rt: Runtime, definition: Definition) -> tuple:
    return sop_document.table_content(sop_document.build(definition, rt.calendar.rule()))


def _dated_since(rt: Runtime, revised: Any, version: Version) -> bool:
    """A revision date on or after the day `version` was deployed (as the office's clock reads it)."""
    day = _date(revised)
    return isinstance(day, date) and day >= version.deployed_at.astimezone(rt.calendar.tz).date()


def update_header(rt: Runtime, key: str, header: dict[str, Any], actor: str,
                  expected_version: int | None = None) -> services.Deployed:
    """Deploy a new version of `key` whose header sheet is `header`.

    `header` has the loader's header keys (dates as "YYYY-MM-DD" or `date`,
    lists as lists or one item per line, `disahkan_oleh` as a mapping of
    jabatan/nama/pangkat/nip); empty fields are left out. With
    `expected_version`, a newer version deployed meanwhile is a Conflict
    rather than silently overwritten. An unchanged header deploys nothing.
    """
    clean = clean_header(header)
    with rt.uow() as session:
        account = services.user(session, actor)
        if not may_edit(account.role_names):
            raise Forbidden(Text("%(actor)s tidak berwenang mengubah kop SOP (khusus pemilik proses dan administrator)",
                                 actor=actor))
    current = get_version(rt, key)
    if expected_version is not None and current.version != expected_version:
        raise Conflict(Text("SOP %(key)r sudah diubah menjadi versi %(version)s; muat ulang dan coba lagi",
                            key=key, version=current.version))
    old = current.definition
    yaml_text = replace_sop_section(old.yaml_text, clean)
    try:
        definition = load(old.bpmn_xml, yaml_text, bpmn_name=f"{key}@v{current.version + 1}",
                          yaml_name=f"{key}@v{current.version + 1}.yaml")
    except DefinitionError as err:
        raise InvalidData(Text("kop SOP tidak dapat disimpan: %(err)s", err=err)) from err
    # Built on `current`: a version deployed since (a diagram change, another header edit) is a
    # Conflict in the deploy's own transaction, not overwritten.
    return services.deploy(rt, definition, actor, based_on=current.version)


def clean_header(header: dict[str, Any]) -> dict[str, Any]:
    """The header as it is written to YAML, in the loader's key order; InvalidData names each bad field."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for key in header:
        if key not in HEADER_KEYS:
            errors[key] = Text("bukan isian kop SOP")
    for key in HEADER_KEYS:
        value = header.get(key)
        if key in HEADER_DATES:
            parsed = _date(value)
            if parsed is False:
                errors[key] = Text("tanggal tidak valid (TTTT-BB-HH)")
            elif parsed is not None and not plausible_year(parsed):  # a mistyped 0202 on the official sheet
                errors[key] = IMPLAUSIBLE_YEAR
            elif parsed is not None:
                clean[key] = parsed
        elif key in HEADER_LISTS:
            items = _items(value)
            if len(items) > MAX_HEADER_ITEMS:
                errors[key] = Text("paling banyak %(n)d butir", n=MAX_HEADER_ITEMS)
            elif any(len(item) > MAX_HEADER_TEXT for item in items):
                errors[key] = Text("satu butir paling panjang %(n)d karakter", n=MAX_HEADER_TEXT)
            elif items:
                clean[key] = items
        elif key == "disahkan_oleh":
            signer = value if isinstance(value, dict) else {"jabatan": value}
            parts = {k: _one_line(signer.get(k)) for k in SIGNER_KEYS}
            for k, text in parts.items():
                if len(text) > MAX_HEADER_TEXT:
                    errors[f"disahkan_oleh.{k}"] = Text("terlalu panjang")
            if parts["nip"] and not re.fullmatch(r"[0-9 ]+", parts["nip"]):
                errors["disahkan_oleh.nip"] = Text("NIP hanya berisi angka")
            parts["nip"] = parts["nip"].replace(" ", "")
            if any(parts.values()):
                clean[key] = {k: v for k, v in parts.items() if v}
        else:
            text = _one_line(value)
            if len(text) > MAX_HEADER_TEXT:
                errors[key] = Text("terlalu panjang")
            elif text:
                clean[key] = text
    for key, message in sop_document.header_date_problems(clean).items():
        errors.setdefault(key, message)
    if errors:
        raise InvalidData(Text("kop SOP belum benar"), errors)
    return clean


def replace_sop_section(yaml_text: str, header: dict[str, Any]) -> str:
    """The YAML with its top-level `sop:` block written anew; comments, `counting` and `steps` stay as written."""
    block = yaml.safe_dump({"sop": header}, allow_unicode=True, sort_keys=False, default_flow_style=False,
                           width=10_000) if header else "sop: {}\n"
    text = yaml_text or ""
    result = replace_block(text, "sop", block)
    if not _same_except_sop(text, result, header):
        # The text splice did not give the intended data (an unusual layout):
        # write the whole file from its data instead, losing its comments.
        data = user_yaml(text) if text.strip() else {}
        data = {"sop": header, **{k: v for k, v in (data or {}).items() if k != "sop"}}
        result = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False, width=10_000)
    return result


def _same_except_sop(before: str, after: str, header: dict[str, Any]) -> bool:
    try:
        old = user_yaml(before) if before.strip() else {}
        new = user_yaml(after)
    except yaml.YAMLError:
        return False
    if not isinstance(new, dict) or not isinstance(old or {}, dict):
        return False
    rest = {k: v for k, v in (old or {}).items() if k != "sop"}
    return new.get("sop") == (header or {}) and {k: v for k, v in new.items() if k != "sop"} == rest


def _one_line(value: Any) -> str:
    """Typed text on one line, cleaned as the import cleans a table's cells (a pasted terminal escape)."""
    return "" if value is None else " ".join(printable(str(value)).split())


def _items(value: Any) -> list[str]:
    raw = value if isinstance(value, (list, tuple)) else printable_lines(str(value or ""))
    items = (_BULLET.sub("", _one_line(item)) for item in raw)
    return [item for item in items if item]


def _date(value: Any) -> date | None | bool:
    """A date, None when empty, False when it cannot be read."""
    if isinstance(value, date):
        return value
    text = _one_line(value)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return False
