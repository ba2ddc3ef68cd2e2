"""Records a run's counters in `metric_samples` while it goes, and keeps the table small.

A `SampleRecorder` is a run observer (`RunManager.observers`): every progress tick the
runner hands it a snapshot; at most one sample per `every_seconds` is written (in a
thread: the event loop never waits on the store), and the run's summary is written as the
final sample. Samples hold cumulative counters, so `prune_samples` can thin old ones out
to one a minute and drop those past the retention without changing any total.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fustgo.engine.runner import Runner, RunObserver
from fustgo.engine.stats import ProgressSnapshot, RunSummary
from fustgo.server.runs import ActiveRun
from fustgo.store.db import Store
from fustgo.store.tables import MetricSampleRow, utc_now

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MetricsSettings:
    """How often samples are taken and how long they are kept."""

    every_seconds: float = 1.0
    """At most one sample per run this often (the runner's progress interval is 1 s)."""
    full_resolution: timedelta = timedelta(hours=1)
    """Samples younger than this are all kept; older ones are thinned to one per
    `thinned_resolution` (per run)."""
    thinned_resolution: timedelta = timedelta(minutes=1)
    retention: timedelta = timedelta(days=7)
    """Samples older than this are deleted."""


@dataclass(frozen=True)
class _Work:
    """What the runner did so far beyond its snapshot: batches and the time spent on them."""

    batches: float
    seconds: float


def _work_of(runner: Runner | None) -> _Work:
    """Processing and writing so far, read from the runner's stage counters.

    The runner counts, per stage, the records that came in and the seconds spent; a batch
    is `settings.batch_size` records, so time per batch is seconds over records × size.
    """
    if runner is None:
        return _Work(0.0, 0.0)
    output = runner._output_stage  # the runner keeps no public per-stage view while running
    stages = [stage.summary for stage in runner._stages]
    batch_size = max(runner.settings.batch_size, 1)
    seconds = output.seconds + sum(stage.seconds for stage in stages)
    return _Work(output.records_in / batch_size, seconds)


class SampleRecorder(RunObserver):
    """Writes samples of one run (see the module doc)."""

    def __init__(self, store: Store, active: ActiveRun, settings: MetricsSettings) -> None:
        self.store = store
        self.active = active
        self.settings = settings
        self.progress_interval_seconds = min(1.0, settings.every_seconds)
        self._last_written = -math.inf
        self._pending: set[asyncio.Task[None]] = set()

    def on_progress(self, snapshot: ProgressSnapshot) -> None:
        now = time.monotonic()
        if now - self._last_written < self.settings.every_seconds:
            return
        self._last_written = now
        self._write(self._row(snapshot, final=False))

    def on_finish(self, summary: RunSummary) -> None:
        self._write(self._row(summary, final=True))

    def _row(self, counts: ProgressSnapshot | RunSummary, *, final: bool) -> MetricSampleRow:
        """A sample of `counts`: a progress snapshot, or the summary of the finished run."""
        work = _work_of(self.active.runner)
        return MetricSampleRow(
            job_id=self.active.job_id,
            execution_id=self.active.execution_id,
            recorded_at=utc_now(),
            elapsed_seconds=counts.elapsed_seconds,
            records_read=counts.records_read,
            records_written=counts.records_written,
            records_filtered=counts.records_filtered,
            records_failed=counts.records_failed,
            bytes_read=counts.bytes_read,
            batches=work.batches,
            batch_seconds=work.seconds,
            final=final,
        )

    def _write(self, row: MetricSampleRow) -> None:
        task = asyncio.get_running_loop().create_task(asyncio.to_thread(self._insert, row))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _insert(self, row: MetricSampleRow) -> None:
        try:
            with self.store.session() as session:
                session.add(row)
        except Exception:  # a lost sample is a gap in a chart, never a failed run
            log.warning(
                "Could not record a metrics sample of job %s.", self.active.job_id, exc_info=True
            )


def recorder_factory(
    store: Store, settings: MetricsSettings | None = None
) -> Callable[[ActiveRun], RunObserver]:
    """What `RunManager.observers` takes: a recorder for each run that starts."""
    chosen = settings or MetricsSettings()
    return lambda active: SampleRecorder(store, active, chosen)


def prune_samples(session: Session, now: datetime, settings: MetricsSettings) -> int:
    """Delete samples past the retention and thin out older ones; returns how many went.

    Thinning keeps, per run, the last sample of each `thinned_resolution` slot (and every
    final one): counters are cumulative, so rates over the kept ones stay right."""
    removed = session.execute(
        delete(MetricSampleRow).where(MetricSampleRow.recorded_at < now - settings.retention)
    ).rowcount
    rows = session.execute(
        select(
            MetricSampleRow.sample_id,
            MetricSampleRow.execution_id,
            MetricSampleRow.recorded_at,
            MetricSampleRow.final,
        )
        .where(MetricSampleRow.recorded_at < now - settings.full_resolution)
        .order_by(MetricSampleRow.execution_id, MetricSampleRow.recorded_at)
    ).all()
    slot_seconds = settings.thinned_resolution.total_seconds()
    kept: dict[tuple[str, int], int] = {}
    doomed: list[int] = []
    for sample_id, execution_id, recorded_at, final in rows:
        key = (execution_id, int(recorded_at.timestamp() // slot_seconds))
        previous = kept.get(key)
        if previous is not None:
            doomed.append(previous)
        kept[key] = sample_id
        if final:  # a final sample stays; the slot starts over after it
            kept.pop(key)
    for start in range(0, len(doomed), 500):
        chunk = doomed[start : start + 500]
        session.execute(delete(MetricSampleRow).where(MetricSampleRow.sample_id.in_(chunk)))
    return int(removed or 0) + len(doomed)
