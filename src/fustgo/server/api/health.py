"""`/health`: is the server up, does its store answer, how many runs go on."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from fustgo import __version__
from fustgo.server.deps import ServerState

router = APIRouter(tags=["health"])


class HealthResponse(BaseModel):
    status: str
    """`ok`, or `degraded` when the store does not answer (then HTTP 503)."""
    version: str
    store: dict[str, Any]
    """`ok`, `type`, the migration `revision`, and the `error` when it does not answer."""
    runs: dict[str, Any]
    """`active`: runs going on in this server; `queued`: runs waiting for one of the
    `max_concurrent` workers."""


@router.get("/health", response_model=HealthResponse, responses={503: {"model": HealthResponse}})
async def health(state: ServerState) -> JSONResponse:
    store = await asyncio.to_thread(state.store.status)
    body = HealthResponse(
        status="ok" if store.ok else "degraded",
        version=__version__,
        store=store.to_json(),
        runs=state.runs.status(),
    )
    return JSONResponse(body.model_dump(), status_code=200 if store.ok else 503)
