"""The split processor: lists exploded or text split, empty records, positions, big batches."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from pydantic import ValidationError

from fustgo.engine.batch import Batch, BatchMetadata, Checkpoint
from fustgo.engine.errors import TerminalError
from fustgo.engine.types import JSON_FIELD_METADATA
from fustgo.plugins.api import PluginContext
from fustgo.plugins.processors.split import SplitConfig, SplitRecords

pytestmark = pytest.mark.unit


def make(context: PluginContext | None = None, **body: Any) -> SplitRecords:
    return SplitRecords(SplitConfig.model_validate({"field": "tags", **body}), context)


def batch_of(columns: dict[str, Any] | pa.RecordBatch) -> Batch:
    data = columns if isinstance(columns, pa.RecordBatch) else pa.RecordBatch.from_pydict(columns)
    return Batch(
        data,
        metadata=BatchMetadata(source="test", split_id="s"),
        checkpoint=Checkpoint("s", {"line": 4}, 4),
    )


def only(batches: list[Batch]) -> Batch:
    assert len(batches) == 1
    return batches[0]


LISTS = batch_of(
    {
        "id": [1, 2, 3, 4, 5],
        "tags": [["a", "b", "c"], [], None, ["日本", None], ["z"]],
        "note": ["x", "y", "z", "w", "v"],
    }
)


def test_explode_repeats_each_record_once_per_element_in_place() -> None:
    processor = make(index_field="position")
    out = only(processor.process(LISTS))
    assert out.schema == pa.schema(
        [("id", pa.int64()), ("tags", pa.string()), ("note", pa.string()), ("position", pa.int64())]
    )
    assert out.data.to_pylist() == [
        {"id": 1, "tags": "a", "note": "x", "position": 0},
        {"id": 1, "tags": "b", "note": "x", "position": 1},
        {"id": 1, "tags": "c", "note": "x", "position": 2},
        {"id": 4, "tags": "日本", "note": "w", "position": 0},
        {"id": 4, "tags": None, "note": "w", "position": 1},  # a NULL element is an element
        {"id": 5, "tags": "z", "note": "v", "position": 0},
    ]
    assert out.checkpoint == LISTS.checkpoint and out.metadata == LISTS.metadata
    assert processor.stats().records_filtered == 2  # the empty list and the NULL one


def test_keep_empty_keeps_one_record_with_null() -> None:
    processor = make(keep_empty=True, index_field="position")
    out = only(processor.process(LISTS))
    assert [(r["id"], r["tags"], r["position"]) for r in out.data.to_pylist()] == [
        (1, "a", 0), (1, "b", 1), (1, "c", 2), (2, None, None), (3, None, None),
        (4, "日本", 0), (4, None, 1), (5, "z", 0),
    ]  # fmt: skip
    assert processor.stats().records_filtered == 0


def test_delimiter_splits_text_keeping_empty_pieces() -> None:
    batch = batch_of({"id": [1, 2, 3, 4, 5], "tags": ["a;b", "", None, ";x;", "solo"]})
    processor = make(mode="delimiter", delimiter=";", index_field="i")
    out = only(processor.process(batch))
    assert [(r["id"], r["tags"], r["i"]) for r in out.data.to_pylist()] == [
        (1, "a", 0), (1, "b", 1), (4, "", 0), (4, "x", 1), (4, "", 2), (5, "solo", 0),
    ]  # fmt: skip
    assert out.schema.field("tags").type == pa.string()
    assert processor.stats().records_filtered == 2


def test_a_multi_character_delimiter_and_a_json_tagged_text() -> None:
    data = pa.RecordBatch.from_arrays(
        [pa.array(["a || b||c"])],
        schema=pa.schema([pa.field("tags", pa.string(), metadata=JSON_FIELD_METADATA)]),
    )
    out = only(make(mode="delimiter", delimiter="||").process(Batch(data)))
    assert out.data.column("tags").to_pylist() == ["a ", " b", "c"]
    assert out.schema.field("tags").metadata is None  # the pieces are plain text


def test_lists_of_structs_large_and_sliced_lists() -> None:
    items = pa.array(
        [[{"sku": "x", "qty": 1}], None, [{"sku": "y", "qty": 2}, {"sku": "z", "qty": None}]],
        pa.large_list(pa.struct([("sku", pa.string()), ("qty", pa.int32())])),
    )
    data = pa.RecordBatch.from_arrays([pa.array([10, 20, 30]), items], names=["order", "tags"])
    out = only(make().process(Batch(data.slice(1))))  # a slice: offsets do not start at 0
    assert out.data.to_pylist() == [
        {"order": 30, "tags": {"sku": "y", "qty": 2}},
        {"order": 30, "tags": {"sku": "z", "qty": None}},
    ]


def test_an_existing_index_field_is_replaced_in_place() -> None:
    batch = batch_of({"position": ["old"], "tags": [["a", "b"]]})
    out = only(make(index_field="position").process(batch))
    assert out.schema.names == ["position", "tags"]
    assert out.data.column("position").to_pylist() == [0, 1]


def test_nothing_to_split_gives_no_batch() -> None:
    processor = make()
    assert processor.process(batch_of({"tags": [[], None]})) == []
    assert processor.stats().records_filtered == 2
    assert processor.process(LISTS.with_data(LISTS.data.slice(0, 0))) == []
    assert processor.process(Batch(pa.RecordBatch.from_pydict({"tags": pa.nulls(3)}))) == []


def test_many_elements_come_out_in_batches_of_about_batch_size() -> None:
    batch = batch_of({"id": [1, 2], "tags": [list(range(700)), list(range(300))]})
    out = make(PluginContext(batch_size=400)).process(batch)
    assert [b.num_rows for b in out] == [334, 334, 332]
    rows = [row for b in out for row in b.data.to_pylist()]
    assert rows == [{"id": 1, "tags": i} for i in range(700)] + [
        {"id": 2, "tags": i} for i in range(300)
    ]
    assert all(b.checkpoint == batch.checkpoint for b in out)


@pytest.mark.parametrize(
    ("body", "columns", "message"),
    [
        ({}, {"other": [[1]]}, r"Field `tags` in `split.field` is not in the batch"),
        ({}, {"tags": ["a,b"]}, "explodes lists, but `tags` holds string values; set `mode"),
        ({}, {"tags": [1]}, "holds int64 values; only lists are exploded"),
        ({"mode": "delimiter", "delimiter": ","}, {"tags": [[1]]}, "use `mode: explode`"),
    ],
)
def test_wrong_fields_stop_the_run(
    body: dict[str, Any], columns: dict[str, Any], message: str
) -> None:
    with pytest.raises(TerminalError, match=message):
        make(**body).process(batch_of(columns))


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"field": ""},
        {"field": "t", "mode": "delimiter"},
        {"field": "t", "delimiter": ","},
        {"field": "t", "mode": "delimiter", "delimiter": ""},
        {"field": "t", "index_field": "t"},
        {"field": "t", "mode": "regex"},
    ],
)
def test_invalid_configs_fail_validation(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SplitConfig.model_validate(body)
