"""Writing batches to an output as the runner does (open → write each → flush → close), for
the SQL output tests, and the two-column batch most of them write."""

from __future__ import annotations

import asyncio
from typing import Any

import pyarrow as pa

from fustgo.engine.batch import Batch
from fustgo.plugins.api import Output


def write_all(output: Output[Any], *batches: pa.RecordBatch) -> None:
    async def go() -> None:
        await output.open(batches[0].schema)
        try:
            for batch in batches:
                await output.write(Batch(batch))
            await output.flush()
        finally:
            await output.close()

    asyncio.run(go())


def people(ids: list[int], names: list[str | None]) -> pa.RecordBatch:
    """`id` int64, `name` string."""
    return pa.RecordBatch.from_pydict(
        {"id": pa.array(ids, pa.int64()), "name": pa.array(names, pa.string())}
    )
