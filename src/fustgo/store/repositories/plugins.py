"""Plugin switches changed at run time (the `plugins` table): one row per plugin whose
enabled state was set through the API; plugins without a row follow the main config."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fustgo.store.repositories.common import new_id
from fustgo.store.tables import PluginRow, utc_now


def list_switches(session: Session) -> list[PluginRow]:
    """Every persisted switch, by kind and name."""
    statement = select(PluginRow).order_by(PluginRow.plugin_type, PluginRow.plugin_name)
    return list(session.scalars(statement))


def set_switch(session: Session, kind: str, name: str, *, enabled: bool) -> PluginRow:
    """Record that the `kind` plugin `name` is `enabled` (or not) from now on."""
    row = _find(session, kind, name)
    if row is None:
        try:
            with session.begin_nested():
                row = PluginRow(
                    plugin_id=new_id(),
                    plugin_type=kind,
                    plugin_name=name,
                    enabled=enabled,
                    updated_at=utc_now(),
                )
                session.add(row)
            return row
        except IntegrityError:  # another request added it meanwhile: update that one
            row = _find(session, kind, name)
            assert row is not None
    row.enabled = enabled
    row.updated_at = utc_now()
    session.flush()
    return row


def _find(session: Session, kind: str, name: str) -> PluginRow | None:
    statement = select(PluginRow).where(
        PluginRow.plugin_type == kind, PluginRow.plugin_name == name
    )
    return session.scalars(statement).one_or_none()
