"""The aggregate processor: SQL semantics per group, state across batches, tumbling windows."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from pydantic import ValidationError

from fustgo.engine.batch import Batch, BatchMetadata, Checkpoint
from fustgo.engine.errors import TerminalError
from fustgo.engine.types import JSON_FIELD_METADATA
from fustgo.plugins.api import PluginContext
from fustgo.plugins.processors.aggregate import (
    MIN_FOLD_ROWS,
    Aggregate,
    AggregateConfig,
    parse_call,
)
from tests.pipeline_runs import run_yaml

pytestmark = pytest.mark.unit

T0 = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now.timestamp()

    def __call__(self) -> float:
        return self.now


def make(body: dict[str, Any], batch_size: int = 10_000) -> Aggregate:
    processor = Aggregate(
        AggregateConfig.model_validate(body), PluginContext(batch_size=batch_size)
    )
    processor.clock = Clock()
    return processor


def rows(batches: list[Batch]) -> list[dict[str, Any]]:
    return [row for batch in batches for row in batch.data.to_pylist()]


SCHEMA = pa.schema(
    [
        ("region", pa.string()),
        ("qty", pa.int32()),
        ("customer", pa.string()),
        ("price", pa.decimal128(10, 2)),
        pa.field("doc", pa.string(), metadata=JSON_FIELD_METADATA),
    ]
)
SALES = [
    Batch.of(
        pa.RecordBatch.from_pydict(
            {
                "region": ["north", "south", "north", None, "東京"],
                "qty": [10, None, 30, 5, 7],
                "customer": ["ann", "bob", "ann", None, "ゆき"],
                "price": [Decimal("1.10"), None, Decimal("2.25"), None, Decimal("0.05")],
                "doc": ['{"a":1}', None, "[]", None, "{}"],
            },
            schema=SCHEMA,
        ),
        metadata=BatchMetadata(source="test", split_id="s"),
        checkpoint=Checkpoint("s", {"next": 5}, 5),
    ),
    Batch.of(
        pa.RecordBatch.from_pydict(
            {
                "region": ["south", "north", None, "west"],
                "qty": [None, 2, None, None],
                "customer": ["cid", "dan", "eve", None],
                "price": [None, Decimal("9.99"), None, None],
                "doc": [None, "1", None, None],
            },
            schema=SCHEMA,
        )
    ),
]

EVERYTHING = {
    "group_by": ["region"],
    "aggregations": {
        "records": "count(*)",
        "with_qty": "count(qty)",
        "total": "sum(qty)",
        "average": "avg(qty)",
        "smallest": "min(qty)",
        "largest": "max(customer)",
        "first_qty": "first(qty)",
        "last_doc": "last(doc)",
        "customers": "count_distinct(customer)",
        "revenue": "sum(price)",
    },
}


def test_every_function_per_group_across_batches_with_sql_null_semantics() -> None:
    processor = make(EVERYTHING)
    assert all(processor.process(batch) == [] for batch in SALES)  # held until the end
    out = processor.finish()
    by_region = {row.pop("region"): row for row in rows(out)}
    assert list(by_region) == ["north", "south", None, "東京", "west"]  # first-seen order
    assert by_region["north"] == {
        "records": 3,
        "with_qty": 3,
        "total": 42,
        "average": 14.0,
        "smallest": 2,
        "largest": "dan",
        "first_qty": 10,
        "last_doc": "1",
        "customers": 2,
        "revenue": Decimal("13.34"),
    }
    # Only NULL quantities: count 0, sum/avg/min NULL; first is the first record's NULL.
    assert by_region["south"] == {
        "records": 2,
        "with_qty": 0,
        "total": None,
        "average": None,
        "smallest": None,
        "largest": "cid",
        "first_qty": None,
        "last_doc": None,
        "customers": 2,
        "revenue": None,
    }
    # NULL keys form one group; NULL values are not distinct values.
    assert by_region[None]["records"] == 2 and by_region[None]["customers"] == 1
    assert by_region["west"]["customers"] == 0
    schema = out[0].schema
    assert schema.field("region").type == pa.string()
    assert schema.field("smallest").type == pa.int32()  # min/max/first/last keep the type
    assert schema.field("last_doc").metadata == JSON_FIELD_METADATA  # and the JSON tag
    assert schema.field("total").type == pa.int64()  # sums widen to 64 bits
    assert schema.field("average").type == pa.float64()
    assert pa.types.is_decimal(schema.field("revenue").type)
    assert schema.field("records").type == pa.int64()
    assert processor.finish() == []  # the state was emitted once


def test_without_group_by_everything_is_one_group() -> None:
    processor = make({"aggregations": {"n": "count(*)", "total": "sum(qty)"}})
    for batch in SALES:
        processor.process(batch)
    assert rows(processor.finish()) == [{"n": 9, "total": 54}]


def test_empty_batches_and_no_input_emit_nothing() -> None:
    processor = make(EVERYTHING)
    assert processor.process(SALES[0].with_data(SALES[0].data.slice(0, 0))) == []
    assert processor.finish() == []


def test_unicode_group_fields_output_names_and_quoted_fields() -> None:
    processor = make(
        {"group_by": ["地域"], "aggregations": {"合計": 'sum("unit price")', "件数": "count(*)"}}
    )
    processor.process(Batch.of({"地域": ["東", "西", "東"], "unit price": [1.5, 2.0, 3.0]}))
    assert rows(processor.finish()) == [
        {"地域": "東", "合計": 4.5, "件数": 2},
        {"地域": "西", "合計": 2.0, "件数": 1},
    ]


def test_state_folds_many_groups_like_one_polars_group_by() -> None:
    rng = np.random.default_rng(11)
    size = 3 * MIN_FOLD_ROWS
    keys = rng.integers(0, 120_000, size)
    values = np.where(rng.random(size) < 0.1, np.nan, rng.uniform(0, 100, size))
    frame = pl.DataFrame({"k": keys, "v": values}).with_columns(pl.col("v").fill_nan(None))
    processor = make(
        {
            "group_by": ["k"],
            "aggregations": {
                "n": "count(v)",
                "s": "sum(v)",
                "lo": "min(v)",
                "f": "first(v)",
                "d": "count_distinct(v)",
            },
        }
    )
    for chunk in frame.iter_slices(25_000):
        processor.process(Batch.of(chunk.to_arrow()))
    got = pl.DataFrame(rows(processor.finish()))
    expected = frame.group_by("k", maintain_order=True).agg(
        pl.col("v").count().cast(pl.Int64).alias("n"),
        pl.when(pl.col("v").count() > 0).then(pl.col("v").sum()).alias("s"),
        pl.col("v").min().alias("lo"),
        pl.col("v").first().alias("f"),
        pl.col("v").drop_nulls().n_unique().cast(pl.Int64).alias("d"),
    )
    assert got.height == expected.height
    assert got.get_column("k").to_list() == expected.get_column("k").to_list()
    for name in ("n", "lo", "f", "d"):
        assert got.get_column(name).to_list() == expected.get_column(name).to_list(), name
    assert np.allclose(
        got.get_column("s").fill_null(-1).to_numpy(), expected.get_column("s").fill_null(-1)
    )


def test_output_is_cut_into_batches_of_the_batch_size() -> None:
    processor = make({"group_by": ["k"], "aggregations": {"n": "count(*)"}}, batch_size=2)
    processor.process(Batch.of({"k": [1, 2, 3, 4, 5]}))
    assert [batch.num_rows for batch in processor.finish()] == [2, 2, 1]


def test_more_groups_than_max_groups_stops_the_run() -> None:
    processor = make({"group_by": ["k"], "aggregations": {"n": "count(*)"}, "max_groups": 3})
    processor.process(Batch.of({"k": [1, 2, 3, 4]}))
    with pytest.raises(TerminalError, match="4 groups, more than `max_groups` = 3"):
        processor.finish()


@pytest.mark.parametrize(
    ("aggregation", "message"),
    [
        ("sum(customer)", "aggregations.total` is `sum(customer)`, but `customer` holds String"),
        ("avg(flag)", "`avg(flag)`, but `flag` holds Boolean values"),
        ("min(tags)", "`min(tags)`, but `tags` holds List"),
        ("sum(missing)", "Field `missing` in `aggregate` is not in the batch"),
    ],
)
def test_wrong_types_and_missing_fields_stop_the_run(aggregation: str, message: str) -> None:
    processor = make({"group_by": ["region"], "aggregations": {"total": aggregation}})
    batch = Batch.of(
        {"region": ["a"], "customer": ["x"], "flag": [True], "tags": [["t"]], "qty": [1]}
    )
    with pytest.raises(TerminalError) as error:
        processor.process(batch)
    assert message in str(error.value)


def test_aggregation_syntax_is_normalized() -> None:
    config = AggregateConfig.model_validate(
        {"aggregations": {"a": " SUM( amount ) ", "b": "Count(*)", "c": 'max("a ""b""")'}}
    )
    assert config.aggregations == {"a": "sum(amount)", "b": "count(*)", "c": 'max("a ""b""")'}
    assert parse_call('max("a ""b""")').field == 'a "b"'


@pytest.mark.parametrize(
    "body",
    [
        {"aggregations": {}},
        {"aggregations": {"x": "median(amount)"}},
        {"aggregations": {"x": "sum(*)"}},
        {"aggregations": {"x": "sum amount"}},
        {"aggregations": {"x": "sum()"}},
        {"group_by": ["region"], "aggregations": {"region": "count(*)"}},
        {"group_by": ["a", "a"], "aggregations": {"n": "count(*)"}},
        {"aggregations": {"__fustgo_n": "count(*)"}},
        {"aggregations": {"window_start": "count(*)"}, "window": {"size": "1m", "field": "t"}},
        {"group_by": ["window_end"], "aggregations": {"n": "count(*)"},
         "window": {"size": 60, "field": "t"}},
        {"aggregations": {"n": "count(*)"}, "window": {"size": "1m"}},
        {"aggregations": {"n": "count(*)"}, "window": {"size": 0, "field": "t"}},
        {"aggregations": {"n": "count(*)"},
         "window": {"size": "1m", "time": "processing", "field": "t"}},
        {"aggregations": {"n": "count(*)"},
         "window": {"size": "1m", "type": "sliding", "field": "t"}},
        {"aggregations": {"n": "count(*)"}, "on_error": "null"},
    ],
)  # fmt: skip
def test_invalid_configs_fail_validation(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        AggregateConfig.model_validate(body)


# ---------------------------------------------------------------------------------- windows


def events(seconds: list[float | None], keys: list[Any], zone: str | None = "UTC") -> Batch:
    times = [None if s is None else T0 + dt.timedelta(seconds=s) for s in seconds]
    if zone is None:
        times = [None if t is None else t.replace(tzinfo=None) for t in times]
    return Batch.of(
        pa.record_batch({"at": pa.array(times, pa.timestamp("us", zone)), "device": keys})
    )


def windowed(**window: Any) -> Aggregate:
    return make(
        {
            "group_by": ["device"],
            "aggregations": {"n": "count(*)"},
            "window": {"size": "10s", "field": "at", **window},
        }
    )


def summary(batches: list[Batch]) -> list[tuple[float, float, Any, int]]:
    """(window start s, window end s, device, count) relative to T0."""
    return [
        (
            (row["window_start"] - T0).total_seconds(),
            (row["window_end"] - T0).total_seconds(),
            row["device"],
            row["n"],
        )
        for row in rows(batches)
    ]


def test_event_time_windows_close_when_the_watermark_passes_their_end() -> None:
    processor = windowed(allowed_lateness="5s")
    assert processor.process(events([1, 2, 11], ["a", "a", "b"])) == []
    # Newest event 14 → watermark 9: [0, 10) is still open, so the record at 3 joins it.
    assert processor.process(events([14, 3], ["b", "a"])) == []
    first = events([15, 4, 16], ["a", "b", "a"])
    out = processor.process(first)  # watermark 11 closes [0, 10)
    assert summary(out) == [(0, 10, "a", 3), (0, 10, "b", 1)]
    assert out[0].checkpoint == first.checkpoint
    assert out[0].schema.field("window_start").type == pa.timestamp("us", "UTC")
    assert out[0].schema.names == ["window_start", "window_end", "device", "n"]
    assert summary(processor.finish()) == [(10, 20, "b", 2), (10, 20, "a", 2)]


def test_late_records_go_to_the_dead_letter_by_default() -> None:
    processor = windowed()
    processor.process(events([1, 12], ["a", "a"]))  # watermark 12 closes [0, 10)
    assert processor.process(events([9, 13], ["a", "a"])) == []
    rejected = processor.take_rejected()
    assert [r.records.num_rows for r in rejected] == [1]
    assert "Late record" in str(rejected[0].error) and "allowed_lateness" in str(rejected[0].error)
    assert processor.stats().records_failed == 1
    assert summary(processor.finish()) == [(10, 20, "a", 2)]


def test_late_records_can_be_dropped_and_counted() -> None:
    processor = windowed(on_late="drop")
    processor.process(events([1, 25], ["a", "a"]))
    processor.process(events([2, 13, 26], ["a", "a", "a"]))  # 2 and 13 are late
    assert processor.take_rejected() == []
    assert processor.stats().records_filtered == 2
    assert summary(processor.finish()) == [(20, 30, "a", 2)]


@pytest.mark.parametrize(("on_error", "failed", "filtered"), [("fail", 2, 0), ("skip", 0, 2)])
def test_records_without_event_time(on_error: str, failed: int, filtered: int) -> None:
    processor = make(
        {
            "aggregations": {"n": "count(*)"},
            "window": {"size": "10s", "field": "at"},
            "on_error": on_error,
        }
    )
    processor.process(events([None, 1, None], ["a", "a", "a"]))
    assert processor.stats().records_failed == failed
    assert processor.stats().records_filtered == filtered
    assert [r.records.num_rows for r in processor.take_rejected()] == ([2] if failed else [])
    assert summary_counts(processor.finish()) == [1]


def summary_counts(batches: list[Batch]) -> list[int]:
    return [row["n"] for row in rows(batches)]


def test_zoned_naive_and_date_event_times_keep_their_kind() -> None:
    tokyo = make({"aggregations": {"n": "count(*)"}, "window": {"size": "1d", "field": "at"}})
    tokyo.process(
        Batch.of(pa.record_batch({"at": pa.array([T0], pa.timestamp("us", "Asia/Tokyo"))}))
    )
    (row,) = rows(tokyo.finish())
    # Windows align to UTC days and are shown in the field's zone.
    assert row["window_start"] == T0 and str(row["window_start"].tzinfo) == "Asia/Tokyo"
    naive = windowed()
    naive.process(events([12], ["a"], zone=None))
    (row,) = rows(naive.finish())
    assert row["window_start"] == dt.datetime(2024, 3, 1, 0, 0, 10)
    dated = make({"aggregations": {"n": "count(*)"}, "window": {"size": "1d", "field": "day"}})
    # The newest day closes the window of the day before it; the NULL day fits no window.
    early = dated.process(Batch.of({"day": [dt.date(2024, 3, 1), dt.date(2024, 3, 2), None]}))
    assert [(r["window_start"].day, r["n"]) for r in rows(early)] == [(1, 1)]
    assert [(r["window_start"].day, r["n"]) for r in rows(dated.finish())] == [(2, 1)]
    assert dated.stats().records_failed == 1


def test_an_event_time_field_that_is_not_a_time_stops_the_run() -> None:
    with pytest.raises(TerminalError, match="holds String values, not timestamps"):
        windowed().process(Batch.of({"at": ["2024-01-01"], "device": ["a"]}))


def test_processing_time_windows_follow_the_injected_clock() -> None:
    processor = make(
        {
            "aggregations": {"n": "count(*)", "total": "sum(v)"},
            "window": {"size": "1m", "time": "processing"},
        }
    )
    clock = processor.clock
    assert isinstance(clock, Clock)
    clock.now += 5
    assert processor.process(Batch.of({"v": [1, 2]})) == []
    clock.now += 50
    assert processor.process(Batch.of({"v": [3]})) == []  # still in [0, 60)
    clock.now += 10  # 65 s: the next batch, even an empty one, closes [0, 60)
    out = processor.process(Batch.of({"v": pa.array([], pa.int64())}))
    assert [(r["window_start"], r["window_end"], r["n"], r["total"]) for r in rows(out)] == [
        (T0, T0 + dt.timedelta(minutes=1), 2 + 1, 6)
    ]
    processor.process(Batch.of({"v": [4]}))
    assert [(r["window_start"], r["n"]) for r in rows(processor.finish())] == [
        (T0 + dt.timedelta(minutes=1), 1)
    ]


def test_through_a_yaml_pipeline(tmp_path: Path) -> None:
    records = [
        {"region": "north", "amount": 10.0, "at": "2024-03-01T00:00:05Z"},
        {"region": "東京", "amount": 5.5, "at": "2024-03-01T00:00:30Z"},
        {"region": "north", "amount": None, "at": "2024-03-01T00:01:10Z"},
        {"region": None, "amount": 1.0, "at": "2024-03-01T00:01:20Z"},
    ]
    (tmp_path / "in.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    outcome = run_yaml(
        """
name: aggregate-yaml
settings: {checkpoint: {enabled: false}, batch_size: 2}
input: {type: json, paths: [in.jsonl]}
pipeline:
  processors:
    - type: transform
      casts: {at: "timestamp(UTC)"}
    - type: aggregate
      group_by: [region]
      aggregations: {orders: "count(*)", revenue: "sum(amount)"}
      window: {type: tumbling, size: 1m, field: at}
output: {type: json, path: out.jsonl}
""",
        tmp_path,
    )
    summary_ = outcome.summary
    assert summary_.status == "succeeded", summary_.error
    assert (summary_.records_read, summary_.records_written) == (4, 4)
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [(r["window_start"][11:19], r["region"], r["orders"], r["revenue"]) for r in out] == [
        ("00:00:00", "north", 1, 10.0),
        ("00:00:00", "東京", 1, 5.5),
        ("00:01:00", "north", 1, None),
        ("00:01:00", None, 1, 1.0),
    ]
