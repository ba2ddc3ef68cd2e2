"""Run one test's records through the real `Runner`, with captures in place of the outputs.

The processors are the pipeline's own plugins, built like `runtime.execute` builds them;
only the edges change: the input becomes the test's records, every leaf output (a plain
output, or each child of a `broker`/`switch`, built through the component factory) and the
dead letter become in-memory captures. So dead letters, `on_error`, `finish()`, error limits
and stats behave as in production, and nothing is written anywhere.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import pyarrow as pa

from fustgo.config.models import ComponentSpec, PipelineSpec
from fustgo.engine.batch import Batch, BatchMetadata, Checkpoint, Split
from fustgo.engine.runner import PipelineParts, Runner
from fustgo.engine.settings import CheckpointSettings, RetryPolicy, SpeedLimit
from fustgo.engine.stats import RunSummary
from fustgo.plugins.api import (
    ComponentFactory,
    Input,
    Output,
    Plugin,
    PluginContext,
    Processor,
    Progress,
    RejectedRecords,
)
from fustgo.plugins.registry import Registry
from fustgo.plugins.spec import PluginConfig, nested_components
from fustgo.runtime.execute import component_factory

_SPLIT = "test-records"


class HarnessConfig(PluginConfig):
    """No settings: the test harness configures its stand-ins in code."""


class RecordsInput(Input[HarnessConfig]):
    """The test's records as one split, in batches of `batch_rows`."""

    def __init__(self, data: pa.RecordBatch, batch_rows: int, context: PluginContext) -> None:
        super().__init__(HarnessConfig(), context)
        self.data = data
        self.batch_rows = batch_rows

    async def splits(self, parallelism: int) -> list[Split]:
        return [Split(id=_SPLIT, description="the test's input records")]

    async def read(self, split: Split, checkpoint: Checkpoint | None) -> AsyncIterator[Batch]:
        start = int(checkpoint.position["next"]) if checkpoint else 0
        for offset in range(start, self.data.num_rows, self.batch_rows):
            end = min(offset + self.batch_rows, self.data.num_rows)
            yield Batch(
                data=self.data.slice(offset, end - offset),
                metadata=BatchMetadata(source="test", split_id=split.id),
                checkpoint=Checkpoint(split.id, {"next": end}, records=end),
            )

    def progress(self) -> Progress:
        return Progress(records_total=self.data.num_rows, bytes_total=self.data.nbytes)

    def schema(self) -> pa.Schema:
        return self.data.schema


class CapturedOutput(Output[HarnessConfig]):
    """Keeps every batch written to it; with `inner`, also passes them on (a tap)."""

    def __init__(self, context: PluginContext, inner: Output[Any] | None = None) -> None:
        super().__init__(HarnessConfig(), context)
        self.inner = inner
        self.batches: list[pa.RecordBatch] = []

    async def open(self, schema: pa.Schema) -> None:
        if self.inner is not None:
            await self.inner.open(schema)

    async def write(self, batch: Batch) -> None:
        if self.inner is not None:
            await self.inner.write(batch)  # a DataError here leaves nothing captured
        self.batches.append(batch.data)
        self._stats.records_written += batch.num_rows
        self._stats.batches_written += 1

    async def flush(self) -> None:
        if self.inner is not None:
            await self.inner.flush()

    async def close(self) -> None:
        if self.inner is not None:
            await self.inner.close()

    def take_rejected(self) -> list[RejectedRecords]:
        """What the wrapped output rejected (a `switch`'s unmatched records) goes on too."""
        inner = self.inner.take_rejected() if self.inner is not None else []
        return [*super().take_rejected(), *inner]

    def rows(self) -> list[dict[str, Any]]:
        return [row for batch in self.batches for row in batch.to_pylist()]

    def table(self) -> pa.Table | None:
        """Everything captured as one table (None if nothing was), for conditions."""
        if not self.batches:
            return None
        tables = [pa.Table.from_batches([batch]) for batch in self.batches]
        return pa.concat_tables(tables, promote_options="permissive")


@dataclass
class CapturedRun:
    """What one test's run produced."""

    summary: RunSummary
    output: CapturedOutput
    """What reached the pipeline's output (before a `broker` or `switch` fans it out)."""
    dead_letter: CapturedOutput
    leaves: dict[str, CapturedOutput] = field(default_factory=dict)
    """Every leaf output that was built, by its path in the pipeline."""


async def run_with_captures(
    spec: PipelineSpec,
    processors: Sequence[ComponentSpec],
    data: pa.RecordBatch,
    *,
    registry: Registry,
    batch_rows: int | None = None,
) -> CapturedRun:
    """Run `data` through `processors` and the pipeline's output, captured."""
    leaves: dict[str, CapturedOutput] = {}
    factory = _capturing_factory(spec, registry, leaves)

    def context(path: str) -> PluginContext:
        return PluginContext(
            pipeline_name=spec.name,
            component_path=path,
            base_dir=spec.base_dir,
            batch_size=spec.settings.batch_size,
            components=factory,
        )

    top = spec.output.info.cls(spec.output.config, context(spec.output.path))
    built_top = _captured_or_rebuilt(top, factory, leaves)
    assert isinstance(built_top, Output)
    # The top-level record expectations look at what the processors hand to the output:
    # the leaf itself, or a tap in front of a `broker` or `switch`.
    output = (
        built_top
        if isinstance(built_top, CapturedOutput)
        else CapturedOutput(context(spec.output.path), built_top)
    )
    dead_letter = CapturedOutput(context("dead_letter"))
    built = [c.info.cls(c.config, context(c.path)) for c in processors]
    assert all(isinstance(p, Processor) for p in built)
    settings = spec.settings.model_copy(
        update={
            # One channel keeps the output in input order; nothing is saved or throttled.
            "parallelism": 1,
            "speed": SpeedLimit(),
            "retry": RetryPolicy(max_retries=0),
            "checkpoint": CheckpointSettings(enabled=False),
        }
    )
    parts = PipelineParts(
        name=spec.name,
        settings=settings,
        input=RecordsInput(data, batch_rows or spec.settings.batch_size, context("input")),
        processors=built,  # type: ignore[arg-type]
        output=output,
        dead_letter=dead_letter,
        dead_letter_description="the test's dead-letter capture",
    )
    summary = await Runner(parts).run()
    return CapturedRun(summary=summary, output=output, leaves=leaves, dead_letter=dead_letter)


def _capturing_factory(
    spec: PipelineSpec, registry: Registry, leaves: dict[str, CapturedOutput]
) -> ComponentFactory:
    """The runtime's component factory, with leaf outputs swapped for captures."""
    real = component_factory(spec, registry, resume=False)

    def build(
        kind: Literal["processor", "output"], config: Mapping[str, Any], path: str
    ) -> Plugin[Any]:
        # The runtime's factory validates the config and sets the context; its instance
        # is built with the runtime's own factory, so it is built again with this one.
        return _captured_or_rebuilt(real(kind, config, path), build, leaves)

    return build


def _captured_or_rebuilt(
    plugin: Plugin[Any], factory: ComponentFactory, leaves: dict[str, CapturedOutput]
) -> Plugin[Any]:
    """`plugin` built again with `factory` in its context, or a capture for a leaf output.

    A leaf output is one that builds no output of its own (when built: `broker` and
    `switch` build their children in `__init__`) and declares none in its config.
    Building has no side effect (plugins connect only when opened), so building twice is
    harmless.
    """
    children: list[str] = []

    def watched(
        kind: Literal["processor", "output"], config: Mapping[str, Any], path: str
    ) -> Plugin[Any]:
        if kind == "output":
            children.append(path)
        return factory(kind, config, path)

    rebuilt = type(plugin)(plugin.config, replace(plugin.context, components=watched))
    if isinstance(rebuilt, Output) and not children and not _declares_outputs(plugin.config):
        path = plugin.context.component_path
        return leaves.setdefault(path, CapturedOutput(plugin.context))
    return rebuilt


def _declares_outputs(config: PluginConfig) -> bool:
    return any(kind == "output" for _, kind, _ in nested_components(config))
