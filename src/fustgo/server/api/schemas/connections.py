"""Saved connections as the API takes and returns them (secrets masked)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fustgo.server.api.schemas.jobs import Page

MASK = "********"
"""What a secret looks like in responses; sent back unchanged, it keeps the stored value."""


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class ConnectionCreate(_Request):
    name: str = Field(min_length=1, max_length=255)
    type: str = Field(min_length=1, max_length=64)
    """The database family: `postgresql`, `mysql` (also `mariadb`, `tidb`) or `sqlite`."""
    description: str | None = None
    config: dict[str, Any]
    """The family's `connection` settings, as in a pipeline's `input.connection`."""


class ConnectionUpdate(_Request):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = None
    config: dict[str, Any] | None = None
    """Replaces the settings; a secret sent as `********` keeps its stored value."""


class ConnectionResponse(BaseModel):
    connection_id: str
    name: str
    type: str
    description: str | None
    config: dict[str, Any]
    """The settings with every secret (`password`) replaced by `********`."""
    created_at: datetime
    updated_at: datetime


class ConnectionList(Page):
    items: list[ConnectionResponse]


class ConnectionTest(BaseModel):
    """Whether the server answered, and who it was."""

    ok: bool
    error: str | None = None
    server: dict[str, Any] | None = None
    """Product, version, address, user, read-only, connect and round-trip times."""


class TableItem(BaseModel):
    """A table or view as the database's catalog describes it."""

    schema_: str = Field(alias="schema", serialization_alias="schema")
    name: str
    kind: str
    """`table`, `view`, `materialized view`, `partitioned table`, `foreign table`."""
    rows_estimate: int | None
    """From the database's statistics, never a full count; null when it has none."""
    comment: str | None = None

    model_config = ConfigDict(populate_by_name=True)


class TableList(BaseModel):
    schema_: str = Field(alias="schema", serialization_alias="schema")
    """The schema listed."""
    items: list[TableItem]

    model_config = ConfigDict(populate_by_name=True)
