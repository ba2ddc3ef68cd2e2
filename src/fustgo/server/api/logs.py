"""`/api/v1/jobs/{id}/logs` and `/api/v1/jobs/{id}/executions/{execution_id}/logs`: the
run logs on disk (`server/logs.py`), filtered by level, keyword and time, one page as
JSON or everything that matches as a JSON Lines download (design doc §7.1, §5.5)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from fustgo.server.api.schemas.paging import MAX_OFFSET
from fustgo.server.deps import ServerState
from fustgo.server.errors import ERROR_RESPONSES
from fustgo.server.logs import LogQuery, as_utc, parse_level
from fustgo.store.errors import NotFoundError
from fustgo.store.repositories import executions, jobs

router = APIRouter(prefix="/jobs", tags=["logs"], responses=ERROR_RESPONSES)

DOWNLOAD_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "One page of entries, or with `download=true` every entry as JSON Lines",
        "content": {"application/x-ndjson": {}},
    }
}


class LogFilter(BaseModel):
    """The query string of a log request."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    level: str | None = Field(default=None, max_length=16)
    """This level and above: `DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL` (any case)."""
    q: str | None = Field(default=None, min_length=1, max_length=255)
    """Entries whose message or error contains this text (any case)."""
    since: datetime | None = None
    """Entries at or after this time (ISO 8601; without a zone, UTC)."""
    until: datetime | None = None
    """Entries at or before this time."""
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    limit: int = Field(default=1000, ge=1, le=10000)
    download: bool = False
    """Every matching entry as a JSON Lines file (`offset`/`limit` ignored)."""

    @model_validator(mode="after")
    def _range(self) -> LogFilter:
        if self.since and self.until and as_utc(self.since) > as_utc(self.until):  # type: ignore[operator]
            raise ValueError("`since` is after `until`")
        return self

    def query(self) -> LogQuery:
        return LogQuery(
            min_level=parse_level(self.level) if self.level else 0,
            keyword=self.q,
            since=as_utc(self.since),
            until=as_utc(self.until),
        )


class JobLogFilter(LogFilter):
    execution_id: str | None = Field(default=None, max_length=64)
    """Only this run's entries."""


class LogEntry(BaseModel):
    """One log record of a run."""

    timestamp: datetime
    level: str
    service: str
    job_id: str
    execution_id: str
    worker_id: str | None = None
    logger: str
    message: str
    error: str | None = None
    """The exception and its traceback, when the record had one."""


class LogPage(BaseModel):
    items: list[LogEntry]
    total: int
    """How many entries match in all."""
    offset: int
    limit: int


@router.get(
    "/{job_id}/logs",
    response_model=LogPage,
    responses=DOWNLOAD_RESPONSE,
    summary="A job's run logs",
)
def job_logs(
    job_id: str, state: ServerState, filters: Annotated[JobLogFilter, Query()]
) -> LogPage | Response:
    """Entries of all the job's runs still kept (7 days), oldest first."""
    query = filters.query()
    with state.store.session() as session:
        jobs.get_job(session, job_id)
        if filters.execution_id is not None:
            _check_execution(session, job_id, filters.execution_id)
    return _answer(state, job_id, filters.execution_id, query, filters)


@router.get(
    "/{job_id}/executions/{execution_id}/logs",
    response_model=LogPage,
    responses=DOWNLOAD_RESPONSE,
    summary="One run's log",
)
def execution_logs(
    job_id: str, execution_id: str, state: ServerState, filters: Annotated[LogFilter, Query()]
) -> LogPage | Response:
    query = filters.query()
    with state.store.session() as session:
        jobs.get_job(session, job_id)
        _check_execution(session, job_id, execution_id)
    return _answer(state, job_id, execution_id, query, filters)


def _check_execution(session: Any, job_id: str, execution_id: str) -> None:
    execution = executions.get_execution(session, execution_id)
    if execution.job_id != job_id:
        raise NotFoundError(f"Job `{job_id}` has no execution `{execution_id}`.")


def _answer(
    state: ServerState, job_id: str, execution_id: str | None, query: LogQuery, filters: LogFilter
) -> LogPage | Response:
    store = state.runs.events.logs
    entries = store.read(job_id, query, execution_id=execution_id)
    if filters.download:
        name = f"{job_id}-{execution_id}" if execution_id else job_id

        def lines() -> Iterator[bytes]:
            for entry in entries:
                yield (json.dumps(entry, ensure_ascii=False) + "\n").encode()

        return StreamingResponse(
            lines(),
            media_type="application/x-ndjson",
            headers={"Content-Disposition": f'attachment; filename="{name}.log.jsonl"'},
        )
    skipped = sum(1 for _ in itertools.islice(entries, filters.offset))
    page = list(itertools.islice(entries, filters.limit))
    total = skipped + len(page) + sum(1 for _ in entries)
    return LogPage(
        items=[LogEntry.model_validate(entry) for entry in page],
        total=total,
        offset=filters.offset,
        limit=filters.limit,
    )
