"""`/api/v1/executions`: the runs of every job, newest first — what the dashboard's recent
runs and failures show without asking job by job."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from fustgo.server.api.schemas.jobs import ExecutionList, ExecutionResponse
from fustgo.server.api.schemas.paging import Page, PageSize
from fustgo.server.deps import ServerState
from fustgo.server.errors import ERROR_RESPONSES
from fustgo.store.repositories import executions
from fustgo.store.tables import JobRow

router = APIRouter(prefix="/executions", tags=["jobs"], responses=ERROR_RESPONSES)


@router.get("", response_model=ExecutionList, summary="Every job's runs")
def list_all_executions(
    state: ServerState,
    page: Page = 1,
    page_size: PageSize = 50,
    status: str | None = None,
    since: Annotated[
        datetime | None, Query(description="Runs started at or after this time (ISO 8601).")
    ] = None,
) -> ExecutionList:
    """Newest first, each with its job's name."""
    with state.store.session() as session:
        rows, total = executions.list_executions(
            session, None, status=status, since=since,
            offset=(page - 1) * page_size, limit=page_size,
        )  # fmt: skip
        job_ids = {row.job_id for row in rows}
        query = select(JobRow.job_id, JobRow.job_name).where(JobRow.job_id.in_(job_ids))
        names = {job_id: name for job_id, name in session.execute(query)}
        items = [
            ExecutionResponse.model_validate(row, from_attributes=True).model_copy(
                update={"job_name": names.get(row.job_id)}
            )
            for row in rows
        ]
    return ExecutionList(items=items, total=total, page=page, page_size=page_size)
