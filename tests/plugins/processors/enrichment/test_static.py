"""Enrichment from a static table: the join itself, NULL keys, types, on_missing."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from fustgo.engine.errors import TerminalError
from fustgo.engine.types import JSON_FIELD_METADATA
from tests.plugins.processors.enrichment.building import batch_of, make, only, rows

pytestmark = pytest.mark.unit

COUNTRIES = {
    "type": "static",
    "key": "code",
    "rows": [
        {"code": "FR", "name": "France", "eu": True, "joined": dt.date(1957, 3, 25)},
        {"code": "DE", "name": "Germany", "eu": True, "joined": dt.date(1957, 3, 25)},
        {"code": "NO", "name": "Norway", "eu": False},
        {"code": "CI", "name": "Côte d’Ivoire"},
        {"code": "日本", "name": "Japan 🗾"},
    ],
}


def test_adds_fields_by_key_keeping_order_checkpoint_and_other_columns() -> None:
    processor = make({"key": "country", "lookup": COUNTRIES, "fields": ["name", "eu"]})
    batch = batch_of({"id": [1, 2, 3, 4], "country": ["DE", "FR", "DE", "NO"]})
    out = only(processor.process(batch))
    assert out.data.to_pylist() == [
        {"id": 1, "country": "DE", "name": "Germany", "eu": True},
        {"id": 2, "country": "FR", "name": "France", "eu": True},
        {"id": 3, "country": "DE", "name": "Germany", "eu": True},
        {"id": 4, "country": "NO", "name": "Norway", "eu": False},
    ]
    assert out.schema.field("eu").type == pa.bool_()
    assert out.schema.field("name").type == pa.string()  # not large_string
    assert out.checkpoint == batch.checkpoint
    assert out.metadata == batch.metadata


def test_fields_default_to_every_non_key_column_and_keep_their_types() -> None:
    processor = make({"key": "country", "lookup": COUNTRIES})
    out = only(processor.process(batch_of({"country": ["FR", "NO"]})))
    assert out.schema.names == ["country", "name", "eu", "joined"]
    assert out.schema.field("joined").type == pa.date32()
    assert out.data.to_pylist()[1] == {
        "country": "NO",
        "name": "Norway",
        "eu": False,
        "joined": None,
    }


def test_renamed_fields_and_a_replaced_record_field_keeping_its_place() -> None:
    processor = make(
        {"key": "country", "lookup": COUNTRIES, "fields": {"name": "label", "eu": "country"}}
    )
    out = only(processor.process(batch_of({"country": ["FR"], "label": ["old"], "n": [1]})))
    assert out.schema.names == ["country", "label", "n"]
    assert out.data.to_pylist() == [{"country": True, "label": "France", "n": 1}]


def test_null_keys_and_unknown_keys_never_match_and_keep_nulls_by_default() -> None:
    processor = make({"key": "country", "lookup": COUNTRIES, "fields": ["name"]})
    assert rows(processor, {"country": [None, "XX", "FR", None]}) == [
        {"country": None, "name": None},
        {"country": "XX", "name": None},
        {"country": "FR", "name": "France"},
        {"country": None, "name": None},
    ]
    assert processor.stats().records_filtered == 0
    assert processor.take_rejected() == []


def test_on_missing_skip_drops_and_counts_filtered() -> None:
    processor = make(
        {"key": "country", "lookup": COUNTRIES, "fields": ["name"], "on_missing": "skip"}
    )
    assert rows(processor, {"country": ["XX", "FR", None]}) == [{"country": "FR", "name": "France"}]
    assert processor.stats().records_filtered == 2
    assert rows(processor, {"country": ["XX"]}) == []
    assert processor.stats().records_filtered == 3


def test_on_missing_fail_dead_letters_the_original_records_with_their_key() -> None:
    processor = make(
        {"key": "country", "lookup": COUNTRIES, "fields": ["name"], "on_missing": "fail"}
    )
    assert rows(processor, {"id": [1, 2, 3], "country": ["XX", "FR", None]}) == [
        {"id": 2, "country": "FR", "name": "France"}
    ]
    (rejected,) = processor.take_rejected()
    assert rejected.records.to_pylist() == [{"id": 1, "country": "XX"}, {"id": 3, "country": None}]
    assert isinstance(rejected.error, pa.Array)
    assert rejected.error.to_pylist() == [
        "No row of the static lookup (`lookup.rows`) has the key `country` = `XX`",
        "No row of the static lookup (`lookup.rows`) has the key `country` = NULL",
    ]
    assert rejected.stage == "pipeline.processors[0]"
    assert processor.stats().records_failed == 2


def test_unicode_keys_and_values() -> None:
    processor = make({"key": "country", "lookup": COUNTRIES, "fields": ["name"]})
    assert rows(processor, {"country": ["日本", "CI"]}) == [
        {"country": "日本", "name": "Japan 🗾"},
        {"country": "CI", "name": "Côte d’Ivoire"},
    ]


def test_empty_batch_gives_nothing_and_does_not_load_the_lookup() -> None:
    processor = make({"key": "missing_field", "lookup": COUNTRIES})
    empty = pa.RecordBatch.from_pydict({"country": pa.array([], pa.string())})
    assert processor.process(batch_of(empty)) == []


def test_composite_key_with_lookup_column_names() -> None:
    processor = make(
        {
            "key": ["store", "sku"],
            "lookup": {
                "type": "static",
                "key": ["store_id", "product"],
                "rows": [
                    {"store_id": 1, "product": "a", "stock": 5},
                    {"store_id": 1, "product": "b", "stock": 0},
                    {"store_id": 2, "product": "a", "stock": 7},
                ],
            },
        }
    )
    assert rows(processor, {"store": [2, 1, 1, None], "sku": ["a", "b", "c", "a"]}) == [
        {"store": 2, "sku": "a", "stock": 7},
        {"store": 1, "sku": "b", "stock": 0},
        {"store": 1, "sku": "c", "stock": None},
        {"store": None, "sku": "a", "stock": None},
    ]


def test_integer_widths_are_cast_and_types_can_be_declared() -> None:
    processor = make(
        {
            "key": "id",
            "lookup": {"type": "static", "rows": [{"id": 1, "tier": "3", "meta": '{"a": 1}'}]},
            "types": {"tier": "int16", "meta": "json"},
        }
    )
    data = pa.RecordBatch.from_pydict({"id": pa.array([1, 2], pa.int32())})
    out = only(processor.process(batch_of(data)))
    assert out.data.to_pylist() == [
        {"id": 1, "tier": 3, "meta": '{"a": 1}'},
        {"id": 2, "tier": None, "meta": None},
    ]
    assert out.schema.field("id").type == pa.int32()  # the record's key keeps its type
    assert out.schema.field("tier").type == pa.int16()
    assert out.schema.field("meta").metadata == JSON_FIELD_METADATA


def test_text_key_against_number_key_is_a_clear_error() -> None:
    processor = make({"key": "id", "lookup": {"type": "static", "rows": [{"id": 1, "v": "x"}]}})
    with pytest.raises(
        TerminalError,
        match=r"Key field `id` is String in the records but `id` is "
        r"Int64 .*casts: \{id: \.\.\.\}",
    ):
        processor.process(batch_of({"id": ["1"]}))


def test_declaring_the_lookup_key_type_resolves_a_mismatch() -> None:
    processor = make(
        {
            "key": "id",
            "lookup": {"type": "static", "rows": [{"id": 1, "v": "x"}]},
            "types": {"id": "string"},
        }
    )
    assert rows(processor, {"id": ["1", "2"]}) == [{"id": "1", "v": "x"}, {"id": "2", "v": None}]


def test_duplicate_lookup_keys_are_an_error_naming_one() -> None:
    processor = make(
        {"key": "id", "lookup": {"type": "static", "rows": [{"id": 1}, {"id": 2}, {"id": 1}]}}
    )
    with pytest.raises(TerminalError, match=r"2 rows sharing a key \(id = 1\)"):
        processor.process(batch_of({"id": [1]}))


def test_missing_key_field_in_the_batch_or_in_the_lookup() -> None:
    processor = make({"key": "country", "lookup": COUNTRIES})
    with pytest.raises(TerminalError, match=r"Field `country` in `enrichment.key` is not in"):
        processor.process(batch_of({"id": [1]}))
    processor = make({"key": "country", "lookup": {**COUNTRIES, "key": "iso"}})
    with pytest.raises(TerminalError, match=r"has no column `iso`; its columns are `code`"):
        processor.process(batch_of({"country": ["FR"]}))


def test_a_bad_declared_type_names_the_column() -> None:
    processor = make({"key": "code", "lookup": COUNTRIES, "types": {"name": "int64"}})
    with pytest.raises(TerminalError, match=r"Column `name` of the static lookup .* int64"):
        processor.process(batch_of({"code": ["FR"]}))


def test_many_batches_keep_one_schema() -> None:
    processor = make({"key": "country", "lookup": COUNTRIES, "fields": ["name", "joined"]})
    first = only(processor.process(batch_of({"country": ["NO"]})))
    second = only(processor.process(batch_of({"country": ["FR"]})))
    assert first.schema == second.schema
