"""Jobs and executions as the API takes and returns them (design doc §5.1, §7.1)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fustgo.scheduler.settings import Scheduling
from fustgo.server.api.schemas.paging import MAX_PAGE
from fustgo.store.lifecycle import JobStatus


class JobType(StrEnum):
    ETL = "ETL"
    ELT = "ELT"


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class RetryPolicy(_Request):
    """Automatic retries of a failed run (applied by the scheduler; stored today)."""

    max_retries: int = Field(default=0, ge=0, le=100)
    delay_seconds: float = Field(default=60.0, ge=0)


class JobFields(_Request):
    """The fields a job's owner sets, besides its YAML."""

    job_name: str | None = Field(default=None, min_length=1, max_length=255)
    """Defaults to the pipeline's `name:`."""
    job_type: JobType = JobType.ETL
    description: str | None = None
    flow_diagram: dict[str, Any] | None = None
    """The designer's graph (nodes, edges, positions), kept as given."""
    scheduling: Scheduling | None = None
    enabled: bool = True
    priority: int = Field(default=0, ge=0, le=100)
    """Higher runs first when runs wait for a slot."""
    retry_policy: RetryPolicy | None = None
    created_by: str | None = Field(default=None, max_length=64)


class JobCreate(JobFields):
    """A new job: its pipeline YAML and how it runs."""

    config_yaml: str = Field(min_length=1)
    """The pipeline file's text, as `fustgo run` reads it."""


class JobUpdate(_Request):
    """Fields to change; those left out stay as they are."""

    job_name: str | None = Field(default=None, min_length=1, max_length=255)
    job_type: JobType | None = None
    description: str | None = None
    config_yaml: str | None = Field(default=None, min_length=1)
    flow_diagram: dict[str, Any] | None = None
    scheduling: Scheduling | None = None
    enabled: bool | None = None
    priority: int | None = Field(default=None, ge=0, le=100)
    retry_policy: RetryPolicy | None = None


class Diagnostic(BaseModel):
    """A finding about the YAML, as `fustgo validate --format json` prints it."""

    level: str
    severity: str
    path: str
    file: str | None
    line: int | None
    column: int | None
    message: str
    hint: str | None


class JobResponse(BaseModel):
    job_id: str
    job_name: str
    job_type: JobType
    description: str | None
    config_yaml: str
    flow_diagram: dict[str, Any] | None
    scheduling: Scheduling | None
    enabled: bool
    priority: int
    retry_policy: RetryPolicy | None
    status: JobStatus
    source_type: str | None
    """The input plugin."""
    target_type: str | None
    """The output plugin."""
    diagnostics: list[Diagnostic]
    """Why the job is a `draft` (errors), or warnings; empty when the YAML is clean."""
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    active_execution_id: str | None = None
    """The run going on in this server, if any."""
    next_runs: list[datetime] = Field(default_factory=list)
    """The next 5 due times of its `cron` / `run_at` (GET …/schedule shows more)."""


class JobQuery(_Request):
    """The query string of a job list."""

    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    page_size: int = Field(default=50, ge=1, le=500)
    status: JobStatus | None = None
    job_type: JobType | None = None
    source: str | None = Field(default=None, max_length=64)
    """The input plugin (`mysql`)."""
    target: str | None = Field(default=None, max_length=64)
    """The output plugin (`postgresql`)."""
    enabled: bool | None = None
    q: str | None = Field(default=None, max_length=255)
    """Part of the job's name (any case)."""
    sort: str = Field(default="-updated_at", max_length=32)
    """`job_name`, `created_at`, `updated_at`, `priority` or `status`; `-` for descending."""


class JobSummary(BaseModel):
    """A job in a list (without its YAML and graph)."""

    job_id: str
    job_name: str
    job_type: JobType
    description: str | None
    status: JobStatus
    enabled: bool
    priority: int
    source_type: str | None
    target_type: str | None
    created_at: datetime
    updated_at: datetime


class Page(BaseModel):
    total: int
    """How many match, in all pages."""
    page: int
    page_size: int


class JobList(Page):
    items: list[JobSummary]


class ExecutionResponse(BaseModel):
    execution_id: str
    job_id: str
    status: str
    """`running`, `succeeded`, `failed`, `error_limit_exceeded`, `stopped`, `paused` or
    `abandoned` (the server stopped during the run)."""
    trigger: str
    start_time: datetime
    end_time: datetime | None
    records_read: int
    records_written: int
    records_filtered: int
    records_failed: int
    bytes_transferred: int
    error_message: str | None
    worker_id: str | None
    summary: dict[str, Any] | None
    """The run summary (stages, rates, bottleneck), as `fustgo run` reports it."""
    job_name: str | None = None
    """Set in the list of every job's runs (`GET /executions`)."""


class ExecutionList(Page):
    items: list[ExecutionResponse]


class JobAction(BaseModel):
    """The outcome of start, stop, pause or resume."""

    job_id: str
    status: JobStatus
    execution_id: str | None = None
    """The execution that was started (start, resume)."""


class ValidateRequest(_Request):
    config_yaml: str = Field(min_length=1)
    check_connections: bool = False
    """Also ask each plugin to reach its system (failures are warnings)."""


class ValidateResponse(BaseModel):
    """The same JSON as `fustgo validate --format json`."""

    file: str
    ok: bool
    diagnostics: list[Diagnostic]
    pipeline: dict[str, Any] | None
    connections: list[dict[str, Any]] | None = None
