"""The escalation configuration (definitions/escalation.yaml): who is told, when, and how.

Read once by the Runtime, like the calendar. Every mistake is reported with
the key that holds it, so an office editing the file sees what to fix.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import yaml

from engine.permissions import ROLE_NAMES
from process.definition import SCOPE_BIDANG, SCOPE_OFFICE
from process.messages import Text
from process.numbers import whole_number
from process.user_yaml import user_yaml

SCOPES = (SCOPE_BIDANG, SCOPE_OFFICE)
LEVELS = (1, 2)


class EscalationConfigError(ValueError):
    """An escalation configuration that cannot be used."""


@dataclass(frozen=True)
class Recipient:
    """Users holding `role`, among the instance's Bidang ("bidang") or the whole office ("office")."""
    role: str
    within: str


@dataclass(frozen=True)
class Level:
    number: int
    # Lane scope -> who is alerted for steps in lanes of that scope.
    recipients: dict[str, tuple[Recipient, ...]]


@dataclass(frozen=True)
class Smtp:
    host: str | None = "localhost"
    port: int = 25
    sender: str = "Alur <alur@localhost>"
    starttls: bool = False
    username: str | None = None
    password_env: str | None = "ALUR_SMTP_PASSWORD"
    timeout: float = 10.0

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    @property
    def password(self) -> str | None:
        return os.environ.get(self.password_env) if self.password_env else None


@dataclass(frozen=True)
class Webhook:
    url: str | None = None
    timeout: float = 5.0


@dataclass(frozen=True)
class Retry:
    first_delay: float = 60.0
    max_delay: float = 3600.0

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failure: doubling, capped. (The doubling stops at
        2**64, long past any cap: 2**1024 is beyond a float, 17 hours of failures a minute apart.)"""
        return min(self.max_delay, self.first_delay * 2 ** min(max(0, attempts - 1), 64))


def _default_levels() -> dict[int, Level]:
    kepala, kadis = Recipient("kepala", SCOPE_BIDANG), Recipient("kadis", SCOPE_OFFICE)
    return {
        1: Level(1, {SCOPE_BIDANG: (kepala,), SCOPE_OFFICE: (kadis,)}),
        2: Level(2, {SCOPE_BIDANG: (kadis,), SCOPE_OFFICE: (kadis,)}),
    }


@dataclass(frozen=True)
class EscalationConfig:
    levels: dict[int, Level] = field(default_factory=_default_levels)
    second_level_factor: float = 1.0
    smtp: Smtp = field(default_factory=Smtp)
    webhook: Webhook = field(default_factory=Webhook)
    retry: Retry = field(default_factory=Retry)

    def recipients(self, level: int, scope: str) -> tuple[Recipient, ...]:
        return self.levels[level].recipients.get(scope, ())

    @property
    def longest_try_seconds(self) -> float:
        """How long one alert's delivery may wait on the channels in use: their timeouts, added up."""
        return (self.smtp.timeout if self.smtp.enabled else 0.0) + (self.webhook.timeout if self.webhook.url else 0.0)

    def rules(self) -> tuple[tuple[str, Recipient], ...]:
        """Every (lane scope, rule) of every level, each once."""
        found: list[tuple[str, Recipient]] = []
        for level in LEVELS:
            for scope in SCOPES:
                found += [(scope, rule) for rule in self.recipients(level, scope) if (scope, rule) not in found]
        return tuple(found)

    @classmethod
    def from_yaml(cls, text: str) -> "EscalationConfig":
        try:
            data = user_yaml(text)
        except yaml.YAMLError as err:
            raise EscalationConfigError(Text("YAML eskalasi tidak dapat dibaca: %(reason)s", reason=str(err))) from None
        return cls.from_dict({} if data is None else data)

    @classmethod
    def from_dict(cls, data: Any) -> "EscalationConfig":
        data = _mapping(data, "escalation", {"levels", "smtp", "webhook", "retry"})
        levels, factor = _levels(data.get("levels"))
        return cls(levels=levels, second_level_factor=factor, smtp=_smtp(data.get("smtp")),
                   webhook=_webhook(data.get("webhook")), retry=_retry(data.get("retry")))


# --- reading -------------------------------------------------------------------


def _mapping(value: Any, key: str, allowed: set) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise EscalationConfigError(Text("%(key)s: harus berupa mapping, bukan %(value)s", key=key, value=repr(value)))
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise EscalationConfigError(Text("%(key)s: kunci tidak dikenal: %(keys)s; yang dikenal: %(allowed)s", key=key,
                                         keys=", ".join(unknown), allowed=", ".join(sorted(map(str, allowed)))))
    return value


def _written_number(value: Any) -> Any:
    """timeout_seconds: 010, zero-padded, which user_yaml keeps as written: the number 10."""
    number = whole_number(value) if isinstance(value, str) else None
    return value if number is None else number


def _number(value: Any, key: str, default: float, minimum: float = 0.0) -> float:
    if value is None:
        return default
    value = _written_number(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= minimum:
        raise EscalationConfigError(Text("%(key)s: harus bilangan di atas %(minimum)s, bukan %(value)s", key=key,
                                         minimum=f"{minimum:g}", value=repr(value)))
    return float(value)


def _levels(value: Any) -> tuple[dict[int, Level], float]:
    value = _mapping(value, "levels", set(LEVELS))
    defaults = _default_levels()
    levels = {n: _level(n, value[n], defaults[n]) if n in value else defaults[n] for n in LEVELS}
    second = value.get(2) or {}
    return levels, _number(second.get("delay_factor"), "levels.2.delay_factor", 1.0)


def _level(number: int, value: Any, default: Level) -> Level:
    key = f"levels.{number}"
    allowed = set(SCOPES) | ({"delay_factor"} if number == 2 else set())
    value = _mapping(value, key, allowed)
    recipients = dict(default.recipients)
    for scope in SCOPES:
        if scope in value:
            recipients[scope] = _recipients(value[scope], f"{key}.{scope}")
    return Level(number, recipients)


def _recipients(value: Any, key: str) -> tuple[Recipient, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise EscalationConfigError(Text("%(key)s: harus berupa daftar seperti [{role: kepala, within: bidang}]",
                                         key=key))
    result = []
    for i, item in enumerate(value):
        item = _mapping(item, f"{key}[{i}]", {"role", "within"})
        if not item.get("role"):
            raise EscalationConfigError(Text("%(key)s: wajib ada", key=f"{key}[{i}].role"))
        # A role no user can hold (a typo, "kepala_bidang") would find nobody: that level's alerts
        # would go on to the next level, and its supervisors would lose the Pengawasan page.
        if str(item["role"]) not in ROLE_NAMES:
            raise EscalationConfigError(Text("%(key)s: peran %(role)s tidak dikenal; perannya: %(roles)s",
                                             key=f"{key}[{i}].role", role=repr(item["role"]),
                                             roles=", ".join(ROLE_NAMES)))
        within = item.get("within", SCOPE_BIDANG)
        if within not in SCOPES:
            raise EscalationConfigError(Text("%(key)s: harus bidang atau office, bukan %(value)s",
                                             key=f"{key}[{i}].within", value=repr(within)))
        result.append(Recipient(str(item["role"]), within))
    return tuple(result)


def _smtp(value: Any) -> Smtp:
    value = _mapping(value, "smtp", {"host", "port", "from", "starttls", "username", "password_env",
                                     "timeout_seconds"})
    default = Smtp()
    port = _written_number(value.get("port", default.port))
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise EscalationConfigError(Text("smtp.port: harus nomor port, bukan %(value)s", value=repr(port)))
    return Smtp(
        host=value.get("host", default.host) or None, port=port,
        sender=str(value.get("from") or default.sender), starttls=bool(value.get("starttls", False)),
        username=value.get("username") or None, password_env=value.get("password_env", default.password_env),
        timeout=_number(value.get("timeout_seconds"), "smtp.timeout_seconds", default.timeout),
    )


def _webhook(value: Any) -> Webhook:
    value = _mapping(value, "webhook", {"url", "timeout_seconds"})
    url = value.get("url") or None
    if url is not None and not str(url).startswith(("http://", "https://")):
        raise EscalationConfigError(Text("webhook.url: harus alamat http:// atau https://, bukan %(value)s",
                                         value=repr(url)))
    return Webhook(url, _number(value.get("timeout_seconds"), "webhook.timeout_seconds", Webhook.timeout))


def _retry(value: Any) -> Retry:
    value = _mapping(value, "retry", {"first_delay_seconds", "max_delay_seconds"})
    first = _number(value.get("first_delay_seconds"), "retry.first_delay_seconds", Retry.first_delay)
    most = _number(value.get("max_delay_seconds"), "retry.max_delay_seconds", Retry.max_delay)
    if most < first:
        raise EscalationConfigError(Text("retry.max_delay_seconds tidak boleh kurang dari retry.first_delay_seconds"))
    return Retry(first, most)
