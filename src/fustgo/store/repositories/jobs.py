"""Jobs: saved pipelines with their lifecycle status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from fustgo.store import lifecycle
from fustgo.store.errors import ConflictError, InvalidRequestError, NotFoundError
from fustgo.store.repositories.common import assign, created_now, flush_unique, new_id
from fustgo.store.tables import CheckpointRow, ExecutionRow, JobRow, RunStateRow, utc_now

SORTABLE = ("job_name", "created_at", "updated_at", "priority", "status")
"""Columns a job list may be sorted by (`-` in front for descending)."""


@dataclass(frozen=True)
class JobFilter:
    """What `list_jobs` keeps; None means any."""

    status: str | None = None
    job_type: str | None = None
    source: str | None = None
    target: str | None = None
    enabled: bool | None = None
    name_contains: str | None = None


def get_job(session: Session, job_id: str, *, for_update: bool = False) -> JobRow:
    statement = select(JobRow).where(JobRow.job_id == job_id)
    if for_update:  # serializes state changes of one job across requests and workers
        statement = statement.with_for_update()
    job = session.scalars(statement).one_or_none()
    if job is None:
        raise NotFoundError(f"No job `{job_id}`; GET /api/v1/jobs lists the jobs.")
    return job


def add_job(session: Session, **fields: Any) -> JobRow:
    job = JobRow(job_id=new_id(), **created_now(), **fields)
    session.add(job)
    _flush_unique(session, job.job_name)
    return job


def update_job(session: Session, job: JobRow, **fields: Any) -> JobRow:
    lifecycle.check("edit", job.status, job=job.job_name)
    assign(job, fields)
    _flush_unique(session, job.job_name)
    return job


def delete_job(session: Session, job: JobRow) -> None:
    lifecycle.check("delete", job.status, job=job.job_name)
    for table in (CheckpointRow, RunStateRow, ExecutionRow):
        session.execute(delete(table).where(table.job_id == job.job_id))
    session.delete(job)


def transition(session: Session, job: JobRow, action: str, status: lifecycle.JobStatus) -> None:
    """Move `job` to `status` by `action`, or raise `ConflictError` if the state machine
    does not allow it."""
    lifecycle.check(action, job.status, job=job.job_name)
    job.status = status
    job.updated_at = utc_now()
    session.flush()


def list_jobs(
    session: Session,
    criteria: JobFilter,
    *,
    sort: str = "-updated_at",
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[JobRow], int]:
    """One page of jobs and how many match in all."""
    statement: Select[tuple[JobRow]] = select(JobRow)
    conditions = []
    if criteria.status is not None:
        conditions.append(JobRow.status == criteria.status)
    if criteria.job_type is not None:
        conditions.append(JobRow.job_type == criteria.job_type)
    if criteria.source is not None:
        conditions.append(JobRow.source_type == criteria.source)
    if criteria.target is not None:
        conditions.append(JobRow.target_type == criteria.target)
    if criteria.enabled is not None:
        conditions.append(JobRow.enabled == criteria.enabled)
    if criteria.name_contains:
        pattern = criteria.name_contains.lower()
        conditions.append(func.lower(JobRow.job_name).contains(pattern, autoescape=True))
    statement = statement.where(*conditions)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    column, direction = _sort_key(sort)
    ordering = column.desc() if direction == "desc" else column.asc()
    page = session.scalars(statement.order_by(ordering, JobRow.job_id).offset(offset).limit(limit))
    return list(page), total


def _sort_key(sort: str) -> tuple[Any, Literal["asc", "desc"]]:
    name = sort.removeprefix("-").removeprefix("+")
    if name not in SORTABLE:
        raise InvalidRequestError(
            f"Cannot sort jobs by `{name}`.",
            field="sort",
            hint=f"Sort by one of {', '.join(SORTABLE)}; prefix `-` for descending.",
        )
    return getattr(JobRow, name), "desc" if sort.startswith("-") else "asc"


def _flush_unique(session: Session, name: str) -> None:
    flush_unique(
        session,
        ConflictError(
            f"A job named `{name}` already exists.",
            field="job_name",
            hint="Choose another name, or update that job (PUT /api/v1/jobs/{id}).",
        ),
    )
