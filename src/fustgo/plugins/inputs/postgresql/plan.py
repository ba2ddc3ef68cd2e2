"""What the postgresql input reads and in which order: columns, splits and positions.

A `ReadPlan` is discovered once per run (column types from a `LIMIT 0` query, the split
key's type and uniqueness, the primary key) and then only writes SQL. Splits (DataX
style, planned by `clients.splitting`): integer, string, date, timestamp or uuid keys are
cut into at most `parallelism` contiguous half-open ranges whose bounds are literals of
the key's type (`'m'::text`), so the server compares them in the column's collation;
boundaries come from min..max (even integer ranges) or from a `TABLESAMPLE SYSTEM` sample
(`Sampler`); rows whose key is NULL form one more split when the column is nullable (no
query is needed to know). Each split is one
streamed query ordered by a keyset (the key; plus the primary key, or `ctid`, when keys
repeat) and a checkpoint's position is the last row's keyset as text, e.g.
`{"last": ["42", "(0,7)"]}`; a `sql` query is read as one split and resumed by OFFSET.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fustgo.engine.batch import JSONValue, Split
from fustgo.engine.errors import DataError, TerminalError
from fustgo.plugins.clients.incremental import window_conditions
from fustgo.plugins.clients.postgresql import (
    base_name,
    logical_type,
    numeric_typmod,
    quote,
    quote_literal,
    reads_natively,
)
from fustgo.plugins.clients.splitting import (
    SAMPLE_ROWS,
    KeyKind,
    SplitKey,
    ordered_values_sql,
    range_conditions,
    scan_sample_sql,
    scan_step,
    unsupported_key,
)
from fustgo.plugins.clients.sql import ReadColumn

if TYPE_CHECKING:
    import pyarrow as pa

_KEY_KINDS: dict[str, KeyKind] = {
    "int2": "integer",
    "int4": "integer",
    "int8": "integer",
    "text": "string",
    "varchar": "string",
    "bpchar": "string",
    "citext": "string",
    "date": "date",
    "timestamp": "timestamp",
    "timestamptz": "timestamp",
    "uuid": "uuid",
}


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
    key_kind: KeyKind = "integer"
    samplable: bool = False
    """True for plain and materialized tables, which `TABLESAMPLE` can read."""

    def key_literal(self, value: JSONValue) -> str:
        """A split bound as a literal of the key's type (no typmod: `'x'::varchar`), which
        takes the column's collation when compared with it."""
        assert self.key is not None
        if self.key_kind == "integer":
            return str(int(value))  # type: ignore[arg-type]
        return f"{quote_literal(str(value))}::{base_name(self.key.declared)[0]}"

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
        conditions = self.conditions(split)
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

    def copy_sql(self, split: Split) -> str:
        """Every row of the split, its columns as stored (for a binary COPY pass-through)."""
        items = ", ".join(f"q.{quote(column.name)}" for column in self.columns)
        conditions = self.conditions(split)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        return f"SELECT {items} FROM {self.source}{where}"

    def conditions(self, split: Split) -> list[str]:
        """What a row must meet to be in the split: `where`, the window, the key range."""
        conditions = [f"({self.where})"] if self.where else []
        conditions += window_conditions(split)  # an incremental run's window
        if self.key is not None:
            conditions += range_conditions(split, self.key.sql, self.key_literal)
        return conditions

    def next_position(
        self, page: pa.Table, split: Split, position: dict[str, JSONValue]
    ) -> dict[str, JSONValue]:
        """The position after the last row of `page` (as read, with its `k<i>` columns)."""
        order = self.order(split)
        if not order:
            return {"offset": int(position.get("offset") or 0) + page.num_rows}  # type: ignore[arg-type]
        last = page.num_rows - 1
        return {"last": [page.column(f"k{index}")[last].as_py() for index in range(len(order))]}


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


def check_split_key(
    name: str, declared: str | None, table: str, columns: list[str], field: str
) -> KeyKind:
    """The kind of split key `name` is; a TerminalError unless ranges can be cut on it."""
    if declared is None:
        raise TerminalError(
            f"`{field}` names `{name}`, which is not a column of `{table}`; "
            f"its columns are: {', '.join(columns)}."
        )
    base, dimensions, _ = base_name(declared)
    kind = _KEY_KINDS.get(base)
    if kind is None or dimensions:
        raise unsupported_key(name, declared, field)
    return kind


@dataclass
class Sampler:
    """The planning queries for a split key (`clients.splitting.KeySampler`)."""

    plan: ReadPlan
    key: SplitKey
    rows: Callable[[str, str], list[tuple[Any, ...]]]
    """Runs one query on the discovery connection, with a description for errors."""

    def _text(self, sql: str) -> str:
        """Keys travel as text (exact for every type) except integers."""
        return sql if self.key.kind == "integer" else f"{sql}::text"

    def _where(self) -> str:
        condition = f"{self.key.sql} IS NOT NULL"
        return condition + (f" AND ({self.plan.where})" if self.plan.where else "")

    def bounds(self) -> tuple[Any, Any]:
        sql = f"SELECT min({self.key.sql}), max({self.key.sql}) FROM {self.plan.source}"
        row = self.rows(f"{sql} WHERE {self._where()}", f"Reading the range of `{self.key.name}`")
        return row[0][0], row[0][1]

    def sample(self, *, forced: bool) -> list[tuple[JSONValue, int]] | None:
        """`TABLESAMPLE SYSTEM` of about `SAMPLE_ROWS` rows (whole pages, picked at random
        with a fixed seed; cost: the sampled pages, whatever the table's size). A view is
        sampled only when `forced`, by one full scan keeping every n-th key."""
        action = f"Sampling `{self.key.name}`"
        if self.plan.samplable and self.plan.relation is not None:
            percent = self._percent()
            sql = (
                f"SELECT {self._text(self.key.sql)}, count(*) FROM {self.plan.source} "
                f"TABLESAMPLE SYSTEM ({percent:.6f}) REPEATABLE (0) WHERE {self._where()} "
                f"GROUP BY {self.key.sql} ORDER BY {self.key.sql}"
            )
        elif forced:
            count = self.rows(
                f"SELECT count(*) FROM {self.plan.source} WHERE {self._where()}", action
            )[0][0]
            sql = scan_sample_sql(
                self.key.sql, self.plan.source, self.plan.where, scan_step(count),
                self._text("fg_v"),
            )  # fmt: skip
        else:
            return None
        return [(value, int(count)) for value, count in self.rows(sql, action)]

    def _percent(self) -> float:
        """The share of pages that holds about `SAMPLE_ROWS` rows (planner statistics; a
        never-analyzed table is sized from its pages)."""
        tuples, pages = self.rows(
            f"SELECT reltuples, pg_relation_size(oid) / current_setting('block_size')::int "
            f"FROM pg_class WHERE oid = {self.plan.relation}",
            "Reading the table size",
        )[0]
        estimate = float(tuples) if tuples is not None and tuples > 0 else 50.0 * float(pages)
        return 100.0 if estimate <= SAMPLE_ROWS else max(100.0 * SAMPLE_ROWS / estimate, 1e-6)

    def ordered(self, values: Sequence[JSONValue]) -> list[JSONValue]:
        literals = [self.plan.key_literal(value) for value in values]
        sql = ordered_values_sql(self.key.sql, self.plan.source, literals, self._text("fg_v"))
        field = f"{self.key.field.rsplit('.', 1)[0]}.boundaries"
        try:
            rows = self.rows(sql, f"Ordering `{field}`")
        except (TerminalError, DataError) as exc:
            raise TerminalError(
                f"`{field}` are not all values of `{self.key.name}` ({self.key.kind}): {exc}"
            ) from exc
        return [row[0] for row in rows]
