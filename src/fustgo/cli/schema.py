"""`fustgo schema`: the JSON Schema of pipeline files, for editors and tools."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from fustgo.cli.diagnostics import MainConfigOption, registry_or_exit
from fustgo.config.schema import pipeline_json_schema


def register(app: typer.Typer) -> None:
    app.command(name="schema")(schema)


def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
    config: MainConfigOption = None,
) -> None:
    """Print the JSON Schema of a pipeline file (every enabled plugin).

    Point yaml-language-server at it with `# yaml-language-server: $schema=pipeline.schema.json`
    at the top of a pipeline file.
    """
    registry = registry_or_exit(config)
    text = json.dumps(pipeline_json_schema(registry), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    typer.echo(f"Wrote the pipeline JSON Schema to {output}.", err=True)
