"""What the scheduler needs of the runs it starts (the server's worker pool implements it):
start a run with its trigger, see and stop the runs going on, hear when one ends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class RunEnded:
    """A run's end, as the pool tells its listeners."""

    job_id: str
    execution_id: str
    status: str
    """The execution's status: `succeeded`, `failed`, `error_limit_exceeded`, `timed_out`,
    `stopped`, `paused` or `cancelled`."""
    trigger: str
    attempt: int
    """0 for a first run; n for the n-th automatic retry."""


RunListener = Callable[[RunEnded], Awaitable[None]]


class RunView(Protocol):
    """A run in the pool, queued or going on."""

    job_id: str
    execution_id: str
    state: str
    """`queued` or `running`."""
    started_at: datetime | None
    """When it left the queue (by the pool's clock)."""


class Runs(Protocol):
    active: Mapping[str, RunView]

    async def start(
        self, job_id: str, *, action: str = "start", trigger: str = "api", attempt: int = 0
    ) -> object: ...

    async def cancel(self, job_id: str, reason: str) -> None: ...

    async def time_out(self, job_id: str, reason: str) -> None: ...

    def add_listener(self, listener: RunListener) -> None: ...
