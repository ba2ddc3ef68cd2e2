"""`fustgo validate FILE`: check a pipeline file without running it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from fustgo.cli.diagnostics import (
    MainConfigOption,
    OutputFormat,
    OverridesOption,
    exit_code,
    print_report,
    registry_or_exit,
)
from fustgo.config.connections import check_connections
from fustgo.config.loader import load_pipeline


def register(app: typer.Typer) -> None:
    app.command(name="validate")(validate)


def validate(
    file: Annotated[Path, typer.Argument(help="The pipeline file (YAML).")],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Print diagnostics as text or JSON.")
    ] = OutputFormat.text,
    connections: Annotated[
        bool,
        typer.Option(
            "--check-connections",
            help="Also ask each plugin to reach its system (failures are warnings).",
        ),
    ] = False,
    set_: OverridesOption = None,
    config: MainConfigOption = None,
) -> None:
    """Check a pipeline file: syntax, structure, plugins, settings and (optionally) connections.

    Prints one diagnostic per problem with its line and column. Exit codes: 0 valid
    (warnings allowed), 2 invalid.
    """
    registry = registry_or_exit(config, output_format=output_format)
    report = load_pipeline(file, overrides=set_ or [], registry=registry)
    if connections and report.pipeline is not None:
        found = asyncio.run(check_connections(report.pipeline, source=report.source))
        report.diagnostics.extend(found)
    print_report(report, file=str(file), output_format=output_format)
    raise typer.Exit(exit_code(report))
