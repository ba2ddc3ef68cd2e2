"""The input's committed state (an incremental high-water mark) across runs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from fustgo.engine.batch import Batch, Checkpoint, JSONValue, Split
from fustgo.engine.checkpoint import MemoryCheckpointStore
from fustgo.engine.runner import Runner
from tests.engine.memory_plugins import KeyedMemoryOutput, NumbersInput
from tests.engine.test_runner import StopAfter, make_parts

pytestmark = pytest.mark.unit


class GrowingNumbers(NumbersInput):
    """Ids 0..total-1 of a table that grows between runs; reads only ids above its mark."""

    def __init__(self, total: int, **kwargs: object) -> None:
        super().__init__(total, splits=2, batch_rows=100, **kwargs)  # type: ignore[arg-type]
        self.restored: list[dict[str, JSONValue] | None] = []
        self.low = 0

    def restore_state(self, state: dict[str, JSONValue] | None) -> None:
        self.restored.append(state)
        self.low = int(state["high"]) if state else 0  # type: ignore[arg-type]

    async def splits(self, parallelism: int) -> list[Split]:
        middle = (self.low + self.total) // 2
        return [
            Split(id="s0", params={"lo": self.low, "hi": middle}),
            Split(id="s1", params={"lo": middle, "hi": self.total}),
        ]

    def next_state(self) -> dict[str, JSONValue] | None:
        return {"high": self.total}

    async def read(self, split: Split, checkpoint: Checkpoint | None) -> AsyncIterator[Batch]:
        async for batch in super().read(split, checkpoint):
            yield batch


def run(source: NumbersInput, sink: KeyedMemoryOutput, store, **kwargs: object):
    return asyncio.run(Runner(make_parts(source, sink), store=store, **kwargs).run())


def test_a_second_run_reads_only_what_is_new() -> None:
    store, sink = MemoryCheckpointStore(), KeyedMemoryOutput()
    first = run(GrowingNumbers(1_000), sink, store)
    assert first.status == "succeeded" and first.records_read == 1_000
    assert store.load_state("test") == {"high": 1_000}

    source = GrowingNumbers(1_500)
    second = run(source, sink, store)
    assert source.restored == [{"high": 1_000}]
    assert second.records_read == 500
    assert sorted(sink.rows) == list(range(1_500))
    assert store.load_state("test") == {"high": 1_500}


def test_a_failed_run_does_not_advance_the_mark() -> None:
    store = MemoryCheckpointStore()
    run(GrowingNumbers(1_000), KeyedMemoryOutput(), store)
    failed = run(GrowingNumbers(5_000), KeyedMemoryOutput(terminal_after_rows=1_000), store)
    assert failed.status == "failed"
    assert store.load_state("test") == {"high": 1_000}


def test_an_interrupted_run_commits_the_mark_it_planned_once_resumed() -> None:
    store, sink = MemoryCheckpointStore(), KeyedMemoryOutput(write_delay_seconds=0.001)
    run(GrowingNumbers(1_000), sink, store)
    observer = StopAfter(records=200)
    parts = make_parts(
        GrowingNumbers(9_000), sink, checkpoint={"interval": 0.01}, queue={"capacity_records": 300}
    )
    runner = Runner(parts, store=store, observer=observer)
    observer.runner = runner
    assert asyncio.run(runner.run()).status == "interrupted"
    assert store.load_state("test") == {"high": 1_000}
    state = store.load("test")
    assert state is not None and state.next_state == {"high": 9_000}

    # The source grew again meanwhile; the resumed run finishes the planned window only.
    source = GrowingNumbers(12_000)
    resumed = run(source, sink, store, resume_state=state)
    assert resumed.status == "succeeded"
    assert source.restored == []  # the saved plan already holds the window
    assert sorted(set(sink.rows)) == list(range(9_000))
    assert store.load_state("test") == {"high": 9_000}


def test_full_refresh_ignores_the_committed_mark() -> None:
    store = MemoryCheckpointStore()
    run(GrowingNumbers(1_000), KeyedMemoryOutput(), store)
    source = GrowingNumbers(1_200)
    summary = run(source, KeyedMemoryOutput(), store, full_refresh=True)
    assert source.restored == [None]
    assert summary.records_read == 1_200
    assert store.load_state("test") == {"high": 1_200}


def test_without_a_store_the_state_is_not_kept_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="fustgo"):
        summary = run(GrowingNumbers(300), KeyedMemoryOutput(), None)
    assert summary.status == "succeeded"
    assert "settings.checkpoint.enabled" in caplog.text


def test_the_mark_is_kept_even_when_the_run_cannot_resume() -> None:
    store = MemoryCheckpointStore()
    sink = KeyedMemoryOutput()
    sink.durable_flush = False  # like Parquet: no mid-run checkpoints, but the mark still moves
    run(GrowingNumbers(700), sink, store)
    assert store.load("test") is None
    assert store.load_state("test") == {"high": 700}
