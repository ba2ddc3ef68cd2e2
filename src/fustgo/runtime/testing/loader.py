"""Read a `*.test.yaml` file: YAML with positions → the models → its pipeline → input batches.

Everything wrong is a located `Diagnostic`, as for pipeline files (the same reader, the same
pydantic-error wording, the same rendering): a test file is read like a pipeline file, so
`!include` works (shared input records) and `${VAR}` is substituted from the environment
(`$${` for a literal). The pipeline is loaded with `config.loader.load_pipeline`, once per
distinct `env` of the tests, and its own diagnostics are reported against its own file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import ValidationError

from fustgo.config.document import DocumentReader
from fustgo.config.loader import load_pipeline
from fustgo.config.model_errors import model_diagnostics
from fustgo.config.models import (
    ComponentSpec,
    Diagnostic,
    PipelineSpec,
    ValidationLevel,
    ValidationReport,
)
from fustgo.config.positions import Loc, SourceMap
from fustgo.engine.types import parse_type
from fustgo.plugins.registry import Registry
from fustgo.runtime.testing.models import PipelineTest, PipelineTestFile
from fustgo.runtime.testing.records import RecordsError, records_batch

_WHERE = "the test file"


@dataclass(frozen=True)
class PipelineTestCase:
    """One test ready to run: its pipeline (loaded with its `env`), processors and input."""

    test: PipelineTest
    index: int
    """Position in the file's `tests`."""
    pipeline: PipelineSpec
    processors: tuple[ComponentSpec, ...]
    """The processors the test selects, in the order it gives."""
    input: pa.RecordBatch


@dataclass
class LoadedSuite:
    """A test file's tests, or the reports (test file, pipeline) that say why they cannot run."""

    file: str
    """The test file as named on the command line (diagnostics use the same name)."""
    pipeline_file: str | None = None
    cases: list[PipelineTestCase] = field(default_factory=list)
    reports: list[tuple[str, ValidationReport]] = field(default_factory=list)
    """(file name, report) of every file with errors: the test file, the pipeline."""

    @property
    def ok(self) -> bool:
        return not self.reports


def load_test_file(path: Path, *, registry: Registry | None = None) -> LoadedSuite:
    """Read and check the test file at `path` and load the pipeline it names."""
    label = str(path)
    suite = LoadedSuite(file=label)
    problems = _Problems(label)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return problems.fail(suite, f"Test file `{label}` does not exist", "Check the path.")
    except UnicodeDecodeError:
        return problems.fail(suite, f"Test file `{label}` is not UTF-8 text", None)
    except OSError as error:
        return problems.fail(suite, f"Cannot read test file `{label}`: {error.strerror}", None)
    reader = DocumentReader(env=os.environ, source=problems.source)
    document = reader.read(
        text, label=label, directory=path.parent.resolve(), real_path=path.resolve()
    )
    problems.diagnostics.extend(reader.diagnostics)
    if any(d.level == "syntax" for d in reader.diagnostics):
        return problems.report_to(suite)
    model = _validated(document, problems, frozenset(reader.unresolved))
    if model is None or problems.diagnostics:
        return problems.report_to(suite)
    _check_unique_names(model, problems)
    pipeline_path = Path(os.path.normpath(path.parent / model.pipeline))
    suite.pipeline_file = str(pipeline_path)
    if not pipeline_path.is_file():
        problems.add(
            "semantic",
            f"Pipeline file `{pipeline_path}` does not exist",
            ("pipeline",),
            hint="`pipeline` is relative to the folder of the test file.",
        )
        return problems.report_to(suite)
    _load_cases(model, pipeline_path, registry, suite, problems)
    return problems.report_to(suite)


@dataclass
class _Problems:
    """The test file's diagnostics, located with its source map."""

    file: str
    source: SourceMap = field(default_factory=SourceMap)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def add(
        self, level: ValidationLevel, message: str, loc: Loc, *, hint: str | None = None
    ) -> None:
        position = self.source.value_position(loc)
        self.diagnostics.append(
            Diagnostic.at(
                position, level=level, message=message, loc=loc, hint=hint, file=self.file
            )
        )

    def fail(self, suite: LoadedSuite, message: str, hint: str | None) -> LoadedSuite:
        self.diagnostics.append(
            Diagnostic(level="syntax", message=message, hint=hint, file=self.file)
        )
        return self.report_to(suite)

    def report_to(self, suite: LoadedSuite) -> LoadedSuite:
        """`suite`, with the test file's diagnostics (in file order) first among its reports."""
        if self.diagnostics:
            ordered = sorted(self.diagnostics, key=lambda d: (d.line or 0, d.column or 0))
            report = ValidationReport(diagnostics=ordered, source=self.source)
            suite.reports.insert(0, (self.file, report))
        if suite.reports:
            suite.cases = []
        return suite


def _load_cases(
    model: PipelineTestFile,
    pipeline_path: Path,
    registry: Registry | None,
    suite: LoadedSuite,
    problems: _Problems,
) -> None:
    """Load the pipeline once per distinct `env` and prepare each test against it."""
    loaded: dict[tuple[tuple[str, str], ...], ValidationReport] = {}
    failed: list[int] = []
    for index, test in enumerate(model.tests):
        overlay = {**model.env, **test.env}
        key = tuple(sorted(overlay.items()))
        if key not in loaded:
            loaded[key] = load_pipeline(
                pipeline_path, registry=registry, env={**os.environ, **overlay}
            )
            if not loaded[key].ok:
                suite.reports.append((str(pipeline_path), loaded[key]))
        spec = loaded[key].pipeline
        if spec is None:
            failed.append(index)
            continue
        case = _case(index, test, spec, problems)
        if case is not None:
            suite.cases.append(case)
    if failed and len(failed) < len(model.tests):  # the pipeline is invalid only for some envs
        for index in failed:
            problems.add(
                "semantic",
                f"With the `env` of test `{model.tests[index].name}`, the pipeline "
                f"`{pipeline_path}` is invalid (its diagnostics follow)",
                ("tests", index, "env") if model.tests[index].env else ("tests", index),
            )


def _validated(
    document: Any, problems: _Problems, unresolved: frozenset[Loc]
) -> PipelineTestFile | None:
    if document is None or document == {}:
        problems.add(
            "structure",
            "The test file is empty; it needs `pipeline` and `tests`",
            (),
            hint="See docs/testing.md for the format of a test file.",
        )
        return None
    if not isinstance(document, dict):
        problems.add(
            "structure",
            "A test file is a mapping with `pipeline` and `tests`, "
            f"not {'a list' if isinstance(document, list) else 'a single value'}",
            (),
            hint="See docs/testing.md for the format of a test file.",
        )
        return None
    try:
        return PipelineTestFile.model_validate(document)
    except ValidationError as error:
        problems.diagnostics.extend(
            model_diagnostics(
                error,
                model=PipelineTestFile,
                prefix=(),
                data=document,
                source=problems.source,
                unresolved=unresolved,
                where=_WHERE,
            )
        )
        return None


def _check_unique_names(model: PipelineTestFile, problems: _Problems) -> None:
    seen: dict[str, int] = {}
    for index, test in enumerate(model.tests):
        if test.name in seen:
            problems.add(
                "semantic",
                f"Two tests are named `{test.name}` (tests[{seen[test.name]}] and tests[{index}])",
                ("tests", index, "name"),
                hint="Give each test its own name; results and `--filter` go by name.",
            )
        seen.setdefault(test.name, index)


def _case(
    index: int, test: PipelineTest, spec: PipelineSpec, problems: _Problems
) -> PipelineTestCase | None:
    """The runnable test, or None after adding the diagnostics that prevent it."""
    loc: Loc = ("tests", index)
    if test.processors == "all":
        processors = spec.processors
    else:
        count = len(spec.processors)
        bad = [(i, n) for i, n in enumerate(test.processors) if n >= count]
        for position, number in bad:
            problems.add(
                "semantic",
                f"`tests[{index}].processors` selects processor {number}, but the pipeline has "
                f"{count} processor{'' if count == 1 else 's'}",
                (*loc, "processors", position),
                hint=f"Use indexes 0 to {count - 1} of `pipeline.processors`."
                if count
                else "The pipeline has no processors; remove `processors`.",
            )
        if bad:
            return None
        processors = tuple(spec.processors[number] for number in test.processors)
    schema = {name: parse_type(text) for name, text in test.input_schema.items()}
    try:
        data = records_batch(test.input, schema)
    except RecordsError as error:
        where = error.where if error.where[0] == "input_schema" else ("input", *error.where)
        problems.add("semantic", str(error), (*loc, *where))
        return None
    return PipelineTestCase(
        test=test, index=index, pipeline=spec, processors=processors, input=data
    )
