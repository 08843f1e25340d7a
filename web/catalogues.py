"""The message catalogues (web/translations): compiled on start, and readable without Flask.

The CLI and the scheduler write alert mail in the recipient's language
through `catalogue`, which they give the Runtime; importing Flask for that
would slow every CLI command, and Babel is imported only when a catalogue is
compiled or read.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from babel.support import Translations

TRANSLATIONS = Path(__file__).parent / "translations"
LANGUAGES = ("id", "en")


def compile_catalogs() -> None:
    """Compile each .po to .mo when it is newer, so no build output is committed. An installed wheel has
    no .po: it carries the .mo compiled when it was built (setup.py), as its folder may be read-only."""
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        compile_catalog(po, mo)


def compile_catalog(po: Path, mo: Path) -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as handle:
        catalog = read_po(handle)
    tmp = mo.with_suffix(f".mo.{os.getpid()}.tmp")  # gunicorn's master and the scheduler may both compile
    with tmp.open("wb") as handle:
        write_mo(handle, catalog)
    tmp.replace(mo)


@functools.lru_cache(maxsize=None)
def catalogue(language: str) -> Translations:
    """A language's catalogue outside a request, for the mail the scheduler writes (`Runtime.catalogue`)."""
    from babel.support import Translations

    compile_catalogs()
    return Translations.load(str(TRANSLATIONS), [language])
