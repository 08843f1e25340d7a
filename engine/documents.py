"""Documents attached to a step: bytes on disk under their SHA-256, a row in SQL."""
from __future__ import annotations

import hashlib
import math
import mimetypes
import os
import tempfile
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import filetype
from sqlalchemy.orm import Session

from engine.db import Document, Instance, TaskRow
from engine.errors import InvalidData, TooLarge
from process.forms import Form
from process.messages import Text
from process.numbers import whole_number


@dataclass(frozen=True)
class Upload:
    """A file sent for a step's file field: its name and bytes. Their SHA-256 is computed once, when
    first read, for both a retry key's request hash and storage (tens of milliseconds for 20 MB)."""
    name: str
    content: bytes

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


Sent = Path | tuple[str, bytes] | Upload  # a file on disk (the command line), or a name and bytes


def uploads(files: dict[str, Sent] | None) -> dict[str, Path | Upload]:
    """The files sent, each name and bytes as an Upload (one hash however often it is read)."""
    return {field: Upload(*source) if isinstance(source, tuple) else source for field, source in (files or {}).items()}


def store_all(rt, session: Session, instance: Instance, row: TaskRow, form: Form,
              files: dict[str, Path | Upload], login: str) -> tuple[dict[str, str], list[Pending]]:
    """Add a document row for each uploaded file; return the form values (document ids) for them,
    and the bytes still to write with `write` once the rest of the step is known to be valid
    (so a refused step leaves no file behind)."""
    file_fields = {f.name for f in form.fields if f.type == "file"}
    values: dict[str, str] = {}
    pending: list[Pending] = []
    refused: list[InvalidData | TooLarge] = []  # every file is checked: one answer names each one refused
    for field, source in files.items():
        try:
            filename, upload, content_type = _checked(rt, field, source, file_fields)
        except (InvalidData, TooLarge) as err:
            refused.append(err)
            continue
        pending.append((upload.sha256, upload.content))
        document = Document(
            sha256=upload.sha256, filename=filename, size=len(upload.content),
            content_type=content_type,
            instance_id=instance.id, task_id=row.id, field=field, uploaded_by=login, uploaded_at=rt.now(),
        )
        session.add(document)
        session.flush()
        values[field] = str(document.id)
    if refused:  # with the fields of them all; 413 when a file is too large, wherever it was in the request
        first = next((err for err in refused if isinstance(err, TooLarge)), refused[0])
        raise type(first)(first.message, {k: v for err in refused for k, v in err.errors.items()})
    return values, pending


def _checked(rt, field: str, source: Path | Upload, file_fields: set[str]) -> tuple[str, Upload, str]:
    """A file sent for `field`: its name, bytes and type, or the refusal with the message at its field."""
    if field not in file_fields:
        raise InvalidData(Text("langkah ini tidak punya isian berkas %(field)r",
                               field=field), {field: Text("bukan isian berkas")})
    try:
        filename, upload = _read(source, rt.settings.max_upload_bytes)
    except TooLarge as err:
        raise TooLarge(err.message, {field: err.message}) from None  # the form shows it at its field
    except InvalidData as err:  # a name refused (checked_name): at its field too, not under "_"
        raise InvalidData(err.message, {field: next(iter(err.errors.values()), err.message)}) from None
    try:
        return filename, upload, sniff(filename, upload.content)
    except ValueError as err:
        raise InvalidData(Text("berkas %(name)s ditolak", name=filename), {field: err.args[0]}) from None


Pending = tuple[str, bytes]  # (sha256, content)


def write(rt, pending: list[Pending]) -> None:
    """Put the files of `store_all` on disk: before the commit, so a committed row always has its file."""
    for digest, content in pending:
        write_file(rt, digest, content)


def check_references(session: Session, instance: Instance, form: Form, data: dict) -> None:
    """A file field given as a value must name a document of this instance."""
    errors = {}
    for field in (f for f in form.fields if f.type == "file" and data.get(f.name) not in (None, "")):
        number = whole_number(str(data[field.name]))  # "²" and ids past the column are no document
        document = session.get(Document, number) if number is not None else None
        if document is None or document.instance_id != instance.id:
            errors[field.name] = Text("dokumen tidak ditemukan pada kegiatan ini; unggah berkasnya")
    if errors:
        raise InvalidData(Text("berkas tidak valid"), errors)


# What an office attaches: documents, spreadsheets, scans and photos, text.
ALLOWED = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    # Office Open XML and OpenDocument files are ZIP archives underneath.
    "application/zip": (".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".zip"),
    "text/plain": (".txt", ".csv", ".md"),
}


def sniff(filename: str, content: bytes) -> str:
    """The file's type from its bytes; refuse types the office does not attach, or a lying name."""
    if not content:
        raise ValueError(Text("berkas kosong"))
    kind = filetype.guess(content[:8192])
    mime = kind.mime if kind else ("text/plain" if _is_text(content) else None)
    if mime in ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
                "application/vnd.oasis.opendocument.presentation"):
        mime = "application/zip"
    suffix = Path(filename).suffix.lower()
    if mime not in ALLOWED:
        raise ValueError(Text("jenis berkas tidak diizinkan (PDF, gambar, dokumen kantor atau teks)"))
    if suffix not in ALLOWED[mime]:
        raise ValueError(Text("isi berkas tidak sesuai dengan ekstensi namanya"))
    return mimetypes.guess_type(filename)[0] or mime


def _is_text(content: bytes) -> bool:
    if b"\0" in content[:8192]:
        return False
    try:
        content[:8192].decode("utf-8")
    except UnicodeDecodeError as err:
        return err.start >= 8188  # a multi-byte character cut at the sample's end
    return True


def path_of(rt, document: Document) -> Path:
    return file_path(rt, document.sha256)


def file_path(rt, digest: str) -> Path:
    return rt.settings.data_dir / "files" / digest[:2] / digest


def _read(source: Path | Upload, limit: int) -> tuple[str, Upload]:
    if not isinstance(source, Upload):
        path = Path(source)
        if not path.is_file():
            raise InvalidData(Text("berkas %(path)r tidak ditemukan", path=str(path)))
        if path.stat().st_size > limit:
            raise TooLarge(Text("berkas %(name)s lebih besar dari %(limit)s", name=path.name, limit=size_text(limit)))
        source = Upload(path.name, path.read_bytes())
    if len(source.content) > limit:
        raise TooLarge(Text("berkas %(name)s lebih besar dari %(limit)s", name=source.name, limit=size_text(limit)))
    return checked_name(source.name), source


def size_text(n: int) -> str:
    """A size as the office reads it (a 4 KB limit is not "0 MB"), rounded down to a tenth: a limit
    is never shown as more than it is (1.5 MB, not 2 MB)."""
    for unit, size in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= size:
            return f"{math.floor(n * 10 / size) / 10:g} {unit}"
    return f"{n} byte"


def checked_name(filename: str) -> str:
    """The name a client gave its file, refused if it names a folder or holds control characters.

    The name is only ever shown and offered back on download (files are stored
    under their checksum), but a name like "../../x.pdf" or "a\\0.pdf" is not
    something a browser sends: it is refused, not quietly repaired.
    """
    name = (filename or "").strip()
    if not name or name in (".", "..") or any(sep in name for sep in "/\\") or _hidden_characters(name) \
            or len(name) > 255:
        raise InvalidData(Text("nama berkas %(name)r tidak valid", name=name),
                          {"_": Text("nama berkas tanpa folder, tanpa karakter kendali, paling panjang 255 karakter")})
    return name


# The bidirectional controls: "laporan\u202efdp.pdf" shows as "laporanpdf.pdf", its real extension hidden.
# (Not every format character: the zero-width joiner builds emoji and some scripts' letters.)
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _hidden_characters(name: str) -> bool:
    """Control characters, lone surrogates and bidirectional controls."""
    return any(c in _BIDI_CONTROLS or unicodedata.category(c) in ("Cc", "Cs") for c in name)


def write_file(rt, digest: str, content: bytes) -> None:
    """Store bytes under their SHA-256 (the caller computed it), unless they are there already."""
    target = file_path(rt, digest)
    if target.exists():
        return  # same bytes already stored
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename, so a reader never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=target.parent)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    os.replace(tmp, target)
