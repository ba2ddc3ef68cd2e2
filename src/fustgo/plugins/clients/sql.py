"""SQL machinery shared by every relational family (SQLite, PostgreSQL, MySQL).

Each family keeps its own type table and fast paths in its own client module; what is
the same everywhere lives here once: the query config (`TableQuery`; split-key planning
is in `clients.splitting`), turning text a database returned into a logical type with
the bad values flagged, and on the write side the write config (`TableWrite`), the SQL
of the staged write modes (`TableSql`) and the per-batch transaction with reconnect
(`BlockingTableOutput`).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Self, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, model_validator

from fustgo.engine.batch import Batch, Split
from fustgo.engine.errors import DataError, FustgoError, RetryableError, TerminalError
from fustgo.engine.types import LogicalType, from_arrow
from fustgo.engine.units import Duration
from fustgo.plugins.api import ConfigT, Input, Output, PluginContext, Progress
from fustgo.plugins.clients.incremental import Incremental
from fustgo.plugins.clients.pool import ConnectionPool
from fustgo.plugins.clients.splitting import (
    ALL_ROWS,
    KeySampler,
    SplitKey,
    SplitOptions,
    plan_key_splits,
)
from fustgo.plugins.spec import PluginConfig, ui

T = TypeVar("T")


@dataclass(frozen=True)
class ReadColumn:
    """One output column of a table read: its type as the database declares it, the
    logical type it becomes, and the SQL that selects it."""

    name: str
    declared: str
    logical: LogicalType
    select: str


class TableQuery(PluginConfig):
    """What to read: a table (filtered, split by a key) or one SQL query."""

    table: str | None = Field(default=None, json_schema_extra=ui(placeholder="shop.orders"))
    """Table or view to read, optionally with its schema or database (`shop.orders`)."""
    columns: list[str] | None = None
    """Columns to read, in this order; every column when omitted."""
    where: str | None = Field(default=None, json_schema_extra=ui(widget="sql"))
    """Condition in the database's SQL the rows must meet (`created_at >= '2024-01-01'`)."""
    split_key: str | None = None
    """Column whose values cut the table into `settings.parallelism` ranges read in
    parallel: an integer, string, date or timestamp column (SQLite also takes `rowid`).
    Short for `split: {key: …}`, which also sets how boundaries are chosen.

    Rows whose key is NULL form one more split, so none is lost. Index the column so that a
    split reads only its range.
    """
    split: SplitOptions | None = None
    """The split key with its boundary method (`auto`, `even`, `sample`) or boundaries of
    your own; use either this or `split_key`."""
    sql: str | None = Field(default=None, json_schema_extra=ui(widget="sql"))
    """A full SELECT to read instead of `table`; read as one split and resumed with OFFSET
    (give it an ORDER BY so that a resumed run sees the rows in the same order)."""
    incremental: Incremental | None = None
    """Read only rows new or changed since the last successful run, by an increasing column
    (`updated_at`); the high-water mark is kept in the checkpoint store and advances only
    when a run succeeds. `fustgo run --full-refresh` reads everything again."""

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.table is None) == (self.sql is None):
            raise ValueError("set either `table` or `sql` (not both)")
        if self.sql is not None:
            names = ("columns", "where", "split_key", "split", "incremental")
            extra = [name for name in names if getattr(self, name)]
            if extra:
                raise ValueError(
                    f"`{'`, `'.join(extra)}` cannot be used with `sql`; write them in the query"
                )
        if self.columns is not None and not self.columns:
            raise ValueError("`columns` is empty; omit it to read every column")
        if self.split_key is not None and self.split is not None:
            raise ValueError("set either `split_key` or `split` (not both)")
        return self

    @property
    def split_options(self) -> SplitOptions | None:
        """The split key and method, whichever of `split_key` and `split` gave them."""
        if self.split is not None:
            return self.split
        return None if self.split_key is None else SplitOptions(key=self.split_key)

    @property
    def split_field(self) -> str:
        """The config field that names the split key, as messages cite it."""
        return "input.query.split.key" if self.split is not None else "input.query.split_key"


class Fetch(PluginConfig):
    """How many rows each page (and batch, and checkpoint) holds."""

    size: int | None = Field(default=None, ge=1, json_schema_extra=ui(unit="rows"))
    """Rows per page and batch; `settings.batch_size` when omitted."""


class TimedFetch(Fetch):
    """Page size, and how long a read may wait for the server (network databases)."""

    timeout: Duration | None = Field(default=None, gt=0, json_schema_extra=ui(unit="seconds"))
    """Longest wait for the server to send the next rows (`30s`, `5m`); no limit when omitted.

    Each wait is timed on its own: the start of a query, and every page of its result, so
    a long split that keeps streaming never hits it. A wait that lasts longer cancels the
    query on the server and fails the run with an error naming this field (it is not
    retried: the same query would wait as long again).
    """


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
    makes `_plan`, whose `columns` (name, logical type) give the schema.

    Connections come from one per-run pool (`clients.pool`): `_connection` is the one
    discovery holds for the run, and each split borrows one from `_pool` for its read and
    gives it back for the next split (`_bound_pool` caps them at parallelism + 1).
    """

    def __init__(self, config: ConfigT, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._connection: Any = None
        self._plan: Any = None
        self._records_total: int | None = None
        self._pool = self._new_pool()

    async def open(self) -> None:
        await asyncio.to_thread(self._open)

    async def close(self) -> None:
        await asyncio.to_thread(self._close_pool)

    def _new_pool(self) -> ConnectionPool[Any]:
        return ConnectionPool(self._connect, close=_close_connection, check=self._check_alive)

    def _close_pool(self) -> None:
        try:
            self._drop_connection(reusable=True)
        finally:
            self._pool.close()

    @abstractmethod
    def _connect(self) -> Any:
        """A new read-only connection (blocking; raises FustGo errors)."""

    def _check_alive(self, connection: Any) -> None:
        """Raise when an idle pooled connection no longer works (a cheap round trip)."""
        return

    def _discovery_connection(self) -> Any:
        """The connection discovery queries use, taken from the pool when there is none."""
        if self._connection is None:
            if self._pool.closed:  # opened again after `close()`
                self._pool = self._new_pool()
            self._connection = self._pool.acquire()
        return self._connection

    def _drop_connection(self, *, reusable: bool) -> None:
        """Give the discovery connection back (closed unless `reusable`: after a failure)."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            self._pool.release(connection, reusable=reusable)

    def _bound_pool(self, parallelism: int) -> None:
        """At most one connection per channel plus the discovery one."""
        self._pool.limit = max(1, parallelism) + 1

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
        """`ALL_ROWS`, or the split-key ranges (`clients.splitting`), planned with the
        family's sampler on the discovery connection."""
        options = self.config.query.split_options
        if self._plan.key is None or options is None:
            return [ALL_ROWS]
        return plan_key_splits(self._sampler(), options, parallelism, self.context.logger)

    def _split_key(self) -> SplitKey:
        """The planned split key as `clients.splitting` takes it (a key that can be NULL
        gets the NULL split)."""
        plan, query = self._plan, self.config.query
        assert plan.key is not None and query.split_options is not None
        return SplitKey(
            query.split_options.key, plan.key.sql, plan.key_kind, plan.key_nullable,
            query.split_field,
        )  # fmt: skip

    def _sampler(self) -> KeySampler:
        """The family's planning queries for the split key (inputs that split override)."""
        raise NotImplementedError


def _close_connection(connection: Any) -> None:
    connection.close()


# ---------------------------------------------------------------------------------------
# Writing tables: the write config every family shares, the SQL of the staged write modes
# and the per-batch transaction with reconnect.

WriteMode = Literal["insert", "update", "upsert", "replace", "merge", "truncate"]
ConflictStrategy = Literal["error", "ignore", "update"]
NewColumns = Literal["add", "error"]
_KEYED_MODES = ("update", "upsert", "replace", "merge")
_STRATEGY_MODES = ("insert", "truncate", "merge")


class Conflict(PluginConfig):
    """What happens when a row being inserted has the key of a row already in the table."""

    strategy: ConflictStrategy | None = None
    """`error`: the row is a bad record and goes to the dead-letter output (default of
    `insert` and `truncate`); `ignore`: the existing row is kept and the new one is counted
    as skipped (only key conflicts are ignored, every other error still counts); `update`:
    the existing row is updated (default of `merge`; `insert` then behaves like `upsert`)."""


class TableWrite(PluginConfig):
    """Where and how rows are written (the part every SQL family shares)."""

    table: str = Field(min_length=1, json_schema_extra=ui(placeholder="sales.orders"))
    """Target table, optionally with its schema or database (`sales.orders`); created from
    the first batch's schema when missing (see `create_table`)."""
    mode: WriteMode = "insert"
    """`insert` new rows; `update` the rows whose `conflict_key` exists (records that match
    no row are counted as skipped, nothing is inserted); `upsert` (insert, or update the row
    with the same key: ON CONFLICT / ON DUPLICATE KEY); `replace` (delete the rows with the
    batch's keys, then insert); `merge` (load into a staging table, then update matching
    rows and insert the others; needs no unique index); `truncate` (empty the table once,
    then insert; a resumed run does not empty it again)."""
    conflict_key: list[str] = Field(default_factory=list)
    """Columns that identify a row; required by `update`, `upsert`, `replace`, `merge` and
    `conflict.strategy: update`. A created table gets them as its PRIMARY KEY; for `upsert`
    an existing table needs a primary key or unique index on exactly them."""
    conflict: Conflict = Field(default_factory=Conflict)
    """What `insert`, `truncate` and `merge` do with a row whose key already exists."""
    batch_size: int | None = Field(
        default=None, ge=1, json_schema_extra=ui(unit="rows", advanced=True)
    )
    """Rows sent per statement or chunk; each batch is still committed as one transaction.
    Default: the whole batch."""
    create_table: bool = True
    """Create the table when it does not exist, with column types from the type table."""
    new_columns: NewColumns = "add"
    """Schema evolution: `add` a column (ALTER TABLE … ADD COLUMN, nullable, type from the
    type table) for each field the table lacks; `error` stops the run instead. Columns are
    never dropped, renamed or narrowed."""
    pre_sql: list[str] = Field(default_factory=list, json_schema_extra=ui(advanced=True))
    """Statements run once before the first write (e.g. `CREATE INDEX IF NOT EXISTS …`)."""
    post_sql: list[str] = Field(default_factory=list, json_schema_extra=ui(advanced=True))
    """Statements run once when the output closes (e.g. `ANALYZE orders`); they also run
    when the run stopped early, so keep them safe on partial data."""

    @model_validator(mode="after")
    def _valid_combination(self) -> Self:
        if len(set(self.conflict_key)) != len(self.conflict_key):
            raise ValueError("`conflict_key` names a column twice")
        if self.mode in _KEYED_MODES and not self.conflict_key:
            raise ValueError(
                f"`mode: {self.mode}` needs `conflict_key`, the columns that identify a row"
            )
        strategy = self.conflict.strategy
        if strategy is not None and self.mode not in _STRATEGY_MODES:
            what = {
                "update": "only updates existing rows",
                "upsert": "always updates the existing row",
                "replace": "always deletes the existing row first",
            }[self.mode]
            raise ValueError(
                f"`conflict.strategy` applies to modes insert, truncate and merge; `mode: "
                f"{self.mode}` {what}: remove `conflict.strategy`"
            )
        if strategy == "update" and not self.conflict_key:
            raise ValueError(
                "`conflict.strategy: update` needs `conflict_key`, the columns whose "
                "existing row is updated"
            )
        return self

    @property
    def strategy(self) -> ConflictStrategy:
        """The conflict strategy in effect: the configured one, or the mode's default."""
        if self.conflict.strategy is not None:
            return self.conflict.strategy
        return "update" if self.mode in ("upsert", "merge") else "error"

    @property
    def inserts_directly(self) -> bool:
        """True when rows go straight into the table with no conflict handling."""
        return self.mode in ("insert", "truncate") and self.strategy == "error"


Dialect = Literal["postgresql", "mysql", "sqlite"]


@dataclass(frozen=True)
class Step:
    """One statement run after a batch was staged, and what its result counts."""

    sql: str
    counts: Literal["", "skipped", "inserted", "conflicts", "existing"] = ""
    """`skipped`: a count of rows that are not written; `inserted`: the statement's row
    count is the rows written, the rest are skipped; `conflicts`: a count of rows whose key
    exists, which fails the batch with a `DataError`; `existing`: a count of rows whose key
    exists, which the batch updates (`records_updated`)."""


@dataclass(frozen=True)
class TableSql:
    """SQL text of one family for one target table and one set of fields."""

    dialect: Dialect
    quote: Callable[[str], str]
    table: str
    """The target, quoted (and qualified)."""
    names: tuple[str, ...]
    keys: tuple[str, ...]
    merge_statement: bool = False
    """True when the server has MERGE (PostgreSQL 15 and later)."""

    @property
    def listed(self) -> str:
        return ", ".join(self.quote(name) for name in self.names)

    def conflict_clause(self, strategy: ConflictStrategy) -> str:
        """What follows an INSERT so that key conflicts are ignored or update the row."""
        q = self.quote
        if strategy == "error":
            return ""
        keys = ", ".join(q(name) for name in self.keys)
        updates = [name for name in self.names if name not in self.keys]
        if self.dialect == "mysql":  # a no-op assignment only skips the duplicate row
            if strategy == "ignore" or not updates:
                first = q(self.keys[0] if self.keys else self.names[0])
                return f" ON DUPLICATE KEY UPDATE {first} = {self.table}.{first}"
            assigned = ", ".join(f"{q(n)} = VALUES({q(n)})" for n in updates)
            return f" ON DUPLICATE KEY UPDATE {assigned}"
        if strategy == "ignore":  # a conflict on any unique key skips the row
            return " ON CONFLICT DO NOTHING"
        if not updates:
            return f" ON CONFLICT ({keys}) DO NOTHING"
        assigned = ", ".join(f"{q(n)} = excluded.{q(n)}" for n in updates)
        return f" ON CONFLICT ({keys}) DO UPDATE SET {assigned}"

    def staged_steps(
        self,
        stage: str,
        mode: WriteMode,
        strategy: ConflictStrategy,
        value: Callable[[str], str] | None = None,
    ) -> list[Step]:
        """The statements that move a staged batch (table `stage`, aliased `s`) into the
        target (aliased `x`); `value(name)` is a staged column as the target's type."""
        q = self.quote
        value = value or (lambda name: f"s.{q(name)}")
        match = " AND ".join(f"x.{q(k)} = {value(k)}" for k in self.keys)
        selected = ", ".join(value(name) for name in self.names)
        where = " WHERE true" if self.dialect == "sqlite" else ""  # SQLite: before ON CONFLICT
        insert = f"INSERT INTO {self.table} ({self.listed}) SELECT {selected} FROM {stage} AS s"
        exists = f"EXISTS (SELECT 1 FROM {self.table} AS x WHERE {match})"
        updates = [name for name in self.names if name not in self.keys]
        existing = Step(f"SELECT count(*) FROM {stage} AS s WHERE {exists}", "existing")
        if mode in ("insert", "truncate", "upsert"):
            counts = "inserted" if strategy == "ignore" else ""
            written = Step(insert + where + self.conflict_clause(strategy), counts)
            return [existing, written] if strategy == "update" else [written]
        if mode == "update":
            steps = [Step(f"SELECT count(*) FROM {stage} AS s WHERE NOT {exists}", "skipped")]
            return steps + (
                [Step(self._update_join(stage, updates, match, value))] if updates else []
            )
        if mode == "replace":
            return [Step(self._delete_join(stage, match)), Step(insert)]
        # merge
        if strategy == "error":
            return [Step(f"SELECT count(*) FROM {stage} AS s WHERE {exists}", "conflicts"),
                    Step(insert)]  # fmt: skip
        counted = [existing] if strategy == "update" else []
        if self.merge_statement:
            inserted = ", ".join(value(name) for name in self.names)
            sql = f"MERGE INTO {self.table} AS x USING {stage} AS s ON {match}"
            if strategy == "update" and updates:
                assigned = ", ".join(f"{q(n)} = {value(n)}" for n in updates)
                sql += f" WHEN MATCHED THEN UPDATE SET {assigned}"
            sql += f" WHEN NOT MATCHED THEN INSERT ({self.listed}) VALUES ({inserted})"
            return [*counted, Step(sql, "inserted" if strategy == "ignore" else "")]
        if strategy == "update" and updates:
            counted.append(Step(self._update_join(stage, updates, match, value)))
        anti_join = Step(f"{insert} WHERE NOT {exists}", "inserted" if strategy == "ignore" else "")
        return [*counted, anti_join]

    def _update_join(
        self, stage: str, updates: list[str], match: str, value: Callable[[str], str]
    ) -> str:
        q = self.quote
        if self.dialect == "mysql":
            assigned = ", ".join(f"x.{q(n)} = {value(n)}" for n in updates)
            return f"UPDATE {self.table} AS x JOIN {stage} AS s ON {match} SET {assigned}"
        assigned = ", ".join(f"{q(n)} = {value(n)}" for n in updates)
        return f"UPDATE {self.table} AS x SET {assigned} FROM {stage} AS s WHERE {match}"

    def _delete_join(self, stage: str, match: str) -> str:
        if self.dialect == "mysql":
            return f"DELETE x FROM {self.table} AS x JOIN {stage} AS s ON {match}"
        if self.dialect == "postgresql":
            return f"DELETE FROM {self.table} AS x USING {stage} AS s WHERE {match}"
        return (
            f"DELETE FROM {self.table} AS x WHERE EXISTS (SELECT 1 FROM {stage} AS s WHERE {match})"
        )


_NUMBERS = frozenset(
    {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32",
     "float64", "decimal", "bool"}
)  # fmt: skip
_INSTANTS = frozenset({"date", "timestamp"})


def convertible(source: LogicalType, target: LogicalType | None) -> bool:
    """True when values of `source` can be written to a column of `target` value by value
    (a value that does not fit is then a bad record); False for a change of type no value
    survives (a timestamp into an integer column)."""
    if target is None or source.kind == "null" or target.kind in ("string", "json"):
        return True
    if source.kind in ("string", "json") or source.kind == target.kind:
        return True  # text is parsed value by value
    if source.kind in _NUMBERS and target.kind in _NUMBERS:
        return True
    return source.kind in _INSTANTS and target.kind in _INSTANTS


class BlockingTableOutput(Output[ConfigT]):
    """An output over a blocking database driver; each call runs in a worker thread, one
    at a time, because a connection serves one thread at a time.

    Every batch is its own transaction, committed before `write` returns: a failed batch
    leaves nothing, `flush` has nothing left to do, and a dropped connection loses nothing.
    When the connection is lost the batch fails with a `RetryableError` and the next
    attempt (the runner's retry policy) connects again and writes the whole batch again.
    A `DataError` (constraint, value the column cannot hold) makes the runner isolate the
    bad rows. `truncate` empties the table in the transaction of the first batch, once.

    Families implement the blocking steps (the abstract methods) over their driver.
    """

    def __init__(self, config: ConfigT, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._lock = threading.Lock()
        self._connection: Any = None
        self._opened = False
        self._truncate_pending = False
        self._batch_existing = 0
        """Rows of the batch being written whose key the target already had."""
        self._columns: dict[str, Any] = {}
        """The target's columns by name (`name`, `declared`, `not_null`, `has_default`)."""
        self._statements: dict[tuple[str, ...], Any] = {}
        """How each set of fields is written; staging tables live as long as the connection."""

    async def open(self, schema: pa.Schema) -> None:
        await asyncio.to_thread(self._locked, self._open, schema)

    async def write(self, batch: Batch) -> None:
        if batch.num_rows == 0:
            return
        skipped = await asyncio.to_thread(self._locked, self._write_batch, batch.data)
        self._stats.records_written += batch.num_rows - skipped
        self._stats.records_filtered += skipped
        self._stats.bytes_written += batch.nbytes
        self._stats.batches_written += 1

    async def flush(self) -> None:
        return  # every batch was committed by `write`

    async def close(self) -> None:
        await asyncio.to_thread(self._locked, self._close)

    async def check_connection(self) -> None:
        await asyncio.to_thread(self._check)

    def _locked(self, action: Callable[..., T], *args: Any) -> T:
        with self._lock:
            return action(*args)

    @property
    @abstractmethod
    def _target(self) -> str:
        """How messages name the table (`` `orders` on host:5432/db ``)."""

    # -- opening ------------------------------------------------------------------------

    def _open(self, schema: pa.Schema) -> None:
        write: TableWrite = self.config.write
        self._disconnect()  # a retried open starts afresh
        self._connect()
        for index, statement in enumerate(write.pre_sql):
            self._run(statement, f"`output.write.pre_sql[{index}]` failed")
        columns = self._read_columns()
        if not columns:
            if not write.create_table:
                raise self._missing_table()
            self._run(self._create_table_sql(schema), f"Creating {self._target}")
            columns = self._read_columns()
        self._columns = {column.name: column for column in columns}
        self._check_schema(schema)
        self._opened_hook()
        self._commit()
        self._truncate_pending = write.mode == "truncate" and not self.context.resume
        self._opened = True

    def _opened_hook(self) -> None:
        """Family checks once the table is known (e.g. the unique index `upsert` needs)."""

    def _missing_table(self) -> TerminalError:
        return TerminalError(
            f"Table {self._target} does not exist and `output.write.create_table` is false; "
            "create it or set `create_table: true`."
        )

    def _check_schema(self, schema: pa.Schema) -> None:
        """The records fit the table: columns added (schema evolution) or a clear error."""
        write: TableWrite = self.config.write
        missing = [field for field in schema if field.name not in self._columns]
        if missing and write.new_columns == "error":
            raise TerminalError(
                f"Columns {[f.name for f in missing]} are not in table {self._target} and "
                "`output.write.new_columns` is `error`; drop or rename them with a `mapping` "
                "processor, add them (ALTER TABLE … ADD COLUMN), or set `new_columns: add`."
            )
        if missing:
            for field in missing:
                self._run(self._add_column_sql(field), f"Adding column `{field.name}` to "
                          f"{self._target} (`output.write.new_columns: add`)")  # fmt: skip
            self._commit()
            self._columns = {column.name: column for column in self._read_columns()}
        self._check_writable(schema)
        required = [c.name for c in self._columns.values() if self._requires_value(c, schema.names)]
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
        for field in schema:
            column = self._columns[field.name]
            source = from_arrow(field.type, field.metadata)
            if not convertible(source, self._logical(column)):
                raise TerminalError(
                    f"Field `{field.name}` is {source.kind} but column `{field.name}` of "
                    f"{self._target} is `{column.declared}`, and FustGo never changes a "
                    "column's type: convert the field with a `transform` processor, or change "
                    f"the column yourself (ALTER TABLE … ALTER COLUMN `{field.name}` …)."
                )

    def _check_writable(self, schema: pa.Schema) -> None:
        """Family check that every field's column can be written (SQLite: not generated)."""

    def _requires_value(self, column: Any, names: list[str]) -> bool:
        return bool(column.not_null and not column.has_default and column.name not in names)

    # -- writing ------------------------------------------------------------------------

    def _write_batch(self, data: pa.RecordBatch) -> int:
        """Write and commit one batch; return how many of its records were skipped."""
        if not self._opened:
            raise TerminalError(f"The output {self._target} was written to before `open()`.")
        action = f"Writing to {self._target}"
        try:
            if self._connection is None:  # the previous attempt lost the connection
                self._connect()
            names = tuple(data.schema.names)
            statement = self._statements.get(names)
            if statement is None:
                self._check_schema(data.schema)
                statement = self._statements[names] = self._prepare(names)
                self._commit()  # staging tables outlive a failed batch
            self._begin()
            if self._truncate_pending:
                self._run(self._truncate_sql(), f"Emptying {self._target}")
            self._batch_existing = 0
            skipped = self._send(statement, data)
            self._commit()
        except Exception as exc:
            raise self._failed(exc, action) from exc
        self._truncate_pending = False
        self._stats.records_updated += self._batch_existing  # counted once committed
        return skipped

    def _failed(self, exc: Exception, action: str) -> FustgoError:
        """The error of a failed batch after rolling it back. A lost connection is
        dropped and the batch becomes retryable: the next attempt reconnects."""
        error = self._translate(exc, action)
        lost = self._connection is not None and self._is_lost(exc)
        if self._connection is not None and not lost:
            try:
                self._rollback()
            except Exception:  # the rollback failing means the connection is gone
                lost = True
        if not lost:
            return error
        self._drop_connection()
        return RetryableError(
            f"{action}: the connection was lost ({error}); the batch is written again on a "
            "new connection."
        )

    def _run_steps(self, steps: list[Step], rows: int) -> int:
        """Run the statements of a staged batch of `rows` rows; return the skipped count."""
        skipped = 0
        for step in steps:
            if not step.counts:
                self._run(step.sql, f"Writing to {self._target}")
                continue
            count = self._count(step.sql)
            if step.counts == "skipped":
                skipped += count
            elif step.counts == "inserted":
                skipped += rows - count
            elif step.counts == "existing":
                self._batch_existing = count
            elif count:
                raise DataError(
                    f"Writing to {self._target}: {count} row(s) have a `conflict_key` "
                    f"({', '.join(self.config.write.conflict_key)}) that already exists and "
                    "`output.write.conflict.strategy` is `error`."
                )
        return skipped

    def _stage_name(self) -> str:
        return f"fustgo_stage_{len(self._statements)}"

    # -- closing ------------------------------------------------------------------------

    def _close(self) -> None:
        try:
            if self._opened and self.config.write.post_sql:
                if self._connection is None:
                    self._connect()
                for index, statement in enumerate(self.config.write.post_sql):
                    self._run(statement, f"`output.write.post_sql[{index}]` failed")
                self._commit()
        finally:
            self._disconnect()

    def _disconnect(self) -> None:
        """Close the connection and forget what belongs to it; the server rolls back
        whatever was not committed."""
        self._opened = False
        self._drop_connection()

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        self._statements = {}
        if connection is not None:
            with contextlib.suppress(Exception):  # already broken: nothing left to close
                connection.close()

    # -- what each family implements ----------------------------------------------------

    @abstractmethod
    def _connect(self) -> None:
        """Open `self._connection` (autocommit off, or explicit transactions)."""

    @abstractmethod
    def _read_columns(self) -> list[Any]:
        """The target's columns in order; empty when the table does not exist."""

    @abstractmethod
    def _logical(self, column: Any) -> LogicalType | None:
        """The logical type of a target column (None: any value goes)."""

    @abstractmethod
    def _create_table_sql(self, schema: pa.Schema) -> str: ...

    @abstractmethod
    def _add_column_sql(self, field: pa.Field) -> str: ...

    @abstractmethod
    def _truncate_sql(self) -> str: ...

    @abstractmethod
    def _prepare(self, names: tuple[str, ...]) -> Any:
        """How batches of these fields are written (statements, staging table)."""

    @abstractmethod
    def _send(self, statement: Any, data: pa.RecordBatch) -> int:
        """Send one batch in the open transaction; return how many rows were skipped."""

    def _begin(self) -> None:
        """Start the batch's transaction (drivers without autocommit start one implicitly)."""

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def _rollback(self) -> None: ...

    @abstractmethod
    def _run(self, sql: str, action: str) -> None:
        """Execute one statement, translating driver errors into FustGo's."""

    @abstractmethod
    def _count(self, sql: str) -> int:
        """A SELECT's single number, or the rows a statement changed."""

    @abstractmethod
    def _translate(self, exc: Exception, action: str) -> FustgoError: ...

    def _is_lost(self, exc: Exception) -> bool:
        """True when `exc` means the connection is gone (the server ended the session)."""
        return False

    @abstractmethod
    def _check(self) -> None: ...
