"""Dead letters: failed records, each with the error and the stage that rejected it.

Every dead letter has the same schema whatever the source, so any output (a JSON Lines
file by default, a table, a topic) can hold them: when and where it failed, why, and the
record itself as JSON text.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pyarrow as pa

from fustgo.plugins.api import RejectedRecords

DEAD_LETTER_SCHEMA = pa.schema(
    [
        pa.field("failed_at", pa.timestamp("ms", tz="UTC"), nullable=False),
        pa.field("pipeline", pa.string(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("error", pa.string(), nullable=False),
        pa.field("record", pa.string()),
    ]
)


def dead_letter_batch(rejected: RejectedRecords, pipeline: str) -> pa.RecordBatch:
    """The dead-letter rows for one rejection (one row per failed record)."""
    rows = rejected.records.num_rows
    if isinstance(rejected.error, str):
        errors = pa.array([rejected.error] * rows, pa.string())
    else:
        errors = rejected.error.cast(pa.string()).fill_null("unknown error")
    now_ms = int(time.time() * 1000)
    return pa.RecordBatch.from_arrays(
        [
            pa.array([now_ms] * rows, pa.timestamp("ms", tz="UTC")),
            pa.array([pipeline] * rows, pa.string()),
            pa.array([rejected.stage or "unknown"] * rows, pa.string()),
            errors,
            records_as_json(rejected.records),
        ],
        schema=DEAD_LETTER_SCHEMA,
    )


def records_as_json(records: pa.RecordBatch) -> pa.Array:
    """Each record as one JSON object text, vectorized through Polars when it can be."""
    import polars as pl

    nested_binary = any(_has_binary(f.type) for f in records.schema if _is_nested(f.type))
    try:
        if nested_binary:  # Polars panics on these (not an Exception): go per row
            raise TypeError("nested binary")
        frame = pl.from_arrow(records)
        assert isinstance(frame, pl.DataFrame)
        binary = [name for name, dtype in frame.schema.items() if dtype == pl.Binary]
        frame = frame.with_columns(pl.col(name).bin.encode("hex") for name in binary)
        encoded = frame.select(pl.struct(pl.all()).struct.json_encode().alias("json"))
        return encoded.to_series().to_arrow().cast(pa.string())
    except Exception:
        # Types Polars cannot encode (binary nested in structs, …): dead letters are rare,
        # so the per-row path is acceptable here.
        return pa.array(
            [
                json.dumps(row, default=_json_default, ensure_ascii=False)
                for row in records.to_pylist()
            ],
            pa.string(),
        )


def _is_nested(arrow_type: pa.DataType) -> bool:
    return pa.types.is_nested(arrow_type)


def _has_binary(arrow_type: pa.DataType) -> bool:
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        return True
    if pa.types.is_fixed_size_binary(arrow_type) or pa.types.is_binary_view(arrow_type):
        return True
    if pa.types.is_struct(arrow_type):
        return any(_has_binary(arrow_type.field(i).type) for i in range(arrow_type.num_fields))
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return _has_binary(arrow_type.value_type)
    if pa.types.is_map(arrow_type):
        return _has_binary(arrow_type.key_type) or _has_binary(arrow_type.item_type)
    return False


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    return str(value)
