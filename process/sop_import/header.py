"""The SOP's header sheet (kop SOP): the labelled fields above the table.

Sources write it differently: "Nomor SOP : 000.8.3.3/327" on one line, a
label on its own line with a list below it, or two labels side by side
("Keterkaitan | Peralatan dan perlengkapan") with both values on the next
line, sometimes still as HTML list markup. Lists become lists of items
without their numbering; dates become dates when they can be read.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from process.plain_text import printable_lines

Cells = list[str]

LABELS = {
    "nomor sop": "nomor", "no. sop": "nomor", "nomor": "nomor",
    "tanggal pembuatan": "tanggal_pembuatan", "tanggal revisi": "tanggal_revisi",
    "tanggal efektif": "tanggal_efektif", "disahkan oleh": "disahkan_oleh", "nama sop": "nama",
    "dasar hukum": "dasar_hukum", "kualifikasi pelaksana": "kualifikasi_pelaksana", "keterkaitan": "keterkaitan",
    "peralatan dan perlengkapan": "peralatan_perlengkapan", "peralatan/perlengkapan": "peralatan_perlengkapan",
    "peralatan perlengkapan": "peralatan_perlengkapan", "peringatan": "peringatan",
    "pencatatan dan pendataan": "pencatatan_pendataan", "pencatatan/pendataan": "pencatatan_pendataan",
    "pengumpulan dan input data": "pencatatan_pendataan",
}
# The records field's national titles; another (the seed's "Pengumpulan dan Input Data") is kept as its own.
NATIONAL_RECORDS_TITLES = ("pencatatan dan pendataan", "pencatatan/pendataan")
LISTS = ("dasar_hukum", "kualifikasi_pelaksana", "keterkaitan", "peralatan_perlengkapan", "peringatan",
         "pencatatan_pendataan")
DATES = ("tanggal_pembuatan", "tanggal_revisi", "tanggal_efektif")
MONTHS = {name: i for i, name in enumerate(
    ("januari", "februari", "maret", "april", "mei", "juni", "juli", "agustus", "september", "oktober",
     "november", "desember"), start=1)}
MONTHS.update({"agu": 8, "agt": 8, "okt": 10, "des": 12, "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6,
               "jul": 7, "sep": 9, "nov": 11})
_PANGKAT = re.compile(
    r"(?P<pangkat>(?:Pembina Utama(?: Madya| Muda)?|Pembina(?: Tingkat I| Tk\.? ?I)?|"
    r"Penata(?: Muda)?(?: Tingkat I| Tk\.? ?I)?|Pengatur(?: Muda)?(?: Tingkat I| Tk\.? ?I)?|"
    r"Juru(?: Muda)?(?: Tingkat I| Tk\.? ?I)?))\s*$", re.IGNORECASE)
_NIP = re.compile(r"\bNIP\.?\s*:?\s*(?P<nip>[\d ]{8,})\s*$", re.IGNORECASE)


def _label(cell: str) -> str | None:
    return LABELS.get(_label_text(cell).lower())


def _label_text(cell: str) -> str:
    return " ".join(cell.replace("*", "").split()).strip().rstrip(":").strip()


def _records_title(cells: list[str]) -> str | None:
    """The records field's title among a line's labels, when the SOP writes it otherwise than nationally."""
    titles = [_label_text(c) for c in cells if _label(c) == "pencatatan_pendataan"]
    return next((t for t in titles if t.lower() not in NATIONAL_RECORDS_TITLES), None)


def read_header(lines: list[tuple[str, Cells]]) -> dict[str, Any]:
    """The header sheet's fields from the lines above the table (unknown lines are ignored)."""
    raw: dict[str, list[str]] = {}
    instansi: list[str] = []
    current: list[str] = []          # the field(s) the following lines continue
    for _, cells in lines:
        values = [c.strip() for c in cells]
        filled = [v for v in values if v]
        if not filled:
            continue
        keys = [_label(v) for v in filled]
        if keys[0] or all(keys):
            title = _records_title(filled)
            if title:
                raw["judul_pencatatan"] = [title]
        if len(filled) >= 2 and all(keys):
            current = keys               # labels side by side; their values follow, column by column
            for key in keys:
                raw.setdefault(key, [])
            continue
        if keys[0]:
            key = keys[0]
            rest = " ".join(filled[1:]).lstrip(":").strip()
            raw.setdefault(key, [])
            if rest:
                raw[key].append(rest)
            current = [key]
            continue
        if not raw and not current:
            instansi.extend(v.replace("*", "").strip() for v in filled)
            continue
        if len(current) > 1:
            for key, value in zip(current, filled):
                raw[key].append(value)
        elif current:
            raw[current[0]].append("  ".join(filled))
    header = {key: _value(key, parts) for key, parts in raw.items()}
    if instansi:
        header["instansi"] = [line for line in instansi if line]
    return {k: v for k, v in header.items() if v not in ("", [], None)}


def _value(key: str, parts: list[str]) -> Any:
    if key in LISTS:
        return items("\n".join(parts))
    text = " ".join(" ".join(parts).split())
    if key in DATES:
        return read_date(text)
    if key == "disahkan_oleh":
        return signer("  ".join(p.strip() for p in parts))
    return text


def read_date(text: str) -> date | str:
    """'21 Mei 2025', '2025-05-21' or '21/05/2025' as a date; anything else as written."""
    text = text.strip()
    match = re.fullmatch(r"(\d{1,2})\s+([A-Za-z]+)\.?\s+(\d{4})", text)
    try:
        if match and match[2].lower() in MONTHS:
            return date(int(match[3]), MONTHS[match[2].lower()], int(match[1]))
        match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
        return date.fromisoformat(text)
    except ValueError:
        return text


def signer(text: str) -> dict[str, str] | str:
    """'Kepala Dinas …  Drs. NAME, M.Si. Pembina Utama Muda NIP. 1967…' as jabatan, nama, pangkat, nip."""
    rest = text.strip()
    nip = _NIP.search(rest)
    if nip is None:
        return " ".join(rest.split())
    result = {"nip": nip["nip"].replace(" ", "")}
    rest = rest[:nip.start()].rstrip()
    pangkat = _PANGKAT.search(rest)
    if pangkat:
        result["pangkat"] = pangkat["pangkat"]
        rest = rest[:pangkat.start()].rstrip()
    # The office's title and the person's name are separated by a wider gap
    # (a line break in the PDF); without one, the name cannot be told apart.
    parts = [p.strip() for p in re.split(r"\s{2,}|\n", rest, maxsplit=1) if p.strip()]
    result["jabatan"] = " ".join(parts[0].split()) if parts else ""
    if len(parts) > 1:
        result["nama"] = " ".join(parts[1].split())
    return {k: result[k] for k in ("jabatan", "nama", "pangkat", "nip") if k in result}


_TAG = re.compile(r"<(/?)(\w+)[^>]*>")


def items(text: str) -> list[str]:
    """A list as written ('1. A 2. B', '- A - B', one per line, HTML <li>) as its items, unnumbered."""
    text = _TAG.sub(lambda m: "" if m[2].lower() in ("i", "em", "b", "strong", "u") else "\n", text)
    lines = [line.strip() for line in printable_lines(text) if line.strip()]
    text = "\n".join(re.sub(r"^[-•*]\s+", "", line) for line in lines)
    pieces = _numbered(text)
    if pieces is None:
        pieces = [p for line in printable_lines(text) for p in re.split(r"\s+[-•]\s+", line)]
    return [cleaned for cleaned in (_clean_item(p) for p in pieces) if cleaned]


def _numbered(text: str) -> list[str] | None:
    """Split on the numbers 1, 2, 3, ... in order; None when the text is not numbered from 1."""
    starts, position, n = [], 0, 1
    while True:
        match = re.compile(rf"(?:^|(?<=\s)){n}[.)]?\s+(?=\S)").search(text, position)
        if match is None:
            break
        starts.append((match.start(), match.end()))
        position, n = match.end(), n + 1
    if len(starts) < 2 or starts[0][0] != 0:
        return None
    return [text[begin:(starts[i + 1][0] if i + 1 < len(starts) else len(text))]
            for i, (_, begin) in enumerate(starts)]


def _clean_item(text: str) -> str:
    text = " ".join(text.split())
    return re.sub(r"\s*[;,.]$", "", text).strip() if not text.endswith(("M.Si.", "S.H.")) else text
