"""The `aggregate` processor: config, and the flow of batches through the held state."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, Literal, Self

import pyarrow as pa
from pydantic import Field, model_validator

from fustgo.engine.batch import Batch, BatchMetadata
from fustgo.engine.errors import TerminalError
from fustgo.plugins.api import PluginContext, Processor
from fustgo.plugins.processors.aggregate.functions import (
    Aggregation,
    check_type,
    final,
    folds,
    parse_call,
    partials,
)
from fustgo.plugins.processors.aggregate.windows import (
    WINDOW_COLUMNS,
    TumblingWindow,
    check_event_type,
    epoch_us,
    iso_time,
    microseconds,
    timestamp,
)
from fustgo.plugins.processors.failures import settle_failures
from fustgo.plugins.processors.frames import require_fields, to_batch, to_frame
from fustgo.plugins.registry import register_processor
from fustgo.plugins.spec import PluginConfig, ui

if TYPE_CHECKING:
    import polars as pl

MIN_FOLD_ROWS = 65_536
"""Partial rows gathered before they are folded into the state, at the least."""
_WINDOW = "__fustgo_window"
_ALL = "__fustgo_all"
_EVENT = "__fustgo_event_us"


class AggregateConfig(PluginConfig):
    """Groups records and computes aggregates over the whole input or per time window."""

    group_by: list[str] = Field(default_factory=list)
    """Fields whose values form a group, e.g. `[region, day]`; NULL is a group of its own.
    Empty: one group of all records."""
    aggregations: dict[str, Aggregation] = Field(min_length=1)
    """Output field → `function(field)`, with function one of count, sum, avg, min, max,
    first, last, count_distinct: `{orders: "count(*)", revenue: "sum(amount)",
    customers: "count_distinct(customer_id)"}`. Quote odd names: `max("unit price")`."""
    window: TumblingWindow | None = None
    """Emit per time window (adds `window_start` and `window_end`); without it, groups are
    emitted when the input ends, so streams need a window."""
    on_error: Literal["fail", "skip"] = "fail"
    """What happens to records whose event time is NULL (they fit no window): `fail` sends
    them to the dead letter (counted against `error_limit`), `skip` drops them and counts
    them as filtered."""
    max_groups: int = Field(default=10_000_000, ge=1, json_schema_extra=ui(advanced=True))
    """Most groups held at once (each open window's groups count); past it the run stops
    rather than run out of memory. Each group holds one row of partial results."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if len(set(self.group_by)) != len(self.group_by):
            raise ValueError("`group_by` names a field twice")
        reserved = set(WINDOW_COLUMNS) if self.window else set()
        clashes = sorted((set(self.group_by) | reserved) & set(self.aggregations))
        if clashes:
            raise ValueError(f"aggregation names {clashes} are already output field names")
        taken = sorted(reserved & set(self.group_by))
        if taken:
            raise ValueError(f"{taken} are added by `window`; rename those group fields first")
        if any(not name or name.startswith("__fustgo") for name in self.aggregations):
            raise ValueError("aggregation names must be non-empty and not start with `__fustgo`")
        return self


@register_processor(
    "aggregate",
    config=AggregateConfig,
    title="Aggregate",
    capabilities={"stateful"},
    examples=[
        {
            "type": "aggregate",
            "group_by": ["region", "day"],
            "aggregations": {
                "orders": "count(*)",
                "revenue": "sum(amount)",
                "average": "avg(amount)",
                "customers": "count_distinct(customer)",
            },
        },
        {
            "type": "aggregate",
            "group_by": ["device_id"],
            "aggregations": {"readings": "count(*)", "peak": "max(temperature)"},
            "window": {
                "type": "tumbling",
                "size": "5m",
                "time": "event",
                "field": "measured_at",
                "allowed_lateness": "30s",
                "on_late": "drop",
            },
        },
    ],
)
class Aggregate(Processor[AggregateConfig]):
    """Partial aggregation per batch with Polars, folded into a state of one row per group."""

    thread_safe: ClassVar[bool] = False

    def __init__(self, config: AggregateConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        # Wall-clock seconds (processing-time windows align to it); tests replace it.
        self.clock: Callable[[], float] = time.time
        self._calls = {name: parse_call(text) for name, text in config.aggregations.items()}
        self._keys = [*([_WINDOW] if config.window else []), *config.group_by] or [_ALL]
        self._state: pl.DataFrame | None = None
        self._pending: list[pl.DataFrame] = []
        self._pending_rows = 0
        self._open_windows: set[int] = set()
        self._newest_event_us: int | None = None
        self._window_zone: str | None = "UTC"
        self._reference: dict[str, pa.Field] = {}

    # ------------------------------------------------------------------------------ flow

    def process(self, batch: Batch) -> list[Batch]:
        window = self.config.window
        now_us = int(self.clock() * 1_000_000) if window and window.time == "processing" else 0
        if batch.num_rows:
            frame = self._accepted(batch.data, now_us)
            if frame.height:
                self._add(frame)
        if window is None:
            return []
        if window.time == "processing":
            closed_until = now_us
        elif self._newest_event_us is None:
            return []
        else:
            closed_until = self._newest_event_us - microseconds(window.allowed_lateness)
        return [batch.with_data(data) for data in self._emit(closed_until)]

    def finish(self) -> list[Batch]:
        metadata = BatchMetadata(source=self.context.component_path or "aggregate")
        return [Batch(data=data, metadata=metadata) for data in self._emit(None)]

    # ----------------------------------------------------------------------------- input

    def _accepted(self, data: pa.RecordBatch, now_us: int) -> pl.DataFrame:
        """The batch's columns this processor reads, with the window start of each record;
        records without an event time and late ones are settled and left out."""
        import polars as pl

        frame = self._frame(data)
        window = self.config.window
        if window is None:
            return frame.with_columns(pl.lit(0).alias(_ALL)) if not self.config.group_by else frame
        size = microseconds(window.size)
        if window.time == "processing":
            return frame.with_columns(pl.lit(now_us // size * size).alias(_WINDOW))
        assert window.field is not None
        event = epoch_us(pl.col(window.field), frame.schema[window.field])
        frame = frame.with_columns(event.alias(_EVENT))
        frame = frame.with_columns((pl.col(_EVENT) // size * size).alias(_WINDOW))
        keep = settle_failures(
            self,
            data,
            frame.get_column(_EVENT).is_null().to_arrow(),
            f"`{window.field}` is NULL, so the record fits no window of `aggregate`; fill it "
            "in before this processor or set `on_error: skip`.",
            self.config.on_error,
        )
        if keep is not None:
            data, frame = data.filter(keep), frame.filter(pl.from_arrow(keep))
        if self._newest_event_us is not None:
            watermark = self._newest_event_us - microseconds(window.allowed_lateness)
            late = frame.get_column(_WINDOW) + size <= watermark
            if late.any():
                self._settle_late(data.filter(late.to_arrow()), watermark)
                frame = frame.filter(~late)
        newest = frame.get_column(_EVENT).max()
        if isinstance(newest, int):
            before = self._newest_event_us
            self._newest_event_us = newest if before is None else max(before, newest)
        return frame.drop(_EVENT)

    def _frame(self, data: pa.RecordBatch) -> pl.DataFrame:
        """The columns read, after checking they exist and fit their functions."""
        names = data.schema.names
        window_field = self.config.window.field if self.config.window else None
        fields = {call.field for call in self._calls.values() if call.field}
        wanted = [*self.config.group_by, *fields, *([window_field] if window_field else [])]
        require_fields(data.schema, wanted, "`aggregate`")
        frame = to_frame(data, [name for name in names if name in set(wanted)])
        for name, call in self._calls.items():
            if call.field is not None:
                check_type(name, call, frame.schema[call.field])
        if window_field is not None:
            self._window_zone = check_event_type(window_field, frame.schema[window_field])
        self._reference = {name: data.schema.field(name) for name in self.config.group_by}
        for name, call in self._calls.items():
            if call.function in ("min", "max", "first", "last") and call.field is not None:
                self._reference[name] = data.schema.field(call.field).with_name(name)
        return frame

    def _settle_late(self, late: pa.RecordBatch, watermark_us: int) -> None:
        window = self.config.window
        assert window is not None
        if window.on_late == "drop":
            self.count_filtered(late.num_rows)
            return
        self.reject(
            late,
            f"Late record: the window of its `{window.field}` ended before the watermark "
            f"({iso_time(watermark_us)}: newest event time minus `allowed_lateness`) and was "
            "already emitted; raise `window.allowed_lateness` or set `window.on_late: drop`.",
        )

    # ----------------------------------------------------------------------------- state

    def _add(self, frame: pl.DataFrame) -> None:
        partial = frame.group_by(self._keys, maintain_order=True).agg(
            [expr for name, call in self._calls.items() for expr in partials(name, call, frame)]
        )
        self._pending.append(partial)
        self._pending_rows += partial.height
        if self.config.window is not None:
            self._open_windows.update(partial.get_column(_WINDOW).unique().to_list())
        held = 0 if self._state is None else self._state.height
        if self._pending_rows >= max(MIN_FOLD_ROWS, held):
            self._fold()

    def _fold(self) -> None:
        """Fold the pending partials into the state (state first: arrival order is kept)."""
        import polars as pl

        frames = [*([self._state] if self._state is not None else []), *self._pending]
        if not frames:
            return
        merged = pl.concat(frames, how="vertical_relaxed") if len(frames) > 1 else frames[0]
        self._pending, self._pending_rows = [], 0
        self._state = merged.group_by(self._keys, maintain_order=True).agg(
            [expr for name, call in self._calls.items() for expr in folds(name, call)]
        )
        if self._state.height > self.config.max_groups:
            raise TerminalError(
                f"`aggregate` holds {self._state.height} groups, more than `max_groups` = "
                f"{self.config.max_groups}; group by fewer fields, use a shorter `window`, or "
                "raise `max_groups` if memory allows."
            )

    def _emit(self, closed_until: int | None) -> list[pa.RecordBatch]:
        """The final rows of the windows ending at or before `closed_until` (all: None)."""
        import polars as pl

        window = self.config.window
        size = microseconds(window.size) if window else 0
        if closed_until is not None and not any(
            start + size <= closed_until for start in self._open_windows
        ):
            return []
        self._fold()
        if self._state is None:
            return []
        done = self._state
        if closed_until is not None:
            ended = pl.col(_WINDOW) + size <= closed_until
            done, self._state = self._state.filter(ended), self._state.filter(~ended)
            self._open_windows = set(self._state.get_column(_WINDOW).unique().to_list())
        else:
            self._state, self._open_windows = None, set()
        if window is not None:
            done = done.sort(_WINDOW, maintain_order=True)
        data = to_batch(done.select(self._outputs()), self._reference)
        rows = self.context.batch_size
        return [data.slice(start, rows) for start in range(0, data.num_rows, rows)]

    def _outputs(self) -> list[pl.Expr]:
        import polars as pl

        window_columns = []
        if self.config.window is not None:
            size = microseconds(self.config.window.size)
            window_columns = [
                timestamp(pl.col(_WINDOW), self._window_zone).alias("window_start"),
                timestamp(pl.col(_WINDOW) + size, self._window_zone).alias("window_end"),
            ]
        finals = [final(name, call) for name, call in self._calls.items()]
        return [*window_columns, *(pl.col(name) for name in self.config.group_by), *finals]
