"""`fustgo plugins list|show`: what plugins exist and how to configure them."""

from __future__ import annotations

import difflib
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from fustgo.cli.diagnostics import EXIT_INVALID, MainConfigOption, OutputFormat, registry_or_exit
from fustgo.config.reference import example_yaml, reference_pages, with_type
from fustgo.config.schema import config_fields
from fustgo.plugins.registry import PLUGIN_KINDS, PluginInfo, Registry, default_registry

plugins_app = typer.Typer(
    name="plugins", help="List plugins and show how to configure them.", no_args_is_help=True
)


class Kind(StrEnum):
    """A plugin kind, as a command-line choice."""

    input = "input"
    processor = "processor"
    output = "output"


KindOption = Annotated[Kind | None, typer.Option("--kind", help="Only plugins of this kind.")]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", help="Print as a table (text) or JSON.")
]


def register(app: typer.Typer) -> None:
    app.add_typer(plugins_app)


@plugins_app.command(name="list")
def list_plugins(
    kind: KindOption = None,
    output_format: FormatOption = OutputFormat.text,
    config: MainConfigOption = None,
) -> None:
    """List the plugins: kind, name, family, capabilities and title."""
    registry = registry_or_exit(config, output_format=output_format)
    plugins = registry.all(kind.value if kind else None)
    if output_format is OutputFormat.json:
        typer.echo(json.dumps([_summary(info, registry) for info in plugins], indent=2))
        return
    table = Table("kind", "name", "family", "capabilities", "title")
    for info in plugins:
        enabled = registry.is_enabled(info.kind, info.name)
        table.add_row(
            info.kind,
            info.name if enabled else f"{info.name} (disabled)",
            info.family,
            ", ".join(sorted(info.capabilities)),
            info.title,
            style=None if enabled else "dim",
        )
    Console(highlight=False).print(table)


@plugins_app.command(name="show")
def show(
    name: Annotated[str, typer.Argument(help="The plugin name (the YAML `type:`).")],
    kind: KindOption = None,
    output_format: FormatOption = OutputFormat.text,
    config: MainConfigOption = None,
) -> None:
    """Describe a plugin: its fields with types and defaults, JSON Schema and examples."""
    registry = registry_or_exit(config, output_format=output_format)
    kinds = [each for each in PLUGIN_KINDS if kind is None or each == kind.value]
    found = [info for each in kinds if (info := registry.find(each, name)) is not None]
    if not found:
        _unknown(name, kind, registry)
    if output_format is OutputFormat.json:
        details = [{**_summary(info, registry), **_details(info)} for info in found]
        typer.echo(json.dumps(details[0] if len(details) == 1 else details, indent=2))
        return
    console = Console(highlight=False, soft_wrap=True)
    for index, info in enumerate(found):
        if index:
            console.print()
        console.print(_describe(info, registry))


def _unknown(name: str, kind: Kind | None, registry: Registry) -> None:
    names = sorted({info.name for info in registry.all(kind.value if kind else None)})
    match = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    what = f"{kind.value} plugin" if kind else "plugin"
    hint = f" Did you mean `{match[0]}`?" if match else ""
    typer.echo(
        f"error: Unknown {what} `{name}`.{hint} `fustgo plugins list` shows them all.", err=True
    )
    raise typer.Exit(EXIT_INVALID)


def _summary(info: PluginInfo, registry: Registry) -> dict[str, Any]:
    return {
        "kind": info.kind,
        "name": info.name,
        "family": info.family,
        "capabilities": sorted(info.capabilities),
        "title": info.title,
        "enabled": registry.is_enabled(info.kind, info.name),
        "source": info.source,
    }


def _details(info: PluginInfo) -> dict[str, Any]:
    return {
        "description": info.description,
        "config_schema": info.config_schema(),
        "examples": [with_type(info, example) for example in info.examples],
    }


def _describe(info: PluginInfo, registry: Registry) -> Group:
    schema = info.config_schema()
    header = Text()
    header.append(f"{info.name}", style="bold")
    header.append(f"  {info.kind} plugin, family {info.family}: {info.title}")
    if not registry.is_enabled(info.kind, info.name):
        header.append("  (disabled by the main config)", style="yellow")
    parts: list[Any] = [header]
    if info.capabilities:
        parts.append(Text(f"Capabilities: {', '.join(sorted(info.capabilities))}"))
    parts.append(Text(f"\n{info.description}\n"))
    fields = Table("field", "type", "default", "description", title="Fields", title_justify="left")
    for field in config_fields(schema):
        fields.add_row(  # Text, not str: `[...]` in a description is not Rich markup
            Text(field.path),
            Text(field.type),
            Text("required" if field.required else field.default),
            Text(field.description),
        )
    parts.append(fields)
    for number, example in enumerate(info.examples, start=1):
        parts.append(Text(f"\nExample {number}:", style="bold"))
        parts.append(Text(example_yaml(info, example)))
    parts.append(Text("\nJSON Schema:", style="bold"))
    parts.append(Text(json.dumps(schema, indent=2, ensure_ascii=False)))
    return Group(*parts)


@plugins_app.command(name="docs")
def docs(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for the generated reference.")
    ] = Path("docs/reference"),
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if the folder is not up to date; write nothing.")
    ] = False,
) -> None:
    """Generate the plugin reference (one Markdown page per plugin) from the config models."""
    pages = reference_pages(default_registry())
    stale = [
        path
        for path, text in pages.items()
        if not (output / path).exists() or (output / path).read_text(encoding="utf-8") != text
    ]
    if check:
        for path in stale:
            typer.echo(f"stale: {output / path}", err=True)
        if stale:
            typer.echo("Run `make docs` to regenerate the plugin reference.", err=True)
        raise typer.Exit(1 if stale else 0)
    for path in stale:
        (output / path).parent.mkdir(parents=True, exist_ok=True)
        (output / path).write_text(pages[path], encoding="utf-8")
    typer.echo(f"{len(pages)} pages in {output}, {len(stale)} updated.")
