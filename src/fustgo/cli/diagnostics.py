"""Loading a pipeline for a command and printing its diagnostics (`validate`, `run`).

Text goes through rich, so colour appears only on a terminal (and never with `NO_COLOR`);
JSON is printed plain, one document, for scripts and editors.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console

from fustgo.config.app import configured_registry
from fustgo.config.loader import load_pipeline
from fustgo.config.models import PipelineSpec, ValidationReport
from fustgo.config.render import render_json, render_text
from fustgo.plugins.registry import Registry

MainConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Main config file (default: $FUSTGO_CONFIG or ./fustgo.yaml)."),
]
"""The `--config` option every command that loads plugins takes."""

OverridesOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a value: `settings.parallelism=4` (repeatable)."),
]
"""The `--set path=value` option of commands that load a pipeline file."""

EXIT_INVALID = 2
"""Exit code for an invalid pipeline file, an invalid main config or a usage error."""


class OutputFormat(StrEnum):
    """How a command prints its result."""

    text = "text"
    json = "json"


def print_report(
    report: ValidationReport,
    *,
    file: str,
    output_format: OutputFormat = OutputFormat.text,
    stream: TextIO | None = None,
    quiet_when_clean: bool = False,
) -> None:
    """Print every diagnostic of `report` (about `file`) and a summary line.

    `stream` defaults to standard output. With `quiet_when_clean`, a text report without
    any diagnostic prints nothing (for `run`, which goes on to print its own output).
    """
    if output_format is OutputFormat.json:
        payload = json.dumps(render_json(report, file=file), indent=2, ensure_ascii=False)
        print(payload, file=stream or sys.stdout)
        return
    if quiet_when_clean and not report.diagnostics:
        return
    console = Console(file=stream, highlight=False, soft_wrap=True)
    console.print(render_text(report, file=file), end="")


def exit_code(report: ValidationReport) -> int:
    """0 when there is no error (warnings allowed), else 2."""
    return 0 if report.ok else EXIT_INVALID


def registry_or_exit(
    main_config: Path | None,
    *,
    output_format: OutputFormat = OutputFormat.text,
    stream: TextIO | None = None,
) -> Registry:
    """The plugin registry with the main config applied; exit 2 if the main config is bad."""
    registry, report, file = configured_registry(main_config)
    if file is not None and report.diagnostics:
        print_report(report, file=file, output_format=output_format, stream=stream)
    if not report.ok:
        raise typer.Exit(EXIT_INVALID)
    return registry


def load_or_exit(
    file: Path,
    *,
    overrides: Sequence[str] = (),
    main_config: Path | None = None,
) -> PipelineSpec:
    """The validated pipeline, or its diagnostics on standard error and exit code 2.

    Warnings are printed too (also on standard error) and do not stop the command.
    """
    registry = registry_or_exit(main_config, stream=sys.stderr)
    report = load_pipeline(file, overrides=overrides, registry=registry)
    print_report(report, file=str(file), stream=sys.stderr, quiet_when_clean=True)
    if report.pipeline is None:
        raise typer.Exit(EXIT_INVALID)
    return report.pipeline
