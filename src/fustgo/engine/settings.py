"""Run settings: the `settings:` section of a pipeline file.

These are the DataX-style knobs of a run: channels, batch size, queue capacity, speed
limits, the error limit, retries and checkpoints. Defaults suit a laptop; every field is
documented here once and the docs, JSON Schema and console forms come from this model.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from fustgo.engine.units import ByteSize, Duration


class SettingsModel(BaseModel):
    """Strict base: unknown keys are errors (typos must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class SpeedLimit(SettingsModel):
    """Upper bounds on read speed for the whole run; 0 means unlimited."""

    records_per_sec: int = Field(default=0, ge=0)
    """Records per second read, over all channels together."""
    bytes_per_sec: ByteSize = Field(default=0)
    """Bytes per second read (Arrow in-memory size), over all channels together."""


class ErrorLimit(SettingsModel):
    """How many failed records a run tolerates before it stops.

    As in DataX, `records` wins when both are set; `percentage` (a fraction, 0.01 = 1 %) is
    checked against records read when the run ends. Failed records always go to the
    dead-letter output, whatever the limit.
    """

    records: int | None = Field(default=0, ge=0)
    """Failed records tolerated; 0 stops at the first failure, null disables the count."""
    percentage: float | None = Field(default=None, ge=0, le=1)
    """Fraction of records read that may fail (0.01 = 1 %); used when `records` is null."""


class RetryPolicy(SettingsModel):
    """Exponential backoff for transient errors (timeouts, dropped connections)."""

    max_retries: int = Field(default=3, ge=0)
    """Retries after the first attempt; 0 fails at the first transient error."""
    initial_delay: Duration = 1.0
    """Wait before the first retry."""
    max_delay: Duration = 30.0
    """Longest wait between two retries."""
    backoff_multiplier: float = Field(default=2.0, ge=1.0)
    """Each wait is the previous one times this factor, up to `max_delay`."""


class CheckpointSettings(SettingsModel):
    """Where and how often the run saves its position so a restart resumes."""

    enabled: bool = True
    """Save checkpoints and resume an interrupted run of the same pipeline."""
    path: str = ".fustgo/checkpoints.db"
    """SQLite file holding checkpoints (relative to the working directory)."""
    interval: Duration = 5.0
    """Flush the output and save the position at least this often."""


class QueueSettings(SettingsModel):
    """Bounded channels between stages: a full queue makes the reader wait (backpressure)."""

    capacity_records: int = Field(default=10_000, ge=1)
    """Records buffered between two stages before the producer waits."""
    capacity_bytes: ByteSize = Field(default=64 * 1024 * 1024, ge=1)
    """Bytes (Arrow in-memory size) buffered between two stages before the producer waits."""


class RunSettings(SettingsModel):
    """The `settings:` section of a pipeline file."""

    parallelism: int = Field(default=1, ge=1, le=256)
    """Channels: how many splits are read and processed at once (DataX `channel`)."""
    batch_size: int = Field(default=10_000, ge=1)
    """Records per batch passed between stages."""
    queue: QueueSettings = QueueSettings()
    """Capacity of the bounded channels between stages."""
    speed: SpeedLimit = SpeedLimit()
    """Read speed limits for the whole run."""
    error_limit: ErrorLimit = ErrorLimit()
    """Failed records tolerated before the run stops."""
    retry: RetryPolicy = RetryPolicy()
    """Backoff for transient errors."""
    checkpoint: CheckpointSettings = CheckpointSettings()
    """Checkpoint storage and interval."""
    progress_interval: Duration = 5.0
    """How often progress is logged when the output is not a terminal."""
