"""`fustgo plugins list|show`: what plugins exist and how to configure them."""

from __future__ import annotations

import difflib
import io
import json
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text
from ruamel.yaml import YAML

from fustgo.cli.diagnostics import EXIT_INVALID, MainConfigOption, OutputFormat, registry_or_exit
from fustgo.config.schema import config_fields
from fustgo.plugins.registry import PLUGIN_KINDS, PluginInfo, Registry

plugins_app = typer.Typer(
    name="plugins", help="List plugins and show how to configure them.", no_args_is_help=True
)

_SECTION = {"input": ("input",), "processor": ("pipeline", "processors"), "output": ("output",)}


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
        "examples": [_with_type(info, example) for example in info.examples],
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
        fields.add_row(
            field.path,
            field.type,
            "required" if field.required else field.default,
            field.description,
        )
    parts.append(fields)
    for number, example in enumerate(info.examples, start=1):
        parts.append(Text(f"\nExample {number}:", style="bold"))
        parts.append(Text(_example_yaml(info, example)))
    parts.append(Text("\nJSON Schema:", style="bold"))
    parts.append(Text(json.dumps(schema, indent=2, ensure_ascii=False)))
    return Group(*parts)


def _with_type(info: PluginInfo, example: dict[str, Any]) -> dict[str, Any]:
    return {"type": info.name, **{key: value for key, value in example.items() if key != "type"}}


def _example_yaml(info: PluginInfo, example: dict[str, Any]) -> str:
    """The example in place, as it is written in a pipeline file."""
    document: Any = _with_type(info, example)
    *parents, last = _SECTION[info.kind]
    document = {last: [document] if info.kind == "processor" else document}
    for key in reversed(parents):
        document = {key: document}
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return buffer.getvalue().rstrip("\n")
