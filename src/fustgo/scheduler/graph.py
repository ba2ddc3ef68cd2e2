"""Dependencies between jobs (`scheduling.depends_on`): checked when a job is saved, so a
cycle (which would never run) or an unknown upstream is refused with a 422 naming it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fustgo.scheduler.settings import read_scheduling
from fustgo.store.errors import InvalidRequestError
from fustgo.store.repositories import schedules
from fustgo.store.tables import JobRow

FIELD = "scheduling.depends_on"


def find_cycle(edges: Mapping[str, Sequence[str]], start: str) -> list[str] | None:
    """A path `start → … → start` following `edges` (job → its upstreams), or None."""
    path: list[str] = [start]
    on_path = {start}
    seen: set[str] = set()

    def visit(node: str) -> list[str] | None:
        for upstream in edges.get(node, ()):
            if upstream == start:
                return [*path, start]
            if upstream in on_path or upstream in seen:
                continue
            path.append(upstream)
            on_path.add(upstream)
            found = visit(upstream)
            if found is not None:
                return found
            path.pop()
            on_path.discard(upstream)
            seen.add(upstream)
        return None

    return visit(start)


def dependency_edges(session: Session) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Every job's upstreams, and every job's name, by job id."""
    edges: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for job_id, name, config in session.execute(
        select(JobRow.job_id, JobRow.job_name, JobRow.scheduling_config)
    ):
        names[job_id] = name
        if config and config.get("depends_on"):
            edges[job_id] = list(config["depends_on"])
    return edges, names


def check_dependencies(session: Session, job: JobRow) -> None:
    """Refuse (422) upstreams that are not jobs, and a `depends_on` that closes a cycle."""
    upstreams = read_scheduling(job.scheduling_config).depends_on
    if not upstreams:
        return
    edges, names = dependency_edges(session)
    names[job.job_id] = job.job_name
    missing = [upstream for upstream in upstreams if upstream not in names]
    if missing:
        raise InvalidRequestError(
            f"`{FIELD}` names no job: {', '.join(f'`{m}`' for m in missing)}.",
            field=FIELD,
            hint="List upstream jobs by their `job_id` (GET /api/v1/jobs lists them).",
        )
    edges[job.job_id] = upstreams
    cycle = find_cycle(edges, job.job_id)
    if cycle is not None:
        # the path follows "depends on"; say it in the order the jobs would run
        named = " → ".join(f"`{names[node]}`" for node in reversed(cycle))
        raise InvalidRequestError(
            f"`{FIELD}` makes a cycle: {named}; none of these jobs could ever run.",
            field=FIELD,
            hint="Remove one of these dependencies.",
        )


def on_job_saved(session: Session, job: JobRow, *, now: datetime, reset: bool) -> None:
    """Check a created or updated job's dependencies and give it its scheduler state (a
    trigger token; with `reset`, due times counted from `now`, not from an old schedule)."""
    check_dependencies(session, job)
    schedules.ensure_state(session, job.job_id, last_due_at=now, reset=reset)
