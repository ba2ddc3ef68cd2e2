"""Time zones in configs, and `convert_timezone`: the same instant on another clock."""

from __future__ import annotations

import datetime as dt
import difflib
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from fustgo.engine.errors import TerminalError
from fustgo.plugins.processors.transform.casts import describe_type
from fustgo.plugins.processors.transform.messages import message_text
from fustgo.plugins.processors.transform.operation import OneFieldOperation

if TYPE_CHECKING:
    import polars as pl


def _check_zone(value: str) -> str:
    import polars as pl

    try:
        pl.select(pl.lit(dt.datetime(2000, 1, 1)).dt.replace_time_zone(value))
    except pl.exceptions.PolarsError as exc:
        import zoneinfo

        known = {zone.lower(): zone for zone in zoneinfo.available_timezones()}
        close = known.get(value.lower()) or next(
            iter(difflib.get_close_matches(value, known.values(), n=1)), None
        )
        hint = f"; did you mean `{close}`?" if close else " (IANA names such as `Europe/Paris`)"
        raise PydanticCustomError(
            "time_zone", "unknown time zone `{zone}`{hint}", {"zone": value, "hint": hint}
        ) from exc
    return value


TimeZoneName = Annotated[str, Field(min_length=1), AfterValidator(_check_zone)]
"""An IANA time zone (`Europe/Paris`, `Asia/Shanghai`, `UTC`) or a fixed offset (`+08:00`),
checked when the config is validated (error type `time_zone`)."""


class ConvertTimezone(OneFieldOperation):
    """Moves timestamps to another time zone (the same instant, another wall-clock time)."""

    op: Literal["convert_timezone"]
    """Selects this operation."""
    to_zone: TimeZoneName
    """The zone to express the timestamps in, e.g. `Asia/Shanghai`."""
    from_zone: TimeZoneName | None = None
    """The zone of timestamps stored without one (wall-clock times); UTC when omitted.
    Timestamps that carry a zone use their own."""
    drop_zone: bool = False
    """Write wall-clock times in `to_zone` without a zone, for targets that have no zoned
    type (MySQL `DATETIME`)."""

    def expressions(self, schema: pl.Schema, where: str) -> list[pl.Expr]:
        moved = self._zoned(schema, where).dt.convert_time_zone(self.to_zone)
        if self.drop_zone:
            moved = moved.dt.replace_time_zone(None)
        return [moved.alias(self.targets()[0])]

    def failures(self, schema: pl.Schema) -> tuple[pl.Expr, pl.Expr] | None:
        import polars as pl

        if self.from_zone is None or _zone_of(schema[self.field]) is not None:
            return None  # UTC and zoned values have no gaps
        column = pl.col(self.field)
        failed = column.is_not_null() & self._zoned(schema, "").is_null()
        message = message_text(
            f"`{self.field}` value `",
            column.dt.to_string("%Y-%m-%d %H:%M:%S"),
            f"` is not a time in {self.from_zone} (it falls in a daylight-saving gap)",
        )
        return failed, message

    def _zoned(self, schema: pl.Schema, where: str) -> pl.Expr:
        """The field with a zone: its own, or `from_zone` for wall-clock values."""
        import polars as pl

        dtype = schema[self.field]
        if not isinstance(dtype, pl.Datetime):
            raise TerminalError(
                f"{where} needs a timestamp, but `{self.field}` is {describe_type(dtype)}; "
                f"cast it first with `casts: {{{self.field}: timestamp}}` (or use `date_format`)."
            )
        column = pl.col(self.field)
        if dtype.time_zone is not None:
            return column
        return column.dt.replace_time_zone(
            self.from_zone or "UTC", ambiguous="earliest", non_existent="null"
        )


def _zone_of(dtype: pl.DataType) -> str | None:
    return getattr(dtype, "time_zone", None)
