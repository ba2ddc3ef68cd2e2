"""What the enrichment processor asks of a lookup source, and the table shaping they share.

A source hands over Arrow tables of *lookup rows*: the key columns first, renamed
`__fustgo_key_0`, `__fustgo_key_1`, … in the order of the processor's `key`, then the
retrieved fields under their names in the source, at most one row per key, typed as its
`LookupShape` says for every call. There are two kinds:

- `MemorySource` (`static`, `file`): every row, loaded once; each batch is joined to them;
- `RemoteSource` (`sql`, `redis`, `http`): `fetch` returns the rows of the keys a batch
  needs that the cache does not hold, one round trip per batch (per key for HTTP
  `per_key`), with transient failures retried through `Retrier`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BeforeValidator, Field, WithJsonSchema

from fustgo.engine.errors import TerminalError
from fustgo.engine.retry import Sleep, retry_async
from fustgo.engine.settings import RetryPolicy
from fustgo.engine.types import LogicalType
from fustgo.plugins.api import PluginContext

T = TypeVar("T")
KEY_PREFIX = "__fustgo_key_"


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


KeyNames = Annotated[
    list[str],
    BeforeValidator(_as_list),
    Field(min_length=1),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
            ]
        }
    ),
]
"""One column name or a list of them (a composite key); YAML may write `id` or `[a, b]`."""


def key_column(index: int) -> str:
    """The name of the `index`-th key column in lookup rows."""
    return f"{KEY_PREFIX}{index}"


@dataclass(frozen=True)
class LookupColumns:
    """What the processor wants from a source, resolved from its config."""

    record_keys: tuple[str, ...]
    """The records' key fields (`key`)."""
    lookup_keys: tuple[str, ...]
    """The same keys' names in the source (`lookup.key`, by default the record's names)."""
    fields: tuple[str, ...] | None
    """Source names of the fields to retrieve; None: every column that is not a key."""
    types: Mapping[str, LogicalType]
    """Declared types by source column name (`types`)."""

    @property
    def key_names(self) -> list[str]:
        return [key_column(i) for i in range(len(self.record_keys))]


@dataclass(frozen=True)
class LookupShape:
    """The types of a source's lookup rows, known once it is opened."""

    key_types: tuple[pa.DataType, ...] | None
    """Types of the key columns; None when the source takes the records' types (keys are
    sent as values, as Redis and HTTP do)."""
    fields: pa.Schema
    """The retrieved fields, by source name."""


@dataclass(frozen=True)
class Retrier:
    """Runs one operation of a source with the processor's retry policy."""

    policy: RetryPolicy
    sleep: Sleep

    async def __call__(self, operation: Callable[[], Awaitable[T]], what: str) -> T:
        return await retry_async(operation, self.policy, what=what, sleep=self.sleep)


class LookupSource(ABC):
    """One configured lookup source, built at the processor's first batch."""

    def __init__(self, columns: LookupColumns, context: PluginContext) -> None:
        self.columns = columns
        self.context = context

    @property
    @abstractmethod
    def description(self) -> str:
        """The source as messages name it: "file `data/customers.csv`"."""

    @abstractmethod
    def open(self) -> LookupShape:
        """Connect or load, check that the keys and fields exist, and return their types."""

    @abstractmethod
    def check(self) -> None:
        """Raise a `FustgoError` naming what is unreachable; change nothing."""

    def close(self) -> None:
        """Release connections; the source may be opened again later."""
        return


class MemorySource(LookupSource):
    """A source small enough to hold: every row is loaded once."""

    def open(self) -> LookupShape:
        table = self.rows()
        keys = tuple(table.schema.field(name).type for name in self.columns.key_names)
        return LookupShape(keys, pa.schema(list(table.schema)[len(keys) :]))

    @abstractmethod
    def rows(self) -> pa.Table:
        """Every lookup row (loaded at the first call, then reused)."""


class RemoteSource(LookupSource):
    """A source asked for the keys each batch needs."""

    @abstractmethod
    async def fetch(self, keys: pa.Table, retry: Retrier) -> pa.Table:
        """The lookup rows of `keys` (distinct, non-NULL key columns); absent keys have none."""


def text_shape(columns: LookupColumns) -> LookupShape:
    """The shape of sources that answer in text (HTTP, Redis): every field is a string
    unless `types` declares it."""
    declared = columns.types
    fields = [
        declared[name].to_arrow_field(name) if name in declared else pa.field(name, pa.string())
        for name in columns.fields or ()
    ]
    return LookupShape(None, pa.schema(fields))


def lookup_rows(table: pa.Table, columns: LookupColumns, where: str) -> pa.Table:
    """A source's whole table as lookup rows: keys renamed, fields picked, types applied.

    Rows with a NULL key part can never match and are dropped; a key on two rows is an
    error, since the record would not know which row to take.
    """
    names = table.schema.names
    wanted = [*columns.lookup_keys, *(columns.fields or ())]
    missing = [name for name in wanted if name not in names]
    if missing:
        raise TerminalError(
            f"{where} has no column {_quoted(missing)}; its columns are {_quoted(names)}. "
            "Fix `key`, `lookup.key` or `fields`."
        )
    check_fields_are_not_keys(columns, where)
    unknown = [name for name in columns.types if name not in names]
    if unknown:
        raise TerminalError(
            f"`types` names {_quoted(unknown)}, not a column of {where}; its columns are "
            f"{_quoted(names)}."
        )
    fields = columns.fields
    if fields is None:
        fields = tuple(name for name in names if name not in columns.lookup_keys)
    picked = table.select([*columns.lookup_keys, *fields])
    picked = apply_types(picked, columns.types, where)
    rows = picked.rename_columns([*columns.key_names, *fields])
    for name in columns.key_names:
        rows = rows.filter(pc.is_valid(rows.column(name)))
    check_unique_keys(rows, columns, where)
    return rows


def check_fields_are_not_keys(columns: LookupColumns, where: str) -> None:
    both = [name for name in columns.fields or () if name in columns.lookup_keys]
    if both:
        raise TerminalError(
            f"`fields` names {_quoted(both)}, the key of {where}: the records already hold "
            "it; remove it from `fields`."
        )


def apply_types(table: pa.Table, types: Mapping[str, LogicalType], where: str) -> pa.Table:
    """`table` with the declared columns cast to their types (text is parsed)."""
    for name, logical in types.items():
        if name not in table.schema.names:
            continue
        index = table.schema.get_field_index(name)
        try:
            column = pc.cast(table.column(index), logical.to_arrow())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise TerminalError(
                f"Column `{name}` of {where} cannot be read as {logical}: "
                f"{str(exc).splitlines()[0]}; fix `types.{name}` or the source."
            ) from exc
        table = table.set_column(index, logical.to_arrow_field(name), column)
    return table


def check_unique_keys(rows: pa.Table, columns: LookupColumns, where: str) -> None:
    """Raise when two lookup rows have the same key, naming one such key."""
    import polars as pl

    frame = pl.from_arrow(rows.select(columns.key_names))
    assert isinstance(frame, pl.DataFrame)
    duplicated = frame.filter(frame.is_duplicated())
    if duplicated.height:
        sample = ", ".join(
            f"{name} = {value!r}"
            for name, value in zip(columns.lookup_keys, duplicated.row(0), strict=True)
        )
        raise TerminalError(
            f"{where} has {duplicated.height} rows sharing a key ({sample}); a lookup key must "
            "be unique, so deduplicate the source or add columns to `key`."
        )


def conform(table: pa.Table, schema: pa.Schema, where: str) -> pa.Table:
    """`table` with exactly `schema`'s columns and types (an empty one when it has no rows)."""
    if table.num_rows == 0:
        return schema.empty_table()
    columns = []
    for field in schema:
        column = table.column(field.name)
        if column.type != field.type:
            try:
                column = pc.cast(column, field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise TerminalError(
                    f"Column `{field.name}` of {where} returned values that are not "
                    f"{field.type}: {str(exc).splitlines()[0]}; fix `types` or the source's data."
                ) from exc
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)


def text_rows(
    keys: pa.Table, found: list[bool], values: dict[str, list[str | None]], fields: pa.Schema
) -> pa.Table:
    """Lookup rows from per-key text values (Redis, HTTP): the found keys with their fields."""
    mask = pa.array(found, pa.bool_())
    arrays = [column.filter(mask) for column in keys.columns]
    arrays += [pa.array(values[field.name], pa.string()) for field in fields]
    names = [*keys.schema.names, *fields.names]
    return pa.Table.from_arrays(arrays, names=names)


def _quoted(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f"`{name}`" for name in names)
