"""Where a preview reads: a saved connection, unsaved settings, or a job's / pipeline YAML's
input or output, resolved to the family's catalog (relational databases) or, for an input
without one (files, generators, streams), to the input plugin itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa
from pydantic import BaseModel

from fustgo.config.models import ComponentSpec, PipelineSpec
from fustgo.engine.errors import ConfigError
from fustgo.plugins.api import Input, PluginContext, distinct_messages
from fustgo.plugins.catalog import Catalog, catalog_for, catalog_of
from fustgo.server.api.schemas.preview import DataRef
from fustgo.server.configs import check_config
from fustgo.server.settings import ServerSettings
from fustgo.store.db import Store
from fustgo.store.errors import ConflictError, InvalidRequestError
from fustgo.store.repositories import connections, jobs

End = Literal["source", "target"]


@dataclass
class Endpoint:
    """One side of a preview: a catalog with a table or query, or an input plugin."""

    described: dict[str, Any]
    """What was read, for the response (`kind`, `plugin`, `component`, ids)."""
    catalog: Catalog | None = None
    table: str | None = None
    sql: str | None = None
    plugin: Input[Any] | None = None
    notes: list[str] = field(default_factory=list)


def resolve(ref: DataRef, end: End, settings: ServerSettings, store: Store) -> Endpoint:
    """The endpoint `ref` names (blocking: reads the store, validates YAML)."""
    if ref.connection_id is not None:
        with store.session() as session:
            row = connections.get_connection(session, ref.connection_id)
            family, config, name = row.type, dict(row.config), row.name
        described = {"kind": "connection", "connection_id": ref.connection_id, "name": name}
        return _connection(family, config, ref, described, settings)
    if ref.connection is not None:
        described = {"kind": "connection", "type": ref.connection.type}
        return _connection(ref.connection.type, ref.connection.config, ref, described, settings)
    if ref.job_id is not None:
        with store.session() as session:
            job = jobs.get_job(session, ref.job_id)
            text, job_name = job.config_yaml, job.job_name
        spec = pipeline_of(text, settings, what=f"job `{job_name}`", field="job_id")
        return _component(spec, end, ref, {"kind": "job", "job_id": ref.job_id})
    assert ref.config_yaml is not None
    spec = pipeline_of(ref.config_yaml, settings, what="the pipeline", field="config_yaml")
    return _component(spec, end, ref, {"kind": "pipeline"})


def pipeline_of(text: str, settings: ServerSettings, *, what: str, field: str) -> PipelineSpec:
    """The validated pipeline; its first error otherwise (a draft cannot be previewed)."""
    checked = check_config(text, settings)
    if checked.pipeline is None:
        errors = checked.report.errors
        first = errors[0] if errors else None
        where = f" (line {first.line})" if first is not None and first.line else ""
        message = first.message if first is not None else "it is invalid"
        error_type = ConflictError if field == "job_id" else InvalidRequestError
        raise error_type(
            f"Cannot preview {what}: {message}{where}.",
            field=field,
            hint="POST /api/v1/validate shows every problem; fix them first.",
        )
    return checked.pipeline


def _connection(
    family: str,
    config: dict[str, Any],
    ref: DataRef,
    described: dict[str, Any],
    settings: ServerSettings,
) -> Endpoint:
    if ref.table is None and ref.sql is None:
        raise InvalidRequestError(
            "A connection needs `table` (or `sql`) to preview.",
            field="table",
            hint="GET the connection's tables with `fustgo inspect`, then name one.",
        )
    try:
        catalog = catalog_of(family, config, base_dir=settings.base_dir)
    except ConfigError as exc:
        raise InvalidRequestError(str(exc), field="connection") from exc
    return Endpoint(described={**described, "type": family}, catalog=catalog, table=ref.table,
                    sql=ref.sql)  # fmt: skip


def _component(spec: PipelineSpec, end: End, ref: DataRef, described: dict[str, Any]) -> Endpoint:
    component = spec.input if end == "source" else spec.output
    plugin = build(component, spec)
    catalog = catalog_for(plugin)
    described = {**described, "component": component.path, "plugin": component.type}
    if catalog is None:
        if end == "target":
            raise InvalidRequestError(
                f"The output `{component.type}` is not a database with a catalog; a target "
                "preview reads PostgreSQL, MySQL/MariaDB/TiDB and SQLite tables.",
                field="job_id" if ref.job_id else "config_yaml",
            )
        assert isinstance(plugin, Input)
        return Endpoint(described=described, plugin=plugin)
    query = getattr(component.config, "query", None)
    write = getattr(component.config, "write", None)
    table = ref.table or getattr(query, "table", None) or getattr(write, "table", None)
    sql = ref.sql or (getattr(query, "sql", None) if ref.table is None else None)
    if ref.sql is not None:
        table = None
    endpoint = Endpoint(described=described, catalog=catalog, table=table, sql=sql)
    if table is not None and ref.table is None and (getattr(query, "columns", None)
                                                   or getattr(query, "where", None)):  # fmt: skip
        endpoint.notes.append(
            "The preview shows the table's rows; `input.query.columns` and `where` apply "
            "when the pipeline runs (POST /api/v1/jobs/{id}/run-preview reads as the run does)."
        )
    return endpoint


def build(component: ComponentSpec, spec: PipelineSpec, *, batch_size: int | None = None) -> Any:
    """The component's plugin instance, as `runtime.execute` builds it (nothing connects)."""
    context = PluginContext(
        pipeline_name=spec.name,
        component_path=component.path,
        base_dir=spec.base_dir,
        batch_size=batch_size or spec.settings.batch_size,
    )
    return component.info.cls(component.config, context)


def limited(component: ComponentSpec, limit: int) -> ComponentSpec:
    """The component with its page size (`fetch.size`) at most `limit`, so its first page
    is all a preview reads."""
    fetch = getattr(component.config, "fetch", None)
    size = getattr(fetch, "size", None) if isinstance(fetch, BaseModel) else None
    if fetch is None or size is None or size <= limit:
        return component
    config = component.config.model_copy(update={"fetch": fetch.model_copy(update={"size": limit})})
    return ComponentSpec(
        kind=component.kind,
        type=component.type,
        path=component.path,
        config=config,
        info=component.info,
    )


@dataclass
class FirstRecords:
    """What an input read first: at most `limit` rows, with what it rejected."""

    data: pa.Table
    rejected: int
    errors: list[str]
    timed_out: bool


async def read_first(plugin: Input[Any], limit: int, timeout: float) -> FirstRecords:
    """The input's first `limit` records, in its own order, read as a fresh first run
    would (no committed state). Reading stops after `limit` or `timeout` seconds, keeping
    what it has; nothing is acknowledged, so a queue keeps its messages."""
    batches: list[pa.RecordBatch] = []
    timed_out = False
    await plugin.open()
    try:
        try:
            async with asyncio.timeout(timeout):
                plugin.restore_state(None)
                async with aclosing(_pages(plugin, limit)) as pages:
                    async for batch in pages:
                        batches.append(batch)
        except TimeoutError:
            timed_out = True
        schema = plugin.schema()
    finally:
        await plugin.close()
    rejected = plugin.take_rejected()
    errors = distinct_messages(rejected)
    if batches:
        tables = [pa.Table.from_batches([batch]) for batch in batches]
        data = pa.concat_tables(tables, promote_options="permissive").slice(0, limit)
    else:
        data = (schema or pa.schema([])).empty_table()
    return FirstRecords(
        data=data,
        rejected=sum(item.records.num_rows for item in rejected),
        errors=errors[:5],
        timed_out=timed_out,
    )


async def _pages(plugin: Input[Any], limit: int) -> AsyncIterator[pa.RecordBatch]:
    count = 0
    for split in await plugin.splits(1):
        async with aclosing(plugin.read(split, None)) as pages:  # type: ignore[type-var]
            async for batch in pages:
                yield batch.data
                count += batch.num_rows
                if count >= limit:
                    return
