"""SQL machinery shared by every relational family (SQLite, PostgreSQL, MySQL).

Each family keeps its own type table and fast paths in its own client module; what is
the same everywhere lives here once: cutting a numeric split key into ranges, and turning
text a database returned into a logical type with the bad values flagged.
"""

from __future__ import annotations

import asyncio
import math
import threading
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, model_validator

from fustgo.engine.batch import Batch, JSONValue, Split
from fustgo.engine.errors import TerminalError
from fustgo.engine.types import LogicalType
from fustgo.plugins.api import ConfigT, Input, Output, PluginContext, Progress
from fustgo.plugins.spec import PluginConfig, ui

T = TypeVar("T")


class TableQuery(PluginConfig):
    """What to read: a table (filtered, split by a key) or one SQL query."""

    table: str | None = Field(default=None, json_schema_extra=ui(placeholder="shop.orders"))
    """Table or view to read, optionally with its schema or database (`shop.orders`)."""
    columns: list[str] | None = None
    """Columns to read, in this order; every column when omitted."""
    where: str | None = Field(default=None, json_schema_extra=ui(widget="sql"))
    """Condition in the database's SQL the rows must meet (`created_at >= '2024-01-01'`)."""
    split_key: str | None = None
    """Integer column whose range is cut into `settings.parallelism` splits (SQLite also
    takes `rowid`).

    Rows whose key is NULL form one more split, so none is lost. Index the column so that a
    split reads only its range.
    """
    sql: str | None = Field(default=None, json_schema_extra=ui(widget="sql"))
    """A full SELECT to read instead of `table`; read as one split and resumed with OFFSET
    (give it an ORDER BY so that a resumed run sees the rows in the same order)."""

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.table is None) == (self.sql is None):
            raise ValueError("set either `table` or `sql` (not both)")
        if self.sql is not None:
            extra = [name for name in ("columns", "where", "split_key") if getattr(self, name)]
            if extra:
                raise ValueError(
                    f"`{'`, `'.join(extra)}` cannot be used with `sql`; write them in the query"
                )
        if self.columns is not None and not self.columns:
            raise ValueError("`columns` is empty; omit it to read every column")
        return self


class Fetch(PluginConfig):
    """How many rows each page (and batch, and checkpoint) holds."""

    size: int | None = Field(default=None, ge=1, json_schema_extra=ui(unit="rows"))
    """Rows per page and batch; `settings.batch_size` when omitted."""


ALL_ROWS = Split(id="all", params={"kind": "all"}, description="all rows")
"""The one split of a read that is not cut by a key."""


def key_splits(
    key_sql: str, key_nullable: bool, low: int | None, high: int | None, parallelism: int
) -> list[Split]:
    """Range splits of integer keys `low..high` (`key_ranges`), plus a split for the rows
    whose key is NULL when the column allows it; every row is in exactly one split."""
    null_split = Split(
        id="null-key", params={"kind": "null_key"}, description=f"rows whose {key_sql} is NULL"
    )
    if low is None or high is None:  # no key at all: every row is in the NULL split
        return [null_split] if key_nullable else [ALL_ROWS]
    splits = []
    for index, params in enumerate(key_ranges(low, high, max(1, parallelism))):
        lower = "" if params["lo"] is None else f"{params['lo']} <= "
        upper = f"{'<=' if params['last'] else '<'} {params['hi']}"
        splits.append(
            Split(id=f"range-{index}", params=params, description=f"{lower}{key_sql} {upper}")
        )
    return [*splits, null_split] if key_nullable else splits


def key_ranges(low: float, high: float, parts: int) -> list[dict[str, JSONValue]]:
    """Split params cutting numeric keys low..high into at most `parts` contiguous ranges.

    Cuts are integers spread evenly over the key range. The first range has no lower
    bound and the last one ends at the maximum, inclusive, so every number from `low` to
    `high` (integer or real) is in exactly one range.
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        return [{"kind": "range", "lo": None, "hi": high, "last": True}]
    first, final = math.floor(low), math.floor(high)
    span = final - first + 1
    cuts = sorted({first + span * i // parts for i in range(1, parts)} - {first})
    bounds: list[Any] = [None, *(_bindable(cut) for cut in cuts)]
    return [
        {
            "kind": "range",
            "lo": start,
            "hi": high if index == len(bounds) - 1 else bounds[index + 1],
            "last": index == len(bounds) - 1,
        }
        for index, start in enumerate(bounds)
    ]


def _bindable(cut: int) -> int | float:
    """A cut SQLite can bind: an integer within 64 bits, else the nearest real."""
    return cut if -(2**63) <= cut < 2**63 else float(cut)


@dataclass(frozen=True)
class Parsed:
    """Values converted to a logical type, and which rows could not be converted."""

    values: pa.Array
    failed: pa.BooleanArray | None = None
    """True for the rows whose value could not be converted; None when all were."""


def parse_text(strings: pa.Array, logical: LogicalType) -> Parsed:
    """Text stored by SQLite converted to `logical`; unconvertible values become failures.

    The whole array is cast at once (ISO 8601 for dates and timestamps, plain numbers for
    decimals); only when that fails is each value tried alone to find the bad ones.
    """
    target = logical.to_arrow()
    if logical.kind in ("string", "json"):
        return Parsed(pc.cast(strings, pa.string()))
    try:
        return Parsed(_cast_text(strings, logical, target))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    values: list[Any] = []
    failed: list[bool] = []
    for one in strings.to_pylist():  # error path only: some value in this page is bad
        if one is None:
            values.append(None)
            failed.append(False)
            continue
        try:
            values.append(_cast_text(pa.array([one], pa.string()), logical, target)[0].as_py())
            failed.append(False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            values.append(None)
            failed.append(True)
    return Parsed(pa.array(values, target), pa.array(failed, pa.bool_()) if any(failed) else None)


def _cast_text(strings: pa.Array, logical: LogicalType, target: pa.DataType) -> pa.Array:
    if logical.kind == "time":  # Arrow casts text to timestamps but not to times
        stamped = pc.binary_join_element_wise("1970-01-01 ", strings, "")
        return pc.cast(pc.cast(stamped, pa.timestamp("us")), target)
    if logical.kind == "timestamp" and logical.timezone:
        try:
            return pc.cast(strings, target)
        except pa.ArrowInvalid:  # no offset written: the value is taken as UTC
            return pc.cast(pc.cast(strings, pa.timestamp("us")), target)
    return pc.cast(strings, target)


def nested_json_text(array: pa.Array) -> pa.Array:
    """Lists and structs as JSON text for a JSON or text column, vectorized by Polars."""
    import polars as pl

    frame = pl.from_arrow(pa.table({"v": array}))
    assert isinstance(frame, pl.DataFrame)
    encoded = frame.select(
        pl.when(pl.col("v").is_not_null())
        .then(pl.struct(pl.col("v")).struct.json_encode().str.slice(5).str.head(-1))
        .alias("v")
    )
    return pc.cast(encoded.to_arrow().column("v").combine_chunks(), pa.string())


def json_text_nested(array: pa.Array, target: pa.DataType) -> pa.Array:
    """JSON text (`[1, null, 3]`) as lists or structs of `target`: the way back for
    arrays a family without them (MySQL, SQLite) stored as JSON. Raises `ArrowInvalid`
    when a value is not JSON of that shape, so the caller can isolate the row."""
    import polars as pl

    frame = pl.from_arrow(pa.table({"v": pc.cast(array, pa.string())}))
    assert isinstance(frame, pl.DataFrame)
    dtype = pl.from_arrow(pa.table({"v": pa.nulls(0, target)})).schema["v"]  # type: ignore[union-attr]
    try:
        decoded = frame.select(pl.col("v").str.json_decode(dtype))
    except pl.exceptions.PolarsError as exc:
        raise pa.ArrowInvalid(f"not JSON of type {target}: {exc}") from exc
    return pc.cast(decoded.to_arrow().column("v").combine_chunks(), target)


class BlockingTableInput(Input[ConfigT]):
    """An input over a blocking database driver: `_open` (in a worker thread) connects and
    makes `_plan`, whose `columns` (name, logical type) give the schema."""

    def __init__(self, config: ConfigT, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._connection: Any = None
        self._plan: Any = None
        self._records_total: int | None = None

    async def open(self) -> None:
        await asyncio.to_thread(self._open)

    async def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await asyncio.to_thread(connection.close)

    async def check_connection(self) -> None:
        try:
            await self.open()
        finally:
            await self.close()

    def schema(self) -> pa.Schema | None:
        if self._plan is None:
            return None
        return pa.schema([c.logical.to_arrow_field(c.name) for c in self._plan.columns])

    def progress(self) -> Progress:
        return Progress(records_total=self._records_total)

    @abstractmethod
    def _open(self) -> None: ...

    @abstractmethod
    def _rows(self, sql: str, action: str) -> list[tuple[Any, ...]]:
        """All rows of a small discovery query, with driver errors translated."""

    def _key_splits(self, parallelism: int) -> list[Split]:
        """`ALL_ROWS`, or the split-key ranges from the key's min and max (one query)."""
        plan = self._plan
        if plan.key is None:
            return [ALL_ROWS]
        where = f" WHERE ({plan.where})" if plan.where else ""
        low, high = self._rows(
            f"SELECT min({plan.key.sql}), max({plan.key.sql}) FROM {plan.source}{where}",
            f"Reading the range of `{self.config.query.split_key}`",
        )[0]
        return plan.key_splits(low, high, parallelism)


class BlockingTableOutput(Output[ConfigT]):
    """An output over a blocking database driver: each call runs in a worker thread, one
    at a time, because a connection serves one thread at a time. Subclasses implement the
    blocking steps: `_open`, `_write` (one batch, atomically), `_commit`, `_close`, `_check`.
    """

    def __init__(self, config: ConfigT, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._lock = threading.Lock()

    async def open(self, schema: pa.Schema) -> None:
        await asyncio.to_thread(self._locked, self._open, schema)

    async def write(self, batch: Batch) -> None:
        if batch.num_rows == 0:
            return
        await asyncio.to_thread(self._locked, self._write, batch.data)
        self._stats.records_written += batch.num_rows
        self._stats.bytes_written += batch.nbytes
        self._stats.batches_written += 1

    async def flush(self) -> None:
        await asyncio.to_thread(self._locked, self._commit)

    async def close(self) -> None:
        await asyncio.to_thread(self._locked, self._close)

    async def check_connection(self) -> None:
        await asyncio.to_thread(self._check)

    def _locked(self, action: Callable[..., T], *args: Any) -> T:
        with self._lock:
            return action(*args)

    # The target's columns (name → info with `name`, `not_null`, `has_default`), read by
    # `_open`, and how messages name the table.
    _columns: dict[str, Any]

    @property
    @abstractmethod
    def _target(self) -> str: ...

    def _missing_table(self) -> TerminalError:
        return TerminalError(
            f"Table {self._target} does not exist and `output.write.create_table` is false; "
            "create it or set `create_table: true`."
        )

    def _check_schema(self, schema: pa.Schema) -> None:
        write = self.config.write
        missing = [name for name in schema.names if name not in self._columns]
        if missing:
            raise TerminalError(
                f"Columns {missing} are not in table {self._target}; drop or rename them with "
                "a `mapping` processor, or add them (ALTER TABLE … ADD COLUMN)."
            )
        required = [
            c.name
            for c in self._columns.values()
            if c.not_null and not c.has_default and c.name not in schema.names
        ]
        if required:
            raise TerminalError(
                f"Table {self._target} requires values for {required} (NOT NULL without a "
                "default) but the records have no such fields; add them with `transform`."
            )
        absent = [name for name in write.conflict_key if name not in schema.names]
        if absent:
            raise TerminalError(
                f"`output.write.conflict_key` names {absent}, which the records do not "
                f"have; their fields are: {', '.join(schema.names)}."
            )

    @abstractmethod
    def _open(self, schema: pa.Schema) -> None: ...

    @abstractmethod
    def _write(self, data: pa.RecordBatch) -> None: ...

    @abstractmethod
    def _commit(self) -> None: ...

    _opened: bool
    """True once `_open` succeeded: only then does closing commit and run `post_sql`."""

    def _close(self) -> None:
        try:
            if self._opened:
                self._commit()
                for index, statement in enumerate(self.config.write.post_sql):
                    self._run(statement, f"`output.write.post_sql[{index}]` failed")
                self._commit()
        finally:
            self._disconnect()

    @abstractmethod
    def _run(self, sql: str, action: str) -> None:
        """Execute one statement, translating driver errors into FustGo's."""

    @abstractmethod
    def _disconnect(self) -> None:
        """Close the connection; the server rolls back whatever was not committed."""

    @abstractmethod
    def _check(self) -> None: ...
