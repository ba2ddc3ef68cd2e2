"""`lookup: {type: sql, driver: postgresql}`: rows of a PostgreSQL table or query, by key.

One psycopg 3 connection per processor (autocommit: lookups only read). The first batch
asks for the columns' types (`LIMIT 0`); each batch then sends one statement with the
distinct keys the cache does not hold as an array parameter, cast to the key column's own
type so that any key type compares exactly (`q.id = ANY(%s::int4[])`; a composite key
joins `unnest` of one array per column). A dropped connection is reopened on the retry.

Types follow the PostgreSQL type table (`fustgo.plugins.clients.postgresql`): integers,
floats, `numeric(p,s)` (decimals; unconstrained `numeric` as exact text), text, bytea,
bool, date, time, timestamp, timestamptz, json/jsonb and one-dimensional arrays map to
the matching logical types; anything else (uuid, interval, inet, …) is read as text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa

from fustgo.engine.errors import FustgoError, RetryableError, TerminalError
from fustgo.engine.types import LogicalType
from fustgo.plugins.api import PluginContext
from fustgo.plugins.clients.postgresql import PostgresConnection, logical_type
from fustgo.plugins.processors.enrichment.base import (
    LookupColumns,
    LookupShape,
    apply_types,
)
from fustgo.plugins.processors.enrichment.sql import (
    SqlLookupConfig,
    SqlSource,
    check_columns,
    quote,
)

if TYPE_CHECKING:
    import psycopg

_TRANSIENT_STATES = ("40001", "40P01", "53300", "57P01", "57P02", "57P03")
_TYPE_MODIFIER = re.compile(r"\(.*?\)")


class PostgresqlLookup(SqlLookupConfig):
    """A table or query of a PostgreSQL database, looked up by key."""

    type: Literal["sql"]
    """Selects a SQL lookup."""
    driver: Literal["postgresql"]
    """Selects PostgreSQL (through psycopg 3)."""
    connection: PostgresConnection
    """Where to connect; the password is a secret and never logged."""

    def source(self, columns: LookupColumns, context: PluginContext) -> PostgresqlSource:
        return PostgresqlSource(self, columns, context)


@dataclass(frozen=True)
class _Column:
    """How one result column becomes Arrow."""

    logical: LogicalType
    sql_type: str
    """The type to cast key arrays to (without modifiers: `varchar`, not `varchar(10)`)."""
    convert: Callable[[Any], Any] | None
    """Per-value conversion for types psycopg returns as other Python objects."""


class PostgresqlSource(SqlSource):
    """One connection per processor; psycopg serializes the threads that share it."""

    def __init__(
        self, config: PostgresqlLookup, columns: LookupColumns, context: PluginContext
    ) -> None:
        super().__init__(columns, context)
        self.config = config
        self._columns: dict[str, _Column] = {}
        self._fields: list[str] = []

    @property
    def server(self) -> str:
        connection = self.config.connection
        return f"`{connection.host}:{connection.port}/{connection.database}`"

    @property
    def description(self) -> str:
        return f"the PostgreSQL lookup ({self.config.what} on {self.server})"

    def open(self) -> LookupShape:
        with self._lock:
            self._connect()
        declared = self.columns.types
        keys = tuple(
            (declared.get(name) or self._columns[name].logical).to_arrow()
            for name in self.columns.lookup_keys
        )
        fields = pa.schema(
            [
                (declared.get(name) or self._columns[name].logical).to_arrow_field(name)
                for name in self._fields
            ]
        )
        return LookupShape(keys, fields)

    def _connect(self) -> psycopg.Connection[Any]:
        """The connection (opened, and the columns described, at the first call)."""
        import psycopg

        if self._connection is not None and not self._connection.closed:
            return self._connection
        parameters = self.config.connection.parameters(read_only=True)
        try:
            connection = psycopg.connect(autocommit=True, **parameters)
        except psycopg.Error as exc:
            raise self._error(exc) from exc
        try:
            if not self._columns:
                self._describe(connection)
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return connection

    def _describe(self, connection: psycopg.Connection[Any]) -> None:
        import psycopg

        try:
            cursor = connection.execute(f"SELECT * FROM {self.config.rows_sql()} AS q LIMIT 0")
        except psycopg.Error as exc:
            raise self._error(exc) from exc
        described = {column.name: _column(column) for column in cursor.description or ()}
        self._fields = check_columns(list(described), self.columns, self.description)
        self._columns = described

    def _query(self, keys: pa.Table) -> pa.Table:
        import psycopg

        lookup_keys = self.columns.lookup_keys
        selected = [*lookup_keys, *self._fields]
        arrays = [
            f"%s::{self._columns[name].sql_type}[]" for name in lookup_keys
        ]  # one array parameter per key column
        if len(lookup_keys) == 1:
            where = f"q.{quote(lookup_keys[0])} = ANY({arrays[0]})"
        else:
            tuple_sql = ", ".join(f"q.{quote(name)}" for name in lookup_keys)
            where = f"({tuple_sql}) IN (SELECT * FROM unnest({', '.join(arrays)}))"
        sql = (
            f"SELECT {', '.join(f'q.{quote(name)}' for name in selected)} "
            f"FROM {self.config.rows_sql()} AS q WHERE {where}"
        )
        params = [column.to_pylist() for column in keys.columns]
        with self._lock:
            try:
                rows = self._connect().execute(sql, params).fetchall()
            except psycopg.Error as exc:
                error = self._error(exc)
                if isinstance(error, RetryableError) and self._connection is not None:
                    self._connection.close()  # reopened by the retry
                    self._connection = None
                raise error from exc
        return self._table(rows, selected)

    def _table(self, rows: Sequence[tuple[Any, ...]], selected: list[str]) -> pa.Table:
        """Python rows as lookup rows: keys renamed, declared types applied."""
        values = list(zip(*rows, strict=True)) if rows else [() for _ in selected]
        arrays = []
        for name, column in zip(selected, values, strict=True):
            described = self._columns[name]
            items = list(column)
            if described.convert is not None:
                items = [None if item is None else described.convert(item) for item in items]
            arrays.append(pa.array(items, described.logical.to_arrow()))
        fields = [self._columns[name].logical.to_arrow_field(name) for name in selected]
        table = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
        table = apply_types(table, self.columns.types, self.description)
        return table.rename_columns([*self.columns.key_names, *self._fields])

    def _error(self, exc: Exception) -> FustgoError:
        """The FustGo error for a psycopg error: transient, bad credentials, or terminal."""
        import psycopg

        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        state = getattr(exc, "sqlstate", None) or ""
        if state == "42P01":
            return TerminalError(
                f"{_capital(self.description)}: {message}; check `lookup.table` or "
                "`lookup.query` and the role's search_path."
            )
        if state.startswith("08") or state in _TRANSIENT_STATES:
            return RetryableError(f"PostgreSQL on {self.server} is unavailable: {message}.")
        if state.startswith("28"):
            return TerminalError(
                f"PostgreSQL on {self.server} refused the credentials: {message}; check "
                "`lookup.connection.user` and `password`."
            )
        if state:
            return TerminalError(f"{_capital(self.description)} failed: {message}.")
        if isinstance(exc, psycopg.OperationalError) and "FATAL:" in str(exc):
            fatal = str(exc).split("FATAL:", 1)[1].strip().splitlines()[0]
            transient = ("starting up", "shutting down", "too many")
            if not any(word in fatal for word in transient):
                return TerminalError(
                    f"PostgreSQL on {self.server} refused the connection: {fatal}; check "
                    "`lookup.connection` (user, password, database)."
                )
        if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
            return RetryableError(
                f"Cannot reach PostgreSQL on {self.server}: {message}; check that the server "
                "is running and reachable from here."
            )
        return TerminalError(f"{_capital(self.description)} failed: {message}.")


def _column(column: Any) -> _Column:
    """How a described result column (psycopg `Column`) maps to a logical type."""
    display = column.type_display
    logical = logical_type(display)
    sql_type = _TYPE_MODIFIER.sub("", display)
    if logical.kind == "json":
        return _Column(logical, sql_type, json.dumps)
    if logical.kind == "string":  # uuid, interval, unconstrained numeric…: their text
        return _Column(logical, sql_type, str)
    return _Column(logical, sql_type, None)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
