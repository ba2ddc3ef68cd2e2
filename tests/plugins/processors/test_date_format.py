"""The date_format processor: read formats, zones, write formats, failures."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest
from pydantic import ValidationError

from fustgo.engine.batch import Batch, BatchMetadata, Checkpoint
from fustgo.engine.errors import TerminalError
from fustgo.plugins.processors.date_format import DateFormat, DateFormatConfig

pytestmark = pytest.mark.unit

UTC = dt.UTC


def make(body: dict[str, Any]) -> DateFormat:
    return DateFormat(DateFormatConfig.model_validate({"source_field": "at", **body}))


def batch_of(values: Any, arrow_type: pa.DataType | None = None, **others: Any) -> Batch:
    return Batch.of(
        {"id": list(range(1, len(values) + 1)), "at": pa.array(values, arrow_type), **others},
        metadata=BatchMetadata(source="test", split_id="s"),
        checkpoint=Checkpoint("s", {"line": 3}, 3),
    )


def only(batches: list[Batch]) -> Batch:
    assert len(batches) == 1
    return batches[0]


def column(batch: Batch, name: str = "at") -> list[Any]:
    return batch.data.column(name).to_pylist()


MIXED_ISO = [
    "2024-01-31",
    "2024-01-31 13:45",
    "2024-01-31T13:45:00.5",
    "2024-01-31T13:45:00+02:00",
    "2024-01-31T23:00:00Z",
    "2024-06-01T00:00:00.123456789Z",
    None,
]


def test_mixed_iso_text_to_timestamps_with_offsets_in_utc() -> None:
    processor = make({"target_format": "timestamp"})
    out = only(processor.process(batch_of(MIXED_ISO)))
    assert out.schema.field("at").type == pa.timestamp("us")
    assert column(out) == [
        dt.datetime(2024, 1, 31),
        dt.datetime(2024, 1, 31, 13, 45),
        dt.datetime(2024, 1, 31, 13, 45, 0, 500_000),
        dt.datetime(2024, 1, 31, 11, 45),
        dt.datetime(2024, 1, 31, 23),
        dt.datetime(2024, 6, 1, 0, 0, 0, 123_456),
        None,
    ]
    assert out.checkpoint.position == {"line": 3}
    assert processor.take_rejected() == []


@pytest.mark.parametrize(
    ("third", "expected"),
    [
        (None, None),  # all wall-clock text: Arrow's fast path
        ("2024-01-31T08:00:00Z", dt.datetime(2024, 1, 31, 8, tzinfo=UTC)),  # mixed: Polars
    ],
)
def test_wall_clock_iso_text_in_a_source_zone(third: str | None, expected: Any) -> None:
    body = {"target_format": "timestamp", "source_timezone": "Asia/Shanghai"}
    out = only(make(body).process(batch_of(["2024-01-31 10:00:00", "2024-01-31", third])))
    assert out.schema.field("at").type == pa.timestamp("us", "Asia/Shanghai")
    assert [value and value.astimezone(UTC) for value in column(out)] == [
        dt.datetime(2024, 1, 31, 2, tzinfo=UTC),
        dt.datetime(2024, 1, 30, 16, tzinfo=UTC),
        expected,
    ]


@pytest.mark.parametrize(
    "values",
    [
        ["2024-01-31T10:00:00Z", "2024-01-31T12:00:00+02:00", None],  # Arrow, zoned
        ["2024-01-31 10:00:00", None, "2024-01-31T10:00"],  # Arrow, wall clock
        ["2024-01-31T12:00:00+02:00", "2024-01-31 10:00", "2024-01-31 10:00:00.000"],  # shapes
        ["2024-01-31 10:00", "2024-01-31T11:00:00+01:00", "2024-01-31T10:00:00.000Z"],  # shapes
    ],
)
def test_every_iso_path_gives_the_same_instants(values: list[str | None]) -> None:
    body = {"target_format": "iso8601", "target_timezone": "UTC"}
    out = only(make(body).process(batch_of(values)))
    expected = "2024-01-31T10:00:00+00:00"
    assert column(out) == [expected if value else None for value in values]


def test_strftime_text_in_one_zone_to_text_in_another() -> None:
    body = {
        "source_format": "%d/%m/%Y %H:%M",
        "source_timezone": "Europe/Paris",
        "target_format": "%Y年%m月%d日 %H:%M %Z",
        "target_timezone": "Asia/Tokyo",
        "target_field": "tokyo",
    }
    out = only(make(body).process(batch_of(["31/12/2024 23:30", " 01/07/2024 08:00 ", None])))
    assert column(out, "tokyo") == ["2025年01月01日 07:30 JST", "2024年07月01日 15:00 JST", None]
    assert column(out) == ["31/12/2024 23:30", " 01/07/2024 08:00 ", None]  # source kept
    assert out.schema.field("tokyo").type == pa.string()


def test_strftime_with_an_offset_reads_instants() -> None:
    body = {"source_format": "%d.%m.%Y %H:%M %z", "target_format": "iso8601"}
    out = only(make(body).process(batch_of(["01.02.2024 10:00 +0530"])))
    assert column(out) == ["2024-02-01T04:30:00+00:00"]  # instants without a zone: UTC


@pytest.mark.parametrize(
    ("source_format", "values", "expected"),
    [
        ("unix_seconds", [0, 1_700_000_000, None], ["1970-01-01", "2023-11-14", None]),
        ("unix_millis", [-1, 1_700_000_000_123, None], ["1969-12-31", "2023-11-14", None]),
        ("unix_micros", [86_400_000_000, None, 0], ["1970-01-02", None, "1970-01-01"]),
        ("unix_seconds", [1.5, 86_400.25, None], ["1970-01-01", "1970-01-02", None]),
        ("unix_seconds", ["86400", " 1.5e5 ", None], ["1970-01-02", "1970-01-02", None]),
    ],
)
def test_unix_time_from_numbers_and_text(
    source_format: str, values: list[Any], expected: list[str | None]
) -> None:
    processor = make({"source_format": source_format, "target_format": "%Y-%m-%d"})
    out = only(processor.process(batch_of(values)))
    assert column(out) == expected


def test_unix_time_gives_utc_timestamps_and_back() -> None:
    moment = make({"source_format": "unix_millis", "target_format": "timestamp"})
    out = only(moment.process(batch_of([1_700_000_000_123])))
    assert out.schema.field("at").type == pa.timestamp("us", "UTC")
    assert column(out) == [dt.datetime(2023, 11, 14, 22, 13, 20, 123_000, tzinfo=UTC)]
    for target, expected in (
        ("unix_seconds", 1_700_000_000),
        ("unix_micros", 1_700_000_000_123_000),
    ):
        processor = make({"source_format": "unix_millis", "target_format": target})
        back = only(processor.process(batch_of([1_700_000_000_123])))
        assert column(back) == [expected]
        assert back.schema.field("at").type == pa.int64()


def test_typed_timestamps_and_dates_are_used_as_they_are() -> None:
    zoned = batch_of([dt.datetime(2024, 3, 1, 12, tzinfo=UTC), None], pa.timestamp("us", "UTC"))
    out = only(
        make({"target_format": "date", "target_timezone": "Pacific/Auckland"}).process(zoned)
    )
    assert column(out) == [dt.date(2024, 3, 2), None]
    kept = only(make({"target_format": "iso8601"}).process(zoned))
    assert column(kept) == ["2024-03-01T12:00:00+00:00", None]  # the field's own zone
    days = batch_of([dt.date(2024, 2, 29)], pa.date32())
    assert column(only(make({"target_format": "%d %B %Y"}).process(days))) == ["29 February 2024"]


def test_iso8601_output_without_a_zone_has_no_offset() -> None:
    out = only(make({"target_format": "iso8601"}).process(batch_of(["2024-01-31 13:45:00.25"])))
    assert column(out) == ["2024-01-31T13:45:00.250"]


GARBAGE = ["2024-01-31 10:00", "31/01/2024", None, "2024-03-31 02:30", ""]


def test_unreadable_values_go_to_the_dead_letter_with_the_format_and_zone() -> None:
    body = {"target_format": "timestamp", "source_timezone": "Europe/Paris"}
    processor = make(body)
    out = only(processor.process(batch_of(GARBAGE)))
    assert out.data.column("id").to_pylist() == [1, 3]
    (rejected,) = processor.take_rejected()
    assert rejected.records.column("at").to_pylist() == ["31/01/2024", "2024-03-31 02:30", ""]
    assert rejected.error.to_pylist() == [
        "Cannot read `at` value `31/01/2024` as ISO 8601 in Europe/Paris",
        "Cannot read `at` value `2024-03-31 02:30` as ISO 8601 in Europe/Paris",  # DST gap
        "Cannot read `at` value `` as ISO 8601 in Europe/Paris",
    ]
    assert processor.stats().records_failed == 3


def test_on_error_null_and_skip() -> None:
    nulled = make({"target_format": "date", "on_error": "null"})
    out = only(nulled.process(batch_of(GARBAGE)))
    assert column(out) == [dt.date(2024, 1, 31), None, None, dt.date(2024, 3, 31), None]
    assert nulled.take_rejected() == []
    skipping = make({"target_format": "date", "on_error": "skip"})
    assert only(skipping.process(batch_of(GARBAGE))).data.column("id").to_pylist() == [1, 3, 4]
    assert skipping.stats().records_filtered == 2


def test_unix_time_out_of_range_or_not_a_number_fails() -> None:
    processor = make({"source_format": "unix_seconds", "target_format": "timestamp"})
    out = only(processor.process(batch_of(["1", "x", "1e300", "nan", None])))
    assert column(out) == [dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC), None]
    (rejected,) = processor.take_rejected()
    assert rejected.error.to_pylist() == [
        "Cannot read `at` value `x` as Unix seconds",
        "Cannot read `at` value `1e300` as Unix seconds",
        "Cannot read `at` value `nan` as Unix seconds",
    ]


def test_every_record_failing_gives_no_batch_and_empty_batches_pass_nothing() -> None:
    assert make({"target_format": "date", "on_error": "skip"}).process(batch_of(["x"])) == []
    empty = batch_of(["2024-01-01"])
    assert make({"target_format": "date"}).process(empty.with_data(empty.data.slice(0, 0))) == []


@pytest.mark.parametrize(
    ("body", "values", "message"),
    [
        ({"source_field": "when"}, ["x"], r"Field `when` in `date_format.source_field` is not"),
        ({}, [1, 2], r"`at`, which is int64; set `source_format` to `unix_seconds`"),
        ({}, [True], r"`at`, which is bool; it reads text, Unix time"),
        ({"target_format": "%H:%M %z"}, ["2024-01-01"], r"writes a zone, but the values of `at`"),
    ],
)
def test_runtime_errors_say_what_to_do(body: dict, values: list[Any], message: str) -> None:
    with pytest.raises(TerminalError, match=message):
        make({"target_format": "date", **body}).process(batch_of(values))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"target_format": "yyyy-MM-dd"}, r"write e.g. `%Y-%m-%d %H:%M:%S` for `yyyy-MM-dd"),
        ({"target_format": "%Y-%Q"}, "not a valid strftime format"),
        ({"target_format": "date", "source_format": "%d %Z"}, r"zone names \(`%Z`\) cannot"),
        ({"target_format": "date", "target_timezone": "europe/paris"}, "`Europe/Paris`"),
        ({"target_format": "date", "source_timezone": "Nowhere"}, "unknown time zone"),
        ({}, "target_format"),
        ({"target_format": "date", "on_error": "drop"}, "on_error"),
    ],
)
def test_invalid_configs_fail_validation(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DateFormatConfig.model_validate({"source_field": "at", **body})


def test_dictionary_encoded_text_is_read_like_text() -> None:
    values = pa.array(["2024-01-31", "bad", "2024-01-31", None]).dictionary_encode()
    processor = make({"target_format": "date", "on_error": "null"})
    out = only(processor.process(batch_of(values)))
    assert column(out) == [dt.date(2024, 1, 31), None, dt.date(2024, 1, 31), None]
    assert out.schema.field("at").type == pa.date32()
