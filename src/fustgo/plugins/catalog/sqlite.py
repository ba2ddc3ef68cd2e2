"""The SQLite catalog: `sqlite_schema` and `PRAGMA table_xinfo` of one file, opened read-only.

SQLite has one schema per attached database (`main` here) and keeps no row counts; the
estimate is the first number of `sqlite_stat1` when `ANALYZE` has run, else the largest
rowid (exact for a table whose rows were never deleted, an index seek either way). Views
and WITHOUT ROWID tables have none without statistics.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fustgo.engine.errors import TerminalError
from fustgo.plugins.api import Input, PluginContext
from fustgo.plugins.catalog.contract import BlockingCatalog, ColumnInfo, ServerInfo, TableInfo
from fustgo.plugins.clients.sqlite import (
    SqliteConnection,
    connect,
    logical_type,
    query_rows,
    quote,
    translate_error,
)

SCHEMA = "main"


class SqliteCatalog(BlockingCatalog):
    """Tables, columns and previews of one SQLite database file."""

    family = "sqlite"
    settings: SqliteConnection

    @property
    def path(self) -> Path:
        candidate = Path(self.settings.database).expanduser()
        return candidate if candidate.is_absolute() else self.base_dir / candidate

    @property
    def server(self) -> str:
        return f"`{self.path}`"

    def _connect(self) -> Any:
        if not self.path.is_file():
            raise TerminalError(
                f"The SQLite database {self.server} does not exist; check "
                f"`{self.where}.database` (relative paths start at the pipeline file)."
            )
        return connect(self.path, read_only=True, busy_timeout_seconds=self.settings.busy_timeout)

    def _query(self, sql: str, action: str, *params: Any) -> list[tuple[Any, ...]]:
        try:
            return query_rows(self.connection, sql, params)
        except Exception as exc:
            raise translate_error(exc, f"{action} in {self.server}") from exc

    # -- the contract -------------------------------------------------------------------

    async def test(self) -> ServerInfo:
        return await self._call(self._test)

    def _test(self) -> ServerInfo:
        latency = self._round_trip_ms()
        version = self._query("SELECT sqlite_version()", "Reading the version")[0][0]
        return ServerInfo(
            product="SQLite",
            version=str(version),
            address=str(self.path),
            user=None,
            read_only=not os.access(self.path, os.W_OK),
            connect_ms=self._connect_ms,
            latency_ms=latency,
        )

    async def default_schema(self) -> str:
        return SCHEMA

    async def schemas(self) -> list[str]:
        return [SCHEMA]

    async def tables(self, schema: str | None = None) -> list[TableInfo]:
        self._check_schema(schema)
        return await self._call(self._tables)

    def _tables(self, only: str | None = None) -> list[TableInfo]:
        rows = self._query(
            "SELECT name, type, sql FROM sqlite_schema WHERE type IN ('table', 'view') "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND (? IS NULL OR name = ?) ORDER BY name",
            "Listing the tables",
            only,
            only,
        )
        statistics = self._statistics()
        tables = []
        for name, kind, sql in rows:
            estimate = statistics.get(str(name))
            if estimate is None and kind == "table" and "WITHOUT ROWID" not in str(sql).upper():
                estimate = self._query(f"SELECT max(rowid) FROM {quote(name)}", "Estimating")[0][0]
            tables.append(
                TableInfo(
                    schema=SCHEMA,
                    name=str(name),
                    kind=str(kind),
                    rows_estimate=None if estimate is None else int(estimate),
                )
            )
        return tables

    def _statistics(self) -> dict[str, int]:
        """Row counts `ANALYZE` left in `sqlite_stat1` (the first number of `stat`)."""
        exists = self._query(
            "SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'", "Reading statistics"
        )
        if not exists:
            return {}
        rows = self._query("SELECT tbl, stat FROM sqlite_stat1", "Reading statistics")
        return {str(table): int(str(stat).split()[0]) for table, stat in rows if stat}

    async def table(self, table: str) -> TableInfo:
        return await self._call(self._table, table)

    def _table(self, table: str) -> TableInfo:
        found = self._tables(self._name(table))
        if not found:
            raise self._not_found(table)
        return found[0]

    async def columns(self, table: str) -> list[ColumnInfo]:
        return await self._call(self._columns, table)

    def _columns(self, table: str) -> list[ColumnInfo]:
        name = self._name(table)
        rows = self._query(f"PRAGMA table_xinfo({quote(name)})", f"Reading `{table}`")
        if not rows:
            raise self._not_found(table)
        return [
            ColumnInfo(
                name=str(row[1]),
                declared=str(row[2] or ""),
                logical=logical_type(str(row[2] or "")),
                # SQLite lets a PRIMARY KEY hold NULL, except INTEGER PRIMARY KEY (the rowid)
                nullable=not row[3] and not (row[5] and str(row[2]).upper() == "INTEGER"),
                default=None if row[4] is None else str(row[4]),
                primary_key=int(row[5]) or None,
            )
            for row in rows
            if int(row[6]) != 1  # 1: hidden column of a virtual table
        ]

    def _not_found(self, table: str) -> TerminalError:
        return self._missing(table, self.server, [info.name for info in self._tables()])

    def _check_schema(self, schema: str | None) -> None:
        if schema not in (None, SCHEMA):
            raise TerminalError(
                f"SQLite database {self.server} has one schema, `{SCHEMA}`, not `{schema}`."
            )

    def _name(self, table: str) -> str:
        """A table name without the `main.` prefix SQLite allows."""
        prefix, _, name = table.partition(".")
        return name if prefix == SCHEMA and name else table

    def _quoted(self, table: str) -> str:
        return quote(self._name(table))

    def _input(self, sql: str, limit: int) -> Input[Any]:
        from fustgo.plugins.inputs.sqlite import SqliteInput, SqliteInputConfig

        connection = {**self.settings.model_dump(), "database": str(self.path)}
        config = SqliteInputConfig.model_validate(
            {"connection": connection, "query": {"sql": sql}, "fetch": {"size": limit}}
        )
        context = PluginContext(
            component_path=self.where.rpartition(".")[0], base_dir=self.base_dir
        )
        return SqliteInput(config, context)
