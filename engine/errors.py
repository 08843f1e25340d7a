"""Errors the services raise; the CLI and the web map them to exit codes and HTTP statuses."""
from __future__ import annotations


class AlurError(Exception):
    status = 400

    @property
    def message(self):
        """The message as raised: a `process.messages.Text` the web can translate, where str(err) is plain."""
        return self.args[0] if self.args else ""


class NotFound(AlurError):
    status = 404


class Forbidden(AlurError):
    status = 403


class Conflict(AlurError):
    """Someone else changed the thing first: claimed, completed, or a stale version."""
    status = 409


class LostRace(Conflict):
    """Another transaction changed rows this one had read, first: nothing was written, and the
    same command, run again, reads the new state and decides afresh (it may well succeed)."""


class InvalidData(AlurError):
    """Submitted data that does not fit; `errors` maps each field to its message."""
    status = 422

    def __init__(self, message: str, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.errors = errors or {}


class StepBlocked(InvalidData):
    """The running definition cannot take a step as submitted: a gateway's condition failed, or none
    of its paths matches. Nothing is written; the data the condition reads, or the diagram, must change."""
    code = "step_blocked"


class KeyReused(InvalidData):
    """A command's retry key (the API's Idempotency-Key) sent again with another request: the key names
    the start or completion it was first sent with, so this one is neither that command again nor a new one."""
    code = "idempotency_key_reused"


class TooLarge(AlurError):
    """An upload over its limit; `errors` names the field it was sent for, when there is one."""
    status = 413

    def __init__(self, message: str, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.errors = errors or {}
