"""What the mysql input reads and in which order: columns, splits and pages.

A `ReadPlan` is discovered once per run (column types from `information_schema`, the
split key's type and uniqueness, the primary key) and then only writes SQL. Splits (DataX
style, planned by `clients.splitting`): integer, string, date or datetime keys are cut
into at most `parallelism` contiguous half-open ranges whose bounds are literals in the
column's character set and collation (`CONVERT('m' USING utf8mb4) COLLATE
utf8mb4_general_ci`), so the server decides which range a key is in, PAD SPACE and case
folding included; boundaries come from min..max (even integer ranges), from a sample
(`Sampler`) or from the config. Rows whose key is NULL form one more split when the
column is nullable. A split with a keyset (the split key, plus the primary key when keys repeat; or
the primary key alone) is read in pages `WHERE keyset > last ORDER BY keyset LIMIT n`, each
page a short query, so a checkpoint's position is the last row's keyset
(`{"last": [42, "abc"]}`; binary keys as hex). Without a keyset (a `sql` query, a table
or view without primary key, a non-unique split key of such a table) the split is one
streamed query resumed by OFFSET.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fustgo.engine.batch import JSONValue, Split
from fustgo.engine.errors import DataError, TerminalError
from fustgo.plugins.clients.incremental import window_conditions
from fustgo.plugins.clients.mysql import parse_declared, quote, quote_literal
from fustgo.plugins.clients.splitting import (
    KeyKind,
    SplitKey,
    ordered_values_sql,
    range_conditions,
    scan_sample_sql,
    scan_step,
    seek_sample_sql,
    unsupported_key,
)
from fustgo.plugins.clients.sql import ReadColumn

INTEGER_TYPES = ("tinyint", "smallint", "mediumint", "int", "integer", "bigint")
_TEXT_TYPES = ("char", "varchar", "tinytext", "text", "mediumtext", "longtext")
_TIME_TYPES: dict[str, KeyKind] = {
    "date": "date",
    "datetime": "timestamp",
    "timestamp": "timestamp",
}


@dataclass(frozen=True)
class OrderKey:
    """A column the rows of a split are ordered by; positions hold its value."""

    sql: str
    declared: str
    charset: str | None = None
    """The character set and collation of a text split key: literals are converted to them."""
    collation: str | None = None

    @property
    def binary(self) -> bool:
        """Binary keys travel as hex text (positions are JSON)."""
        return parse_declared(self.declared)[0] in ("binary", "varbinary")

    @property
    def integer(self) -> bool:
        return parse_declared(self.declared)[0] in INTEGER_TYPES

    def selected(self, *, arrow: bool = False) -> str:
        """The key as positions hold it: binary as hex; over connectorx (`arrow`) every
        non-integer key as the server's text, as mysqlclient returns it."""
        if self.binary:
            return f"HEX({self.sql})"
        return f"CAST({self.sql} AS CHAR)" if arrow and not self.integer else self.sql

    def literal(self, value: JSONValue) -> str:
        if self.integer:
            return str(int(value))  # type: ignore[arg-type]
        if self.binary:
            return f"UNHEX({quote_literal(str(value))})"
        if self.charset and self.collation:
            text = quote_literal(str(value))
            return f"CONVERT({text} USING {self.charset}) COLLATE {self.collation}"
        return quote_literal(str(value))

    def typed_literal(self, value: JSONValue) -> str:
        """A literal of the column's own type, as a UNION with the column needs it."""
        kind = parse_declared(self.declared)[0]
        if kind == "date":
            return f"CAST({quote_literal(str(value))} AS DATE)"
        if kind in ("datetime", "timestamp"):
            return f"CAST({quote_literal(str(value))} AS DATETIME(6))"
        return self.literal(value)


@dataclass(frozen=True)
class ReadPlan:
    """The columns, source and ordering of one input, as SQL."""

    source: str
    """`` `db`.`table` AS q `` or `(SELECT …) AS q`."""
    label: str
    """The table or `input.query.sql`, as messages name it."""
    where: str | None
    columns: list[ReadColumn]
    tiebreak: list[OrderKey]
    """The primary key; empty for a query, a view or a table without one."""
    key: OrderKey | None = None
    key_unique: bool = False
    key_nullable: bool = True
    table: tuple[str, str] | None = None
    """(database, table) for the row estimate; None for a query."""
    key_kind: KeyKind = "integer"
    row_id: str | None = None
    """The table's primary key when it is one integer column: samples seek by it."""

    def order(self, split: Split) -> list[OrderKey]:
        """The keyset of a split's rows; empty means one streamed query resumed by OFFSET."""
        if split.params.get("kind") == "range":
            assert self.key is not None
            if self.key_unique:
                return [self.key]
            if not self.tiebreak:  # repeated keys and no primary key: no keyset exists
                return []
            return [self.key, *(k for k in self.tiebreak if k.sql != self.key.sql)]
        return list(self.tiebreak)

    def select_sql(
        self,
        split: Split,
        position: dict[str, JSONValue],
        page_rows: int,
        *,
        arrow: bool = False,
        temporal_text: bool = False,
        marker: str = "",
    ) -> str:
        """The split's rows after `position`: columns, then the keyset as `k<i>`.

        With a keyset, one page of `page_rows + 1` rows (the extra row tells whether more
        follow); without, every remaining row, streamed. `arrow` selects the columns for
        connectorx (`arrow_expression`); `marker` is a comment placed after SELECT.
        """
        items = [
            f"{arrow_expression(column, temporal_text) if arrow else column.select} AS `c{index}`"
            for index, column in enumerate(self.columns)
        ]
        order = self.order(split)
        items += [f"{key.selected(arrow=arrow)} AS `k{index}`" for index, key in enumerate(order)]
        conditions = [f"({self.where})"] if self.where else []
        conditions += window_conditions(split)  # an incremental run's window
        if self.key is not None:
            conditions += range_conditions(split, self.key.sql, self.key.literal)
        last = position.get("last")
        if order and isinstance(last, list):
            conditions.append(_after(order, last))
        comment = f"/* {marker.replace('*/', '* /')} */ " if marker else ""
        sql = f"SELECT {comment}{', '.join(items)} FROM {self.source}"
        if conditions:
            sql += f" WHERE {' AND '.join(conditions)}"
        if order:
            return sql + f" ORDER BY {', '.join(k.sql for k in order)} LIMIT {page_rows + 1}"
        if split.params.get("kind") == "range":
            assert self.key is not None
            sql += f" ORDER BY {self.key.sql}"
        offset = int(position.get("offset") or 0)  # type: ignore[arg-type]
        return sql + (f" LIMIT {offset}, 18446744073709551615" if offset else "")

    def next_position(
        self, last_row: tuple[Any, ...], split: Split, position: dict[str, JSONValue], rows: int
    ) -> dict[str, JSONValue]:
        """The position after a page whose last row (as read, keyset at the end) is given."""
        order = self.order(split)
        if not order:
            return {"offset": int(position.get("offset") or 0) + rows}  # type: ignore[arg-type]
        values = last_row[len(last_row) - len(order) :]
        return {"last": [v.decode() if isinstance(v, bytes) else v for v in values]}


def _after(order: list[OrderKey], last: list[JSONValue]) -> str:
    """`keyset > last` spelled out (`a > x OR (a = x AND b > y)`) so indexes are used."""
    first, value = order[0], order[0].literal(last[0])
    if len(order) == 1:
        return f"{first.sql} > {value}"
    rest = _after(order[1:], last[1:])
    return f"({first.sql} > {value} OR ({first.sql} = {value} AND {rest}))"


def check_split_key(
    name: str, declared: str | None, table: str, columns: list[str], field: str
) -> KeyKind:
    """The kind of split key `name` is; a TerminalError unless ranges can be cut on it."""
    if declared is None:
        raise TerminalError(
            f"`{field}` names `{name}`, which is not a column of `{table}`; "
            f"its columns are: {', '.join(columns)}."
        )
    kind = parse_declared(declared)[0]
    if kind in INTEGER_TYPES:
        return "integer"
    if kind in _TEXT_TYPES:
        return "string"
    if kind in _TIME_TYPES:
        return _TIME_TYPES[kind]
    raise unsupported_key(name, declared, field)


@dataclass
class Sampler:
    """The planning queries for a split key (`clients.splitting.KeySampler`)."""

    plan: ReadPlan
    key: SplitKey
    rows: Callable[[str, str], list[tuple[Any, ...]]]
    """Runs one query on the discovery connection, with a description for errors."""

    def _where(self, key_sql: str) -> str:
        condition = f"{key_sql} IS NOT NULL"
        return condition + (f" AND ({self.plan.where})" if self.plan.where else "")

    def bounds(self) -> tuple[Any, Any]:
        sql = f"SELECT min({self.key.sql}), max({self.key.sql}) FROM {self.plan.source}"
        row = self.rows(
            f"{sql} WHERE {self._where(self.key.sql)}", f"Reading the range of `{self.key.name}`"
        )
        return row[0][0], row[0][1]

    def sample(self, *, forced: bool) -> list[tuple[JSONValue, int]] | None:
        """With an integer primary key: `SEEK_POINTS` index seeks spread over its range
        (cost: those seeks, whatever the table's size; ids spread unevenly weigh the rows
        after gaps more). Without one, only when `forced`: one full scan keeping every
        n-th key (no sort of the table)."""
        plan, action = self.plan, f"Sampling `{self.key.name}`"
        assert plan.key is not None
        column = plan.key.sql.removeprefix("q.")
        if plan.row_id is not None and plan.table is not None:
            row_id = f"q.{quote(plan.row_id)}"
            low, high = self.rows(
                f"SELECT min({row_id}), max({row_id}) FROM {plan.source}", action
            )[0]
            if low is None:
                return []
            sql = seek_sample_sql(
                table=f"{quote(plan.table[0])}.{quote(plan.table[1])}", source=plan.source,
                key_column=column, key_sql=plan.key.sql, row_id=quote(plan.row_id),
                row_id_sql=row_id, where=plan.where, low=int(low), high=int(high),
                literal_points=True, select=f"fg_j.{column}",
            )  # fmt: skip
        elif forced:
            count = None
            if plan.table is not None:
                database, table = (quote_literal(part) for part in plan.table)
                found = self.rows(
                    f"SELECT table_rows FROM information_schema.tables WHERE table_schema = "
                    f"{database} AND table_name = {table}",
                    action,
                )
                count = int(found[0][0]) if found and found[0][0] is not None else None
            sql = scan_sample_sql(plan.key.sql, plan.source, plan.where, scan_step(count), "fg_v")
        else:
            return None
        return [(_json(value), int(count)) for value, count in self.rows(sql, action)]

    def ordered(self, values: Sequence[JSONValue]) -> list[JSONValue]:
        assert self.plan.key is not None
        literals = [self.plan.key.typed_literal(value) for value in values]
        sql = ordered_values_sql(self.key.sql, self.plan.source, literals, "fg_v")
        field = f"{self.key.field.rsplit('.', 1)[0]}.boundaries"
        try:
            rows = self.rows(sql, f"Ordering `{field}`")
        except (TerminalError, DataError) as exc:
            raise TerminalError(
                f"`{field}` are not all values of `{self.key.name}`: {exc}"
            ) from exc
        if any(row[0] is None for row in rows):
            raise TerminalError(
                f"`{field}` holds values that are not {self.key.kind}s of `{self.key.name}` "
                f"({self.plan.key.declared}); write them as the column's values "
                "(`2024-01-01`, `2024-01-01 12:00:00`)."
            )
        return [_json(row[0]) for row in rows]


def _json(value: Any) -> JSONValue:
    """A key as the driver returned it, as split params hold it (text stays text)."""
    return value.decode() if isinstance(value, bytes) else value


def select_expression(name: str, declared: str) -> str:
    """How a column is selected: `bit(n)` as its number, everything else as stored."""
    kind, arguments, _ = parse_declared(declared)
    column = f"q.{quote(name)}"
    if kind == "bit" and not (arguments and int(arguments[0]) > 63):
        return f"CAST({column} AS UNSIGNED)"
    return column


_ARROW_NATIVE = frozenset(
    {*INTEGER_TYPES, "float", "double", "real", "bool", "boolean", "year", *_TEXT_TYPES,
     "enum", "set", "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"}
)  # fmt: skip
"""Types connectorx carries exactly; dates and timestamps too, unless zero dates occur."""


def arrow_expression(column: ReadColumn, temporal_text: bool) -> str:
    """How a column is selected for connectorx (`inputs.mysql.arrow`).

    Decimals (connectorx rounds beyond 28 digits and fails on scales other than 10),
    `time` (fails beyond 24 h), `json` (re-serialised) and types it does not know travel as
    the server's text, parsed by Arrow like mysqlclient's; geometry as its bytes. With
    `temporal_text` (a page held a zero date) dates and timestamps travel as text too.
    """
    kind = parse_declared(column.declared)[0]
    if kind == "bit" or kind in _ARROW_NATIVE:
        return column.select
    if kind in _TIME_TYPES and not temporal_text:
        return column.select
    if column.logical.kind == "binary":
        return f"CAST({column.select} AS BINARY)"
    return f"CAST({column.select} AS CHAR)"
