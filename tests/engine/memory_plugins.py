"""In-memory plugins for runner tests: they make failures and timing controllable.

They are test doubles for the engine's own contract, not for any real system.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pyarrow as pa

from fustgo.engine.batch import Batch, BatchMetadata, Checkpoint, Split
from fustgo.engine.errors import DataError, RetryableError, TerminalError
from fustgo.plugins.api import Input, Output, PluginContext, Processor, Progress
from fustgo.plugins.spec import PluginConfig


class NoConfig(PluginConfig):
    """No settings."""


class NumbersInput(Input[NoConfig]):
    """Splits of consecutive ids; can fail transiently once at a given id."""

    def __init__(
        self,
        total: int,
        splits: int,
        batch_rows: int,
        *,
        transient_failure_at: int | None = None,
        delay_seconds: float = 0.0,
        bad_every: int | None = None,
    ) -> None:
        super().__init__(NoConfig(), PluginContext(component_path="input"))
        self.total, self.n_splits, self.batch_rows = total, splits, batch_rows
        self.transient_failure_at = transient_failure_at
        self.delay_seconds = delay_seconds
        self.bad_every = bad_every
        self.acked: list[Checkpoint] = []
        self.closed = False

    async def splits(self, parallelism: int) -> list[Split]:
        step = -(-self.total // self.n_splits) if self.total else 0
        return [
            Split(id=f"s{i}", params={"lo": i * step, "hi": min((i + 1) * step, self.total)})
            for i in range(self.n_splits)
        ]

    async def read(self, split: Split, checkpoint: Checkpoint | None) -> AsyncIterator[Batch]:
        lo, hi = split.params["lo"], split.params["hi"]
        start = checkpoint.position["next"] if checkpoint else lo
        for begin in range(start, hi, self.batch_rows):
            end = min(begin + self.batch_rows, hi)
            if self.transient_failure_at is not None and begin <= self.transient_failure_at < end:
                self.transient_failure_at = None
                raise RetryableError("connection reset")
            if self.delay_seconds:
                await asyncio.sleep(self.delay_seconds)
            ids = list(range(begin, end))
            text = ["bad" if self.bad_every and i % self.bad_every == 0 else str(i) for i in ids]
            data = pa.record_batch({"id": ids, "text": text})
            yield Batch(
                data=data,
                metadata=BatchMetadata(source="numbers", split_id=split.id),
                checkpoint=Checkpoint(split.id, {"next": end}, records=end - lo),
            )

    def progress(self) -> Progress:
        return Progress(records_total=self.total)

    async def ack(self, checkpoint: Checkpoint) -> None:
        self.acked.append(checkpoint)

    async def close(self) -> None:
        self.closed = True


class ParseText(Processor[NoConfig]):
    """Rejects rows whose text is not a number (vectorized with Arrow compute)."""

    def __init__(self) -> None:
        super().__init__(NoConfig(), PluginContext(component_path="pipeline.processors[0]"))

    def process(self, batch: Batch) -> list[Batch]:
        import pyarrow.compute as pc

        bad = pc.equal(batch.data.column("text"), "bad")
        if pc.any(bad).as_py():
            self.reject(batch.data.filter(bad), "text is not a number")
        return [batch.with_data(batch.data.filter(pc.invert(bad)))]


class KeyedMemoryOutput(Output[NoConfig]):
    """Upserts by id into a dict; can reject ids, fail transiently, or fail for good."""

    def __init__(
        self,
        *,
        reject_ids: set[int] | None = None,
        transient_failures: int = 0,
        terminal_after_rows: int | None = None,
        write_delay_seconds: float = 0.0,
    ) -> None:
        super().__init__(NoConfig(), PluginContext(component_path="output"))
        self.rows: dict[int, str] = {}
        self.flushed: dict[int, str] = {}
        self.writes = 0
        self.reject_ids = reject_ids or set()
        self.transient_failures = transient_failures
        self.terminal_after_rows = terminal_after_rows
        self.write_delay_seconds = write_delay_seconds
        self.opened_with: pa.Schema | None = None
        self.closed = False

    async def open(self, schema: pa.Schema) -> None:
        self.opened_with = schema

    async def write(self, batch: Batch) -> None:
        if self.write_delay_seconds:
            await asyncio.sleep(self.write_delay_seconds)
        if self.transient_failures:
            self.transient_failures -= 1
            raise RetryableError("target busy")
        if self.terminal_after_rows is not None and len(self.rows) >= self.terminal_after_rows:
            raise TerminalError("disk full")
        ids = batch.data.column("id").to_pylist()
        if self.reject_ids.intersection(ids):
            raise DataError("constraint violated")
        texts = batch.data.column("text").to_pylist()
        self.rows.update(zip(ids, texts, strict=True))
        self.writes += 1
        self._stats.records_written += batch.num_rows

    async def flush(self) -> None:
        self.flushed = dict(self.rows)

    async def close(self) -> None:
        self.closed = True


class ListOutput(Output[NoConfig]):
    """Keeps every batch it is given (dead letters in tests)."""

    def __init__(self) -> None:
        super().__init__(NoConfig(), PluginContext(component_path="dead_letter"))
        self.batches: list[pa.RecordBatch] = []

    async def write(self, batch: Batch) -> None:
        self.batches.append(batch.data)

    @property
    def records(self) -> list[dict]:
        return [row for b in self.batches for row in b.to_pylist()]
