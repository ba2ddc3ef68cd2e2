"""What every repository does the same way: new ids, and names that must stay unique."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fustgo.store.errors import ConflictError


def new_id() -> str:
    return uuid.uuid4().hex


def flush_unique(session: Session, conflict: ConflictError) -> None:
    """Flush pending rows; a unique-name violation becomes `conflict` (a 409), and the
    session stays usable (the flush runs in a savepoint)."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise conflict from exc
