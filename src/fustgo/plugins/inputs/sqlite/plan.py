"""What the sqlite input reads and in which order: columns, splits, pages and positions.

A `ReadPlan` is discovered once per run from the database (declared types, rowid, primary
key, indexes) and then only writes SQL. Splits (DataX style, planned by
`clients.splitting`): with an integer split key, numeric keys are cut into contiguous
ranges, the first without lower bound and the last up to the maximum inclusive, and rows
whose key is NULL or not a number form one more split. A string, date or timestamp key is
cut at boundaries from a sample or the config into half-open ranges bound as parameters,
so SQLite compares them with the column's collation (NOCASE, RTRIM); its NULL split holds
only NULL keys, and values of any storage class fall in exactly one range. Pages
are ordered by a keyset (the key, plus the rowid or primary key when keys repeat; the
rowid alone when the key has no index) and a checkpoint's position is the last row's
keyset, e.g. `{"last_key": 42}` or `{"last_key": 42, "last_rowid": 977}`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from logging import Logger
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from fustgo.engine.batch import JSONValue, Split
from fustgo.engine.errors import TerminalError
from fustgo.engine.types import LogicalType
from fustgo.plugins.clients.incremental import window_conditions
from fustgo.plugins.clients.splitting import (
    KeyKind,
    SplitKey,
    ordered_values_sql,
    scan_sample_sql,
    scan_step,
    seek_sample_sql,
    unsupported_key,
)
from fustgo.plugins.clients.sqlite import (
    ColumnInfo,
    driver_message,
    logical_type,
    missing_table_error,
    query_rows,
    quote,
    table_columns,
    table_names,
)
from fustgo.plugins.inputs.sqlite.pages import ReadColumn, read_column

if TYPE_CHECKING:
    from adbc_driver_manager.dbapi import Connection

ROWID_NAMES = ("rowid", "_rowid_", "oid")


@dataclass(frozen=True)
class OrderKey:
    """A column the pages are ordered and positioned by."""

    sql: str
    name: str
    """Its name in checkpoint positions (`last_key`, `last_rowid`, `last_pk.<column>`)."""
    classes: tuple[str, ...]
    """Storage classes its values may have; each is selected apart so values stay exact."""


@dataclass(frozen=True)
class ReadPlan:
    """The columns, source and ordering of one input, as SQL."""

    source: str
    """`"table"` or `(SELECT …) AS fustgo_query`."""
    where: str | None
    columns: list[ReadColumn]
    tiebreak: list[OrderKey]
    """The rowid, or the primary key of a WITHOUT ROWID table; empty for `sql`."""
    key: OrderKey | None = None
    key_unique: bool = False
    key_indexed: bool = False
    key_kind: KeyKind = "integer"

    def order(self, split: Split) -> list[OrderKey]:
        """The keyset of a split's pages; empty means OFFSET paging."""
        if split.params.get("kind") == "range" and self.key_indexed:
            assert self.key is not None
            return [self.key] if self.key_unique else [self.key, *self.tiebreak]
        return list(self.tiebreak)

    def conditions(
        self, split: Split, position: dict[str, JSONValue] | None = None
    ) -> tuple[list[str], list[Any]]:
        """WHERE conditions (and parameters) for the rows of a split after `position`.

        A split's lower bound gives way to the position: SQLite seeks an index with one
        lower bound, and `key >= lo AND key > last` would make every page scan from `lo`.
        """
        conditions = [f"({self.where})"] if self.where else []
        conditions += window_conditions(split)  # an incremental run's window
        params: list[Any] = []
        order = self.order(split)
        kind = split.params.get("kind")
        if kind == "range":
            assert self.key is not None
            key, keyed = self.key.sql, order[0] is self.key
            if position and keyed:
                conditions.append(f"{key} {'>' if len(order) == 1 else '>='} ?")
                params.append(position["last_key"])
            elif split.params["lo"] is not None:
                conditions.append(f"{key} >= ?")
                params.append(split.params["lo"])
            if split.params["hi"] is not None:
                conditions.append(f"{key} {'<=' if split.params['last'] else '<'} ?")
                params.append(split.params["hi"])
            elif self.key_kind == "integer":  # numbers only: text and blobs are in `null_key`
                conditions.append(f"{key} < ''")
            elif split.params["lo"] is None and not (position and keyed):
                conditions.append(f"{key} IS NOT NULL")  # the one range of an unsplit key
            if position and (not keyed or len(order) > 1):
                conditions.append(_after(order, params, position))
            return conditions, params
        if kind == "null_key":
            assert self.key is not None
            if self.key_kind == "integer":
                # every number sorts before any text in SQLite, and NULL fails comparisons
                conditions.append(f"({self.key.sql} IS NULL OR {self.key.sql} >= '')")
            else:
                conditions.append(f"{self.key.sql} IS NULL")
        if position and order:
            conditions.append(_after(order, params, position))
        return conditions, params

    def count_sql(self, split: Split) -> tuple[str, list[Any]]:
        conditions, params = self.conditions(split)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        return f"SELECT count(*) FROM {self.source}{where}", params

    def page_sql(
        self, split: Split, position: dict[str, JSONValue], limit: int, robust: frozenset[str]
    ) -> tuple[str, list[Any]]:
        """One page: columns as `fg_c<i>` (plus `fg_t<i>`, the storage class, for `robust`
        columns) and the keyset as `fg_p<place>_<class>`."""
        items: list[str] = []
        for index, column in enumerate(self.columns):
            if column.name in robust:
                items.append(f'{column.classes_sql} AS "fg_t{index}"')
                items.append(f'{column.robust_text} AS "fg_c{index}"')
            else:
                items.append(f'{column.select} AS "fg_c{index}"')
        order = self.order(split)
        for place, key in enumerate(order):
            for storage in key.classes:
                value = key.sql
                if len(key.classes) > 1:  # one column per class keeps each value exact
                    value = f"iif(typeof({key.sql}) = '{storage}', {key.sql}, NULL)"
                items.append(f'{value} AS "fg_p{place}_{storage}"')
        conditions, params = self.conditions(split, position)
        sql = f"SELECT {', '.join(items)} FROM {self.source}"
        if conditions:
            sql += f" WHERE {' AND '.join(conditions)}"
        if order:
            sql += f" ORDER BY {', '.join(key.sql for key in order)} LIMIT ?"
            params.append(limit)
        else:
            sql += " LIMIT ? OFFSET ?"
            params.extend([limit, position.get("offset", 0)])
        return sql, params

    def next_position(
        self, page: pa.Table, split: Split, position: dict[str, JSONValue]
    ) -> dict[str, JSONValue]:
        """The position after the last row of `page`."""
        order = self.order(split)
        if not order:
            return {"offset": int(position.get("offset") or 0) + page.num_rows}
        last = page.num_rows - 1
        result: dict[str, JSONValue] = {}
        for place, key in enumerate(order):
            values = [page.column(f"fg_p{place}_{c}")[last].as_py() for c in key.classes]
            value = next((v for v in values if v is not None), None)
            if value is None:
                raise TerminalError(
                    f"A row of {self.source} has a BLOB in {key.sql}, which orders the pages; "
                    "it cannot be read in key order."
                )
            result[key.name] = value
        return result


def table_plan(
    connection: Connection, table: str, *, columns: list[str] | None, where: str | None,
    split_key: str | None, where_is: str, logger: Logger,
    split_field: str = "input.query.split_key",
) -> ReadPlan:  # fmt: skip
    """The plan for a table: declared types, rowid or primary key, split key and index."""
    infos = table_columns(connection, table)
    if not infos:
        raise missing_table_error(table, table_names(connection), where_is)
    by_name = {info.name: info for info in infos}
    if columns is not None:
        missing = [name for name in columns if name not in by_name]
        if missing:
            raise TerminalError(
                f"Columns {missing} of `input.query.columns` are not in table `{table}`; "
                f"its columns are: {', '.join(by_name)}."
            )
        infos = [by_name[name] for name in columns]
    source = quote(table)
    plan = ReadPlan(
        source=source,
        where=where,
        columns=_read_columns(connection, infos, source, where),
        tiebreak=_tiebreak(connection, table, list(by_name.values())),
    )
    if split_key is None:
        return plan
    key, kind, unique, indexed = _split_key(
        connection, table, split_key, by_name, plan.tiebreak, field=split_field
    )
    if not indexed:
        logger.info(
            "Split key %s of table %s has no index; each split scans the whole table "
            "(CREATE INDEX ON %s (%s) makes splits read only their range).",
            split_key, table, source, quote(split_key),
        )  # fmt: skip
    return ReadPlan(source, where, plan.columns, plan.tiebreak, key, unique, indexed, kind)


def sql_plan(connection: Connection, sql: str) -> ReadPlan:
    """The plan for a query: types declared by the columns it selects, or probed."""
    body = sql.strip().rstrip(";")
    try:  # a view reports the declared type of each column a query selects
        query_rows(connection, f"CREATE TEMP VIEW fustgo_columns AS {body}")
        infos = table_columns(connection, "fustgo_columns", schema="temp")
        query_rows(connection, "DROP VIEW temp.fustgo_columns")
    except Exception as exc:
        raise TerminalError(
            f"`input.query.sql` does not run in SQLite: {driver_message(exc)}."
        ) from exc
    names = {info.name for info in infos}  # a view renames a repeated `id` to `id:1`
    duplicates = sorted({n.rsplit(":", 1)[0] for n in names if n.rsplit(":", 1)[0] in names - {n}})
    if duplicates:
        raise TerminalError(
            f"`input.query.sql` returns several columns named {duplicates}; give them "
            "distinct names with AS."
        )
    source = f"({body}) AS fustgo_query"
    return ReadPlan(source, None, _read_columns(connection, infos, source, None), tiebreak=[])


def _after(order: list[OrderKey], params: list[Any], position: dict[str, JSONValue]) -> str:
    """`(a, b) > (?, ?)` for the rows after `position`; appends the values to `params`."""
    params.extend(position[key.name] for key in order)
    columns = ", ".join(key.sql for key in order)
    marks = ", ".join("?" for _ in order)
    return f"({columns}) > ({marks})" if len(order) > 1 else f"{columns} > ?"


def _read_columns(
    connection: Connection, infos: list[ColumnInfo], source: str, where: str | None
) -> list[ReadColumn]:
    declared = {info.name: logical_type(info.declared) for info in infos}
    untyped = [name for name, logical in declared.items() if logical is None]
    probed = _probe_types(connection, untyped, source, where) if untyped else {}
    return [
        read_column(info.name, info.declared, declared[info.name] or probed[info.name])
        for info in infos
    ]


def _probe_types(
    connection: Connection, names: list[str], source: str, where: str | None
) -> dict[str, LogicalType]:
    """Types of columns declared without one (expressions in `sql`), from all their values.

    One scan decides a type that holds every value, so the schema is stable across
    pages: any text → string, only blobs → binary, any real → float64, else int64.
    """
    items = [
        f"max(typeof({quote(name)}) = '{storage}')"
        for name in names
        for storage in ("integer", "real", "text", "blob")
    ]
    condition = f" WHERE ({where})" if where else ""
    row = query_rows(connection, f"SELECT {', '.join(items)} FROM {source}{condition}")[0]
    types: dict[str, LogicalType] = {}
    for index, name in enumerate(names):
        has_int, has_real, has_text, has_blob = (bool(v) for v in row[index * 4 : index * 4 + 4])
        if has_blob and not (has_int or has_real or has_text):
            types[name] = LogicalType("binary")
        elif has_text or has_blob or not (has_int or has_real):
            types[name] = LogicalType("string")
        else:
            types[name] = LogicalType("float64" if has_real else "int64")
    return types


def _tiebreak(connection: Connection, table: str, infos: list[ColumnInfo]) -> list[OrderKey]:
    """What orders rows with equal (or NULL) keys: the rowid, else the primary key."""
    taken = {info.name.lower() for info in infos}
    rowid = next((name for name in ROWID_NAMES if name not in taken), None)
    if rowid is not None:
        try:
            query_rows(connection, f"SELECT {rowid} FROM {quote(table)} LIMIT 0")
        except Exception:
            pass
        else:
            return [OrderKey(rowid, "last_rowid", ("integer",))]
    primary = sorted(
        (i for i in infos if i.primary_key_position), key=lambda i: i.primary_key_position
    )
    return [
        OrderKey(quote(i.name), f"last_pk.{i.name}", ("integer", "real", "text")) for i in primary
    ]


def _split_key(
    connection: Connection, table: str, key: str, by_name: dict[str, ColumnInfo],
    tiebreak: list[OrderKey], *, field: str,
) -> tuple[OrderKey, KeyKind, bool, bool]:  # fmt: skip
    """The split key, its kind, whether its values are unique and whether an index leads
    with it.

    An indexed key orders the pages of its splits (with the rowid when it is not unique);
    an unindexed one only bounds them and the rowid orders them, so each split is one pass
    over the table instead of one sort per page.
    """
    has_rowid = bool(tiebreak) and tiebreak[0].name == "last_rowid"
    if key.lower() in ROWID_NAMES and key not in by_name:
        if not has_rowid:
            raise TerminalError(
                f"`{field}` is `{key}` but table `{table}` has no rowid "
                "(WITHOUT ROWID); split by its integer primary key instead."
            )
        return OrderKey(key, "last_key", ("integer",)), "integer", True, True
    info = by_name.get(key)
    if info is None:
        raise TerminalError(
            f"`{field}` names `{key}`, which is not a column of `{table}`; "
            f"its columns are: {', '.join(by_name)}."
        )
    logical = logical_type(info.declared)
    kind = _KEY_KINDS.get(logical.kind if logical is not None else "int64")
    if kind is None:
        raise unsupported_key(key, info.declared, field)
    primary = [name for name, i in by_name.items() if i.primary_key_position]
    if primary == [key] and info.declared.upper() == "INTEGER" and has_rowid:
        return OrderKey(quote(key), "last_key", ("integer",)), kind, True, True  # the rowid
    unique, indexed = primary == [key], primary[:1] == [key]
    for _, index_name, is_unique, _, partial in query_rows(
        connection, f"PRAGMA index_list({quote(table)})"
    ):
        indexed_columns = [
            row[2] for row in query_rows(connection, f"PRAGMA index_info({quote(index_name)})")
        ]
        if indexed_columns[:1] == [key]:
            indexed = True
            unique = unique or (bool(is_unique) and not partial and indexed_columns == [key])
    classes = ("integer", "real") if kind == "integer" else ("integer", "real", "text")
    return OrderKey(quote(key), "last_key", classes), kind, unique, indexed


_KEY_KINDS: dict[str, KeyKind] = {
    "int64": "integer",
    "string": "string",
    "date": "date",
    "timestamp": "timestamp",
}


@dataclass
class Sampler:
    """The planning queries for a split key (`clients.splitting.KeySampler`)."""

    plan: ReadPlan
    key: SplitKey
    connection: Connection

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return query_rows(self.connection, sql, tuple(params))
        except Exception as exc:
            raise TerminalError(
                f"Planning the splits of `{self.key.name}` failed: {driver_message(exc)}."
            ) from exc

    def _where(self) -> str | None:
        """`where`, and for an integer key only numbers (text keys are in the NULL split)."""
        parts = [f"({self.plan.where})"] if self.plan.where else []
        if self.key.kind == "integer":
            parts.append(f"{self.key.sql} < ''")
        return " AND ".join(parts) or None

    def bounds(self) -> tuple[Any, Any]:
        key, where = self.key.sql, f" AND ({self.plan.where})" if self.plan.where else ""
        ends = []
        for direction in ("ASC", "DESC"):  # `< ''` keeps the numbers and lets an index serve
            found = self._rows(
                f"SELECT {key} FROM {self.plan.source} WHERE {key} < ''{where} "
                f"ORDER BY {key} {direction} LIMIT 1"
            )
            ends.append(found[0][0] if found else None)
        return ends[0], ends[1]

    def sample(self, *, forced: bool) -> list[tuple[JSONValue, int]] | None:
        """With a rowid: `SEEK_POINTS` seeks spread over its range (cost: those seeks,
        whatever the table's size; deterministic: the same data gives the same splits).
        Without (WITHOUT ROWID), only when `forced`: one scan keeping every n-th key."""
        plan, where = self.plan, self._where()
        assert plan.key is not None
        if plan.tiebreak and plan.tiebreak[0].name == "last_rowid":
            row_id = plan.tiebreak[0].sql
            low, high = self._rows(f"SELECT min({row_id}), max({row_id}) FROM {plan.source}")[0]
            if low is None:
                return []
            sql = seek_sample_sql(
                # NOT INDEXED: each seek walks the rowid b-tree, never an index on the key
                table=plan.source, source=f"{plan.source} NOT INDEXED", key_column=plan.key.sql,
                key_sql=plan.key.sql, row_id=row_id, row_id_sql=row_id, where=where,
                low=int(low), high=int(high), literal_points=False,
                select=f"fg_j.{plan.key.sql}",
            )  # fmt: skip
        elif forced:
            condition = f"{plan.key.sql} IS NOT NULL" + (f" AND {where}" if where else "")
            count = self._rows(f"SELECT count(*) FROM {plan.source} WHERE {condition}")[0][0]
            sql = scan_sample_sql(plan.key.sql, plan.source, where, scan_step(count), "fg_v")
        else:
            return None
        return [(value, int(count)) for value, count in self._rows(sql)]

    def ordered(self, values: Sequence[JSONValue]) -> list[JSONValue]:
        sql = ordered_values_sql(self.key.sql, self.plan.source, ["?"] * len(values), "fg_v")
        return [row[0] for row in self._rows(sql, values)]
