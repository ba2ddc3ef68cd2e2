"""`/api/v1/preview/source`, `/preview/target`, `/preview/schema` (design doc §7.1, §6.5)
and `POST /api/v1/jobs/{id}/run-preview` (the designer's live preview of a job)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from fastapi import APIRouter

from fustgo.engine.errors import TerminalError
from fustgo.server.api.schemas.preview import (
    PreviewRequest,
    RunPreviewRequest,
    SchemaCompareRequest,
)
from fustgo.server.deps import ServerState
from fustgo.server.errors import ERROR_RESPONSES
from fustgo.server.preview import service
from fustgo.server.preview.run import run_preview
from fustgo.server.preview.sources import End, Endpoint, pipeline_of, resolve
from fustgo.store.errors import InvalidRequestError
from fustgo.store.repositories import jobs

router = APIRouter(tags=["preview"], responses=ERROR_RESPONSES)

T = TypeVar("T")


@router.post("/preview/source", response_model=dict[str, Any], summary="Preview source data")
async def preview_source(body: PreviewRequest, state: ServerState) -> dict[str, Any]:
    """The first `limit` rows (default 100) of a table or query, with the schema, the row
    estimate, and per column: null ratio, distinct values, top values with their counts,
    min/max of numbers and dates, text lengths (of the rows shown)."""
    endpoint = await _resolve(body, "source", state)
    return await _reading(
        service.preview(endpoint, "source", limit=body.limit, timeout=body.timeout_seconds)
    )


@router.post("/preview/target", response_model=dict[str, Any], summary="Preview target data")
async def preview_target(body: PreviewRequest, state: ServerState) -> dict[str, Any]:
    """Like the source preview, for the table a pipeline writes. A table that does not
    exist yet (the output creates it) is `exists: false`, not an error."""
    endpoint = await _resolve(body, "target", state)
    return await _reading(
        service.preview(endpoint, "target", limit=body.limit, timeout=body.timeout_seconds)
    )


@router.post("/preview/schema", response_model=dict[str, Any], summary="Compare schemas")
async def compare_schemas(body: SchemaCompareRequest, state: ServerState) -> dict[str, Any]:
    """Source columns against target columns: per pair `compatible`, `warning` (length,
    precision, range or time zone mismatch) or `incompatible`; columns on one side only
    (`missing_in_target`, `missing_in_source`); and mapping suggestions by similar names."""
    source_ref, target_ref = body.ends()
    source = await _resolve(source_ref, "source", state)
    target = await _resolve(target_ref, "target", state)
    return await _reading(service.compare_schemas(source, target, timeout=body.timeout_seconds))


@router.post(
    "/jobs/{job_id}/run-preview",
    response_model=dict[str, Any],
    tags=["jobs"],
    summary="Run a job on its first records, writing nothing",
)
async def run_job_preview(
    job_id: str, state: ServerState, body: RunPreviewRequest | None = None
) -> dict[str, Any]:
    """The job's pipeline on its input's first `limit` records: what the input read, what
    each processor handed on, what reached the output (and each `broker`/`switch` branch),
    and the dead letters. The real output is never opened."""
    body = body or RunPreviewRequest()

    def load() -> tuple[str, str]:
        with state.store.session() as session:
            job = jobs.get_job(session, job_id)
            return job.config_yaml, job.job_name

    text, name = await asyncio.to_thread(load)
    settings = state.settings
    spec = await asyncio.to_thread(
        pipeline_of, text, settings, what=f"job `{name}`", field="job_id"
    )
    result = await _reading(
        run_preview(spec, settings.registry, limit=body.limit, timeout=body.timeout_seconds)
    )
    return {"job_id": job_id, **result}


async def _resolve(ref: Any, end: End, state: ServerState) -> Endpoint:
    return await asyncio.to_thread(resolve, ref, end, state.settings, state.store)


async def _reading(work: Awaitable[T]) -> T:
    """A source that cannot be read as asked (a missing table, a bad query) is a problem
    of the request (422, the database's message), not of the server."""
    try:
        return await work
    except TerminalError as exc:
        raise InvalidRequestError(str(exc)) from exc
