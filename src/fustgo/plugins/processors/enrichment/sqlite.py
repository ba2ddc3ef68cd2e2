"""`lookup: {type: sql, driver: sqlite}`: rows of a SQLite database file, by key.

The database is opened read-only with ADBC. A temporary view over the table or query tells
the columns' declared types (read as `plugins/clients/sqlite.py` reads them: dates, times
and decimals stored as text are parsed; a column computed by the query has no declared
type and is read as text unless `types` says otherwise). Each batch's keys are loaded into
a temporary table (Arrow, no SQL parameters, so any number of keys and composite keys)
and joined to the view in one statement.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Literal

import pyarrow as pa
import pyarrow.compute as pc

from fustgo.engine.errors import FustgoError, TerminalError
from fustgo.engine.types import LogicalType
from fustgo.plugins.api import PluginContext
from fustgo.plugins.clients.files import display_path
from fustgo.plugins.clients.sql import parse_text
from fustgo.plugins.clients.sqlite import (
    SqliteConnection,
    connect,
    cursor,
    logical_type,
    missing_table_error,
    table_columns,
    table_names,
    to_sqlite_values,
    translate_error,
)
from fustgo.plugins.processors.enrichment.base import (
    LookupColumns,
    LookupShape,
)
from fustgo.plugins.processors.enrichment.sql import (
    SqlLookupConfig,
    SqlSource,
    check_columns,
    quote,
)

if TYPE_CHECKING:
    from adbc_driver_manager.dbapi import Connection

_ROW = "__fustgo_row"


class SqliteLookup(SqlLookupConfig):
    """A table or query of a SQLite database file, looked up by key."""

    type: Literal["sql"]
    """Selects a SQL lookup."""
    driver: Literal["sqlite"]
    """Selects SQLite (through ADBC)."""
    connection: SqliteConnection
    """The database file; it is opened read-only."""

    def source(self, columns: LookupColumns, context: PluginContext) -> SqliteSource:
        return SqliteSource(self, columns, context)


class SqliteSource(SqlSource):
    """One read-only connection per processor; calls are serialized (ADBC connections are
    not thread-safe)."""

    def __init__(
        self, config: SqliteLookup, columns: LookupColumns, context: PluginContext
    ) -> None:
        super().__init__(columns, context)
        self.config = config
        self.path = context.resolve_path(config.connection.database)
        suffix = uuid.uuid4().hex[:12]
        self._view = f"fustgo_lookup_{suffix}"
        self._keys_table = f"fustgo_keys_{suffix}"
        self._types: dict[str, LogicalType] = {}
        self._fields: list[str] = []

    @property
    def description(self) -> str:
        database = display_path(self.path, self.context)
        return f"the SQLite lookup ({self.config.what} of `{database}`)"

    def open(self) -> LookupShape:
        with self._lock:
            self._connect()
        keys = tuple(self._types[name].to_arrow() for name in self.columns.lookup_keys)
        fields = pa.schema([self._types[name].to_arrow_field(name) for name in self._fields])
        return LookupShape(keys, fields)

    def _connect(self) -> Connection:
        """The connection, with the view over the rows (opened at the first call)."""
        if self._connection is not None:
            return self._connection
        if not self.path.is_file():
            raise TerminalError(
                f"SQLite database `{self.path}` does not exist; check "
                "`lookup.connection.database`, which is relative to the pipeline file's folder."
            )
        connection = connect(
            self.path, read_only=True, busy_timeout_seconds=self.config.connection.busy_timeout
        )
        try:
            with cursor(connection) as cur:
                cur.execute(
                    f"CREATE TEMP VIEW {quote(self._view)} AS SELECT * FROM "
                    f"{self.config.rows_sql()}"
                )
            found = table_columns(connection, self._view, schema="temp")
            if not found:
                raise TerminalError(f"{self.description} has no columns.")
        except Exception as exc:
            error = self._error(exc, connection)
            connection.close()
            raise error from exc
        declared = {column.name: column.declared for column in found}
        self._fields = check_columns(list(declared), self.columns, self.description)
        self._types = {
            name: self.columns.types.get(name) or logical_type(text) or LogicalType("string")
            for name, text in declared.items()
        }
        self._connection = connection
        return connection

    def _query(self, keys: pa.Table) -> pa.Table:
        """The lookup rows of `keys`: keys into a temporary table, one join, one result."""
        numbered = keys.append_column(_ROW, pa.array(range(keys.num_rows), pa.int64()))
        values = to_sqlite_values(numbered.combine_chunks().to_batches()[0])
        join = " AND ".join(
            f"q.{quote(lookup)} = k.{quote(name)}"
            for lookup, name in zip(self.columns.lookup_keys, self.columns.key_names, strict=True)
        )
        selected = ", ".join(f"q.{quote(name)}" for name in self._fields)
        sql = (
            f"SELECT k.{quote(_ROW)}{', ' if selected else ''}{selected} "
            f"FROM temp.{quote(self._keys_table)} AS k "
            f"JOIN temp.{quote(self._view)} AS q ON {join}"
        )
        with self._lock:
            connection = self._connect()
            try:
                with cursor(connection) as cur:
                    cur.adbc_ingest(self._keys_table, values, mode="replace", temporary=True)
                # One Arrow batch: ADBC types each batch from its own rows.
                with cursor(connection, batch_rows=keys.num_rows + 1) as cur:
                    cur.execute(sql)
                    result = cur.fetch_arrow_table()
            except Exception as exc:
                raise self._error(exc, connection) from exc
        rows = keys.take(result.column(_ROW))
        for name in self._fields:
            rows = rows.append_column(
                self._types[name].to_arrow_field(name),
                self._convert(result.column(name), self._types[name], name),
            )
        return rows

    def _convert(self, column: pa.ChunkedArray, logical: LogicalType, name: str) -> pa.Array:
        """SQLite's values as the column's logical type (text dates, decimals parsed)."""
        values = column.combine_chunks()
        if values.null_count == len(values):  # ADBC types an all-NULL column as it likes
            return pa.nulls(len(values), logical.to_arrow())
        converted: pa.Array | None = None
        if pa.types.is_string(values.type) and logical.kind not in ("string", "json"):
            parsed = parse_text(values, logical)
            converted = parsed.values if parsed.failed is None else None
        else:
            try:
                converted = pc.cast(values, logical.to_arrow())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                converted = None
        if converted is None:
            raise TerminalError(
                f"Column `{name}` of {self.description} holds values that are not {logical}; "
                f"declare its type in `types` or fix the data."
            )
        return converted

    def _error(self, exc: Exception, connection: Connection) -> FustgoError:
        if isinstance(exc, FustgoError):
            return exc
        if self.config.table is not None and "no such table" in str(exc).lower():
            return missing_table_error(self.config.table, table_names(connection), f"`{self.path}`")
        return translate_error(exc, f"Looking up rows in {self.description}")
