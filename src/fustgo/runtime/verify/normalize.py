"""Canonical forms: equal logical values become equal bits whatever system stored them.

Every column is hashed as one *kind*. A column's own Arrow type gives its kind (`kind_of`);
when two columns of a source and a target have different kinds that can hold the same
values (an integer and a decimal, TEXT digits and a numeric), `common_kind` picks the one
both sides are normalized to. The rules, per kind (see docs/verify.md):

    integer    every integer width and bool (0/1) → int64
    decimal    exact text without trailing zeros (`1.50` → `1.5`, `-0.0` → `0`);
               integers and numeric text are written the same way
    float      float64 IEEE bits; -0.0 → 0.0, every NaN → one NaN
    text       UTF-8 bytes                 binary     the bytes
    json       canonical JSON text: keys sorted, no whitespace (lists and structs too)
    date       days since 1970-01-01       time       microseconds since midnight
    timestamp  microseconds since the epoch: UTC for zoned values, wall clock for naive
    duration   microseconds
"""

from __future__ import annotations

import json
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from fustgo.engine.types import JSON_FIELD_METADATA
from fustgo.runtime.verify.hashing import NULL_HASH, U64, hash_bytes, hash_fixed, seed_of

Kind = Literal[
    "integer",
    "decimal",
    "float",
    "text",
    "binary",
    "json",
    "date",
    "time",
    "timestamp",
    "duration",
    "null",
]
BYTE_KINDS: frozenset[Kind] = frozenset({"decimal", "text", "binary", "json"})
SEEDS: dict[Kind, np.uint64] = {
    kind: seed_of(kind)
    for kind in (
        "integer",
        "decimal",
        "float",
        "text",
        "binary",
        "json",
        "date",
        "time",
        "timestamp",
        "duration",
        "null",
    )
}
"""One seed per kind, so that a date and the integer of its day number hash differently."""

# Pairs of kinds that hold the same logical values, and the kind both are compared as.
_COMMON: dict[frozenset[Kind], Kind] = {
    frozenset({"integer", "decimal"}): "decimal",
    frozenset({"integer", "float"}): "float",
    frozenset({"decimal", "float"}): "float",
    frozenset({"text", "decimal"}): "decimal",
    frozenset({"text", "integer"}): "decimal",
    frozenset({"text", "binary"}): "binary",
    frozenset({"text", "json"}): "json",
}
# Decimal text, trimmed of a `+`, leading zeros and trailing zeros (each one regex pass).
_NUMERIC_TEXT_STEPS = (
    (r"^\+", ""),
    (r"^(-?)0+(\d)", r"\1\2"),
    (r"^(-?)\.", r"\10."),
)
_TRAILING_ZEROS = (r"^([-+]?\d*)(?:\.0*|(\.\d*[1-9])0*)$", r"\1\2")
_NEGATIVE_ZERO = (r"^-0$", "0")


def kind_of(data_type: pa.DataType, metadata: dict[bytes, bytes] | None = None) -> Kind | None:
    """The kind a column of this Arrow type is hashed as; None if it cannot be."""
    t = data_type
    if pa.types.is_dictionary(t):
        return kind_of(t.value_type, metadata)
    if metadata and JSON_FIELD_METADATA.items() <= metadata.items():
        return "json"
    checks: tuple[tuple[Kind, bool], ...] = (
        ("null", pa.types.is_null(t)),
        ("integer", pa.types.is_integer(t) or pa.types.is_boolean(t)),
        ("float", pa.types.is_floating(t)),
        ("decimal", pa.types.is_decimal(t)),
        ("text", _is_text(t)),
        ("binary", _is_binary(t)),
        ("date", pa.types.is_date(t)),
        ("time", pa.types.is_time(t)),
        ("timestamp", pa.types.is_timestamp(t)),
        ("duration", pa.types.is_duration(t)),
        ("json", _is_nested(t)),
    )
    return next((kind for kind, matches in checks if matches), None)


def common_kind(left: Kind, right: Kind) -> Kind | None:
    """The kind two columns are both compared as; None when they hold different things."""
    if right in (left, "null"):
        return left
    if left == "null":
        return right
    return _COMMON.get(frozenset({left, right}))


def value_hashes(array: pa.Array, kind: Kind) -> U64:
    """One 64-bit hash per value of `array` normalized as `kind`; NULLs hash to `NULL_HASH`."""
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if len(array) == 0:
        return np.zeros(0, dtype=np.uint64)
    if pa.types.is_null(array.type) or array.null_count == len(array):
        return np.full(len(array), NULL_HASH, dtype=np.uint64)
    seed = SEEDS[kind]
    if kind in BYTE_KINDS:
        hashes = hash_bytes(_canonical_bytes(array, kind), seed)
    else:
        hashes = hash_fixed(_canonical_bits(array, kind), seed)
    if array.null_count:
        hashes[array.is_null().to_numpy(zero_copy_only=False)] = NULL_HASH
    return hashes


def _canonical_bits(array: pa.Array, kind: Kind) -> npt.NDArray[np.int64]:
    """The int64 (or float64 bit) canonical values; NULL slots hold garbage."""
    if kind == "float":
        floats = _values(pc.cast(array, pa.float64(), safe=False), np.float64) + 0.0  # -0.0 → 0.0
        floats[np.isnan(floats)] = np.nan  # one NaN bit pattern
        return floats.view(np.int64)
    if kind == "integer":
        return _values(pc.cast(array, pa.int64(), safe=False), np.int64)
    if kind == "date":
        return _values(pc.cast(array, pa.date32()), np.int32).astype(np.int64)
    target = {
        "time": pa.time64("us"),
        "timestamp": pa.timestamp("us", tz=getattr(array.type, "tz", None)),
        "duration": pa.duration("us"),
    }.get(kind)
    if target is None:
        raise TypeError(f"`{kind}` is not a fixed-width kind")
    return _values(pc.cast(array, target, safe=False).view(pa.int64()), np.int64)


def _values(array: pa.Array, dtype: type[np.generic]) -> npt.NDArray[Any]:
    """The values buffer of a fixed-width array as read-only NumPy, NULL slots included."""
    buffer = array.buffers()[1]
    values = np.frombuffer(buffer, dtype=dtype, count=array.offset + len(array))
    return values[array.offset :]


def _canonical_bytes(array: pa.Array, kind: Kind) -> pa.Array:
    """A binary or large_binary array of the canonical texts or bytes."""
    if kind == "json":
        text = _canonical_json(array)
    elif kind == "decimal":
        text = _canonical_decimal(array)
    else:
        text = (
            array if _is_binary(array.type) or _is_text(array.type) else pc.cast(array, pa.string())
        )
    large = pa.types.is_large_string(text.type) or pa.types.is_large_binary(text.type)
    view = pa.types.is_string_view(text.type) or pa.types.is_binary_view(text.type)
    if pa.types.is_fixed_size_binary(text.type) or view or large:
        return pc.cast(text, pa.large_binary())
    return pc.cast(text, pa.binary())


def _canonical_decimal(array: pa.Array) -> pa.Array:
    if pa.types.is_decimal(array.type):
        text = pc.cast(array, pa.string())
    else:
        if pa.types.is_boolean(array.type):
            array = pc.cast(array, pa.int64())
        text = pc.utf8_trim_whitespace(pc.cast(array, pa.string()))
        for pattern, replacement in _NUMERIC_TEXT_STEPS:
            text = pc.replace_substring_regex(text, pattern, replacement)
    for pattern, replacement in (_TRAILING_ZEROS, _NEGATIVE_ZERO):
        text = pc.replace_substring_regex(text, pattern, replacement)
    return text


def _canonical_json(array: pa.Array) -> pa.Array:
    """Canonical JSON text; each distinct text is parsed once (JSON has no vectorized form)."""
    text = _nested_json_text(array) if _is_nested(array.type) else pc.cast(array, pa.large_string())
    encoded = pc.dictionary_encode(text)
    canonical = [_canonical_json_text(value) for value in encoded.dictionary.to_pylist()]
    return pc.take(pa.array(canonical, pa.large_string()), encoded.indices)


def _canonical_json_text(text: str) -> str:
    """Sorted keys, no whitespace; text that is not JSON is compared as it is."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _nested_json_text(array: pa.Array) -> pa.Array:
    """Lists, structs and maps as JSON text, encoded by Polars (vectorized)."""
    import polars as pl

    frame = pl.from_arrow(pa.table({"v": array}))
    assert isinstance(frame, pl.DataFrame)
    encoded = frame.select(pl.struct(pl.col("v")).struct.json_encode().str.slice(5).str.head(-1))
    return pc.cast(encoded.to_series().to_arrow(), pa.large_string())


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _is_binary(t: pa.DataType) -> bool:
    return (
        pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
        or pa.types.is_fixed_size_binary(t)
        or pa.types.is_binary_view(t)
    )


def _is_nested(t: pa.DataType) -> bool:
    return (
        pa.types.is_list(t)
        or pa.types.is_large_list(t)
        or pa.types.is_fixed_size_list(t)
        or pa.types.is_list_view(t)
        or pa.types.is_large_list_view(t)
        or pa.types.is_struct(t)
        or pa.types.is_map(t)
    )
