"""Per-run counters, progress snapshots and the final DataX-style summary.

Counters belong to one run (a `RunStats` per `Runner`), never to the process, so two runs
in one server never mix their numbers.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

RunStatus = Literal["succeeded", "failed", "interrupted", "error_limit_exceeded"]


@dataclass
class StageSummary:
    """Counters of one stage (the input, a processor, the output, a stage nested in a
    `switch` or `broker` output, the dead-letter output), named by its path in the
    pipeline file (`pipeline.processors[0]`, `output.cases[1].output`).

    Counted per batch, never per record. A routing output (`switch`, `broker`) counts as
    out the records it handed to its branches; what they filtered, failed and wrote is
    in their own stages.
    """

    name: str
    plugin: str
    records_in: int = 0
    records_out: int = 0
    records_filtered: int = 0
    records_failed: int = 0
    seconds: float = 0.0


@dataclass
class RunStats:
    """Live counters of one run; the runner updates them, observers read snapshots."""

    started_at: float = field(default_factory=time.time)
    records_read: int = 0
    bytes_read: int = 0
    records_written: int = 0
    bytes_written: int = 0
    records_filtered: int = 0
    records_failed: int = 0
    records_total: int | None = None
    splits_total: int = 0
    splits_done: int = 0
    resumed_records: int = 0

    def snapshot(
        self,
        stages: Iterable[StageSummary] = (),
        queues: Mapping[str, QueueFill] | None = None,
    ) -> ProgressSnapshot:
        """The counters now, with the stages' counters and the queues' fill if given."""
        elapsed = max(time.time() - self.started_at, 1e-9)
        return ProgressSnapshot(
            elapsed_seconds=elapsed,
            records_read=self.records_read,
            records_written=self.records_written,
            records_filtered=self.records_filtered,
            records_failed=self.records_failed,
            bytes_read=self.bytes_read,
            records_total=self.records_total,
            resumed_records=self.resumed_records,
            splits_done=self.splits_done,
            splits_total=self.splits_total,
            records_per_second=self.records_read / elapsed,
            stages={
                s.name: StageProgress(s.records_in, s.records_out, s.records_failed) for s in stages
            },
            queues=dict(queues or {}),
        )


@dataclass(frozen=True)
class StageProgress:
    """One stage's counters at one moment (see `StageSummary`)."""

    records_in: int
    records_out: int
    records_failed: int
    """Records this stage sent to the dead letter (not those of stages nested below it)."""


@dataclass(frozen=True)
class QueueFill:
    """How full the bounded queue feeding a stage is: back-pressure at a glance.

    `unit` says what `depth` and `capacity` count: `records` (the channel in front of the
    output, also bounded by bytes) or `batches` (the read-ahead queues in front of the
    first processor, one per split being read).
    """

    depth: int
    capacity: int
    unit: Literal["records", "batches"]
    bytes: int | None = None
    capacity_bytes: int | None = None


@dataclass(frozen=True)
class ProgressSnapshot:
    """A consistent view of a run's counters at one moment (for bars and WebSockets)."""

    elapsed_seconds: float
    records_read: int
    records_written: int
    records_filtered: int
    records_failed: int
    bytes_read: int
    records_total: int | None
    resumed_records: int
    splits_done: int
    splits_total: int
    records_per_second: float
    stages: dict[str, StageProgress] = field(default_factory=dict)
    """Per-stage counters by path in the pipeline file (`input`, `pipeline.processors[0]`,
    `output`, `output.cases[0].output`, ...)."""
    queues: dict[str, QueueFill] = field(default_factory=dict)
    """The bounded queues that exist between stages, by the path of the stage they feed."""

    @property
    def fraction_done(self) -> float | None:
        """Share of the source read, counting what an earlier interrupted run already did."""
        if not self.records_total:
            return None
        return min(1.0, (self.records_read + self.resumed_records) / self.records_total)


@dataclass
class RunSummary:
    """How a run went; printed like DataX's report and emitted as one JSON event."""

    pipeline: str
    status: RunStatus
    started_at: float
    ended_at: float
    records_read: int
    records_written: int
    records_filtered: int
    records_failed: int
    bytes_read: int
    bytes_written: int
    writer_waited_on_reader_seconds: float
    reader_waited_on_writer_seconds: float
    throttled_seconds: float
    splits_total: int
    splits_done: int
    resumed: bool = False
    resumed_splits_done: int = 0
    resumed_records: int = 0
    retries: int = 0
    records_updated: int = 0
    """Written records whose key the target already had (upsert/merge outputs that count
    them): changed rows, or replays after an interrupted run."""
    error: str | None = None
    dead_letter: str | None = None
    stages: list[StageSummary] = field(default_factory=list)

    @property
    def elapsed_seconds(self) -> float:
        return max(self.ended_at - self.started_at, 1e-9)

    @property
    def records_per_second(self) -> float:
        return self.records_read / self.elapsed_seconds

    @property
    def megabytes_per_second(self) -> float:
        return self.bytes_read / self.elapsed_seconds / 1_000_000

    @property
    def bottleneck(self) -> str:
        """Which side held the run back, judged by who waited on whom."""
        writer_wait = self.writer_waited_on_reader_seconds
        reader_wait = self.reader_waited_on_writer_seconds
        if writer_wait < 0.05 * self.elapsed_seconds and reader_wait < 0.05 * self.elapsed_seconds:
            return "balanced"
        return "reader" if writer_wait > reader_wait else "writer"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            event="run.summary",
            started_at=_iso(self.started_at),
            ended_at=_iso(self.ended_at),
            elapsed_seconds=round(self.elapsed_seconds, 3),
            records_per_second=round(self.records_per_second, 1),
            megabytes_per_second=round(self.megabytes_per_second, 3),
            bottleneck=self.bottleneck,
        )
        return data

    def render_text(self) -> str:
        """The human summary (DataX style), one fact per line."""
        lines = [
            f"Pipeline            : {self.pipeline}",
            f"Status              : {self.status.replace('_', ' ')}",
            f"Started             : {_local(self.started_at)}",
            f"Ended               : {_local(self.ended_at)}",
            f"Elapsed             : {self.elapsed_seconds:,.2f} s",
            f"Records read        : {self.records_read:,}",
            f"Records written     : {self.records_written:,}",
            f"Records filtered    : {self.records_filtered:,}",
            f"Records failed      : {self.records_failed:,}",
            *(
                [
                    f"Records updated     : {self.records_updated:,} (key already in the target: "
                    "changed rows or replays)"
                ]
                if self.records_updated
                else []
            ),
            f"Bytes read          : {self.bytes_read:,} "
            f"({self.bytes_read / 1e6:,.1f} MB in memory)",
            f"Bytes written       : {self.bytes_written:,}",
            f"Speed               : {self.records_per_second:,.0f} records/s, "
            f"{self.megabytes_per_second:,.2f} MB/s",
            f"Writer waited       : {self.writer_waited_on_reader_seconds:,.2f} s on the reader",
            f"Readers waited      : {self.reader_waited_on_writer_seconds:,.2f} s on the writer",
            f"Bottleneck          : {self.bottleneck}",
            f"Splits              : {self.splits_done}/{self.splits_total} done",
        ]
        if self.throttled_seconds:
            lines.append(f"Speed limit waits   : {self.throttled_seconds:,.2f} s")
        if self.retries:
            lines.append(f"Retries             : {self.retries}")
        if self.resumed:
            lines.append(
                f"Resumed             : yes, from a checkpoint ({self.resumed_splits_done} splits "
                f"and {self.resumed_records:,} records done by the interrupted run)"
            )
        if self.records_failed and self.dead_letter:
            lines.append(f"Dead letters        : {self.dead_letter}")
        if self.error:
            lines.append(f"Error               : {self.error}")
        for stage in self.stages:
            lines.append(
                f"  {stage.name:<26} {stage.plugin:<12} in {stage.records_in:>12,}  "
                f"out {stage.records_out:>12,}  filtered {stage.records_filtered:>10,}  "
                f"failed {stage.records_failed:>8,}  {stage.seconds:8.2f} s"
            )
        return "\n".join(lines)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="milliseconds")


def _local(ts: float) -> str:
    return datetime.fromtimestamp(ts).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
