"""`fustgo test PATH…`: run pipeline unit tests (`*.test.yaml`) and report PASS / FAIL.

Exit codes: 0 every test passed, 1 a test failed, 2 a test file or its pipeline is invalid
(its diagnostics are printed) or the command was used wrongly (no test file, no test
selected by `--filter`).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from fustgo.cli.diagnostics import (
    EXIT_INVALID,
    MainConfigOption,
    OutputFormat,
    print_report,
    registry_or_exit,
)
from fustgo.observability.logging import configure_logging
from fustgo.plugins.registry import Registry
from fustgo.runtime.testing import LoadedSuite, PipelineTestResult, load_test_file, run_suite

EXIT_OK = 0
EXIT_FAILED = 1
TEST_FILE_SUFFIX = ".test.yaml"


def register(app: typer.Typer) -> None:
    app.command(name="test")(test)


def test(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Test files, or folders searched for `*.test.yaml` files."),
    ],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Print results as text or JSON.")
    ] = OutputFormat.text,
    name_filter: Annotated[
        str | None,
        typer.Option("--filter", help="Run only the tests whose name contains this text."),
    ] = None,
    config: MainConfigOption = None,
) -> None:
    """Run pipeline unit tests: records in, the pipeline's processors, expectations out.

    Nothing is read or written outside the test files: the input is the test's records
    and the outputs and dead letters are captured in memory. Exit codes: 0 all passed,
    1 a test failed, 2 an invalid test file or pipeline, or no test to run.
    """
    configure_logging("error")  # the runner's warnings would interleave with the results
    registry = registry_or_exit(config, output_format=output_format)
    files = _test_files(paths)
    suites = [load_test_file(file, registry=registry) for file in files]
    results = asyncio.run(_run_all(suites, registry, name_filter))
    invalid = [suite for suite in suites if not suite.ok]
    if name_filter is not None and not invalid and not any(results.values()):
        _usage_error(f"No test matches `--filter {name_filter}`.")
    if output_format is OutputFormat.json:
        _print_json(suites, results)
    else:
        _print_text(suites, results)
    failed = any(not result.passed for found in results.values() for result in found)
    raise typer.Exit(EXIT_INVALID if invalid else EXIT_FAILED if failed else EXIT_OK)


async def _run_all(
    suites: list[LoadedSuite], registry: Registry, name_filter: str | None
) -> dict[str, list[PipelineTestResult]]:
    return {
        suite.file: await run_suite(suite, registry=registry, name_filter=name_filter)
        for suite in suites
    }


def _test_files(paths: list[Path]) -> list[Path]:
    """The files named, and the `*.test.yaml` files below the folders named, each once."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            below = sorted(path.rglob(f"*{TEST_FILE_SUFFIX}"))
            found.extend(p for p in below if not _hidden(p.relative_to(path)))
        elif path.exists():
            found.append(path)
        else:
            _usage_error(f"`{path}` does not exist.")
    if not found:
        named = ", ".join(f"`{path}`" for path in paths)
        _usage_error(f"No `*{TEST_FILE_SUFFIX}` file in {named}.")
    return list(dict.fromkeys(found))


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _usage_error(message: str) -> None:
    Console(stderr=True, highlight=False).print(f"[red]error:[/red] {message}")
    raise typer.Exit(EXIT_INVALID)


def _print_text(suites: list[LoadedSuite], results: dict[str, list[PipelineTestResult]]) -> None:
    console = Console(highlight=False, soft_wrap=True)
    passed = failed = 0
    for suite in suites:
        if not suite.ok:
            for file, report in suite.reports:
                print_report(report, file=file)
            continue
        found = results[suite.file]
        if not found:
            continue
        console.print(Text(f"{suite.file} (pipeline {suite.pipeline_file})", style="bold"))
        for result in found:
            passed += result.passed
            failed += not result.passed
            status = (
                Text("  PASS  ", style="bold green")
                if result.passed
                else Text("  FAIL  ", style="bold red")
            )
            line = status + Text(result.name) + Text(f" ({_duration(result.seconds)})", "dim")
            console.print(line)
            for failure in result.failures:
                console.print(Text(f"        {failure.message}"))
                for detail in failure.details:
                    console.print(Text(f"          {detail}"))
    invalid = sum(not suite.ok for suite in suites)
    tail = f", {invalid} invalid test file{'' if invalid == 1 else 's'}" if invalid else ""
    style = "bold red" if failed or invalid else "bold green"
    console.print(Text(f"{passed} passed, {failed} failed{tail}", style=style))


def _print_json(suites: list[LoadedSuite], results: dict[str, list[PipelineTestResult]]) -> None:
    files: list[dict[str, Any]] = []
    for suite in suites:
        found = results[suite.file]
        files.append(
            {
                "file": suite.file,
                "pipeline": suite.pipeline_file,
                "ok": suite.ok,
                "diagnostics": [
                    diagnostic.to_json()
                    for _, report in suite.reports
                    for diagnostic in report.diagnostics
                ],
                "tests": [result.to_json() for result in found],
            }
        )
    every = [result for found in results.values() for result in found]
    payload = {
        "passed": sum(result.passed for result in every),
        "failed": sum(not result.passed for result in every),
        "invalid_files": sum(not suite.ok for suite in suites),
        "files": files,
    }
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"
