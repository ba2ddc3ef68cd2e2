"""SQLite output: insert, upsert or replace Arrow batches into a table, atomically per batch.

Batches are bound to one prepared INSERT by ADBC straight from Arrow (no Python rows),
each inside a SAVEPOINT of a transaction that `flush()` commits, so a failed batch leaves
nothing behind and the durability point is the runner's. Values are stored in the
representations of the SQLite type table (`fustgo.plugins.clients.sqlite`), so the
`sqlite` input reads them back with the same logical types.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal, Self

import pyarrow as pa
from pydantic import Field, model_validator

from fustgo.engine.errors import FustgoError, TerminalError
from fustgo.engine.types import from_arrow
from fustgo.plugins.api import PluginContext
from fustgo.plugins.clients.sql import BlockingTableOutput
from fustgo.plugins.clients.sqlite import (
    ColumnInfo,
    SqliteConnection,
    connect,
    cursor,
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

WriteMode = Literal["insert", "upsert", "replace", "truncate_insert"]


class SqliteWrite(PluginConfig):
    """Where and how rows are written."""

    table: str = Field(min_length=1, json_schema_extra=ui(placeholder="orders"))
    """Target table; created from the first batch's schema when missing (see `create_table`)."""
    mode: WriteMode = "insert"
    """`insert` (a duplicate key is a bad record), `upsert` (update rows whose
    `conflict_key` exists; replays are harmless), `replace` (SQLite's INSERT OR REPLACE:
    delete rows that conflict on any unique key, then insert) or `truncate_insert` (empty
    the table first, unless the run resumes an interrupted one)."""
    conflict_key: list[str] = Field(default_factory=list)
    """Columns that identify a row; required for `upsert`. A created table gets them as its
    PRIMARY KEY; an existing one needs a PRIMARY KEY or UNIQUE index on exactly them."""
    batch_size: int | None = Field(
        default=None, ge=1, json_schema_extra=ui(unit="rows", advanced=True)
    )
    """Rows per INSERT statement; a whole batch is still one transaction. Default: the batch."""
    create_table: bool = True
    """Create the table when it does not exist, with column types from the type table."""
    pre_sql: list[str] = Field(default_factory=list, json_schema_extra=ui(advanced=True))
    """Statements run once before the first write (e.g. `CREATE INDEX IF NOT EXISTS …`)."""
    post_sql: list[str] = Field(default_factory=list, json_schema_extra=ui(advanced=True))
    """Statements run once when the output closes, after the last commit (e.g. `ANALYZE`);
    they also run when the run stopped early, so keep them safe to run on partial data."""

    @model_validator(mode="after")
    def _key_for_upsert(self) -> Self:
        if self.mode == "upsert" and not self.conflict_key:
            raise ValueError("`mode: upsert` needs `conflict_key`, the columns that identify a row")
        if len(set(self.conflict_key)) != len(self.conflict_key):
            raise ValueError("`conflict_key` names a column twice")
        return self


class SqliteOutputConfig(PluginConfig):
    """Writes batches into a SQLite table: insert, upsert, replace or truncate and insert."""

    connection: SqliteConnection
    """The database file; it is created (with its folder) when missing."""
    write: SqliteWrite
    """Target table, write mode, conflict key and SQL hooks."""


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
                "mode": "truncate_insert",
                "pre_sql": ["CREATE INDEX IF NOT EXISTS daily_orders_day ON daily_orders (day)"],
                "post_sql": ["ANALYZE"],
            },
        },
    ],
)
class SqliteOutput(BlockingTableOutput[SqliteOutputConfig]):
    """Writes with ADBC in savepoints of a transaction committed by `flush()`."""

    def __init__(self, config: SqliteOutputConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._connection: Connection | None = None
        self._opened = False
        self._in_transaction = False
        self._columns: dict[str, ColumnInfo] = {}
        self._statements: dict[tuple[str, ...], str] = {}

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

    def _open(self, schema: pa.Schema) -> None:
        write = self.config.write
        self._disconnect()  # a retried open starts afresh
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TerminalError(f"Cannot create the folder of `{self.path}`: {exc}.") from exc
        self._connection = connect(
            self.path, read_only=False, busy_timeout_seconds=self.config.connection.busy_timeout
        )
        self._run("PRAGMA journal_mode = WAL", "Switching to WAL journal mode")
        self._run("PRAGMA synchronous = NORMAL", "Setting synchronous mode")
        for index, statement in enumerate(write.pre_sql):
            self._run(statement, f"`output.write.pre_sql[{index}]` failed")
        columns = table_columns(self._connection, write.table)
        if not columns:
            if not write.create_table:
                raise missing_table_error(
                    write.table, table_names(self._connection), f"`{self.path}`"
                )
            self._run(
                create_table_sql(write.table, schema, write.conflict_key),
                f"Creating {self._target}",
            )
            columns = table_columns(self._connection, write.table)
        self._columns = {column.name: column for column in columns}
        self._check_schema(schema)
        if write.mode == "upsert":
            self._check_conflict_key()
        if write.mode == "truncate_insert" and not self.context.resume:
            self._begin()  # emptied in the same transaction as the first rows
            self._run(f"DELETE FROM {quote(write.table)}", f"Emptying {self._target}")
        self._opened = True

    def _check_schema(self, schema: pa.Schema) -> None:
        write = self.config.write
        missing = [name for name in schema.names if name not in self._columns]
        if missing:
            raise TerminalError(
                f"Columns {missing} are not in table {self._target}; drop or rename them with "
                "a `mapping` processor, add them to the table (ALTER TABLE … ADD COLUMN), or "
                "write to a new table with `create_table`."
            )
        generated = [name for name in schema.names if self._columns[name].generated]
        if generated:
            raise TerminalError(
                f"Columns {generated} of {self._target} are generated and cannot be written; "
                "drop them with a `mapping` processor."
            )
        required = [
            column.name
            for column in self._columns.values()
            if column.not_null
            and not column.has_default
            and not column.generated
            and column.name not in schema.names
            and not _is_rowid_alias(column, list(self._columns.values()))
        ]
        if required:
            raise TerminalError(
                f"Table {self._target} requires values for {required} (NOT NULL without a "
                "default) but the records have no such fields; add them with `transform`."
            )
        absent_keys = [name for name in write.conflict_key if name not in schema.names]
        if absent_keys:
            raise TerminalError(
                f"`output.write.conflict_key` names {absent_keys}, which the records do not "
                f"have; their fields are: {', '.join(schema.names)}."
            )

    def _check_conflict_key(self) -> None:
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
            f"`mode: upsert` needs a PRIMARY KEY or UNIQUE index on exactly "
            f"{self.config.write.conflict_key} in {self._target}; create one with "
            f"CREATE UNIQUE INDEX {quote(table + '_conflict_key')} ON {quote(table)} ({columns})."
        )

    def _write(self, data: pa.RecordBatch) -> None:
        if self._connection is None:
            raise TerminalError("The sqlite output was written to before `open()`.")
        names = tuple(data.schema.names)
        statement = self._statements.get(names)
        if statement is None:
            self._check_schema(data.schema)
            statement = self._statements[names] = insert_sql(
                self.config.write.table,
                list(names),
                self.config.write.mode,
                self.config.write.conflict_key,
            )
        values = to_sqlite_values(data)
        self._begin()
        self._run("SAVEPOINT fustgo_batch", f"Writing to {self._target}")
        try:
            chunk = self.config.write.batch_size or values.num_rows
            with cursor(self._connection) as cur:
                for offset in range(0, values.num_rows, chunk):
                    cur.executemany(statement, values.slice(offset, chunk))
        except Exception as exc:
            self._run("ROLLBACK TO fustgo_batch", f"Undoing a failed batch in {self._target}")
            self._run("RELEASE fustgo_batch", f"Undoing a failed batch in {self._target}")
            raise translate_error(exc, f"Writing to {self._target}") from exc
        self._run("RELEASE fustgo_batch", f"Writing to {self._target}")

    def _begin(self) -> None:
        if not self._in_transaction:
            self._run("BEGIN IMMEDIATE", f"Starting a transaction on {self._target}")
            self._in_transaction = True

    def _commit(self) -> None:
        if self._in_transaction:
            self._run("COMMIT", f"Committing to {self._target}")
            self._in_transaction = False

    def _disconnect(self) -> None:
        """Close the connection; SQLite rolls back whatever was not committed."""
        connection, self._connection = self._connection, None
        self._opened = self._in_transaction = False
        if connection is not None:
            connection.close()

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


def insert_sql(table: str, columns: list[str], mode: WriteMode, conflict_key: list[str]) -> str:
    """The INSERT statement of a write mode, with one `?` per column."""
    names = ", ".join(quote(name) for name in columns)
    marks = ", ".join("?" for _ in columns)
    verb = "INSERT OR REPLACE" if mode == "replace" else "INSERT"
    sql = f"{verb} INTO {quote(table)} ({names}) VALUES ({marks})"
    if mode != "upsert":
        return sql
    keys = ", ".join(quote(name) for name in conflict_key)
    updates = [
        f"{quote(name)} = excluded.{quote(name)}" for name in columns if name not in conflict_key
    ]
    action = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
    return f"{sql} ON CONFLICT ({keys}) {action}"


def _is_rowid_alias(column: ColumnInfo, columns: list[ColumnInfo]) -> bool:
    primary = [c for c in columns if c.primary_key_position]
    return primary == [column] and column.declared.upper() == "INTEGER"
