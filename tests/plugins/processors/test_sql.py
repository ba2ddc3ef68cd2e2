"""The sql processor: a SELECT over each batch, validated at config time, stateless."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pydantic import ValidationError

from fustgo.engine.batch import Batch, BatchMetadata, Checkpoint
from fustgo.engine.errors import TerminalError
from fustgo.engine.types import JSON_FIELD_METADATA
from fustgo.plugins.processors.sql import Sql, SqlConfig
from tests.pipeline_runs import run_yaml

pytestmark = pytest.mark.unit


def make(query: str) -> Sql:
    return Sql(SqlConfig(query=query))


ORDERS = Batch(
    data=pa.RecordBatch.from_arrays(
        [
            pa.array([1, 2, 3, 4, 5]),
            pa.array(["north", "south", "north", None, "東京"]),
            pa.array([10.5, None, 4.0, 7.0, 1.25]),
            pa.array(['{"a": 1}', None, "[]", None, "{}"]),
        ],
        schema=pa.schema(
            [
                ("id", pa.int32()),
                ("region", pa.string()),
                ("amount", pa.float64()),
                pa.field("doc", pa.string(), metadata=JSON_FIELD_METADATA),
            ]
        ),
    ),
    metadata=BatchMetadata(source="test", split_id="s1"),
    checkpoint=Checkpoint("s1", {"next": 5}, 5),
)


def rows(batches: list[Batch]) -> list[dict[str, Any]]:
    return [row for batch in batches for row in batch.data.to_pylist()]


def test_select_where_and_computed_columns_keep_the_batch_and_types() -> None:
    processor = make(
        "SELECT id, doc, UPPER(region) AS region, amount * 2 AS doubled FROM batch WHERE amount > 5"
    )
    (out,) = processor.process(ORDERS)
    assert out.data.to_pylist() == [
        {"id": 1, "doc": '{"a": 1}', "region": "NORTH", "doubled": 21.0},
        {"id": 4, "doc": None, "region": None, "doubled": 14.0},
    ]
    # Unchanged columns keep their exact Arrow type and the JSON tag; text stays `string`.
    assert out.schema.field("id").type == pa.int32()
    assert out.schema.field("doc") == ORDERS.schema.field("doc")
    assert out.schema.field("region").type == pa.string()
    assert out.checkpoint == ORDERS.checkpoint and out.metadata == ORDERS.metadata
    assert processor.stats().records_filtered == 3  # NULL amount compares as unknown


def test_select_star_passes_everything_unchanged() -> None:
    (out,) = make("SELECT * FROM batch").process(ORDERS)
    assert out.data.equals(ORDERS.data)


def test_null_semantics_follow_sql() -> None:
    out = make(
        "SELECT id, amount IS NULL AS missing, COALESCE(region, '?') AS region FROM batch"
    ).process(ORDERS)
    assert [(r["id"], r["missing"], r["region"]) for r in rows(out)] == [
        (1, False, "north"),
        (2, True, "south"),
        (3, False, "north"),
        (4, False, "?"),
        (5, False, "東京"),
    ]


def test_unicode_names_and_values() -> None:
    batch = Batch.of({"名前": ["太郎", "Zoë"], "量": [1, 2]})
    out = make('SELECT "名前" AS name, "量" * 10 AS qty FROM batch WHERE "名前" <> \'Zoë\'')
    assert rows(out.process(batch)) == [{"name": "太郎", "qty": 10}]


def test_aggregates_apply_within_one_batch_only() -> None:
    processor = make(
        "SELECT region, COUNT(*) AS orders, SUM(amount) AS total FROM batch "
        "GROUP BY region ORDER BY region"
    )
    first = rows(processor.process(ORDERS))
    second = rows(processor.process(ORDERS))
    assert first == second  # nothing carried over from the first batch
    by_region = {r["region"]: (r["orders"], r["total"]) for r in first}
    assert by_region == {
        None: (1, 7.0),
        "north": (2, 14.5),
        "south": (1, None),  # SUM of only NULLs is NULL
        "東京": (1, 1.25),
    }
    assert processor.finish() == []


def test_empty_batches_and_everything_filtered_give_nothing() -> None:
    processor = make("SELECT * FROM batch WHERE amount > 1000")
    assert processor.process(ORDERS.with_data(ORDERS.data.slice(0, 0))) == []
    assert processor.process(ORDERS) == []
    assert processor.stats().records_filtered == 5


def test_try_cast_nulls_what_does_not_convert() -> None:
    batch = Batch.of({"zip": ["01234", "abc", None]})
    out = make("SELECT TRY_CAST(zip AS INTEGER) AS zip FROM batch").process(batch)
    assert rows(out) == [{"zip": 1234}, {"zip": None}, {"zip": None}]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT price FROM batch", "names a column the batch does not have"),
        ("SELECT region + 1 AS x FROM batch", "cannot run on this batch"),
        ("SELECT CAST(region AS INTEGER) AS x FROM batch", "use TRY_CAST"),
    ],
)
def test_runtime_errors_stop_the_run_with_a_clear_message(query: str, message: str) -> None:
    with pytest.raises(TerminalError, match=message) as error:
        make(query).process(ORDERS)
    if "price" in query:
        assert "columns are: id, region, amount, doc" in str(error.value)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELEC id FROM batch", "must be a SELECT"),
        ("DROP TABLE batch", "must be a SELECT"),
        ("SELECT id FROM batch WHERE", "invalid SQL query"),
        ("SELECT * FROM orders", "relation 'orders' was not found"),
        ("SELECT nope(id) FROM batch", "unsupported function 'nope'"),
        ("SELECT 1 FROM batch; SELECT 2 FROM batch", "invalid SQL query"),
    ],
)
def test_invalid_queries_fail_validation(query: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SqlConfig(query=query)


def test_valid_queries_validate_without_a_schema() -> None:
    for query in (
        "-- comment\nSELECT a FROM batch",
        "WITH big AS (SELECT * FROM batch WHERE amount > 10) SELECT id FROM big",
        "(SELECT id FROM batch)",
    ):
        assert SqlConfig(query=query).query == query


def test_through_a_yaml_pipeline(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text(
        "".join(
            json.dumps(r, ensure_ascii=False) + "\n"
            for r in [
                {"id": 1, "city": "東京", "amount": 3},
                {"id": 2, "city": None, "amount": 12},
                {"id": 3, "city": "Zoë", "amount": 20},
            ]
        ),
        encoding="utf-8",
    )
    outcome = run_yaml(
        """
name: sql-yaml
settings: {checkpoint: {enabled: false}}
input: {type: json, paths: [in.jsonl]}
pipeline:
  processors:
    - type: sql
      query: >
        SELECT id, COALESCE(city, 'unknown') AS city, amount * 100 AS cents
        FROM batch WHERE amount >= 10
output: {type: json, path: out.jsonl}
""",
        tmp_path,
    )
    summary = outcome.summary
    assert summary.status == "succeeded", summary.error
    assert (summary.records_read, summary.records_written, summary.records_filtered) == (3, 2, 1)
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert out == [
        {"id": 2, "city": "unknown", "cents": 1200},
        {"id": 3, "city": "Zoë", "cents": 2000},
    ]
