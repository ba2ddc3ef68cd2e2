"""The metadata store's tables (design doc §8.1), as SQLAlchemy 2 ORM rows.

The same models run on SQLite, PostgreSQL and MySQL/MariaDB, so they use portable types
only: strings for statuses (no database enums: a new status needs no migration), `JSON`
for structured columns, long text as MEDIUMTEXT on MySQL (TEXT stops at 64 KB), and
timestamps stored as naive UTC with microseconds and returned as aware UTC.
Changing a model needs a migration in `store/migrations/versions/` (a test compares them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID_LENGTH = 64
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
"""Text that may exceed 64 KB (pipeline YAML, error messages)."""
_Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def utc_now() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime; stored naive (UTC) because SQLite and MySQL keep no zone."""

    impl = _Timestamp
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("The store takes aware datetimes only (use datetime.now(UTC)).")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class JobRow(Base):
    """A job: a pipeline file plus how and when it runs (design doc §5.1, §8.1 `jobs`)."""

    __tablename__ = "jobs"

    job_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    job_name: Mapped[str] = mapped_column(String(255), unique=True)
    job_type: Mapped[str] = mapped_column(String(16))
    """`ETL` or `ELT`."""
    description: Mapped[str | None] = mapped_column(Text)
    config_yaml: Mapped[str] = mapped_column(LongText)
    flow_diagram: Mapped[dict[str, Any] | None]
    scheduling_config: Mapped[dict[str, Any] | None]
    retry_policy: Mapped[dict[str, Any] | None]
    priority: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(32), index=True)
    """One of `store.lifecycle.JobStatus`; changed only through the state machine."""
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    source_type: Mapped[str | None] = mapped_column(String(64), index=True)
    """The input plugin (`mysql`), kept beside the YAML so lists can filter on it."""
    target_type: Mapped[str | None] = mapped_column(String(64), index=True)
    """The output plugin (`postgresql`)."""
    diagnostics: Mapped[list[Any] | None]
    """The findings of the last validation (why a job is a draft)."""
    created_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ExecutionRow(Base):
    """One run of a job, with its summary (design doc §8.1 `executions`)."""

    __tablename__ = "executions"
    __table_args__ = (Index("ix_executions_job_start", "job_id", "start_time"),)

    execution_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    job_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("jobs.job_id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(32))
    """`running`, then the run's end: `succeeded`, `failed`, `stopped`, `paused`,
    `error_limit_exceeded`, or `abandoned` (the server stopped during the run)."""
    trigger: Mapped[str] = mapped_column(String(32), default="api")
    start_time: Mapped[datetime] = mapped_column(index=True)
    end_time: Mapped[datetime | None]
    records_read: Mapped[int] = mapped_column(BigInteger, default=0)
    records_written: Mapped[int] = mapped_column(BigInteger, default=0)
    records_filtered: Mapped[int] = mapped_column(BigInteger, default=0)
    records_failed: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_transferred: Mapped[int] = mapped_column(BigInteger, default=0)
    error_message: Mapped[str | None] = mapped_column(LongText)
    worker_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    summary: Mapped[dict[str, Any] | None]
    """The run summary as `fustgo run` prints it in JSON (stages, rates, bottleneck)."""


class RunStateRow(Base):
    """A job's resumable run: its split plan, and the input state it commits (the
    checkpoint store's `runs` and `states`, keyed by job instead of pipeline name)."""

    __tablename__ = "run_states"

    job_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("jobs.job_id", ondelete="CASCADE"), primary_key=True
    )
    fingerprint: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    splits: Mapped[list[Any] | None]
    """The split plan of the unfinished run; None when no run is unfinished."""
    next_state: Mapped[dict[str, Any] | None]
    committed_state: Mapped[dict[str, Any] | None]
    """What the last successful run committed (an incremental input's high-water mark)."""
    started_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class CheckpointRow(Base):
    """The last durable position of one split of a job's unfinished run."""

    __tablename__ = "checkpoints"

    job_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("jobs.job_id", ondelete="CASCADE"), primary_key=True
    )
    split_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    checkpoint: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class PluginRow(Base):
    """A plugin's persisted switch (design doc §8.1 `plugins`); every plugin ships in the
    package, so only plugins whose state was changed at run time have a row."""

    __tablename__ = "plugins"
    __table_args__ = (Index("ux_plugins_kind_name", "plugin_type", "plugin_name", unique=True),)

    plugin_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    plugin_name: Mapped[str] = mapped_column(String(255))
    plugin_type: Mapped[str] = mapped_column(String(32))
    """`input`, `processor` or `output`."""
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime]


class WorkerRow(Base):
    """A worker that registered and heartbeats (design doc §8.1 `workers`)."""

    __tablename__ = "workers"

    worker_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    ip_address: Mapped[str] = mapped_column(String(45))
    port: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    """`online`, `offline` or `busy`."""
    cpu_cores: Mapped[int | None] = mapped_column(Integer)
    memory_mb: Mapped[int | None] = mapped_column(Integer)
    last_heartbeat: Mapped[datetime]
    registered_at: Mapped[datetime]


class AlertRuleRow(Base):
    """An alert rule: when it fires and what it does (design doc §8.1 `alert_rules`)."""

    __tablename__ = "alert_rules"

    alert_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    alert_name: Mapped[str] = mapped_column(String(255))
    alert_type: Mapped[str] = mapped_column(String(64))
    condition: Mapped[dict[str, Any]]
    action: Mapped[dict[str, Any]]
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class ConnectionRow(Base):
    """A saved data source jobs can reuse: a catalog family and its `connection` settings.

    The settings are kept as given, password included (jobs need it to connect); the API
    masks secret fields in every response. Encryption at rest comes with `security/`."""

    __tablename__ = "connections"

    connection_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    """The catalog family (`postgresql`, `mysql`, `sqlite`)."""
    description: Mapped[str | None] = mapped_column(Text)
    config: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MetricSampleRow(Base):
    """A run's cumulative counters at one moment (design doc §6.6 metrics); rates, error
    ratios and batch latencies are differences of two samples, so thinning old samples out
    loses detail, never totals."""

    __tablename__ = "metric_samples"
    __table_args__ = (Index("ix_metric_samples_job_time", "job_id", "recorded_at"),)

    sample_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    job_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("jobs.job_id", ondelete="CASCADE")
    )
    execution_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("executions.execution_id", ondelete="CASCADE"), index=True
    )
    recorded_at: Mapped[datetime]
    elapsed_seconds: Mapped[float]
    records_read: Mapped[int] = mapped_column(BigInteger)
    records_written: Mapped[int] = mapped_column(BigInteger)
    records_filtered: Mapped[int] = mapped_column(BigInteger)
    records_failed: Mapped[int] = mapped_column(BigInteger)
    bytes_read: Mapped[int] = mapped_column(BigInteger)
    batches: Mapped[float]
    """Batches of `settings.batch_size` records processed and written so far."""
    batch_seconds: Mapped[float]
    """Seconds spent processing and writing them (the processors' and the output's)."""
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    """The run's summary (its last sample)."""


class AlertEventRow(Base):
    """One firing of an alert rule for one subject (a job, or `system`): when it started,
    resolved, and when it last notified (the cooldown)."""

    __tablename__ = "alert_events"
    __table_args__ = (Index("ix_alert_events_rule_subject", "alert_id", "subject"),)

    event_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    alert_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("alert_rules.alert_id", ondelete="CASCADE")
    )
    subject: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    """`firing` or `resolved`."""
    message: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    notified_at: Mapped[datetime | None]
    """The last notification sent for it (None: suppressed by the cooldown so far)."""
    deliveries: Mapped[list[Any] | None]
    """The last delivery per channel: `{channel, ok, error}`."""


class JobScheduleRow(Base):
    """What the scheduler keeps of a job between starts: its webhook trigger token and the
    last due time it dealt with (so runs due while the server was down are found)."""

    __tablename__ = "job_schedules"

    job_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("jobs.job_id", ondelete="CASCADE"), primary_key=True
    )
    trigger_token: Mapped[str] = mapped_column(String(ID_LENGTH), unique=True)
    """The secret of `POST /api/v1/triggers/{token}`."""
    last_due_at: Mapped[datetime | None]
    """The newest due time already run, skipped or discarded; none before the first."""
    updated_at: Mapped[datetime]
