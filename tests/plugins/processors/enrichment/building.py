"""Shared by the enrichment tests: building the processor, batches, a clock and a sleep."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from fustgo.engine.batch import Batch, BatchMetadata, Checkpoint
from fustgo.plugins.api import PluginContext
from fustgo.plugins.processors.enrichment import Enrichment, EnrichmentConfig

NO_RETRY = {"max_retries": 0}


def make(body: dict[str, Any], base_dir: Path | None = None) -> Enrichment:
    """The processor for a config body, as the runtime builds it."""
    context = PluginContext(component_path="pipeline.processors[0]", base_dir=base_dir or Path())
    processor = Enrichment(EnrichmentConfig.model_validate(body), context)
    processor.sleep = Sleeps()
    return processor


def batch_of(columns: dict[str, Any] | pa.RecordBatch) -> Batch:
    data = columns if isinstance(columns, pa.RecordBatch) else pa.RecordBatch.from_pydict(columns)
    return Batch(
        data=data,
        metadata=BatchMetadata(source="test", split_id="s"),
        checkpoint=Checkpoint("s", {"rows": data.num_rows}, data.num_rows),
    )


def only(batches: list[Batch]) -> Batch:
    assert len(batches) == 1, f"expected one batch, got {len(batches)}"
    return batches[0]


def rows(processor: Enrichment, columns: dict[str, Any]) -> list[dict[str, Any]]:
    """The records one batch becomes (empty when all were dropped)."""
    out = processor.process(batch_of(columns))
    return [] if not out else only(out).data.to_pylist()


class Sleeps:
    """Records the waits between retries instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now
