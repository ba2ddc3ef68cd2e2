"""The transform processor: casts with failure handling, computed fields, stable schemas."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from pydantic import ValidationError

from fustgo.engine.batch import Batch, BatchMetadata, Checkpoint
from fustgo.engine.errors import TerminalError
from fustgo.engine.types import JSON_FIELD_METADATA
from fustgo.plugins.processors.transform import Transform, TransformConfig

pytestmark = pytest.mark.unit


def make(body: dict[str, Any]) -> Transform:
    return Transform(TransformConfig.model_validate(body))


def batch_of(columns: dict[str, Any]) -> Batch:
    return Batch.of(
        columns,
        metadata=BatchMetadata(source="test", split_id="s"),
        checkpoint=Checkpoint("s", {"last_key": 9}, 9),
    )


def only(batches: list[Batch]) -> Batch:
    assert len(batches) == 1
    return batches[0]


TEXT = batch_of(
    {
        "id": [1, 2, 3, 4],
        "age": ["42", " 7 ", "forty", None],
        "price": ["12.345", "-0.005", "1e2", "9999999999"],
        "day": ["2024-02-29", "2024-02-30", None, "2024-12-31"],
    }
)


def test_casts_text_to_numbers_dates_and_rounded_decimals_dead_lettering_failures() -> None:
    processor = make({"casts": {"age": "int32", "price": "decimal(10,2)", "day": "date"}})
    out = only(processor.process(TEXT))
    assert out.schema == pa.schema(
        [
            ("id", pa.int64()),
            ("age", pa.int32()),
            ("price", pa.decimal128(10, 2)),
            ("day", pa.date32()),
        ]
    )
    assert out.data.to_pylist() == [
        {"id": 1, "age": 42, "price": Decimal("12.35"), "day": dt.date(2024, 2, 29)}
    ]
    assert out.checkpoint == TEXT.checkpoint
    assert out.metadata == TEXT.metadata
    (rejected,) = processor.take_rejected()
    assert rejected.records.to_pylist() == TEXT.data.slice(1).to_pylist()  # the original values
    assert isinstance(rejected.error, pa.Array)
    assert rejected.error.to_pylist() == [
        "Cannot cast `day` value `2024-02-30` to date",
        "Cannot cast `age` value `forty` to int32",
        "Cannot cast `price` value `9999999999` to decimal(10,2)",
    ]
    assert processor.stats().records_failed == 3


def test_on_error_null_keeps_every_record_with_nulls() -> None:
    processor = make({"casts": {"age": "int64", "price": "decimal(10,2)"}, "on_error": "null"})
    out = only(processor.process(TEXT))
    assert out.data.column("age").to_pylist() == [42, 7, None, None]
    assert out.data.column("price").to_pylist() == [
        Decimal("12.35"),
        Decimal("-0.01"),
        Decimal("100.00"),
        None,
    ]
    assert processor.take_rejected() == []
    assert processor.stats().records_filtered == 0


def test_on_error_skip_drops_and_counts_as_filtered() -> None:
    processor = make({"casts": {"age": "int64"}, "on_error": "skip"})
    out = only(processor.process(TEXT))
    assert out.data.column("id").to_pylist() == [1, 2, 4]
    assert processor.stats().records_filtered == 1
    assert processor.take_rejected() == []


def test_every_record_failing_gives_no_batch() -> None:
    processor = make({"casts": {"age": "date"}})
    assert processor.process(batch_of({"age": ["x", "y"]})) == []
    assert processor.stats().records_failed == 2


def test_timestamps_with_a_format_and_zones() -> None:
    batch = batch_of({"at": ["31/12/2024 23:59", "bad", None], "epoch": [0, 1_700_000_000, None]})
    processor = make(
        {
            "casts": {"at": "timestamp(Europe/Paris)", "epoch": "timestamp(UTC)"},
            "datetime_format": "%d/%m/%Y %H:%M",
            "on_error": "null",
        }
    )
    out = only(processor.process(batch))
    assert out.schema.field("at").type == pa.timestamp("us", tz="Europe/Paris")
    paris = out.data.column("at").to_pylist()[0]
    assert paris.astimezone(dt.UTC) == dt.datetime(2024, 12, 31, 22, 59, tzinfo=dt.UTC)
    assert out.data.column("epoch").to_pylist()[:2] == [
        dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
        dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC),
    ]


def test_offsets_zones_epochs_and_ranges() -> None:
    batch = batch_of(
        {
            "at": ["2024-01-01 12:00:00+02:00", "2024-01-01 23:00:00-01:00"],
            "zoned": pa.array(
                [dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC), None], pa.timestamp("us", "Asia/Tokyo")
            ),
            "epoch_day": [86_400 * 2, None],
            "big": [1e20, 3.9],
        }
    )
    processor = make(
        {
            "casts": {"at": "timestamp", "zoned": "timestamp", "epoch_day": "date", "big": "int64"},
            "on_error": "null",
        }
    )
    out = only(processor.process(batch))
    assert out.schema.field("at").type == pa.timestamp("us")
    assert out.data.to_pylist() == [
        {
            "at": dt.datetime(2024, 1, 1, 10),  # offsets are converted to UTC
            "zoned": dt.datetime(2024, 6, 1, 12),  # zoned to naive keeps the UTC wall time
            "epoch_day": dt.date(1970, 1, 3),
            "big": None,  # out of range
        },
        {"at": dt.datetime(2024, 1, 2, 0), "zoned": None, "epoch_day": None, "big": 3},
    ]


def test_iso_text_to_timestamp_time_bool_json_and_binary() -> None:
    batch = batch_of(
        {
            "at": ["2024-01-01 12:00:00", "2024-01-01T13:30:00.5"],
            "clock": ["08:15:00", "23:59:59"],
            "flag": [" Yes", "0"],
            "doc": ['{"a": [1]}', "not json"],
            "raw": ["é", "b"],
        }
    )
    processor = make(
        {
            "casts": {
                "at": "timestamp",
                "clock": "time",
                "flag": "bool",
                "doc": "json",
                "raw": "binary",
            }
        }
    )
    out = only(processor.process(batch))
    assert out.data.to_pylist() == [
        {
            "at": dt.datetime(2024, 1, 1, 12), "clock": dt.time(8, 15), "flag": True,
            "doc": '{"a": [1]}', "raw": "é".encode(),
        }
    ]  # fmt: skip
    assert out.schema.field("doc").metadata == JSON_FIELD_METADATA
    assert out.schema.field("clock").type == pa.time64("us")
    (rejected,) = processor.take_rejected()
    assert rejected.error.to_pylist() == ["Cannot cast `doc` value `not json` to json"]


def test_numbers_and_structures_to_text_and_json() -> None:
    batch = batch_of(
        {
            "n": [1, None],
            "f": [1.5, 2.0],
            "l": [[1, 2], None],
            "s": [{"a": 1}, {"a": None}],
            "d": [dt.date(2024, 1, 2), None],
        }
    )
    processor = make(
        {"casts": {"n": "string", "f": "int64", "l": "json", "s": "string", "d": "string"}}
    )
    out = only(processor.process(batch))
    assert out.data.to_pylist() == [
        {"n": "1", "f": 1, "l": "[1,2]", "s": '{"a":1}', "d": "2024-01-02"},
        {"n": None, "f": 2, "l": None, "s": '{"a":null}', "d": None},
    ]
    assert out.schema.field("n").type == pa.string()  # not Polars' large_string


def test_computed_fields_run_after_casts_in_order() -> None:
    batch = batch_of(
        {
            "first": ["Ada", "李", None],
            "last": ["Lovelace", "雷", "X"],
            "amount": ["10", "2.5", None],
        }
    )
    processor = make(
        {
            "casts": {"amount": "float64"},
            "fields": {
                "full_name": "CONCAT(first, ' ', last)",
                "gross": "amount * 1.1",
                "label": "UPPER(full_name)",
                "amount": "COALESCE(amount, 0)",
            },
        }
    )
    out = only(processor.process(batch))
    assert out.data.column("full_name").to_pylist() == ["Ada Lovelace", "李 雷", " X"]
    assert out.data.column("label").to_pylist() == ["ADA LOVELACE", "李 雷", " X"]
    assert out.data.column("gross").to_pylist() == pytest.approx([11.0, 2.75, None], nan_ok=True)
    assert out.data.column("amount").to_pylist() == [10.0, 2.5, 0.0]
    assert out.schema.names == ["first", "last", "amount", "full_name", "gross", "label"]
    assert out.schema.field("full_name").type == pa.string()


def test_untouched_columns_stay_the_arrow_arrays_they_were() -> None:
    data = pa.RecordBatch.from_pydict(
        {
            "clock": pa.array([1, 2], pa.time32("s")),
            "big": pa.array(["x", "y"], pa.large_string()),
            "n": ["1", "2"],
        }
    )
    out = only(make({"casts": {"n": "int8"}, "fields": {"source": "'crm'"}}).process(Batch(data)))
    assert out.schema == pa.schema(
        [
            ("clock", pa.time32("s")),
            ("big", pa.large_string()),
            ("n", pa.int8()),
            ("source", pa.string()),
        ]
    )
    assert out.data.column("clock").equals(data.column("clock"))
    assert out.data.column("source").to_pylist() == ["crm", "crm"]


def test_an_unchanged_json_field_keeps_its_tag() -> None:
    data = pa.RecordBatch.from_arrays(
        [pa.array(['{"a":1}']), pa.array(["1"])],
        schema=pa.schema(
            [pa.field("doc", pa.string(), metadata=JSON_FIELD_METADATA), ("n", pa.string())]
        ),
    )
    out = only(make({"casts": {"n": "int64"}}).process(Batch(data)))
    assert out.schema.field("doc").metadata == JSON_FIELD_METADATA


def test_empty_batches_pass_nothing() -> None:
    assert make({"casts": {"age": "int64"}}).process(TEXT.with_data(TEXT.data.slice(0, 0))) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"casts": {"missing": "int64"}},
            r"Fields \['missing'\] in `transform.casts` are not in the batch; "
            r"fields are: id, age, price, day\.",
        ),
        (
            {"fields": {"x": "nope + 1"}},
            "Column `nope` used in `transform.fields.x` is not in the batch",
        ),
        ({"fields": {"x": "age + 1"}}, r"`transform.fields.x` \(`age \+ 1`\) cannot be computed"),
    ],
)
def test_runtime_errors_name_the_field(body: dict, message: str) -> None:
    with pytest.raises(TerminalError, match=message):
        make(body).process(TEXT)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"casts": {"a": "integerish"}},
        {"casts": {"a": "decimal(50,2)"}},
        {"fields": {"a": "1 +"}},
        {"casts": {"a": "int64"}, "on_error": "explode"},
    ],
)
def test_invalid_configs_fail_validation(body: dict) -> None:
    with pytest.raises(ValidationError):
        TransformConfig.model_validate(body)
