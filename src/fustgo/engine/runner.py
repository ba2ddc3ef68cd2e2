"""The pipeline runner: splits → channels → processors → a bounded channel → the output.

DataX's model on asyncio. The input's splits are read on `parallelism` channels at once;
each channel reads its split in order, runs the processors in a worker thread (Arrow and
Polars release the GIL) and puts the results into one bounded channel, whose capacity in
records and bytes makes fast readers wait for a slow writer. One writer task drains it,
flushes the output at least every `settings.checkpoint.interval` and only then saves the
checkpoints and acks the input, so a checkpoint never runs ahead of durable data.

Errors are classified by type (`engine.errors`): transient ones are retried with backoff
(a split resumes from its last checkpoint), bad records go to the dead-letter output and
count against the error limit, anything else stops the run. A stop request (SIGINT or
SIGTERM) stops reading, drains what was read, flushes, saves the checkpoint and reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

import pyarrow as pa

from fustgo.engine.batch import Batch, Checkpoint, JSONValue, Split
from fustgo.engine.channel import BoundedChannel, ChannelClosed
from fustgo.engine.checkpoint import CheckpointStore, RunState
from fustgo.engine.deadletter import DEAD_LETTER_SCHEMA, dead_letter_batch
from fustgo.engine.errors import (
    DataError,
    ErrorLimitExceeded,
    FustgoError,
    RunInterrupted,
    TerminalError,
)
from fustgo.engine.isolation import write_isolating
from fustgo.engine.limits import SpeedLimiter
from fustgo.engine.retry import retry_async
from fustgo.engine.settings import RunSettings
from fustgo.engine.stats import (
    ProgressSnapshot,
    QueueFill,
    RunStats,
    RunStatus,
    RunSummary,
    StageSummary,
)
from fustgo.plugins.api import Input, Output, Plugin, Processor, RejectedRecords, Transfer

log = logging.getLogger(__name__)

PREFETCH_BATCHES = 2
"""Batches a channel reads ahead of its processing (memory: this many batches per channel)."""


@dataclass
class PipelineParts:
    """The plugin instances of one run and its settings."""

    name: str
    settings: RunSettings
    input: Input
    processors: list[Processor]
    output: Output
    dead_letter: Output
    fingerprint: str = ""
    dead_letter_description: str = ""
    """Where dead letters go, for the summary (`.fustgo/dead-letter/x.jsonl`)."""


class RunObserver:
    """Hooks for progress displays (CLI bar, WebSocket); every method is optional."""

    progress_interval_seconds: float = 1.0

    def on_start(self, snapshot: ProgressSnapshot) -> None:
        """The plan is made: totals are known, reading starts."""

    def on_progress(self, snapshot: ProgressSnapshot) -> None:
        """Called every `progress_interval_seconds` while the run goes."""

    def on_finish(self, summary: RunSummary) -> None:
        """The run ended (in any way); `summary` is final."""


@dataclass
class _WriteItem:
    """What channels hand the writer: a batch, or only a checkpoint (all rows filtered)."""

    batch: Batch | None
    checkpoint: Checkpoint | None


@dataclass
class _Stage:
    """A processor with its counters; a lock serializes processors that are not thread-safe."""

    name: str
    processor: Processor
    summary: StageSummary
    call_lock: threading.Lock | None
    stats_lock: threading.Lock = field(default_factory=threading.Lock)


class Runner:
    """Runs one pipeline once; create a new `Runner` per run."""

    def __init__(
        self,
        parts: PipelineParts,
        *,
        store: CheckpointStore | None = None,
        resume_state: RunState | None = None,
        observer: RunObserver | None = None,
        full_refresh: bool = False,
    ) -> None:
        self.parts = parts
        self.settings = parts.settings
        # The input's committed state (a high-water mark) is kept whether or not the run
        # can resume; `full_refresh` plans as if no run had ever succeeded.
        self.state_store = store
        self.full_refresh = full_refresh
        self._next_state: dict[str, JSONValue] | None = None
        # A checkpoint is only a resume point if nothing between the source and durable data
        # is lost on a crash: an output that cannot flush durably, or a processor holding
        # records in memory (aggregates, dedupe keys), means an interrupted run starts over.
        resumable = parts.output.durable_flush and not any(p.holds_state for p in parts.processors)
        self.store = store if resumable else None
        self.resume_state = resume_state if self.store is not None else None
        self.observer = observer or RunObserver()
        self.stats = RunStats()
        self._stages = [
            _Stage(
                name=p.context.component_path or f"processor {i}",
                processor=p,
                summary=StageSummary(
                    name=p.context.component_path or f"processor {i}", plugin=_plugin_name(p)
                ),
                call_lock=None if p.thread_safe else threading.Lock(),
            )
            for i, p in enumerate(parts.processors)
        ]
        self._channel: BoundedChannel[_WriteItem] = BoundedChannel(
            self.settings.queue.capacity_records, self.settings.queue.capacity_bytes
        )
        self._limiter = SpeedLimiter(
            self.settings.speed.records_per_sec, self.settings.speed.bytes_per_sec
        )
        self._stop_requested = asyncio.Event()
        self._reading = asyncio.Event()
        """Set while reading may go on; cleared by `pause()`."""
        self._reading.set()
        self._stop_reason: str | None = None
        self._limit_error: ErrorLimitExceeded | None = None
        self._output_opened = False
        self._dead_letter_opened = False
        self._dead_letter_lock = asyncio.Lock()
        self._input_stage = StageSummary(name="input", plugin=_plugin_name(parts.input))
        self._output_stage = StageSummary(name="output", plugin=_plugin_name(parts.output))
        self._output_isolated = 0
        """Records the output refused (found by isolating them), for a routing output."""
        self._output_filtered_inside = 0
        """Records a `switch` output's case processors filtered (counted in their stages)."""
        self._prefetch: set[asyncio.Queue[Batch | None]] = set()
        """The read-ahead queue of each split being read (they feed the first processor)."""
        self._channel_count = self.settings.parallelism
        """Splits read at once: the planned parallelism, then what the splits allow."""
        self._dead_letter_stage = StageSummary(
            name="dead_letter", plugin=_plugin_name(parts.dead_letter)
        )
        self._retries = 0
        self._splits_finished: set[str] = set()
        self._transfer: Transfer | None = None
        self._deferred_acks: dict[str, Checkpoint] = {}
        """The last checkpoint of each split, acknowledged only after the output closed,
        when its flushes do not make data durable (Parquet: readable once closed)."""

    # ----------------------------------------------------------------------------- control

    def request_stop(self, reason: str = "stop requested") -> None:
        """Stop reading, then drain, flush and save the checkpoint (safe from signal handlers)."""
        if not self._stop_requested.is_set():
            log.warning(
                "Stopping the run (%s): draining, flushing and saving the checkpoint.", reason
            )
            self._stop_reason = reason
            self._stop_requested.set()
        self._reading.set()  # a paused reader wakes up to see the stop

    def pause(self) -> None:
        """Stop reading new batches; what was read is still processed, written, flushed and
        checkpointed, so a paused run holds nothing unwritten. `resume()` reads on."""
        if self._reading.is_set() and not self.stopping:
            log.info("Pausing the run: reading stops after the batches under way.")
            self._reading.clear()

    def resume(self) -> None:
        """Read on after `pause()`."""
        if not self._reading.is_set():
            log.info("Resuming the run.")
            self._reading.set()

    @property
    def paused(self) -> bool:
        return not self._reading.is_set()

    @property
    def stopping(self) -> bool:
        return self._stop_requested.is_set()

    # --------------------------------------------------------------------------------- run

    async def run(self) -> RunSummary:
        """Run to the end (or until stopped or failed) and return the summary; never raises
        for errors of the pipeline itself: they are in `summary.error` and `summary.status`."""
        error: FustgoError | None = None
        splits: list[Split] = []
        ticker: asyncio.Task[None] | None = None
        try:
            await self._retry(self.parts.input.open, "opening `input`")
            splits = await self._plan()
            self._transfer = await self._direct_transfer()
            self.observer.on_start(self.snapshot())
            ticker = asyncio.create_task(self._tick())
            error = await self._pump(splits)
        except FustgoError as exc:
            error = exc
        except Exception as exc:  # a plugin bug: report it like any failure, keep the trace in logs
            log.debug("Unexpected error in the run", exc_info=True)
            error = TerminalError(f"Unexpected {type(exc).__name__}: {exc}")
        finally:
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
        close_error = await self._close_all()
        error = error or close_error
        status = self._status(error)
        if (
            status == "succeeded"
            and self.state_store is not None
            and self.parts.input.state_after_read
        ):
            # The input's mark is known only once read (an API's highest value): ask again.
            self._next_state = self.parts.input.next_state() or self._next_state
        if status == "succeeded" and (self.store is not None or self._next_state is not None):
            assert self.state_store is not None  # `_plan` keeps no next state without a store
            await asyncio.to_thread(self.state_store.complete, self.parts.name, self._next_state)
        summary = self._summary(status, error, len(splits))
        self.observer.on_finish(summary)
        return summary

    async def _plan(self) -> list[Split]:
        """The split plan: the saved one when resuming, otherwise a new one (saved at once)."""
        state = self.resume_state
        if state is not None:
            splits = state.splits
            self._next_state = state.next_state
            self.stats.resumed_records = state.records_done
            log.info(
                "Resuming `%s`: %d of %d splits already done, %d records read before.",
                self.parts.name, len(state.done_split_ids), len(splits), state.records_done,
            )  # fmt: skip
        else:
            splits = await self._plan_fresh()
            if self.store is not None:
                await asyncio.to_thread(
                    self.store.begin,
                    self.parts.name,
                    self.parts.fingerprint,
                    splits,
                    self._next_state,
                )
        progress = self.parts.input.progress()
        self.stats.records_total = progress.records_total
        self.stats.splits_total = len(splits)
        if state is not None:
            self.stats.splits_done = len(state.done_split_ids)
        todo = len(splits) - (len(state.done_split_ids) if state is not None else 0)
        self._channel_count = min(self.settings.parallelism, max(todo, 1))
        return splits

    async def _plan_fresh(self) -> list[Split]:
        """New splits, planned from the state the last successful run committed."""
        committed = None
        if self.state_store is not None and not self.full_refresh:
            committed = await asyncio.to_thread(self.state_store.load_state, self.parts.name)
        self.parts.input.restore_state(committed)
        splits = await self._retry(
            lambda: self.parts.input.splits(self.settings.parallelism), "planning splits"
        )
        self._next_state = self.parts.input.next_state()
        if self._next_state is not None and self.state_store is None:
            log.warning(
                "`settings.checkpoint.enabled` is false, so `input` keeps no state between "
                "runs (an incremental read starts from its beginning every time)."
            )
            self._next_state = None
        return splits

    async def _pump(self, splits: list[Split]) -> FustgoError | None:
        """Read every split on the channels, write everything, return the first error."""
        done = self.resume_state.done_split_ids if self.resume_state else set()
        resume_points = dict(self.resume_state.checkpoints) if self.resume_state else {}
        todo: asyncio.Queue[Split] = asyncio.Queue()
        for split in splits:
            if split.id not in done:
                todo.put_nowait(split)

        writer = asyncio.create_task(self._write_loop(), name="writer")
        self._channel_count = min(self.settings.parallelism, max(todo.qsize(), 1))
        channels = [
            asyncio.create_task(self._channel_loop(todo, resume_points), name=f"channel-{i}")
            for i in range(self._channel_count)
        ]
        error: FustgoError | None = None
        readers = asyncio.gather(*channels)
        stop_wait = asyncio.create_task(self._stop_requested.wait())
        try:
            finished, _ = await asyncio.wait(
                {readers, writer, stop_wait}, return_when=asyncio.FIRST_COMPLETED
            )
            if writer in finished:
                # The writer only ends early on a failure; readers cannot go on.
                error = _as_fustgo_error(writer.exception(), "output")
                readers.cancel()
                with contextlib.suppress(BaseException):
                    await readers
                return error
            if stop_wait in finished and readers not in finished:
                readers.cancel()  # unflushed batches are re-read on resume: nothing is lost
            try:
                await readers
            except asyncio.CancelledError:
                pass
            except BaseException as exc:
                error = _as_fustgo_error(exc, "input")
                # gather() leaves the other channels running: stop them before draining.
                for task in channels:
                    task.cancel()
                await asyncio.gather(*channels, return_exceptions=True)
            if error is None and not self.stopping:
                await self._finish_processors()
            await self._channel.close()
            try:
                await writer
            except BaseException as exc:
                error = error or _as_fustgo_error(exc, "output")
            return error
        finally:
            stop_wait.cancel()
            for task in (*channels, writer):
                if not task.done():
                    task.cancel()

    # ------------------------------------------------------------------------ read side

    async def _channel_loop(
        self, todo: asyncio.Queue[Split], resume_points: dict[str, Checkpoint]
    ) -> None:
        while not self.stopping:
            await self._reading.wait()  # paused: no new split either
            if self.stopping:
                return
            try:
                split = todo.get_nowait()
            except asyncio.QueueEmpty:
                return
            await self._read_split(split, resume_points.get(split.id))

    async def _direct_transfer(self) -> Transfer | None:
        """The input's way to copy splits straight into the output, when it has one and
        nothing in between needs the records (see `Input.direct_transfer`)."""
        if self.parts.processors:
            return None
        transfer = self.parts.input.direct_transfer(self.parts.output)
        schema = self.parts.input.schema()
        if transfer is None or schema is None:
            return None
        await self._retry(lambda: self.parts.output.open(schema), "opening `output`")
        self._output_opened = True
        if not await transfer.prepare():
            return None
        log.info("Splits are copied by %s.", transfer.description)
        return transfer

    async def _copy_split(self, transfer: Transfer, split: Split) -> bool:
        """Copy a split with the transfer; False when the target refused a row, so the
        split must be read the ordinary way to isolate it."""
        loop = asyncio.get_running_loop()
        streamed = [0, 0]  # rows and bytes counted for the attempt under way

        def count(rows: int, nbytes: int) -> None:
            streamed[0] += rows
            streamed[1] += nbytes
            self.stats.records_read += rows
            self.stats.records_written += rows
            self.stats.bytes_read += nbytes
            self._input_stage.records_in += rows
            self._input_stage.records_out += rows

        def progress(rows: int, nbytes: int) -> None:  # called from the copying thread
            loop.call_soon_threadsafe(count, rows, nbytes)

        async def attempt() -> int:
            count(-streamed[0], -streamed[1])  # a retried copy starts from nothing
            return await transfer.copy(split, progress)

        started = time.perf_counter()
        try:
            rows = int(await self._retry(attempt, f"copying split `{split.id}`"))  # type: ignore[call-overload]
        except DataError as exc:
            count(-streamed[0], -streamed[1])
            log.warning(
                "The target refused a row of split `%s` (%s); reading that split record by "
                "record to isolate it.", split.id, exc,
            )  # fmt: skip
            return False
        count(rows - streamed[0], 0)  # the server's exact count
        output = self.parts.output.stats()
        output.records_written += rows
        output.bytes_written += streamed[1]
        self._output_stage.records_in += rows
        self._output_stage.records_out += rows
        self._output_stage.seconds += time.perf_counter() - started
        done = Checkpoint(split_id=split.id, position={}, records=rows, split_done=True)
        await self._channel.put(_WriteItem(None, done), 0, 0)
        return True

    async def _read_split(self, split: Split, checkpoint: Checkpoint | None) -> None:
        """Read one split while processing the batch before: parsing and processing overlap.

        A reader task runs up to `PREFETCH_BATCHES` ahead of the processing, so on two
        cores a CSV block is parsed while the previous one goes through the processors.
        """
        copied = self._transfer is not None and checkpoint is None
        if copied and await self._copy_split(self._transfer, split):  # type: ignore[arg-type]
            return
        position = {"checkpoint": checkpoint}
        ready: asyncio.Queue[Batch | None] = asyncio.Queue(maxsize=PREFETCH_BATCHES)

        async def read_from_last_checkpoint() -> None:
            # A transient error restarts reading right after the last batch read.
            async for batch in self.parts.input.read(split, position["checkpoint"]):
                await self._limiter.consume(batch.num_rows, batch.nbytes)
                self.stats.records_read += batch.num_rows
                self.stats.bytes_read += batch.nbytes
                self._input_stage.records_out += batch.num_rows
                await self._input_rejects()
                await ready.put(batch)
                if batch.checkpoint is not None:
                    position["checkpoint"] = batch.checkpoint
                await self._reading.wait()  # paused: the next batch is not read
                if self.stopping:
                    return
            await self._input_rejects()

        async def read_all() -> None:
            await self._retry(read_from_last_checkpoint, f"reading split `{split.id}`")
            await ready.put(None)

        reader = asyncio.create_task(read_all(), name=f"read {split.id}")
        self._prefetch.add(ready)
        try:
            while True:
                next_batch = asyncio.ensure_future(ready.get())
                await asyncio.wait({next_batch, reader}, return_when=asyncio.FIRST_COMPLETED)
                if not next_batch.done():
                    next_batch.cancel()
                    if reader.exception() is not None:
                        raise reader.exception()  # type: ignore[misc]
                    continue  # the reader ended normally: its end marker is in the queue
                batch = next_batch.result()
                if batch is None:
                    break
                await self._process_and_hand_on(batch)
            await reader
        finally:
            self._prefetch.discard(ready)
            if not reader.done():
                reader.cancel()
                with contextlib.suppress(BaseException):
                    await reader
        if self.stopping:
            return
        last = position["checkpoint"]
        done = Checkpoint(
            split_id=split.id,
            position=last.position if last else {},
            records=last.records if last else 0,
            split_done=True,
        )
        await self._channel.put(_WriteItem(None, done), 0, 0)

    async def _process_and_hand_on(self, batch: Batch) -> None:
        try:
            outputs = (
                await asyncio.to_thread(self._run_processors, batch, 0) if self._stages else [batch]
            )
        finally:  # what a stage rejected before a later one failed is still kept
            for stage in self._stages:
                await self._dead_letters_from(stage.processor)
        outputs = [b for b in outputs if b.num_rows > 0]
        # Only the last output batch carries the checkpoint: saving it earlier could skip
        # the batches after it if the run stopped between two writes.
        outputs = [replace(b, checkpoint=None) for b in outputs]
        if outputs:
            outputs[-1] = replace(outputs[-1], checkpoint=batch.checkpoint)
            for out in outputs:
                await self._channel.put(_WriteItem(out, out.checkpoint), out.num_rows, out.nbytes)
        elif batch.checkpoint is not None:
            await self._channel.put(_WriteItem(None, batch.checkpoint), 0, 0)

    def _run_processors(self, batch: Batch, first_stage: int) -> list[Batch]:
        """Run `batch` through the stages from `first_stage` on (in a worker thread)."""
        batches = [batch]
        for stage in self._stages[first_stage:]:
            produced: list[Batch] = []
            for item in batches:
                started = time.perf_counter()
                try:
                    if stage.call_lock is not None:
                        with stage.call_lock:
                            out = stage.processor.process(item)
                    else:
                        out = stage.processor.process(item)
                except DataError as exc:
                    stage.processor.reject(item.data, str(exc))
                    out = []
                except FustgoError:
                    raise
                except Exception as exc:
                    raise TerminalError(
                        f"Processor `{stage.name}` ({stage.summary.plugin}) failed: "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
                elapsed = time.perf_counter() - started
                with stage.stats_lock:
                    stage.summary.records_in += item.num_rows
                    stage.summary.records_out += sum(b.num_rows for b in out)
                    stage.summary.seconds += elapsed
                produced.extend(out)
            batches = produced
            if not batches:
                break
        return batches

    async def _finish_processors(self) -> None:
        """End of a bounded stream: flush each processor's state through the stages after it."""
        for index, stage in enumerate(self._stages):
            held = await asyncio.to_thread(stage.processor.finish)
            for batch in held:
                if batch.num_rows == 0:
                    continue
                with stage.stats_lock:
                    stage.summary.records_out += batch.num_rows
                outputs = await asyncio.to_thread(self._run_processors, batch, index + 1)
                for out in outputs:
                    if out.num_rows:
                        await self._channel.put(
                            _WriteItem(replace(out, checkpoint=None), None),
                            out.num_rows,
                            out.nbytes,
                        )
            for later in self._stages[index:]:
                await self._dead_letters_from(later.processor)

    # ----------------------------------------------------------------------- write side

    async def _write_loop(self) -> None:
        pending: dict[str, Checkpoint] = {}
        interval = self.settings.checkpoint.interval
        last_flush = time.monotonic()
        while True:
            remaining = last_flush + interval - time.monotonic()
            if remaining <= 0:  # due: with `interval: 0`, after every batch
                await self._commit(pending)
                pending = {}
                last_flush = time.monotonic()
                remaining = interval
            try:
                item = await asyncio.wait_for(self._channel.get(), timeout=remaining or None)
            except TimeoutError:
                continue
            except ChannelClosed:
                break
            if item.batch is not None:
                await self._write(item.batch)
            if item.checkpoint is not None:
                pending[item.checkpoint.split_id] = item.checkpoint
        await self._commit(pending)

    async def _write(self, batch: Batch) -> None:
        if not self._output_opened:
            await self._retry(lambda: self.parts.output.open(batch.schema), "opening `output`")
            self._output_opened = True
        started = time.perf_counter()

        async def write(data: pa.RecordBatch) -> None:
            await self._retry(
                lambda: self.parts.output.write(batch.with_data(data)), "writing to `output`"
            )

        async def reject(data: pa.RecordBatch, error: str) -> None:
            await self._dead_letter(RejectedRecords(data, error, stage="output"))
            self._output_stage.records_failed += data.num_rows
            self._output_isolated += data.num_rows

        written = await write_isolating(write, batch.data, reject)
        # Outputs that route (switch, broker) reject records of their own, and their case
        # processors may filter some: neither was written.
        rejected_inside = await self._dead_letters_from(self.parts.output)
        filtered_inside = self.parts.output.stats().records_filtered
        written -= rejected_inside + filtered_inside - self._output_filtered_inside
        self._output_filtered_inside = filtered_inside
        self._output_stage.records_failed += rejected_inside
        self._output_stage.seconds += time.perf_counter() - started
        self._output_stage.records_in += batch.num_rows
        self._output_stage.records_out += written
        self.stats.records_written += written

    async def _commit(self, pending: dict[str, Checkpoint]) -> None:
        """Flush output and dead letters, then save and ack the checkpoints they cover."""
        if self._output_opened:
            await self._retry(self.parts.output.flush, "flushing `output`")
        if self._dead_letter_opened:
            async with self._dead_letter_lock:
                await self._retry(self.parts.dead_letter.flush, "flushing `dead_letter`")
        if not pending:
            return
        if self.store is not None:
            await asyncio.to_thread(self.store.save, self.parts.name, list(pending.values()))
        for checkpoint in pending.values():
            if checkpoint.split_done and checkpoint.split_id not in self._splits_finished:
                self._splits_finished.add(checkpoint.split_id)  # a split may end twice
                self.stats.splits_done += 1
            if not self.parts.output.durable_flush:  # durable only once the output closes
                self._deferred_acks[checkpoint.split_id] = checkpoint
                continue
            await self._retry(lambda cp=checkpoint: self.parts.input.ack(cp), "acknowledging input")

    # ---------------------------------------------------------------------- dead letters

    async def _input_rejects(self) -> None:
        self._input_stage.records_failed += await self._dead_letters_from(self.parts.input)

    async def _dead_letters_from(self, plugin: Plugin) -> int:
        """Send what `plugin` rejected to the dead-letter output; return how many records."""
        count = 0
        for rejected in plugin.take_rejected():
            await self._dead_letter(rejected)
            count += rejected.records.num_rows
        return count

    async def _dead_letter(self, rejected: RejectedRecords) -> None:
        batch = dead_letter_batch(rejected, self.parts.name)
        async with self._dead_letter_lock:
            if not self._dead_letter_opened:
                await self._retry(
                    lambda: self.parts.dead_letter.open(DEAD_LETTER_SCHEMA), "opening `dead_letter`"
                )
                self._dead_letter_opened = True
            await self._retry(
                lambda: self.parts.dead_letter.write(Batch(data=batch)), "writing to `dead_letter`"
            )
        self._dead_letter_stage.records_in += batch.num_rows
        self._dead_letter_stage.records_out += batch.num_rows
        self.stats.records_failed += batch.num_rows
        limit = self.settings.error_limit.records
        if limit is not None and self.stats.records_failed > limit and self._limit_error is None:
            self._limit_error = ErrorLimitExceeded(
                f"{self.stats.records_failed} records failed, more than "
                f"`settings.error_limit.records` = {limit}. The failed records are in "
                f"{self.parts.dead_letter_description or 'the dead-letter output'}; fix them "
                "or raise the limit, then run again to resume."
            )
            self.request_stop("error limit exceeded")

    # ------------------------------------------------------------------------- closing

    async def _close_all(self) -> FustgoError | None:
        """Close every plugin, even after errors; return the first close error."""
        first: FustgoError | None = None
        for what, close in (
            ("output", self.parts.output.close if self._output_opened else None),
            ("dead_letter", self.parts.dead_letter.close if self._dead_letter_opened else None),
            ("input", self._ack_after_close),
            ("input", self.parts.input.close),
        ):
            if close is None:
                continue
            try:
                await close()
            except Exception as exc:
                log.warning("Closing `%s` failed: %s", what, exc)
                first = first or _as_fustgo_error(exc, what)
            if what != "input" and first is not None:
                self._deferred_acks.clear()  # not durable: the source must send them again
        if not self._output_opened:
            # No record reached the output: still create the target (empty file, table) so
            # downstream tools find it, when the input can say what its schema is.
            schema = self.parts.input.schema()
            if schema is not None and first is None and not self.stopping:
                try:
                    await self.parts.output.open(schema)
                    await self.parts.output.close()
                except Exception as exc:
                    first = _as_fustgo_error(exc, "output")
        return first

    async def _ack_after_close(self) -> None:
        """Acknowledge what an output that is durable only once closed has written."""
        deferred, self._deferred_acks = self._deferred_acks, {}
        for checkpoint in deferred.values():
            await self._retry(lambda cp=checkpoint: self.parts.input.ack(cp), "acknowledging input")

    def _status(self, error: FustgoError | None) -> RunStatus:
        if self._limit_error is not None:
            return "error_limit_exceeded"
        if error is not None:
            return "failed"
        if self.stopping:
            return "interrupted"
        percentage = self.settings.error_limit.percentage
        if (
            self.settings.error_limit.records is None
            and percentage is not None
            and self.stats.records_read
            and self.stats.records_failed / self.stats.records_read > percentage
        ):
            self._limit_error = ErrorLimitExceeded(
                f"{self.stats.records_failed / self.stats.records_read:.2%} of the records "
                f"failed, more than `settings.error_limit.percentage` = {percentage:.2%}."
            )
            return "error_limit_exceeded"
        return "succeeded"

    def _stage_counters(self) -> list[StageSummary]:
        """Every stage's counters, refreshed: the input, the processors, the output and the
        stages nested in a routing output, by their paths in the pipeline file."""
        for stage in self._stages:
            stats = stage.processor.stats()
            stage.summary.records_filtered = stats.records_filtered
            stage.summary.records_failed = stats.records_failed
        nested = self.parts.output.branch_stages()
        if nested is None:
            self._output_stage.records_filtered = self._output_filtered_inside
        else:  # the routing output itself: what it handed to its branches, its own rejects
            own = self.parts.output.stats()
            self._output_stage.records_out = own.records_routed
            self._output_stage.records_failed = self._output_isolated + own.records_failed
        self._input_stage.records_in = (
            self._input_stage.records_out + self._input_stage.records_failed
        )
        return [
            self._input_stage,
            *(s.summary for s in self._stages),
            self._output_stage,
            *(nested or []),
        ]

    def _queue_fill(self) -> dict[str, QueueFill]:
        """The bounded queues between stages, by the path of the stage each one feeds."""
        queues = {
            "output": QueueFill(
                depth=self._channel.records,
                capacity=self._channel.capacity_records,
                unit="records",
                bytes=self._channel.nbytes,
                capacity_bytes=self._channel.capacity_bytes,
            )
        }
        if self._stages:  # splits are read ahead of the processors, not of the output
            queues[self._stages[0].name] = QueueFill(
                depth=sum(q.qsize() for q in self._prefetch),
                capacity=PREFETCH_BATCHES * self._channel_count,
                unit="batches",
            )
        return queues

    def snapshot(self) -> ProgressSnapshot:
        """The run's counters now, per stage too, and how full its queues are."""
        self.stats.records_filtered = sum(
            s.processor.stats().records_filtered for s in self._stages
        )
        return self.stats.snapshot(self._stage_counters(), self._queue_fill())

    def _summary(self, status: RunStatus, error: FustgoError | None, splits: int) -> RunSummary:
        _input, *counted = self._stage_counters()
        stages = [s.summary for s in self._stages]
        output_stats = self.parts.output.stats()
        message = None
        if self._limit_error is not None:
            message = str(self._limit_error)
        elif error is not None:
            message = str(error)
        elif status == "interrupted":
            message = f"Interrupted ({self._stop_reason}); run again to resume."
        resumed = self.resume_state
        return RunSummary(
            pipeline=self.parts.name,
            status=status,
            started_at=self.stats.started_at,
            ended_at=time.time(),
            records_read=self.stats.records_read,
            records_written=self.stats.records_written,
            records_filtered=sum(s.records_filtered for s in stages) + self._output_filtered_inside,
            records_failed=self.stats.records_failed,
            bytes_read=self.stats.bytes_read,
            bytes_written=output_stats.bytes_written,
            writer_waited_on_reader_seconds=self._channel.waits.consumer_waited_seconds,
            reader_waited_on_writer_seconds=self._channel.waits.producers_waited_seconds,
            throttled_seconds=self._limiter.throttled_seconds,
            splits_total=splits,
            splits_done=self.stats.splits_done,
            resumed=resumed is not None,
            resumed_splits_done=len(resumed.done_split_ids) if resumed else 0,
            resumed_records=resumed.records_done if resumed else 0,
            retries=self._retries,
            records_updated=output_stats.records_updated,
            error=message,
            dead_letter=self.parts.dead_letter_description or None,
            stages=[*counted, self._dead_letter_stage],
        )

    # ------------------------------------------------------------------------- helpers

    async def _retry(self, operation: Callable[[], Awaitable[object]], what: str) -> object:
        def count(_attempt: int, _error: Exception) -> None:
            self._retries += 1

        return await retry_async(operation, self.settings.retry, what=what, on_retry=count)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.observer.progress_interval_seconds)
            self.observer.on_progress(self.snapshot())


def _plugin_name(plugin: Plugin) -> str:
    info = getattr(type(plugin), "info", None)
    return info.name if info is not None else type(plugin).__name__


def _as_fustgo_error(exc: BaseException | None, where: str) -> FustgoError:
    if isinstance(exc, FustgoError):
        return exc
    if isinstance(exc, asyncio.CancelledError):
        return RunInterrupted("The run was cancelled.")
    log.debug("Unexpected error in %s", where, exc_info=exc)
    return TerminalError(f"Unexpected {type(exc).__name__} in `{where}`: {exc}")
