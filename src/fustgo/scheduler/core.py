"""The scheduler (design doc §5.4): decides when jobs run; the worker pool runs them.

Each `tick` (every `scheduler.tick_seconds`, or called by tests with their own clock):
- cron and one-shot (`run_at`) schedules: the due times since the job's `last_due_at`
  (stored, so a restart knows what it missed) fire one run; due times that passed while
  the server was down follow `missed_runs` (`run_once`: one run now; `skip`: none);
- runs going on longer than `timeout_seconds` are stopped (drain, checkpoint) and recorded
  `timed_out`;
- retries whose delay is over fire (`retry_policy`: `max_retries`, `delay_seconds`);
- once a day, executions older than `db.execution_retention_days` are purged.
When a run ends (the pool tells `on_run_ended`): a failed or timed-out run schedules its
retry; a success fires the jobs that depend on it (`depends_on`) whose upstreams have all
succeeded since they last ran; a run waiting for it (`overlap: serial` or `cancel`) starts.
Webhooks (`POST /api/v1/triggers/{token}`) fire through `trigger`.

A run due while the job's previous one still goes on follows `overlap`: `serial` (wait for
it; at most one waits), `discard` (dropped), `cancel` (the old one is stopped, then the new
one runs from its checkpoint). Paused, draft or disabled jobs are not started: the due
time is passed over and logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from fustgo.engine.errors import FustgoError
from fustgo.scheduler.cron import due_times
from fustgo.scheduler.protocol import RunEnded, Runs
from fustgo.scheduler.settings import MissedRuns, Overlap, Scheduling, read_scheduling
from fustgo.store.db import Store
from fustgo.store.errors import is_store_unavailable
from fustgo.store.lifecycle import JobStatus
from fustgo.store.repositories import executions, schedules
from fustgo.store.tables import ExecutionRow, JobRow, utc_now

log = logging.getLogger(__name__)

PURGE_INTERVAL = timedelta(days=1)
RETRIED_STATUSES = frozenset({"failed", "timed_out"})
"""Run ends that `retry_policy` retries (not `error_limit_exceeded`: the data is at fault)."""


@dataclass(frozen=True)
class Fire:
    """A run the scheduler wants."""

    job_id: str
    trigger: str
    """`cron`, `run_at`, `missed`, `dependency`, `webhook` or `retry`."""
    attempt: int = 0


@dataclass(frozen=True)
class FireResult:
    """What became of a `Fire`: `started` (queued in the pool), `waiting` (behind the
    job's run going on), `discarded`, `replacing` (the old run is being cancelled) or
    `skipped` (the job is paused, a draft or disabled)."""

    outcome: str
    execution_id: str | None = None
    message: str | None = None


@dataclass
class _Job:
    job_id: str
    name: str
    status: str
    enabled: bool
    scheduling: Scheduling
    retry_policy: dict[str, Any] | None
    last_due_at: datetime | None


class Scheduler:
    """Fires runs of the jobs of one store into a pool (`Runs`) by their `scheduling`."""

    def __init__(
        self,
        store: Store,
        runs: Runs,
        *,
        now: Callable[[], datetime] = utc_now,
        retention_days: int = 30,
        tick_seconds: float = 1.0,
    ) -> None:
        self.store = store
        self.runs = runs
        self.now = now
        self.retention_days = retention_days
        self.tick_seconds = tick_seconds
        self.started_at: datetime | None = None
        """When this scheduler first ticked: due times before it were missed."""
        self.waiting: dict[str, Fire] = {}
        """Runs waiting for the job's run going on (`overlap: serial` / `cancel`)."""
        self.retries: dict[str, tuple[datetime, Fire]] = {}
        """The next retry of each job, and when it is due."""
        self.last_purge: datetime | None = None
        self._task: asyncio.Task[None] | None = None
        runs.add_listener(self.on_run_ended)

    # running

    def start(self) -> None:
        """Tick in the background until `close`."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="scheduler")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_store_unavailable(exc):  # an outage, no bug: one line, no traceback
                    log.warning("The scheduler's tick failed (%s); it tries again.", exc)
                else:
                    log.exception("The scheduler's tick failed; it tries again.")
            await asyncio.sleep(self.tick_seconds)

    async def tick(self) -> list[tuple[Fire, FireResult]]:
        """Fire what is due now; returns what was fired and what became of it."""
        now = self.now()
        if self.started_at is None:
            self.started_at = now
        fired: list[tuple[Fire, FireResult]] = []
        for fire in await asyncio.to_thread(self._due_fires, now):
            fired.append((fire, await self.fire(fire)))
        for job_id, (due, fire) in list(self.retries.items()):
            if due <= now:
                del self.retries[job_id]
                fired.append((fire, await self.fire(fire)))
        await self._time_out(now)
        if self.last_purge is None or now - self.last_purge >= PURGE_INTERVAL:
            self.last_purge = now
            purged = await asyncio.to_thread(self._purge, now)
            if purged:
                log.info("Purged %d execution(s) older than %d days.", purged, self.retention_days)
        return fired

    # firing

    async def trigger(self, token: str) -> tuple[str, FireResult] | None:
        """A webhook call: the job of `token` fires; None when no job has that token."""

        def find() -> str | None:
            with self.store.session() as session:
                state = schedules.by_token(session, token)
                return state.job_id if state is not None else None

        job_id = await asyncio.to_thread(find)
        if job_id is None:
            return None
        return job_id, await self.fire(Fire(job_id, "webhook"))

    async def fire(self, fire: Fire) -> FireResult:
        """Start a run of the job, or wait, discard or replace per its `overlap`."""
        job = await asyncio.to_thread(self._load, fire.job_id)
        if job is None:
            return FireResult("skipped", message="The job no longer exists.")
        if not job.enabled or job.status in (JobStatus.draft, JobStatus.paused):
            why = "disabled" if not job.enabled else f"`{job.status}`"
            log.info("Job %s is %s: its %s run is passed over.", job.name, why, fire.trigger)
            return FireResult("skipped", message=f"Job `{job.name}` is {why}.")
        if fire.job_id in self.runs.active or job.status == JobStatus.running:
            overlap = job.scheduling.overlap
            if overlap == Overlap.discard:
                log.info("Job %s still runs: its %s run is discarded.", job.name, fire.trigger)
                return FireResult("discarded", message=f"Job `{job.name}` still runs.")
            self.waiting[fire.job_id] = fire
            if overlap == Overlap.cancel:
                await self.runs.cancel(
                    fire.job_id, f"replaced by a newer {fire.trigger} run (overlap: cancel)"
                )
                return FireResult("replacing", message="The run going on is being stopped.")
            return FireResult("waiting", message="It starts when the run going on ends.")
        return await self._start(fire)

    async def _start(self, fire: Fire) -> FireResult:
        try:
            started: Any = await self.runs.start(
                fire.job_id, trigger=fire.trigger, attempt=fire.attempt
            )
        except FustgoError as exc:  # the state machine or the config refused it
            log.warning("Job %s could not start (%s): %s", fire.job_id, fire.trigger, exc)
            return FireResult("skipped", message=str(exc))
        return FireResult("started", execution_id=getattr(started, "execution_id", None))

    async def on_run_ended(self, ended: RunEnded) -> None:
        """Retries, dependent jobs, and the run waiting for this one."""
        job = await asyncio.to_thread(self._load, ended.job_id)
        if job is not None and ended.status in RETRIED_STATUSES:
            policy = job.retry_policy or {}
            if ended.attempt < int(policy.get("max_retries", 0)):
                delay = timedelta(seconds=float(policy.get("delay_seconds", 60.0)))
                due = self.now() + delay
                self.retries[ended.job_id] = (due, Fire(ended.job_id, "retry", ended.attempt + 1))
                log.info(
                    "Job %s %s; retry %d at %s.",
                    job.name, ended.status, ended.attempt + 1, due.isoformat(),
                )  # fmt: skip
        elif ended.status == "succeeded":
            self.retries.pop(ended.job_id, None)
            for downstream in await asyncio.to_thread(self._ready_downstream, ended.job_id):
                await self.fire(Fire(downstream, "dependency"))
        if ended.status != "paused":
            waiting = self.waiting.pop(ended.job_id, None)
            if waiting is not None:
                await self.fire(waiting)

    async def _time_out(self, now: datetime) -> None:
        running = [
            run for run in self.runs.active.values()
            if run.state == "running" and run.started_at is not None
        ]  # fmt: skip
        if not running:
            return
        limits = await asyncio.to_thread(self._timeouts, [run.job_id for run in running])
        for run in running:
            limit = limits.get(run.job_id)
            assert run.started_at is not None
            if limit is not None and now - run.started_at >= timedelta(seconds=limit):
                await self.runs.time_out(
                    run.job_id, f"the run went on {limit:g} s (scheduling.timeout_seconds)"
                )

    # the store

    def _jobs(self) -> list[_Job]:
        with self.store.session() as session:
            states = schedules.all_states(session)
            rows = session.scalars(select(JobRow).where(JobRow.scheduling_config.is_not(None)))
            return [self._job(row, states.get(row.job_id)) for row in rows]

    def _load(self, job_id: str) -> _Job | None:
        with self.store.session() as session:
            row = session.get(JobRow, job_id)
            if row is None:
                return None
            return self._job(row, schedules.get_state(session, job_id))

    @staticmethod
    def _job(row: JobRow, state: Any) -> _Job:
        return _Job(
            job_id=row.job_id,
            name=row.job_name,
            status=row.status,
            enabled=row.enabled,
            scheduling=read_scheduling(row.scheduling_config),
            retry_policy=row.retry_policy,
            last_due_at=state.last_due_at if state is not None else None,
        )

    def _due_fires(self, now: datetime) -> list[Fire]:
        """Cron and one-shot runs due now, and missed ones; moves each `last_due_at` on."""
        assert self.started_at is not None
        fires: list[Fire] = []
        for job in self._jobs():
            scheduling = job.scheduling
            if scheduling.cron is None and scheduling.run_at is None:
                continue
            if job.last_due_at is None:  # saved before the scheduler knew it: count from now
                with self.store.session() as session:
                    schedules.ensure_state(session, job.job_id, last_due_at=now)
                continue
            due = due_times(scheduling, job.last_due_at, now)
            if not due:
                continue
            with self.store.session() as session:
                schedules.set_last_due(session, job.job_id, due[-1])
            missed = [time for time in due if time < self.started_at]
            if len(missed) < len(due):
                kind = "cron" if scheduling.cron is not None else "run_at"
                fires.append(Fire(job.job_id, kind))
            elif scheduling.missed_runs == MissedRuns.run_once:
                log.info(
                    "Job %s missed %d run(s) while the server was down; it runs once now.",
                    job.name, len(missed),
                )  # fmt: skip
                fires.append(Fire(job.job_id, "missed"))
            else:
                log.info(
                    "Job %s missed %d run(s) while the server was down; skipped "
                    "(scheduling.missed_runs: skip).",
                    job.name, len(missed),
                )  # fmt: skip
        return fires

    def _ready_downstream(self, upstream_id: str) -> list[str]:
        """Jobs depending on `upstream_id` whose upstreams all succeeded since they ran."""
        ready: list[str] = []
        with self.store.session() as session:
            for job in self._jobs():
                upstreams = job.scheduling.depends_on
                if upstream_id not in upstreams:
                    continue
                last_own = _latest(session, job.job_id)
                since = last_own.start_time if last_own is not None else None
                if all(_succeeded_since(session, up, since) for up in upstreams):
                    ready.append(job.job_id)
        return ready

    def _timeouts(self, job_ids: list[str]) -> dict[str, float]:
        with self.store.session() as session:
            rows = session.scalars(select(JobRow).where(JobRow.job_id.in_(job_ids)))
            limits = {
                row.job_id: read_scheduling(row.scheduling_config).timeout_seconds for row in rows
            }
        return {job_id: limit for job_id, limit in limits.items() if limit is not None}

    def _purge(self, now: datetime) -> int:
        with self.store.session() as session:
            return executions.purge_executions(
                session, older_than_days=self.retention_days, now=now
            )


def _latest(session: Any, job_id: str) -> ExecutionRow | None:
    return session.scalars(
        select(ExecutionRow)
        .where(ExecutionRow.job_id == job_id)
        .order_by(ExecutionRow.start_time.desc())
        .limit(1)
    ).first()


def _succeeded_since(session: Any, job_id: str, since: datetime | None) -> bool:
    latest = _latest(session, job_id)
    if latest is None or latest.status != "succeeded":
        return False
    return since is None or (latest.end_time is not None and latest.end_time > since)
