"""Runs jobs inside the server process: a worker pool pulling from an in-memory priority
queue (design doc §5.5, standalone mode), each run recorded as an execution.

`start` checks the state machine, validates the config again (environment variables and
plugin switches may have changed since it was saved), records an execution (`queued`) and
puts the run in the queue; the job is `running` from then on. `max_concurrent_runs`
workers take runs from the queue, highest job `priority` first (first come, first served
among equals), mark the execution `running` and run `run_pipeline` with the job's
checkpoints in the metadata store. When a run ends, its summary becomes the execution's
counts and the job's next status, and the listeners (the scheduler) hear of it.

Stop asks the runner to stop reading, drain what was read into the output, flush and save
the checkpoint (`Runner.request_stop`), so nothing read is lost; a stopped job `start`s
from that checkpoint. Pause keeps the run: it stops reading (`Runner.pause`) while what was
read is written and checkpointed, and `resume` reads on. A run paused or stopped while
still queued leaves the queue at once. The scheduler stops runs the same way when
they time out (`timed_out`) or when a newer run replaces them (`cancelled`).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fustgo.config.models import PipelineSpec
from fustgo.engine.runner import Runner, RunObserver
from fustgo.engine.stats import ProgressSnapshot, RunSummary
from fustgo.runtime.execute import run_pipeline
from fustgo.scheduler.protocol import RunEnded, RunListener
from fustgo.server.configs import check_config
from fustgo.server.events import RunEvents
from fustgo.server.settings import ServerSettings
from fustgo.store.checkpoints import JobCheckpointStore
from fustgo.store.db import Store
from fustgo.store.errors import ConflictError
from fustgo.store.lifecycle import JobStatus, check
from fustgo.store.repositories import executions, jobs
from fustgo.store.tables import utc_now

log = logging.getLogger(__name__)

SHUTDOWN_DRAIN_SECONDS = 30.0
"""How long stopping the server waits for running jobs to drain and checkpoint."""

QUEUED = "queued"
RUNNING = "running"

ENDING_STATUS = {
    "pause": "paused",
    "stop": "stopped",
    "cancel": "cancelled",
    "timeout": "timed_out",
}
"""The execution status of a run that was asked to end, by what asked it."""


@dataclass
class ActiveRun:
    """A run of this process, queued or going on."""

    job_id: str
    execution_id: str
    priority: int = 0
    trigger: str = "api"
    attempt: int = 0
    state: str = QUEUED
    started_at: datetime | None = None
    """When a worker took it (by the pool's clock, for timeouts)."""
    spec: PipelineSpec | None = None
    runner: Runner | None = None
    ending: str | None = None
    """`pause`, `stop`, `cancel` or `timeout` once one was requested."""
    reason: str | None = None
    task: asyncio.Task[None] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def request(self, ending: str, reason: str) -> None:
        if self.ending is None:
            self.ending, self.reason = ending, reason
        if self.runner is not None:
            self.runner.request_stop(reason)


class FanOutObserver(RunObserver):
    """Hands the runner's events to several observers; one that fails is logged, not fatal
    (a metrics write must never stop a run)."""

    def __init__(self, observers: list[RunObserver]) -> None:
        self.observers = observers
        intervals = [o.progress_interval_seconds for o in observers]
        self.progress_interval_seconds = min(intervals, default=1.0)

    def _each(self, method: str, argument: object) -> None:
        for observer in self.observers:
            try:
                getattr(observer, method)(argument)
            except Exception:
                log.exception("Run observer %s failed in %s.", type(observer).__name__, method)

    def on_start(self, snapshot: ProgressSnapshot) -> None:
        self._each("on_start", snapshot)

    def on_progress(self, snapshot: ProgressSnapshot) -> None:
        self._each("on_progress", snapshot)

    def on_finish(self, summary: RunSummary) -> None:
        self._each("on_finish", summary)


@dataclass(frozen=True)
class StartedRun:
    job_id: str
    execution_id: str
    status: str


class RunManager:
    """The runs of this server; `start`/`pause`/`resume`/`stop` follow the state machine."""

    def __init__(
        self,
        store: Store,
        settings: ServerSettings,
        *,
        max_concurrent: int | None = None,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.settings = settings
        self.max_concurrent = max_concurrent or settings.scheduler.max_concurrent_runs
        self.now = now
        self.worker_id = f"{socket.gethostname()}/server"[:64]
        self.active: dict[str, ActiveRun] = {}
        self.observers: list[Callable[[ActiveRun], RunObserver]] = []
        """Each makes an observer for a run that starts (metrics samples, live updates)."""
        self.events = RunEvents.in_folder(settings.base_dir, store, worker_id=self.worker_id)
        """Live events for WebSocket clients, and each run's log on disk."""
        self.observers.append(self.events.observer)
        self._queue: list[tuple[int, int, ActiveRun]] = []
        self._order = itertools.count()
        self._ready: asyncio.Condition | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._listeners: list[RunListener] = []
        self._closing = False

    def add_listener(self, listener: RunListener) -> None:
        """`listener` is awaited after each run ended and was recorded."""
        self._listeners.append(listener)

    def status(self) -> dict[str, int]:
        """For `/health`: runs going on, waiting, and the pool's size."""
        return {
            "active": sum(1 for run in self.active.values() if run.state == RUNNING),
            "queued": len(self._queue),
            "max_concurrent": self.max_concurrent,
        }

    def queued_job_ids(self) -> list[str]:
        """The queue in the order workers will take it."""
        return [run.job_id for _p, _o, run in sorted(self._queue, key=lambda item: item[:2])]

    async def recover(self) -> None:
        """On start: runs the previous process left `running` are over; say so."""
        await asyncio.to_thread(self._recover)

    def _recover(self) -> None:
        with self.store.session() as session:
            orphans = executions.abandon_running(
                session, reason="The server stopped while this run was going on."
            )
            orphans += executions.abandon_running(
                session,
                reason="The server stopped while this run waited in the queue.",
                status=QUEUED,
            )
            for job_id in set(orphans):
                job = jobs.get_job(session, job_id)
                if job.status == JobStatus.running:
                    jobs.transition(session, job, "finish", JobStatus.stopped)
        if orphans:
            log.warning(
                "%d run(s) were going on when the server last stopped; their jobs are "
                "`stopped` and resume from their checkpoints when started.",
                len(orphans),
            )

    async def start(
        self, job_id: str, *, action: str = "start", trigger: str | None = None, attempt: int = 0
    ) -> StartedRun:
        """Queue a run (or a resume) of the job; returns its execution."""
        if self._closing:
            raise ConflictError(
                "The server is shutting down; no run starts now.",
                hint="Start the job again once the server is back.",
            )
        previous = self.active.get(job_id)
        if previous is not None:
            status = await asyncio.to_thread(self._status, job_id)
            check(action, status, job=job_id)
            await previous.done.wait()  # a paused or stopped run still draining
        spec, execution_id, priority = await asyncio.to_thread(
            self._begin, job_id, action, trigger or action
        )
        active = ActiveRun(
            job_id=job_id,
            execution_id=execution_id,
            priority=priority,
            trigger=trigger or action,
            attempt=attempt,
            spec=spec,
        )
        self.active[job_id] = active
        await self._enqueue(active)
        return StartedRun(job_id, execution_id, JobStatus.running)

    async def pause(self, job_id: str) -> str:
        """A running run stops reading and keeps what it read written and checkpointed
        (`Runner.pause`); a queued one leaves the queue."""
        active = self.active.get(job_id)
        runner = active.runner if active is not None else None
        if active is None or runner is None or active.ending is not None:
            return await self._end(job_id, "pause", JobStatus.paused, "paused through the API")
        await asyncio.to_thread(self._transition, job_id, "pause", JobStatus.paused)
        runner.pause()
        self.events.requested(job_id, active.execution_id, JobStatus.paused)
        return JobStatus.paused

    async def resume(self, job_id: str) -> StartedRun:
        """A paused run reads on where it stopped; otherwise a new run resumes from the
        job's checkpoint."""
        active = self.active.get(job_id)
        runner = active.runner if active is not None else None
        if active is not None and runner is not None and runner.paused and not runner.stopping:
            await asyncio.to_thread(self._transition, job_id, "resume", JobStatus.running)
            runner.resume()
            self.events.requested(job_id, active.execution_id, JobStatus.running)
            return StartedRun(job_id, active.execution_id, JobStatus.running)
        return await self.start(job_id, action="resume")

    async def stop(self, job_id: str) -> str:
        return await self._end(job_id, "stop", JobStatus.stopped, "stopped through the API")

    async def cancel(self, job_id: str, reason: str) -> None:
        """Stop the job's run (drain, checkpoint) because a newer one replaces it."""
        await self._end(job_id, "stop", JobStatus.stopped, reason, ending="cancel")

    async def time_out(self, job_id: str, reason: str) -> None:
        """Stop the job's run (drain, checkpoint); it is recorded `timed_out`, the job
        `failed`."""
        active = self.active.get(job_id)
        if active is not None and active.ending is None:
            await self._request(active, "timeout", reason)

    async def shutdown(self) -> None:
        """Stop every run (drain, flush, checkpoint) and wait for them, within a limit."""
        self._closing = True
        for active in list(self.active.values()):
            await self._request(active, "stop", "the server is shutting down")
        tasks = [active.task for active in self.active.values() if active.task is not None]
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_DRAIN_SECONDS)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        for worker in self._workers:
            worker.cancel()
        if self._workers:
            await asyncio.wait(self._workers)
        self._workers.clear()

    # the queue and its workers

    async def _enqueue(self, active: ActiveRun) -> None:
        ready = self._condition()
        self._ensure_workers()
        async with ready:
            heapq.heappush(self._queue, (-active.priority, next(self._order), active))
            ready.notify()

    def _condition(self) -> asyncio.Condition:
        if self._ready is None:
            self._ready = asyncio.Condition()
        return self._ready

    def _ensure_workers(self) -> None:
        self._workers = [worker for worker in self._workers if not worker.done()]
        while len(self._workers) < self.max_concurrent:
            number = len(self._workers) + 1
            self._workers.append(asyncio.create_task(self._work(), name=f"worker {number}"))

    async def _work(self) -> None:
        ready = self._condition()
        while True:
            async with ready:
                await ready.wait_for(lambda: bool(self._queue))
                _priority, _order, active = heapq.heappop(self._queue)
            active.state = RUNNING
            active.started_at = self.now()
            active.task = asyncio.create_task(self._run(active), name=f"job {active.job_id}")
            try:
                await active.task
            except asyncio.CancelledError:
                raise
            except Exception:  # recording failed (the store is down): keep the worker
                log.exception("Worker could not finish the run of job %s.", active.job_id)

    async def _request(self, active: ActiveRun, ending: str, reason: str) -> None:
        """Ask a run to end: a running one drains; a queued one leaves the queue now."""
        active.request(ending, reason)
        if active.state != QUEUED:
            return
        ready = self._condition()
        async with ready:
            entries = [entry for entry in self._queue if entry[2] is not active]
            if len(entries) == len(self._queue):
                return  # a worker took it meanwhile: it sees `ending` and stops at once
            self._queue = entries
            heapq.heapify(self._queue)
        await self._finish(active, None, None, interrupted=True)

    async def _end(
        self, job_id: str, action: str, status: JobStatus, reason: str, *, ending: str | None = None
    ) -> str:
        await asyncio.to_thread(self._transition, job_id, action, status)
        active = self.active.get(job_id)
        self.events.requested(job_id, active.execution_id if active else None, status)
        if active is not None:
            await self._request(active, ending or action, reason)
        return status

    def _status(self, job_id: str) -> str:
        with self.store.session() as session:
            return jobs.get_job(session, job_id).status

    def _transition(self, job_id: str, action: str, status: JobStatus) -> None:
        with self.store.session() as session:
            job = jobs.get_job(session, job_id, for_update=True)
            jobs.transition(session, job, action, status)

    def _begin(self, job_id: str, action: str, trigger: str) -> tuple[PipelineSpec, str, int]:
        with self.store.session() as session:
            job = jobs.get_job(session, job_id, for_update=True)
            check(action, job.status, job=job.job_name)
            if not job.enabled:
                raise ConflictError(
                    f"Job `{job.job_name}` is disabled.",
                    field="enabled",
                    hint="Enable it first (PUT the job with `enabled: true`).",
                )
            checked = check_config(job.config_yaml, self.settings)
            if checked.pipeline is None:
                errors = checked.report.errors
                first = errors[0].message if errors else "it has errors"
                raise ConflictError(
                    f"Cannot {action} job `{job.job_name}`: its config is no longer valid "
                    f"({len(errors)} error(s); first: {first}).",
                    field="config_yaml",
                    hint="POST /api/v1/validate shows every diagnostic; PUT the job to fix it.",
                )
            jobs.transition(session, job, action, JobStatus.running)
            execution = executions.start_execution(
                session, job.job_id, trigger=trigger, worker_id=self.worker_id
            )
            execution.status = QUEUED
            return checked.pipeline, execution.execution_id, job.priority

    def _mark_running(self, execution_id: str) -> None:
        with self.store.session() as session:
            execution = executions.get_execution(session, execution_id)
            execution.status = RUNNING
            execution.start_time = utc_now()

    async def _run(self, active: ActiveRun) -> None:
        summary: RunSummary | None = None
        error: str | None = None
        if active.ending is not None:  # asked to end as a worker took it
            await self._finish(active, None, None, interrupted=True)
            return

        def attach(runner: Runner) -> None:
            active.runner = runner
            if active.ending is not None:  # stopped before the runner existed
                runner.request_stop(active.reason or f"{active.ending} requested")

        assert active.spec is not None
        self.events.begin(active.job_id, active.execution_id, trigger=active.trigger)
        try:
            await asyncio.to_thread(self._mark_running, active.execution_id)
            outcome = await run_pipeline(
                active.spec,
                handle_signals=False,
                registry=self.settings.registry,
                checkpoint_store=JobCheckpointStore(self.store, active.job_id),
                on_runner=attach,
                observer=FanOutObserver([make(active) for make in self.observers]),
            )
            summary = outcome.summary
            error = summary.error
        except asyncio.CancelledError:
            error = "The run was cancelled before it could drain (the server shut down)."
        except Exception as exc:  # a plugin that cannot even be built: the run failed
            log.exception("Job %s could not run.", active.job_id)
            error = f"{type(exc).__name__}: {exc}"
        await self._finish(active, summary, error, interrupted=False)

    async def _finish(
        self,
        active: ActiveRun,
        summary: RunSummary | None,
        error: str | None,
        *,
        interrupted: bool,
    ) -> None:
        status = "failed"
        try:
            status = await asyncio.shield(
                asyncio.to_thread(self._record, active, summary, error, interrupted)
            )
        finally:
            if self.active.get(active.job_id) is active:
                self.active.pop(active.job_id, None)
            active.done.set()
            await self.events.end(active.job_id, active.execution_id, status, summary, error)
        ended = RunEnded(active.job_id, active.execution_id, status, active.trigger, active.attempt)
        for listener in self._listeners:
            try:
                await listener(ended)
            except Exception:
                log.exception("A listener of run ends failed on job %s.", active.job_id)

    def _record(
        self,
        active: ActiveRun,
        summary: RunSummary | None,
        error: str | None,
        interrupted: bool,
    ) -> str:
        outcome = summary.status if summary is not None else "failed"
        if interrupted:
            outcome = "interrupted"
        if outcome == "interrupted":
            execution_status = ENDING_STATUS.get(active.ending or "stop", "stopped")
        else:
            execution_status = outcome
        if execution_status == "timed_out":
            error = f"Timed out: {active.reason}" if active.reason else "Timed out."
        with self.store.session() as session:
            executions.finish_execution(
                session,
                active.execution_id,
                status=execution_status,
                summary=_summary_json(summary),
                error=error,
            )
            job = jobs.get_job(session, active.job_id, for_update=True)
            if outcome == "succeeded":
                jobs.transition(session, job, "finish", JobStatus.succeeded)
            elif outcome != "interrupted" or execution_status == "timed_out":
                jobs.transition(session, job, "finish", JobStatus.failed)
            elif job.status == JobStatus.running:  # stopped by the server, not by a request
                jobs.transition(session, job, "finish", JobStatus.stopped)
            job.updated_at = utc_now()
        log.info(
            "Job %s: execution %s ended %s.", active.job_id, active.execution_id, execution_status
        )
        return execution_status


def _summary_json(summary: RunSummary | None) -> dict[str, Any] | None:
    if summary is None:
        return None
    return json.loads(json.dumps(summary.to_json(), default=str))
