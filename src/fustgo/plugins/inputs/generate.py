"""`generate` input: synthetic records from a template, for demos, tests and benchmarks.

Values are a pure function of `seed`, the field's name and the record's index: record 1234
is the same whatever the parallelism, the batch size or where a resumed run starts. Random
values are drawn with NumPy in blocks of `BLOCK_RECORDS` records, each block from its own
generator seeded with `(seed, crc32(field name), block number)`, so any range of records
can be produced without producing the ones before it.

With `count: 0` the input is unbounded (a stream): one split that runs until the pipeline
is stopped; pace it with `rate_per_sec`.
"""

from __future__ import annotations

import asyncio
import itertools
import string
import time
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import pyarrow as pa
from pydantic import Field, model_validator

from fustgo.engine.batch import Batch, BatchMetadata, Checkpoint, Split
from fustgo.engine.units import Duration
from fustgo.plugins.api import Input, PluginContext, Progress
from fustgo.plugins.registry import register_input
from fustgo.plugins.spec import PluginConfig, ui

BLOCK_RECORDS = 65_536
BATCHES_PER_SECOND = 10
"""When paced, batches are cut so about this many leave per second (smooth, not bursty)."""
Scalar = str | int | float | bool


class FieldSpec(PluginConfig):
    """Options every generated field has."""

    null_fraction: float = Field(default=0.0, ge=0.0, le=1.0)
    """Share of records where this field is NULL (0.1 = about one in ten)."""


class SequenceField(FieldSpec):
    """Consecutive integers: `start`, `start + step`, … by record index (int64)."""

    kind: Literal["sequence"]
    """Selects this generator."""
    start: int = 0
    """Value of record 0."""
    step: int = 1
    """Difference between consecutive records."""


class RandomIntField(FieldSpec):
    """Uniform random integers between `min` and `max`, both included (int64)."""

    kind: Literal["random_int"]
    """Selects this generator."""
    min: int = 0
    """Smallest value."""
    max: int = 100
    """Largest value."""


class RandomFloatField(FieldSpec):
    """Uniform random numbers from `min` to `max`, optionally rounded (float64)."""

    kind: Literal["random_float"]
    """Selects this generator."""
    min: float = 0.0
    """Smallest value."""
    max: float = 1.0
    """Upper bound (reached only by rounding)."""
    decimals: int | None = Field(default=None, ge=0, le=15)
    """Round to this many decimals (2 for amounts); unset keeps full precision."""


class ChoiceField(FieldSpec):
    """One of `values`, at random, optionally weighted; the type follows the values."""

    kind: Literal["choice"]
    """Selects this generator."""
    values: list[Scalar] = Field(min_length=1)
    """The values to pick from (all strings, all numbers or all booleans)."""
    weights: list[float] | None = None
    """Relative weight of each value (`[8, 1, 1]`); equal weights when unset."""

    @model_validator(mode="after")
    def _check_weights(self) -> ChoiceField:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError("`weights` needs one weight per value")
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("`weights` must be non-negative with a positive sum")
        kinds = {
            bool if isinstance(v, bool) else str if isinstance(v, str) else float
            for v in self.values
        }
        if len(kinds) > 1:
            raise ValueError("`values` must be all strings, all numbers or all booleans")
        return self


class StringField(FieldSpec):
    """Random strings of `length` characters drawn from `alphabet`."""

    kind: Literal["string"]
    """Selects this generator."""
    length: int = Field(default=8, ge=0, le=4096)
    """Characters per value."""
    alphabet: str = Field(default=string.ascii_letters + string.digits, min_length=1)
    """Characters to draw from (any Unicode)."""


class UuidField(FieldSpec):
    """Random (version 4) UUIDs as text, reproducible from the seed."""

    kind: Literal["uuid"]
    """Selects this generator."""


class TimestampField(FieldSpec):
    """Timestamps (UTC) from `start`, `step` apart by record index."""

    kind: Literal["timestamp"]
    """Selects this generator."""
    start: datetime | Literal["now"] = "now"
    """Time of record 0 (ISO 8601, UTC when no offset), or `now`: when the run started (then
    values differ between runs, and a resumed run counts from its own start)."""
    step: Duration = Field(default=1.0, json_schema_extra=ui(unit="seconds"))
    """Time between consecutive records (`1s`, `250ms`, `1h`)."""


class ConstantField(FieldSpec):
    """The same value in every record (`null` for a column of NULLs, typed string)."""

    kind: Literal["constant"]
    """Selects this generator."""
    value: Scalar | None = None
    """The value."""


FieldSpecs = Annotated[
    SequenceField
    | RandomIntField
    | RandomFloatField
    | ChoiceField
    | StringField
    | UuidField
    | TimestampField
    | ConstantField,
    Field(discriminator="kind"),
]


class GenerateInputConfig(PluginConfig):
    """Generates synthetic records from a template of fields, reproducibly."""

    count: int = Field(default=1000, ge=0, json_schema_extra=ui(unit="records"))
    """Records to generate; 0 generates until the pipeline is stopped."""
    rate_per_sec: float = Field(default=0.0, ge=0.0, json_schema_extra=ui(unit="records/s"))
    """Records per second over all splits; 0 is as fast as possible."""
    seed: int = Field(default=0, ge=0)
    """Seed of every random value; the same seed and fields give the same records."""
    fields: dict[str, FieldSpecs] = Field(min_length=1)
    """Columns and how to generate them, in order."""


@register_input(
    "generate",
    config=GenerateInputConfig,
    family="generate",
    title="Generate records",
    capabilities={"split", "resume"},
    examples=[
        {
            "type": "generate",
            "count": 1000000,
            "seed": 42,
            "fields": {
                "id": {"kind": "sequence", "start": 1},
                "amount": {"kind": "random_float", "min": 0, "max": 500, "decimals": 2},
                "status": {"kind": "choice", "values": ["paid", "pending"], "weights": [9, 1]},
                "email": {"kind": "string", "length": 10, "null_fraction": 0.05},
                "created_at": {"kind": "timestamp", "start": "2024-01-01T00:00:00Z", "step": "1s"},
            },
        }
    ],
)
class GenerateInput(Input[GenerateInputConfig]):
    """Bounded counts split into `parallelism` contiguous ranges; unbounded is one split."""

    def __init__(self, config: GenerateInputConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._started = datetime.now(UTC)
        self._next_release: float | None = None

    async def open(self) -> None:
        self._started = datetime.now(UTC)

    async def splits(self, parallelism: int) -> list[Split]:
        count = self.config.count
        if count == 0:
            return [
                Split(id="records-0-", params={"start": 0, "stop": None}, description="unbounded")
            ]
        parts = max(1, min(parallelism, count))
        bounds = [count * i // parts for i in range(parts + 1)]
        return [
            Split(
                id=f"records-{start}-{stop}",
                params={"start": start, "stop": stop},
                description=f"records {start} to {stop - 1}",
                estimated_records=stop - start,
            )
            for start, stop in itertools.pairwise(bounds)
        ]

    def progress(self) -> Progress:
        return Progress(records_total=self.config.count or None)

    def schema(self) -> pa.Schema:
        return pa.schema([(name, _arrow_type(spec)) for name, spec in self.config.fields.items()])

    async def read(self, split: Split, checkpoint: Checkpoint | None) -> AsyncIterator[Batch]:
        start = int(split.params["start"])
        stop = split.params.get("stop")
        position = int(checkpoint.position.get("next", start)) if checkpoint else start
        rate = self.config.rate_per_sec
        batch_size = self.context.batch_size
        if rate:
            batch_size = max(1, min(batch_size, int(rate / BATCHES_PER_SECOND)))
        generator = _Generator(self.config, self._started, self.schema())
        while stop is None or position < stop:
            end = position + batch_size if stop is None else min(position + batch_size, stop)
            if rate:
                await self._pace(end - position, rate)
            data = await asyncio.to_thread(generator.records, position, end)
            position = end
            yield Batch(
                data=data,
                metadata=BatchMetadata(source="generate", split_id=split.id),
                checkpoint=Checkpoint(
                    split_id=split.id, position={"next": position}, records=position - start
                ),
            )

    async def _pace(self, records: int, rate: float) -> None:
        """Wait for this batch's slot: batches leave `records / rate` seconds apart overall."""
        now = time.monotonic()
        slot = now if self._next_release is None else max(self._next_release, now)
        self._next_release = slot + records / rate
        if slot > now:
            await asyncio.sleep(slot - now)


def _arrow_type(spec: FieldSpec) -> pa.DataType:
    if isinstance(spec, SequenceField | RandomIntField):
        return pa.int64()
    if isinstance(spec, RandomFloatField):
        return pa.float64()
    if isinstance(spec, ChoiceField):
        return pa.array(spec.values).type
    if isinstance(spec, TimestampField):
        return pa.timestamp("us", tz="UTC")
    if isinstance(spec, ConstantField) and spec.value is not None:
        return pa.scalar(spec.value).type
    return pa.string()


class _Generator:
    """Records of any index range, identical whatever range they are asked in."""

    def __init__(self, config: GenerateInputConfig, started: datetime, schema: pa.Schema) -> None:
        self._config = config
        self._started = started
        self._schema = schema
        self._blocks: dict[str, tuple[int, pa.Array]] = {}  # field → its last block drawn

    def records(self, start: int, stop: int) -> pa.RecordBatch:
        columns = [
            self._column(name, spec, start, stop) for name, spec in self._config.fields.items()
        ]
        return pa.RecordBatch.from_arrays(columns, schema=self._schema)

    def _column(self, name: str, spec: FieldSpec, start: int, stop: int) -> pa.Array:
        import numpy as np

        index = np.arange(start, stop, dtype=np.int64)
        column: pa.Array
        if isinstance(spec, SequenceField):
            column = pa.array(spec.start + spec.step * index, type=pa.int64())
        elif isinstance(spec, TimestampField):
            origin = self._started if spec.start == "now" else spec.start
            assert isinstance(origin, datetime)
            if origin.tzinfo is None:
                origin = origin.replace(tzinfo=UTC)
            origin_us = int(origin.timestamp() * 1_000_000)
            values = origin_us + int(spec.step * 1_000_000) * index
            column = pa.array(values, type=pa.timestamp("us", tz="UTC"))
        elif isinstance(spec, ConstantField):
            typ = self._schema.field(name).type
            column = (
                pa.nulls(stop - start, typ)
                if spec.value is None
                else pa.repeat(pa.scalar(spec.value, typ), stop - start)
            )
        else:
            column = self._drawn(name, spec, start, stop)
        if spec.null_fraction:
            import pyarrow.compute as pc

            nulls = pa.array(self._nulls(name, spec.null_fraction, start, stop))
            column = pc.if_else(nulls, pa.scalar(None, column.type), column)
        return column

    def _drawn(self, name: str, spec: FieldSpec, start: int, stop: int) -> pa.Array:
        """Random values of records [start, stop), from whole blocks (the last one cached)."""
        pieces = []
        for block in range(start // BLOCK_RECORDS, (stop - 1) // BLOCK_RECORDS + 1):
            cached = self._blocks.get(name)
            if cached is None or cached[0] != block:
                rng = _rng(self._config.seed, name, block, 0)
                cached = (block, _draw(spec, rng, BLOCK_RECORDS))
                self._blocks[name] = cached
            offset = block * BLOCK_RECORDS
            low, high = max(start, offset) - offset, min(stop, offset + BLOCK_RECORDS) - offset
            pieces.append(cached[1].slice(low, high - low))
        return pieces[0] if len(pieces) == 1 else pa.concat_arrays(pieces)

    def _nulls(self, name: str, fraction: float, start: int, stop: int) -> Any:
        import numpy as np

        masks = []
        for block in range(start // BLOCK_RECORDS, (stop - 1) // BLOCK_RECORDS + 1):
            offset = block * BLOCK_RECORDS
            mask = _rng(self._config.seed, name, block, 1).random(BLOCK_RECORDS) < fraction
            masks.append(
                mask[max(start, offset) - offset : min(stop, offset + BLOCK_RECORDS) - offset]
            )
        return np.concatenate(masks)


def _rng(seed: int, name: str, block: int, stream: int) -> Any:
    import numpy as np

    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8")), block, stream])


def _draw(spec: FieldSpec, rng: Any, size: int) -> pa.Array:
    import numpy as np

    if isinstance(spec, RandomIntField):
        return pa.array(rng.integers(spec.min, spec.max, size=size, endpoint=True, dtype=np.int64))
    if isinstance(spec, RandomFloatField):
        values = rng.uniform(spec.min, spec.max, size=size)
        return pa.array(values if spec.decimals is None else np.round(values, spec.decimals))
    if isinstance(spec, ChoiceField):
        weights = None
        if spec.weights is not None:
            total = sum(spec.weights)
            weights = [w / total for w in spec.weights]
        picks = rng.choice(len(spec.values), size=size, p=weights)
        return pa.array(spec.values).take(pa.array(picks))
    if isinstance(spec, StringField):
        if spec.length == 0:
            return pa.array(np.full(size, "", dtype="<U1"))
        alphabet = np.array(list(spec.alphabet))
        chars = alphabet[rng.integers(0, len(alphabet), size=(size, spec.length))]
        return pa.array(np.ascontiguousarray(chars).view(f"<U{spec.length}").ravel())
    if isinstance(spec, UuidField):
        raw = rng.integers(0, 256, size=(size, 16), dtype=np.uint8)
        raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
        raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
        nibbles = np.stack([raw >> 4, raw & 0x0F], axis=2).reshape(size, 32)
        text = np.array(list("0123456789abcdef"))[nibbles]
        text = np.insert(text, [8, 12, 16, 20], "-", axis=1)
        return pa.array(np.ascontiguousarray(text).view("<U36").ravel())
    raise TypeError(f"no generator for {type(spec).__name__}")
