"""date_format: read dates and times in one format and write them in another, across zones.

Reading (`source_format`): text in ISO 8601 (any mix of `2024-01-31`, `2024-01-31 13:45`,
`2024-01-31T13:45:00.5+02:00`, `…Z`) or a strftime format, or Unix time in seconds,
milliseconds or microseconds (numbers, or text holding numbers). A field that already holds
timestamps or dates is used as it is.

Zones: a value with an offset (`+02:00`, `Z`, Unix time) is an instant; a value without one
is wall-clock time in `source_timezone` (UTC when unset). The result is expressed in
`target_timezone`, else in the zone of the field (zoned timestamps) or `source_timezone`;
with none of them it stays without a zone, and instants are given in UTC. So the output
type depends on the config (and the field's zone), never on the values of a batch.

Writing (`target_format`): `timestamp` or `date` give typed values, `iso8601` and strftime
formats give text, `unix_seconds|millis|micros` give int64.

NULL stays NULL. A value that cannot be read (or a wall-clock time that does not exist in
`source_timezone`, in a daylight-saving gap; ambiguous ones take the earlier instant) is a
failure, and `on_error` decides: `fail` → dead letter, `null` → NULL, `skip` → dropped.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Annotated

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import AfterValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from fustgo.engine.batch import Batch
from fustgo.engine.errors import TerminalError
from fustgo.plugins.api import Processor
from fustgo.plugins.processors.failures import OnError, settle_failures
from fustgo.plugins.processors.frames import require_fields, splice, to_frame
from fustgo.plugins.processors.transform.casts import describe_type, plain_text
from fustgo.plugins.processors.transform.messages import message_text, row_messages
from fustgo.plugins.processors.transform.zones import TimeZoneName
from fustgo.plugins.registry import register_processor
from fustgo.plugins.spec import PluginConfig, ui

if TYPE_CHECKING:
    import polars as pl

_EPOCH_MICROS = {"unix_seconds": 1_000_000, "unix_millis": 1_000, "unix_micros": 1}
_EPOCH_UNIT = {"unix_seconds": "s", "unix_millis": "ms", "unix_micros": "us"}
_SOURCE_WORDS = ("iso8601", *_EPOCH_MICROS)
_TARGET_WORDS = (*_SOURCE_WORDS, "timestamp", "date")
_LAST_SECOND = 253_402_300_799  # 9999-12-31 23:59:59 UTC: the last second Arrow dates hold
_ZONE_DIRECTIVE = re.compile(r"%[-_0^#:]*[zZ]")
_ISO_OFFSET = re.compile(r":\d\d(?:\.\d+)?(?:Z|[+-]\d\d(?::?\d\d)?)$")
# ISO 8601 shapes after `T` → space, most common first; the fixed ones parse fastest.
_ISO_SHAPES = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S%#z",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M%#z",
)
_MOMENT = "__fustgo_moment"


def _check_format(value: str, words: tuple[str, ...]) -> str:
    import polars as pl

    if value in words:
        return value
    if "%" not in value:
        raise PydanticCustomError(
            "datetime_format",
            "`{value}` is neither a strftime format nor one of {words}; write e.g. "
            "`%Y-%m-%d %H:%M:%S` for `yyyy-MM-dd HH:mm:ss`",
            {"value": value, "words": ", ".join(words)},
        )
    try:
        moment = pl.lit(dt.datetime(2000, 1, 1)).dt.replace_time_zone("UTC")
        pl.select(moment.dt.to_string(value))
    except pl.exceptions.PolarsError as exc:
        raise PydanticCustomError(
            "datetime_format", "`{value}` is not a valid strftime format", {"value": value}
        ) from exc
    return value


def _check_source(value: str) -> str:
    if "%Z" in value:
        raise PydanticCustomError(
            "datetime_format",
            "zone names (`%Z`) cannot be read; read offsets with `%z` or set `source_timezone`",
        )
    return _check_format(value, _SOURCE_WORDS)


SourceFormat = Annotated[
    str,
    AfterValidator(_check_source),
    WithJsonSchema({"type": "string", "examples": [*_SOURCE_WORDS, "%d/%m/%Y %H:%M"]}),
]
TargetFormat = Annotated[
    str,
    AfterValidator(lambda value: _check_format(value, _TARGET_WORDS)),
    WithJsonSchema({"type": "string", "examples": [*_TARGET_WORDS, "%Y-%m-%d %H:%M:%S"]}),
]


class DateFormatConfig(PluginConfig):
    """Reads dates and times from text or Unix time, and writes them in another format or
    time zone."""

    source_field: str = Field(min_length=1)
    """The field to read, e.g. `created_at`."""
    source_format: SourceFormat = "iso8601"
    """How the text is written: `iso8601`, a strftime format such as `%d/%m/%Y %H:%M`
    (`%z` reads an offset), or `unix_seconds`, `unix_millis`, `unix_micros` for Unix time.
    Unused when the field already holds timestamps or dates."""
    target_format: TargetFormat = Field(json_schema_extra=ui(placeholder="%Y-%m-%d %H:%M:%S"))
    """What to write: `timestamp` or `date` (typed values), `iso8601` or a strftime format
    (text), `unix_seconds`, `unix_millis` or `unix_micros` (int64)."""
    source_timezone: TimeZoneName | None = None
    """The zone of values written without an offset (wall-clock times); UTC when omitted."""
    target_timezone: TimeZoneName | None = None
    """The zone to express the result in; when omitted, the field's own zone or
    `source_timezone` (and no zone at all when neither is known)."""
    target_field: str | None = Field(default=None, min_length=1)
    """The field to write; `source_field` is replaced (in place) when omitted."""
    on_error: OnError = "fail"
    """What happens to a record whose value cannot be read: `fail` sends it to the
    dead-letter output (counted against `settings.error_limit`), `null` keeps it with a
    NULL value, `skip` drops it and counts it as filtered."""


@register_processor(
    "date_format",
    config=DateFormatConfig,
    title="Date format",
    examples=[
        {
            "type": "date_format",
            "source_field": "created",
            "source_format": "%d/%m/%Y %H:%M",
            "source_timezone": "Asia/Shanghai",
            "target_format": "timestamp",
            "target_timezone": "UTC",
        },
        {
            "type": "date_format",
            "source_field": "event_ms",
            "source_format": "unix_millis",
            "target_format": "%Y-%m-%d %H:%M:%S",
            "target_timezone": "Europe/Paris",
            "target_field": "event_local",
            "on_error": "null",
        },
        {
            "type": "date_format",
            "source_field": "updated_at",
            "target_format": "date",
            "target_timezone": "America/New_York",
        },
    ],
)
class DateFormat(Processor[DateFormatConfig]):
    """Parses once (Arrow's ISO parser when the whole column is clean ISO text, else Polars),
    moves the instants to the result zone and formats them, all over the whole batch."""

    def process(self, batch: Batch) -> list[Batch]:
        if batch.num_rows == 0:
            return []
        import polars as pl

        data = batch.data
        source = self.config.source_field
        require_fields(data.schema, [source], "`date_format.source_field`")
        frame = plain_text(to_frame(data, [source]))
        dtype = frame.schema[source]
        moment, zoned = self._read(data.column(source), dtype)
        zone = self._result_zone(dtype)
        if not zoned and zone is None:
            placed = moment
        else:
            if not zoned:
                moment = moment.dt.replace_time_zone(
                    self.config.source_timezone or "UTC", ambiguous="earliest", non_existent="null"
                )
            placed = moment.dt.convert_time_zone(zone or "UTC")
            placed = placed if zone else placed.dt.replace_time_zone(None)
        target = self.config.target_field or source
        try:
            frame = frame.with_columns(placed.alias(_MOMENT))
            failed = frame.select(pl.col(source).is_not_null() & pl.col(_MOMENT).is_null())
            failed = failed.to_series()
            found = frame.select(self._write(pl.col(_MOMENT), zone).alias(target))
            messages = row_messages(frame, failed, self._message()) if failed.any() else None
        except pl.exceptions.PolarsError as exc:
            raise TerminalError(
                f"`date_format` cannot convert `{source}`: {str(exc).splitlines()[0]}."
            ) from exc
        if messages is not None:
            keep = settle_failures(self, data, failed.to_arrow(), messages, self.config.on_error)
            if keep is not None:
                data, found = data.filter(keep), found.filter(pl.Series(keep))
        if data.num_rows == 0:
            return []
        reference = {field.name: field for field in data.schema}
        return [batch.with_data(splice(data, found, [target], reference))]

    def _result_zone(self, dtype: pl.DataType) -> str | None:
        """The zone of the result, from the config and the field's type only."""
        import polars as pl

        config, form = self.config, self.config.source_format
        if isinstance(dtype, pl.Datetime) or dtype == pl.Date:
            own = getattr(dtype, "time_zone", None)
        elif form in _EPOCH_MICROS or (form != "iso8601" and _ZONE_DIRECTIVE.search(form)):
            own = "UTC"  # every value is an instant
        else:
            own = None
        return config.target_timezone or own or config.source_timezone

    def _read(self, array: pa.Array, dtype: pl.DataType) -> tuple[pl.Expr, bool]:
        """The field as microsecond timestamps, and whether they carry a zone."""
        import polars as pl

        source, form = self.config.source_field, self.config.source_format
        column = pl.col(source)
        if isinstance(dtype, pl.Datetime):
            return column.dt.cast_time_unit("us"), dtype.time_zone is not None
        if dtype == pl.Date:
            return column.cast(pl.Datetime("us")), False
        if form in _EPOCH_MICROS and (dtype.is_numeric() or dtype == pl.String):
            return _from_epoch(column, dtype, _EPOCH_MICROS[form]), True
        if dtype != pl.String:
            hint = (
                "set `source_format` to `unix_seconds`, `unix_millis` or `unix_micros` to read "
                "numbers as Unix time"
                if dtype.is_numeric()
                else "it reads text, Unix time (numbers), dates and timestamps"
            )
            raise TerminalError(
                f"`date_format` cannot read `{source}`, which is {describe_type(dtype)}; {hint}."
            )
        if form == "iso8601":
            return self._iso(array)
        text = column.str.strip_chars()
        parsed = text.str.to_datetime(form, time_unit="us", strict=False)
        return parsed, _ZONE_DIRECTIVE.search(form) is not None

    def _iso(self, array: pa.Array) -> tuple[pl.Expr, bool]:
        """ISO 8601 text: one Arrow cast when every value is alike, else the shapes in turn."""
        import polars as pl

        present = pc.drop_null(array)
        # The first value's shape picks the one Arrow cast to try: a failed cast to a zoned
        # type costs thirty times a successful one.
        zoned = len(present) > 0 and _ISO_OFFSET.search(present[0].as_py().strip()) is not None
        try:
            parsed = pc.cast(array, pa.timestamp("us", "UTC" if zoned else None))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return pl.lit(self._iso_shapes(pl.Series(array).cast(pl.String))), True
        return pl.lit(pl.Series(parsed)), zoned

    def _iso_shapes(self, text: pl.Series) -> pl.Series:
        """Each ISO shape parses only the values no shape before it could read, so a column
        that is clean but for a few values costs about one parse (as UTC instants)."""
        import polars as pl

        spaced = text.str.strip_chars().str.replace("T", " ", literal=True)
        moments = pl.repeat(None, len(text), dtype=pl.Datetime("us", "UTC"), eager=True)
        pending = spaced.is_not_null()
        for form in _ISO_SHAPES:
            rows = pending.arg_true()
            if rows.is_empty():
                break
            parsed = spaced.gather(rows).str.to_datetime(form, time_unit="us", strict=False)
            if getattr(parsed.dtype, "time_zone", None) is None:
                parsed = parsed.dt.replace_time_zone(
                    self.config.source_timezone or "UTC", ambiguous="earliest", non_existent="null"
                ).dt.convert_time_zone("UTC")
            read = parsed.is_not_null()
            moments = moments.scatter(rows.filter(read), parsed.filter(read))
            pending = pending.scatter(rows.filter(read), False)
        return moments

    def _write(self, moment: pl.Expr, zone: str | None) -> pl.Expr:
        form = self.config.target_format
        if form == "timestamp":
            return moment
        if form == "date":
            return moment.dt.date()
        if form in _EPOCH_UNIT:
            return moment.dt.epoch(_EPOCH_UNIT[form])
        if form == "iso8601":
            form = "%Y-%m-%dT%H:%M:%S%.f%:z" if zone else "%Y-%m-%dT%H:%M:%S%.f"
        elif _ZONE_DIRECTIVE.search(form) and not zone:
            raise TerminalError(
                f"`date_format.target_format` `{form}` writes a zone, but the values of "
                f"`{self.config.source_field}` have none; set `target_timezone`."
            )
        return moment.dt.to_string(form)

    def _message(self) -> pl.Expr:
        import polars as pl

        form = self.config.source_format
        how = {
            "iso8601": "as ISO 8601",
            "unix_seconds": "as Unix seconds",
            "unix_millis": "as Unix milliseconds",
            "unix_micros": "as Unix microseconds",
        }.get(form, f"with the format `{form}`")
        if self.config.source_timezone:
            how += f" in {self.config.source_timezone}"
        source = self.config.source_field
        value = pl.col(source).cast(pl.String, strict=False)
        return message_text(f"Cannot read `{source}` value `", value, f"` {how}")


def _from_epoch(column: pl.Expr, dtype: pl.DataType, micros_per_unit: int) -> pl.Expr:
    """Unix time (numbers, or text holding numbers) as UTC timestamps; values past
    the year 9999 (or not numbers) give NULL."""
    import polars as pl

    if dtype == pl.String:
        text = column.str.strip_chars()
        whole, real = text.cast(pl.Int64, strict=False), text.cast(pl.Float64, strict=False)
    elif dtype.is_integer():
        whole, real = column.cast(pl.Int64, strict=False), column.cast(pl.Float64)
    else:
        whole, real = pl.lit(None, dtype=pl.Int64), column.cast(pl.Float64)
    micros = (
        pl.when(whole.is_not_null())
        .then(whole * micros_per_unit)
        .otherwise((real * micros_per_unit).round(0).cast(pl.Int64, strict=False))
    )
    in_range = real.abs() <= _LAST_SECOND * 1_000_000 // micros_per_unit
    moment = pl.from_epoch(micros, time_unit="us").dt.replace_time_zone("UTC")
    return pl.when(in_range).then(moment)
