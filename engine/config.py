"""Settings from the environment, with defaults that suit `make run`."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    definitions_dir: Path = ROOT / "definitions"
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
        data_dir = Path(os.environ.get("ALUR_DATA_DIR", ROOT / "var"))
        url = os.environ.get("ALUR_DATABASE_URL") or f"sqlite:///{data_dir / 'alur.db'}"
        calendar = os.environ.get("ALUR_CALENDAR_FILE")
        escalation = os.environ.get("ALUR_ESCALATION_FILE")
        logo = os.environ.get("ALUR_LOGO_FILE")
        values = dict(
            database_url=url,
            data_dir=data_dir,
            definitions_dir=Path(os.environ.get("ALUR_DEFINITIONS_DIR", ROOT / "definitions")),
            calendar_file=Path(calendar) if calendar else None,
            escalation_file=Path(escalation) if escalation else None,
            logo_file=Path(logo) if logo else None,
            max_upload_bytes=int(os.environ.get("ALUR_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)),
            workflow_cache_size=int(os.environ.get("ALUR_WORKFLOW_CACHE_SIZE", 512)),
            allow_clock_override=os.environ.get("ALUR_ALLOW_CLOCK_OVERRIDE", "") in ("1", "true", "yes"),
        )
        values.update(overrides)
        return cls(**values)
