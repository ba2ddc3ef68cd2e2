"""merge: many records → one per `merge_key`, across batches, emitted at the end of the input.

Each field is merged one way: `last` (the last non-NULL value wins), `first`, `collect`
(the non-NULL values in a list, in arrival order), `sum` or `count` (of non-NULL values).
`strategy` says how for every field not named in `fields`. Records with a NULL key are
merged together, like SQL's GROUP BY.

Each batch is grouped by Polars into one partial row per key; the partial rows are held
and folded into the state (the same aggregation again: lists concatenate, sums add, the
last non-NULL of the lasts wins) whenever they outnumber it, so the cost per record stays
constant however many keys are held, or when held and pending rows together could pass a
limit below. The merged records leave in `finish()`, in the order
their keys were first seen.

Memory is bounded by `max_keys` and `max_state_bytes`: past either, the groups updated
least recently are emitted at once, with the batch being processed. A key that comes back
later starts a new group, so it may then appear more than once in the output; the run log
says when this starts and how many groups were emitted early.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, ClassVar, Literal, Self

import pyarrow as pa
from pydantic import Field, model_validator

from fustgo.engine.batch import Batch, BatchMetadata
from fustgo.engine.errors import TerminalError
from fustgo.engine.types import LogicalType, from_arrow
from fustgo.engine.units import ByteSize
from fustgo.plugins.api import PluginContext, Processor
from fustgo.plugins.processors.frames import require_fields, to_batch, to_frame
from fustgo.plugins.registry import register_processor
from fustgo.plugins.spec import PluginConfig, ui

if TYPE_CHECKING:
    import polars as pl

log = logging.getLogger(__name__)

FieldMerge = Literal["last", "first", "collect", "sum", "count"]
_SEEN = "__fustgo_seen"
_COUNT = "__fustgo_count_{}"


class MergeConfig(PluginConfig):
    """Merges the records that share a key into one: last value wins, or values collected."""

    merge_key: list[str] = Field(min_length=1)
    """Fields whose values identify the records to merge, e.g. `[user_id]`."""
    strategy: Literal["last", "first", "collect"] = "last"
    """How every field not named in `fields` is merged: `last` keeps the last non-NULL
    value, `first` the first one, `collect` gathers the non-NULL values in a list."""
    fields: dict[str, FieldMerge] = Field(default_factory=dict)
    """Field → how, overriding `strategy`: `last`, `first`, `collect`, `sum` (numbers;
    NULL when every value is NULL) or `count` (how many values are not NULL),
    e.g. `{tags: collect, amount: sum}`."""
    max_keys: int = Field(default=100_000, ge=1, json_schema_extra=ui(unit="keys"))
    """Groups held in memory at most; past it, the least recently updated groups are
    emitted early (their keys may then appear more than once in the output)."""
    max_state_bytes: ByteSize = Field(
        default=256 * 1024**2, ge=1, json_schema_extra=ui(advanced=True, unit="bytes")
    )
    """Estimated memory of the held groups at most (`256MiB`); past it, the least recently
    updated groups are emitted early, as with `max_keys`."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if len(set(self.merge_key)) != len(self.merge_key):
            raise ValueError("`merge_key` names a field twice")
        keyed = sorted(set(self.fields) & set(self.merge_key))
        if keyed:
            raise ValueError(f"{keyed} are in `merge_key`: key fields are not merged")
        return self


@register_processor(
    "merge",
    config=MergeConfig,
    title="Merge",
    capabilities={"stateful"},
    examples=[
        {"type": "merge", "merge_key": ["user_id"]},
        {
            "type": "merge",
            "merge_key": ["user_id"],
            "strategy": "last",
            "fields": {"tag": "collect", "amount": "sum", "event_id": "count"},
            "max_keys": 500_000,
        },
    ],
)
class Merge(Processor[MergeConfig]):
    """Holds one partial row per key (Polars frames); emits the merged rows in `finish()`."""

    thread_safe: ClassVar[bool] = False

    def __init__(self, config: MergeConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._input: pa.Schema | None = None
        self._output: pa.Schema | None = None
        self._how: dict[str, FieldMerge] = {}
        self._state: pl.DataFrame | None = None
        self._pending: list[pl.DataFrame] = []
        self._pending_rows = 0
        self._pending_bytes = 0
        self._state_bytes = 0
        self._batches = 0
        self._emitted_early = 0

    def process(self, batch: Batch) -> list[Batch]:
        if batch.num_rows == 0:
            return []
        import polars as pl

        self._check_schema(batch.data.schema)
        self._batches += 1
        partial = (
            to_frame(batch.data)
            .group_by(self.config.merge_key, maintain_order=True)
            .agg([*self._partials(), pl.lit(self._batches, pl.Int64).alias(_SEEN)])
        )
        self._pending.append(partial)
        self._pending_rows += partial.height
        self._pending_bytes += partial.estimated_size()
        held = 0 if self._state is None else self._state.height
        if (
            self._pending_rows >= held  # folding then costs no more than the rows added
            or held + self._pending_rows > self.config.max_keys
            or self._state_bytes + self._pending_bytes > self.config.max_state_bytes
        ):
            self._fold()
        early = self._evict()
        return [batch.with_data(early)] if early is not None else []

    def finish(self) -> list[Batch]:
        self._fold()
        if self._emitted_early:
            log.info(
                "`merge` emitted %d groups early (more than `max_keys` = %d keys, or "
                "`max_state_bytes`); their keys may appear more than once in the output.",
                self._emitted_early, self.config.max_keys,
            )  # fmt: skip
        if self._state is None or self._state.height == 0:
            return []
        merged = self._merged(self._state)
        self._state = None
        metadata = BatchMetadata(source=self.context.component_path or "merge")
        size = max(self.context.batch_size, 1)
        return [
            Batch(data=merged.slice(start, size), metadata=metadata)
            for start in range(0, merged.num_rows, size)
        ]

    def _check_schema(self, schema: pa.Schema) -> None:
        """The first batch fixes the fields and the output schema; later ones must match."""
        if self._input is not None:
            if not schema.remove_metadata().equals(self._input.remove_metadata()):
                raise TerminalError(
                    f"`merge` got a batch with fields ({_describe(schema)}) unlike the first "
                    f"one ({_describe(self._input)}); merged records need one schema: align "
                    "the types with `transform` before `merge`."
                )
            return
        require_fields(schema, [*self.config.merge_key, *self.config.fields], "`merge`")
        self._how = {
            f.name: self.config.fields.get(f.name, self.config.strategy)
            for f in schema
            if f.name not in self.config.merge_key
        }
        fields = [self._output_field(f) for f in schema]
        self._input, self._output = schema, pa.schema(fields, metadata=schema.metadata)

    def _output_field(self, field: pa.Field) -> pa.Field:
        how = self._how.get(field.name)
        if how in (None, "first", "last"):
            return field
        logical = from_arrow(field.type, field.metadata)
        if how == "collect":
            return pa.field(field.name, pa.list_(logical.to_arrow()))
        if how == "count":
            return pa.field(field.name, pa.int64())
        if logical.kind.startswith("int"):
            return pa.field(field.name, pa.int64())
        if logical.kind.startswith("uint"):
            return pa.field(field.name, pa.uint64())
        if logical.kind.startswith("float"):
            return pa.field(field.name, pa.float64())
        if logical.kind == "decimal" and (logical.precision or 0) <= 38:
            return LogicalType("decimal", precision=38, scale=logical.scale).to_arrow_field(
                field.name
            )
        raise TerminalError(
            f"`merge.fields.{field.name}: sum` adds numbers, but `{field.name}` holds "
            f"{logical} values; use `last`, `first`, `collect` or `count`."
        )

    def _partials(self) -> list[pl.Expr]:
        """One batch grouped: the same shape the state has (lists, sums with counts)."""
        import polars as pl

        assert self._output is not None
        expressions: list[pl.Expr] = []
        for name, how in self._how.items():
            column = pl.col(name)
            if how == "last":
                expressions.append(column.drop_nulls().last())
            elif how == "first":
                expressions.append(column.drop_nulls().first())
            elif how == "collect":
                expressions.append(column.drop_nulls())
            elif how == "count":
                expressions.append(column.count().cast(pl.Int64))
            else:
                wide = pl.from_arrow(pa.array([], self._output.field(name).type)).dtype
                expressions.append(column.cast(wide).sum())
                expressions.append(column.count().cast(pl.Int64).alias(_COUNT.format(name)))
        return expressions

    def _folds(self) -> list[pl.Expr]:
        """Partial rows of one key folded into one."""
        import polars as pl

        expressions: list[pl.Expr] = []
        for name, how in self._how.items():
            column = pl.col(name)
            if how == "last":
                expressions.append(column.drop_nulls().last())
            elif how == "first":
                expressions.append(column.drop_nulls().first())
            elif how == "collect":
                expressions.append(column.explode())  # regathered into one list per key
            else:
                expressions.append(column.sum())
                if how == "sum":
                    expressions.append(pl.col(_COUNT.format(name)).sum())
        return [*expressions, pl.col(_SEEN).max()]

    def _fold(self) -> None:
        """Fold the pending partial rows into the state (keys keep first-seen order)."""
        import polars as pl

        if not self._pending:
            return
        frames = self._pending if self._state is None else [self._state, *self._pending]
        combined = pl.concat(frames, how="vertical")
        self._state = combined.group_by(self.config.merge_key, maintain_order=True).agg(
            self._folds()
        )
        self._state_bytes = self._state.estimated_size()
        self._pending, self._pending_rows, self._pending_bytes = [], 0, 0

    def _evict(self) -> pa.RecordBatch | None:
        """The least recently updated groups past `max_keys` or `max_state_bytes`, if any."""
        import polars as pl

        state = self._state
        if state is None:
            return None
        over = state.height - self.config.max_keys
        size = self._state_bytes
        if size > self.config.max_state_bytes:
            over = max(over, -(-state.height * (size - self.config.max_state_bytes) // size))
        if over <= 0:
            return None
        if not self._emitted_early:
            log.warning(
                "`merge` holds more than `max_keys` = %d keys or `max_state_bytes` = %d bytes: "
                "emitting the least recently updated groups early; their keys may appear "
                "more than once in the output.",
                self.config.max_keys, self.config.max_state_bytes,
            )  # fmt: skip
        self._emitted_early += over
        rows = pl.int_range(pl.len(), dtype=pl.Int64)
        oldest = state.select(rows.sort_by(_SEEN, maintain_order=True).head(over)).to_series()
        chosen = rows.is_in(oldest.implode())
        self._state = state.filter(~chosen)
        self._state_bytes = self._state.estimated_size()
        return self._merged(state.filter(chosen))

    def _merged(self, state: pl.DataFrame) -> pa.RecordBatch:
        """Groups as output records: the input's field order, the output schema's types."""
        import polars as pl

        assert self._input is not None and self._output is not None
        columns = [
            pl.when(pl.col(_COUNT.format(name)) > 0).then(pl.col(name)).alias(name)
            if self._how.get(name) == "sum"
            else pl.col(name)
            for name in self._input.names
        ]
        frame = state.select(columns)
        reference = {field.name: field for field in self._output}
        return to_batch(frame, reference).cast(self._output)


def _describe(schema: pa.Schema) -> str:
    return ", ".join(f"{f.name}: {from_arrow(f.type, f.metadata)}" for f in schema)
