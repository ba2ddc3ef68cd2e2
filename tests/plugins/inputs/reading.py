"""Reading an input as the runner does (open → splits → read every split → close), for the
SQL input tests, and the check that splits cover a table exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from fustgo.engine.batch import Batch, Split
from fustgo.plugins.api import Input


def read_all(
    plugin: Input[Any], parallelism: int = 1
) -> tuple[list[Split], dict[str, list[Batch]]]:
    """The splits planned for `parallelism`, and each split's batches by split id."""

    async def run() -> tuple[list[Split], dict[str, list[Batch]]]:
        await plugin.open()
        try:
            splits = await plugin.splits(parallelism)
            return splits, {s.id: [b async for b in plugin.read(s, None)] for s in splits}
        finally:
            await plugin.close()

    return asyncio.run(run())


def read_splits(plugin: Input[Any], parallelism: int) -> list[Batch]:
    """Every split read one after the other, as one channel would."""

    async def run() -> list[Batch]:
        await plugin.open()
        try:
            splits = await plugin.splits(parallelism)
            return [b for s in splits async for b in plugin.read(s, None)]
        finally:
            await plugin.close()

    return asyncio.run(run())


def rows(batches: list[Batch]) -> list[dict[str, Any]]:
    return [row for batch in batches for row in batch.data.to_pylist()]


def ids(batches: list[Batch]) -> list[int]:
    return [row["id"] for row in rows(batches)]


def assert_exactly_once(batches: dict[str, list[Batch]], expected: list[int]) -> None:
    """The `id`s read across all splits are `expected`, each once: none lost, none twice."""
    read = Counter(i for split in batches.values() for i in ids(split))
    assert read == Counter(expected), (
        f"missing {sorted(set(expected) - set(read))}, "
        f"twice {sorted(i for i, n in read.items() if n > 1)}"
    )
