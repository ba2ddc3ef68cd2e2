"""The filter processor: SQL conditions, include/exclude, NULL semantics, errors."""

from __future__ import annotations

import pyarrow as pa
import pytest
from pydantic import ValidationError

from fustgo.engine.batch import Batch, BatchMetadata, Checkpoint
from fustgo.engine.errors import TerminalError
from fustgo.engine.types import JSON_FIELD_METADATA
from fustgo.plugins.processors.filter import Filter, FilterConfig

pytestmark = pytest.mark.unit


def make_filter(condition: str, mode: str = "include") -> Filter:
    return Filter(FilterConfig.model_validate({"condition": condition, "mode": mode}))


ORDERS = Batch(
    data=pa.RecordBatch.from_arrays(
        [
            pa.array([1, 2, 3, 4, 5]),
            pa.array([10.0, None, -1.0, 5.5, 0.0]),
            pa.array(["paid", "paid", None, "new", "paid"]),
            pa.array(["东京", "Zoë", "x", None, "y"]),
            pa.array(['{"a":1}', None, None, None, "[]"]),
        ],
        schema=pa.schema(
            [
                ("id", pa.int64()),
                ("amount", pa.float64()),
                ("status", pa.string()),
                ("城市", pa.string()),
                pa.field("doc", pa.string(), metadata=JSON_FIELD_METADATA),
            ]
        ),
    ),
    metadata=BatchMetadata(source="test", split_id="s1"),
    checkpoint=Checkpoint("s1", {"last_key": 5}, 5),
)


def ids(batches: list[Batch]) -> list[int]:
    return [i for batch in batches for i in batch.data.column("id").to_pylist()]


def test_include_keeps_rows_where_the_condition_is_true() -> None:
    processor = make_filter("amount > 0 AND status = 'paid'")
    (out,) = processor.process(ORDERS)
    assert ids([out]) == [1]
    assert out.checkpoint == ORDERS.checkpoint
    assert out.metadata == ORDERS.metadata
    assert out.schema == ORDERS.schema  # types and the JSON tag are untouched
    assert processor.stats().records_filtered == 4


def test_null_results_are_dropped_by_include_and_kept_by_exclude() -> None:
    # amount > 0 is NULL for id 2; status = 'paid' is NULL for id 3
    assert ids(make_filter("amount > 0").process(ORDERS)) == [1, 4]
    assert ids(make_filter("amount > 0", "exclude").process(ORDERS)) == [2, 3, 5]
    assert ids(make_filter("status = 'paid'", "exclude").process(ORDERS)) == [3, 4]


def test_exclude_is_the_complement_of_include() -> None:
    for condition in ("amount >= 5.5", "status IS NULL", "amount < 0 OR status = 'new'"):
        kept = ids(make_filter(condition).process(ORDERS))
        dropped = ids(make_filter(condition, "exclude").process(ORDERS))
        assert sorted(kept + dropped) == [1, 2, 3, 4, 5]
        assert not set(kept) & set(dropped)


def test_unicode_column_names_and_values() -> None:
    assert ids(make_filter("\"城市\" = '东京'").process(ORDERS)) == [1]
    assert ids(make_filter("城市 IN ('Zoë', 'y')").process(ORDERS)) == [2, 5]


def test_everything_filtered_gives_no_batch_and_an_empty_batch_gives_none() -> None:
    processor = make_filter("id > 100")
    assert processor.process(ORDERS) == []
    assert processor.process(ORDERS.with_data(ORDERS.data.slice(0, 0))) == []
    assert processor.stats().records_filtered == 5


def test_a_constant_condition_applies_to_every_row() -> None:
    assert ids(make_filter("1 = 1").process(ORDERS)) == [1, 2, 3, 4, 5]
    assert make_filter("1 = 0").process(ORDERS) == []


def test_a_missing_column_names_the_available_ones() -> None:
    with pytest.raises(TerminalError) as error:
        make_filter("price > 0").process(ORDERS)
    assert str(error.value) == (
        "Field `price` in the `filter` condition `price > 0` is not in the batch; "
        "fields are: id, amount, status, 城市, doc. Fix the name, or add the field in an "
        "earlier step."
    )


def test_comparing_wrong_types_is_a_terminal_error() -> None:
    with pytest.raises(TerminalError, match="cannot be evaluated: cannot compare string"):
        make_filter("amount > 'x'").process(ORDERS)


def test_a_condition_that_is_not_true_or_false_is_refused() -> None:
    with pytest.raises(TerminalError, match="gives Float64 values, not true/false"):
        make_filter("amount + 1").process(ORDERS)


@pytest.mark.parametrize(
    "body", [{"condition": "amount >"}, {"condition": ""}, {"condition": "a > 1", "mode": "keep"}]
)
def test_invalid_configs_fail_validation(body: dict) -> None:
    with pytest.raises(ValidationError):
        FilterConfig.model_validate(body)
