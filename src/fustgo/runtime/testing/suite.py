"""Run the tests of a loaded test file, one `Runner` run each, and collect the results."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from fustgo.engine.errors import FustgoError
from fustgo.plugins.registry import Registry, default_registry
from fustgo.runtime.testing.expectations import Failure, check_run
from fustgo.runtime.testing.harness import run_with_captures
from fustgo.runtime.testing.loader import LoadedSuite

log = logging.getLogger(__name__)


@dataclass
class PipelineTestResult:
    """One test's outcome: passed when nothing failed."""

    name: str
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "seconds": round(self.seconds, 6),
            "failures": [failure.to_json() for failure in self.failures],
        }


def _selected(name: str, name_filter: str | None) -> bool:
    """`--filter`: a case-insensitive part of the test's name."""
    return name_filter is None or name_filter.casefold() in name.casefold()


async def run_suite(
    suite: LoadedSuite, *, registry: Registry | None = None, name_filter: str | None = None
) -> list[PipelineTestResult]:
    """Run the suite's tests (those `name_filter` selects) one after the other."""
    registry = registry or default_registry()
    results: list[PipelineTestResult] = []
    for case in suite.cases:
        if not _selected(case.test.name, name_filter):
            continue
        started = time.perf_counter()
        try:
            run = await run_with_captures(
                case.pipeline,
                case.processors,
                case.input,
                registry=registry,
                batch_rows=case.test.batch_size,
            )
            failures = check_run(case.test.expect, run)
        except FustgoError as exc:  # a plugin refused its config when built
            failures = [Failure(f"The pipeline could not be built: {exc}")]
        except Exception as exc:  # a plugin bug: one failed test, not a crashed command
            log.debug("Test `%s` raised", case.test.name, exc_info=True)
            failures = [Failure(f"Unexpected {type(exc).__name__}: {exc}")]
        results.append(
            PipelineTestResult(
                name=case.test.name,
                failures=failures,
                seconds=time.perf_counter() - started,
            )
        )
    return results
