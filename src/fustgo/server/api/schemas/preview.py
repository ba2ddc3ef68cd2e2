"""Requests of the preview API: where the data is (a saved connection, unsaved settings, a
job, or pipeline YAML) and how much to read."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fustgo.plugins.catalog import MAX_PREVIEW_ROWS

DEFAULT_ROWS = 100
"""Rows a preview shows unless asked (design doc §6.5)."""
MAX_RUN_PREVIEW_ROWS = 10_000


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class InlineConnection(_Request):
    """Connection settings not saved yet (the connection form)."""

    type: str = Field(min_length=1, max_length=64)
    """The database family: `postgresql`, `mysql` (also `mariadb`, `tidb`) or `sqlite`."""
    config: dict[str, Any]
    """The family's `connection` settings, as in a pipeline's `input.connection`."""


class DataRef(_Request):
    """Where the data is: exactly one of `connection_id`, `connection`, `job_id`,
    `config_yaml`. A connection needs `table` or `sql`; a job or YAML uses its input (source)
    or output (target) and the table it names, unless `table` or `sql` is given."""

    connection_id: str | None = None
    """A saved connection (`/api/v1/connections`)."""
    connection: InlineConnection | None = None
    job_id: str | None = None
    """A saved job: its pipeline's input or output."""
    config_yaml: str | None = None
    """Pipeline YAML (the designer's work in progress): its input or output."""
    table: str | None = Field(default=None, min_length=1)
    """`schema.table`, or a table of the connection's default schema."""
    sql: str | None = Field(default=None, min_length=1)
    """A SELECT to preview instead of a table (sources only)."""

    @model_validator(mode="after")
    def _one_place(self) -> Self:
        given = [
            name
            for name in ("connection_id", "connection", "job_id", "config_yaml")
            if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of `connection_id`, `connection`, `job_id`, `config_yaml`"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.table is not None and self.sql is not None:
            raise ValueError("give `table` or `sql`, not both")
        return self

    @property
    def from_pipeline(self) -> bool:
        return self.job_id is not None or self.config_yaml is not None


class PreviewRequest(DataRef):
    limit: int = Field(default=DEFAULT_ROWS, ge=1, le=MAX_PREVIEW_ROWS)
    """Rows to read (the database stops after them)."""
    timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    """Give up after this long (a stream that sends nothing, an unreachable server); a
    stream returns what it read by then."""


class SchemaCompareRequest(_Request):
    """Source and target, each a `DataRef`; or `job_id`/`config_yaml` alone for the
    pipeline's input against its output."""

    source: DataRef | None = None
    target: DataRef | None = None
    job_id: str | None = None
    config_yaml: str | None = None
    timeout_seconds: float = Field(default=30.0, gt=0, le=300)

    @model_validator(mode="after")
    def _both_ends(self) -> Self:
        pipeline = self.job_id is not None or self.config_yaml is not None
        if self.job_id is not None and self.config_yaml is not None:
            raise ValueError("give `job_id` or `config_yaml`, not both")
        if not pipeline and (self.source is None or self.target is None):
            raise ValueError("give `source` and `target`, or a `job_id` or `config_yaml`")
        return self

    def ends(self) -> tuple[DataRef, DataRef]:
        """The source and target, the pipeline's ends filling in those not given."""
        pipeline = {"job_id": self.job_id, "config_yaml": self.config_yaml}
        source = self.source or DataRef.model_validate(pipeline)
        target = self.target or DataRef.model_validate(pipeline)
        return source, target


class RunPreviewRequest(_Request):
    limit: int = Field(default=DEFAULT_ROWS, ge=1, le=MAX_RUN_PREVIEW_ROWS)
    """Input records to run through the pipeline."""
    timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    """Reading stops after this long with what it has (a quiet stream)."""


class DraftRunPreviewRequest(RunPreviewRequest):
    """A run preview of pipeline YAML that is not saved (the designer's work in progress)."""

    config_yaml: str = Field(min_length=1)
    """The pipeline; it must validate (errors answer 422 with every diagnostic)."""
