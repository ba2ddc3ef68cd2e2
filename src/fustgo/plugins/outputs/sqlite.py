"""SQLite output: write Arrow batches into a table in every write mode, one transaction each.

Batches are bound to one prepared statement by ADBC straight from Arrow (no Python rows):
an INSERT (with ON CONFLICT for `upsert` and the conflict strategies) for the inserting
modes, or an INSERT into a temporary staging table that the statements of the mode
(`clients.sql.TableSql`: UPDATE … FROM, DELETE … WHERE EXISTS, an anti-join INSERT for
`merge`, SQLite having no MERGE) move into the table. Each batch is its own transaction
(`clients.sql.BlockingTableOutput`), so a failed batch leaves nothing behind. Values are
stored in the representations of the SQLite type table (`fustgo.plugins.clients.sqlite`),
so the `sqlite` input reads them back with the same logical types.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
from pydantic import Field

from fustgo.engine.errors import FustgoError, TerminalError
from fustgo.engine.types import LogicalType, from_arrow
from fustgo.plugins.api import PluginContext
from fustgo.plugins.clients.sql import BlockingTableOutput, Step, TableSql, TableWrite
from fustgo.plugins.clients.sqlite import (
    ColumnInfo,
    SqliteConnection,
    connect,
    cursor,
    logical_type,
    missing_table_error,
    query_rows,
    quote,
    sqlite_type,
    table_columns,
    table_names,
    to_sqlite_values,
    translate_error,
)
from fustgo.plugins.registry import register_output
from fustgo.plugins.spec import PluginConfig, ui

if TYPE_CHECKING:
    from adbc_driver_manager.dbapi import Connection


class SqliteWrite(TableWrite):
    """Where and how rows are written: `batch_size` rows are bound per statement."""

    table: str = Field(min_length=1, json_schema_extra=ui(placeholder="orders"))
    """Target table; created from the first batch's schema when missing (see
    `create_table`)."""


class SqliteOutputConfig(PluginConfig):
    """Writes batches into a SQLite table: insert, update, upsert, replace, merge or
    truncate and insert."""

    connection: SqliteConnection
    """The database file; it is created (with its folder) when missing."""
    write: SqliteWrite
    """Target table, write mode, conflict key, schema evolution and SQL hooks."""


@dataclass(frozen=True)
class Statement:
    """How batches of one set of fields are written."""

    insert_sql: str
    """The INSERT bound to each batch: into the table, or into the staging table."""
    steps: list[Step]
    """What moves a staged batch into the table; empty when rows go straight in."""
    stage: str | None = None
    counts_inserted: bool = False
    """True when rows the INSERT did not change are skipped key conflicts (`ignore`)."""


@register_output(
    "sqlite",
    config=SqliteOutputConfig,
    family="rdb",
    title="SQLite",
    capabilities={"upsert"},
    examples=[
        {
            "type": "sqlite",
            "connection": {"database": "out/warehouse.db"},
            "write": {"table": "fact_orders", "mode": "upsert", "conflict_key": ["id"]},
        },
        {
            "type": "sqlite",
            "connection": {"database": "out/warehouse.db"},
            "write": {
                "table": "daily_orders",
                "mode": "truncate",
                "pre_sql": ["CREATE INDEX IF NOT EXISTS daily_orders_day ON daily_orders (day)"],
                "post_sql": ["ANALYZE"],
            },
        },
    ],
)
class SqliteOutput(BlockingTableOutput[SqliteOutputConfig]):
    """Writes each batch with ADBC in its own transaction."""

    def __init__(self, config: SqliteOutputConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._connection: Connection | None = None
        self._in_transaction = False
        self._columns: dict[str, ColumnInfo] = {}
        self._statements: dict[tuple[str, ...], Statement] = {}

    @property
    def path(self) -> Path:
        return self.context.resolve_path(self.config.connection.database)

    @property
    def _target(self) -> str:
        return f"`{self.config.write.table}` in `{self.path}`"

    def _check(self) -> None:
        folder = self.path.parent
        if not folder.is_dir():
            if not self.config.write.create_table:
                raise TerminalError(
                    f"Folder `{folder}` of `output.connection.database` does not exist."
                )
            return
        if not self.path.exists():
            if not self.config.write.create_table:
                raise TerminalError(
                    f"SQLite file `{self.path}` does not exist and `write.create_table` is false."
                )
            return
        connection = connect(self.path, read_only=True, busy_timeout_seconds=1.0)
        try:
            if (
                not table_columns(connection, self.config.write.table)
                and not self.config.write.create_table
            ):
                raise missing_table_error(
                    self.config.write.table, table_names(connection), f"`{self.path}`"
                )
        finally:
            connection.close()

    def _connect(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TerminalError(f"Cannot create the folder of `{self.path}`: {exc}.") from exc
        self._in_transaction = False
        self._connection = connect(
            self.path, read_only=False, busy_timeout_seconds=self.config.connection.busy_timeout
        )
        self._run("PRAGMA journal_mode = WAL", "Switching to WAL journal mode")
        self._run("PRAGMA synchronous = NORMAL", "Setting synchronous mode")

    def _missing_table(self) -> TerminalError:
        assert self._connection is not None
        return missing_table_error(
            self.config.write.table, table_names(self._connection), f"`{self.path}`"
        )

    def _read_columns(self) -> list[ColumnInfo]:
        assert self._connection is not None
        return table_columns(self._connection, self.config.write.table)

    def _logical(self, column: ColumnInfo) -> LogicalType | None:
        return logical_type(column.declared)

    def _create_table_sql(self, schema: pa.Schema) -> str:
        return create_table_sql(self.config.write.table, schema, self.config.write.conflict_key)

    def _add_column_sql(self, field: pa.Field) -> str:
        declared = sqlite_type(from_arrow(field.type, field.metadata)).declared
        return (
            f"ALTER TABLE {quote(self.config.write.table)} "
            f"ADD COLUMN {quote(field.name)} {declared}"
        )

    def _truncate_sql(self) -> str:
        return f"DELETE FROM {quote(self.config.write.table)}"

    def _check_writable(self, schema: pa.Schema) -> None:
        generated = [name for name in schema.names if self._columns[name].generated]
        if generated:
            raise TerminalError(
                f"Columns {generated} of {self._target} are generated and cannot be written; "
                "drop them with a `mapping` processor."
            )

    def _requires_value(self, column: ColumnInfo, names: list[str]) -> bool:
        return (
            super()._requires_value(column, names)
            and not column.generated
            and not _is_rowid_alias(column, list(self._columns.values()))
        )

    def _opened_hook(self) -> None:
        write = self.config.write
        if write.mode == "upsert" or (write.mode != "merge" and write.strategy == "update"):
            self._check_conflict_key()

    def _check_conflict_key(self) -> None:
        """ON CONFLICT (key) needs a PRIMARY KEY or UNIQUE index on exactly the key."""
        assert self._connection is not None
        table, wanted = self.config.write.table, set(self.config.write.conflict_key)
        primary = {c.name for c in self._columns.values() if c.primary_key_position}
        if primary == wanted:
            return
        for _, index_name, unique, _, partial in query_rows(
            self._connection, f"PRAGMA index_list({quote(table)})"
        ):
            if unique and not partial:
                info = query_rows(self._connection, f"PRAGMA index_info({quote(index_name)})")
                if {row[2] for row in info} == wanted:
                    return
        columns = ", ".join(quote(name) for name in self.config.write.conflict_key)
        raise TerminalError(
            f"`mode: {self.config.write.mode}` updates rows by `conflict_key` and needs a "
            f"PRIMARY KEY or UNIQUE index on exactly {self.config.write.conflict_key} in "
            f"{self._target}; create one with CREATE UNIQUE INDEX "
            f"{quote(table + '_conflict_key')} ON {quote(table)} ({columns}), or use "
            "`mode: merge`, which needs none."
        )

    # -- writing ------------------------------------------------------------------------

    def _prepare(self, names: tuple[str, ...]) -> Statement:
        write = self.config.write
        sql = TableSql("sqlite", quote, quote(write.table), names, tuple(write.conflict_key))
        marks = ", ".join("?" for _ in names)
        if write.mode in ("insert", "truncate", "upsert"):
            insert = f"INSERT INTO {sql.table} ({sql.listed}) VALUES ({marks})"
            clause = sql.conflict_clause(write.strategy)
            return Statement(insert + clause, [], counts_inserted=write.strategy == "ignore")
        stage = quote(self._stage_name())
        declared = ", ".join(f"{quote(n)} {self._columns[n].declared}" for n in names)
        self._run(f"CREATE TEMP TABLE {stage} ({declared})", "Staging")
        steps = sql.staged_steps(stage, write.mode, write.strategy)
        return Statement(f"INSERT INTO {stage} ({sql.listed}) VALUES ({marks})", steps, stage)

    def _send(self, statement: Statement, data: pa.RecordBatch) -> int:
        assert self._connection is not None
        values = to_sqlite_values(data)
        if statement.stage is not None:
            self._run(f"DELETE FROM {statement.stage}", f"Staging for {self._target}")
        chunk = self.config.write.batch_size or values.num_rows
        changed = 0
        with cursor(self._connection) as cur:
            for offset in range(0, values.num_rows, chunk):
                cur.executemany(statement.insert_sql, values.slice(offset, chunk))
                changed += max(0, cur.rowcount)
        if statement.steps:
            return self._run_steps(statement.steps, values.num_rows)
        return values.num_rows - changed if statement.counts_inserted else 0

    # -- the driver ---------------------------------------------------------------------

    def _begin(self) -> None:
        if not self._in_transaction:
            self._run("BEGIN IMMEDIATE", f"Starting a transaction on {self._target}")
            self._in_transaction = True

    def _commit(self) -> None:
        if self._in_transaction:
            self._run("COMMIT", f"Committing to {self._target}")
            self._in_transaction = False

    def _rollback(self) -> None:
        if self._in_transaction:
            self._in_transaction = False
            self._run("ROLLBACK", f"Undoing a failed batch in {self._target}")

    def _drop_connection(self) -> None:
        self._in_transaction = False
        super()._drop_connection()

    def _run(self, sql: str, action: str) -> None:
        assert self._connection is not None
        try:
            with cursor(self._connection) as cur:
                cur.execute(sql)
                cur.fetchall()
        except FustgoError:
            raise
        except Exception as exc:
            raise translate_error(exc, action) from exc

    def _count(self, sql: str) -> int:
        assert self._connection is not None
        with cursor(self._connection) as cur:
            cur.execute(sql)
            rows = cur.fetchall()
            if sql.lstrip().upper().startswith("SELECT"):
                return int(rows[0][0] or 0) if rows else 0
            cur.execute("SELECT changes()")  # ADBC reports no row count for one statement
            return int(cur.fetchall()[0][0])

    def _translate(self, exc: Exception, action: str) -> FustgoError:
        return translate_error(exc, action)


def create_table_sql(table: str, schema: pa.Schema, conflict_key: list[str]) -> str:
    """CREATE TABLE with declared types from the type table and the key as PRIMARY KEY."""
    keys = set(conflict_key)
    definitions = []
    for field in schema:
        declared = sqlite_type(from_arrow(field.type, field.metadata)).declared
        not_null = " NOT NULL" if field.name in keys or not field.nullable else ""
        definitions.append(f"{quote(field.name)} {declared}{not_null}")
    if conflict_key:
        definitions.append(f"PRIMARY KEY ({', '.join(quote(name) for name in conflict_key)})")
    return f"CREATE TABLE IF NOT EXISTS {quote(table)} ({', '.join(definitions)})"


def _is_rowid_alias(column: ColumnInfo, columns: list[ColumnInfo]) -> bool:
    primary = [c for c in columns if c.primary_key_position]
    return primary == [column] and column.declared.upper() == "INTEGER"
