"""`verify`: read a source and a target with input plugins and compare their fingerprints.

Both sides are input components, written as in a pipeline file (`{"type": "sqlite",
"connection": …, "query": {"table": …}}`) or already validated (`ComponentSpec`). A mapping
is validated by the pipeline loader itself, as the `input` of a throwaway pipeline, so it
gets the same checks, `${VAR}` substitution and messages as a pipeline file.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa

from fustgo.config.loader import load_pipeline_text
from fustgo.config.models import ComponentSpec, Diagnostic
from fustgo.engine.errors import ConfigError
from fustgo.engine.settings import RunSettings
from fustgo.plugins.api import Input, PluginContext
from fustgo.plugins.registry import Registry
from fustgo.runtime.verify.fingerprint import run_together, table_fingerprint
from fustgo.runtime.verify.normalize import Kind, common_kind, kind_of
from fustgo.runtime.verify.report import VerifyReport, uncompared_note

InputSpec = ComponentSpec | Mapping[str, Any]


async def verify(
    source_spec: InputSpec,
    target_spec: InputSpec,
    *,
    columns: list[str] | None = None,
    column_map: Mapping[str, str] | None = None,
    parallelism: int = 2,
    base_dir: Path | None = None,
    registry: Registry | None = None,
) -> VerifyReport:
    """Compare what `source_spec` and `target_spec` read: row counts and every column.

    `columns` limits the comparison to these source columns (default: all of them);
    `column_map` maps renamed source columns to their target names. Columns whose types
    differ but can hold the same values (an integer and a decimal, TEXT digits and a
    numeric) are normalized to a common kind on both sides. Relative paths in mappings
    resolve against `base_dir` (default: the working directory).
    """
    mapping = dict(column_map or {})
    source = build_input(source_spec, "source", base_dir=base_dir, registry=registry)
    target = build_input(target_spec, "target", base_dir=base_dir, registry=registry)
    try:
        await source.open()
        await target.open()
        target_schema = target.schema()
        source_columns, target_columns, source_kinds, target_kinds = _plan(
            source.schema(), target_schema, columns, mapping
        )
        source_print, target_print = await run_together(
            [
                table_fingerprint(
                    source, columns=source_columns, parallelism=parallelism, kinds=source_kinds
                ),
                table_fingerprint(
                    target, columns=target_columns, parallelism=parallelism, kinds=target_kinds
                ),
            ]
        )
    finally:
        await asyncio.gather(source.close(), target.close())
    report = source_print.compare(target_print, column_map=mapping)
    if target_schema is not None and target_columns is not None:
        extra = [name for name in target_schema.names if name not in target_columns]
        if extra:  # read only the compared columns; still say which were left out
            report = replace(report, notes=(*report.notes, uncompared_note(extra)))
    return report


def build_input(
    spec: InputSpec, label: str, *, base_dir: Path | None = None, registry: Registry | None = None
) -> Input[Any]:
    """An input plugin (not opened) from a component mapping or a validated `ComponentSpec`.

    Inputs never build nested components, so no component factory is attached.
    """
    folder = (base_dir or Path.cwd()).resolve()
    settings = RunSettings()
    if not isinstance(spec, ComponentSpec):
        spec, settings = _validated(spec, label, folder, registry)
    if spec.kind != "input":
        raise ConfigError(f"The {label} of a verification must be an input, not a {spec.kind}.")
    context = PluginContext(
        pipeline_name=f"verify-{label}",
        component_path=label,
        base_dir=folder,
        batch_size=settings.batch_size,
    )
    plugin = spec.info.cls(spec.config, context)
    assert isinstance(plugin, Input)
    return plugin


def _validated(
    spec: Mapping[str, Any], label: str, folder: Path, registry: Registry | None
) -> tuple[ComponentSpec, RunSettings]:
    document = {"name": f"verify-{label}", "input": dict(spec), "output": {"type": "drop"}}
    report = load_pipeline_text(
        json.dumps(document, default=str),  # JSON is YAML
        filename=f"<{label}>",
        base_dir=folder,
        registry=registry,
    )
    if report.pipeline is None or not report.ok:
        problems = "; ".join(_problem(error, label) for error in report.errors)
        raise ConfigError(f"The {label} of the verification is invalid: {problems}.")
    return report.pipeline.input, report.pipeline.settings


def _problem(error: Diagnostic, label: str) -> str:
    """A loader diagnostic about `input…`, told about the source or target instead."""
    path = f"`{label}{error.path.removeprefix('input')}`"
    message = error.message.replace("`input", f"`{label}")
    text = message if path in message else f"{path}: {message}"
    return text + (f" ({error.hint})" if error.hint else "")


def _plan(
    source: pa.Schema | None,
    target: pa.Schema | None,
    columns: list[str] | None,
    mapping: Mapping[str, str],
) -> tuple[list[str] | None, list[str] | None, dict[str, Kind], dict[str, Kind]]:
    """Columns to read on each side, aligned, and the common kind of each pair of columns.

    Without both schemas up front each side is read whole and hashed by its own types.
    """
    if source is None or target is None:
        return columns, None, {}, {}
    names = columns if columns is not None else list(source.names)
    source_kinds: dict[str, Kind] = {}
    target_kinds: dict[str, Kind] = {}
    target_names: list[str] = []
    for name in names:
        target_name = mapping.get(name, name)
        index = target.get_field_index(target_name)
        if index < 0:
            continue  # reported as missing by the comparison
        target_names.append(target_name)
        source_index = source.get_field_index(name)
        if source_index < 0:
            continue  # table_fingerprint names the unknown column
        left, right = source.field(source_index), target.field(index)
        left_kind, right_kind = (
            kind_of(left.type, left.metadata),
            kind_of(right.type, right.metadata),
        )
        common = common_kind(left_kind, right_kind) if left_kind and right_kind else None
        if common is not None:
            source_kinds[name], target_kinds[target_name] = common, common
    return names, target_names, source_kinds, target_kinds
