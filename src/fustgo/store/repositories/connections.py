"""Saved connections: data sources jobs reuse, stored with their secrets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fustgo.store.errors import ConflictError, NotFoundError
from fustgo.store.repositories.common import assign, created_now, flush_unique, new_id
from fustgo.store.tables import ConnectionRow


def get_connection(session: Session, connection_id: str) -> ConnectionRow:
    row = session.get(ConnectionRow, connection_id)
    if row is None:
        raise NotFoundError(f"No connection `{connection_id}`; GET /api/v1/connections lists them.")
    return row


def add_connection(session: Session, **fields: Any) -> ConnectionRow:
    row = ConnectionRow(connection_id=new_id(), **created_now(), **fields)
    session.add(row)
    _flush_unique(session, row.name)
    return row


def update_connection(session: Session, row: ConnectionRow, **fields: Any) -> ConnectionRow:
    assign(row, fields)
    _flush_unique(session, row.name)
    return row


def delete_connection(session: Session, row: ConnectionRow) -> None:
    session.delete(row)
    session.flush()


def list_connections(
    session: Session, *, type: str | None = None, offset: int = 0, limit: int = 50
) -> tuple[list[ConnectionRow], int]:
    conditions = [ConnectionRow.type == type] if type is not None else []
    total = session.scalar(select(func.count(ConnectionRow.connection_id)).where(*conditions))
    rows = session.scalars(
        select(ConnectionRow)
        .where(*conditions)
        .order_by(ConnectionRow.name)
        .offset(offset)
        .limit(limit)
    )
    return list(rows), total or 0


def _flush_unique(session: Session, name: str) -> None:
    flush_unique(
        session,
        ConflictError(
            f"A connection named `{name}` already exists.",
            field="name",
            hint="Choose another name, or update that connection.",
        ),
    )
