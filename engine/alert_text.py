"""The words of an alert: e-mail subject and body (Bahasa Indonesia) and the webhook's JSON."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
          "Oktober", "November", "Desember")


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


def when(moment: datetime | None, tz: tzinfo) -> str:
    """E.g. "Senin, 2 Maret 2026 pukul 09.30 WIB" in the office's time zone."""
    if moment is None:
        return "-"
    local = moment.astimezone(tz)
    return (f"{DAYS[local.weekday()]}, {local.day} {MONTHS[local.month - 1]} {local.year} "
            f"pukul {local:%H.%M} {local.tzname()}")


def subject(facts: AlertFacts) -> str:
    if facts.level == 1:
        return f"[Alur] Langkah {facts.step} terlambat: {facts.title}"
    return f"[Alur] Eskalasi tingkat {facts.level}: Langkah {facts.step} masih terlambat: {facts.title}"


def body(facts: AlertFacts, tz: tzinfo) -> str:
    if facts.level == 1:
        opening = (f"Langkah {facts.step} pada kegiatan \"{facts.title}\" telah melewati batas waktu "
                   f"bakunya dan belum selesai.")
    else:
        opening = (f"Langkah {facts.step} pada kegiatan \"{facts.title}\" masih belum selesai, jauh "
                   f"melewati batas waktu bakunya (eskalasi tingkat {facts.level}).")
    lines = [
        f"Yth. {facts.recipient_name},",
        "",
        opening,
        "",
        f"  Kegiatan    : #{facts.instance_id} {facts.title}",
        f"  Bidang      : {facts.bidang_name}",
        f"  Langkah     : {facts.step}. {facts.step_name}",
        f"  Pelaksana   : {facts.lane_name}" + (f" ({facts.assignee})" if facts.assignee else " (belum diklaim)"),
        f"  Waktu baku  : {facts.mutu_baku}",
        f"  Batas waktu : {when(facts.due_at, tz)}",
        f"  Peringatan  : tingkat {facts.level}, {when(facts.created_at, tz)}",
        "",
        *follow_up(facts),
        f"  alur ack {facts.alert_id} --user {facts.recipient}",
        "",
        "Pesan ini dikirim otomatis oleh Alur; mohon tidak membalas e-mail ini.",
    ]
    return "\n".join(lines) + "\n"


def follow_up(facts: AlertFacts) -> list[str]:
    """What the recipient is asked to do; an administrator cannot open the supervisor's page."""
    if not facts.last_resort:
        return ["Mohon ditindaklanjuti. Tandai peringatan ini sudah dibaca di halaman Pengawasan Alur, atau dengan:"]
    return [
        "Peringatan ini dikirim kepada Anda sebagai administrator Alur karena tidak ada Kepala Bidang maupun",
        "Kepala Dinas yang aktif untuk menerimanya. Mohon aktifkan pejabatnya atau tetapkan pelaksana tugas",
        "di halaman Administrasi Alur, lalu tandai peringatan ini sudah dibaca dengan:",
    ]


def webhook_payload(facts: AlertFacts, recipients: list[str]) -> dict[str, Any]:
    return {
        "alert_id": facts.alert_id, "level": facts.level, "instance_id": facts.instance_id,
        "title": facts.title, "bidang": facts.bidang, "step": facts.step, "step_name": facts.step_name,
        "lane": facts.lane_name, "assignee": facts.assignee, "mutu_baku": facts.mutu_baku,
        "due_at": facts.due_at.isoformat() if facts.due_at else None,
        "created_at": facts.created_at.isoformat(), "recipients": recipients, "text": subject(facts),
    }
