"""Big Parquet files are cut into row-group ranges: all rows once, in parallel, resumable."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fustgo.engine.batch import Checkpoint
from fustgo.plugins.api import PluginContext
from fustgo.plugins.inputs.files.parquet import (
    ParquetInput,
    ParquetInputConfig,
    row_group_ranges,
)

pytestmark = pytest.mark.unit


@given(st.lists(st.integers(0, 50), max_size=30), st.integers(1, 12))
def test_ranges_cover_every_group_once(rows: list[int], pieces: int) -> None:
    ranges = row_group_ranges(rows, pieces)
    covered = [group for low, high in ranges for group in range(low, high)]
    assert covered == list(range(len(rows)))
    assert all(low < high for low, high in ranges)
    assert len(ranges) <= max(1, pieces)


def write_groups(path: Path, sizes: list[int]) -> list[int]:
    ids, start = [], 0
    schema = pa.schema([("id", pa.int64()), ("name", pa.string())])
    with pq.ParquetWriter(path, schema) as writer:
        for size in sizes:
            chunk = list(range(start, start + size))
            writer.write_table(
                pa.table({"id": chunk, "name": [f"n{i}" for i in chunk]}, schema=schema),
                row_group_size=max(size, 1),
            )
            ids += chunk
            start += size
    return ids


def read_all(source: ParquetInput, parallelism: int, resume_after_first: bool) -> list[int]:
    async def go() -> list[int]:
        await source.open()
        got: list[int] = []
        for split in await source.splits(parallelism):
            checkpoint: Checkpoint | None = None
            async for batch in source.read(split, None):
                got += batch.data.column("id").to_pylist()
                checkpoint = batch.checkpoint
                if resume_after_first:
                    break
            if resume_after_first and checkpoint is not None:
                async for batch in source.read(split, checkpoint):
                    got += batch.data.column("id").to_pylist()
        await source.close()
        return got

    return asyncio.run(go())


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sizes=st.lists(st.integers(1, 40), min_size=1, max_size=12),
    parallelism=st.integers(1, 8),
    resume=st.booleans(),
)
def test_splits_read_every_row_exactly_once(
    tmp_path: Path, sizes: list[int], parallelism: int, resume: bool
) -> None:
    path = tmp_path / f"t-{len(sizes)}-{sum(sizes)}-{parallelism}.parquet"
    ids = write_groups(path, sizes)
    source = ParquetInput(
        ParquetInputConfig(paths=[str(path)]), PluginContext(base_dir=tmp_path, batch_size=7)
    )
    got = read_all(source, parallelism, resume)
    assert sorted(got) == ids


def test_one_big_file_becomes_balanced_splits(tmp_path: Path) -> None:
    write_groups(tmp_path / "big.parquet", [100] * 10)
    source = ParquetInput(
        ParquetInputConfig(paths=["big.parquet"]), PluginContext(base_dir=tmp_path)
    )

    async def go() -> list:
        await source.open()
        return await source.splits(4)

    splits = asyncio.run(go())
    assert [s.estimated_records for s in splits] == [300, 200, 300, 200]
    assert splits[0].id == "big.parquet#row-groups-0-2"
    assert source.progress().records_total == 1_000
