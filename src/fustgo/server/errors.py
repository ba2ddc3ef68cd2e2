"""The one place where errors become HTTP responses: `{"error": {"message", "field", "hint"}}`.

Nothing below `server/` knows HTTP: the store raises `NotFoundError`, `ConflictError`,
`InvalidRequestError`; plugins and config raise `FustgoError`s. This table gives each its
status, FastAPI's request validation errors are reshaped to the same body, a metadata store
that does not answer is 503 (logged in one line: an outage is no bug; `store.errors` tells
which errors are an outage), and anything
unexpected is logged with its traceback and answered 500 with a message, never a trace.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from fustgo.engine.errors import (
    ConfigError,
    DataError,
    FustgoError,
    RetryableError,
    TerminalError,
)
from fustgo.store.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    is_store_unavailable,
)

log = logging.getLogger(__name__)

STATUS_BY_ERROR: list[tuple[type[FustgoError], int]] = [
    (NotFoundError, 404),
    (ConflictError, 409),
    (InvalidRequestError, 422),
    (ConfigError, 422),
    (DataError, 422),
    (TerminalError, 422),
    (RetryableError, 503),
    (FustgoError, 500),
]
"""First match wins, so subclasses come before their bases. A `TerminalError` raised while
serving a request comes from what the request names (a source whose table is missing, a
credential the database refuses): retrying the same request cannot help, the client must
change it, so it is a 422, not a server fault. `RetryableError` (a database that does not
answer, a timeout) is 503: the same request may succeed later."""


class ErrorBody(BaseModel):
    """What went wrong, where, and what to do."""

    message: str
    field: str | None = None
    """The request field at fault (`job_name`, `config.port`, `sort`), when there is one."""
    hint: str | None = None
    details: list[dict[str, Any]] | None = None
    """Every problem, when the request had several (each with `field` and `message`)."""


class ErrorResponse(BaseModel):
    """The body of every 4xx and 5xx response."""

    error: ErrorBody


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in [
        (404, "Not found"),
        (409, "Conflicts with the stored state"),
        (422, "Invalid request"),
        (503, "A database does not answer; try again later"),
    ]
}
"""Declared on the routers so the OpenAPI document shows the error body."""


def error_response(
    status: int,
    message: str,
    *,
    field: str | None = None,
    hint: str | None = None,
    details: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    body = ErrorBody(message=message, field=field, hint=hint, details=details)
    return JSONResponse({"error": body.model_dump(exclude_none=True)}, status_code=status)


def status_of(error: FustgoError) -> int:
    return next(status for kind, status in STATUS_BY_ERROR if isinstance(error, kind))


def validation_details(errors: list[Any]) -> list[dict[str, Any]]:
    """Pydantic/FastAPI errors as `{field, message}`; `body`/`query` prefixes dropped."""
    details = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:]
        field = ".".join(loc) or None
        message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        details.append({"field": field, "message": message})
    return details


def validation_response(errors: list[Any]) -> JSONResponse:
    details = validation_details(errors)
    first = details[0] if details else {"field": None, "message": "Invalid request"}
    where = f"`{first['field']}`: " if first["field"] else ""
    return error_response(
        422,
        f"{where}{first['message']}",
        field=first["field"],
        hint="See `details` for every problem." if len(details) > 1 else None,
        details=details if len(details) > 1 else None,
    )


def install_error_handlers(app: FastAPI) -> None:
    async def on_fustgo_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, FustgoError)
        status = status_of(exc)
        if status == 503:
            log.warning("Request failed, may succeed later: %s", exc)
        elif status >= 500:
            log.error("Request failed: %s", exc, exc_info=exc)
        response = error_response(
            status, str(exc), field=getattr(exc, "field", None), hint=getattr(exc, "hint", None)
        )
        retry_after = getattr(exc, "retry_after_seconds", None)
        if status == 503 and retry_after:
            response.headers["Retry-After"] = str(max(1, round(retry_after)))
        return response

    async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return validation_response(list(exc.errors()))

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        message = str(exc.detail)
        hint = None
        if exc.status_code == 404 and message == "Not Found":
            message = f"No such endpoint: {request.method} {request.url.path}"
            hint = "The endpoints are listed at /api/v1/docs."
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        return error_response(exc.status_code, message, hint=hint)

    async def on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("Unexpected error while serving a request: %s", exc, exc_info=exc)
        return error_response(
            500,
            f"Internal error: {type(exc).__name__}: {exc}",
            hint="This is a bug in FustGo; the server log has the details.",
        )

    async def on_store_error(request: Request, exc: Exception) -> JSONResponse:
        """Handled here, not by the catch-all (whose response Starlette sends and then
        re-raises to the server, which logs a traceback): an outage is logged in one line."""
        if not is_store_unavailable(exc):
            return await on_unexpected(request, exc)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        log.warning(
            "%s %s: the metadata store does not answer: %s",
            request.method,
            request.url.path,
            reason,
        )
        response = error_response(
            503,
            f"The metadata store does not answer: {reason}",
            hint="Check that the database in `db:` of the main config is up and reachable;"
            " /health shows its status.",
        )
        response.headers["Retry-After"] = "5"
        return response

    app.add_exception_handler(FustgoError, on_fustgo_error)
    for kind in (DBAPIError, DisconnectionError, PoolTimeoutError):
        app.add_exception_handler(kind, on_store_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
