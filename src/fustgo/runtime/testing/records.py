"""Records as YAML writes them ↔ Arrow: the test's input batch, and output values compared.

Input: each field becomes one Arrow column, typed by `input_schema` when it names the
field, otherwise by its values (as `pyarrow.array` infers them; a field NULL in every record
is a string column). Output values are compared with the expected YAML values by meaning,
not by spelling: numbers numerically (floats within 1e-9 relative), decimals by value with a
number or a numeric string, dates, times and timestamps with ISO strings, JSON text with a
mapping or a list, binary as UTF-8 text, structs and lists item by item.

This is a test harness, not the hot path: per-value Python is fine here.
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa

from fustgo.engine.types import LogicalType

_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError)
_CONVERSION_ERRORS = (*_ARROW_ERRORS, TypeError, ValueError, OverflowError, InvalidOperation)
_MISSING = object()


class RecordsError(ValueError):
    """Input records that cannot become a batch; `where` locates the culprit in `input`."""

    def __init__(self, message: str, where: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.where = where


def records_batch(
    records: Sequence[Mapping[str, Any]], schema: Mapping[str, LogicalType]
) -> pa.RecordBatch:
    """One batch of `records`; fields in order of first appearance, then `schema`-only ones.

    Raises `RecordsError` located at `(row, field)` of the first value that does not fit,
    or at `("input_schema", field)`.
    """
    names = list(dict.fromkeys([*(name for record in records for name in record), *schema]))
    fields: list[pa.Field] = []
    arrays: list[pa.Array] = []
    for name in names:
        values = [record.get(name) for record in records]
        logical = schema.get(name)
        if logical is None:
            array = _inferred(name, values)
            fields.append(pa.field(name, array.type))
        else:
            array = _typed(name, values, logical)
            fields.append(logical.to_arrow_field(name))
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def _inferred(name: str, values: list[Any]) -> pa.Array:
    try:
        array = pa.array(values)
    except _CONVERSION_ERRORS as exc:
        first = next((i for i, v in enumerate(values) if v is not None), 0)
        kind = _kind(values[first])
        row = next((i for i, v in enumerate(values) if v is not None and _kind(v) != kind), None)
        hint = "give the field a type in `input_schema`"
        if row is None:
            raise RecordsError(
                f"Field `{name}` cannot be read from its values: {_reason(exc)}; {hint}",
                (first, name),
            ) from exc
        raise RecordsError(
            f"Field `{name}` has values of different types (`{_text(values[first])}` in record "
            f"{first}, `{_text(values[row])}` in record {row}); make them alike or {hint}",
            (row, name),
        ) from exc
    return array.cast(pa.string()) if pa.types.is_null(array.type) else array


def _typed(name: str, values: list[Any], logical: LogicalType) -> pa.Array:
    arrow_type = logical.to_arrow()
    try:
        return _convert(values, logical, arrow_type)
    except _CONVERSION_ERRORS:
        pass
    pieces = []
    for row, value in enumerate(values):
        try:
            pieces.append(_convert([value], logical, arrow_type))
        except _CONVERSION_ERRORS as exc:
            raise RecordsError(
                f"Field `{name}` = `{_text(value)}` in record {row} is not a {logical} "
                f"(as `input_schema` says): {_reason(exc)}",
                (row, name),
            ) from exc
    # Each value converts alone but not together (`1` and `"a"` as strings): join them.
    return pa.concat_arrays(pieces)


def _convert(values: list[Any], logical: LogicalType, arrow_type: pa.DataType) -> pa.Array:
    coerced = [_coerce(value, logical) for value in values]
    try:
        return pa.array(coerced, type=arrow_type)
    except _ARROW_ERRORS:
        return pa.array(coerced).cast(arrow_type)


def _coerce(value: Any, logical: LogicalType) -> Any:
    """A YAML value as the Python value pyarrow turns into `logical` (ISO text → dates…)."""
    if value is None:
        return None
    kind = logical.kind
    if kind in ("date", "time", "timestamp") and not isinstance(value, str):
        raise TypeError(f"write {kind} values as ISO text, like `2026-01-31T08:30:00`")
    if isinstance(value, str):
        if kind == "date":
            return datetime.date.fromisoformat(value)
        if kind == "timestamp":
            return datetime.datetime.fromisoformat(value)
        if kind == "time":
            return datetime.time.fromisoformat(value)
        if kind == "binary":
            return value.encode("utf-8")
    if kind == "decimal" and not isinstance(value, bool) and isinstance(value, int | float | str):
        return Decimal(str(value))
    if kind == "json" and not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if kind == "list" and isinstance(value, list) and logical.item is not None:
        return [_coerce(item, logical.item) for item in value]
    if kind == "struct" and isinstance(value, dict):
        types = dict(logical.fields)
        return {
            key: _coerce(item, types[key]) if key in types else item for key, item in value.items()
        }
    return value


def field_differences(
    expected: Mapping[str, Any], actual: Mapping[str, Any], *, exact: bool
) -> list[str]:
    """What differs between an expected record and an output record, field by field."""
    differences = []
    for name, want in expected.items():
        got = actual.get(name, _MISSING)
        if got is _MISSING:
            differences.append(
                f"`{name}`: expected {display(want)}, but the record has no such field "
                f"(fields: {', '.join(actual) or 'none'})"
            )
        elif not same_value(want, got):
            differences.append(f"`{name}`: expected {display(want)}, got {display(got)}")
    if exact:
        differences.extend(
            f"`{name}`: not expected (`exact: true`), got {display(actual[name])}"
            for name in actual
            if name not in expected
        )
    return differences


def matches(expected: Mapping[str, Any], actual: Mapping[str, Any], *, exact: bool) -> bool:
    return not field_differences(expected, actual, exact=exact)


def same_value(expected: Any, actual: Any) -> bool:
    """Whether an output value (as `to_pylist` gives it) means what the YAML value says."""
    if actual is None or expected is None:
        return actual is None and expected is None
    if isinstance(actual, bool) or isinstance(expected, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(actual, int | float):
        return _same_number(expected, actual)
    if isinstance(actual, Decimal):
        return _same_decimal(expected, actual)
    if isinstance(actual, datetime.date | datetime.time):
        return _same_temporal(expected, actual)
    if isinstance(actual, bytes):
        actual = actual.decode("utf-8", errors="backslashreplace")
    if isinstance(actual, str):
        if isinstance(expected, dict | list):  # JSON text compared with a YAML structure
            try:
                return same_value(expected, json.loads(actual))
            except ValueError:
                return False
        return expected == actual
    if isinstance(actual, dict):
        return (
            isinstance(expected, dict)
            and expected.keys() == actual.keys()
            and all(same_value(expected[key], actual[key]) for key in expected)
        )
    if isinstance(actual, list | tuple):
        return (
            isinstance(expected, list)
            and len(expected) == len(actual)
            and all(same_value(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return bool(expected == actual)


def _same_number(expected: Any, actual: float) -> bool:
    if not isinstance(expected, int | float):
        return False
    if isinstance(actual, float) or isinstance(expected, float):
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-12)
    return expected == actual


def _same_decimal(expected: Any, actual: Decimal) -> bool:
    if not isinstance(expected, int | float | str):
        return False
    try:
        return Decimal(str(expected)) == actual
    except InvalidOperation:
        return False


def _same_temporal(expected: Any, actual: datetime.date | datetime.time) -> bool:
    if not isinstance(expected, str):
        return False
    parse = (
        datetime.datetime.fromisoformat
        if isinstance(actual, datetime.datetime)
        else datetime.time.fromisoformat
        if isinstance(actual, datetime.time)
        else datetime.date.fromisoformat
    )
    try:
        return bool(parse(expected) == actual)
    except ValueError:
        return False


def plain(value: Any) -> Any:
    """An output value as JSON data: ISO strings for dates and times, decimals as strings."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def display(value: Any) -> str:
    """A value as it reads in a failure message (JSON, so strings are quoted)."""
    return json.dumps(plain(value), ensure_ascii=False, default=str)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _text(value: Any) -> str:
    text = display(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _reason(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0].rstrip(".") if str(exc).strip() else type(exc).__name__
