"""The deduplicate processor: first/last per key, time windows, bounded key memory."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from pydantic import ValidationError

from fustgo.engine.batch import Batch, BatchMetadata, Checkpoint
from fustgo.engine.errors import TerminalError
from fustgo.plugins.processors.deduplicate import (
    MIN_SLOTS,
    Deduplicate,
    DeduplicateConfig,
    KeyTable,
)
from tests.pipeline_runs import run_yaml

pytestmark = pytest.mark.unit


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(**body: Any) -> tuple[Deduplicate, Clock]:
    processor = Deduplicate(DeduplicateConfig.model_validate(body))
    clock = Clock()
    processor.clock = clock
    return processor, clock


def batch_of(columns: dict[str, list[Any]]) -> Batch:
    return Batch.of(
        columns,
        metadata=BatchMetadata(source="test", split_id="s"),
        checkpoint=Checkpoint("s", {"next": 3}, 3),
    )


def ids(batches: list[Batch]) -> list[int]:
    return [i for batch in batches for i in batch.data.column("id").to_pylist()]


def test_first_copy_of_each_key_passes_within_and_across_batches() -> None:
    processor, _ = make(key_fields=["order_id"])
    first = batch_of({"id": [1, 2, 3, 4], "order_id": [10, 20, 10, 30]})
    (out,) = processor.process(first)
    assert ids([out]) == [1, 2, 4]
    assert out.checkpoint == first.checkpoint and out.metadata == first.metadata
    assert out.schema == first.schema
    assert ids(processor.process(batch_of({"id": [5, 6], "order_id": [30, 40]}))) == [6]
    assert processor.stats().records_filtered == 2
    assert processor.finish() == []


def test_a_batch_without_duplicates_is_passed_as_is() -> None:
    processor, _ = make(key_fields=["order_id"])
    batch = batch_of({"id": [1, 2], "order_id": [1, 2]})
    assert processor.process(batch) == [batch]


def test_null_keys_are_equal_like_sql_distinct() -> None:
    processor, _ = make(key_fields=["a", "b"])
    batch = batch_of(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "a": [None, None, 1, 1, None, 1],
            "b": ["x", "x", None, None, None, "x"],
        }
    )
    assert ids(processor.process(batch)) == [1, 3, 5, 6]
    assert processor.process(batch_of({"id": [7], "a": [None], "b": [None]})) == []


def test_unicode_and_empty_string_keys() -> None:
    processor, _ = make(key_fields=["名前"])
    batch = batch_of({"id": [1, 2, 3, 4, 5], "名前": ["東京", "", "Zoë", "東京", None]})
    assert ids(processor.process(batch)) == [1, 2, 3, 5]  # "" and NULL are different keys


def test_integer_widths_do_not_change_the_key() -> None:
    # CSV files may infer int32 in one file and int64 in another.
    processor, _ = make(key_fields=["k"])
    narrow = Batch.of(pa.record_batch({"id": [1], "k": pa.array([7], pa.int32())}))
    wide = Batch.of(pa.record_batch({"id": [2], "k": pa.array([7], pa.int64())}))
    assert ids(processor.process(narrow)) == [1]
    assert processor.process(wide) == []


def test_all_duplicates_and_empty_batches_give_nothing() -> None:
    processor, _ = make(key_fields=["k"])
    processor.process(batch_of({"id": [1], "k": ["a"]}))
    assert processor.process(batch_of({"id": [2, 3], "k": ["a", "a"]})) == []
    assert processor.process(batch_of({"id": [], "k": []})) == []
    assert processor.stats().records_filtered == 2


def test_time_window_forgets_a_key_that_long_after_it_was_kept() -> None:
    processor, clock = make(key_fields=["k"], time_window="10s")
    assert ids(processor.process(batch_of({"id": [1], "k": ["a"]}))) == [1]
    clock.now += 9.9
    assert processor.process(batch_of({"id": [2], "k": ["a"]})) == []  # within the window
    clock.now += 0.2  # 10.1 s after record 1 was kept
    assert ids(processor.process(batch_of({"id": [3, 4], "k": ["a", "a"]}))) == [3]
    clock.now += 9.0  # the window restarted at record 3
    assert processor.process(batch_of({"id": [5], "k": ["a"]})) == []
    clock.now += 100.0  # expired keys are purged from memory as well
    assert ids(processor.process(batch_of({"id": [6], "k": ["b"]}))) == [6]
    assert processor._table.size == 1


def test_max_keys_forgets_the_keys_kept_longest_ago(caplog: pytest.LogCaptureFixture) -> None:
    processor, clock = make(key_fields=["k"], max_keys=4)
    for key in range(4):
        clock.now += 1
        processor.process(batch_of({"id": [key], "k": [key]}))
    with caplog.at_level(logging.WARNING):
        clock.now += 1
        assert ids(processor.process(batch_of({"id": [4, 5], "k": [4, 5]}))) == [4, 5]
        clock.now += 1
        assert ids(processor.process(batch_of({"id": [6], "k": [6]}))) == [6]
    assert processor._table.size <= 4
    # Keys 0 and 1 were kept longest ago and are forgotten; 5 and 6 are still held.
    assert ids(processor.process(batch_of({"id": [10, 11, 15, 16], "k": [0, 1, 5, 6]}))) == [
        10,
        11,
    ]
    assert len([r for r in caplog.records if "More than 4 distinct keys" in r.message]) == 1


def test_a_batch_with_more_new_keys_than_max_keys() -> None:
    processor, _ = make(key_fields=["k"], max_keys=3)
    assert ids(processor.process(batch_of({"id": list(range(6)), "k": list(range(6))}))) == list(
        range(6)
    )
    assert processor._table.size == 3
    assert ids(processor.process(batch_of({"id": [0, 5], "k": [0, 5]}))) == [0]  # 3..5 held


def test_keep_last_emits_the_latest_copy_of_each_key_at_the_end() -> None:
    processor, _ = make(key_fields=["k"], keep="last")
    assert processor.process(batch_of({"id": [1, 2, 3], "k": ["a", "b", "a"]})) == []
    assert processor.process(batch_of({"id": [4, 5], "k": [None, "b"]})) == []
    out = processor.finish()
    assert ids(out) == [3, 4, 5]  # in the order the last copies arrived
    assert out[0].schema == pa.schema([("id", pa.int64()), ("k", pa.string())])
    assert processor.stats().records_filtered == 2
    assert processor.finish() == []


def test_keep_last_over_many_batches_folds_as_it_goes() -> None:
    processor, _ = make(key_fields=["k"], keep="last")
    rng = np.random.default_rng(7)
    keys = rng.integers(0, 5_000, 3 * MIN_SLOTS)
    for start in range(0, len(keys), 20_000):
        chunk = keys[start : start + 20_000]
        processor.process(Batch.of({"id": np.arange(start, start + len(chunk)), "k": chunk}))
    out = processor.finish()
    last_index = {int(k): i for i, k in enumerate(keys)}
    assert ids(out) == sorted(last_index.values())
    assert processor.stats().records_filtered == len(keys) - len(last_index)
    assert all(batch.num_rows <= processor.context.batch_size for batch in out)


def test_keep_last_beyond_max_keys_stops_the_run() -> None:
    processor, _ = make(key_fields=["k"], keep="last", max_keys=2)
    processor.process(batch_of({"id": [1, 2, 3], "k": [1, 2, 3]}))
    with pytest.raises(TerminalError, match="more than `max_keys` = 2 distinct keys"):
        processor.finish()


def test_keep_last_with_columns_that_change_type_is_an_error() -> None:
    processor, _ = make(key_fields=["k"], keep="last")
    processor.process(batch_of({"id": [1], "k": ["a"]}))
    processor.process(Batch.of({"id": ["x"], "k": ["b"]}))
    with pytest.raises(TerminalError, match="columns do not match"):
        processor.finish()


def test_a_missing_key_field_names_the_available_ones() -> None:
    processor, _ = make(key_fields=["order_id", "line"])
    with pytest.raises(TerminalError) as error:
        processor.process(batch_of({"id": [1], "order_id": [1]}))
    assert str(error.value) == (
        "Field `line` in `deduplicate.key_fields` is not in the batch; fields are: "
        "id, order_id. Fix the name, or add the field in an earlier step."
    )


@pytest.mark.parametrize(
    "body",
    [
        {"key_fields": []},
        {"key_fields": ["a", "a"]},
        {"key_fields": ["a"], "keep": "last", "time_window": "1h"},
        {"key_fields": ["a"], "time_window": 0},
        {"key_fields": ["a"], "time_window": "soon"},
        {"key_fields": ["a"], "max_keys": 0},
        {"key_fields": ["a"], "keep": "latest"},
    ],
)
def test_invalid_configs_fail_validation(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        DeduplicateConfig.model_validate(body)


def test_key_table_matches_a_python_set_through_growth_and_probe_chains() -> None:
    table = KeyTable(slots=16)
    reference: set[int] = set()
    rng = np.random.default_rng(1)
    for round_ in range(30):
        # Half random keys, half keys that all start probing at the same slot.
        keys = np.concatenate(
            [
                rng.integers(1, 2**63, 50, dtype=np.uint64),
                (np.arange(round_ * 20, round_ * 20 + 20, dtype=np.uint64) << 20) | 5,
            ]
        )
        keys = np.unique(keys)
        found = table.find(keys)
        assert [bool(f >= 0) for f in found] == [int(k) in reference for k in keys]
        new = keys[found < 0]
        table.add(new, float(round_))
        reference.update(int(k) for k in new)
        assert table.size == len(reference)
    assert (table.find(np.array(sorted(reference), dtype=np.uint64)) >= 0).all()
    table.drop_oldest(100)
    assert table.size == len(reference) - 100
    assert (table.stamps[table.hashes != 0] >= 1).all()  # round 0's keys went first


def test_through_a_yaml_pipeline(tmp_path: Path) -> None:
    records = [
        {"order_id": 1, "customer": "Zoë", "amount": 5},
        {"order_id": 2, "customer": "東京", "amount": 7},
        {"order_id": 1, "customer": "Zoë", "amount": 5},
        {"order_id": None, "customer": "x", "amount": 1},
        {"order_id": None, "customer": "y", "amount": 2},
    ]
    (tmp_path / "in.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    outcome = run_yaml(
        """
name: dedupe-yaml
settings: {checkpoint: {enabled: false}, batch_size: 2}
input: {type: json, paths: [in.jsonl]}
pipeline:
  processors:
    - {type: deduplicate, key_fields: [order_id]}
output: {type: json, path: out.jsonl}
""",
        tmp_path,
    )
    summary = outcome.summary
    assert summary.status == "succeeded", summary.error
    assert (summary.records_read, summary.records_written, summary.records_filtered) == (5, 3, 2)
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [(r["order_id"], r["customer"]) for r in out] == [(1, "Zoë"), (2, "東京"), (None, "x")]
