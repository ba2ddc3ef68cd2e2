"""A job's `scheduling` settings (design doc §5.4): when it runs by itself, and what happens
when a run is due while another still goes on, takes too long, or was missed.

Every field has a default, so `{}` (or no `scheduling` at all) is a job started by hand or
by its webhook only. The defaults are the documented ones (docs/server.md, "Scheduling").
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Overlap(StrEnum):
    """What a run that is due while the job's previous run still goes on does."""

    serial = "serial"
    """Wait for the previous run to end, then run (at most one waits per job)."""
    discard = "discard"
    """Do not run; the previous run goes on."""
    cancel = "cancel"
    """Stop the previous run (drain and checkpoint), then run."""


class MissedRuns(StrEnum):
    """What runs that were due while the server was down do when it starts again."""

    run_once = "run_once"
    """Run once for all of them, as soon as the server is up."""
    skip = "skip"
    """Forget them; wait for the next due time."""


DEFAULT_OVERLAP = Overlap.serial
DEFAULT_MISSED_RUNS = MissedRuns.run_once


class Scheduling(BaseModel):
    """When the job runs by itself, besides `start` and its webhook trigger."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    cron: str | None = Field(default=None, max_length=255)
    """A cron expression (`*/5 * * * *`, 5 fields; 6 with seconds last), read in `timezone`."""
    timezone: str = "UTC"
    """The IANA time zone of `cron` and of a `run_at` without an offset (`Asia/Shanghai`)."""
    run_at: datetime | None = None
    """Run once at this time (a one-shot schedule)."""
    depends_on: list[str] = Field(default_factory=list, max_length=100)
    """Job ids: run after each of them has succeeded (since this job's last run)."""
    overlap: Overlap = DEFAULT_OVERLAP
    """A run due while the previous one still goes on: `serial` (wait for it), `discard`
    (drop the new one) or `cancel` (stop the old one, then run)."""
    timeout_seconds: float | None = Field(default=None, gt=0)
    """Stop a run that has gone on this long (drain, checkpoint) and record it `timed_out`;
    none for no limit."""
    missed_runs: MissedRuns = DEFAULT_MISSED_RUNS
    """Runs due while the server was down: `run_once` when it starts, or `skip` them."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone `{value}` (use an IANA name)") from exc
        return value

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from croniter import croniter

        value = " ".join(value.split())
        if not croniter.is_valid(value):
            raise ValueError(
                f"`{value}` is not a cron expression (minute hour day month weekday, "
                "e.g. `*/5 * * * *`)"
            )
        return value

    @field_validator("depends_on")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _zoned_run_at(self) -> Scheduling:
        if self.run_at is not None and self.run_at.tzinfo is None:
            self.run_at = self.run_at.replace(tzinfo=ZoneInfo(self.timezone))
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def read_scheduling(stored: dict[str, object] | None) -> Scheduling:
    """A job's stored `scheduling_config` (None: the defaults)."""
    return Scheduling.model_validate(stored or {})
