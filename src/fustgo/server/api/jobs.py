"""`/api/v1/jobs`: create, list, get, update, delete; start, stop, pause, resume;
executions (design doc §7.1)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from fustgo.scheduler.cron import next_times
from fustgo.scheduler.graph import on_job_saved
from fustgo.scheduler.settings import read_scheduling
from fustgo.server.api.body import body_openapi, read_body
from fustgo.server.api.schemas.jobs import (
    ExecutionList,
    ExecutionResponse,
    JobAction,
    JobCreate,
    JobList,
    JobQuery,
    JobResponse,
    JobSummary,
    JobUpdate,
)
from fustgo.server.api.schemas.paging import Page, PageSize
from fustgo.server.configs import check_config
from fustgo.server.deps import AppState, Runs, ServerState
from fustgo.server.errors import ERROR_RESPONSES
from fustgo.store.errors import ConflictError, InvalidRequestError
from fustgo.store.lifecycle import JobStatus, check, validated_status
from fustgo.store.repositories import executions, jobs
from fustgo.store.tables import ExecutionRow, JobRow, utc_now

router = APIRouter(prefix="/jobs", tags=["jobs"], responses=ERROR_RESPONSES)


@router.post(
    "",
    status_code=201,
    response_model=JobResponse,
    openapi_extra=body_openapi(JobCreate),
    summary="Create a job from its pipeline YAML",
)
async def create_job(request: Request, state: ServerState) -> JobResponse:
    """The body is JSON (`JobCreate`) or the YAML itself (`application/yaml`, other fields
    in the query string). An invalid config is saved as a `draft` with its diagnostics."""
    body = await read_body(request, JobCreate, yaml_field="config_yaml")
    checked = await asyncio.to_thread(check_config, body.config_yaml, state.settings)
    name = body.job_name or checked.name
    if not name:
        raise InvalidRequestError(
            "The job has no name.",
            field="job_name",
            hint="Give `job_name`, or a `name:` at the top of the YAML.",
        )

    def save() -> JobRow:
        with state.store.session() as session:
            job = jobs.add_job(
                session,
                job_name=name,
                job_type=body.job_type,
                description=body.description,
                config_yaml=body.config_yaml,
                flow_diagram=body.flow_diagram,
                scheduling_config=_dump(body.scheduling),
                retry_policy=_dump(body.retry_policy),
                priority=body.priority,
                enabled=body.enabled,
                created_by=body.created_by,
                status=validated_status(checked.ok),
                source_type=checked.source_type,
                target_type=checked.target_type,
                diagnostics=checked.diagnostics(),
            )
            on_job_saved(session, job, now=utc_now(), reset=True)
            return job

    return _job(await asyncio.to_thread(save), state)


@router.get("", response_model=JobList, summary="List jobs")
def list_jobs(state: ServerState, query: Annotated[JobQuery, Query()]) -> JobList:
    """One page of jobs, filtered and sorted."""
    criteria = jobs.JobFilter(
        status=query.status,
        job_type=query.job_type,
        source=query.source,
        target=query.target,
        enabled=query.enabled,
        name_contains=query.q,
    )
    with state.store.session() as session:
        rows, total = jobs.list_jobs(
            session,
            criteria,
            sort=query.sort,
            offset=(query.page - 1) * query.page_size,
            limit=query.page_size,
        )
        items = [JobSummary.model_validate(row, from_attributes=True) for row in rows]
    return JobList(items=items, total=total, page=query.page, page_size=query.page_size)


@router.get("/{job_id}", response_model=JobResponse, summary="Get a job")
def get_job(job_id: str, state: ServerState) -> JobResponse:
    with state.store.session() as session:
        return _job(jobs.get_job(session, job_id), state)


@router.put(
    "/{job_id}",
    response_model=JobResponse,
    openapi_extra=body_openapi(JobUpdate),
    summary="Update a job",
)
async def update_job(job_id: str, request: Request, state: ServerState) -> JobResponse:
    """JSON (`JobUpdate`: only the fields given change) or new YAML (`application/yaml`).
    A new config is validated again: the job becomes `ready` or `draft`."""
    body = await read_body(request, JobUpdate, yaml_field="config_yaml")
    checked = None
    if body.config_yaml is not None:
        checked = await asyncio.to_thread(check_config, body.config_yaml, state.settings)

    def save() -> JobRow:
        fields: dict[str, Any] = {}
        for name in body.model_fields_set:
            value = getattr(body, name)
            if name == "scheduling":
                fields["scheduling_config"] = _dump(value)
            elif name == "retry_policy":
                fields["retry_policy"] = _dump(value)
            else:
                fields[name] = value
        if checked is not None:
            fields.update(
                status=validated_status(checked.ok),
                source_type=checked.source_type,
                target_type=checked.target_type,
                diagnostics=checked.diagnostics(),
            )
        with state.store.session() as session:
            job = jobs.get_job(session, job_id, for_update=True)
            _refuse_while_active(state, job, "edit")
            updated = jobs.update_job(session, job, **fields)
            on_job_saved(session, updated, now=utc_now(), reset="scheduling" in fields)
            return updated

    return _job(await asyncio.to_thread(save), state)


@router.delete("/{job_id}", status_code=204, summary="Delete a job and its executions")
def delete_job(job_id: str, state: ServerState) -> Response:
    with state.store.session() as session:
        job = jobs.get_job(session, job_id, for_update=True)
        _refuse_while_active(state, job, "delete")
        jobs.delete_job(session, job)
    return Response(status_code=204)


@router.post("/{job_id}/start", status_code=202, response_model=JobAction, summary="Run a job")
async def start_job(job_id: str, runs: Runs) -> JobAction:
    """Starts a run in the server (resuming from the checkpoint a stopped run left)."""
    started = await runs.start(job_id)
    return JobAction(job_id=job_id, status=JobStatus.running, execution_id=started.execution_id)


@router.post("/{job_id}/stop", status_code=202, response_model=JobAction, summary="Stop a run")
async def stop_job(job_id: str, runs: Runs) -> JobAction:
    """Reading stops; what was read is written, flushed and checkpointed."""
    return JobAction(job_id=job_id, status=JobStatus(await runs.stop(job_id)))


@router.post("/{job_id}/pause", status_code=202, response_model=JobAction, summary="Pause a run")
async def pause_job(job_id: str, runs: Runs) -> JobAction:
    """Like stop (drain, flush, checkpoint), leaving the job `paused` for `resume`."""
    return JobAction(job_id=job_id, status=JobStatus(await runs.pause(job_id)))


@router.post(
    "/{job_id}/resume", status_code=202, response_model=JobAction, summary="Resume a paused job"
)
async def resume_job(job_id: str, runs: Runs) -> JobAction:
    started = await runs.resume(job_id)
    return JobAction(job_id=job_id, status=JobStatus.running, execution_id=started.execution_id)


@router.get("/{job_id}/executions", response_model=ExecutionList, summary="A job's runs")
def list_executions(
    job_id: str,
    state: ServerState,
    page: Page = 1,
    page_size: PageSize = 50,
    status: str | None = None,
) -> ExecutionList:
    """Newest first."""
    with state.store.session() as session:
        jobs.get_job(session, job_id)
        rows, total = executions.list_executions(
            session, job_id, status=status, offset=(page - 1) * page_size, limit=page_size
        )
        items = [_execution(row) for row in rows]
    return ExecutionList(items=items, total=total, page=page, page_size=page_size)


def _refuse_while_active(state: AppState, job: JobRow, action: str) -> None:
    """The state machine first (`running` says more than `active`); then a stopped or
    paused run still draining its last batches also keeps the job from changing."""
    check(action, job.status, job=job.job_name)
    active = state.runs.active.get(job.job_id)
    if active is not None:
        raise ConflictError(
            f"Cannot {action} job `{job.job_name}`: its run (execution "
            f"`{active.execution_id}`) is still draining.",
            field="status",
            hint="Wait a moment for the drain to end, then retry.",
        )


def _job(row: JobRow, state: AppState) -> JobResponse:
    active = state.runs.active.get(row.job_id)
    return JobResponse(
        job_id=row.job_id,
        job_name=row.job_name,
        job_type=row.job_type,
        description=row.description,
        config_yaml=row.config_yaml,
        flow_diagram=row.flow_diagram,
        scheduling=row.scheduling_config,
        enabled=row.enabled,
        priority=row.priority,
        retry_policy=row.retry_policy,
        status=row.status,
        source_type=row.source_type,
        target_type=row.target_type,
        diagnostics=row.diagnostics or [],
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        active_execution_id=active.execution_id if active is not None else None,
        next_runs=next_times(read_scheduling(row.scheduling_config), utc_now()),
    )


def _execution(row: ExecutionRow) -> ExecutionResponse:
    return ExecutionResponse.model_validate(row, from_attributes=True)


def _dump(model: Any) -> dict[str, Any] | None:
    return model.model_dump(mode="json") if model is not None else None
