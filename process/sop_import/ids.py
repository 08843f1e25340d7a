"""Element ids of a generated diagram: the same scheme as the hand-made SOP in definitions/.

Stable ids matter: questions and answers name them, and a re-import of a
corrected table keeps them, so running instances can migrate to it.
"""
from __future__ import annotations

import re

from process.loader import LANE_ROLES


def step_id(number: int) -> str:
    return f"Step_{number:02d}"


def timer_id(number: int) -> str:
    return f"Timer_{number:02d}"


def gateway_id(number: int) -> str:
    return f"Gateway_{number:02d}"


UNASSIGNED_LANE = "Lane_Belum_Ditentukan"


def role_of(actor: str) -> str:
    """The lane role an actor column names: "Tim Teknis" -> teknis, "Sekretaris" -> sekretaris."""
    lowered = " ".join(actor.lower().split())
    lowered = lowered[4:] if lowered.startswith("tim ") else lowered
    return re.sub(r"[^a-z0-9]+", "_", lowered).strip("_")


def lane_id(actor: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", actor)
    if words and words[0].lower() == "tim" and len(words) > 1:
        words = words[1:]
    return "Lane_" + "_".join(w.capitalize() for w in words) if words else "Lane_Pelaksana"


def known_role(role: str) -> bool:
    return role in LANE_ROLES
