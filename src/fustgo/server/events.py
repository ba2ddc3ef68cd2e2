"""Live events of runs (design doc §7.2): a small pub/sub hub, and what a run publishes.

`EventHub` fans events out to subscriptions (one per WebSocket) by job, or to every job
(`*`). Publishing is safe from any thread (log records come from `asyncio.to_thread`
workers too) and never blocks a run: each subscription has a bounded queue; when a slow
client lets it fill, the oldest events go and the client is told how many it missed
(the logs stay on disk, and the store has the statuses).

`RunEvents` is what `RunManager` calls: `begin` in the run's task opens the run's log
(`server/logs.py`) and says `job_status: running`; `observer` turns the runner's progress
into `job_progress` and `metric_update`; `requested` reports a pause or stop asked
through the API; `end` reports the final status once the store has it.

Every event: `{"type", "job_id", "execution_id", "timestamp", "data"}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fustgo.engine.runner import RunObserver
from fustgo.engine.stats import ProgressSnapshot, RunSummary
from fustgo.server.logs import LOGS_DIR, Entry, ExecutionLog, LogStore
from fustgo.store.db import Store
from fustgo.store.tables import JobRow

if TYPE_CHECKING:
    from fustgo.server.runs import ActiveRun

log = logging.getLogger(__name__)

ALL_JOBS = "*"
"""Subscribing to this gets the events of every job."""
QUEUE_LIMIT = 1000
"""Events waiting for one client; beyond this the oldest are dropped (and counted)."""
PROGRESS_INTERVAL_SECONDS = 1.0

Event = dict[str, Any]


def make_event(kind: str, job_id: str, execution_id: str | None, data: dict[str, Any]) -> Event:
    return {
        "type": kind,
        "job_id": job_id,
        "execution_id": execution_id,
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "data": data,
    }


@dataclass(eq=False)
class Subscription:
    """One client's jobs and the events waiting for it."""

    jobs: set[str] = field(default_factory=set)
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    dropped: int = 0
    """Events dropped since the client was last told."""

    def wants(self, job_id: str) -> bool:
        return job_id in self.jobs or ALL_JOBS in self.jobs

    def offer(self, event: Event) -> None:
        if not self.wants(event["job_id"]):
            return
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)


class EventHub:
    """Subscriptions and the events published to them (on the server's event loop)."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def open(self) -> Subscription:
        """A new subscription (call from the event loop)."""
        self._loop = asyncio.get_running_loop()
        subscription = Subscription()
        self._subscriptions.add(subscription)
        return subscription

    def close(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def publish(self, event: Event) -> None:
        """Hand an event to the subscriptions that want it; safe from any thread."""
        if not self._subscriptions:
            return  # nobody listens
        loop = self._loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._deliver(event)
        elif loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._deliver, event)

    def _deliver(self, event: Event) -> None:
        for subscription in list(self._subscriptions):
            subscription.offer(event)


class RunEvents:
    """What runs tell WebSocket subscribers, and each run's log on disk."""

    def __init__(
        self,
        logs: LogStore,
        store: Store,
        hub: EventHub | None = None,
        *,
        progress_interval_seconds: float = PROGRESS_INTERVAL_SECONDS,
    ) -> None:
        self.logs = logs
        self.store = store
        self.hub = hub or EventHub()
        self.progress_interval_seconds = progress_interval_seconds
        self._open: dict[str, ExecutionLog] = {}

    @classmethod
    def in_folder(cls, base_dir: Path, store: Store, *, worker_id: str | None = None) -> RunEvents:
        """Logs in `<base_dir>/.fustgo/logs`, purged of days past retention at once."""
        logs = LogStore(base_dir / LOGS_DIR, worker_id=worker_id)
        try:
            logs.purge()
        except OSError as exc:
            log.warning("Could not purge old run logs in %s: %s", logs.directory, exc)
        return cls(logs, store)

    def begin(self, job_id: str, execution_id: str, *, trigger: str = "start") -> None:
        """In the run's task, before anything else: its records go to its log from now."""

        def on_entry(entry: Entry) -> None:
            self.hub.publish(make_event("log_entry", job_id, execution_id, entry))

        run_log = self.logs.open(job_id, execution_id, on_entry=on_entry)
        self._open[execution_id] = run_log
        run_log.activate()
        self.status(job_id, execution_id, "running", execution_status="running")
        log.info("The run starts (execution %s, trigger `%s`).", execution_id, trigger)

    def observer(self, active: ActiveRun) -> RunObserver:
        """Progress and metrics of a run as events (a `RunManager.observers` factory)."""
        return _LiveObserver(self, active.job_id, active.execution_id)

    def status(
        self, job_id: str, execution_id: str | None, status: str | None, **data: Any
    ) -> None:
        self.hub.publish(make_event("job_status", job_id, execution_id, {"status": status, **data}))

    def requested(self, job_id: str, execution_id: str | None, status: str) -> None:
        """A pause or stop asked through the API: the job's status changed, its run drains."""
        run_log = self._open.get(execution_id) if execution_id else None
        if run_log is not None:
            with run_log.active():
                log.warning(
                    "The job is %s through the API: the run stops reading, writes what it "
                    "read and saves its checkpoint.",
                    status,
                )
        self.status(job_id, execution_id, status, execution_status="running" if run_log else None)

    async def end(
        self,
        job_id: str,
        execution_id: str,
        execution_status: str,
        summary: RunSummary | None,
        error: str | None,
    ) -> None:
        """After the store recorded the run: its log closes, and the final `job_status`
        (the job's status as the store has it now) goes out."""
        run_log = self._open.pop(execution_id, None)
        if run_log is not None:
            run_log.close()
        try:
            status = await asyncio.to_thread(self._job_status, job_id)
        except Exception as exc:  # the store is down: the status is unknown
            log.warning("Could not read the status of job %s after its run: %s", job_id, exc)
            status = None
        counts: dict[str, Any] = {}
        if summary is not None:
            counts = {
                "records_read": summary.records_read,
                "records_written": summary.records_written,
                "records_filtered": summary.records_filtered,
                "records_failed": summary.records_failed,
                "bytes_read": summary.bytes_read,
                "duration_seconds": round(summary.ended_at - summary.started_at, 3),
            }
        self.status(
            job_id, execution_id, status, execution_status=execution_status, error=error,
            **counts,
        )  # fmt: skip

    def _job_status(self, job_id: str) -> str | None:
        with self.store.session() as session:
            row = session.get(JobRow, job_id)
            return str(row.status) if row is not None else None


class _LiveObserver(RunObserver):
    """The runner's start, progress and end as `job_progress` and `metric_update` events,
    with a line in the run's log at the start and the end."""

    def __init__(self, events: RunEvents, job_id: str, execution_id: str) -> None:
        self.events = events
        self.job_id = job_id
        self.execution_id = execution_id
        self.progress_interval_seconds = events.progress_interval_seconds
        self._last: ProgressSnapshot | None = None
        self._last_progress: ProgressSnapshot | None = None
        self._lock = threading.Lock()

    def on_start(self, snapshot: ProgressSnapshot) -> None:
        parts = [f"Reading {snapshot.splits_total} split(s)"]
        if snapshot.records_total:
            parts.append(f"{snapshot.records_total} records in all")
        if snapshot.resumed_records:
            parts.append(f"{snapshot.resumed_records} read before this run resumed")
        log.info("%s.", ", ".join(parts))
        self._progress(snapshot)

    def on_progress(self, snapshot: ProgressSnapshot) -> None:
        self._progress(snapshot)
        self._metrics(snapshot)

    def on_finish(self, summary: RunSummary) -> None:
        seconds = summary.ended_at - summary.started_at
        log.info(
            "The run %s after %.1f s: %d read, %d written, %d filtered, %d failed.",
            summary.status, seconds, summary.records_read, summary.records_written,
            summary.records_filtered, summary.records_failed,
        )  # fmt: skip
        data = {
            "elapsed_seconds": round(seconds, 3),
            "records_read": summary.records_read,
            "records_written": summary.records_written,
            "records_filtered": summary.records_filtered,
            "records_failed": summary.records_failed,
            "bytes_read": summary.bytes_read,
            "splits_done": summary.splits_done,
            "splits_total": summary.splits_total,
            # Final counts of the stages after the input (whose count is `records_read`).
            "stages": {
                stage.name: {
                    "records_in": stage.records_in,
                    "records_out": stage.records_out,
                    "records_failed": stage.records_failed,
                    "records_per_second": 0.0,
                }
                for stage in summary.stages
                if stage.name != "dead_letter"
            },
            "queues": {},
            "final": True,
        }
        self._publish("job_progress", data)

    def _progress(self, snapshot: ProgressSnapshot) -> None:
        data = dataclasses.asdict(snapshot)
        data["elapsed_seconds"] = round(snapshot.elapsed_seconds, 3)
        data["records_per_second"] = round(snapshot.records_per_second, 3)
        data["fraction_done"] = snapshot.fraction_done
        data["stages"] = self._stage_rates(snapshot)
        data["final"] = False
        self._publish("job_progress", data)

    def _stage_rates(self, snapshot: ProgressSnapshot) -> dict[str, dict[str, Any]]:
        """Each stage's counters and its rate in (records per second) since the last
        progress event: what flows on the edge into it now."""
        with self._lock:
            last, self._last_progress = self._last_progress, snapshot
        seconds = snapshot.elapsed_seconds - (last.elapsed_seconds if last else 0.0)
        stages = {}
        for path, stage in snapshot.stages.items():
            before = last.stages.get(path) if last else None
            moved = stage.records_in - (before.records_in if before else 0)
            stages[path] = {
                "records_in": stage.records_in,
                "records_out": stage.records_out,
                "records_failed": stage.records_failed,
                "records_per_second": round(moved / seconds, 3) if seconds > 0 else 0.0,
            }
        return stages

    def _metrics(self, snapshot: ProgressSnapshot) -> None:
        """Rates over the last interval (the progress has the run's averages)."""
        with self._lock:
            last, self._last = self._last, snapshot
        seconds = snapshot.elapsed_seconds - (last.elapsed_seconds if last else 0.0)

        def rate(now: int, before: int) -> float:
            return round((now - before) / seconds, 3) if seconds > 0 else 0.0

        read_before = last.records_read if last else 0
        data = {
            "interval_seconds": round(seconds, 3),
            "records_per_second": rate(snapshot.records_read, read_before),
            "written_per_second": rate(
                snapshot.records_written, last.records_written if last else 0
            ),
            "bytes_per_second": rate(snapshot.bytes_read, last.bytes_read if last else 0),
            "records_failed": snapshot.records_failed,
            "error_rate": (
                round(snapshot.records_failed / snapshot.records_read, 6)
                if snapshot.records_read
                else 0.0
            ),
        }
        self._publish("metric_update", data)

    def _publish(self, kind: str, data: dict[str, Any]) -> None:
        self.events.hub.publish(make_event(kind, self.job_id, self.execution_id, data))
