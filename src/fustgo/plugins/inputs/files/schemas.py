"""Schemas of the text formats: inference normalized, `columns:` applied, text converted.

CSV reads every column as text and JSON reads dates and times as text (JSON has no such
literals); `typed_pieces` converts them to the schema's types column by column with Arrow
compute, and bisects a column that fails to find the rows at fault, which are rejected
while the rows around them are kept, in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa

from fustgo.engine.errors import ConfigError
from fustgo.engine.types import LogicalType, from_arrow, parse_type
from fustgo.plugins.inputs.files.base import Piece, RejectedRecord


def check_column_types(columns: dict[str, str], *, nested: bool) -> dict[str, str]:
    """Validate `columns:` type names (for the config models); `nested` allows list/struct."""
    for name, text in columns.items():
        try:
            kind = parse_type(text).kind
        except ConfigError as exc:
            raise ValueError(f"column `{name}`: {exc}") from exc
        if not nested and kind in ("list", "struct"):
            raise ValueError(f"column `{name}`: a CSV field cannot hold `{text}`")
    return columns


def normalize_schema(schema: pa.Schema) -> pa.Schema:
    """Arrow's inferred types mapped onto the logical set, recursively.

    A column that was all NULL in the sample becomes a string column (not Arrow's `null`,
    which could hold no later value); `timestamp[s]` becomes `timestamp[us]`, and so on.
    """
    return pa.schema([from_arrow(f.type, f.metadata).to_arrow_field(f.name) for f in schema])


def override_types(schema: pa.Schema, declared: dict[str, LogicalType]) -> pa.Schema:
    """`schema` with the declared columns' types; declared columns it lacks are appended."""
    fields = [declared[f.name].to_arrow_field(f.name) if f.name in declared else f for f in schema]
    fields += [
        typ.to_arrow_field(name) for name, typ in declared.items() if name not in schema.names
    ]
    return pa.schema(fields)


RejectRow = Callable[[int, str, Any, str], RejectedRecord]
"""Builds the dead-letter record of row `row` whose `column` holds `value` (Arrow's `reason`)."""


def typed_pieces(text: pa.RecordBatch, schema: pa.Schema, reject: RejectRow) -> Iterator[Piece]:
    """The rows of `text` in `schema`'s types, in order; rows that do not convert are rejected.

    `text` has the schema's columns in order; those whose type differs from the schema's
    hold text and are converted.
    """
    import numpy as np

    if text.num_rows == 0:
        return
    columns: list[pa.Array] = []
    bad: dict[int, RejectedRecord] = {}
    for field, column in zip(schema, text.columns, strict=True):
        if column.type == field.type:
            columns.append(column)
            continue
        converted, errors = _cast_checked(column, field.type)
        columns.append(converted if converted is not None else column)
        for row, reason in errors.items():
            if row not in bad:
                bad[row] = reject(row, field.name, column[row].as_py(), reason)
    if not bad:
        yield pa.RecordBatch.from_arrays(columns, schema=schema)
        return
    keep = np.ones(text.num_rows, dtype=bool)
    keep[list(bad)] = False
    good_text = text.filter(pa.array(keep))
    good = pa.RecordBatch.from_arrays(
        [
            column if column.type == field.type else cast_text(column, field.type)
            for field, column in zip(schema, good_text.columns, strict=True)
        ],
        schema=schema,
    )
    taken = previous = 0
    for row in sorted(bad):
        if row > previous:
            yield good.slice(taken, row - previous)
            taken += row - previous
        yield bad[row]
        previous = row + 1
    if taken < good.num_rows:
        yield good.slice(taken)


def cast_text(column: pa.Array, target: pa.DataType) -> pa.Array:
    """Text converted to `target` (raises Arrow's error for a bad value)."""
    import pyarrow.compute as pc

    if pa.types.is_time(target):  # Arrow casts text to timestamps, not to times
        stamped = pc.binary_join_element_wise("1970-01-01T", column, "")
        return pc.cast(pc.cast(stamped, pa.timestamp("us")), target)
    return pc.cast(column, target)


def _cast_checked(column: pa.Array, target: pa.DataType) -> tuple[pa.Array | None, dict[int, str]]:
    """The converted column, or None and the bad rows found by bisection (with Arrow's reason)."""
    try:
        return cast_text(column, target), {}
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    errors: dict[int, str] = {}
    stack = [(0, len(column))]
    while stack:
        start, stop = stack.pop()
        try:
            cast_text(column.slice(start, stop - start), target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            if stop - start == 1:
                errors[start] = str(exc)
            else:
                middle = (start + stop) // 2
                stack.extend([(middle, stop), (start, middle)])
    return None, errors
