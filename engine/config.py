"""Settings from the environment, with defaults that suit `make run`."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from process.messages import Text

ROOT = Path(__file__).resolve().parent.parent
# Run from a checkout (an editable install), or installed from a wheel, which carries definitions/
# inside the package (setup.py) and has no var/ of its own.
SOURCE_TREE = (ROOT / "pyproject.toml").is_file()
DEFINITIONS = ROOT / "definitions" if SOURCE_TREE else Path(__file__).resolve().parent / "shipped_definitions"


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    definitions_dir: Path = DEFINITIONS
    calendar_file: Path | None = None
    escalation_file: Path | None = None
    # The office's logo on official prints (web/letterhead.py); None prints none.
    logo_file: Path | None = None
    max_upload_bytes: int = 20 * 1024 * 1024
    allow_clock_override: bool = False
    # Workflows a process keeps parsed between commands (engine/workflow_cache.py).
    workflow_cache_size: int = 512
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        data_dir = directory("ALUR_DATA_DIR", ROOT / "var" if SOURCE_TREE else None)
        url = os.environ.get("ALUR_DATABASE_URL") or f"sqlite:///{data_dir / 'alur.db'}"
        calendar = os.environ.get("ALUR_CALENDAR_FILE")
        escalation = os.environ.get("ALUR_ESCALATION_FILE")
        logo = os.environ.get("ALUR_LOGO_FILE")
        values = dict(
            database_url=url,
            data_dir=data_dir,
            definitions_dir=directory("ALUR_DEFINITIONS_DIR", DEFINITIONS, existing=True),
            calendar_file=named_file(calendar),
            escalation_file=named_file(escalation),
            logo_file=named_file(logo),
            max_upload_bytes=whole_number("ALUR_MAX_UPLOAD_BYTES", 20 * 1024 * 1024, minimum=1),
            workflow_cache_size=whole_number("ALUR_WORKFLOW_CACHE_SIZE", 512, minimum=0),
            allow_clock_override=os.environ.get("ALUR_ALLOW_CLOCK_OVERRIDE", "") in ("1", "true", "yes"),
        )
        values.update(overrides)
        return cls(**values)


def named_file(value: str | None) -> Path | None:
    """A file a setting names, absolute: a relative name is read from the working directory (`/` under
    systemd), and an error naming it as typed would not say where it was looked for."""
    return Path(value).absolute() if value else None


class SettingError(ValueError):
    """An environment variable that cannot be used; the message names it."""


def directory(name: str, default: Path | None, existing: bool = False) -> Path:
    """The folder the environment variable `name` names, absolute as `named_file` makes it; `default` when
    unset (None: it must be set). `existing`: a folder that is not there is refused, as a misspelt
    ALUR_DEFINITIONS_DIR would silently mean the built-in calendar and escalation and no cycles (the data
    folder is made by the commands that write there)."""
    path = named_file(os.environ.get(name)) or default
    if path is None:  # an Alur installed from a wheel: the default would be a var/ in site-packages
        raise SettingError(Text("%(name)s harus diisi: Alur yang terpasang dari wheel tidak punya folder var/",
                                name=name))
    if existing and not path.is_dir():
        raise SettingError(Text("%(name)s: folder %(path)s tidak ada", name=name, path=str(path)))
    return path


def whole_number(name: str, default: int, minimum: int) -> int:
    """The environment variable `name` as a whole number of at least `minimum`; `default` when unset.

    ASCII digits only (int() takes "２０" and other scripts' digits), at most 18 of them."""
    value = os.environ.get(name, "")
    if not value:
        return default
    if not (value.isascii() and value.isdigit() and len(value) <= 18) or int(value) < minimum:
        raise SettingError(Text("%(name)s harus bilangan bulat, paling sedikit %(minimum)d, bukan %(value)s",
                                name=name, minimum=minimum, value=repr(value)))
    return int(value)


def session_idle_minutes() -> int:
    """ALUR_SESSION_IDLE_MINUTES: a session with no request for this long is signed out."""
    return whole_number("ALUR_SESSION_IDLE_MINUTES", 60, minimum=1)
