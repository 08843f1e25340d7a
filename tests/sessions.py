"""A browser session made without the sign-in form, for tests of what a signed-in user may do."""
from __future__ import annotations

from engine import accounts
from web.auth import Principal


def session_id(rt, user_id: int) -> str:
    """What a signed-in browser's session holds for the user (web.auth.Principal.get_id)."""
    return Principal(accounts.load_user(rt, user_id)).get_id()
