"""json_decode and json_encode: nested values, fixed schemas, refused values, encoding rules."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from pydantic import ValidationError

from fustgo.engine.batch import Batch, BatchMetadata, Checkpoint
from fustgo.engine.errors import TerminalError
from fustgo.engine.types import JSON_FIELD_METADATA
from fustgo.plugins.processors.json_codec import (
    JsonDecode,
    JsonDecodeConfig,
    JsonEncode,
    JsonEncodeConfig,
)

pytestmark = pytest.mark.unit


def decoder(**body: Any) -> JsonDecode:
    return JsonDecode(JsonDecodeConfig.model_validate({"source_field": "payload", **body}))


def encoder(**body: Any) -> JsonEncode:
    return JsonEncode(JsonEncodeConfig.model_validate({"target_field": "doc", **body}))


def batch_of(columns: dict[str, Any] | pa.RecordBatch) -> Batch:
    data = columns if isinstance(columns, pa.RecordBatch) else pa.RecordBatch.from_pydict(columns)
    return Batch(
        data,
        metadata=BatchMetadata(source="test", split_id="s"),
        checkpoint=Checkpoint("s", {"line": 9}, 9),
    )


def payloads(*texts: str | None) -> Batch:
    return batch_of({"id": list(range(1, len(texts) + 1)), "payload": list(texts)})


def only(batches: list[Batch]) -> Batch:
    assert len(batches) == 1
    return batches[0]


def rejected_of(processor: JsonDecode) -> tuple[list[dict[str, Any]], list[str]]:
    (rejected,) = processor.take_rejected()
    assert isinstance(rejected.error, pa.Array)
    return rejected.records.to_pylist(), rejected.error.to_pylist()


EVENT = {
    "user": {"id": 7, "name": "Zoë", "geo": {"city": "東京"}},
    "tags": ["a", "b"],
    "items": [{"sku": "x", "qty": 2}],
    "amount": 12.5,
    "at": "2026-03-01T10:00:00",
}

# --------------------------------------------------------------------------------- decode


def test_nested_objects_and_lists_stay_structs_and_lists() -> None:
    batch = payloads(json.dumps(EVENT, ensure_ascii=False), None, "null")
    out = only(decoder().process(batch))
    assert out.schema.names == ["id", "payload"]  # the source is replaced in place
    assert out.schema.field("payload").type == pa.struct(
        [
            ("user", pa.struct([("id", pa.int64()), ("name", pa.string()),
                                ("geo", pa.struct([("city", pa.string())]))])),
            ("tags", pa.list_(pa.string())),
            ("items", pa.list_(pa.struct([("sku", pa.string()), ("qty", pa.int64())]))),
            ("amount", pa.float64()),
            ("at", pa.timestamp("us")),  # Arrow's reading of ISO text, normalized to µs
        ]
    )  # fmt: skip
    first, missing, json_null = out.data.column("payload").to_pylist()
    assert first == {**EVENT, "at": dt.datetime(2026, 3, 1, 10)}
    assert missing is None and json_null is None
    assert out.checkpoint == batch.checkpoint and out.metadata == batch.metadata


def test_the_type_inferred_from_the_first_batch_holds_for_the_next() -> None:
    processor = decoder()
    first = only(processor.process(payloads('{"a": 1, "b": "x"}', '{"a": 2, "c": [1]}')))
    # Keys missing from some records of the first batch are merged in, NULL where absent.
    assert first.data.column("payload").to_pylist() == [
        {"a": 1, "b": "x", "c": None},
        {"a": 2, "b": None, "c": [1]},
    ]
    second = only(
        processor.process(
            payloads('{"a": 3}', '{"a": 2.5}', '{"a": "4"}', '{"a": 5, "z": true}', '{"c": [2]}')
        )
    )
    assert second.schema == first.schema
    assert second.data.column("payload").to_pylist() == [
        {"a": 3, "b": None, "c": None},
        {"a": None, "b": None, "c": [2]},
    ]
    records, errors = rejected_of(processor)
    assert [r["id"] for r in records] == [2, 3, 4]
    assert errors == [
        "`payload` does not fit the types inferred from the first batch: `2.5` is not a valid "
        "int64; declare the types with `schema`",
        "`payload` does not fit the types inferred from the first batch: key `a` is a string, "
        "not a number; declare the types with `schema`",
        "`payload` has `z` not in the types inferred from the first batch; add them to "
        "`schema`, or set `unknown_fields: ignore` to leave them out",
    ]


def test_records_that_disagree_in_the_first_batch_keep_the_first_type_seen() -> None:
    processor = decoder(on_error="null")
    rows = [json.dumps({"n": i}) for i in range(40)] + ['{"n": "forty"}', "{broken"]
    out = only(processor.process(payloads(*rows)))
    assert out.schema.field("payload").type == pa.struct([("n", pa.int64())])
    assert out.data.column("payload").to_pylist()[-3:] == [{"n": 39}, None, None]


def test_invalid_json_goes_to_the_dead_letter_with_the_reason() -> None:
    processor = decoder()
    batch = payloads('{"ok": 1}', "{'single': 1}", "", "  ", '{"ok": 2} trailing', '1}{"v":2')
    out = only(processor.process(batch))
    assert out.data.to_pylist() == [{"id": 1, "payload": {"ok": 1}}]
    records, errors = rejected_of(processor)
    assert records == batch.data.slice(1).to_pylist()  # the original text, unchanged
    assert errors == [
        "`payload` is not valid JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)",
        "`payload` is empty, not JSON",
        "`payload` is empty, not JSON",
        "`payload` is not valid JSON: Extra data: line 1 column 11 (char 10)",
        "`payload` is not valid JSON: Extra data: line 1 column 2 (char 1)",
    ]
    assert processor.stats().records_failed == 5


@pytest.mark.parametrize(
    ("on_error", "ids", "values", "filtered"),
    [
        ("null", [1, 2, 3], [{"a": 1}, None, {"a": 3}], 0),
        ("skip", [1, 3], [{"a": 1}, {"a": 3}], 1),
    ],
)
def test_on_error_null_and_skip(
    on_error: str, ids: list[int], values: list[Any], filtered: int
) -> None:
    processor = decoder(on_error=on_error)
    out = only(processor.process(payloads('{"a": 1}', "not json", '{"a": 3}')))
    assert out.data.column("id").to_pylist() == ids
    assert out.data.column("payload").to_pylist() == values
    assert processor.take_rejected() == []
    assert processor.stats().records_filtered == filtered
    assert processor.stats().records_failed == 0


def test_a_batch_with_every_value_refused_gives_nothing() -> None:
    processor = decoder(schema={"a": "int64"})
    assert processor.process(payloads("x", "[1]", '{"a": "no"}')) == []
    assert processor.stats().records_failed == 3


@pytest.mark.parametrize("first_bad", [3, 4], ids=["text first", "type first"])
def test_refused_rows_are_found_among_many_and_the_rest_stay_aligned(first_bad: int) -> None:
    rows = [json.dumps({"n": i, "s": f"é{i}"}) for i in range(3_000)]
    broken = set(range(first_bad, 3_000, 97)) | {2_999}
    wrong = set(range(7 - first_bad, 3_000, 211)) - broken  # the other one comes first
    for i in broken:
        rows[i] = rows[i][:-1]  # unterminated
    for i in wrong:
        rows[i] = json.dumps({"n": f"#{i}", "s": "x"})
    processor = decoder(schema={"n": "int32", "s": "string"})
    out = only(processor.process(payloads(*rows)))
    assert out.data.column("payload").to_pylist() == [
        {"n": i, "s": f"é{i}"} for i in range(3_000) if i not in broken | wrong
    ]
    records, errors = rejected_of(processor)
    assert [r["id"] - 1 for r in records] == sorted(broken | wrong)
    by_row = dict(zip(sorted(broken | wrong), errors, strict=True))
    assert all(by_row[i].startswith("`payload` is not valid JSON: Expecting") for i in broken)
    assert all(by_row[i].endswith("key `n` is a string, not a number") for i in wrong)


def test_a_declared_schema_reads_dates_times_decimals_and_zones() -> None:
    schema = {
        "day": "date",
        "clock": "time",
        "price": "decimal(10,2)",
        "at": "timestamp(UTC)",
        "history": "list<struct<day: date, n: int8>>",
    }
    processor = decoder(schema=schema, target_field="event")
    batch = payloads(
        json.dumps(
            {
                "day": "2026-02-28",
                "clock": "23:59:59.5",
                "price": "12.30",
                "at": "2026-03-01T10:00:00+02:00",
                "history": [{"day": "2026-01-01", "n": 1}, {"day": "2026-01-02", "n": None}],
            }
        ),
        '{"day": "2026-02-30"}',
        '{"clock": "25:00"}',
        '{"price": 1.234}',
        '{"history": [{"day": "2026-01-01", "n": 300}]}',
        '{"price": 1, "extra": true}',
    )
    out = only(processor.process(batch))
    assert out.schema.names == ["id", "payload", "event"]  # the source is kept
    assert out.schema.field("event").type == pa.struct(
        [
            ("day", pa.date32()),
            ("clock", pa.time64("us")),
            ("price", pa.decimal128(10, 2)),
            ("at", pa.timestamp("us", tz="UTC")),
            ("history", pa.list_(pa.struct([("day", pa.date32()), ("n", pa.int8())]))),
        ]
    )
    assert out.data.column("event").to_pylist() == [
        {
            "day": dt.date(2026, 2, 28),
            "clock": dt.time(23, 59, 59, 500_000),
            "price": Decimal("12.30"),
            "at": dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC),
            "history": [
                {"day": dt.date(2026, 1, 1), "n": 1},
                {"day": dt.date(2026, 1, 2), "n": None},
            ],
        }
    ]
    _records, errors = rejected_of(processor)
    assert errors == [
        "`payload` does not fit `schema`: `2026-02-30` is not a valid date",
        "`payload` does not fit `schema`: `25:00` is not a valid time",
        "`payload` does not fit `schema`: 1.234 requires scale 3 (decimal(10,2))",
        "`payload` does not fit `schema`: `300` is not a valid int8",
        "`payload` has `extra` not in `schema`; add them to `schema`, or set "
        "`unknown_fields: ignore` to leave them out",
    ]


def test_unknown_keys_can_be_ignored_at_any_depth() -> None:
    processor = decoder(schema={"user": "struct<id: int64>", "n": "int64"}, unknown_fields="ignore")
    out = only(processor.process(payloads('{"user": {"id": 1, "name": "x"}, "n": 2, "z": []}')))
    assert out.data.column("payload").to_pylist() == [{"user": {"id": 1}, "n": 2}]
    assert processor.take_rejected() == []


def test_flatten_puts_the_keys_in_place_of_the_source_with_a_prefix() -> None:
    batch = batch_of(
        {"id": [1, 2, 3], "payload": ['{"a": 1, "b": {"c": "é"}}', None, "oops"], "z": [0, 0, 0]}
    )
    processor = decoder(flatten=True, prefix="p_", on_error="null")
    out = only(processor.process(batch))
    assert out.schema.names == ["id", "p_a", "p_b", "z"]
    assert out.data.to_pylist() == [
        {"id": 1, "p_a": 1, "p_b": {"c": "é"}, "z": 0},
        {"id": 2, "p_a": None, "p_b": None, "z": 0},
        {"id": 3, "p_a": None, "p_b": None, "z": 0},
    ]


def test_flatten_refuses_to_overwrite_fields_and_needs_objects() -> None:
    with pytest.raises(
        TerminalError, match=r"would add field\(s\) \['id'\].*set `json_decode.prefix`"
    ):
        decoder(flatten=True).process(payloads('{"id": 1}'))
    with pytest.raises(
        TerminalError, match="needs JSON objects, but `payload` decodes as list<int64>"
    ):
        decoder(flatten=True).process(payloads("[1, 2]"))


def test_top_level_arrays_and_scalars_decode_too() -> None:
    out = only(decoder().process(payloads("[1, 2]", "[]", None)))
    assert out.schema.field("payload").type == pa.list_(pa.int64())
    assert out.data.column("payload").to_pylist() == [[1, 2], [], None]


def test_values_spread_over_lines_and_escapes() -> None:
    text = '{\n  "a": "line\\nbreak \\u00e9 \\ud83d\\ude00",\n  "b": [\n 1\n]\n}'
    out = only(decoder().process(payloads(text, '{"a": "raw\nnewline", "b": []}')))
    assert out.data.column("payload").to_pylist()[0] == {"a": "line\nbreak é 😀", "b": [1]}
    assert out.num_rows == 1  # a raw line break inside a string is not JSON


def test_a_json_tagged_field_decodes_and_an_all_null_column_needs_a_schema() -> None:
    data = pa.RecordBatch.from_arrays(
        [pa.array(['{"a": 1}'])],
        schema=pa.schema([pa.field("payload", pa.string(), metadata=JSON_FIELD_METADATA)]),
    )
    out = only(decoder().process(Batch(data)))
    assert out.schema.field("payload").metadata is None  # a struct now, not JSON text
    nothing = Batch(pa.RecordBatch.from_pydict({"payload": pa.nulls(2)}))
    with pytest.raises(TerminalError, match="declare the keys and their types with `schema`"):
        decoder().process(nothing)
    declared = only(decoder(schema={"a": "int64"}).process(nothing))
    assert declared.data.column("payload").to_pylist() == [None, None]


def test_empty_batches_pass_nothing() -> None:
    batch = payloads('{"a": 1}')
    assert decoder().process(batch.with_data(batch.data.slice(0, 0))) == []


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"other": ["{}"]}, r"Field `payload` in `json_decode.source_field` is not in the batch"),
        ({"payload": [1, 2]}, "reads JSON text, but `payload` holds int64 values"),
        ({"payload": [{"a": 1}]}, "a struct or list is decoded already"),
    ],
)
def test_wrong_fields_stop_the_run(columns: dict[str, Any], message: str) -> None:
    with pytest.raises(TerminalError, match=message):
        decoder().process(Batch(pa.RecordBatch.from_pydict(columns)))


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"source_field": ""},
        {"source_field": "p", "flatten": True, "target_field": "x"},
        {"source_field": "p", "prefix": "x_"},
        {"source_field": "p", "schema": {}},
        {"source_field": "p", "schema": {"a": "json"}},
        {"source_field": "p", "schema": {"a": "list<json>"}},
        {"source_field": "p", "schema": {"a": "integerish"}},
        {"source_field": "p", "on_error": "explode"},
        {"source_field": "p", "unknown_fields": "keep"},
    ],
)
def test_invalid_decode_configs_fail_validation(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        JsonDecodeConfig.model_validate(body)


# --------------------------------------------------------------------------------- encode


UTC_STAMP = pa.timestamp("us", "UTC")


def test_encodes_every_field_with_the_documented_text_forms() -> None:
    data = pa.RecordBatch.from_pydict(
        {
            "id": pa.array([1, None], pa.int32()),
            "name": ["Zoë \"q\" 東京\n", None],
            "price": pa.array([Decimal("12.30"), None], pa.decimal128(10, 2)),
            "big": pa.array([Decimal("1" * 40), None], pa.decimal256(40, 0)),
            "day": [dt.date(2026, 3, 1), None],
            "at": pa.array([dt.datetime(2026, 3, 1, 10, 0, 0, 500), None], pa.timestamp("us")),
            "utc": pa.array([dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC), None], UTC_STAMP),
            "clock": pa.array([dt.time(8, 15), None], pa.time64("us")),
            "ratio": [float("nan"), float("inf")],
            "ok": [True, None],
            "raw": [b"\x00\xff", None],
            "tags": [["a", None], []],
            "user": [{"id": 1, "geo": {"city": "x"}}, None],
        }
    )  # fmt: skip
    out = only(encoder().process(batch_of(data)))
    assert out.schema.field("doc") == pa.field("doc", pa.string(), metadata=JSON_FIELD_METADATA)
    assert out.schema.names == [*data.schema.names, "doc"]
    first, second = out.data.column("doc").to_pylist()
    assert first == (
        '{"id":1,"name":"Zoë \\"q\\" 東京\\n","price":"12.30","big":"' + "1" * 40 + '",'
        '"day":"2026-03-01","at":"2026-03-01 10:00:00.000500","utc":"2026-03-01T10:00:00+00:00",'
        '"clock":"08:15:00","ratio":null,"ok":true,"raw":"AP8=","tags":["a",null],'
        '"user":{"id":1,"geo":{"city":"x"}}}'
    )
    assert json.loads(second) == {name: None for name in data.schema.names} | {"tags": []}


def test_chosen_fields_in_order_and_drop_source() -> None:
    batch = batch_of({"id": [1], "a": ["x"], "b": [2], "doc": ["old"]})
    out = only(encoder(source_fields=["b", "a"], drop_source=True).process(batch))
    assert out.schema.names == ["id", "doc"]  # the existing target is replaced in place
    assert out.data.to_pylist() == [{"id": 1, "doc": '{"b":2,"a":"x"}'}]


def test_a_json_tagged_field_is_embedded_as_json() -> None:
    data = pa.RecordBatch.from_arrays(
        [pa.array([1, 2]), pa.array(['{"a": [1, {"b": null}]}', None])],
        schema=pa.schema(
            [
                pa.field("id", pa.int64()),
                pa.field("extra", pa.string(), metadata=JSON_FIELD_METADATA),
            ]
        ),
    )
    out = only(encoder().process(Batch(data)))
    assert out.data.column("doc").to_pylist() == [
        '{"id":1,"extra":{"a": [1, {"b": null}]}}',
        '{"id":2,"extra":null}',
    ]


def test_encode_then_decode_gives_the_records_back() -> None:
    batch = batch_of(
        {"id": [1, 2], "user": [{"name": "李", "tags": ["x"]}, {"name": None, "tags": []}]}
    )
    encoded = only(encoder(source_fields=["user"]).process(batch))
    decoded = only(
        JsonDecode(JsonDecodeConfig(source_field="doc", flatten=True)).process(
            encoded.with_data(encoded.data.drop_columns(["user"]))
        )
    )
    assert decoded.data.column("user").to_pylist() == batch.data.column("user").to_pylist()


def test_encode_errors_name_the_field() -> None:
    with pytest.raises(TerminalError, match=r"Field `nope` in `json_encode.source_fields`"):
        encoder(source_fields=["nope"]).process(batch_of({"id": [1]}))
    nested = batch_of({"blob": [{"bytes": b"\x01"}]})
    with pytest.raises(TerminalError, match=r"binary values inside nested field\(s\) \['blob'\]"):
        encoder().process(nested)
    empty = batch_of({"id": [1]})
    assert encoder().process(empty.with_data(empty.data.slice(0, 0))) == []


@pytest.mark.parametrize(
    "body", [{}, {"target_field": ""}, {"target_field": "d", "source_fields": []}]
)
def test_invalid_encode_configs_fail_validation(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        JsonEncodeConfig.model_validate(body)
