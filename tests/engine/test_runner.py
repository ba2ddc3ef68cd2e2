"""The runner end to end over in-memory plugins: counts, dead letters, limits, retry, resume."""

from __future__ import annotations

import asyncio

import pytest

from fustgo.engine.batch import Checkpoint
from fustgo.engine.checkpoint import MemoryCheckpointStore
from fustgo.engine.errors import TerminalError
from fustgo.engine.runner import PipelineParts, Runner, RunObserver
from fustgo.engine.settings import RunSettings
from fustgo.engine.stats import ProgressSnapshot
from tests.engine.memory_plugins import (
    KeyedMemoryOutput,
    ListOutput,
    NumbersInput,
    ParseText,
)

pytestmark = pytest.mark.unit

FAST_RETRY = {"initial_delay": 0.001, "max_delay": 0.002}


def make_parts(
    source: NumbersInput,
    sink: KeyedMemoryOutput,
    *,
    processors: list | None = None,
    dead: ListOutput | None = None,
    **settings: object,
) -> PipelineParts:
    settings.setdefault("retry", FAST_RETRY)
    return PipelineParts(
        name="test",
        settings=RunSettings.model_validate(settings),
        input=source,
        processors=processors or [],
        output=sink,
        dead_letter=dead or ListOutput(),
        fingerprint="f",
    )


def run(parts: PipelineParts, **kwargs: object):
    return asyncio.run(Runner(parts, **kwargs).run())


@pytest.mark.parametrize("parallelism", [1, 2, 3, 8])
@pytest.mark.parametrize("splits", [1, 4, 7])
def test_every_record_arrives_once(parallelism: int, splits: int) -> None:
    source = NumbersInput(total=10_007, splits=splits, batch_rows=333)
    sink = KeyedMemoryOutput()
    summary = run(make_parts(source, sink, parallelism=parallelism))
    assert summary.status == "succeeded", summary.error
    assert sorted(sink.rows) == list(range(10_007))
    assert summary.records_read == summary.records_written == 10_007
    assert summary.splits_done == summary.splits_total == splits
    assert source.closed and sink.closed
    assert {cp.split_id for cp in source.acked if cp.split_done} == {f"s{i}" for i in range(splits)}


def test_empty_source_succeeds_and_writes_nothing() -> None:
    sink = KeyedMemoryOutput()
    summary = run(make_parts(NumbersInput(total=0, splits=1, batch_rows=10), sink))
    assert summary.status == "succeeded"
    assert summary.records_read == 0 and sink.rows == {} and sink.opened_with is None


def test_bad_records_go_to_dead_letter_and_count() -> None:
    dead = ListOutput()
    sink = KeyedMemoryOutput()
    source = NumbersInput(total=1_000, splits=2, batch_rows=100, bad_every=100)
    summary = run(
        make_parts(source, sink, processors=[ParseText()], dead=dead, error_limit={"records": 50})
    )
    assert summary.status == "succeeded"
    assert summary.records_failed == 10
    assert len(sink.rows) == 990
    assert len(dead.records) == 10
    first = dead.records[0]
    assert first["stage"] == "pipeline.processors[0]"
    assert first["error"] == "text is not a number"
    assert '"text":"bad"' in first["record"]
    stage = summary.stages[0]
    assert (stage.records_in, stage.records_out, stage.records_failed) == (1_000, 990, 10)


def test_error_limit_by_records_stops_the_run() -> None:
    dead = ListOutput()
    source = NumbersInput(total=100_000, splits=1, batch_rows=100, bad_every=10)
    summary = run(
        make_parts(
            source,
            KeyedMemoryOutput(),
            processors=[ParseText()],
            dead=dead,
            error_limit={"records": 5},
        )
    )
    assert summary.status == "error_limit_exceeded"
    assert "settings.error_limit.records" in (summary.error or "")
    assert summary.records_failed > 5
    assert summary.records_read < 100_000  # it stopped early
    assert len(dead.records) == summary.records_failed  # nothing failed silently


def test_error_limit_by_percentage_when_records_is_null() -> None:
    source = NumbersInput(total=1_000, splits=1, batch_rows=100, bad_every=50)  # 2 %
    parts = make_parts(
        source,
        KeyedMemoryOutput(),
        processors=[ParseText()],
        error_limit={"records": None, "percentage": 0.01},
    )
    assert run(parts).status == "error_limit_exceeded"
    source = NumbersInput(total=1_000, splits=1, batch_rows=100, bad_every=50)
    parts = make_parts(
        source,
        KeyedMemoryOutput(),
        processors=[ParseText()],
        error_limit={"records": None, "percentage": 0.05},
    )
    assert run(parts).status == "succeeded"


def test_record_count_wins_over_percentage() -> None:
    source = NumbersInput(total=1_000, splits=1, batch_rows=100, bad_every=50)  # 20 failures
    parts = make_parts(
        source,
        KeyedMemoryOutput(),
        processors=[ParseText()],
        error_limit={"records": 100, "percentage": 0.001},
    )
    assert run(parts).status == "succeeded"


def test_output_data_error_isolates_only_the_bad_rows() -> None:
    dead = ListOutput()
    sink = KeyedMemoryOutput(reject_ids={17, 503})
    summary = run(
        make_parts(
            NumbersInput(total=1_000, splits=2, batch_rows=250),
            sink,
            dead=dead,
            error_limit={"records": 10},
        )
    )
    assert summary.status == "succeeded"
    assert sorted(r["record"] for r in dead.records) == [
        '{"id":17,"text":"17"}',
        '{"id":503,"text":"503"}',
    ]
    assert all(r["stage"] == "output" for r in dead.records)
    assert len(sink.rows) == 998 and 17 not in sink.rows


def test_transient_read_error_resumes_from_last_checkpoint_without_duplicates() -> None:
    source = NumbersInput(total=1_000, splits=1, batch_rows=100, transient_failure_at=450)
    sink = KeyedMemoryOutput()
    summary = run(make_parts(source, sink))
    assert summary.status == "succeeded"
    assert summary.retries == 1
    assert summary.records_read == 1_000  # the failed batch was never counted twice
    assert sorted(sink.rows) == list(range(1_000))


def test_transient_write_errors_are_retried_then_give_up() -> None:
    sink = KeyedMemoryOutput(transient_failures=2)
    summary = run(make_parts(NumbersInput(total=100, splits=1, batch_rows=50), sink))
    assert summary.status == "succeeded" and summary.retries == 2

    sink = KeyedMemoryOutput(transient_failures=10)
    summary = run(
        make_parts(
            NumbersInput(total=100, splits=1, batch_rows=50),
            sink,
            retry={**FAST_RETRY, "max_retries": 3},
        )
    )
    assert summary.status == "failed"
    assert "after 4 attempts" in (summary.error or "")


def test_terminal_output_error_fails_the_run_and_closes_everything() -> None:
    source = NumbersInput(total=10_000, splits=4, batch_rows=100)
    sink = KeyedMemoryOutput(terminal_after_rows=1_000)
    summary = run(make_parts(source, sink, parallelism=4))
    assert summary.status == "failed"
    assert summary.error == "disk full"
    assert source.closed and sink.closed


class StopAfter(RunObserver):
    """Asks the runner to stop once some records were written (like a SIGTERM midway)."""

    progress_interval_seconds = 0.005

    def __init__(self, records: int) -> None:
        self.records = records
        self.runner: Runner | None = None

    def on_progress(self, snapshot: ProgressSnapshot) -> None:
        if snapshot.records_written >= self.records and self.runner is not None:
            self.runner.request_stop("test")


@pytest.mark.parametrize("parallelism", [1, 3])
def test_interrupted_run_resumes_and_every_record_lands_once(parallelism: int) -> None:
    store = MemoryCheckpointStore()
    sink = KeyedMemoryOutput(write_delay_seconds=0.001)
    total = 20_000

    def parts(source: NumbersInput) -> PipelineParts:
        return make_parts(
            source,
            sink,
            parallelism=parallelism,
            checkpoint={"interval": 0.01},
            queue={"capacity_records": 500},
        )

    observer = StopAfter(records=3_000)
    runner = Runner(parts(NumbersInput(total, 4, 100)), store=store, observer=observer)
    observer.runner = runner
    first = asyncio.run(runner.run())
    assert first.status == "interrupted"
    assert 3_000 <= first.records_written < total
    state = store.load("test")
    assert state is not None and state.checkpoints

    writes_before = sink.writes
    second = asyncio.run(
        Runner(parts(NumbersInput(total, 4, 100)), store=store, resume_state=state).run()
    )
    assert second.status == "succeeded"
    assert second.resumed and second.resumed_records == state.records_done
    assert sorted(sink.rows) == list(range(total))
    # Only what the first run had not made durable is read again.
    assert second.records_read <= total - state.records_done
    assert sink.writes > writes_before
    assert store.load("test") is None  # a finished run leaves no state


def test_backpressure_bounds_the_queue() -> None:
    class Watch(RunObserver):
        progress_interval_seconds = 0.001

    sink = KeyedMemoryOutput(write_delay_seconds=0.002)
    parts = make_parts(
        NumbersInput(total=5_000, splits=4, batch_rows=100),
        sink,
        parallelism=4,
        queue={"capacity_records": 300},
    )
    runner = Runner(parts, observer=Watch())
    peak = 0

    async def go() -> None:
        nonlocal peak
        task = asyncio.create_task(runner.run())
        while not task.done():
            peak = max(peak, runner._channel.records)
            await asyncio.sleep(0)
        await task

    asyncio.run(go())
    assert len(sink.rows) == 5_000
    assert 0 < peak <= 300
    summary_waits = runner._channel.waits
    assert summary_waits.producers_waited_seconds > 0  # readers waited on the slow writer


class HoldsState(ParseText):
    """A processor that keeps records between batches (like aggregate or deduplicate)."""

    @property
    def holds_state(self) -> bool:
        return True


def test_stateful_processors_disable_resume() -> None:
    store = MemoryCheckpointStore()
    observer = StopAfter(records=1_000)
    parts = make_parts(
        NumbersInput(20_000, 2, 100),
        KeyedMemoryOutput(write_delay_seconds=0.001),
        processors=[HoldsState()],
        checkpoint={"interval": 0.01},
    )
    runner = Runner(parts, store=store, observer=observer)
    observer.runner = runner
    assert asyncio.run(runner.run()).status == "interrupted"
    assert store.load("test") is None  # nothing to resume from: the next run starts over


def test_checkpoint_interval_zero_saves_after_every_batch() -> None:
    store = MemoryCheckpointStore()
    source = NumbersInput(total=2_000, splits=2, batch_rows=100)
    sink = KeyedMemoryOutput()
    saved: list[int] = []
    original = store.save

    def counting_save(pipeline: str, checkpoints: object) -> None:
        batch = list(checkpoints)  # type: ignore[call-overload]
        saved.append(len(batch))
        original(pipeline, batch)

    store.save = counting_save  # type: ignore[method-assign]
    summary = asyncio.run(
        Runner(
            make_parts(source, sink, parallelism=2, checkpoint={"interval": 0}), store=store
        ).run()
    )
    assert summary.status == "succeeded", summary.error
    assert sorted(sink.rows) == list(range(2_000))
    assert len(saved) >= 20 and set(saved) == {1}  # a save after each of the 20 batches
    assert summary.splits_done == summary.splits_total == 2


def test_an_output_durable_only_when_closed_gets_its_acks_after_closing() -> None:
    class ClosingCheck(KeyedMemoryOutput):
        durable_flush = False

    class AckWhenClosed(NumbersInput):
        def __init__(self, sink: KeyedMemoryOutput) -> None:
            super().__init__(total=1_000, splits=2, batch_rows=100)
            self.sink = sink
            self.acked_before_close = 0

        async def ack(self, checkpoint: Checkpoint) -> None:
            await super().ack(checkpoint)
            self.acked_before_close += not self.sink.closed

    sink = ClosingCheck()
    source = AckWhenClosed(sink)
    summary = run(
        make_parts(source, sink, checkpoint={"interval": 0}), store=MemoryCheckpointStore()
    )
    assert summary.status == "succeeded", summary.error
    assert source.acked_before_close == 0
    assert {cp.split_id for cp in source.acked if cp.split_done} == {"s0", "s1"}


def test_nothing_is_acknowledged_when_such_an_output_fails_to_close() -> None:
    class BrokenClose(KeyedMemoryOutput):
        durable_flush = False

        async def close(self) -> None:
            raise TerminalError("disk full while finishing the file")

    source = NumbersInput(total=500, splits=1, batch_rows=100)
    summary = run(make_parts(source, BrokenClose()), store=MemoryCheckpointStore())
    assert summary.status == "failed"
    assert source.acked == []


def test_pause_stops_reading_keeps_writing_what_was_read_and_resume_reads_on() -> None:
    async def scenario() -> tuple[int, int, int, object]:
        source = NumbersInput(total=20_000, splits=2, batch_rows=100, delay_seconds=0.002)
        sink = KeyedMemoryOutput()
        runner = Runner(
            make_parts(source, sink, checkpoint={"interval": 0.01}), store=MemoryCheckpointStore()
        )
        task = asyncio.create_task(runner.run())
        while runner.stats.records_read < 1_000:
            await asyncio.sleep(0.005)
        runner.pause()
        await asyncio.sleep(0.3)  # batches under way are written and flushed
        read_when_paused = runner.stats.records_read
        flushed_when_paused = len(sink.flushed)
        await asyncio.sleep(0.3)
        read_later = runner.stats.records_read
        assert runner.paused
        runner.resume()
        summary = await task
        assert sorted(sink.rows) == list(range(20_000))
        return read_when_paused, flushed_when_paused, read_later, summary

    read_when_paused, flushed_when_paused, read_later, summary = asyncio.run(scenario())
    assert read_later == read_when_paused < 20_000  # nothing read while paused
    assert flushed_when_paused == read_when_paused  # and everything read was made durable
    assert summary.status == "succeeded"  # type: ignore[attr-defined]


def test_stop_while_paused_drains_and_ends() -> None:
    async def scenario() -> object:
        source = NumbersInput(total=50_000, splits=2, batch_rows=100, delay_seconds=0.002)
        sink = KeyedMemoryOutput()
        runner = Runner(make_parts(source, sink), store=MemoryCheckpointStore())
        task = asyncio.create_task(runner.run())
        while runner.stats.records_read < 500:
            await asyncio.sleep(0.005)
        runner.pause()
        await asyncio.sleep(0.1)
        runner.request_stop("test")
        return await asyncio.wait_for(task, timeout=10)

    summary = asyncio.run(scenario())
    assert summary.status == "interrupted"  # type: ignore[attr-defined]
    assert summary.records_written == summary.records_read < 50_000  # type: ignore[attr-defined]
