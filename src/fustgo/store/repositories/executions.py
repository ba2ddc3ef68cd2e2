"""Executions: one row per run of a job, its summary, and their retention."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from fustgo.store.errors import NotFoundError
from fustgo.store.repositories.common import new_id
from fustgo.store.tables import ExecutionRow, utc_now

RUNNING = "running"
ABANDONED = "abandoned"


def start_execution(
    session: Session, job_id: str, *, trigger: str = "api", worker_id: str | None = None
) -> ExecutionRow:
    execution = ExecutionRow(
        execution_id=new_id(),
        job_id=job_id,
        status=RUNNING,
        trigger=trigger,
        start_time=utc_now(),
        worker_id=worker_id,
        records_read=0,
        records_written=0,
        records_filtered=0,
        records_failed=0,
        bytes_transferred=0,
    )
    session.add(execution)
    session.flush()
    return execution


def finish_execution(
    session: Session,
    execution_id: str,
    *,
    status: str,
    summary: dict[str, Any] | None,
    error: str | None,
) -> ExecutionRow:
    """Record how a run ended: status, counts from the summary, the error if any."""
    execution = get_execution(session, execution_id)
    execution.status = status
    execution.end_time = utc_now()
    execution.error_message = error
    execution.summary = summary
    if summary is not None:
        execution.records_read = int(summary.get("records_read", 0))
        execution.records_written = int(summary.get("records_written", 0))
        execution.records_filtered = int(summary.get("records_filtered", 0))
        execution.records_failed = int(summary.get("records_failed", 0))
        execution.bytes_transferred = int(summary.get("bytes_read", 0))
    session.flush()
    return execution


def get_execution(session: Session, execution_id: str) -> ExecutionRow:
    execution = session.get(ExecutionRow, execution_id)
    if execution is None:
        raise NotFoundError(f"No execution `{execution_id}`.")
    return execution


def list_executions(
    session: Session,
    job_id: str | None,
    *,
    status: str | None = None,
    since: datetime | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[ExecutionRow], int]:
    """Executions newest first (of one job, or of every job when `job_id` is None; those
    started at or after `since`), and how many there are in all."""
    conditions = []
    if job_id is not None:
        conditions.append(ExecutionRow.job_id == job_id)
    if status is not None:
        conditions.append(ExecutionRow.status == status)
    if since is not None:
        conditions.append(ExecutionRow.start_time >= since)
    total = session.scalar(select(func.count()).select_from(ExecutionRow).where(*conditions)) or 0
    rows = session.scalars(
        select(ExecutionRow)
        .where(*conditions)
        .order_by(ExecutionRow.start_time.desc(), ExecutionRow.execution_id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows), total


def abandon_running(session: Session, *, reason: str, status: str = RUNNING) -> list[str]:
    """Mark executions still `running` (or in another unfinished `status`, e.g. `queued`) as
    `abandoned` (the process that ran them is gone); returns their job ids. Called when a
    standalone server starts."""
    job_ids = list(
        session.scalars(select(ExecutionRow.job_id).where(ExecutionRow.status == status))
    )
    session.execute(
        update(ExecutionRow)
        .where(ExecutionRow.status == status)
        .values(status=ABANDONED, end_time=utc_now(), error_message=reason)
    )
    return job_ids


def purge_executions(session: Session, *, older_than_days: int, now: datetime | None = None) -> int:
    """Delete finished executions that started more than `older_than_days` ago (design doc
    §8.1 keeps 30 days); running ones are kept whatever their age. Returns how many went."""
    cutoff = (now or utc_now()) - timedelta(days=older_than_days)
    result = session.execute(
        delete(ExecutionRow).where(ExecutionRow.start_time < cutoff, ExecutionRow.status != RUNNING)
    )
    return int(getattr(result, "rowcount", 0) or 0)
