"""`POST /api/v1/validate`: the diagnostics of `fustgo validate`, for a YAML body."""

from __future__ import annotations

from fastapi import APIRouter, Request

from fustgo.server.api.body import body_openapi, read_body
from fustgo.server.api.schemas.jobs import ValidateRequest, ValidateResponse
from fustgo.server.configs import validate_payload
from fustgo.server.deps import ServerState
from fustgo.server.errors import ERROR_RESPONSES

router = APIRouter(tags=["jobs"], responses=ERROR_RESPONSES)


@router.post(
    "/validate",
    response_model=ValidateResponse,
    openapi_extra=body_openapi(ValidateRequest),
    summary="Validate pipeline YAML",
)
async def validate(request: Request, state: ServerState) -> ValidateResponse:
    """Always 200 for a readable body: an invalid pipeline is a result (`ok: false` and
    its diagnostics, with line and column), not an error of the request."""
    body = await read_body(request, ValidateRequest, yaml_field="config_yaml")
    payload = await validate_payload(
        body.config_yaml, state.settings, check_connections=body.check_connections
    )
    return ValidateResponse.model_validate(payload)
