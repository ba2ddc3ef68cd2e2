"""PostgreSQL output: COPY Arrow batches into a table, in every write mode.

Each batch is cast to the target columns' logical types (the PostgreSQL type table in
`fustgo.plugins.clients.postgresql`) and encoded to PostgreSQL's binary COPY format by
`pgpq` (Rust, whole columns at once, exact numerics, strings sent to jsonb with jsonb's
version byte), then sent with psycopg 3's `cursor.copy()`: straight into the table for
`insert` and `truncate`, or into a temporary staging table that the statements of the mode
(`clients.sql.TableSql`: INSERT … ON CONFLICT, UPDATE … FROM, DELETE … USING, MERGE on
PostgreSQL 15+) move into the table. Columns of types outside the type table (uuid,
interval, enums, …) are staged as text and cast by the server. Every batch is one
transaction (`clients.sql.BlockingTableOutput`): a failed batch leaves nothing, a constraint
violation or bad value is a `DataError` so the runner isolates the rows, and a terminated
backend is reconnected and the batch written again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from fustgo.engine.errors import DataError, FustgoError
from fustgo.engine.types import LogicalType, from_arrow
from fustgo.plugins.api import PluginContext
from fustgo.plugins.clients.postgresql import (
    PostgresConnection,
    base_name,
    connect,
    logical_type,
    postgres_type,
    qualified,
    quote,
    quote_literal,
    translate_error,
)
from fustgo.plugins.clients.sql import (
    BlockingTableOutput,
    Step,
    TableSql,
    TableWrite,
    json_text_nested,
    nested_json_text,
)
from fustgo.plugins.registry import register_output
from fustgo.plugins.spec import PluginConfig

if TYPE_CHECKING:
    import psycopg

WHERE = "output.connection"
# Column types pgpq encodes exactly from their logical type's Arrow type.
_BINARY_TYPES = frozenset(
    {"int2", "int4", "int8", "float4", "float8", "numeric", "text", "varchar", "bpchar",
     "name", "bytea", "bool", "date", "time", "timestamp", "timestamptz", "json", "jsonb"}
)  # fmt: skip


class PostgresqlWrite(TableWrite):
    """Where and how rows are written: `batch_size` rows are encoded per COPY chunk."""


class PostgresqlOutputConfig(PluginConfig):
    """Writes batches into a PostgreSQL table with binary COPY: insert, update, upsert,
    replace, merge or truncate and insert."""

    connection: PostgresConnection
    """Where to connect; the password is a secret and never logged."""
    write: PostgresqlWrite
    """Target table, write mode, conflict key, schema evolution and SQL hooks."""


@dataclass(frozen=True)
class TargetColumn:
    """A column of the target table as the output writes it."""

    name: str
    declared: str
    not_null: bool
    has_default: bool

    @property
    def logical(self) -> LogicalType:
        return logical_type(self.declared)

    @property
    def binary(self) -> bool:
        """True when pgpq encodes the column exactly; otherwise it is staged as text."""
        name, dimensions, _ = base_name(self.declared)
        if name == "numeric":  # pgpq writes decimal128 only; more digits go as text
            logical = self.logical
            return dimensions == 0 and logical.kind == "decimal" and logical.precision <= 38  # type: ignore[operator]
        if dimensions == 1:  # array_recv checks the element type: only exact ones
            return name in ("int2", "int4", "int8", "float4", "float8", "text", "bool", "date")
        return dimensions == 0 and name in _BINARY_TYPES


@dataclass(frozen=True)
class Statement:
    """How batches of one set of fields are written."""

    names: tuple[str, ...]
    copy_sql: str
    """COPY into the table, or into the staging table that `steps` move into the table."""
    steps: list[Step]
    schema: pa.Schema
    encoders: dict[str, Any]
    """pgpq encoder builders by field; an encoder writes one COPY stream, so one per batch."""

    def encoder(self) -> Any:
        import pgpq

        return pgpq.ArrowToPostgresBinaryEncoder.new_with_encoders(self.schema, self.encoders)


@register_output(
    "postgresql",
    config=PostgresqlOutputConfig,
    family="rdb",
    title="PostgreSQL",
    capabilities={"upsert"},
    examples=[
        {
            "type": "postgresql",
            "connection": {
                "host": "127.0.0.1",
                "database": "dw",
                "user": "etl",
                "password": "${PG_PASSWORD:}",
            },
            "write": {"table": "public.fact_orders", "mode": "upsert", "conflict_key": ["id"]},
        },
        {
            "type": "postgresql",
            "connection": {"host": "127.0.0.1", "database": "dw", "user": "etl"},
            "write": {
                "table": "daily_orders",
                "mode": "truncate",
                "pre_sql": ["CREATE INDEX IF NOT EXISTS daily_orders_day ON daily_orders (day)"],
                "post_sql": ["ANALYZE daily_orders"],
            },
        },
        {
            "type": "postgresql",
            "connection": {"host": "127.0.0.1", "database": "dw", "user": "etl"},
            "write": {
                "table": "dim_customer",
                "mode": "merge",
                "conflict_key": ["customer_id"],
                "conflict": {"strategy": "ignore"},
                "new_columns": "error",
            },
        },
    ],
)
class PostgresqlOutput(BlockingTableOutput[PostgresqlOutputConfig]):
    """Writes each batch with binary COPY in its own transaction."""

    def __init__(
        self, config: PostgresqlOutputConfig, context: PluginContext | None = None
    ) -> None:
        super().__init__(config, context)
        self._connection: psycopg.Connection[Any] | None = None
        self._columns: dict[str, TargetColumn] = {}
        self._statements: dict[tuple[str, ...], Statement] = {}
        self._merge_statement = False

    @property
    def _target(self) -> str:
        return f"`{self.config.write.table}` on {self.config.connection.server}"

    def _check(self) -> None:
        connection = connect(self.config.connection, read_only=True, autocommit=True, where=WHERE)
        try:
            if not self._columns_of(connection) and not self.config.write.create_table:
                raise self._missing_table()
        finally:
            connection.close()

    def _connect(self) -> None:
        self._connection = connect(
            self.config.connection, read_only=False, autocommit=False, where=WHERE
        )
        self._merge_statement = self._connection.info.server_version >= 150000

    def _read_columns(self) -> list[TargetColumn]:
        assert self._connection is not None
        return self._columns_of(self._connection)

    def _columns_of(self, connection: psycopg.Connection[Any]) -> list[TargetColumn]:
        sql = (
            "SELECT attname, format_type(atttypid, atttypmod), attnotnull, "
            "atthasdef OR attidentity <> '' OR attgenerated <> '' FROM pg_attribute "
            f"WHERE attrelid = to_regclass({quote_literal(qualified(self.config.write.table))}) "
            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
        )
        try:
            rows = connection.execute(sql).fetchall()  # type: ignore[arg-type]
        except Exception as exc:
            raise self._translate(exc, f"Reading {self._target}") from exc
        return [TargetColumn(str(r[0]), str(r[1]), bool(r[2]), bool(r[3])) for r in rows]

    def _logical(self, column: TargetColumn) -> LogicalType:
        return column.logical

    def _create_table_sql(self, schema: pa.Schema) -> str:
        return create_table_sql(self.config.write.table, schema, self.config.write.conflict_key)

    def _add_column_sql(self, field: pa.Field) -> str:
        declared = postgres_type(from_arrow(field.type, field.metadata))
        return (
            f"ALTER TABLE {qualified(self.config.write.table)} "
            f"ADD COLUMN IF NOT EXISTS {quote(field.name)} {declared}"
        )

    def _truncate_sql(self) -> str:
        return f"TRUNCATE {qualified(self.config.write.table)}"

    # -- direct copies (`inputs.postgresql.transfer`) -------------------------------------

    def column_types(self) -> dict[str, str]:
        """The target's columns and their declared types (after `open`)."""
        return {name: column.declared for name, column in self._columns.items()}

    async def start_direct_copy(self) -> str:
        """Before splits are copied around this output: empty the table now when the mode
        says so (once, committed); the qualified table the copies go into."""
        await asyncio.to_thread(self._locked, self._empty_if_pending)
        return qualified(self.config.write.table)

    def _empty_if_pending(self) -> None:
        if not self._truncate_pending:
            return
        try:
            if self._connection is None:
                self._connect()
            self._begin()
            self._run(self._truncate_sql(), f"Emptying {self._target}")
            self._commit()
        except Exception as exc:
            raise self._failed(exc, f"Emptying {self._target}") from exc
        self._truncate_pending = False

    # -- writing ------------------------------------------------------------------------

    def _prepare(self, names: tuple[str, ...]) -> Statement:
        """The COPY (and staging) statements and the encoder of one set of fields."""
        write = self.config.write
        columns = [self._columns[name] for name in names]
        fields = [_encoded_field(column) for column in columns]
        encoders = {
            field.name: _encoder(field, column)
            for field, column in zip(fields, columns, strict=True)
        }
        schema = pa.schema(fields)
        listed = ", ".join(quote(name) for name in names)
        if write.inserts_directly and all(c.binary for c in columns):
            copy = f"COPY {qualified(write.table)} ({listed}) FROM STDIN (FORMAT binary)"
            return Statement(names, copy, [], schema, encoders)
        stage = quote(self._stage_name())
        staged = ", ".join(f"{quote(c.name)} {c.declared if c.binary else 'text'}" for c in columns)
        self._run(f"CREATE TEMP TABLE {stage} ({staged}) ON COMMIT DELETE ROWS", "Staging")

        def value(name: str) -> str:
            column = self._columns[name]
            return f"s.{quote(name)}" + ("" if column.binary else f"::{column.declared}")

        sql = TableSql(
            "postgresql",
            quote,
            qualified(write.table),
            names,
            tuple(write.conflict_key),
            merge_statement=self._merge_statement,
        )
        steps = sql.staged_steps(stage, write.mode, write.strategy, value)
        copy = f"COPY {stage} ({listed}) FROM STDIN (FORMAT binary)"
        return Statement(names, copy, steps, schema, encoders)

    def _send(self, statement: Statement, data: pa.RecordBatch) -> int:
        assert self._connection is not None
        values = self._cast(data, statement)
        chunk = self.config.write.batch_size or values.num_rows
        with self._connection.cursor() as cursor:
            encoder = statement.encoder()
            with cursor.copy(statement.copy_sql) as copy:  # type: ignore[arg-type]
                copy.write(encoder.write_header())
                for offset in range(0, values.num_rows, chunk):
                    copy.write(encoder.write_batch(values.slice(offset, chunk)))
                copy.write(encoder.finish())
        return self._run_steps(statement.steps, values.num_rows)

    def _cast(self, data: pa.RecordBatch, statement: Statement) -> pa.RecordBatch:
        """The batch in the Arrow types the encoder expects; a value that does not fit its
        column (overflow, lost digits) makes the batch a `DataError`."""
        arrays = []
        for name in statement.names:
            column = self._columns[name]
            array = data.column(name)
            field = data.schema.field(name)
            try:
                arrays.append(_to_target(array, from_arrow(field.type, field.metadata), column))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise DataError(
                    f"Column `{name}` has a value that `{column.declared}` in {self._target} "
                    f"cannot hold: {exc}."
                ) from exc
        return pa.RecordBatch.from_arrays(arrays, schema=statement.schema)

    # -- the driver ---------------------------------------------------------------------

    def _commit(self) -> None:
        if self._connection is not None:
            try:
                self._connection.commit()
            except Exception as exc:
                raise self._translate(exc, f"Committing to {self._target}") from exc

    def _rollback(self) -> None:
        if self._connection is not None:
            self._connection.rollback()

    def _run(self, sql: str, action: str) -> None:
        assert self._connection is not None
        try:
            self._connection.execute(sql)  # type: ignore[arg-type]
        except FustgoError:
            raise
        except Exception as exc:
            raise self._translate(exc, action) from exc

    def _count(self, sql: str) -> int:
        assert self._connection is not None
        cursor = self._connection.execute(sql)  # type: ignore[arg-type]
        if cursor.description:
            row = cursor.fetchone()
            return int(row[0]) if row else 0
        return max(0, cursor.rowcount)

    def _translate(self, exc: Exception, action: str) -> FustgoError:
        return translate_error(exc, action, self.config.connection, WHERE)

    def _is_lost(self, exc: Exception) -> bool:
        connection = self._connection
        return connection is None or connection.closed or connection.broken


def create_table_sql(table: str, schema: pa.Schema, conflict_key: list[str]) -> str:
    """CREATE TABLE with column types from the type table and the key as PRIMARY KEY."""
    definitions = []
    for field in schema:
        declared = postgres_type(from_arrow(field.type, field.metadata))
        not_null = " NOT NULL" if field.name in conflict_key or not field.nullable else ""
        definitions.append(f"{quote(field.name)} {declared}{not_null}")
    if conflict_key:
        definitions.append(f"PRIMARY KEY ({', '.join(quote(name) for name in conflict_key)})")
    return f"CREATE TABLE IF NOT EXISTS {qualified(table)} ({', '.join(definitions)})"


def _encoded_field(column: TargetColumn) -> pa.Field:
    """The Arrow field a column is encoded from: its logical type, or text when staged."""
    if not column.binary:
        return pa.field(column.name, pa.string())
    logical = column.logical
    if logical.kind == "timestamp":  # pgpq writes microseconds; the zone is irrelevant
        return pa.field(column.name, pa.timestamp("us", tz=logical.timezone))
    return pa.field(column.name, logical.to_arrow())


def _encoder(field: pa.Field, column: TargetColumn) -> Any:
    """pgpq's encoder for a field; jsonb needs its own (a version byte precedes the text)."""
    import pgpq
    from pgpq import encoders, schema

    if base_name(column.declared)[0] == "jsonb" and column.binary:
        return encoders.StringEncoderBuilder.new_with_output(field, schema.Jsonb())
    return pgpq.ArrowToPostgresBinaryEncoder.infer_encoder(field)


def _to_target(array: pa.Array, source: LogicalType, column: TargetColumn) -> pa.Array:
    """`array` (of logical type `source`) in the Arrow type `column` is encoded from."""
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    target = _encoded_field(column).type
    if array.type == target:
        return array
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), target)
    if pa.types.is_string(target) and source.kind in ("list", "struct"):
        return nested_json_text(array)  # lists and structs into json/jsonb (or staged text)
    if pa.types.is_list(target) and source.kind in ("string", "json"):
        return json_text_nested(array, target)  # arrays a family stored as JSON text
    return pc.cast(array, target)
