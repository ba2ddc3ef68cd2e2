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


# --- operations -------------------------------------------------------------------------


PEOPLE = batch_of(
    {
        "id": [1, 2, 3, 4],
        "name": ["  Ada Lovelace ", "straße", None, " 李雷"],
        "status": [1, 2, None, 9],
        "joined": ["2024-03-31 02:30:00", "2024-06-01 12:00:00", None, "2024-10-27 02:30:00"],
    }
)


def test_operations_run_after_casts_and_before_fields_each_on_the_one_before() -> None:
    processor = make(
        {
            "casts": {"status": "string"},
            "operations": [
                {"op": "trim", "fields": ["name"]},
                {"op": "upper", "fields": ["name"], "target": "shout"},
                {"op": "concat", "fields": ["shout", "status"], "separator": "#", "target": "key"},
            ],
            "fields": {"key_length": "LENGTH(key)"},
        }
    )
    out = only(processor.process(PEOPLE))
    assert out.data.column("name").to_pylist() == ["Ada Lovelace", "straße", None, "李雷"]
    assert out.data.column("shout").to_pylist() == ["ADA LOVELACE", "STRASSE", None, "李雷"]
    assert out.data.column("key").to_pylist() == ["ADA LOVELACE#1", "STRASSE#2", None, "李雷#9"]
    assert out.data.column("key_length").to_pylist() == [14, 9, None, 4]
    assert out.schema.names == ["id", "name", "status", "joined", "shout", "key", "key_length"]
    assert out.schema.field("key").type == pa.string()  # not Polars' large_string
    assert out.data.column("joined").equals(PEOPLE.data.column("joined"))  # untouched
    assert out.checkpoint == PEOPLE.checkpoint


@pytest.mark.parametrize(
    ("options", "expected", "arrow_type"),
    [
        ({}, ["paid", "refunded", None, "9"], pa.string()),  # keep: the code as text
        ({"on_missing": "null"}, ["paid", "refunded", None, None], pa.string()),
        ({"on_missing": "default", "default": "?"}, ["paid", "refunded", None, "?"], pa.string()),
    ],
)
def test_map_values_of_integer_codes(
    options: dict[str, Any], expected: list[Any], arrow_type: pa.DataType
) -> None:
    operation = {"op": "map_values", "field": "status", "mapping": {1: "paid", "2": "refunded"}}
    out = only(make({"operations": [{**operation, **options}]}).process(PEOPLE))
    assert out.data.column("status").to_pylist() == expected  # NULL stays NULL
    assert out.schema.field("status").type == arrow_type


def test_map_values_to_numbers_bools_and_nulls_into_a_target() -> None:
    batch = batch_of({"grade": ["A", "b", "C", None], "flag": ["yes", "no", "N/A", "yes"]})
    processor = make(
        {
            "operations": [
                {"op": "map_values", "field": "grade", "mapping": {"A": 4, "b": 3.5},
                 "on_missing": "default", "default": 0, "target": "points"},
                {"op": "map_values", "field": "flag", "mapping": {"yes": True, "no": False},
                 "on_missing": "null", "target": "active"},
                {"op": "map_values", "field": "flag", "mapping": {"N/A": None}},
            ]
        }
    )  # fmt: skip
    out = only(processor.process(batch))
    assert out.data.column("points").to_pylist() == [4.0, 3.5, 0.0, None]
    assert out.schema.field("points").type == pa.float64()
    assert out.data.column("active").to_pylist() == [True, False, None, True]
    assert out.data.column("flag").to_pylist() == ["yes", "no", None, "yes"]


def test_map_values_keys_are_read_in_the_field_type() -> None:
    batch = batch_of(
        {"on": [True, False, None], "day": [dt.date(2024, 1, 1), dt.date(2024, 1, 2), None]}
    )
    processor = make(
        {
            "operations": [
                {"op": "map_values", "field": "on", "mapping": {True: "on", "false": "off"}},
                {"op": "map_values", "field": "day", "mapping": {"2024-01-01": "new year"},
                 "on_missing": "null"},
            ]
        }
    )  # fmt: skip
    out = only(processor.process(batch))
    assert out.data.to_pylist() == [
        {"on": "on", "day": "new year"},
        {"on": "off", "day": None},
        {"on": None, "day": None},
    ]


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        (
            {"op": "map_values", "field": "status", "mapping": {"one": "x"}},
            r"keys \['one'\] of `mapping` are not int64 values like those of `status`",
        ),
        (
            {"op": "map_values", "field": "status", "mapping": {"1": "x", "01": "y"}},
            r"several keys of `mapping` mean the same value \[1\]",
        ),
        (
            {"op": "map_values", "field": "name", "mapping": {"x": 1}},
            r"keeps the values of `name` \(string\) that are not in `mapping`, but writes "
            r"int64 values; set `on_missing: null`",
        ),
    ],
)
def test_map_values_errors_name_the_operation(operation: dict, message: str) -> None:
    with pytest.raises(TerminalError, match=r"`transform.operations\[0\]` \(map_values\)"):
        make({"operations": [operation]}).process(PEOPLE)
    with pytest.raises(TerminalError, match=message):
        make({"operations": [operation]}).process(PEOPLE)


def test_concat_with_and_without_nulls_turns_values_into_text() -> None:
    batch = batch_of(
        {
            "city": ["東京", None, None, "Zürich"],
            "zip": [100, None, 8001, 8002],
            "day": [dt.date(2024, 1, 2), None, None, None],
        }
    )
    processor = make(
        {
            "operations": [
                {"op": "concat", "fields": ["city", "zip", "day"], "separator": ", ",
                 "target": "label"},
                {"op": "concat", "fields": ["city", "zip"], "target": "strict",
                 "skip_nulls": False},
            ]
        }
    )  # fmt: skip
    out = only(processor.process(batch))
    assert out.data.column("label").to_pylist() == [
        "東京, 100, 2024-01-02",
        None,
        "8001",
        "Zürich, 8002",
    ]
    assert out.data.column("strict").to_pylist() == ["東京100", None, None, "Zürich8002"]


@pytest.mark.parametrize(
    ("start", "length", "expected"),
    [
        (0, 3, ["  A", "str", None, " 李雷"]),
        (2, 3, ["Ada", "raß", None, "雷"]),
        (-3, None, ["ce ", "aße", None, " 李雷"]),
        (-3, 1, ["c", "a", None, " "]),
        (40, 2, ["", "", None, ""]),
    ],
)
def test_substring_counts_characters_from_zero(
    start: int, length: int | None, expected: list[str | None]
) -> None:
    operation = {"op": "substring", "field": "name", "start": start, "length": length}
    out = only(make({"operations": [{**operation, "target": "part"}]}).process(PEOPLE))
    assert out.data.column("part").to_pylist() == expected
    assert out.data.column("name").equals(PEOPLE.data.column("name"))


def test_trim_sides_and_characters_upper_and_lower() -> None:
    batch = batch_of({"code": ["007x00", "0", None], "word": ["ÉLAN", "ΣΑΣ", "Straße"]})
    processor = make(
        {
            "operations": [
                {"op": "trim", "fields": ["code"], "characters": "0", "side": "start",
                 "target": "left"},
                {"op": "trim", "fields": ["code"], "characters": "0"},
                {"op": "lower", "fields": ["word"]},
            ]
        }
    )  # fmt: skip
    out = only(processor.process(batch))
    assert out.data.to_pylist() == [
        {"code": "7x", "word": "élan", "left": "7x00"},
        {"code": "", "word": "σας", "left": ""},
        {"code": None, "word": "straße", "left": None},
    ]


def test_regex_replace_every_match_or_the_first_with_groups() -> None:
    batch = batch_of({"phone": ["+1 (555) 010-99", "无", None], "date": ["31/12/2024"] * 3})
    processor = make(
        {
            "operations": [
                {"op": "regex_replace", "field": "phone", "pattern": "[^0-9+]", "replacement": ""},
                {"op": "regex_replace", "field": "date",
                 "pattern": r"(?P<d>\d\d)/(?P<m>\d\d)/(?P<y>\d{4})",
                 "replacement": "${y}-${m}-${d}", "target": "iso"},
                {"op": "regex_replace", "field": "date", "pattern": "/", "replacement": ".",
                 "replace_all": False},
            ]
        }
    )  # fmt: skip
    out = only(processor.process(batch))
    assert out.data.column("phone").to_pylist() == ["+155501099", "", None]
    assert out.data.column("iso").to_pylist() == ["2024-12-31"] * 3
    assert out.data.column("date").to_pylist() == ["31.12/2024"] * 3


def test_convert_timezone_from_wall_clock_and_zoned_timestamps() -> None:
    batch = batch_of(
        {
            "naive": [dt.datetime(2024, 6, 1, 12), None],
            "zoned": pa.array(
                [dt.datetime(2024, 1, 1, 23, tzinfo=dt.UTC), None], pa.timestamp("us", "UTC")
            ),
        }
    )
    processor = make(
        {
            "operations": [
                {"op": "convert_timezone", "field": "naive", "from_zone": "Europe/Paris",
                 "to_zone": "Asia/Shanghai", "target": "shanghai"},
                {"op": "convert_timezone", "field": "naive", "to_zone": "America/New_York",
                 "drop_zone": True},  # no from_zone: UTC
                {"op": "convert_timezone", "field": "zoned", "to_zone": "+09:00",
                 "from_zone": "Europe/Paris"},  # a zoned field keeps its own zone
            ]
        }
    )  # fmt: skip
    out = only(processor.process(batch))
    assert out.schema.field("shanghai").type == pa.timestamp("us", "Asia/Shanghai")
    assert out.schema.field("naive").type == pa.timestamp("us")
    shanghai = out.data.column("shanghai").to_pylist()
    assert shanghai[0].replace(tzinfo=None) == dt.datetime(2024, 6, 1, 18)
    assert shanghai[1] is None
    assert out.data.column("naive").to_pylist() == [dt.datetime(2024, 6, 1, 8), None]
    assert out.data.column("zoned").to_pylist()[0].replace(tzinfo=None) == dt.datetime(
        2024, 1, 2, 8
    )


DST = {
    "casts": {"joined": "timestamp"},
    "operations": [
        {"op": "convert_timezone", "field": "joined", "from_zone": "Europe/Paris", "to_zone": "UTC"}
    ],
}


def test_a_wall_clock_time_in_a_daylight_saving_gap_fails() -> None:
    processor = make(DST)
    out = only(processor.process(PEOPLE))
    assert out.data.column("id").to_pylist() == [2, 3, 4]
    joined = [
        value and value.replace(tzinfo=None) for value in out.data.column("joined").to_pylist()
    ]
    # 2024-10-27 02:30 happens twice in Paris: the earlier instant (summer time) is taken
    assert joined == [dt.datetime(2024, 6, 1, 10), None, dt.datetime(2024, 10, 27, 0, 30)]
    (rejected,) = processor.take_rejected()
    assert rejected.records.to_pylist() == PEOPLE.data.slice(0, 1).to_pylist()
    assert rejected.error.to_pylist() == [
        "`joined` value `2024-03-31 02:30:00` is not a time in Europe/Paris "
        "(it falls in a daylight-saving gap)"
    ]
    assert processor.stats().records_failed == 1


def test_daylight_saving_gaps_with_on_error_null_and_skip() -> None:
    nulled = make({**DST, "on_error": "null"})
    out = only(nulled.process(PEOPLE))
    assert out.data.column("joined").to_pylist()[0] is None
    assert out.num_rows == 4 and nulled.take_rejected() == []
    skipping = make({**DST, "on_error": "skip"})
    assert only(skipping.process(PEOPLE)).data.column("id").to_pylist() == [2, 3, 4]
    assert skipping.stats().records_filtered == 1
    assert skipping.take_rejected() == []


def test_every_record_failing_an_operation_gives_no_batch() -> None:
    batch = batch_of({"joined": ["2024-03-31 02:00:00", "2024-03-31 02:59:59"]})
    assert make({**DST, "on_error": "skip"}).process(batch) == []


def test_operations_on_an_empty_batch_pass_nothing() -> None:
    empty = PEOPLE.with_data(PEOPLE.data.slice(0, 0))
    assert make({"operations": [{"op": "upper", "fields": ["name"]}]}).process(empty) == []


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        (
            {"op": "upper", "fields": ["nme"]},
            r"Field `nme` used in `transform.operations\[0\]` \(upper\) is not in the batch; "
            r"fields are: id, name, status, joined, tags\.",
        ),
        (
            {"op": "trim", "fields": ["status"]},
            r"`transform.operations\[0\]` \(trim\) needs text, but `status` is int64; cast it "
            r"first with `casts: \{status: string\}`",
        ),
        (
            {"op": "convert_timezone", "field": "joined", "to_zone": "UTC"},
            r"needs a timestamp, but `joined` is string; cast it first with "
            r"`casts: \{joined: timestamp\}`",
        ),
        (
            {"op": "concat", "fields": ["name", "tags"], "target": "x"},
            r"joins text, but `tags` is list<int64>",
        ),
    ],
)
def test_operation_errors_name_the_field_and_the_fix(operation: dict, message: str) -> None:
    batch = PEOPLE.with_data(
        PEOPLE.data.append_column("tags", pa.array([[1], None, [], [2]], pa.list_(pa.int64())))
    )
    with pytest.raises(TerminalError, match=message):
        make({"operations": [operation]}).process(batch)


def test_an_operation_may_read_the_target_of_an_earlier_one() -> None:
    processor = make(
        {
            "operations": [
                {"op": "substring", "field": "name", "start": 2, "length": 3, "target": "short"},
                {"op": "upper", "fields": ["short"]},
            ]
        }
    )
    out = only(processor.process(PEOPLE))
    assert out.data.column("short").to_pylist() == ["ADA", "RASS", None, "雷"]


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "uppercase", "fields": ["a"]},
        {"op": "upper", "fields": []},
        {"op": "upper", "fields": ["a", "b"], "target": "c"},
        {"op": "upper", "field": "a"},
        {"op": "concat", "fields": ["a"]},
        {"op": "substring", "field": "a", "length": -1},
        {"op": "regex_replace", "field": "a", "pattern": "(unclosed"},
        {"op": "regex_replace", "field": "a", "pattern": "(?<=x)y"},
        {"op": "convert_timezone", "field": "a", "to_zone": "Mars/Olympus"},
        {"op": "convert_timezone", "field": "a"},
        {"op": "map_values", "field": "a", "mapping": {}},
        {"op": "map_values", "field": "a", "mapping": {"x": "y"}, "on_missing": "default"},
        {"op": "map_values", "field": "a", "mapping": {"x": "y"}, "default": "z"},
        {"op": "map_values", "field": "a", "mapping": {"x": "y", "z": 1}},
        {"op": "map_values", "field": "a", "mapping": {"x": True}, "on_missing": "default",
         "default": 0},
    ],
)  # fmt: skip
def test_invalid_operations_fail_validation(operation: dict) -> None:
    with pytest.raises(ValidationError):
        TransformConfig.model_validate({"operations": [operation]})


def test_zone_typos_get_a_suggestion() -> None:
    operation = {"op": "convert_timezone", "field": "a", "to_zone": "asia/shanghai"}
    with pytest.raises(ValidationError, match="did you mean `Asia/Shanghai`"):
        TransformConfig.model_validate({"operations": [operation]})


def test_dictionary_encoded_text_takes_text_operations() -> None:
    data = pa.RecordBatch.from_arrays(
        [pa.array([" a ", "b", " a ", None]).dictionary_encode()], names=["code"]
    )
    operations = [{"op": "trim", "fields": ["code"]}, {"op": "upper", "fields": ["code"]}]
    out = only(make({"operations": operations}).process(Batch(data)))
    assert out.data.column("code").to_pylist() == ["A", "B", "A", None]
    assert out.schema == data.schema  # the batch keeps its schema
