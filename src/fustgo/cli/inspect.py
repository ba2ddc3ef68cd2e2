"""`fustgo inspect FILE`: what the database behind a pipeline's input or output holds.

Connects with the component's own `connection` (read-only), prints the server, then either
the tables of a schema (kind, row estimate) or one table's columns (declared and logical
type, nullability, default, primary key), and with `--preview N` its first N rows as the
input reads them. Works for every family with a catalog (`fustgo.plugins.catalog`).
"""

from __future__ import annotations

import asyncio
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from fustgo.cli.diagnostics import (
    EXIT_INVALID,
    MainConfigOption,
    OutputFormat,
    OverridesOption,
    load_or_exit,
)
from fustgo.config.models import ComponentSpec, PipelineSpec
from fustgo.engine.errors import FustgoError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.catalog import (
    MAX_PREVIEW_ROWS,
    Catalog,
    Preview,
    catalog_families,
    catalog_for,
)

EXIT_FAILED = 1


class Component(StrEnum):
    """Which end of the pipeline to inspect."""

    input = "input"
    output = "output"


def register(app: typer.Typer) -> None:
    app.command(name="inspect")(inspect)


def inspect(
    file: Annotated[Path, typer.Argument(help="The pipeline file (YAML).")],
    component: Annotated[
        Component, typer.Option("--component", help="Inspect the input's or the output's database.")
    ] = Component.input,
    table: Annotated[
        str | None,
        typer.Option("--table", help="Table to describe (default: the one the pipeline names)."),
    ] = None,
    schema: Annotated[
        str | None,
        typer.Option("--schema", help="List the tables of this schema instead of one table."),
    ] = None,
    preview: Annotated[
        int | None,
        typer.Option(
            "--preview",
            min=1,
            max=MAX_PREVIEW_ROWS,
            help="Also show the first N rows of the table (or of the input's `sql`).",
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Print as tables (text) or JSON.")
    ] = OutputFormat.text,
    as_json: Annotated[bool, typer.Option("--json", help="Same as `--format json`.")] = False,
    set_: OverridesOption = None,
    config: MainConfigOption = None,
) -> None:
    """Show the database of a pipeline's input or output: server, tables, columns, rows.

    Without `--table`, the table the pipeline reads (`input.query.table`) or writes
    (`output.write.table`) is described; with `--schema`, or when the pipeline names no
    table, the schema's tables are listed with their row estimates (from statistics,
    never a full count). Exit codes: 0 done, 1 the database failed, 2 invalid file or usage.
    """
    spec = load_or_exit(file, overrides=set_ or [], main_config=config)
    chosen = spec.input if component is Component.input else spec.output
    catalog = _catalog(chosen, spec)
    json_output = as_json or output_format is OutputFormat.json
    settings = chosen.config
    query = getattr(settings, "query", None)
    write = getattr(settings, "write", None)
    target = table
    if target is None and schema is None:
        target = getattr(query, "table", None) or getattr(write, "table", None)
    sql = getattr(query, "sql", None) if target is None and schema is None else None
    try:
        result = asyncio.run(_inspect(catalog, target, schema, sql, preview))
    except FustgoError as exc:
        Console(file=sys.stderr, highlight=False, soft_wrap=True).print(
            Text(f"error: {exc}", style="bold red")
        )
        raise typer.Exit(EXIT_FAILED) from exc
    result = {"component": chosen.path, "plugin": chosen.type, **result}
    if json_output:
        typer.echo(json.dumps(_jsonable(result), indent=2, ensure_ascii=False))
        return
    _print(Console(highlight=False, soft_wrap=True), result)


def _catalog(component: ComponentSpec, spec: PipelineSpec) -> Catalog:
    """The component's catalog, or exit 2 naming the plugins that have one."""
    context = PluginContext(
        pipeline_name=spec.name, component_path=component.path, base_dir=spec.base_dir
    )
    plugin = component.info.cls(component.config, context)
    catalog = catalog_for(plugin)
    if catalog is None:
        names = ", ".join(n for f in catalog_families() for n in (f.name, *f.aliases))
        Console(file=sys.stderr, highlight=False, soft_wrap=True).print(
            Text(
                f"error: `{component.path}` (`{component.type}`) is not a database `inspect` "
                f"knows; it works with {names}. Use `--component` to pick the other end.",
                style="bold red",
            )
        )
        raise typer.Exit(EXIT_INVALID)
    return catalog


async def _inspect(
    catalog: Catalog, table: str | None, schema: str | None, sql: str | None, rows: int | None
) -> dict[str, Any]:
    async with catalog:
        result: dict[str, Any] = {"server": (await catalog.test()).to_json()}
        if table is not None:
            result["table"] = (await catalog.table(table)).to_json()
            columns = await catalog.columns(table)
            result["columns"] = [column.to_json() for column in columns]
            result["primary_key"] = await catalog.primary_key(table)
            if rows is not None:
                result["preview"] = await catalog.preview(table=table, limit=rows)
            return result
        if sql is not None and rows is not None:
            result["sql"] = sql
            result["preview"] = await catalog.preview(sql=sql, limit=rows)
            return result
        name = schema or await catalog.default_schema()
        result["schemas"] = await catalog.schemas()
        result["schema"] = name
        result["tables"] = [info.to_json() for info in await catalog.tables(name)]
        return result


def _jsonable(result: dict[str, Any]) -> dict[str, Any]:
    preview = result.get("preview")
    if isinstance(preview, Preview):
        return {**result, "preview": preview.to_json()}
    return result


def _print(console: Console, result: dict[str, Any]) -> None:
    server = result["server"]
    who = f" as {server['user']}" if server["user"] else ""
    mode = "read-only" if server["read_only"] else "read-write"
    console.print(
        f"[bold]{result['component']}[/] ({result['plugin']}): {server['product']} "
        f"{server['version']} at {server['address']}{who}, {mode}, round trip "
        f"{server['latency_ms']:.1f} ms"
    )
    if "tables" in result:
        console.print(f"Schemas: {', '.join(result['schemas']) or '(none)'}")
        listing = Table("table", "kind", "rows (estimate)", "comment", title=result["schema"])
        for info in result["tables"]:
            listing.add_row(
                info["name"], info["kind"], _count(info["rows_estimate"]), info["comment"] or ""
            )
        console.print(listing)
    if "table" in result:
        info = result["table"]
        console.print(
            f"[bold]{info['schema']}.{info['name']}[/]: {info['kind']}, "
            f"{_count(info['rows_estimate'])} rows (estimate)"
        )
        columns = Table("column", "declared", "logical", "null", "default", "key")
        for column in result["columns"]:
            columns.add_row(*_column_row(column))
        console.print(columns)
        key = result["primary_key"]
        console.print(f"Primary key: {', '.join(key) if key else '(none)'}")
    preview = result.get("preview")
    if isinstance(preview, Preview):
        _print_preview(console, preview)


def _column_row(column: dict[str, Any]) -> tuple[str, ...]:
    return (
        column["name"],
        column["declared"] or "(none)",
        column["logical"] or "(from values)",
        "yes" if column["nullable"] else "no",
        column["default"] or "",
        f"PK {column['primary_key']}" if column["primary_key"] is not None else "",
    )


def _print_preview(console: Console, preview: Preview) -> None:
    payload = preview.to_json()
    grid = Table(
        *(f"{c['name']}\n[dim]{c['type']}[/]" for c in payload["columns"]),
        title=f"first {len(payload['rows'])} rows",
    )
    for row in payload["rows"]:
        grid.add_row(*(_cell(value) for value in row))
    console.print(grid)
    if preview.rejected:
        console.print(
            Text(
                f"{preview.rejected} of the first rows hold values the input cannot read (a "
                f"run sends them to the dead letter): {'; '.join(preview.errors)}",
                style="yellow",
            )
        )


def _cell(value: Any) -> Text:
    if value is None:
        return Text("NULL", style="dim")
    if isinstance(value, list | dict):
        return Text(json.dumps(value, ensure_ascii=False))
    return Text(str(value))


def _count(value: int | None) -> str:
    return f"{value:,}" if value is not None else "?"
