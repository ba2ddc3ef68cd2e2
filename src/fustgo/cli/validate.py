"""`fustgo validate FILE`: check a pipeline file without running it."""

from __future__ import annotations

import asyncio
import json
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
from fustgo.config.connections import ConnectionCheck, connection_warnings, probe_connections
from fustgo.config.loader import load_pipeline
from fustgo.config.render import render_json


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
    checks: list[ConnectionCheck] = []
    if connections and report.pipeline is not None:
        checks = asyncio.run(probe_connections(report.pipeline))
        report.diagnostics.extend(connection_warnings(checks, report.pipeline, report.source))
    if checks and output_format is OutputFormat.json:  # the report plus what answered
        payload = render_json(report, file=str(file))
        payload["connections"] = [check.to_json() for check in checks]
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        raise typer.Exit(exit_code(report))
    for check in checks:
        if check.error is None:
            typer.echo(check.describe())
    print_report(report, file=str(file), output_format=output_format)
    raise typer.Exit(exit_code(report))
