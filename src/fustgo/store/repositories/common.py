"""What every repository does the same way: new ids, time stamps, and names that must stay
unique."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fustgo.store.errors import ConflictError
from fustgo.store.tables import utc_now


def new_id() -> str:
    return uuid.uuid4().hex


def created_now() -> dict[str, datetime]:
    """`created_at` and `updated_at` of a row made now (the same instant)."""
    now = utc_now()
    return {"created_at": now, "updated_at": now}


def assign(row: Any, fields: dict[str, Any]) -> None:
    """Set `fields` on `row` and stamp its `updated_at`."""
    for name, value in fields.items():
        setattr(row, name, value)
    row.updated_at = utc_now()


def flush_unique(session: Session, conflict: ConflictError) -> None:
    """Flush pending rows; a unique-name violation becomes `conflict` (a 409), and the
    session stays usable (the flush runs in a savepoint)."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise conflict from exc
