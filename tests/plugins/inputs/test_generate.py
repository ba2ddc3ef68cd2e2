"""`generate` input: reproducible synthetic records, exact splits, resume and pacing."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import uuid
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from fustgo.engine.batch import Batch, Checkpoint, Split
from fustgo.plugins.api import PluginContext
from fustgo.plugins.inputs import generate as generate_module
from fustgo.plugins.inputs.generate import BLOCK_RECORDS, GenerateInput, GenerateInputConfig

pytestmark = pytest.mark.unit

FIELDS: dict[str, Any] = {
    "id": {"kind": "sequence", "start": 1, "step": 2},
    "qty": {"kind": "random_int", "min": -3, "max": 3},
    "price": {"kind": "random_float", "min": 10, "max": 20, "decimals": 2},
    "status": {"kind": "choice", "values": ["paid", "pending", "void"], "weights": [6, 3, 1]},
    "code": {"kind": "string", "length": 5, "alphabet": "aé日", "null_fraction": 0.25},
    "key": {"kind": "uuid"},
    "at": {"kind": "timestamp", "start": "2024-01-01T00:00:00", "step": "1m"},
    "source": {"kind": "constant", "value": "demo"},
    "nothing": {"kind": "constant"},
}


def generator(count: int, batch_size: int = 1000, **options: Any) -> GenerateInput:
    config = GenerateInputConfig.model_validate(
        {"count": count, "seed": 7, "fields": FIELDS} | options
    )
    return GenerateInput(config, PluginContext(batch_size=batch_size))


async def _read(
    plugin: GenerateInput, parallelism: int, resume: dict[str, Checkpoint] | None = None
) -> tuple[list[Split], list[Batch]]:
    await plugin.open()
    splits = await plugin.splits(parallelism)
    batches = [
        b for split in splits async for b in plugin.read(split, (resume or {}).get(split.id))
    ]
    await plugin.close()
    return splits, batches


def read(
    plugin: GenerateInput, parallelism: int = 1, resume: dict[str, Checkpoint] | None = None
) -> list[Batch]:
    return asyncio.run(_read(plugin, parallelism, resume))[1]


def table(batches: list[Batch]) -> pa.Table:
    return pa.Table.from_batches([b.data for b in batches])


def test_values_follow_their_specs() -> None:
    plugin = generator(2000)
    data = table(read(plugin))
    assert data.schema == plugin.schema()
    assert data.num_rows == 2000
    assert data["id"].to_pylist()[:3] == [1, 3, 5]
    assert set(data["qty"].to_pylist()) == set(range(-3, 4))
    prices = data["price"].to_pylist()
    assert all(10 <= p <= 20 and round(p, 2) == p for p in prices)
    statuses = data["status"].to_pylist()
    assert statuses.count("paid") > statuses.count("pending") > statuses.count("void") > 0
    codes = data["code"].to_pylist()
    assert 300 < codes.count(None) < 700
    assert all(len(c) == 5 and set(c) <= set("aé日") for c in codes if c is not None)
    keys = data["key"].to_pylist()
    assert len(set(keys)) == 2000
    assert all(uuid.UUID(k).version == 4 for k in keys)
    assert data["at"].to_pylist()[2] == dt.datetime(2024, 1, 1, 0, 2, tzinfo=dt.UTC)
    assert set(data["source"].to_pylist()) == {"demo"}
    assert data["nothing"].null_count == 2000
    assert plugin.progress().records_total == 2000


def test_same_config_same_records_whatever_the_parallelism_and_batch_size() -> None:
    one = table(read(generator(5000, batch_size=4096), parallelism=1))
    many = table(read(generator(5000, batch_size=333), parallelism=7))
    assert one.equals(many)
    other_seed = table(read(generator(5000, seed=8)))
    assert not one.column("qty").equals(other_seed.column("qty"))


def test_ranges_across_block_boundaries_are_consistent() -> None:
    plugin = generator(BLOCK_RECORDS + 10, batch_size=BLOCK_RECORDS + 10)
    whole = table(read(plugin))
    split = Split(id="s", params={"start": BLOCK_RECORDS - 5, "stop": BLOCK_RECORDS + 5})
    part = table(asyncio.run(_read_split(generator(0, batch_size=3), split)))
    assert part.equals(whole.slice(BLOCK_RECORDS - 5, 10))


async def _read_split(plugin: GenerateInput, split: Split) -> list[Batch]:
    await plugin.open()
    return [b async for b in plugin.read(split, None)]


def test_resume_regenerates_exactly_the_records_after_the_checkpoint() -> None:
    everything = read(generator(1000, batch_size=128))
    checkpoint = everything[3].checkpoint
    assert checkpoint is not None
    assert checkpoint.position == {"next": 512} and checkpoint.records == 512
    rest = read(generator(1000, batch_size=100), resume={checkpoint.split_id: checkpoint})
    assert table(everything[:4] + rest).equals(table(everything))


def test_unbounded_is_one_split_that_keeps_going() -> None:
    plugin = generator(0, batch_size=50)

    async def first_batches() -> tuple[list[Split], list[Batch]]:
        await plugin.open()
        splits = await plugin.splits(4)
        stream = plugin.read(splits[0], None)
        taken = [await anext(stream) for _ in range(5)]
        await stream.aclose()
        return splits, taken

    splits, taken = asyncio.run(first_batches())
    assert len(splits) == 1 and splits[0].params == {"start": 0, "stop": None}
    assert table(taken)["id"].to_pylist() == [1 + 2 * i for i in range(250)]
    assert plugin.progress().records_total is None


def test_rate_limit_sleeps_between_small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = {"now": 1000.0}
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)
        clock["now"] += seconds

    monkeypatch.setattr(generate_module.time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(generate_module.asyncio, "sleep", fake_sleep)
    batches = read(generator(100, rate_per_sec=200))
    assert [b.num_rows for b in batches] == [20] * 5  # about ten batches per second
    assert waits == pytest.approx([0.1] * 4)  # the first leaves at once


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ({"kind": "choice", "values": ["a", 1]}, "all strings"),
        ({"kind": "choice", "values": ["a", "b"], "weights": [1]}, "one weight per value"),
        ({"kind": "random_int", "null_fraction": 2}, "less than or equal to 1"),
        ({"kind": "nope"}, "does not match any of the expected tags"),
    ],
)
def test_invalid_field_specs_are_config_errors(field: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        GenerateInputConfig.model_validate({"fields": {"x": field}})


@settings(max_examples=60, deadline=None)
@given(count=st.integers(min_value=1, max_value=10_000), parallelism=st.integers(1, 64))
def test_splits_cover_the_range_exactly_once(count: int, parallelism: int) -> None:
    plugin = generator(count)
    splits = asyncio.run(plugin.splits(parallelism))
    assert len(splits) == min(count, parallelism)
    covered = [(s.params["start"], s.params["stop"]) for s in splits]
    assert covered[0][0] == 0 and covered[-1][1] == count
    assert all(stop > start for start, stop in covered)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(covered))
    assert sum(s.estimated_records or 0 for s in splits) == count
    assert len({s.id for s in splits}) == len(splits)
