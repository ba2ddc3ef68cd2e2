"""The job state machine (design doc §5.1): statuses and the actions that move between them.

    draft ──validated──▶ ready ──start──▶ running ──pause──▶ paused ──resume──▶ running
    running ──(the run ends)──▶ succeeded | failed | stopped        running/paused ──stop──▶ stopped
    failed | stopped | succeeded ──start──▶ running (a retry, a resume, the next run)

Beyond the design's diagram: a job is a definition that runs many times (schedules), so a
finished job can be started again; `stopped` is a run stopped on request, which the next
start resumes from its checkpoint; editing a job that is not running re-validates it, so it
becomes `draft` or `ready` again. A job that runs (or is paused) cannot be edited or
deleted. Every status change goes through `transition`, so no caller can skip the rules.
"""

from __future__ import annotations

from enum import StrEnum

from fustgo.store.errors import ConflictError


class JobStatus(StrEnum):
    draft = "draft"
    """Its config has errors (see the job's diagnostics)."""
    ready = "ready"
    """Valid, never run since it was created or edited."""
    running = "running"
    paused = "paused"
    """Reading stopped with everything read written and checkpointed; `resume` continues."""
    stopped = "stopped"
    """Stopped on request; the next `start` resumes from the checkpoint."""
    succeeded = "succeeded"
    failed = "failed"


_FINISHED = {JobStatus.succeeded, JobStatus.failed, JobStatus.stopped}
_IDLE = {JobStatus.draft, JobStatus.ready, *_FINISHED}

ACTIONS: dict[str, tuple[frozenset[JobStatus], str]] = {
    "start": (frozenset({JobStatus.ready, *_FINISHED}), "start it"),
    "pause": (frozenset({JobStatus.running}), "pause it"),
    "resume": (frozenset({JobStatus.paused}), "resume it"),
    "stop": (frozenset({JobStatus.running, JobStatus.paused}), "stop it"),
    "edit": (frozenset(_IDLE), "edit it"),
    "delete": (frozenset(_IDLE), "delete it"),
    "finish": (frozenset({JobStatus.running, JobStatus.paused, JobStatus.stopped}), "end a run"),
}
"""Each action, the statuses it is allowed from, and how messages name it."""

_HINTS = {
    JobStatus.draft: "Fix the errors in its config (PUT the job; POST /api/v1/validate shows "
    "them) so it becomes `ready`.",
    JobStatus.running: "Stop it first (POST …/stop), or wait for the run to end.",
    JobStatus.paused: "Resume it (POST …/resume) or stop it (POST …/stop) first.",
    JobStatus.ready: "Start it first (POST …/start).",
}


def check(action: str, status: str, *, job: str) -> None:
    """Raise `ConflictError` (HTTP 409) unless `action` is allowed in `status`."""
    allowed, wording = ACTIONS[action]
    if JobStatus(status) in allowed:
        return
    choices = ", ".join(f"`{s}`" for s in sorted(allowed))
    raise ConflictError(
        f"Cannot {wording}: job `{job}` is `{status}`; only a job that is {choices} can.",
        field="status",
        hint=_HINTS.get(JobStatus(status)),
    )


def validated_status(ok: bool) -> JobStatus:
    """What a job becomes after its config is (re)validated."""
    return JobStatus.ready if ok else JobStatus.draft
