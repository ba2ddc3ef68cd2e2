"""The `*.test.yaml` format, as models: unknown keys are errors, every field is documented.

The loader validates a test file against `PipelineTestFile` and turns pydantic's errors
into located diagnostics with the same machinery as pipeline files (`config.model_errors`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from fustgo.plugins.spec import SqlExpression, TypeName

Record = dict[str, Any]
"""One record as written in YAML: field name → value."""


def _env_text(value: Any) -> Any:
    """`PORT: 5432` and `DEBUG: true` are meant as the strings `5432` and `true`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


EnvValue = Annotated[str, BeforeValidator(_env_text)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class RecordsExpectation(_Strict):
    """What must reach one output: its records, how many, and conditions on every one."""

    records: list[Record] | None = None
    """Every record the output must receive, each with the fields to check (all of its
    fields with `exact: true`); the output must receive exactly this many records."""
    count: int | None = Field(default=None, ge=0)
    """How many records the output must receive."""
    conditions: list[SqlExpression] = Field(default_factory=list)
    """SQL conditions every output record must meet (a NULL result counts as not met)."""
    ordered: bool = True
    """Compare `records` in order; false matches them in any order."""
    exact: bool = False
    """An output record may have no field that its expected record does not list."""


class DeadLetterExpectation(_Strict):
    """One record expected in the dead letter; every key given must match."""

    stage: str | None = None
    """The stage that rejected it, as written in the pipeline (`pipeline.processors[1]`)."""
    error_contains: str | None = None
    """Text the error message contains."""
    record: Record | None = None
    """Fields of the failed record (only the listed fields are compared)."""


class Expectation(RecordsExpectation):
    """What a test expects: the output's records, the dead letters, the leaf outputs."""

    dead_letters: list[DeadLetterExpectation] | Annotated[int, Field(ge=0)] | None = None
    """How many records go to the dead letter, or one entry per dead letter (in any order).
    When omitted: none, unless `fails_with` is set (then they are not checked)."""
    outputs: dict[str, RecordsExpectation] = Field(default_factory=dict)
    """Expectations per leaf output, by its path in the pipeline (`output.cases[0].output`),
    for `broker` and `switch` outputs."""
    fails_with: str | None = Field(default=None, min_length=1)
    """The run must fail, with an error message containing this text."""


class PipelineTest(_Strict):
    """One test: records in, some or all of the processors, expectations out."""

    name: str = Field(min_length=1)
    """What the test shows; unique in the file (`--filter` selects tests by it)."""
    env: dict[str, EnvValue] = Field(default_factory=dict)
    """Environment variables for `${VAR}` in the pipeline file, over the file's `env`."""
    processors: Literal["all"] | list[Annotated[int, Field(ge=0)]] = "all"
    """`all`, or the indexes in `pipeline.processors` of the processors to run, in order."""
    input: list[Record]
    """The records the processors receive, as the input would emit them."""
    input_schema: dict[str, TypeName] = Field(default_factory=dict)
    """Logical types of input fields (`amount: decimal(10,2)`, `day: date`); the other
    fields get the type their values suggest."""
    batch_size: int | None = Field(default=None, ge=1)
    """Records per input batch; default the pipeline's `settings.batch_size`."""
    expect: Expectation
    """What must come out."""


class PipelineTestFile(_Strict):
    """A test file: the pipeline under test and its tests."""

    pipeline: str = Field(min_length=1)
    """The pipeline file, relative to this file."""
    env: dict[str, EnvValue] = Field(default_factory=dict)
    """Environment variables for `${VAR}` in the pipeline file, for every test."""
    tests: list[PipelineTest] = Field(min_length=1)
    """The tests."""
