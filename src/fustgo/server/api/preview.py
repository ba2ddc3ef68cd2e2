"""`/api/v1/preview/source`, `/preview/target`, `/preview/schema` (design doc §7.1, §6.5),
and the run previews (the designer's live preview): `POST /api/v1/jobs/{id}/run-preview` of
a saved job, `POST /api/v1/preview/run` of unsaved YAML; both run `_run_pipeline`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from fustgo.config.models import PipelineSpec
from fustgo.engine.errors import TerminalError
from fustgo.server.api.body import body_openapi, read_body
from fustgo.server.api.schemas.preview import (
    DraftRunPreviewRequest,
    PreviewRequest,
    RunPreviewRequest,
    SchemaCompareRequest,
)
from fustgo.server.configs import check_config
from fustgo.server.deps import ServerState
from fustgo.server.errors import ERROR_RESPONSES, error_response
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
    spec = await asyncio.to_thread(
        pipeline_of, text, state.settings, what=f"job `{name}`", field="job_id"
    )
    return {"job_id": job_id, **await _run_pipeline(spec, body, state)}


@router.post(
    "/preview/run",
    response_model=dict[str, Any],
    openapi_extra=body_openapi(DraftRunPreviewRequest),
    summary="Run unsaved pipeline YAML on its first records, writing nothing",
)
async def run_draft_preview(request: Request, state: ServerState) -> Any:
    """The run preview of a job (`POST /jobs/{id}/run-preview`, same response without
    `job_id`) for YAML that is not saved: JSON `{config_yaml, limit, timeout_seconds}`, or
    the YAML as `application/yaml` (`?limit=`). YAML with errors is a 422 whose `details`
    are its diagnostics, as `POST /validate` gives them (line, column, path, hint)."""
    body = await read_body(request, DraftRunPreviewRequest, yaml_field="config_yaml")
    checked = await asyncio.to_thread(check_config, body.config_yaml, state.settings)
    if checked.pipeline is None:
        return _invalid_draft(checked.diagnostics())
    return await _run_pipeline(checked.pipeline, body, state)


async def _run_pipeline(
    spec: PipelineSpec, body: RunPreviewRequest, state: ServerState
) -> dict[str, Any]:
    """The run preview of a validated pipeline: what each stage handed on, nothing written."""
    return await _reading(
        run_preview(spec, state.settings.registry, limit=body.limit, timeout=body.timeout_seconds)
    )


def _invalid_draft(diagnostics: list[dict[str, Any]]) -> JSONResponse:
    errors = [each for each in diagnostics if each.get("severity") == "error"] or diagnostics
    first = errors[0] if errors else {}
    where = f" (line {first['line']})" if first.get("line") else ""
    message = first.get("message", "it is invalid")
    more = f" {len(errors) - 1} more error(s) in `details`." if len(errors) > 1 else ""
    return error_response(
        422,
        f"Cannot preview the pipeline: {message}{where}.",
        field="config_yaml",
        hint=f"Fix the YAML first.{more}",
        details=[{"field": "config_yaml", **each} for each in errors],
    )


async def _resolve(ref: Any, end: End, state: ServerState) -> Endpoint:
    return await asyncio.to_thread(resolve, ref, end, state.settings, state.store)


async def _reading(work: Awaitable[T]) -> T:
    """A source that cannot be read as asked (a missing table, a bad query) is a problem
    of the request (422, the database's message), not of the server."""
    try:
        return await work
    except TerminalError as exc:
        raise InvalidRequestError(str(exc)) from exc
