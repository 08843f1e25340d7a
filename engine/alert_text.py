"""The words of an alert: e-mail subject and body in the recipient's language, and the webhook's JSON.

The words are `Text` (written in Bahasa Indonesia); `speak` turns each into
the recipient's language with the catalogue the composition root gave the
Runtime (`Runtime.catalogue`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Callable

from babel.dates import format_date

from engine.permissions import role_name
from process.messages import Text, speak
from process.mutu_baku import worded

Speak = Callable[[Text], str]


@dataclass(frozen=True)
class AlertFacts:
    """Everything an alert message says, read from the database in one place."""
    alert_id: int
    level: int
    recipient: str
    recipient_name: str
    instance_id: int
    title: str
    bidang: str
    bidang_name: str
    step: int
    step_name: str
    lane_name: str
    assignee: str | None
    mutu_baku: str
    due_at: datetime | None
    created_at: datetime
    # An administrator told because no level found an active supervisor (engine.escalation.last_resort).
    last_resort: bool = False
    # Then: the roles the level (and the levels it fell back to) found nobody active in.
    vacant: tuple[str, ...] = ()
    language: str = "id"  # the recipient's


class Speaker:
    """Speaks a `Text` in one language (a `Speak`), and keeps that language's catalogue for the
    words that are no `Text` (a standard time, worded with plurals)."""

    def __init__(self, translations: Any, language: str):
        self.translations, self.language = translations, language

    def __call__(self, message: Text) -> str:
        return speak(message, self.translations)

    def standard_time(self, text: str) -> str:
        return worded(text, self.language, self.translations)


def speaker(catalogue: Callable[[str], Any], language: str) -> Speaker:
    return Speaker(catalogue(language), language)


def when(moment: datetime | None, tz: tzinfo, language: str, say: Speak) -> str:
    """E.g. "Senin, 2 Maret 2026 pukul 09.30 WIB" in the office's time zone."""
    if moment is None:
        return "-"
    local = moment.astimezone(tz)
    return say(Text("%(date)s pukul %(time)s %(zone)s", date=format_date(local, "EEEE, d MMMM y", locale=language),
                    time=f"{local:%H.%M}" if language == "id" else f"{local:%H:%M}", zone=local.tzname()))


def subject(facts: AlertFacts, say: Speak) -> str:
    # One line: a title may hold a line break (the API takes one), which no mail header can.
    title = " ".join(facts.title.split())
    if facts.level == 1:
        return say(Text("[Alur] Langkah %(step)s terlambat: %(title)s", step=facts.step, title=title))
    return say(Text("[Alur] Eskalasi tingkat %(level)s: Langkah %(step)s masih terlambat: %(title)s",
                    level=facts.level, step=facts.step, title=title))


def body(facts: AlertFacts, tz: tzinfo, say: Speaker) -> str:
    if facts.level == 1:
        opening = Text("Langkah %(step)s pada kegiatan \"%(title)s\" telah melewati batas waktu bakunya dan "
                       "belum selesai.", step=facts.step, title=facts.title)
    else:
        opening = Text("Langkah %(step)s pada kegiatan \"%(title)s\" masih belum selesai, jauh melewati batas "
                       "waktu bakunya (eskalasi tingkat %(level)s).", step=facts.step, title=facts.title,
                       level=facts.level)
    performer = Text("%(lane)s (%(who)s)", lane=facts.lane_name, who=facts.assignee) if facts.assignee \
        else Text("%(lane)s (belum diklaim)", lane=facts.lane_name)
    language = facts.language
    lines = [
        Text("Yth. %(name)s,", name=facts.recipient_name),
        "",
        opening,
        "",
        Text("  Kegiatan    : #%(id)s %(title)s", id=facts.instance_id, title=facts.title),
        Text("  Bidang      : %(bidang)s", bidang=facts.bidang_name),
        Text("  Langkah     : %(step)s. %(name)s", step=facts.step, name=facts.step_name),
        Text("  Pelaksana   : %(performer)s", performer=performer),
        Text("  Waktu baku  : %(mutu_baku)s", mutu_baku=say.standard_time(facts.mutu_baku)),
        Text("  Batas waktu : %(due)s", due=when(facts.due_at, tz, language, say)),
        Text("  Peringatan  : tingkat %(level)s, %(at)s", level=facts.level,
             at=when(facts.created_at, tz, language, say)),
        "",
        *follow_up(facts),
        f"  alur ack {facts.alert_id} --user {facts.recipient}",
        "",
        Text("Pesan ini dikirim otomatis oleh Alur; mohon tidak membalas e-mail ini."),
    ]
    return "\n".join(say(line) for line in lines) + "\n"


def follow_up(facts: AlertFacts) -> list[Text]:
    """What the recipient is asked to do; an administrator cannot open the supervisor's page."""
    if not facts.last_resort:
        return [Text("Mohon ditindaklanjuti. Tandai peringatan ini sudah dibaca di halaman Pengawasan Alur, "
                     "atau dengan:")]
    # One message over three lines, so a translation keeps the sentence whole.
    return [Text("Peringatan ini dikirim kepada Anda sebagai administrator Alur karena tidak ada %(posts)s\n"
                 "yang aktif untuk menerimanya. Mohon aktifkan pejabatnya atau tetapkan pelaksana tugas\n"
                 "di halaman Administrasi Alur, lalu tandai peringatan ini sudah dibaca dengan:",
                 posts=_posts(facts.vacant))]


def _posts(roles: tuple[str, ...]) -> Text | str:
    """"Kepala Bidang maupun Kepala Dinas": the posts nobody active holds."""
    if not roles:  # levels left empty in escalation.yaml
        return Text("pengawas")
    said = role_name(roles[-1])
    for role in reversed(roles[:-1]):
        said = Text("%(one)s maupun %(other)s", one=role_name(role), other=said)
    return said


def webhook_payload(facts: AlertFacts, recipients: list[str]) -> dict[str, Any]:
    return {
        "alert_id": facts.alert_id, "level": facts.level, "instance_id": facts.instance_id,
        "title": facts.title, "bidang": facts.bidang, "step": facts.step, "step_name": facts.step_name,
        "lane": facts.lane_name, "assignee": facts.assignee, "mutu_baku": facts.mutu_baku,
        "due_at": facts.due_at.isoformat() if facts.due_at else None,
        "created_at": facts.created_at.isoformat(), "recipients": recipients, "text": subject(facts, str),
    }
