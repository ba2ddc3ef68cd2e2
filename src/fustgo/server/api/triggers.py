"""`POST /api/v1/triggers/{token}`: the event-driven schedule (design doc §5.4): another
system runs a job by calling its secret URL (shown by `GET /api/v1/jobs/{id}/schedule`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from fustgo.server.api.schedule import scheduler_of
from fustgo.server.errors import ERROR_RESPONSES
from fustgo.store.errors import ConflictError, NotFoundError

router = APIRouter(prefix="/triggers", tags=["schedule"], responses=ERROR_RESPONSES)


class TriggerResponse(BaseModel):
    job_id: str
    outcome: str
    """`started` (queued in the pool), `waiting` (behind the job's run going on, `overlap:
    serial`), `replacing` (that run is being stopped, `overlap: cancel`) or `discarded`
    (`overlap: discard`)."""
    execution_id: str | None = None
    """The execution started, when `started`."""
    message: str | None = None


@router.post(
    "/{token}",
    name="trigger_job",
    status_code=202,
    response_model=TriggerResponse,
    summary="Run the job of a webhook trigger token",
)
async def trigger_job(token: str, request: Request) -> TriggerResponse:
    """No body needed. 404 for a token no job has; 409 when the job cannot start (a
    draft, paused or disabled job)."""
    fired = await scheduler_of(request).trigger(token)
    if fired is None:
        raise NotFoundError(
            "No job has this trigger token.",
        )
    job_id, result = fired
    if result.outcome == "skipped":
        raise ConflictError(
            result.message or "The job cannot start now.",
            field="status",
            hint="GET /api/v1/jobs/{id} shows why; start it by hand to see the error.",
        )
    return TriggerResponse(
        job_id=job_id,
        outcome=result.outcome,
        execution_id=result.execution_id,
        message=result.message,
    )
