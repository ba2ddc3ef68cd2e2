"""Split-key planning without a database: quantile boundaries, thinning, descriptions and
the choice between even and sampled ranges (`clients.splitting`)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from fustgo.engine.batch import JSONValue
from fustgo.plugins.clients.splitting import (
    SplitKey,
    SplitOptions,
    describe,
    looks_even,
    plan_key_splits,
    sample_boundaries,
    thin,
)


class FakeSampler:
    """Answers like a database whose keys sort as Python values (no collation)."""

    def __init__(self, key: SplitKey, values: Sequence[Any]) -> None:
        self.key = key
        self.values = sorted(v for v in values if v is not None)

    def bounds(self) -> tuple[Any, Any]:
        return (self.values[0], self.values[-1]) if self.values else (None, None)

    def sample(self, *, forced: bool) -> list[tuple[JSONValue, int]] | None:
        counts: dict[Any, int] = {}
        for value in self.values:
            counts[value] = counts.get(value, 0) + 1
        return sorted(counts.items())

    def ordered(self, values: Sequence[JSONValue]) -> list[JSONValue]:
        return sorted(set(values))  # type: ignore[type-var]


@given(st.lists(st.integers(0, 50), min_size=1, max_size=200), st.integers(1, 12))
def test_sample_boundaries_are_increasing_values_that_leave_no_range_empty(
    keys: list[int], parts: int
) -> None:
    sample = sorted({k: keys.count(k) for k in keys}.items())
    boundaries = sample_boundaries(sample, parts)
    assert len(boundaries) <= parts - 1
    assert boundaries == sorted(set(boundaries))
    edges = [None, *boundaries, None]
    for lo, hi in itertools.pairwise(edges):
        inside = [k for k in keys if (lo is None or k >= lo) and (hi is None or k < hi)]
        assert inside, (lo, hi)


def test_a_heavy_value_is_one_boundary_and_quantiles_balance_the_rest() -> None:
    sample: list[tuple[JSONValue, int]] = [("a", 10), ("b", 70), ("c", 10), ("d", 10)]
    assert sample_boundaries(sample, 4) == ["b", "c", "d"]  # 10, 70, 10, 10
    uniform: list[tuple[JSONValue, int]] = [(i, 1) for i in range(100)]
    assert sample_boundaries(uniform, 4) == [25, 50, 75]


def test_even_integer_ranges_need_positive_evidence() -> None:
    uniform: list[tuple[JSONValue, int]] = [(i, 1) for i in range(0, 1000, 3)]
    assert looks_even(uniform, 0, 999, 4)
    skewed: list[tuple[JSONValue, int]] = [(i % 10, 1) for i in range(300)] + [(999, 1)]
    assert not looks_even(skewed, 0, 999, 4)
    sparse: list[tuple[JSONValue, int]] = [(1, 1), (5 * 10**18, 1), (9 * 10**18, 1)]
    assert not looks_even(sparse, 1, 9 * 10**18, 6)  # three keys cannot show evenness


def test_plans_are_bounded_and_described_readably() -> None:
    key = SplitKey("name", "q.name", "string", nullable=True)
    values = [f"{chr(97 + i % 26)}{i}" for i in range(1000)]
    splits = plan_key_splits(FakeSampler(key, values), SplitOptions(key="name"), 4)
    assert len(splits) == 5
    assert splits[0].description.startswith("name < '")
    assert splits[1].description.count("<=") == 1 and " <= name < " in splits[1].description
    assert splits[-1].description == "rows whose name is NULL"
    many = SplitOptions(key="name", boundaries=[f"b{i:04}" for i in range(500)])
    assert len(plan_key_splits(FakeSampler(key, values), many, 3)) == 3 * 4 + 1
    number = SplitKey("id", "q.id", "integer", nullable=False)
    snowflakes = [base + i for base in (10**9, 4 * 10**18, 9 * 10**18) for i in range(100)]
    splits = plan_key_splits(FakeSampler(number, snowflakes), SplitOptions(key="id"), 6)
    sizes = [sum(1 for v in snowflakes if s.params["lo"] is None or v >= s.params["lo"])
             - sum(1 for v in snowflakes if s.params["hi"] is not None and v >= s.params["hi"])
             for s in splits]  # fmt: skip
    assert sizes == [50] * 6  # even ranges over 1e9..9e18 would leave three of six empty
    even = plan_key_splits(FakeSampler(number, list(range(100))), SplitOptions(key="id"), 4)
    assert [s.description for s in even] == [
        "id < 25",
        "25 <= id < 50",
        "50 <= id < 75",
        "75 <= id <= 99",
    ]


def test_thin_and_describe() -> None:
    assert thin(list(range(10)), 3) == [0, 3, 6]
    assert describe("k", {"lo": None, "hi": None}) == "every non-NULL k"
    assert describe("k", {"lo": "it's", "hi": None}) == "'it''s' <= k"
    assert SplitOptions.model_validate({"key": "d", "boundaries": ["2024-01-01"]}).boundaries
