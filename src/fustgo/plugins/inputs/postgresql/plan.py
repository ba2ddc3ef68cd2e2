"""What the postgresql input reads and in which order: columns, splits and positions.

A `ReadPlan` is discovered once per run (column types from a `LIMIT 0` query, the split
key's type and uniqueness, the primary key) and then only writes SQL. Splits (DataX
style): integer keys are cut into at most `parallelism` contiguous ranges, the first
without lower bound and the last up to the maximum inclusive; rows whose key is NULL form
one more split when the column is nullable (no query is needed to know). Each split is one
streamed query ordered by a keyset (the key; plus the primary key, or `ctid`, when keys
repeat) and a checkpoint's position is the last row's keyset as text, e.g.
`{"last": ["42", "(0,7)"]}`; a `sql` query is read as one split and resumed by OFFSET.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fustgo.engine.batch import JSONValue, Split
from fustgo.engine.errors import TerminalError
from fustgo.engine.types import LogicalType
from fustgo.plugins.clients.incremental import window_conditions
from fustgo.plugins.clients.postgresql import (
    base_name,
    logical_type,
    numeric_typmod,
    quote,
    quote_literal,
    reads_natively,
)
from fustgo.plugins.clients.sql import key_splits

if TYPE_CHECKING:
    import pyarrow as pa

_INTEGER_KEYS = ("int2", "int4", "int8")


@dataclass(frozen=True)
class ReadColumn:
    """One output column: its type as PostgreSQL declares it and how it is selected."""

    name: str
    declared: str
    logical: LogicalType
    select: str


@dataclass(frozen=True)
class OrderKey:
    """A column the rows of a split are ordered by; positions hold its value as text."""

    sql: str
    declared: str


@dataclass(frozen=True)
class ReadPlan:
    """The columns, source and ordering of one input, as SQL."""

    source: str
    """`"schema"."table" AS q` or `(SELECT …) AS q`."""
    label: str
    """The table or `input.query.sql`, as messages name it."""
    where: str | None
    columns: list[ReadColumn]
    tiebreak: list[OrderKey]
    """The primary key, else `ctid`; empty for a query, a view or a partitioned table."""
    key: OrderKey | None = None
    key_unique: bool = False
    key_nullable: bool = True
    relation: int | None = None
    """The table's oid (for the row estimate); None for a query."""

    def order(self, split: Split) -> list[OrderKey]:
        """The keyset of a split's rows; empty means the split is resumed by OFFSET."""
        if split.params.get("kind") == "range":
            assert self.key is not None
            if self.key_unique or not self.tiebreak:
                return [self.key]
            return [self.key, *(k for k in self.tiebreak if k.sql != self.key.sql)]
        return list(self.tiebreak)

    def select_sql(self, split: Split, position: dict[str, JSONValue]) -> str:
        """The split's rows after `position`: columns `c<i>`, then the keyset as `k<i>`."""
        items = [f'{column.select} AS "c{index}"' for index, column in enumerate(self.columns)]
        order = self.order(split)
        items += [f'{key.sql}::text AS "k{index}"' for index, key in enumerate(order)]
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
            columns = ", ".join(key.sql for key in order)
            values = ", ".join(
                f"{quote_literal(str(value))}::{key.declared}"
                for key, value in zip(order, last, strict=True)
            )
            conditions.append(f"({columns}) > ({values})")
        sql = f"SELECT {', '.join(items)} FROM {self.source}"
        if conditions:
            sql += f" WHERE {' AND '.join(conditions)}"
        if order:
            sql += f" ORDER BY {', '.join(key.sql for key in order)}"
        elif position.get("offset"):
            sql += f" OFFSET {int(position['offset'])}"  # type: ignore[arg-type]
        return sql

    def next_position(
        self, page: pa.Table, split: Split, position: dict[str, JSONValue]
    ) -> dict[str, JSONValue]:
        """The position after the last row of `page` (as read, with its `k<i>` columns)."""
        order = self.order(split)
        if not order:
            return {"offset": int(position.get("offset") or 0) + page.num_rows}  # type: ignore[arg-type]
        last = page.num_rows - 1
        return {"last": [page.column(f"k{index}")[last].as_py() for index in range(len(order))]}

    def key_splits(self, low: int | None, high: int | None, parallelism: int) -> list[Split]:
        """Range splits of the keys `low..high`, and a split for NULL keys when possible."""
        assert self.key is not None
        return key_splits(self.key.sql, self.key_nullable, low, high, parallelism)


def read_columns(described: pa.Schema, catalog: dict[str, str] | None = None) -> list[ReadColumn]:
    """Output columns from the schema ADBC reports for `SELECT … LIMIT 0`.

    A table's columns have their types from the catalog (`format_type`, in `catalog`); a
    query's from ADBC's field metadata (`POSTGRESQL:type`, plus the type modifier for
    numeric, which ADBC gives for scalars only). Types ADBC does not turn into their
    logical type are selected as text, so every value arrives exact.
    """
    columns = []
    for field in described:
        metadata = field.metadata or {}
        declared = metadata.get(b"POSTGRESQL:type", b"text").decode()
        if catalog is not None and field.name in catalog:
            declared = catalog[field.name]
        elif base_name(declared)[0] == "numeric":
            arguments = numeric_typmod(int(metadata.get(b"POSTGRESQL:typmod", b"-1")))
            declared += f"({','.join(map(str, arguments))})" if arguments else ""
        column = f"q.{quote(field.name)}"
        dimensions = base_name(declared)[1]
        if not reads_natively(declared):
            column += "::text[]" if dimensions == 1 else "::text"
        columns.append(ReadColumn(field.name, declared, logical_type(declared), column))
    return columns


def check_split_key(name: str, declared: str | None, table: str, columns: list[str]) -> None:
    """A TerminalError unless `name` is an integer column of the table."""
    if declared is None:
        raise TerminalError(
            f"`input.query.split_key` names `{name}`, which is not a column of `{table}`; "
            f"its columns are: {', '.join(columns)}."
        )
    if base_name(declared)[0] not in _INTEGER_KEYS or base_name(declared)[1]:
        raise TerminalError(
            f"`input.query.split_key` `{name}` is `{declared}`; split by an integer column "
            "(smallint, integer or bigint)."
        )
