"""Runs jobs inside the server process: one asyncio task per run, recorded as executions.

This is the standalone mode's executor until the worker pool (issue 6, item 9) takes the
same role behind a queue: `start` checks the state machine, validates the config again
(environment variables and plugin switches may have changed since it was saved), records
an execution and starts `run_pipeline` with the job's checkpoints in the metadata store.
When the run ends, its summary becomes the execution's counts and the job's next status.

Pause and stop both ask the runner to stop reading, drain what was read into the output,
flush and save the checkpoint (`Runner.request_stop`), so nothing read is lost; a paused
job `resume`s and a stopped one `start`s from that checkpoint. Pausing in place, with the
connections kept open, needs a pause in the runner and comes with the workers.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fustgo.config.models import PipelineSpec
from fustgo.engine.runner import Runner, RunObserver
from fustgo.engine.stats import ProgressSnapshot, RunSummary
from fustgo.runtime.execute import run_pipeline
from fustgo.server.configs import check_config
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


@dataclass
class ActiveRun:
    """A run in progress in this process."""

    job_id: str
    execution_id: str
    runner: Runner | None = None
    ending: str | None = None
    """`pause` or `stop` once one was requested."""
    task: asyncio.Task[None] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def request(self, ending: str, reason: str) -> None:
        self.ending = ending
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

    def __init__(self, store: Store, settings: ServerSettings) -> None:
        self.store = store
        self.settings = settings
        self.worker_id = f"{socket.gethostname()}/server"[:64]
        self.active: dict[str, ActiveRun] = {}
        self.observers: list[Callable[[ActiveRun], RunObserver]] = []
        """Each makes an observer for a run that starts (metrics samples, live updates)."""

    async def recover(self) -> None:
        """On start: runs the previous process left `running` are over; say so."""
        await asyncio.to_thread(self._recover)

    def _recover(self) -> None:
        with self.store.session() as session:
            orphans = executions.abandon_running(
                session, reason="The server stopped while this run was going on."
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

    async def start(self, job_id: str, *, action: str = "start") -> StartedRun:
        """Start (or resume) a run of the job; returns its execution."""
        previous = self.active.get(job_id)
        if previous is not None:
            status = await asyncio.to_thread(self._status, job_id)
            check(action, status, job=job_id)
            await previous.done.wait()  # a paused or stopped run still draining
        spec, execution_id = await asyncio.to_thread(self._begin, job_id, action)
        active = ActiveRun(job_id=job_id, execution_id=execution_id)
        self.active[job_id] = active
        active.task = asyncio.create_task(self._run(active, spec), name=f"job {job_id}")
        return StartedRun(job_id, execution_id, JobStatus.running)

    async def pause(self, job_id: str) -> str:
        return await self._end(job_id, "pause", JobStatus.paused, "paused through the API")

    async def resume(self, job_id: str) -> StartedRun:
        return await self.start(job_id, action="resume")

    async def stop(self, job_id: str) -> str:
        return await self._end(job_id, "stop", JobStatus.stopped, "stopped through the API")

    async def shutdown(self) -> None:
        """Stop every run (drain, flush, checkpoint) and wait for them, within a limit."""
        for active in list(self.active.values()):
            active.request("stop", "the server is shutting down")
        tasks = [active.task for active in self.active.values() if active.task is not None]
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_DRAIN_SECONDS)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)

    async def _end(self, job_id: str, action: str, status: JobStatus, reason: str) -> str:
        await asyncio.to_thread(self._transition, job_id, action, status)
        active = self.active.get(job_id)
        if active is not None:
            active.request(action, reason)
        return status

    def _status(self, job_id: str) -> str:
        with self.store.session() as session:
            return jobs.get_job(session, job_id).status

    def _transition(self, job_id: str, action: str, status: JobStatus) -> None:
        with self.store.session() as session:
            job = jobs.get_job(session, job_id, for_update=True)
            jobs.transition(session, job, action, status)

    def _begin(self, job_id: str, action: str) -> tuple[PipelineSpec, str]:
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
                session, job.job_id, trigger=action, worker_id=self.worker_id
            )
            return checked.pipeline, execution.execution_id

    async def _run(self, active: ActiveRun, spec: PipelineSpec) -> None:
        summary: RunSummary | None = None
        error: str | None = None

        def attach(runner: Runner) -> None:
            active.runner = runner
            if active.ending is not None:  # stopped before the runner existed
                runner.request_stop(f"{active.ending} requested")

        try:
            outcome = await run_pipeline(
                spec,
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
        finally:
            try:
                await asyncio.to_thread(self._record, active, summary, error)
            finally:
                self.active.pop(active.job_id, None)
                active.done.set()

    def _record(self, active: ActiveRun, summary: RunSummary | None, error: str | None) -> None:
        outcome = summary.status if summary is not None else "failed"
        if outcome == "interrupted":
            execution_status = "paused" if active.ending == "pause" else "stopped"
        else:
            execution_status = outcome
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
            elif outcome != "interrupted":
                jobs.transition(session, job, "finish", JobStatus.failed)
            elif job.status == JobStatus.running:  # stopped by the server, not by a request
                jobs.transition(session, job, "finish", JobStatus.stopped)
            job.updated_at = utc_now()
        log.info(
            "Job %s: execution %s ended %s.", active.job_id, active.execution_id, execution_status
        )


def _summary_json(summary: RunSummary | None) -> dict[str, Any] | None:
    if summary is None:
        return None
    import json

    return json.loads(json.dumps(summary.to_json(), default=str))
