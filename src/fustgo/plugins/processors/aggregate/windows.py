"""Tumbling windows: their config, and event times as epoch microseconds and back.

Windows are computed on integers: a record's event time in microseconds since the Unix
epoch, floored to a multiple of the window size, is its window's start. So windows align to
the epoch in UTC whatever the field's zone, and the bounds are shown in that zone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Self

from pydantic import model_validator

from fustgo.engine.errors import TerminalError
from fustgo.engine.units import Duration
from fustgo.plugins.spec import PluginConfig

if TYPE_CHECKING:
    import polars as pl

WINDOW_COLUMNS = ("window_start", "window_end")
"""Columns a windowed aggregate adds in front of the group fields."""


class TumblingWindow(PluginConfig):
    """Back-to-back windows of one size; every record falls in exactly one."""

    type: Literal["tumbling"] = "tumbling"
    """The kind of window (only `tumbling` for now)."""
    size: Duration
    """Length of each window (`1m`, `1h`, `1d`), aligned to the Unix epoch in UTC."""
    time: Literal["event", "processing"] = "event"
    """`event`: the record's own timestamp (`field`) decides its window; `processing`: the
    time the batch reaches this processor does."""
    field: str | None = None
    """Timestamp (or date) field holding the event time; required for `time: event`."""
    allowed_lateness: Duration = 0.0
    """How far behind the newest event time a record may be and still join its window; a
    window is emitted only once the newest event time is this much past its end."""
    on_late: Literal["drop", "dead_letter"] = "dead_letter"
    """What happens to a record whose window was already emitted: `dead_letter` sends it
    there (counted against `settings.error_limit`), `drop` drops it (counted as filtered)."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.size < 0.001:
            raise ValueError("`size` must be at least 1ms")
        if self.time == "event" and not self.field:
            raise ValueError("`time: event` needs `field`, the timestamp field to window by")
        if self.time == "processing" and (self.field or self.allowed_lateness):
            raise ValueError(
                "`field` and `allowed_lateness` apply to `time: event` only; with "
                "`time: processing` nothing is ever late"
            )
        return self


def check_event_type(field: str, dtype: pl.DataType) -> str | None:
    """The time zone of the event-time field (None when naive); a TerminalError if not a time."""
    import polars as pl

    if isinstance(dtype, pl.Datetime):
        return dtype.time_zone
    if dtype == pl.Date:
        return None
    raise TerminalError(
        f"`aggregate.window.field` `{field}` holds {dtype} values, not timestamps; cast it "
        "with `transform.casts: {" + field + ": timestamp}` before this processor."
    )


def epoch_us(column: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Microseconds since the epoch of a timestamp or date column (dates at midnight)."""
    import polars as pl

    moment = column.cast(pl.Datetime("us")) if dtype == pl.Date else column
    return moment.dt.epoch("us")


def timestamp(epoch_us: pl.Expr, zone: str | None) -> pl.Expr:
    """Epoch microseconds as a timestamp in `zone` (naive when None)."""
    import polars as pl

    moment = epoch_us.cast(pl.Datetime("us"))
    return moment.dt.replace_time_zone("UTC").dt.convert_time_zone(zone) if zone else moment


def microseconds(seconds: float) -> int:
    """A duration in seconds as whole microseconds."""
    return round(seconds * 1_000_000)


def iso_time(epoch_us: int) -> str:
    """Epoch microseconds as ISO 8601 text in UTC, for messages."""
    from datetime import UTC, datetime, timedelta

    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=epoch_us)).isoformat()
