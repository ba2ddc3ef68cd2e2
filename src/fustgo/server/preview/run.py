"""The designer's live preview of a job (`POST /jobs/{id}/run-preview`): the pipeline run on
its input's first N records, with what each stage produced, and nothing written.

The input is the job's own plugin, read as a first run would read it (no committed state)
until N records or the timeout, pages no larger than N, nothing acknowledged. Those records
then go through the real `Runner` with the test harness of `fustgo test`
(`runtime.testing.harness.run_with_captures`): the processors are the pipeline's own,
each wrapped to keep a copy of what it hands on, and every leaf output and the dead letter
are in-memory captures. So filters, `on_error`, dead letters and `finish()` behave as in a
run, and no target is opened.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import pyarrow as pa

from fustgo.config.models import ComponentSpec, PipelineSpec
from fustgo.engine.batch import Batch
from fustgo.plugins.api import Processor
from fustgo.plugins.registry import Registry
from fustgo.runtime.testing.harness import CapturedOutput, run_with_captures
from fustgo.server.preview.profile import table_json
from fustgo.server.preview.sources import build, limited, read_first


class StageCapture:
    """What one processor handed on (from `process` and `finish`)."""

    def __init__(self) -> None:
        self.batches: list[pa.RecordBatch] = []
        self.lock = threading.Lock()

    def keep(self, batches: list[Batch]) -> list[Batch]:
        with self.lock:
            self.batches.extend(batch.data for batch in batches if batch.num_rows)
        return batches


def tapped(component: ComponentSpec, capture: StageCapture) -> ComponentSpec:
    """The component with its plugin class replaced by a subclass that records its output
    (same config, name and capabilities, so the runner treats it as the original)."""
    original = component.info.cls

    def process(self: Processor[Any], batch: Batch) -> list[Batch]:
        return capture.keep(original.process(self, batch))  # type: ignore[attr-defined]

    def finish(self: Processor[Any]) -> list[Batch]:
        return capture.keep(original.finish(self))  # type: ignore[attr-defined]

    cls = type(original.__name__, (original,), {"process": process, "finish": finish})
    cls.__qualname__ = original.__qualname__
    return replace(component, info=replace(component.info, cls=cls))


async def run_preview(
    spec: PipelineSpec, registry: Registry, *, limit: int, timeout: float
) -> dict[str, Any]:
    """Each stage's output for the input's first `limit` records."""
    source = limited(spec.input, limit)
    plugin = build(source, spec, batch_size=min(limit, spec.settings.batch_size))
    first = await read_first(plugin, limit, timeout)
    captures = [StageCapture() for _ in spec.processors]
    processors = [tapped(c, capture) for c, capture in zip(spec.processors, captures, strict=True)]
    batch = _one_batch(first.data)
    run = await run_with_captures(spec, processors, batch, registry=registry)
    summaries = {stage.name: stage for stage in run.summary.stages}
    stages = [
        {
            "component": component.path,
            "plugin": component.type,
            "records_in": summaries[component.path].records_in,
            "records_out": summaries[component.path].records_out,
            **_shown(capture.batches, batch.schema, limit),
        }
        for component, capture in zip(spec.processors, captures, strict=True)
    ]
    leaves = {
        path: _captured(output, limit)
        for path, output in run.leaves.items()
        if output is not run.output
    }
    return {
        "pipeline": spec.name,
        "limit": limit,
        "written": False,
        "status": run.summary.status,
        "error": run.summary.error,
        "input": {
            "component": spec.input.path,
            "plugin": spec.input.type,
            "timed_out": first.timed_out,
            "rejected": first.rejected,
            "errors": first.errors,
            **_shown([], first.data.schema, limit, table=first.data),
        },
        "stages": stages,
        "output": {
            "component": spec.output.path,
            "plugin": spec.output.type,
            **_captured(run.output, limit),
            "leaves": leaves,
        },
        "dead_letter": _captured(run.dead_letter, limit),
        "seconds": round(run.summary.elapsed_seconds, 3),
    }


def _one_batch(data: pa.Table) -> pa.RecordBatch:
    batches = data.combine_chunks().to_batches()
    if len(batches) == 1:
        return batches[0]
    return pa.RecordBatch.from_pylist([], schema=data.schema)


def _captured(output: CapturedOutput, limit: int) -> dict[str, Any]:
    table = output.table()
    return _shown([], table.schema if table is not None else pa.schema([]), limit, table=table)


def _shown(
    batches: list[pa.RecordBatch],
    schema: pa.Schema,
    limit: int,
    *,
    table: pa.Table | None = None,
) -> dict[str, Any]:
    """`records` (all of them), and the first `limit` as `columns` and `rows`."""
    if table is None:
        tables = [pa.Table.from_batches([batch]) for batch in batches]
        table = (
            pa.concat_tables(tables, promote_options="permissive")
            if tables
            else schema.empty_table()
        )
    return {
        "records": table.num_rows,
        "truncated": table.num_rows > limit,
        **table_json(table.slice(0, limit)),
    }
