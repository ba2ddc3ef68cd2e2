"""`/api/v1/jobs/{id}/schedule`: a job's schedule as the scheduler sees it: the next due
times (a preview of N), its dependencies both ways, its webhook trigger URL, what waits."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from fustgo.scheduler.core import Scheduler
from fustgo.scheduler.cron import next_times
from fustgo.scheduler.graph import dependency_edges
from fustgo.scheduler.settings import Scheduling, read_scheduling
from fustgo.server.deps import ServerState
from fustgo.server.errors import ERROR_RESPONSES
from fustgo.store.repositories import jobs, schedules
from fustgo.store.tables import utc_now

router = APIRouter(prefix="/jobs", tags=["schedule"], responses=ERROR_RESPONSES)


class JobRef(BaseModel):
    job_id: str
    job_name: str | None
    """None when no job has this id any more (it was deleted)."""


class ScheduleResponse(BaseModel):
    job_id: str
    scheduling: Scheduling
    """The job's `scheduling` with every default filled in."""
    retry_policy: dict[str, Any] | None
    next_runs: list[datetime]
    """The next due times of `cron` and `run_at`, in the schedule's time zone."""
    last_due_at: datetime | None
    """The newest due time already dealt with (run, skipped or discarded)."""
    trigger_url: str
    """`POST` here (no body) to run the job; the token in it is the secret."""
    depends_on: list[JobRef]
    """Upstream jobs: this one runs once each has succeeded since it last ran."""
    downstream: list[JobRef]
    """Jobs that run after this one succeeds."""
    waiting: str | None
    """The trigger of a run waiting for the run going on (`overlap: serial`/`cancel`)."""
    next_retry_at: datetime | None
    """When the automatic retry of a failed run is due."""


def scheduler_of(request: Request) -> Scheduler:
    scheduler: Scheduler = request.app.state.scheduler
    return scheduler


def trigger_url(request: Request, token: str) -> str:
    return str(request.url_for("trigger_job", token=token))


@router.get(
    "/{job_id}/schedule", response_model=ScheduleResponse, summary="A job's schedule and next runs"
)
async def get_schedule(
    job_id: str,
    request: Request,
    state: ServerState,
    count: Annotated[int, Query(ge=1, le=100)] = 5,
) -> ScheduleResponse:
    """The next `count` due times (a preview across daylight saving changes too)."""
    scheduler = scheduler_of(request)

    def read() -> ScheduleResponse:
        with state.store.session() as session:
            job = jobs.get_job(session, job_id)
            scheduling = read_scheduling(job.scheduling_config)
            saved = schedules.get_state(session, job_id)
            if saved is None:  # saved before the scheduler existed
                saved = schedules.ensure_state(session, job_id, last_due_at=utc_now())
            edges, names = dependency_edges(session)
            downstream = [other for other, ups in edges.items() if job_id in ups]
            retry = scheduler.retries.get(job_id)
            waiting = scheduler.waiting.get(job_id)
            return ScheduleResponse(
                job_id=job_id,
                scheduling=scheduling,
                retry_policy=job.retry_policy,
                next_runs=next_times(scheduling, scheduler.now(), count),
                last_due_at=saved.last_due_at,
                trigger_url=trigger_url(request, saved.trigger_token),
                depends_on=[
                    JobRef(job_id=up, job_name=names.get(up)) for up in scheduling.depends_on
                ],
                downstream=[JobRef(job_id=down, job_name=names[down]) for down in downstream],
                waiting=waiting.trigger if waiting is not None else None,
                next_retry_at=retry[0] if retry is not None else None,
            )

    return await asyncio.to_thread(read)


class TokenResponse(BaseModel):
    trigger_url: str
    """The new URL; the old one answers 404 from now on."""


@router.post(
    "/{job_id}/schedule/token",
    response_model=TokenResponse,
    summary="Replace a job's webhook trigger token",
)
def rotate_token(job_id: str, request: Request, state: ServerState) -> TokenResponse:
    """For a trigger URL that leaked."""
    with state.store.session() as session:
        jobs.get_job(session, job_id)
        saved = schedules.get_state(session, job_id) or schedules.ensure_state(
            session, job_id, last_due_at=utc_now()
        )
        return TokenResponse(
            trigger_url=trigger_url(request, schedules.rotate_token(session, saved))
        )
