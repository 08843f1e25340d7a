"""Where an error page leads back to: the page of the blueprint the user was on, when they may open it."""
from __future__ import annotations

from typing import Callable

from flask import Blueprint, url_for
from flask_login import current_user


def errors_lead_back(bp: Blueprint, endpoint: str, words: Callable[[], str], may_open: Callable[[], bool]) -> None:
    """An error on `bp`'s pages links to `endpoint` instead of the worklist (error.html's default), but only
    for a user who may open it: a refusal of the page itself must not lead back to the refusal."""
    @bp.context_processor
    def error_back():
        if current_user.is_authenticated and may_open():
            return {"error_back": (url_for(endpoint), words())}
        return {}
