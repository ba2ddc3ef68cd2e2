"""Incremental reads of SQL tables: each run reads what changed since the last good run.

A table is read incrementally by an increasing column (`updated_at`, an auto-increment
`id`), ordered among equal values by a key (the primary key; SQLite's rowid). When a run
plans its splits, it reads the upper bound: the largest `(column, key)` within `where`. It
reads the rows between the previous run's mark and that bound, and the bound becomes the
new mark (`Input.next_state`), which the runner commits only when the run succeeds, so a
failed or interrupted run never advances it. The window travels in every split's params as
SQL conditions, so a resumed run reads exactly the window it planned.

Boundaries, with `(c, k)` the column and key and `(C, K)` the previous mark:
- overlap 0 and a key: `(c, k) > (C, K)`: rows with the same timestamp as the mark but a
  later key (inserted after the last run read its bound) are read; none is read twice;
- overlap 0 and no key (no primary key, `key` not set): `c >= C`: rows equal to the mark
  are read again rather than possibly lost;
- overlap > 0: `c >= C - overlap`: rows committed late with a value already behind the mark
  (a transaction that took longer than others) are still read; rows inside the overlap are
  read again in every run, so the output should upsert;
- the upper bound `(c, k) <= (U, K)` leaves rows written after planning to the next run.
Rows whose column is NULL are never read by an incremental run (the first run warns).

This module holds the config, the window (conditions, description, state) and each
family's dialect: how it selects, quotes and subtracts the overlap from a value.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Protocol, Self

from pydantic import Field, field_validator, model_validator

from fustgo.engine.batch import JSONValue, Split
from fustgo.engine.errors import TerminalError
from fustgo.engine.units import parse_duration
from fustgo.plugins.spec import PluginConfig, ui

WindowKind = Literal["integer", "number", "time", "text"]
"""What a column's values are, which decides what an overlap means (seconds or a number)."""

Rows = Callable[[str], list[tuple[Any, ...]]]
"""Runs one small query on the input's discovery connection, errors translated."""

FIELD = "input.query.incremental"
_STATE_VERSION = 1
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class Incremental(PluginConfig):
    """Read only the rows that are new or changed since the last successful run."""

    column: str = Field(json_schema_extra=ui(placeholder="updated_at"))
    """Column whose value grows whenever a row is inserted or updated: a timestamp, date or
    number (`updated_at`, an auto-increment `id`). Rows whose value is NULL are never read."""
    key: list[str] | None = None
    """Columns that identify a row (unique together), ordering rows with equal `column`
    values so a run continues exactly after the last row read; the primary key when omitted
    (SQLite: the rowid). Without either, rows equal to the last value are read again."""
    overlap: float | str = Field(default=0, json_schema_extra=ui(placeholder="5m"))
    """How far behind the last mark each run starts reading again, to catch rows committed
    late with a value already behind the mark: a duration (`5m`, `30s`; a number is seconds)
    for a time column, a number for a numeric column. Rows inside the overlap are read again
    every run, so write them with `upsert`. 0 (default): exactly after the last row read."""
    start: str | int | float | None = None
    """Lower bound (inclusive) of the first run, in the column's type (`2024-01-01`, `1000`);
    the first run reads every row when omitted. `fustgo run --full-refresh` starts here again."""

    @field_validator("key", mode="before")
    @classmethod
    def _one_key(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("overlap")
    @classmethod
    def _overlap(cls, value: float | str) -> float | str:
        if isinstance(value, str):
            parse_duration(value)  # raises the message naming the spelling
        elif value < 0 or not math.isfinite(value):
            raise ValueError("the overlap cannot be negative")
        return value

    @model_validator(mode="after")
    def _keys(self) -> Self:
        if self.key is not None and not self.key:
            raise ValueError("`key` is empty; omit it to use the primary key")
        return self


@dataclass(frozen=True)
class WindowColumn:
    """The incremental column or a key column, as the family's SQL writes and types it."""

    name: str
    sql: str
    declared: str
    kind: WindowKind
    nullable: bool = False


class Dialect(Protocol):
    """What an incremental read needs from a SQL family, on the input's open connection."""

    def describe(self, names: Sequence[str]) -> dict[str, tuple[str, bool]]:
        """(declared type, nullable) of each named column of the table that exists."""
        ...

    def primary_key(self) -> list[str]:
        """The default key: the primary key's columns (SQLite: `rowid`), or none."""
        ...

    def kind(self, declared: str) -> WindowKind | None:
        """What values of this type are; None when it cannot order a window."""
        ...

    def column_sql(self, name: str) -> str: ...

    def selected(self, column: WindowColumn) -> str:
        """How the bound is selected so that its value is exact as JSON (PostgreSQL: text)."""
        ...

    def stored(self, value: Any) -> JSONValue:
        """The driver's value as kept in the state."""
        ...

    def literal(self, column: WindowColumn, value: JSONValue) -> str:
        """A SQL literal of a stored (or configured `start`) value."""
        ...

    def earlier(self, column: WindowColumn, value: JSONValue, seconds: float) -> JSONValue:
        """A time `value` moved back by `seconds` (at most: never later than exact)."""
        ...


@dataclass(frozen=True)
class Window:
    """The rows one run reads, and the state it commits when it succeeds."""

    conditions: list[str]
    description: str
    state: dict[str, JSONValue] | None
    """None when nothing past the previous mark exists (the committed state stays)."""

    def where(self, where: str | None) -> str:
        """`where` narrowed to the window (for planning splits and counting)."""
        parts = [f"({where})"] if where else []
        return " AND ".join([*parts, *self.conditions])

    def apply(self, splits: list[Split]) -> list[Split]:
        """The splits, each carrying the window so that a resumed run reads the same rows."""
        return [
            Split(
                split.id,
                {**split.params, "window": list(self.conditions)},
                f"{split.description}; {self.description}" if split.description else
                self.description,
                split.estimated_records,
                split.estimated_bytes,
            )
            for split in splits
        ]  # fmt: skip


def window_conditions(split: Split) -> list[str]:
    """The incremental window's SQL conditions a split carries (none for a full read)."""
    window = split.params.get("window")
    return [str(condition) for condition in window] if isinstance(window, list) else []


@dataclass(frozen=True)
class WindowOrder:
    """The incremental column, then the keys that order its equal values."""

    column: WindowColumn
    keys: list[WindowColumn]
    unique: bool
    """True when `(column, *keys)` identifies a row (a key exists): a run can start exactly
    after the last row read. The column alone is unique when it is the key itself."""


def window_columns(config: Incremental, dialect: Dialect, table: str) -> WindowOrder:
    """The column and the tie-break keys, checked against the table's catalog.

    Keys must be NOT NULL (a NULL key compares as unknown and its row would fall out of
    every window). The column itself is dropped from the keys: when it is the key, its
    values are unique and need no tie-break.
    """
    keys = config.key if config.key is not None else dialect.primary_key()
    described = dialect.describe([config.column, *keys])
    found = described.get(config.column)
    if found is None:
        raise TerminalError(
            f"`{FIELD}.column` names `{config.column}`, which is not a column of `{table}`."
        )
    column = _column(dialect, config.column, found[0], "column", table, nullable=found[1])
    result = []
    for name in keys:
        if name == config.column:
            continue
        if name not in described:
            raise TerminalError(
                f"`{FIELD}.key` names `{name}`, which is not a column of `{table}`."
            )
        declared, nullable = described[name]
        if nullable:
            raise TerminalError(
                f"`{FIELD}.key` column `{name}` of `{table}` allows NULL, and a row with a "
                "NULL key would fall out of every window; name NOT NULL columns that identify "
                "a row (the primary key)."
            )
        result.append(_column(dialect, name, declared, "key", table))
    if overlap_is_set(config) and column.kind == "text":
        raise TerminalError(
            f"`{FIELD}.overlap` needs a time or numeric column; `{config.column}` is "
            f"`{column.declared}`. Set `overlap: 0`."
        )
    if isinstance(config.overlap, str) and column.kind != "time" and overlap_is_set(config):
        raise TerminalError(
            f"`{FIELD}.overlap` is the duration `{config.overlap}` but `{config.column}` is "
            f"`{column.declared}`; give the overlap as a number in the column's units."
        )
    return WindowOrder(column, result, unique=bool(keys))


def overlap_is_set(config: Incremental) -> bool:
    return (parse_duration(config.overlap) if isinstance(config.overlap, str) else
            config.overlap) > 0  # fmt: skip


def _column(
    dialect: Dialect, name: str, declared: str, role: str, table: str, *, nullable: bool = False
) -> WindowColumn:
    kind = dialect.kind(declared)
    if kind is None:
        raise TerminalError(
            f"`{FIELD}.{role}` `{name}` of `{table}` is `{declared}`, which cannot order an "
            "incremental read; use a timestamp, date, number or text column."
        )
    return WindowColumn(name, dialect.column_sql(name), declared, kind, nullable)


@dataclass(frozen=True)
class _Bound:
    """`(columns) op (values)`: one end of the window."""

    columns: list[WindowColumn]
    values: list[JSONValue]
    op: str

    def sql(self, dialect: Dialect) -> str:
        return _compare(self.columns, self.values, self.op, dialect)

    def text(self) -> str:
        names = ", ".join(c.name for c in self.columns)
        shown = ", ".join(str(v) for v in self.values)
        if len(self.columns) > 1:
            names, shown = f"({names})", f"({shown})"
        return f"{names} {self.op} {shown}"


def plan_window(
    config: Incremental,
    state: dict[str, JSONValue] | None,
    *,
    table: str,
    source: str,
    where: str | None,
    order: WindowOrder,
    dialect: Dialect,
    rows: Rows,
    logger: logging.Logger,
) -> Window:
    """The window of this run from the committed `state` (None: first or full-refresh run).

    One query reads the upper bound: the last row in `(column, keys)` order past the
    previous mark (or from `start`). With nothing there the mark stays where it was.
    """
    column, keys = order.column, order.keys
    columns = [column, *keys]
    previous = _previous(state, table, column, [k.name for k in keys])
    base = [f"({where})"] if where else []
    lower: _Bound | None = None  # where reading starts
    past: _Bound | None = None  # where the new mark is looked for
    if previous is None:
        if config.start is not None:
            lower = past = _Bound(columns[:1], [config.start], ">=")
        if column.nullable:
            _warn_nulls(rows, source, base=base, column=column, table=table, logger=logger)
    else:
        exact = order.unique and len(previous) == len(columns)
        past = _Bound(columns, previous, ">") if exact else _Bound(columns[:1], previous[:1], ">=")
        lower = past
        if overlap_is_set(config):
            lower = _Bound(columns[:1], [_earlier(config, column, previous[0], dialect)], ">=")
    items = ", ".join(dialect.selected(c) for c in columns)
    found_in = [*base, f"{column.sql} IS NOT NULL", *([past.sql(dialect)] if past else [])]
    ordering = ", ".join(f"{c.sql} DESC" for c in columns)
    found = rows(
        f"SELECT {items} FROM {source} WHERE {' AND '.join(found_in)} ORDER BY {ordering} LIMIT 1"
    )
    high = [dialect.stored(value) for value in found[0]] if found else None
    next_state: dict[str, JSONValue] | None = None
    if high is not None:
        next_state = {"version": _STATE_VERSION, "table": table, "column": column.name,
                      "key": [k.name for k in keys], "high": high}  # fmt: skip
    elif previous is not None:
        high = previous  # nothing new: the window is the overlap behind the mark, if any
    if high is None:  # first run of an empty table (or nothing from `start` on)
        return Window(["1 = 0"], f"incremental: no {column.name} to read yet", None)
    upper = _Bound(columns[: len(high)], high, "<=")
    bounds = [*([lower] if lower else []), upper]
    return Window(
        [bound.sql(dialect) for bound in bounds],
        "incremental: " + " and ".join(bound.text() for bound in bounds),
        next_state,
    )


def _previous(
    state: dict[str, JSONValue] | None, table: str, column: WindowColumn, keys: list[str]
) -> list[JSONValue] | None:
    """The previous mark (the column's value, then the keys' when they are unchanged)."""
    if state is None:
        return None
    high = state.get("high")
    if (
        state.get("table") != table
        or state.get("column") != column.name
        or not isinstance(high, list)
        or not high
    ):
        raise TerminalError(
            f"The last successful run of this pipeline read `{state.get('table')}` by "
            f"`{state.get('column')}`, but `input.query` now reads `{table}` by "
            f"`{column.name}`; run once with `fustgo run --full-refresh` to read from "
            f"`{FIELD}.start` again (or give the pipeline another name)."
        )
    if state.get("key") != keys:  # another tie-break: only the column's value still holds
        logging.getLogger(__name__).warning(
            "The key of `%s` changed since the last run (%s → %s); rows whose %s equals the "
            "last value are read again once.",
            FIELD, state.get("key"), keys, column.name,
        )  # fmt: skip
        return high[:1]
    return high


def _earlier(
    config: Incremental, column: WindowColumn, value: JSONValue, dialect: Dialect
) -> JSONValue:
    """The mark moved back by the overlap: a duration for time, a number for numbers."""
    if column.kind == "time":
        seconds = (parse_duration(config.overlap) if isinstance(config.overlap, str) else
                   float(config.overlap))  # fmt: skip
        return dialect.earlier(column, value, seconds)
    try:
        moved = Decimal(str(value)) - Decimal(str(config.overlap))
    except InvalidOperation as exc:
        raise TerminalError(
            f"The mark `{value}` of `{column.name}` is not a number; set `{FIELD}.overlap: 0`."
        ) from exc
    if column.kind == "integer" or isinstance(value, int):
        return int(moved.to_integral_value(rounding="ROUND_FLOOR"))
    if isinstance(value, float):
        return math.nextafter(float(moved), -math.inf)
    return str(moved)


def _compare(
    columns: list[WindowColumn], values: Sequence[JSONValue], op: str, dialect: Dialect
) -> str:
    """`(a, b) op (x, y)` spelled so every family's planner uses an index on `a`:
    `a >= x AND (a > x OR b > y)` for `>`, and the mirror image for `<=`."""
    literals = [dialect.literal(c, v) for c, v in zip(columns, values, strict=True)]
    first, value = columns[0].sql, literals[0]
    if len(columns) == 1:
        return f"{first} {op} {value}"
    strict, loose = (">", ">=") if op.startswith(">") else ("<", "<=")
    rest = _chain(columns[1:], literals[1:], strict, op)
    return f"({first} {loose} {value} AND ({first} {strict} {value} OR {rest}))"


def _chain(columns: list[WindowColumn], literals: list[str], strict: str, op: str) -> str:
    """`b > y OR (b = y AND c > z)`, ending with `op` on the last column."""
    first, value = columns[0].sql, literals[0]
    if len(columns) == 1:
        return f"{first} {op} {value}"
    rest = _chain(columns[1:], literals[1:], strict, op)
    return f"({first} {strict} {value} OR ({first} = {value} AND {rest}))"


def _warn_nulls(
    rows: Rows,
    source: str,
    *,
    base: list[str],
    column: WindowColumn,
    table: str,
    logger: logging.Logger,
) -> None:
    condition = " AND ".join([*base, f"{column.sql} IS NULL"])
    if rows(f"SELECT 1 FROM {source} WHERE {condition} LIMIT 1"):
        logger.warning(
            "Rows of `%s` whose `%s` is NULL are not read by incremental runs; give them a "
            "value (e.g. UPDATE … SET %s = …) or read them with a separate full run.",
            table, column.name, column.name,
        )  # fmt: skip


def number_literal(value: JSONValue, column: WindowColumn) -> str:
    """A number as SQL text, refusing anything else (values may come from the config)."""
    text = str(value)
    if isinstance(value, bool) or not _NUMBER.match(text.strip()):
        raise TerminalError(
            f"`{text}` is not a number but `{column.name}` is `{column.declared}`; check "
            f"`{FIELD}.start`."
        )
    return text.strip()


class IncrementalInput:
    """What the SQL table inputs share to read incrementally (mixed in before their base).

    The family gives its dialect (`_incremental_dialect`); `_windowed` wraps split planning
    so that splits are cut within the window (key ranges of the window's rows only) and
    each carries it.
    """

    config: Any
    context: Any
    _plan: Any
    _records_total: int | None
    _committed: dict[str, JSONValue] | None = None
    _window: Window | None = None
    _window_order: WindowOrder | None = None

    def restore_state(self, state: dict[str, JSONValue] | None) -> None:
        self._committed = state

    def next_state(self) -> dict[str, JSONValue] | None:
        return self._window.state if self._window is not None else None

    def _incremental_dialect(self) -> tuple[Dialect, Rows]:
        """The family's dialect and a runner of small queries, on the open connection."""
        raise NotImplementedError

    def _check_incremental(self) -> None:
        """Check the column and key against the catalog (at `open`, so `validate
        --check-connections` finds a wrong name)."""
        config: Incremental | None = self.config.query.incremental
        if config is None:
            self._window_order = None
            return
        dialect, _ = self._incremental_dialect()
        self._window_order = window_columns(config, dialect, self.config.query.table)

    def _windowed(self, plan_splits: Callable[[], list[Split]], *, count: bool) -> list[Split]:
        """`plan_splits()` within this run's window, each split carrying it; `count` sets
        the progress total to the rows in the window (one count query)."""
        config: Incremental | None = self.config.query.incremental
        if config is None:
            self._window = None
            return plan_splits()
        if self._window_order is None:
            self._check_incremental()
        assert self._window_order is not None
        dialect, rows = self._incremental_dialect()
        plan = self._plan
        window = plan_window(
            config, self._committed, table=self.config.query.table, source=plan.source,
            where=plan.where, order=self._window_order, dialect=dialect, rows=rows,
            logger=self.context.logger,
        )  # fmt: skip
        self._plan = replace(plan, where=window.where(plan.where))
        try:  # the split key's range and samples come from the window's rows only
            splits = plan_splits()
        finally:
            self._plan = plan
        if count:
            found = rows(f"SELECT count(*) FROM {plan.source} WHERE {window.where(plan.where)}")
            self._records_total = int(found[0][0])
        self._window = window
        return window.apply(splits)


# ---------------------------------------------------------------------------------------
# The families


class PostgresDialect:
    """PostgreSQL: values kept as their text (`::text`) and cast back, so nothing is rounded."""

    def __init__(self, rows: Rows, relation: int) -> None:
        self._rows, self._relation = rows, relation

    def describe(self, names: Sequence[str]) -> dict[str, tuple[str, bool]]:
        from fustgo.plugins.clients.postgresql import quote_literal

        wanted = ", ".join(quote_literal(name) for name in names)
        found = self._rows(
            f"SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute "
            f"WHERE attrelid = {self._relation} AND attnum > 0 AND NOT attisdropped "
            f"AND attname IN ({wanted})"
        )
        return {str(name): (str(declared), not bool(notnull)) for name, declared, notnull in found}

    def primary_key(self) -> list[str]:
        return [
            str(row[0])
            for row in self._rows(
                f"SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
                f"i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = {self._relation} "
                f"AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)"
            )
        ]

    def kind(self, declared: str) -> WindowKind | None:
        from fustgo.plugins.clients.postgresql import base_name

        name, dimensions, _ = base_name(declared)
        if dimensions:
            return None
        if name in ("int2", "int4", "int8"):
            return "integer"
        if name in ("numeric", "float4", "float8"):
            return "number"
        if name in ("date", "timestamp", "timestamptz"):
            return "time"
        if name in ("text", "varchar", "bpchar", "uuid"):
            return "text"
        return None

    def column_sql(self, name: str) -> str:
        from fustgo.plugins.clients.postgresql import quote

        return f"q.{quote(name)}"

    def selected(self, column: WindowColumn) -> str:
        return f"{column.sql}::text"

    def stored(self, value: Any) -> JSONValue:
        return str(value)

    def literal(self, column: WindowColumn, value: JSONValue) -> str:
        from fustgo.plugins.clients.postgresql import base_name, quote_literal

        return f"{quote_literal(str(value))}::{base_name(column.declared)[0]}"

    def earlier(self, column: WindowColumn, value: JSONValue, seconds: float) -> JSONValue:
        from fustgo.plugins.clients.postgresql import base_name

        moved = self._rows(  # a date moved back is a timestamp: cast back, to the day below
            f"SELECT ({self.literal(column, value)} - interval '{seconds:.6f} seconds')"
            f"::{base_name(column.declared)[0]}::text"
        )
        return str(moved[0][0])


class MysqlDialect:
    """MySQL and MariaDB: numbers as numbers, times and text as the server writes them.

    Sessions run in UTC (`time_zone = '+00:00'`), so TIMESTAMP bounds mean the same instant
    in every run.
    """

    def __init__(self, rows: Callable[..., list[tuple[Any, ...]]], table: tuple[str, str]) -> None:
        self._rows, self._table = rows, table

    def describe(self, names: Sequence[str]) -> dict[str, tuple[str, bool]]:
        found = self._rows(
            "SELECT column_name, column_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s",
            *self._table,
        )
        return {str(n): (str(t), str(y) == "YES") for n, t, y in found if str(n) in names}

    def primary_key(self) -> list[str]:
        return [
            str(row[0])
            for row in self._rows(
                "SELECT column_name FROM information_schema.statistics WHERE table_schema = %s "
                "AND table_name = %s AND index_name = 'PRIMARY' ORDER BY seq_in_index",
                *self._table,
            )
        ]

    def kind(self, declared: str) -> WindowKind | None:
        from fustgo.plugins.clients.mysql import parse_declared

        name = parse_declared(declared)[0]
        if name in ("tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year"):
            return "integer"
        if name in ("decimal", "numeric", "dec", "fixed", "float", "double", "real"):
            return "number"
        if name in ("date", "datetime", "timestamp"):
            return "time"
        if name in ("char", "varchar", "tinytext", "text", "mediumtext", "longtext"):
            return "text"
        return None

    def column_sql(self, name: str) -> str:
        from fustgo.plugins.clients.mysql import quote

        return f"q.{quote(name)}"

    def selected(self, column: WindowColumn) -> str:
        return column.sql

    def stored(self, value: Any) -> JSONValue:
        if isinstance(value, bytes | bytearray):
            return bytes(value).decode()
        return value  # type: ignore[no-any-return]

    def literal(self, column: WindowColumn, value: JSONValue) -> str:
        from fustgo.plugins.clients.mysql import quote_literal

        if column.kind in ("integer", "number"):
            return number_literal(value, column)  # a quoted decimal would compare as a double
        return quote_literal(str(value))

    def earlier(self, column: WindowColumn, value: JSONValue, seconds: float) -> JSONValue:
        micros = int(seconds * 1_000_000)
        moved = self._rows(
            f"SELECT CAST({self.literal(column, value)} AS DATETIME(6)) - "
            f"INTERVAL {micros} MICROSECOND"
        )
        return self.stored(moved[0][0])


class SqliteDialect:
    """SQLite: values as stored (integer, real or text).

    SQLite compares text as text, so time bounds are only right when the column holds one
    ISO 8601 layout (as FustGo writes it); an overlap is subtracted keeping that layout.
    """

    def __init__(self, rows: Rows, table: str, has_rowid: bool) -> None:
        self._rows, self._table, self._has_rowid = rows, table, has_rowid

    def describe(self, names: Sequence[str]) -> dict[str, tuple[str, bool]]:
        from fustgo.plugins.clients.sqlite import quote

        rows = self._rows(f"PRAGMA table_xinfo({quote(self._table)})")
        primary = [row for row in rows if int(row[5])]
        alias = [  # an INTEGER PRIMARY KEY is the rowid: never NULL
            str(primary[0][1])
            for _ in primary[:1]
            if len(primary) == 1 and str(primary[0][2]).upper() == "INTEGER" and self._has_rowid
        ]
        found = {
            str(row[1]): (str(row[2] or ""), not bool(row[3]) and str(row[1]) not in alias)
            for row in rows
        }
        if self._has_rowid:
            for name in names:
                if name.lower() in ("rowid", "_rowid_", "oid") and name not in found:
                    found[name] = ("INTEGER", False)
        return {name: found[name] for name in names if name in found}

    def primary_key(self) -> list[str]:
        """The rowid (named as its INTEGER PRIMARY KEY alias when the table has one), else
        the primary key of a WITHOUT ROWID table."""
        from fustgo.plugins.clients.sqlite import quote

        rows = self._rows(f"PRAGMA table_xinfo({quote(self._table)})")
        primary = [row for row in sorted(rows, key=lambda r: int(r[5])) if int(row[5])]
        if not self._has_rowid:
            return [str(row[1]) for row in primary]
        alias = len(primary) == 1 and str(primary[0][2]).upper() == "INTEGER"
        return [str(primary[0][1])] if alias else ["rowid"]

    def kind(self, declared: str) -> WindowKind | None:
        from fustgo.plugins.clients.sqlite import logical_type

        logical = logical_type(declared)
        if logical is None or logical.kind == "string":
            return "text"
        if logical.kind in ("int64", "bool"):
            return "integer"
        if logical.kind in ("float64", "decimal"):
            return "number"
        if logical.kind in ("date", "timestamp"):
            return "time"
        return None

    def column_sql(self, name: str) -> str:
        from fustgo.plugins.clients.sqlite import quote

        return name if name.lower() in ("rowid", "_rowid_", "oid") else quote(name)

    def selected(self, column: WindowColumn) -> str:
        return column.sql

    def stored(self, value: Any) -> JSONValue:
        if isinstance(value, bytes):
            raise TerminalError(
                "A BLOB is the largest value of the incremental column or key; "
                f"`{FIELD}` needs numbers or text there."
            )
        return value  # type: ignore[no-any-return]

    def literal(self, column: WindowColumn, value: JSONValue) -> str:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return repr(value)
        return "'" + str(value).replace("'", "''") + "'"

    def earlier(self, column: WindowColumn, value: JSONValue, seconds: float) -> JSONValue:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return math.floor(value - seconds) if isinstance(value, int) else value - seconds
        return earlier_iso(str(value), seconds)


def earlier_iso(text: str, seconds: float) -> str:
    """An ISO 8601 time moved back by `seconds`, written in the same layout and offset but
    to the whole second below, without offset, so it sorts before every text of that second."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise TerminalError(
            f"The mark `{text}` of `{FIELD}.column` is not an ISO 8601 time, so no overlap "
            "can be subtracted; store times as ISO 8601 text or set `overlap: 0`."
        ) from exc
    moved = moment - timedelta(seconds=seconds)
    if len(text) <= 10:  # a date
        return moved.date().isoformat()
    return moved.replace(microsecond=0, tzinfo=None).isoformat(sep=text[10], timespec="seconds")
