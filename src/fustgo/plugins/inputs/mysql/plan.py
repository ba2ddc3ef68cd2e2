"""What the mysql input reads and in which order: columns, splits and pages.

A `ReadPlan` is discovered once per run (column types from `information_schema`, the
split key's type and uniqueness, the primary key) and then only writes SQL. Splits (DataX
style): integer keys are cut into at most `parallelism` contiguous ranges by
`clients.sql.key_ranges`; rows whose key is NULL form one more split when the column is
nullable. A split with a keyset (the split key, plus the primary key when keys repeat; or
the primary key alone) is read in pages `WHERE keyset > last ORDER BY keyset LIMIT n`, each
page a short query, so a checkpoint's position is the last row's keyset
(`{"last": [42, "abc"]}`; binary keys as hex). Without a keyset (a `sql` query, a table
or view without primary key, a non-unique split key of such a table) the split is one
streamed query resumed by OFFSET.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fustgo.engine.batch import JSONValue, Split
from fustgo.engine.errors import TerminalError
from fustgo.engine.types import LogicalType
from fustgo.plugins.clients.incremental import window_conditions
from fustgo.plugins.clients.mysql import parse_declared, quote, quote_literal
from fustgo.plugins.clients.sql import key_splits

INTEGER_TYPES = ("tinyint", "smallint", "mediumint", "int", "integer", "bigint")


@dataclass(frozen=True)
class ReadColumn:
    """One output column: its type as MySQL declares it and how it is selected."""

    name: str
    declared: str
    logical: LogicalType
    select: str


@dataclass(frozen=True)
class OrderKey:
    """A column the rows of a split are ordered by; positions hold its value."""

    sql: str
    declared: str

    @property
    def binary(self) -> bool:
        """Binary keys travel as hex text (positions are JSON)."""
        return parse_declared(self.declared)[0] in ("binary", "varbinary")

    @property
    def integer(self) -> bool:
        return parse_declared(self.declared)[0] in INTEGER_TYPES

    def selected(self) -> str:
        return f"HEX({self.sql})" if self.binary else self.sql

    def literal(self, value: JSONValue) -> str:
        if self.integer:
            return str(int(value))  # type: ignore[arg-type]
        if self.binary:
            return f"UNHEX({quote_literal(str(value))})"
        return quote_literal(str(value))


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

    def select_sql(self, split: Split, position: dict[str, JSONValue], page_rows: int) -> str:
        """The split's rows after `position`: columns, then the keyset as `k<i>`.

        With a keyset, one page of `page_rows + 1` rows (the extra row tells whether more
        follow); without, every remaining row, streamed.
        """
        items = [f"{column.select} AS `c{index}`" for index, column in enumerate(self.columns)]
        order = self.order(split)
        items += [f"{key.selected()} AS `k{index}`" for index, key in enumerate(order)]
        conditions = [f"({self.where})"] if self.where else []
        conditions += window_conditions(split)  # an incremental run's window
        kind = split.params.get("kind")
        if kind == "range":
            assert self.key is not None
            if split.params["lo"] is not None:
                conditions.append(f"{self.key.sql} >= {int(split.params['lo'])}")  # type: ignore[arg-type]
            bound = "<=" if split.params["last"] else "<"
            conditions.append(f"{self.key.sql} {bound} {int(split.params['hi'])}")  # type: ignore[arg-type]
        elif kind == "null_key":
            assert self.key is not None
            conditions.append(f"{self.key.sql} IS NULL")
        last = position.get("last")
        if order and isinstance(last, list):
            conditions.append(_after(order, last))
        sql = f"SELECT {', '.join(items)} FROM {self.source}"
        if conditions:
            sql += f" WHERE {' AND '.join(conditions)}"
        if order:
            return sql + f" ORDER BY {', '.join(k.sql for k in order)} LIMIT {page_rows + 1}"
        if kind == "range":
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

    def key_splits(self, low: int | None, high: int | None, parallelism: int) -> list[Split]:
        """Range splits of the keys `low..high`, and a split for NULL keys when possible."""
        assert self.key is not None
        return key_splits(self.key.sql, self.key_nullable, low, high, parallelism)


def _after(order: list[OrderKey], last: list[JSONValue]) -> str:
    """`keyset > last` spelled out (`a > x OR (a = x AND b > y)`) so indexes are used."""
    first, value = order[0], order[0].literal(last[0])
    if len(order) == 1:
        return f"{first.sql} > {value}"
    rest = _after(order[1:], last[1:])
    return f"({first.sql} > {value} OR ({first.sql} = {value} AND {rest}))"


def check_split_key(name: str, declared: str | None, table: str, columns: list[str]) -> None:
    """A TerminalError unless `name` is an integer column of the table."""
    if declared is None:
        raise TerminalError(
            f"`input.query.split_key` names `{name}`, which is not a column of `{table}`; "
            f"its columns are: {', '.join(columns)}."
        )
    if parse_declared(declared)[0] not in INTEGER_TYPES:
        raise TerminalError(
            f"`input.query.split_key` `{name}` is `{declared}`; split by an integer column "
            "(tinyint … bigint, signed or unsigned)."
        )


def select_expression(name: str, declared: str) -> str:
    """How a column is selected: `bit(n)` as its number, everything else as stored."""
    kind, arguments, _ = parse_declared(declared)
    column = f"q.{quote(name)}"
    if kind == "bit" and not (arguments and int(arguments[0]) > 63):
        return f"CAST({column} AS UNSIGNED)"
    return column
