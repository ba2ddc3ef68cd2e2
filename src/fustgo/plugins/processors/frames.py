"""Arrow ↔ Polars for processors, keeping batch schemas stable across the round trip.

Polars hands back `large_string`, `large_binary`, `large_list` and nanosecond times; left
as they are, a batch would change type just by passing through a processor and the next
stage would see a schema the source never had. `to_batch` maps every column back through
the logical types of `fustgo.engine.types`, and keeps the original field (with its JSON
tag) for a column whose logical type did not change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pyarrow as pa

from fustgo.engine.batch import as_record_batch
from fustgo.engine.errors import TerminalError
from fustgo.engine.types import from_arrow

if TYPE_CHECKING:
    import polars as pl


def to_frame(data: pa.RecordBatch, columns: list[str] | None = None) -> pl.DataFrame:
    """A Polars frame over some columns of a batch (all by default), as many rows as it has.

    Processors pass only the columns they read: converting text to Polars copies it, and
    columns that stay in Arrow keep their exact types.
    """
    import polars as pl

    if columns is not None and not columns:  # no column read: only the row count matters
        return pl.select(pl.int_range(data.num_rows).alias("__fustgo_row"))
    frame = pl.from_arrow(data if columns is None else data.select(columns))
    assert isinstance(frame, pl.DataFrame)
    return frame


def to_batch(frame: pl.DataFrame, reference: dict[str, pa.Field]) -> pa.RecordBatch:
    """The frame as a record batch with FustGo's Arrow types.

    `reference` holds the fields the columns should keep when their logical type is the
    same (the input batch's fields, or the target fields of casts).
    """
    table = frame.to_arrow()
    fields = [_stable_field(field, reference.get(field.name)) for field in table.schema]
    columns = [
        column.cast(field.type, safe=not _is_temporal(field.type))
        for column, field in zip(table.columns, fields, strict=True)
    ]
    return as_record_batch(pa.Table.from_arrays(columns, schema=pa.schema(fields)))


def splice(
    data: pa.RecordBatch, frame: pl.DataFrame, changed: list[str], reference: dict[str, pa.Field]
) -> pa.RecordBatch:
    """`data` with the `changed` columns taken from `frame`: existing ones keep their place,
    new ones are appended in order; every other column stays the Arrow array it was."""
    computed = to_batch(frame.select(changed), reference)
    names = [*data.schema.names, *(name for name in changed if name not in data.schema.names)]
    sources = [computed if name in changed else data for name in names]
    return pa.RecordBatch.from_arrays(
        [source.column(name) for source, name in zip(sources, names, strict=True)],
        schema=pa.schema(
            [source.schema.field(name) for source, name in zip(sources, names, strict=True)],
            metadata=data.schema.metadata,
        ),
    )


def _stable_field(field: pa.Field, reference: pa.Field | None) -> pa.Field:
    logical = from_arrow(field.type)
    if reference is not None and from_arrow(reference.type) == logical:
        return reference
    return logical.to_arrow_field(field.name)


def _is_temporal(arrow_type: pa.DataType) -> bool:
    # Polars computes times in nanoseconds; FustGo carries microseconds.
    return pa.types.is_time(arrow_type) or pa.types.is_timestamp(arrow_type)


def require_fields(schema: pa.Schema, fields: Iterable[str], where: str) -> None:
    """Stop the run when a field a processor needs is missing, naming it and the fields there.

    `where` says who needs it (`` `deduplicate.key_fields` ``, `` the `filter` condition ``).
    """
    present = set(schema.names)
    missing = [name for name in dict.fromkeys(fields) if name not in present]
    if missing:
        listed = ", ".join(f"`{name}`" for name in missing)
        noun = "Field" if len(missing) == 1 else "Fields"
        verb = "is" if len(missing) == 1 else "are"
        raise TerminalError(
            f"{noun} {listed} in {where} {verb} not in the batch; fields are: "
            f"{', '.join(schema.names)}. Fix the name, or add the field in an earlier step."
        )
