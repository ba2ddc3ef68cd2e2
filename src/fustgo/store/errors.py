"""What the store and the job lifecycle refuse; `server/errors.py` maps each to its status."""

from __future__ import annotations

from fustgo.engine.errors import FustgoError


class NotFoundError(FustgoError):
    """No row with that id (a job, an execution, a connection)."""


class ConflictError(FustgoError):
    """The request contradicts what is stored: a taken name, an illegal state change."""

    def __init__(self, message: str, *, field: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.field = field
        self.hint = hint


class InvalidRequestError(FustgoError):
    """A value the request carries is wrong (a field the model validation cannot check)."""

    def __init__(self, message: str, *, field: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.field = field
        self.hint = hint
