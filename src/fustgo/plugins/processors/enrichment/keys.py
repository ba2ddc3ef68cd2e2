"""The records' key columns made comparable with the lookup's, and the no-match messages.

Key types (documented in `docs/plugins/processors/enrichment.md`): a record key is cast to
the lookup key's type when both are integers, both floats or both text (an integer that
does not fit the lookup's type cannot match and is treated as missing); any other pair of
different types (text against a number, a date against text, decimals of another scale)
stops the run with a message saying how to cast one side, because comparing them would
silently match nothing. Redis and HTTP keys take the records' own types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from fustgo.engine.errors import TerminalError
from fustgo.plugins.processors.enrichment.base import key_column

if TYPE_CHECKING:
    import polars as pl


def polars_types(arrow_types: list[pa.DataType]) -> list[pl.DataType]:
    """The Polars types Arrow columns of these types become."""
    import polars as pl

    empty = pa.table({f"c{i}": pa.array([], typ) for i, typ in enumerate(arrow_types)})
    frame = pl.from_arrow(empty)
    assert isinstance(frame, pl.DataFrame)
    return list(frame.schema.values())


def aligned_keys(
    frame: pl.DataFrame,
    record_keys: tuple[str, ...],
    lookup_keys: tuple[str, ...],
    targets: list[pl.DataType],
    where: str,
) -> pl.DataFrame:
    """The key columns of `frame` as `__fustgo_key_<i>`, in the lookup keys' types."""
    import polars as pl

    columns = []
    for index, (name, lookup, target) in enumerate(
        zip(record_keys, lookup_keys, targets, strict=True)
    ):
        source = frame.schema[name]
        column = pl.col(name)
        if source != target:
            if not _castable(source, target):
                raise TerminalError(
                    f"Key field `{name}` is {source} in the records but `{lookup}` is {target} "
                    f"in {where}, so they cannot be compared; cast one side, e.g. with a "
                    f"`transform` processor before this one (`casts: {{{name}: ...}}`) or with "
                    f"`types: {{{lookup}: ...}}` on the lookup."
                )
            column = column.cast(target, strict=False)
        columns.append(column.alias(key_column(index)))
    return frame.select(columns)


def _castable(source: pl.DataType, target: pl.DataType) -> bool:
    import polars as pl

    if source == pl.Null:
        return True
    if source.is_integer() and target.is_integer():
        return True
    if source.is_float() and target.is_float():
        return True
    text = (pl.String, pl.Categorical, pl.Enum)
    return isinstance(source, text) and target == pl.String


def missing_messages(frame: pl.DataFrame, record_keys: tuple[str, ...], where: str) -> pa.Array:
    """One message per record: "No row of <where> has the key `customer_id` = 42"."""
    import polars as pl

    parts = [pl.format(f"`{name}` = {{}}", _shown_value(pl.col(name))) for name in record_keys]
    message = pl.format(f"No row of {where} has the key {{}}", pl.concat_str(parts, separator=", "))
    series = frame.select(message.alias("message")).to_series()
    return pa.array(series.to_arrow()).cast(pa.string())


def _shown_value(column: pl.Expr) -> pl.Expr:
    import polars as pl

    text = pl.format("`{}`", column.cast(pl.String, strict=False))
    return pl.when(column.is_null()).then(pl.lit("NULL")).otherwise(text)
