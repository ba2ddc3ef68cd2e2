"""What the store and the job lifecycle refuse; `server/errors.py` maps each to its status."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

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


STORE_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeoutError)
"""SQLAlchemy errors of a store that cannot be reached or is busy (connection refused or
lost, a locked SQLite file, an exhausted pool); only the store uses SQLAlchemy in the
server. Other `DBAPIError`s (`ProgrammingError`, `IntegrityError`) are bugs: 500."""


def is_store_unavailable(exc: BaseException) -> bool:
    """The store cannot be reached or is busy, as opposed to a bug in a query."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, STORE_UNAVAILABLE)
