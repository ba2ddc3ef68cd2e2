"""Live progress of a run: a rich bar on a terminal, a log line every few seconds elsewhere."""

from __future__ import annotations

import logging
import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from fustgo.engine.runner import RunObserver
from fustgo.engine.stats import ProgressSnapshot, RunSummary

log = logging.getLogger("fustgo.progress")


class TerminalProgress(RunObserver):
    """A live bar: records, records/s, failures, and the percentage when the total is known."""

    progress_interval_seconds = 0.25

    def __init__(self, console: Console, pipeline: str) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[records]:>14,} records"),
            TextColumn("{task.fields[rate]:>10,.0f} rec/s"),
            TextColumn("[red]{task.fields[failed]:,} failed"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None
        self._pipeline = pipeline

    def on_start(self, snapshot: ProgressSnapshot) -> None:
        self._progress.start()
        self._task = self._progress.add_task(
            self._pipeline, total=snapshot.records_total, records=0, rate=0.0, failed=0
        )
        self.on_progress(snapshot)

    def on_progress(self, snapshot: ProgressSnapshot) -> None:
        if self._task is None:
            return
        self._progress.update(
            self._task,
            completed=snapshot.records_read + snapshot.resumed_records,
            records=snapshot.records_read,
            rate=snapshot.records_per_second,
            failed=snapshot.records_failed,
        )

    def on_finish(self, summary: RunSummary) -> None:
        self._progress.stop()


class LogProgress(RunObserver):
    """For logs and pipes: one progress event at least every `interval_seconds`."""

    progress_interval_seconds = 1.0

    def __init__(self, interval_seconds: float) -> None:
        self._interval = interval_seconds
        self._last = 0.0

    def on_start(self, snapshot: ProgressSnapshot) -> None:
        self._last = time.monotonic()

    def on_progress(self, snapshot: ProgressSnapshot) -> None:
        now = time.monotonic()
        if now - self._last < self._interval:
            return
        self._last = now
        fraction = snapshot.fraction_done
        percent = f" ({fraction:.0%})" if fraction is not None else ""
        log.info(
            "Progress: %s records read%s, %s written, %s failed, %s records/s",
            f"{snapshot.records_read:,}", percent, f"{snapshot.records_written:,}",
            f"{snapshot.records_failed:,}", f"{snapshot.records_per_second:,.0f}",
            extra={"fields": {"event": "run.progress", **_run_counters(snapshot)}},
        )  # fmt: skip


def _run_counters(snapshot: ProgressSnapshot) -> dict[str, object]:
    """The run-level counters of a snapshot (its per-stage ones are for the console)."""
    return {k: v for k, v in snapshot.__dict__.items() if k not in ("stages", "queues")}
