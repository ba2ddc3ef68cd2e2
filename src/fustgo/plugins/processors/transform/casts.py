"""Casts to logical types as Polars expressions that never raise, plus their failures.

A cast fails when a non-NULL value has no counterpart in the target type (`abc` to int64,
`2024-02-30` to date, 1e10 to int32, `12345.6` to decimal(5,2)); NULL stays NULL. Failed
casts are found for the whole batch at once: cast without erroring, compare the NULLs.
`regex_extract` reuses these casts for its typed groups.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Annotated

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from fustgo.engine.errors import ConfigError
from fustgo.engine.types import INTEGER_KINDS, LogicalType, from_arrow, parse_type
from fustgo.plugins.processors.transform.messages import message_text
from fustgo.plugins.spec import TypeName

if TYPE_CHECKING:
    import polars as pl

_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")


def _decimal_fits_a_cast(value: str) -> str:
    logical = parse_type(value)
    if logical.kind == "decimal" and (logical.precision or 0) > 38:
        raise PydanticCustomError(
            "type_name",
            "casts support decimals up to decimal(38,s), not `{value}`",
            {"value": value},
        )
    return value


CastTypeName = Annotated[TypeName, AfterValidator(_decimal_fits_a_cast)]
"""A logical type a cast can produce (`int64`, `decimal(10,2)`, `timestamp(UTC)`)."""


@cache
def logical_type(type_name: str) -> LogicalType:
    """`parse_type`, cached: casts look their target up once per batch."""
    return parse_type(type_name)


def iso_cast(
    array: pa.Array, source: pl.DataType, target: LogicalType, datetime_format: str | None
) -> pa.Array | None:
    """Text cast to a date or timestamp by Arrow's ISO 8601 parser; None if any value fails.

    Arrow's parser is about ten times faster than Polars' for clean ISO text.
    """
    import polars as pl

    if source != pl.String or datetime_format or target.kind not in ("date", "timestamp"):
        return None
    try:
        return pc.cast(array, target.to_arrow())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def cast_expression(
    column: pl.Expr, source: pl.DataType, target: LogicalType, datetime_format: str | None
) -> tuple[pl.Expr, pl.Expr]:
    """A Polars expression casting `column` to `target` without erroring, and its failures.

    A failure is a value that was not NULL and became NULL; text cast to json fails when it
    is not JSON.
    """
    import polars as pl

    value = _cast_value(column, source, target, datetime_format)
    if target.kind == "json" and source == pl.String:
        valid = column.str.json_path_match("$").is_not_null() | (column.str.strip_chars() == "null")
        return value, column.is_not_null() & ~valid
    return value, column.is_not_null() & value.is_null()


def cast_failure_message(
    name: str, source: pl.DataType, target: LogicalType, failed: pl.Expr, what: str = ""
) -> pl.Expr:
    """ "Cannot cast `name` value `x` to T" where `failed` is true, else NULL.

    `what` names the value when it is not a field (``group `year` ``).
    """
    import polars as pl

    shown = (
        pl.lit("a value")
        if source.is_nested()
        else message_text("`", pl.col(name).cast(pl.String, strict=False), "`")
    )
    message = message_text(f"Cannot cast {what or f'`{name}`'} value ", shown, f" to {target}")
    return pl.when(failed).then(message)


def _cast_value(
    column: pl.Expr, source: pl.DataType, target: LogicalType, datetime_format: str | None
) -> pl.Expr:
    import polars as pl

    kind = target.kind
    dtype = polars_type(target)
    if source == pl.String:
        return _cast_text(column, target, dtype, datetime_format)
    if kind == "decimal" and source.is_numeric():
        return _rounded_decimal(column, target)
    if kind == "timestamp":
        return _cast_to_timestamp(column, source, target)
    if kind == "date" and source.is_numeric():
        return pl.from_epoch(column, time_unit="s").dt.date()
    if kind == "date" and isinstance(source, pl.Datetime):
        return column.dt.date()
    if kind in ("string", "json") and source.is_nested():
        return _json_text(column, source)
    if kind == "string" and datetime_format and source.is_temporal():
        return column.dt.to_string(datetime_format)
    return column.cast(dtype, strict=False)


def _cast_text(
    column: pl.Expr, target: LogicalType, dtype: pl.DataType, datetime_format: str | None
) -> pl.Expr:
    import polars as pl

    kind = target.kind
    text = column.str.strip_chars()
    if kind in ("string", "json"):
        return column
    if kind == "binary":
        return column.cast(pl.Binary)
    if kind == "bool":
        words = dict.fromkeys(_TRUE, True) | dict.fromkeys(_FALSE, False)
        return text.str.to_lowercase().replace_strict(words, default=None, return_dtype=pl.Boolean)
    if kind == "date":
        return text.str.to_date(datetime_format, strict=False)
    if kind == "time":
        return text.str.to_time(datetime_format, strict=False)
    if kind == "timestamp":  # naive text is wall time in the zone; naive targets get UTC
        moment = text.str.to_datetime(
            datetime_format, time_unit="us", time_zone=target.timezone or "UTC", strict=False
        )
        return moment if target.timezone else moment.dt.replace_time_zone(None)
    if kind == "decimal":
        return _rounded_decimal(text, target)
    return text.cast(dtype, strict=False)


def _rounded_decimal(column: pl.Expr, target: LogicalType) -> pl.Expr:
    """Decimals rounded half away from zero to the target scale (Polars would truncate)."""
    import polars as pl

    precision, scale = target.precision or 38, target.scale or 0
    work_scale = max(scale, min(scale + 6, 38 - precision + scale))
    wide = column.cast(pl.Decimal(38, work_scale), strict=False)
    return wide.round(scale, mode="half_away_from_zero").cast(polars_type(target), strict=False)


def _cast_to_timestamp(column: pl.Expr, source: pl.DataType, target: LogicalType) -> pl.Expr:
    """Numbers are Unix seconds; naive values are wall time in the target zone."""
    import polars as pl

    zone = target.timezone
    if source.is_numeric():
        moment = pl.from_epoch(column, time_unit="s").dt.cast_time_unit("us")
        return moment.dt.replace_time_zone("UTC").dt.convert_time_zone(zone) if zone else moment
    if isinstance(source, pl.Datetime):
        moment = column.dt.cast_time_unit("us")
        if source.time_zone and zone:
            return moment.dt.convert_time_zone(zone)
        if source.time_zone:  # zoned → naive keeps the UTC wall time
            return moment.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return moment.dt.replace_time_zone(zone) if zone else moment
    moment = column.cast(pl.Datetime("us"), strict=False)
    return moment.dt.replace_time_zone(zone) if zone else moment


def _json_text(column: pl.Expr, source: pl.DataType) -> pl.Expr:
    """Lists and structs as JSON text (a list is wrapped in a struct, then unwrapped)."""
    import polars as pl

    if isinstance(source, pl.Struct):
        return pl.when(column.is_not_null()).then(column.struct.json_encode())
    wrapped = pl.struct(column.alias("v")).struct.json_encode().str.slice(5).str.head(-1)
    return pl.when(column.is_not_null()).then(wrapped)


def polars_type(logical: LogicalType) -> pl.DataType:
    """The Polars type that carries a logical type (JSON is text)."""
    import polars as pl

    simple: dict[str, pl.DataType] = {
        **{
            kind: getattr(pl, kind.capitalize().replace("Uint", "UInt"))() for kind in INTEGER_KINDS
        },
        "float32": pl.Float32(),
        "float64": pl.Float64(),
        "string": pl.String(),
        "json": pl.String(),
        "binary": pl.Binary(),
        "bool": pl.Boolean(),
        "date": pl.Date(),
        "time": pl.Time(),
    }
    if logical.kind in simple:
        return simple[logical.kind]
    if logical.kind == "decimal":
        return pl.Decimal(logical.precision, logical.scale)
    if logical.kind == "timestamp":
        return pl.Datetime("us", logical.timezone)
    if logical.kind == "list":
        assert logical.item is not None
        return pl.List(polars_type(logical.item))
    return pl.Struct({name: polars_type(item) for name, item in logical.fields})


def plain_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Dictionary-encoded text (Polars categoricals, from Parquet or pandas) as plain text,
    which string operations and parsers need; its logical type is `string` either way."""
    import polars as pl
    import polars.selectors as cs

    return frame.with_columns((cs.categorical() | cs.enum()).cast(pl.String))


def logical_of(dtype: pl.DataType) -> LogicalType:
    """The logical type of a Polars type (through Arrow, the one mapping)."""
    import polars as pl

    return from_arrow(pl.Series(dtype=dtype).to_arrow().type)


def describe_type(dtype: pl.DataType) -> str:
    """A Polars type in the words of FustGo's logical types (`int64`, `timestamp(UTC)`)."""
    import polars as pl

    try:
        return str(logical_of(dtype))
    except (ConfigError, pl.exceptions.PolarsError):
        return str(dtype).lower()
