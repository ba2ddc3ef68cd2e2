"""The SQLite type table, identifiers, error classes and value representations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from fustgo.engine.errors import DataError, RetryableError, TerminalError
from fustgo.engine.types import JSON_FIELD_METADATA, LogicalType, from_arrow, parse_type
from fustgo.plugins.clients.sql import parse_text
from fustgo.plugins.clients.sqlite import (
    connect,
    has_text_affinity,
    logical_type,
    missing_table_error,
    query_rows,
    quote,
    sqlite_type,
    table_columns,
    to_sqlite_values,
    translate_error,
)

pytestmark = pytest.mark.unit

ROUND_TRIP_TYPES = [
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32",
    "float64", "bool", "string", "binary", "date", "time", "timestamp", "timestamp(UTC)",
    "timestamp(Europe/Paris)", "decimal(10,2)", "decimal(38,9)", "json", "list<int64>",
    "struct<a: int64, b: string>",
]  # fmt: skip


@pytest.mark.parametrize("name", ROUND_TRIP_TYPES)
def test_every_logical_type_reads_back_as_itself_or_a_documented_widening(name: str) -> None:
    logical = parse_type(name)
    declared = sqlite_type(logical).declared
    read_back = logical_type(declared)
    widened = {
        "int8": "int64", "int16": "int64", "int32": "int64", "uint8": "int64", "uint16": "int64",
        "uint32": "int64", "uint64": "int64", "float32": "float64",
        "timestamp(Europe/Paris)": "timestamp(UTC)", "list<int64>": "json",
        "struct<a: int64, b: string>": "json",
    }  # fmt: skip
    assert str(read_back) == widened.get(name, str(logical))


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("INTEGER", "int64"),
        ("int(11)", "int64"),
        ("BIGINT UNSIGNED", "int64"),
        ("VARCHAR(255)", "string"),
        ("NVARCHAR", "string"),
        ("CLOB", "string"),
        ("BLOB", "binary"),
        ("DOUBLE PRECISION", "float64"),
        ("FLOAT", "float64"),
        ("NUMERIC", "float64"),
        ("DECIMAL(12, 4)", "decimal(12,4)"),
        ("numeric(5)", "decimal(5,0)"),
        ("DECIMAL_TEXT(10,2)", "decimal(10,2)"),
        ("boolean", "bool"),
        ("DATETIME", "timestamp"),
        ("timestamp with time zone", "timestamp(UTC)"),
        ("DATE", "date"),
        ("JSON", "json"),
        ("UUID", "string"),
    ],
)
def test_declared_types_map_by_name_then_by_affinity(declared: str, expected: str) -> None:
    assert str(logical_type(declared)) == expected


def test_a_column_without_declared_type_has_no_logical_type() -> None:
    assert logical_type("") is None
    assert logical_type("   ") is None


def test_decimals_are_declared_with_text_affinity_so_sqlite_keeps_every_digit() -> None:
    declared = sqlite_type(LogicalType("decimal", precision=30, scale=6)).declared
    assert declared == "DECIMAL_TEXT(30,6)"
    assert has_text_affinity(declared)
    assert not has_text_affinity("DECIMAL(30,6)")
    assert not has_text_affinity("POINT")  # contains INT: integer affinity wins


def test_identifiers_are_quoted_whatever_their_spelling() -> None:
    assert quote("plain") == '"plain"'
    assert quote('we"ird') == '"we""ird"'
    assert quote("名前 列") == '"名前 列"'


def test_quoted_identifiers_work_in_sqlite(tmp_path: Path) -> None:
    connection = connect(tmp_path / "q.db", read_only=False, busy_timeout_seconds=1)
    try:
        name = 'odd "name" 名前'
        query_rows(connection, f"CREATE TABLE {quote(name)} ({quote(name)} TEXT)")
        assert [c.name for c in table_columns(connection, name)] == [name]
        assert table_columns(connection, "absent") == []
    finally:
        connection.close()


def test_values_take_their_documented_sqlite_representation() -> None:
    batch = pa.RecordBatch.from_pydict(
        {
            "b": pa.array([True, False, None]),
            "u": pa.array([1, 255, None], pa.uint8()),
            "d": pa.array([dt.date(2024, 1, 31), None, dt.date(1900, 1, 1)]),
            "t": pa.array([dt.time(12, 34, 56, 789), None, dt.time(0, 0)]),
            "ts": pa.array([dt.datetime(2024, 1, 1, 12, 0, 0, 5), None, dt.datetime(1970, 1, 1)]),
            "tz": pa.array(
                [dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC), None, None],
                pa.timestamp("ms", tz="Europe/Paris"),
            ),
            "dec": pa.array([Decimal("-12.30"), None, Decimal("0.05")], pa.decimal128(10, 2)),
            "l": pa.array([[1, 2], None, []]),
            "s": pa.array([{"a": 1, "b": 'x"y'}, None, {"a": None, "b": "é"}]),
            "n": pa.nulls(3),
            "dict": pa.array(["x", "y", None]).dictionary_encode(),
        }
    )
    values = to_sqlite_values(batch).to_pydict()
    assert values["b"] == [1, 0, None]
    assert values["u"] == [1, 255, None]
    assert values["d"] == ["2024-01-31", None, "1900-01-01"]
    assert values["t"] == ["12:34:56.000789", None, "00:00:00.000000"]
    assert values["ts"] == ["2024-01-01 12:00:00.000005", None, "1970-01-01 00:00:00.000000"]
    assert values["tz"] == ["2024-01-01 12:00:00.000000Z", None, None]
    assert values["dec"] == ["-12.30", None, "0.05"]
    assert values["l"] == ["[1,2]", None, "[]"]
    assert values["s"] == ['{"a":1,"b":"x\\"y"}', None, '{"a":null,"b":"é"}']
    assert values["n"] == [None, None, None]
    assert values["dict"] == ["x", "y", None]


def test_a_uint64_above_the_sqlite_range_is_a_data_error() -> None:
    batch = pa.RecordBatch.from_pydict({"u": pa.array([2**63], pa.uint64())})
    with pytest.raises(DataError, match="`u`"):
        to_sqlite_values(batch)


@pytest.mark.parametrize(
    ("texts", "type_name", "expected"),
    [
        (["2024-01-31", None], "date", [dt.date(2024, 1, 31), None]),
        (["12:34:56.5", "00:00:00"], "time", [dt.time(12, 34, 56, 500000), dt.time(0)]),
        (
            ["2024-01-01 12:00:00", "2024-01-01T13:00:00.25"],
            "timestamp",
            [dt.datetime(2024, 1, 1, 12), dt.datetime(2024, 1, 1, 13, 0, 0, 250000)],
        ),
        (
            ["2024-01-01 12:00:00.000000Z", "2024-01-01 12:00:00"],
            "timestamp(UTC)",
            [dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)] * 2,
        ),
        (
            ["12.30", "-0.5", "7"],
            "decimal(10,2)",
            [Decimal("12.30"), Decimal("-0.50"), Decimal("7.00")],
        ),
        (["true", "0"], "bool", [True, False]),
        (['{"a": 1}'], "json", ['{"a": 1}']),
    ],
)
def test_text_parses_to_logical_types(texts: list, type_name: str, expected: list) -> None:
    parsed = parse_text(pa.array(texts, pa.string()), parse_type(type_name))
    assert parsed.failed is None
    values = parsed.values.to_pylist()
    if type_name.startswith("timestamp(UTC)"):
        values = [v.astimezone(dt.UTC) for v in values]
    assert values == expected


def test_text_that_does_not_parse_is_flagged_row_by_row() -> None:
    parsed = parse_text(pa.array(["2024-01-01", "2024-02-30", None, "soon"]), parse_type("date"))
    assert parsed.values.to_pylist() == [dt.date(2024, 1, 1), None, None, None]
    assert parsed.failed is not None
    assert parsed.failed.to_pylist() == [False, True, False, True]


def test_a_decimal_with_more_digits_than_its_scale_is_flagged_not_rounded() -> None:
    parsed = parse_text(pa.array(["1.25", "1.255"]), parse_type("decimal(5,2)"))
    assert parsed.values.to_pylist() == [Decimal("1.25"), None]
    assert parsed.failed is not None and parsed.failed.to_pylist() == [False, True]


@pytest.mark.parametrize(
    ("message", "kind", "expected"),
    [
        (
            "INTEGRITY: failed to execute query: NOT NULL constraint failed: t.name",
            "IntegrityError",
            DataError,
        ),
        ("CHECK constraint failed: n >= 0", "IntegrityError", DataError),
        ("IO: Failed to step query: database is locked", "OperationalError", RetryableError),
        (
            "Column 2 has unsigned integer value 9223372036854775813out of range",
            "ProgrammingError",
            DataError,
        ),
        ("no such table: nope", "ProgrammingError", TerminalError),
    ],
)
def test_driver_errors_are_classified(message: str, kind: str, expected: type) -> None:
    error_class = type(kind, (Exception,), {})
    translated = translate_error(error_class(message), "Writing to `t`")
    assert type(translated) is expected
    assert str(translated).startswith("Writing to `t`: ")
    assert "INTEGRITY: failed" not in str(translated)


def test_missing_table_message_lists_the_tables_when_few() -> None:
    assert "existing tables: `a`, `b`" in str(missing_table_error("c", ["a", "b"], "`x.db`"))
    assert "no tables" in str(missing_table_error("c", [], "`x.db`"))
    assert "30 other tables" in str(missing_table_error("c", [f"t{i}" for i in range(30)], "x"))


def test_connect_to_a_missing_file_read_only_is_terminal(tmp_path: Path) -> None:
    with pytest.raises(TerminalError, match="Cannot open"):
        connect(tmp_path / "absent.db", read_only=True, busy_timeout_seconds=1)


def test_json_fields_keep_their_tag_through_the_type_table() -> None:
    field = pa.field("j", pa.string(), metadata=JSON_FIELD_METADATA)
    logical = from_arrow(field.type, field.metadata)
    assert sqlite_type(logical).declared == "JSON"
    assert logical_type("JSON") == logical
