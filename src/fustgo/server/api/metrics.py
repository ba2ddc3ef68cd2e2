"""`/api/v1/metrics`: a job's metrics over a time range, system figures, the workers
(design doc §7.1 monitoring API)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from fustgo.server.deps import ServerState
from fustgo.server.errors import ERROR_RESPONSES
from fustgo.server.metrics import queries
from fustgo.store.errors import InvalidRequestError
from fustgo.store.repositories import jobs
from fustgo.store.tables import utc_now

router = APIRouter(prefix="/metrics", tags=["metrics"], responses=ERROR_RESPONSES)

DEFAULT_RANGE = timedelta(hours=1)


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)  # a time without a zone is taken as UTC


@router.get("/jobs/{job_id}", summary="A job's metrics over a time range")
def job_metrics(
    job_id: str,
    state: ServerState,
    start: Annotated[datetime | None, Query(description="Default: an hour before `end`.")] = None,
    end: Annotated[datetime | None, Query(description="Default: now.")] = None,
    step: Annotated[
        float | None, Query(gt=0, le=86400, description="Seconds per point (one per run).")
    ] = None,
) -> dict[str, Any]:
    """Throughput (records read and written per second), cumulative records read, written,
    filtered and failed, the error rate and the average time per batch, one point per
    sample (every second while a job runs, a minute apart after an hour), and totals."""
    end_at = _aware(end) or utc_now()
    start_at = _aware(start) or end_at - DEFAULT_RANGE
    if start_at >= end_at:
        raise InvalidRequestError(
            f"`start` ({start_at.isoformat()}) must be before `end` ({end_at.isoformat()}).",
            field="start",
        )
    with state.store.session() as session:
        jobs.get_job(session, job_id)  # 404 for an unknown job
        return queries.job_series(session, job_id, start_at, end_at, step_seconds=step)


@router.get("/system", summary="System metrics")
async def system_metrics(state: ServerState) -> dict[str, Any]:
    """Host CPU (over 0.2 s), memory and disk (of the server's folder), this process's
    memory, and the jobs running or draining in it."""
    return await asyncio.to_thread(queries.system_metrics, state.runs, state.settings.base_dir)


@router.get("/workers", summary="Workers and their jobs")
def workers(state: ServerState) -> dict[str, Any]:
    """In standalone mode one worker: the server process, `busy` while it runs jobs."""
    return {"items": queries.workers(state.runs, utc_now())}
