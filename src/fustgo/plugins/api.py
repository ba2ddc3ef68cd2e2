"""The plugin contracts: Input, Processor and Output.

Inputs and outputs do I/O and are `async`; a plugin that wraps a blocking driver calls it
through `asyncio.to_thread`, so the runner sees one contract. Processors are plain functions
of batches (CPU work); the runner calls them in a worker thread.

Life cycle of one run:

    input.open() → input.splits(parallelism) → for each split, concurrently on
    `parallelism` channels: input.read(split, checkpoint) → processors → output.write()
    … periodically output.flush() (the durability point) → input.ack(checkpoint)
    … processors' finish() at the end of a bounded stream → output.flush() → close all.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Protocol, TypeVar

import pyarrow as pa

from fustgo.engine.batch import Batch, Checkpoint, JSONValue, Split
from fustgo.engine.errors import TerminalError
from fustgo.engine.stats import StageSummary
from fustgo.plugins.spec import PluginConfig

if TYPE_CHECKING:
    from fustgo.plugins.registry import PluginInfo

ConfigT = TypeVar("ConfigT", bound=PluginConfig)


class ComponentFactory(Protocol):
    """Builds a nested component (validated config mapping with `type`) at `path`."""

    def __call__(
        self, kind: Literal["processor", "output"], config: Mapping[str, Any], path: str
    ) -> Plugin[Any]: ...


@dataclass(frozen=True)
class PluginContext:
    """What a plugin instance knows about the run besides its own config."""

    pipeline_name: str = "pipeline"
    component_path: str = ""
    """Where the plugin sits in the pipeline file (`input`, `pipeline.processors[1]`)."""
    base_dir: Path = field(default_factory=Path.cwd)
    """Directory of the pipeline file; relative paths in configs resolve against it."""
    batch_size: int = 10_000
    """Records per batch the runner asks for (`settings.batch_size`)."""
    resume: bool = False
    """True when this run continues an interrupted one (outputs append, not truncate)."""
    components: ComponentFactory | None = None
    """Builds nested components (set by the runtime); use `build`."""

    def build(
        self, kind: Literal["processor", "output"], config: Mapping[str, Any], suffix: str
    ) -> Plugin[Any]:
        """Instantiate a nested component declared in this plugin's config.

        `suffix` locates it below this plugin (`.branches[0].processors[1]`), so its
        dead letters and errors name the exact place in the pipeline file.
        """
        if self.components is None:
            raise TerminalError(
                f"`{self.component_path}` has nested components but was built without a "
                "component factory; build pipelines through `fustgo.runtime`."
            )
        return self.components(kind, config, f"{self.component_path}{suffix}")

    def resolve_path(self, path: str | Path) -> Path:
        """A config path made absolute against the pipeline file's directory."""
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else self.base_dir / candidate

    @property
    def logger(self) -> logging.Logger:
        return logging.getLogger(f"fustgo.plugin.{self.component_path or 'unnamed'}")


@dataclass(frozen=True)
class Progress:
    """How much an input expects to read in total, when it knows."""

    records_total: int | None = None
    bytes_total: int | None = None


@dataclass
class ProcessorStats:
    """Counters of one processor in one run."""

    records_in: int = 0
    records_out: int = 0
    records_filtered: int = 0
    records_failed: int = 0
    batches_in: int = 0
    seconds: float = 0.0


@dataclass
class OutputStats:
    """Counters of one output in one run."""

    records_written: int = 0
    records_filtered: int = 0
    """Records the output dropped on purpose (a `switch` case's filter), not written."""
    records_updated: int = 0
    """Written records whose key was already in the target (upsert, merge): rows changed
    at the source, or replays of records an interrupted run had written."""
    bytes_written: int = 0
    batches_written: int = 0
    files_written: int = 0
    records_routed: int = 0
    """Routing outputs (`switch`, `broker`): records handed on to a branch."""
    records_failed: int = 0
    """Routing outputs: records they sent to the dead letter themselves (a `switch`'s
    records matching no case), not those their branches failed."""


@dataclass(frozen=True)
class RejectedRecords:
    """Records a stage could not handle, with why; the runner sends them to the dead letter.

    `error` is one message for all rows, or an Arrow string array with one message per row.
    """

    records: pa.RecordBatch
    error: str | pa.Array
    stage: str = ""


def distinct_messages(rejected: list[RejectedRecords]) -> list[str]:
    """The different error messages of rejected records, first seen first (for previews)."""
    found: list[str] = []
    for item in rejected:
        messages = [item.error] if isinstance(item.error, str) else item.error.to_pylist()
        found.extend(m for m in messages if m and m not in found)
    return found


class Plugin(Generic[ConfigT]):
    """Common base: a typed config and a context. Subclasses set nothing else in __init__."""

    info: ClassVar[PluginInfo]

    def __init__(self, config: ConfigT, context: PluginContext | None = None) -> None:
        self.config = config
        self.context = context or PluginContext()
        self._rejected: list[RejectedRecords] = []
        self._rejected_lock = threading.Lock()

    def reject(self, records: pa.RecordBatch, error: str | pa.Array) -> None:
        """Hand records this plugin cannot handle to the runner's dead-letter output."""
        if records.num_rows == 0:
            return
        item = RejectedRecords(records=records, error=error, stage=self.context.component_path)
        with self._rejected_lock:
            self._rejected.append(item)

    def take_rejected(self) -> list[RejectedRecords]:
        """The records rejected since the last call (the runner drains this)."""
        with self._rejected_lock:
            taken, self._rejected = self._rejected, []
        return taken

    def forward_rejected(self, child: Plugin[Any]) -> int:
        """Pass on what a nested component rejected, keeping its own stage name; return
        how many records."""
        taken = child.take_rejected()
        if taken:
            with self._rejected_lock:
                self._rejected.extend(taken)
        return sum(item.records.num_rows for item in taken)

    async def check_connection(self) -> None:
        """Level-5 validation: raise a `FustgoError` naming what is unreachable and why.

        Called by `fustgo validate --check-connections`; must not change any data.
        """
        return


class Input(Plugin[ConfigT]):
    """A source of batches, read as independent splits."""

    state_after_read: ClassVar[bool] = False
    """True when the committed state is known only after reading (the highest value an HTTP
    API answered): `next_state()` is then asked again when the run succeeded."""

    async def open(self) -> None:
        """Connect and discover what is to be read. Called once before `splits`."""
        return

    async def splits(self, parallelism: int) -> list[Split]:
        """Cut the source into independent parts, at least `parallelism` when it can.

        The union of the splits must be the whole source and no two may overlap. The list
        is saved with the checkpoints and reused verbatim when an interrupted run resumes.
        """
        return [Split(id="all")]

    def read(self, split: Split, checkpoint: Checkpoint | None) -> AsyncIterator[Batch]:
        """Yield the batches of one split, in order, starting after `checkpoint` if given.

        Each batch carries the `Checkpoint` to resume after it. Bad records that cannot be
        turned into a batch are reported with `self.reject(...)` rather than dropped.
        """
        raise NotImplementedError

    async def ack(self, checkpoint: Checkpoint) -> None:
        """Everything up to `checkpoint` is durably written: commit offsets, delete messages."""
        return

    def restore_state(self, state: dict[str, JSONValue] | None) -> None:
        """Receive what `next_state()` returned in the last run that succeeded, or None.

        Called after `open()` and before `splits()` on a fresh run (not when resuming an
        interrupted one, whose split plan already holds what the state decided). Incremental
        inputs keep their high-water mark here.
        """
        return

    def next_state(self) -> dict[str, JSONValue] | None:
        """The state to keep if this run succeeds; called right after `splits()`.

        The runner stores it with the split plan and makes it the committed state only when
        every split is written and the output closed cleanly, so a failed or interrupted run
        never advances it. None keeps the previous state.

        An input with `state_after_read` is asked again once the run succeeded (also a
        resumed run, whose `splits()` was not called); a non-None answer then replaces the
        planned one.
        """
        return None

    def direct_transfer(self, output: Output[Any]) -> Transfer | None:
        """A way to move whole splits into `output` without decoding rows, or None.

        Offered when the pipeline has no processors and the output speaks the same
        engine (PostgreSQL → PostgreSQL: the binary COPY stream is passed through). The
        runner opens the output first; `Transfer.prepare` may still decline.
        """
        return None

    def progress(self) -> Progress:
        """Totals for the progress bar; valid after `splits`."""
        return Progress()

    def schema(self) -> pa.Schema | None:
        """The schema the input will produce, when known before reading (validation aid)."""
        return None

    async def close(self) -> None:
        """Release connections and files. Called once, also after errors."""
        return


class Processor(Plugin[ConfigT]):
    """A function of batches: 0..n batches out for each batch in.

    Processors are vectorized over the whole batch (Arrow compute or Polars expressions),
    never a Python loop per record on the hot path.
    """

    thread_safe: ClassVar[bool] = True
    """False for processors with state; the runner then serializes calls to `process`."""

    def __init__(self, config: ConfigT, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._stats = ProcessorStats()

    @property
    def holds_state(self) -> bool:
        """True when records or keys live in this processor between batches (capability
        `stateful`): checkpoints would then skip what a crash loses, so runs don't resume."""
        info = getattr(type(self), "info", None)
        return info is not None and "stateful" in info.capabilities

    def process(self, batch: Batch) -> list[Batch]:
        """Transform one batch; an empty list means every record was filtered out."""
        raise NotImplementedError

    def finish(self) -> list[Batch]:
        """Emit held state at the end of a bounded stream (aggregates, windows)."""
        return []

    def stats(self) -> ProcessorStats:
        return self._stats

    def reject(self, records: pa.RecordBatch, error: str | pa.Array) -> None:
        """Send records this processor cannot handle to the dead-letter output."""
        with self._rejected_lock:
            self._stats.records_failed += records.num_rows
        super().reject(records, error)

    def count_filtered(self, records: int) -> None:
        """Count records this processor dropped on purpose (thread-safe)."""
        with self._rejected_lock:
            self._stats.records_filtered += records

    def count_batch(self, records_in: int, records_out: int) -> None:
        """Count one call's records in and out, for processors nested in another plugin
        (the runner counts top-level ones itself); thread-safe, once per batch."""
        with self._rejected_lock:
            self._stats.records_in += records_in
            self._stats.records_out += records_out
            self._stats.batches_in += 1 if records_in else 0


class Transfer(Protocol):
    """Copies splits from an input to an output of the same engine, bytes unparsed.

    A split is copied all or nothing (one target transaction), so a split interrupted
    midway leaves no rows and is copied again whole; its checkpoint is only "done".
    """

    description: str

    async def prepare(self) -> bool:
        """Check the target (types, columns) now that the output is open; False declines."""
        ...

    async def copy(self, split: Split, progress: Callable[[int, int], None]) -> int:
        """Copy one split and return its exact row count; `progress(rows, bytes)` reports
        what streamed since the last call. A `DataError` means the target refused a row:
        the runner then reads the split the ordinary way to isolate the bad rows."""
        ...


class Output(Plugin[ConfigT]):
    """A sink of batches.

    `write` must be atomic per batch: it writes all of the batch or raises and writes
    nothing, so the runner can retry or isolate bad records. A `DataError` from `write`
    makes the runner split the batch to find the bad records and dead-letter only those.
    """

    durable_flush: ClassVar[bool] = True
    """False when `flush` cannot make written data durable (a Parquet file is readable only
    once closed); the runner then saves no mid-run checkpoints, and an interrupted run
    starts over instead of resuming."""

    def __init__(self, config: ConfigT, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._stats = OutputStats()

    async def open(self, schema: pa.Schema) -> None:
        """Prepare the target for records of `schema` (create tables, open files)."""
        return

    async def write(self, batch: Batch) -> None:
        raise NotImplementedError

    async def flush(self) -> None:
        """Make everything written so far durable; checkpoints are saved only after this."""
        return

    def stats(self) -> OutputStats:
        return self._stats

    def branch_stages(self) -> list[StageSummary] | None:
        """The counters of the stages nested below a routing output (its branches'
        processors and outputs, recursively), named by their paths; None for a leaf."""
        return None

    async def close(self) -> None:
        """Finish files, commit and disconnect. Called once, also after errors."""
        return
