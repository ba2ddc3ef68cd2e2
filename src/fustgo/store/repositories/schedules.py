"""The scheduler's state of each job (`job_schedules`): trigger token, last due time."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fustgo.store.tables import JobScheduleRow, utc_now


def new_token() -> str:
    """A webhook secret: 32 random bytes, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def get_state(session: Session, job_id: str) -> JobScheduleRow | None:
    return session.get(JobScheduleRow, job_id)


def ensure_state(
    session: Session, job_id: str, *, last_due_at: datetime, reset: bool = True
) -> JobScheduleRow:
    """The job's state, made (with a new token) if it has none; `last_due_at` is where a
    new (or, with `reset`, changed) schedule starts counting due times from."""
    state = session.get(JobScheduleRow, job_id)
    if state is None:
        state = JobScheduleRow(
            job_id=job_id, trigger_token=new_token(), last_due_at=last_due_at, updated_at=utc_now()
        )
        session.add(state)
    elif reset:
        state.last_due_at = last_due_at
        state.updated_at = utc_now()
    session.flush()
    return state


def all_states(session: Session) -> dict[str, JobScheduleRow]:
    return {row.job_id: row for row in session.scalars(select(JobScheduleRow))}


def by_token(session: Session, token: str) -> JobScheduleRow | None:
    return session.scalars(
        select(JobScheduleRow).where(JobScheduleRow.trigger_token == token)
    ).one_or_none()


def rotate_token(session: Session, state: JobScheduleRow) -> str:
    state.trigger_token = new_token()
    state.updated_at = utc_now()
    session.flush()
    return state.trigger_token


def set_last_due(session: Session, job_id: str, due: datetime) -> None:
    state = session.get(JobScheduleRow, job_id)
    if state is not None and (state.last_due_at is None or due > state.last_due_at):
        state.last_due_at = due
        state.updated_at = utc_now()
        session.flush()
