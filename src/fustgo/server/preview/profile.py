"""Per-column statistics of previewed rows (design doc §6.5): null ratio, distinct values,
the most frequent values with their counts, and min/max of numbers, dates and times.

Computed with Arrow compute on the rows shown, so they describe the sample, not the table.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from fustgo.plugins.catalog import Preview

TOP_VALUES = 5


def table_json(data: pa.Table) -> dict[str, Any]:
    """`columns` (name, logical type) and `rows` as JSON, as every preview shows them."""
    if data.num_columns == 0:  # Arrow keeps a length on column-less slices
        return {"columns": [], "rows": []}
    shown = Preview(data).to_json()
    return {"columns": shown["columns"], "rows": shown["rows"]}


def profile(data: pa.Table) -> list[dict[str, Any]]:
    """One entry per column of `data`."""
    return [_column(name, data.column(name)) for name in data.column_names]


def _column(name: str, values: pa.ChunkedArray) -> dict[str, Any]:
    rows = len(values)
    nulls = values.null_count
    stats: dict[str, Any] = {
        "name": name,
        "rows": rows,
        "null_count": nulls,
        "null_ratio": round(nulls / rows, 4) if rows else 0.0,
    }
    kind = values.type
    if _hashable(kind):
        stats["distinct"] = pc.count_distinct(values, mode="only_valid").as_py()
        stats["top_values"] = _top(values)
    if _ordered(kind) and rows > nulls:
        bounds = pc.min_max(values)
        stats["min"] = _json(bounds["min"])
        stats["max"] = _json(bounds["max"])
    if (pa.types.is_string(kind) or pa.types.is_large_string(kind)) and rows > nulls:
        lengths = pc.min_max(pc.utf8_length(values))
        stats["min_length"] = lengths["min"].as_py()
        stats["max_length"] = lengths["max"].as_py()
    return stats


def _top(values: pa.ChunkedArray) -> list[dict[str, Any]]:
    counts = pc.value_counts(values.drop_null())
    if len(counts) == 0:
        return []
    order = pc.array_sort_indices(counts.field("counts"), order="descending")
    top = counts.take(order[:TOP_VALUES])
    return [{"value": _json(item["values"]), "count": item["counts"].as_py()} for item in top]


def _hashable(kind: pa.DataType) -> bool:
    nested = pa.types.is_nested(kind) or pa.types.is_dictionary(kind)
    return not nested and not pa.types.is_null(kind)


def _ordered(kind: pa.DataType) -> bool:
    return (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_temporal(kind)
    )


def _json(scalar: pa.Scalar) -> Any:
    """A scalar as a preview cell shows it (dates ISO, decimals as text, bytes as hex)."""
    table = pa.table({"value": pa.array([scalar.as_py()], type=scalar.type)})
    return Preview(table).to_json()["rows"][0][0]
