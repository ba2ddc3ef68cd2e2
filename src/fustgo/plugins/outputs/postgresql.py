"""PostgreSQL output: COPY Arrow batches into a table (insert, upsert, replace, truncate).

Each batch is cast to the target columns' logical types (the PostgreSQL type table in
`fustgo.plugins.clients.postgresql`) and encoded to PostgreSQL's binary COPY format by
`pgpq` (Rust, whole columns at once, exact numerics, strings sent to jsonb with jsonb's
version byte), then sent with psycopg 3's `cursor.copy()`: straight into the table for
`insert`, or into a temporary staging table merged with one `INSERT … SELECT … ON
CONFLICT` (`upsert`) or `DELETE … USING` + `INSERT` (`replace`). Columns of types outside
the table (uuid, interval, enums, …) are staged as text and cast by the server. Every batch
runs in a SAVEPOINT of a transaction that `flush()` commits: a failed batch leaves nothing,
and a constraint violation or bad value is a `DataError`, so the runner isolates the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Self

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, model_validator

from fustgo.engine.errors import DataError, FustgoError, TerminalError
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
from fustgo.plugins.clients.sql import BlockingTableOutput, json_text_nested, nested_json_text
from fustgo.plugins.registry import register_output
from fustgo.plugins.spec import PluginConfig, ui

if TYPE_CHECKING:
    import psycopg

WriteMode = Literal["insert", "upsert", "replace", "truncate_insert"]
WHERE = "output.connection"
# Column types pgpq encodes exactly from their logical type's Arrow type.
_BINARY_TYPES = frozenset(
    {"int2", "int4", "int8", "float4", "float8", "numeric", "text", "varchar", "bpchar",
     "name", "bytea", "bool", "date", "time", "timestamp", "timestamptz", "json", "jsonb"}
)  # fmt: skip


class PostgresqlWrite(PluginConfig):
    """Where and how rows are written."""

    table: str = Field(min_length=1, json_schema_extra=ui(placeholder="public.fact_orders"))
    """Target table, optionally with its schema (`sales.orders`); created from the first
    batch's schema when missing (see `create_table`)."""
    mode: WriteMode = "insert"
    """`insert` (COPY; a duplicate key is a bad record), `upsert` (INSERT … ON CONFLICT
    (`conflict_key`) DO UPDATE; replays are harmless), `replace` (delete the rows with the
    batch's keys, then insert) or `truncate_insert` (TRUNCATE first, in the same
    transaction as the first rows, unless the run resumes an interrupted one)."""
    conflict_key: list[str] = Field(default_factory=list)
    """Columns that identify a row; required for `upsert` and `replace`. A created table gets
    them as its PRIMARY KEY; for `upsert` an existing one needs a unique index on them."""
    batch_size: int | None = Field(
        default=None, ge=1, json_schema_extra=ui(unit="rows", advanced=True)
    )
    """Rows encoded per COPY chunk; a whole batch is still one transaction. Default: the batch."""
    create_table: bool = True
    """Create the table when it does not exist, with column types from the type table."""
    pre_sql: list[str] = Field(default_factory=list, json_schema_extra=ui(advanced=True))
    """Statements run once before the first write (e.g. `CREATE INDEX IF NOT EXISTS …`)."""
    post_sql: list[str] = Field(default_factory=list, json_schema_extra=ui(advanced=True))
    """Statements run once when the output closes, after the last commit (e.g. `ANALYZE
    orders`); they also run when the run stopped early, so keep them safe on partial data."""

    @model_validator(mode="after")
    def _key_for_mode(self) -> Self:
        if self.mode in ("upsert", "replace") and not self.conflict_key:
            raise ValueError(
                f"`mode: {self.mode}` needs `conflict_key`, the columns that identify a row"
            )
        if len(set(self.conflict_key)) != len(self.conflict_key):
            raise ValueError("`conflict_key` names a column twice")
        return self


class PostgresqlOutputConfig(PluginConfig):
    """Writes batches into a PostgreSQL table with binary COPY: insert, upsert, replace or
    truncate and insert."""

    connection: PostgresConnection
    """Where to connect; the password is a secret and never logged."""
    write: PostgresqlWrite
    """Target table, write mode, conflict key and SQL hooks."""


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
    direct: bool
    """True when rows are copied straight into the table (no staging)."""
    copy_sql: str
    merge_sql: list[str]
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
                "mode": "truncate_insert",
                "pre_sql": ["CREATE INDEX IF NOT EXISTS daily_orders_day ON daily_orders (day)"],
                "post_sql": ["ANALYZE daily_orders"],
            },
        },
    ],
)
class PostgresqlOutput(BlockingTableOutput[PostgresqlOutputConfig]):
    """Writes with binary COPY in savepoints of a transaction committed by `flush()`."""

    def __init__(
        self, config: PostgresqlOutputConfig, context: PluginContext | None = None
    ) -> None:
        super().__init__(config, context)
        self._connection: psycopg.Connection[Any] | None = None
        self._opened = False
        self._columns: dict[str, TargetColumn] = {}
        self._statements: dict[tuple[str, ...], Statement] = {}

    @property
    def _target(self) -> str:
        return f"`{self.config.write.table}` on {self.config.connection.server}"

    def _check(self) -> None:
        connection = connect(self.config.connection, read_only=True, autocommit=True, where=WHERE)
        try:
            if not self._target_columns(connection) and not self.config.write.create_table:
                raise self._missing_table()
        finally:
            connection.close()

    def _open(self, schema: pa.Schema) -> None:
        write = self.config.write
        self._disconnect()  # a retried open starts afresh
        self._connection = connect(
            self.config.connection, read_only=False, autocommit=False, where=WHERE
        )
        for index, statement in enumerate(write.pre_sql):
            self._run(statement, f"`output.write.pre_sql[{index}]` failed")
        columns = self._target_columns(self._connection)
        if not columns:
            if not write.create_table:
                raise self._missing_table()
            self._run(create_table_sql(write.table, schema, write.conflict_key), "Creating")
            columns = self._target_columns(self._connection)
        self._columns = {column.name: column for column in columns}
        self._check_schema(schema)
        self._commit()
        if write.mode == "truncate_insert" and not self.context.resume:
            # in the transaction of the first rows: a failed run leaves the old rows
            self._run(f"TRUNCATE {qualified(write.table)}", f"Emptying {self._target}")
        self._opened = True

    def _target_columns(self, connection: psycopg.Connection[Any]) -> list[TargetColumn]:
        sql = (
            "SELECT attname, format_type(atttypid, atttypmod), attnotnull, "
            "atthasdef OR attidentity <> '' OR attgenerated <> '' FROM pg_attribute "
            f"WHERE attrelid = to_regclass({quote_literal(qualified(self.config.write.table))}) "
            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
        )
        try:
            rows = connection.execute(sql).fetchall()  # type: ignore[arg-type]
        except Exception as exc:
            raise translate_error(
                exc, f"Reading {self._target}", self.config.connection, WHERE
            ) from exc
        return [TargetColumn(str(r[0]), str(r[1]), bool(r[2]), bool(r[3])) for r in rows]

    # -- writing ------------------------------------------------------------------------

    def _write(self, data: pa.RecordBatch) -> None:
        if self._connection is None:
            raise TerminalError("The postgresql output was written to before `open()`.")
        names = tuple(data.schema.names)
        statement = self._statements.get(names)
        if statement is None:
            self._check_schema(data.schema)
            statement = self._statements[names] = self._prepare(names)
        values = self._cast(data, statement)
        chunk = self.config.write.batch_size or values.num_rows
        action = f"Writing to {self._target}"
        self._run("SAVEPOINT fustgo_batch", action)
        try:
            with self._connection.cursor() as cursor:
                encoder = statement.encoder()
                with cursor.copy(statement.copy_sql) as copy:  # type: ignore[arg-type]
                    copy.write(encoder.write_header())
                    for offset in range(0, values.num_rows, chunk):
                        copy.write(encoder.write_batch(values.slice(offset, chunk)))
                    copy.write(encoder.finish())
                for sql in statement.merge_sql:
                    cursor.execute(sql)  # type: ignore[arg-type]
        except Exception as exc:
            self._run("ROLLBACK TO SAVEPOINT fustgo_batch", f"Undoing a failed batch in {action}")
            raise translate_error(exc, action, self.config.connection, WHERE) from exc
        self._run("RELEASE SAVEPOINT fustgo_batch", action)

    def _prepare(self, names: tuple[str, ...]) -> Statement:
        """The COPY (and merge) statements and the encoder of one set of fields."""
        write = self.config.write
        columns = [self._columns[name] for name in names]
        fields = [_encoded_field(column) for column in columns]
        encoders = {
            field.name: _encoder(field, column)
            for field, column in zip(fields, columns, strict=True)
        }
        schema = pa.schema(fields)
        listed = ", ".join(quote(name) for name in names)
        direct = write.mode in ("insert", "truncate_insert") and all(c.binary for c in columns)
        if direct:
            copy = f"COPY {qualified(write.table)} ({listed}) FROM STDIN (FORMAT binary)"
            return Statement(names, True, copy, [], schema, encoders)
        stage = quote(f"fustgo_stage_{len(self._statements)}")
        staged = ", ".join(f"{quote(c.name)} {c.declared if c.binary else 'text'}" for c in columns)
        self._run(f"CREATE TEMP TABLE {stage} ({staged}) ON COMMIT DELETE ROWS", "Staging")
        selected = ", ".join(
            quote(c.name) if c.binary else f"{quote(c.name)}::{c.declared}" for c in columns
        )
        insert = f"INSERT INTO {qualified(write.table)} ({listed}) SELECT {selected} FROM {stage}"
        keys = ", ".join(quote(name) for name in write.conflict_key)
        merge: list[str] = []
        if write.mode == "upsert":
            updates = [
                f"{quote(n)} = excluded.{quote(n)}" for n in names if n not in write.conflict_key
            ]
            action = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
            insert += f" ON CONFLICT ({keys}) {action}"
        elif write.mode == "replace":
            matches = " AND ".join(
                f"t.{quote(n)} = s.{quote(n)}::{self._columns[n].declared}"
                for n in write.conflict_key
            )
            merge.append(f"DELETE FROM {qualified(write.table)} AS t USING {stage} AS s "
                         f"WHERE {matches}")  # fmt: skip
        merge += [insert, f"TRUNCATE {stage}"]
        copy = f"COPY {stage} ({listed}) FROM STDIN (FORMAT binary)"
        return Statement(names, False, copy, merge, schema, encoders)

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
        fields = [_encoded_field(self._columns[name]) for name in statement.names]
        return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))

    def _commit(self) -> None:
        if self._connection is not None:
            try:
                self._connection.commit()
            except Exception as exc:
                raise translate_error(
                    exc, f"Committing to {self._target}", self.config.connection, WHERE
                ) from exc

    def _disconnect(self) -> None:
        """Close the connection; the server rolls back whatever was not committed."""
        connection, self._connection = self._connection, None
        self._opened = False
        self._statements = {}
        if connection is not None:
            connection.close()

    def _run(self, sql: str, action: str) -> None:
        assert self._connection is not None
        try:
            self._connection.execute(sql)  # type: ignore[arg-type]
        except FustgoError:
            raise
        except Exception as exc:
            raise translate_error(exc, action, self.config.connection, WHERE) from exc


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
