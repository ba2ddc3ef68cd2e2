"""The catalog contract: test a connection, list what a database holds, preview rows.

One `Catalog` per relational family (PostgreSQL, MySQL/MariaDB/TiDB, SQLite) over one
read-only connection. The API is async because its consumers are (the server's handlers,
`validate --check-connections`); the drivers are blocking, so every call runs in a worker
thread, one at a time per catalog (a connection serves one thread at a time).

Previews are read by the family's own input plugin, so a preview has exactly the logical
types and conversions a pipeline run would produce, and values the input cannot convert
are counted and reported, never silently dropped.
"""

from __future__ import annotations

import asyncio
import difflib
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from fustgo.engine.errors import TerminalError
from fustgo.engine.types import LogicalType
from fustgo.plugins.api import Input, distinct_messages

T = TypeVar("T")

DEFAULT_PREVIEW_ROWS = 20
MAX_PREVIEW_ROWS = 10_000
"""A preview is for eyes and profiling, not for copying tables."""


@dataclass(frozen=True)
class ServerInfo:
    """What a connection test found: who answered, how fast, and whether it takes writes."""

    product: str
    """`PostgreSQL`, `MariaDB`, `MySQL`, `TiDB` or `SQLite`."""
    version: str
    address: str
    """`host:port/database`, or the SQLite file."""
    user: str | None
    read_only: bool
    """True when the server takes no writes (a hot standby, `read_only=ON`, a read-only file)."""
    connect_ms: float
    """Time to open the connection (with TLS and authentication)."""
    latency_ms: float
    """One round trip (`SELECT 1`) on the open connection."""

    def describe(self) -> str:
        """One line: `PostgreSQL 15.10 at 127.0.0.1:5432/test as postgres, read-write, …`."""
        who = f" as {self.user}" if self.user else ""
        mode = "read-only" if self.read_only else "read-write"
        return (
            f"{self.product} {self.version} at {self.address}{who}, {mode}, connected in "
            f"{self.connect_ms:.1f} ms, round trip {self.latency_ms:.1f} ms"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "product": self.product,
            "version": self.version,
            "address": self.address,
            "user": self.user,
            "read_only": self.read_only,
            "connect_ms": round(self.connect_ms, 3),
            "latency_ms": round(self.latency_ms, 3),
        }


@dataclass(frozen=True)
class TableInfo:
    """One table-like object of a schema."""

    schema: str
    name: str
    kind: str
    """`table`, `view`, `materialized view`, `partitioned table`, `foreign table`, `sequence`."""
    rows_estimate: int | None
    """From the database's statistics (never a full count); None when it has none."""
    comment: str | None = None

    @property
    def qualified(self) -> str:
        """`schema.name`, as `input.query.table` and `output.write.table` take it."""
        return f"{self.schema}.{self.name}"

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "name": self.name,
            "kind": self.kind,
            "rows_estimate": self.rows_estimate,
            "comment": self.comment,
        }


@dataclass(frozen=True)
class ColumnInfo:
    """One column as the database declares it and as FustGo reads it."""

    name: str
    declared: str
    """The database's own spelling (`numeric(12,2)`, `int(10) unsigned`, `TEXT`)."""
    logical: LogicalType | None
    """From the family's one type table; None for a SQLite column declared without a type
    (its values decide)."""
    nullable: bool
    default: str | None = None
    """The default expression as the database shows it; None when there is none."""
    primary_key: int | None = None
    """1-based position in the primary key; None when the column is not part of it."""
    comment: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "declared": self.declared,
            "logical": str(self.logical) if self.logical is not None else None,
            "nullable": self.nullable,
            "default": self.default,
            "primary_key": self.primary_key,
            "comment": self.comment,
        }


@dataclass(frozen=True)
class Preview:
    """The first rows of a table or query, as the family's input reads them."""

    data: pa.Table
    """Columns with their logical types (JSON columns tagged in the field metadata)."""
    rejected: int = 0
    """Rows among the first ones whose values the input could not convert (a pipeline run
    would send them to the dead-letter output); they are not in `data`."""
    errors: tuple[str, ...] = field(default=())
    """Distinct messages of the rejected rows (at most 5)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "columns": [{"name": f.name, "type": _logical_name(f)} for f in self.data.schema],
            "rows": [
                [_json_value(value) for value in row.values()] for row in self.data.to_pylist()
            ],
            "rejected": self.rejected,
            "errors": list(self.errors),
        }


def _logical_name(arrow_field: pa.Field) -> str:
    from fustgo.engine.types import from_arrow

    return str(from_arrow(arrow_field.type, arrow_field.metadata))


def _json_value(value: Any) -> Any:
    """A preview value as JSON: numbers and strings as they are, the rest as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_value(item) for key, item in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class Catalog(ABC):
    """A read-only view of one database: use as `async with catalog: …`.

    Table names are spelled as the family's input takes them (`schema.table`, or `table` in
    the connection's default schema). Every error is a `FustgoError` naming the server and
    the config field to fix (`where`, e.g. `input.connection`).
    """

    family: ClassVar[str]
    """The family's name (`postgresql`, `mysql`, `sqlite`)."""

    def __init__(
        self, settings: Any, *, where: str = "connection", base_dir: Path | None = None
    ) -> None:
        self.settings = settings
        self.where = where
        self.base_dir = base_dir or Path.cwd()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @abstractmethod
    async def open(self) -> None:
        """Connect (read-only session); raises the family's translated connection error."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def test(self) -> ServerInfo:
        """Product, version, user, read-only, connect time and one round trip."""

    @abstractmethod
    async def default_schema(self) -> str:
        """Where a table name without a schema is looked up."""

    @abstractmethod
    async def schemas(self) -> list[str]:
        """User schemas (databases for MySQL), system ones left out, sorted."""

    @abstractmethod
    async def tables(self, schema: str | None = None) -> list[TableInfo]:
        """Tables, views and the like of `schema` (the default one when None), by name."""

    @abstractmethod
    async def table(self, table: str) -> TableInfo:
        """One table (error naming close matches when it does not exist)."""

    @abstractmethod
    async def columns(self, table: str) -> list[ColumnInfo]:
        """The columns of `table`, in order."""

    async def primary_key(self, table: str) -> list[str]:
        """The primary key's columns in key order; empty when there is none."""
        keyed = [c for c in await self.columns(table) if c.primary_key is not None]
        return [c.name for c in sorted(keyed, key=lambda c: c.primary_key or 0)]

    async def preview(
        self, *, table: str | None = None, sql: str | None = None, limit: int = DEFAULT_PREVIEW_ROWS
    ) -> Preview:
        """The first `limit` rows of `table` or of the query `sql`, in no particular order.

        The database stops after `limit` rows (`LIMIT` in the query), so a preview of a
        huge table costs what reading `limit` rows costs. A table's preview gets the
        table's own column types (the same as `input.query.table` reads).
        """
        if (table is None) == (sql is None):
            raise TerminalError("Preview either a table or a query (not both).")
        if not 1 <= limit <= MAX_PREVIEW_ROWS:
            raise TerminalError(f"A preview shows 1 to {MAX_PREVIEW_ROWS} rows, not {limit}.")
        if table is not None:
            columns = await self.columns(table)
            query = f"SELECT * FROM {self._quoted(table)} LIMIT {limit}"
            read = await read_preview(self._input(query, limit), limit)
            return Preview(align(read.data, columns), read.rejected, read.errors)
        assert sql is not None
        query = f"SELECT * FROM ({sql.strip().rstrip(';')}) AS fustgo_preview LIMIT {limit}"
        return await read_preview(self._input(query, limit), limit)

    @abstractmethod
    def _quoted(self, table: str) -> str:
        """The table's name quoted for the family's SQL."""

    @abstractmethod
    def _input(self, sql: str, limit: int) -> Input[Any]:
        """The family's input plugin reading the query `sql` in pages of `limit` rows."""


class BlockingCatalog(Catalog):
    """A catalog over a blocking driver: `_call` runs one step in a worker thread."""

    def __init__(
        self, settings: Any, *, where: str = "connection", base_dir: Path | None = None
    ) -> None:
        super().__init__(settings, where=where, base_dir=base_dir)
        self._connection: Any = None
        self._connect_ms = 0.0
        self._lock = threading.Lock()

    async def open(self) -> None:
        await self._call(self._open)

    async def close(self) -> None:
        await self._call(self._close)

    async def _call(self, action: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(self._locked, action, *args)

    def _locked(self, action: Callable[..., T], *args: Any) -> T:
        with self._lock:
            return action(*args)

    def _open(self) -> None:
        if self._connection is not None:
            return
        started = time.perf_counter()
        self._connection = self._connect()
        self._connect_ms = (time.perf_counter() - started) * 1000

    def _close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()

    @property
    def connection(self) -> Any:
        if self._connection is None:
            raise TerminalError("The catalog was used before `open()` (use `async with`).")
        return self._connection

    def _round_trip_ms(self) -> float:
        started = time.perf_counter()
        self._query("SELECT 1", "Measuring the round trip")
        return (time.perf_counter() - started) * 1000

    @abstractmethod
    def _connect(self) -> Any: ...

    @abstractmethod
    def _query(self, sql: str, action: str, *params: Any) -> list[tuple[Any, ...]]:
        """All rows of a small catalog query, driver errors translated."""

    def _missing(self, table: str, server: str, known: list[str]) -> TerminalError:
        """`Table X does not exist` with the closest names and what to check."""
        close = difflib.get_close_matches(table, known, n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(f'`{name}`' for name in close)}?" if close else ""
        return TerminalError(
            f"Table `{table}` does not exist on {server} (or `{self.where}.user` cannot see "
            f"it); check the table name and its schema.{hint}"
        )


async def read_preview(plugin: Input[Any], limit: int) -> Preview:
    """Up to `limit` rows read by `plugin` (a query input), with what it rejected."""
    await plugin.open()
    try:
        batches: list[pa.RecordBatch] = []
        count = 0
        for split in await plugin.splits(1):
            async with aclosing(plugin.read(split, None)) as pages:  # type: ignore[type-var]
                async for batch in pages:
                    batches.append(batch.data)
                    count += batch.num_rows
                    if count >= limit:
                        break
            if count >= limit:
                break
        schema = plugin.schema()
    finally:
        await plugin.close()
    rejected = plugin.take_rejected()
    errors = distinct_messages(rejected)
    if batches:
        data = pa.Table.from_batches(batches).slice(0, limit)
    else:
        assert schema is not None
        data = schema.empty_table()
    return Preview(data, sum(item.records.num_rows for item in rejected), tuple(errors[:5]))


def align(data: pa.Table, columns: list[ColumnInfo]) -> pa.Table:
    """A query preview given the table's declared column types where they differ.

    A query's result metadata knows less than the table (MariaDB's JSON is `longtext`, a
    `*_bin` collation looks binary); the values are cast to the table's logical types, and
    a column whose values do not cast keeps the query's type.
    """
    declared = {c.name: c.logical for c in columns if c.logical is not None}
    arrays, fields = [], []
    for arrow_field, values in zip(data.schema, data.columns, strict=True):
        logical = declared.get(arrow_field.name)
        target = logical.to_arrow_field(arrow_field.name) if logical is not None else arrow_field
        cast = values
        if target.type != arrow_field.type:
            try:
                cast = pc.cast(values, target.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                target = arrow_field
        arrays.append(cast)
        fields.append(target)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))
