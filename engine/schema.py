"""Creating and upgrading the database schema through Alembic.

Alembic (with Mako and Pygments under it) is imported only where a migration runs or the list of
migrations is read: every `alur` command imports this module, and most of them need neither.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from engine.errors import InvalidData

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"  # Alembic's default, where it keeps the revision
# Alembic's plugins each announce themselves at INFO when it is imported, which (imported only where
# needed) can be after the scheduler set up its log: seven lines of no news, before a refusal's one line.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


class OtherSchema(InvalidData):
    """The database is of another Alur's schema (newer, or not yet upgraded): refused, not waited for."""


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        refuse_newer(engine, current_revision(connection))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def current_revision(connection: Connection) -> str | None:
    """The revision the database was last upgraded to (None: never prepared).

    Read with a query of our own: Alembic's MigrationContext logs two INFO lines each time it is
    made, and a scheduler waiting for `alur init` reads the revision every pass."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def head_revision(engine: Engine) -> str:
    """The schema revision this Alur's migrations end at."""
    return _scripts(engine).get_current_head()


def is_known(engine: Engine, revision: str) -> bool:
    """Whether `revision` is one of this Alur's migrations; if not, a newer Alur wrote it."""
    return any(script.revision == revision for script in _scripts(engine).walk_revisions())


def refuse_newer(engine: Engine, revision: str | None) -> None:
    """A database a newer Alur upgraded (its code put back since): no migration of this one leads on
    from it, and this code does not know its tables."""
    if revision is not None and not is_known(engine, revision):
        raise OtherSchema(f"basis data ini skema {revision}, lebih baru dari Alur ini (skema "
                          f"{head_revision(engine)}): jalankan versi Alur yang meningkatkannya, atau pulihkan "
                          "dengan Alur ini cadangan yang dibuat sebelum peningkatan")


def refuse_other(engine: Engine, revision: str | None) -> None:
    """A database this Alur cannot run on: newer, never prepared, or not yet upgraded by `alur init`
    (its code may expect tables the database does not have)."""
    refuse_newer(engine, revision)
    head = head_revision(engine)
    if revision != head:
        refusal = InvalidData if revision is None else OtherSchema  # never prepared: `alur init` prepares it
        raise refusal(f"basis data ALUR_DATABASE_URL belum disiapkan atau skemanya bukan skema Alur ini "
                          f"({revision or 'kosong'}, seharusnya {head}): jalankan `alur init` dahulu")


def _scripts(engine: Engine) -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine.url.render_as_string(hide_password=False)))
