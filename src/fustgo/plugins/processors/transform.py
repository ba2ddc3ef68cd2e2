"""transform: cast fields to logical types, then compute fields from SQL expressions.

Order: every cast in `casts` runs first (all on the incoming values), then the rows whose
casts failed are handled by `on_error`, then `fields` are computed one after the other in
the order written, so a computed field may use the cast fields and the fields before it.

A cast fails when a non-NULL value has no counterpart in the target type (`abc` to int64,
`2024-02-30` to date, 1e10 to int32, `12345.6` to decimal(5,2)); NULL stays NULL. Failed
casts are detected for the whole batch at once (cast without erroring, compare the NULLs).
`on_error` then decides:

- `fail` (default): the records with a failed cast go to the dead-letter output with one
  message per record naming the fields and values, count as failed against
  `settings.error_limit` (which stops the run once exceeded), and the other records go on;
- `null`: the values that fail become NULL and every record goes on;
- `skip`: the records with a failed cast are dropped and counted as filtered.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Annotated, Self

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import AfterValidator, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from fustgo.engine.batch import Batch
from fustgo.engine.errors import ConfigError, TerminalError
from fustgo.engine.expressions import compile_expression, referenced_columns
from fustgo.engine.types import INTEGER_KINDS, LogicalType, parse_type
from fustgo.plugins.api import Processor
from fustgo.plugins.processors.failures import OnError, settle_failures
from fustgo.plugins.processors.frames import splice, to_frame
from fustgo.plugins.registry import register_processor
from fustgo.plugins.spec import PluginConfig, SqlExpression, ui

if TYPE_CHECKING:
    import polars as pl

_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
_FAILED = "__fustgo_failed_{}"


def _check_type_name(value: str) -> str:
    try:
        logical = parse_type(value)
    except ConfigError as exc:
        raise PydanticCustomError("type_name", "{reason}", {"reason": str(exc)}) from exc
    if logical.kind == "decimal" and (logical.precision or 0) > 38:
        raise PydanticCustomError(
            "type_name",
            "casts support decimals up to decimal(38,s), not `{value}`",
            {"value": value},
        )
    return value


TypeName = Annotated[
    str,
    AfterValidator(_check_type_name),
    WithJsonSchema({"type": "string", "x-widget": "logical-type"}),
]
"""A logical type as `parse_type` reads it (`int64`, `decimal(10,2)`, `timestamp(UTC)`)."""


class TransformConfig(PluginConfig):
    """Casts fields to other types and computes new fields with SQL expressions."""

    casts: dict[str, TypeName] = Field(default_factory=dict)
    """Field → logical type, e.g. `{age: int64, price: "decimal(10,2)", day: date}`."""
    fields: dict[str, SqlExpression] = Field(default_factory=dict)
    """Field → SQL expression, computed in order after the casts; an existing field is
    replaced. E.g. `{full_name: "CONCAT(first_name, ' ', last_name)", total: "amount * 1.1"}`."""
    on_error: OnError = "fail"
    """What happens to records whose cast fails: `fail` sends them to the dead letter
    (counted against `error_limit`), `null` nulls the value, `skip` drops them and counts
    them as filtered."""
    datetime_format: str | None = Field(
        default=None, json_schema_extra=ui(placeholder="%d/%m/%Y %H:%M", advanced=True)
    )
    """strftime format of text cast to timestamp, date or time (and of timestamps and dates
    cast to string); ISO 8601 is recognized when omitted."""

    @model_validator(mode="after")
    def _something_to_do(self) -> Self:
        if not self.casts and not self.fields:
            raise ValueError("set `casts`, `fields` or both")
        return self


@register_processor(
    "transform",
    config=TransformConfig,
    title="Transform",
    examples=[
        {
            "type": "transform",
            "casts": {"age": "int64", "price": "decimal(10,2)", "signed_up": "date"},
            "fields": {"full_name": "CONCAT(first_name, ' ', last_name)", "gross": "price * 1.2"},
        },
        {
            "type": "transform",
            "casts": {"ordered_at": "timestamp"},
            "datetime_format": "%d/%m/%Y %H:%M",
            "on_error": "skip",
        },
    ],
)
class Transform(Processor[TransformConfig]):
    """Vectorized casts and computed fields with Polars, over the columns they touch only."""

    def process(self, batch: Batch) -> list[Batch]:
        if batch.num_rows == 0:
            return []
        data = batch.data
        missing = [name for name in self.config.casts if name not in data.schema.names]
        if missing:
            raise TerminalError(
                f"Fields {missing} in `transform.casts` are not in the batch; fields are: "
                f"{', '.join(data.schema.names)}."
            )
        frame = to_frame(data, self._inputs(data.schema.names))
        reference = {field.name: field for field in data.schema}
        if self.config.casts:
            frame, keep = self._cast(data, frame, reference)
            if keep is not None:
                data, frame = data.filter(keep.to_arrow()), frame.filter(keep)
        if data.num_rows == 0:
            return []
        available = list(data.schema.names)
        for name, sql in self.config.fields.items():
            frame = self._compute(frame, name, sql, available)
            available += [] if name in available else [name]
        changed = list(dict.fromkeys([*self.config.casts, *self.config.fields]))
        return [batch.with_data(splice(data, frame, changed, reference))]

    def _inputs(self, names: list[str]) -> list[str]:
        """The columns Polars needs: the cast ones and those the expressions read."""
        wanted = set(self.config.casts)
        for sql in self.config.fields.values():
            wanted.update(referenced_columns(compile_expression(sql)))
        return [name for name in names if name in wanted]

    def _cast(
        self, data: pa.RecordBatch, frame: pl.DataFrame, reference: dict[str, pa.Field]
    ) -> tuple[pl.DataFrame, pl.Series | None]:
        """The frame with cast columns, and the rows to keep (None: all of them)."""
        import polars as pl

        values, failures, messages = [], [], []
        for index, (name, type_name) in enumerate(self.config.casts.items()):
            target = _parse(type_name)
            reference[name] = target.to_arrow_field(name)
            source = frame.schema[name]
            iso = _iso_cast(data.column(name), source, target, self.config.datetime_format)
            if iso is not None:  # clean ISO text: Arrow's parser is ten times faster
                values.append(pl.lit(pl.Series(name, iso)).alias(name))
                continue
            value, failed = cast_expression(
                pl.col(name), source, target, self.config.datetime_format
            )
            values.append(value.alias(name))
            failures.append(failed.alias(_FAILED.format(index)))
            messages.append(_failure_message(name, source, target, index))
        try:
            flagged = frame.with_columns(failures)
            cast = flagged.with_columns(values)
        except pl.exceptions.PolarsError as exc:
            raise TerminalError(f"`transform.casts` cannot run: {_first_line(exc)}.") from exc
        if not failures:
            return cast, None
        flags = flagged.columns[frame.width :]
        failed_rows = flagged.select(pl.any_horizontal(flags)).to_series()
        cast = cast.drop(flags)
        errors = flagged.select(pl.concat_str(messages, separator="; ", ignore_nulls=True))
        keep = settle_failures(
            self, data, failed_rows.to_arrow(), errors.to_series().to_arrow(), self.config.on_error
        )
        return cast, None if keep is None else pl.Series(keep)

    def _compute(
        self, frame: pl.DataFrame, name: str, sql: str, available: list[str]
    ) -> pl.DataFrame:
        import polars as pl

        expression = compile_expression(sql)
        missing = [column for column in referenced_columns(expression) if column not in available]
        if missing:
            raise TerminalError(
                f"Column `{missing[0]}` used in `transform.fields.{name}` is not in the batch; "
                f"columns are: {', '.join(available)}."
            )
        try:
            return frame.with_columns(expression.alias(name))
        except pl.exceptions.PolarsError as exc:
            raise TerminalError(
                f"`transform.fields.{name}` (`{sql}`) cannot be computed: {_first_line(exc)}."
            ) from exc


def _iso_cast(
    array: pa.Array, source: pl.DataType, target: LogicalType, datetime_format: str | None
) -> pa.Array | None:
    """Text cast to a date or timestamp by Arrow's ISO 8601 parser; None if any value fails."""
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


def _failure_message(name: str, source: pl.DataType, target: LogicalType, index: int) -> pl.Expr:
    import polars as pl

    text = pl.col(name).cast(pl.String, strict=False)
    shown = pl.lit("a value") if source.is_nested() else pl.format("`{}`", text)
    message = pl.format(f"Cannot cast `{name}` value {{}} to {target}", shown)
    return pl.when(pl.col(_FAILED.format(index))).then(message)


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


@cache
def _parse(type_name: str) -> LogicalType:
    return parse_type(type_name)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
