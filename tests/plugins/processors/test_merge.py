"""The merge processor: per-field merges across batches, NULLs, bounded state, stable schema."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from pydantic import ValidationError

from fustgo.engine.batch import Batch
from fustgo.engine.errors import TerminalError
from fustgo.engine.types import JSON_FIELD_METADATA
from fustgo.plugins.api import PluginContext
from fustgo.plugins.processors.merge import Merge, MergeConfig

pytestmark = pytest.mark.unit


def make(context: PluginContext | None = None, **body: Any) -> Merge:
    return Merge(MergeConfig.model_validate({"merge_key": ["user"], **body}), context)


def run(processor: Merge, *batches: dict[str, Any] | pa.RecordBatch) -> list[dict[str, Any]]:
    """Every batch through the processor, then `finish()`: the merged records in order."""
    out: list[Batch] = []
    for columns in batches:
        data = (
            columns if isinstance(columns, pa.RecordBatch) else pa.RecordBatch.from_pydict(columns)
        )
        out.extend(processor.process(Batch(data)))
    out.extend(processor.finish())
    return [row for batch in out for row in batch.data.to_pylist()]


EVENTS = (
    {"user": [1, 2, 1], "city": ["Paris", "東京", None], "tag": ["a", "b", None], "n": [1, 2, 3]},
    {"user": [3, 1, 2], "city": [None, "Lyon", None], "tag": ["c", "d", "e"], "n": [None, 4, None]},
)


def test_last_non_null_wins_by_default_across_batches() -> None:
    assert run(make(), *EVENTS) == [
        {"user": 1, "city": "Lyon", "tag": "d", "n": 4},
        {"user": 2, "city": "東京", "tag": "e", "n": 2},
        {"user": 3, "city": None, "tag": "c", "n": None},
    ]


def test_per_field_merges_override_the_strategy() -> None:
    processor = make(strategy="first", fields={"tag": "collect", "n": "sum", "city": "count"})
    assert run(processor, *EVENTS) == [
        {"user": 1, "city": 2, "tag": ["a", "d"], "n": 8},
        {"user": 2, "city": 1, "tag": ["b", "e"], "n": 2},
        {"user": 3, "city": 0, "tag": ["c"], "n": None},  # a sum of NULLs only is NULL
    ]


def test_collect_strategy_gathers_every_field_and_keeps_types() -> None:
    data = pa.RecordBatch.from_arrays(
        [
            pa.array([1, 1, 2]),
            pa.array([Decimal("1.50"), Decimal("2.25"), None], pa.decimal128(10, 2)),
            pa.array(['{"a":1}', None, "[]"]),
            pa.array([[1], [2, 3], None]),
        ],
        schema=pa.schema(
            [
                ("user", pa.int64()),
                ("price", pa.decimal128(10, 2)),
                pa.field("raw", pa.string(), metadata=JSON_FIELD_METADATA),
                ("lists", pa.list_(pa.int64())),
            ]
        ),
    )
    processor = make(strategy="collect", fields={"price": "sum"})
    (merged,) = processor.process(Batch(data)) + processor.finish()
    assert merged.schema == pa.schema(
        [
            ("user", pa.int64()),
            ("price", pa.decimal128(38, 2)),
            ("raw", pa.list_(pa.string())),
            ("lists", pa.list_(pa.list_(pa.int64()))),
        ]
    )
    assert merged.data.to_pylist() == [
        {"user": 1, "price": Decimal("3.75"), "raw": ['{"a":1}'], "lists": [[1], [2, 3]]},
        {"user": 2, "price": None, "raw": ["[]"], "lists": []},
    ]


def test_last_and_first_keep_the_field_exactly_with_its_json_tag() -> None:
    data = pa.RecordBatch.from_arrays(
        [pa.array(["k", "k"]), pa.array(['{"v":1}', '{"v":2}']), pa.array([1, 2], pa.int8())],
        schema=pa.schema(
            [
                ("user", pa.string()),
                pa.field("doc", pa.string(), metadata=JSON_FIELD_METADATA),
                ("small", pa.int8()),
            ]
        ),
    )
    processor = make(fields={"small": "first"})
    (merged,) = processor.process(Batch(data)) + processor.finish()
    assert merged.schema == data.schema
    assert merged.data.to_pylist() == [{"user": "k", "doc": '{"v":2}', "small": 1}]


def test_composite_keys_and_null_keys_group_like_sql() -> None:
    batch = {
        "user": [1, 1, None, None, 1],
        "day": ["d1", "d2", None, None, "d1"],
        "n": [1, 2, 3, 4, 5],
    }
    processor = Merge(MergeConfig(merge_key=["user", "day"], fields={"n": "sum"}))
    assert run(processor, batch) == [
        {"user": 1, "day": "d1", "n": 6},
        {"user": 1, "day": "d2", "n": 2},
        {"user": None, "day": None, "n": 7},
    ]


def test_sums_widen_so_they_do_not_overflow() -> None:
    data = pa.RecordBatch.from_pydict(
        {"user": [1, 1], "n": pa.array([100, 100], pa.int8()), "u": pa.array([1, 2], pa.uint16())}
    )
    processor = make(fields={"n": "sum", "u": "sum"})
    (merged,) = processor.process(Batch(data)) + processor.finish()
    assert merged.schema.field("n").type == pa.int64()
    assert merged.schema.field("u").type == pa.uint64()
    assert merged.data.to_pylist() == [{"user": 1, "n": 200, "u": 3}]


def test_many_batches_fold_into_one_record_per_key_in_first_seen_order() -> None:
    processor = make(PluginContext(batch_size=7), fields={"n": "sum", "tag": "collect"})
    batches = [
        {"user": [(b * 3 + i) % 20 for i in range(5)], "n": [1] * 5, "tag": [f"{b}"] * 5}
        for b in range(40)
    ]
    out = [processor.process(Batch(pa.RecordBatch.from_pydict(b))) for b in batches]
    assert all(batch == [] for batch in out)  # everything is held until the end
    merged = processor.finish()
    assert [b.num_rows for b in merged] == [7, 7, 6]
    rows = [row for batch in merged for row in batch.data.to_pylist()]
    expected_order = list(dict.fromkeys(u for b in batches for u in b["user"]))
    assert [row["user"] for row in rows] == expected_order
    assert sum(row["n"] for row in rows) == 200
    assert all(len(row["tag"]) == row["n"] for row in rows)
    assert processor.finish() == []  # the state was handed over


def test_past_max_keys_the_least_recently_updated_groups_leave_early(
    caplog: pytest.LogCaptureFixture,
) -> None:
    processor = make(max_keys=2, fields={"n": "sum"})
    first = processor.process(Batch(pa.RecordBatch.from_pydict({"user": [1, 2], "n": [1, 1]})))
    assert first == []
    with caplog.at_level(logging.WARNING, logger="fustgo.plugins.processors.merge"):
        early = processor.process(Batch(pa.RecordBatch.from_pydict({"user": [3, 2], "n": [1, 1]})))
    assert [b.data.to_pylist() for b in early] == [[{"user": 1, "n": 1}]]
    assert "emitting the least recently updated groups early" in caplog.text
    later = processor.process(Batch(pa.RecordBatch.from_pydict({"user": [1], "n": [5]})))
    assert [b.data.to_pylist() for b in later] == [[{"user": 2, "n": 2}]]
    rest = [row for b in processor.finish() for row in b.data.to_pylist()]
    assert rest == [{"user": 3, "n": 1}, {"user": 1, "n": 5}]  # key 1 appears a second time


def test_max_state_bytes_bounds_the_held_groups() -> None:
    processor = make(max_state_bytes=2_000, fields={"text": "collect"})
    batch = {"user": list(range(100)), "text": ["x" * 50] * 100}
    early = processor.process(Batch(pa.RecordBatch.from_pydict(batch)))
    emitted = sum(b.num_rows for b in early)
    held = sum(b.num_rows for b in processor.finish())
    assert emitted > 0 and held > 0 and emitted + held == 100


def test_empty_batches_hold_nothing() -> None:
    processor = make()
    assert (
        processor.process(Batch(pa.RecordBatch.from_pydict({"user": pa.array([], pa.int64())})))
        == []
    )
    assert processor.finish() == []


def test_errors_name_the_fields() -> None:
    with pytest.raises(TerminalError, match=r"Fields `user`, `nope` in `merge` are not in"):
        run(make(fields={"nope": "sum"}), {"other": [1]})
    with pytest.raises(TerminalError, match=r"`merge.fields.city: sum` adds numbers, but `city`"):
        run(make(fields={"city": "sum"}), {"user": [1], "city": ["x"]})
    processor = make()
    processor.process(Batch(pa.RecordBatch.from_pydict({"user": [1], "n": [1]})))
    with pytest.raises(TerminalError, match=r"fields \(user: int64, n: string\) unlike the first"):
        processor.process(Batch(pa.RecordBatch.from_pydict({"user": [1], "n": ["1"]})))


def test_the_processor_is_declared_stateful() -> None:
    assert Merge.thread_safe is False
    assert "stateful" in Merge.info.capabilities


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"merge_key": []},
        {"merge_key": ["a", "a"]},
        {"merge_key": ["a"], "fields": {"a": "sum"}},
        {"merge_key": ["a"], "fields": {"b": "median"}},
        {"merge_key": ["a"], "strategy": "sum"},
        {"merge_key": ["a"], "max_keys": 0},
        {"merge_key": ["a"], "max_state_bytes": "lots"},
    ],
)
def test_invalid_configs_fail_validation(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        MergeConfig.model_validate(body)
