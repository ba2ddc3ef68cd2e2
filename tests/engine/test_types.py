"""The logical type set: parsing, the Arrow mapping and its inverse."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fustgo.engine.errors import ConfigError
from fustgo.engine.types import LogicalType, from_arrow, parse_type

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "arrow"),
    [
        ("int", pa.int32()),
        ("BIGINT", pa.int64()),
        ("double", pa.float64()),
        ("varchar(255)", pa.string()),
        ("decimal(10,2)", pa.decimal128(10, 2)),
        ("numeric(50, 4)", pa.decimal256(50, 4)),
        ("timestamp", pa.timestamp("us")),
        ("timestamptz", pa.timestamp("us", tz="UTC")),
        ("timestamp(Asia/Shanghai)", pa.timestamp("us", tz="Asia/Shanghai")),
        ("date", pa.date32()),
        ("time", pa.time64("us")),
        ("json", pa.string()),
        ("list<int64>", pa.list_(pa.int64())),
        (
            "struct<a: int64, b: list<string>>",
            pa.struct([("a", pa.int64()), ("b", pa.list_(pa.string()))]),
        ),
    ],
)
def test_parse_and_map(text: str, arrow: pa.DataType) -> None:
    assert parse_type(text).to_arrow() == arrow


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("integr", "Unknown type `integr`"),
        ("decimal(0,1)", "precision must be"),
        ("decimal(x)", r"decimal\(precision,scale\)"),
        ("list<int64", "Missing `>`"),
        ("struct<a int64>", "name: type"),
        ("int64 extra", "Unexpected"),
        ("", "Empty type"),
    ],
)
def test_bad_types_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_type(text)


SCALARS = st.sampled_from(
    ["int8", "int16", "int32", "int64", "uint32", "float32", "float64", "string", "binary",
     "bool", "date", "time", "timestamp", "timestamp(UTC)", "decimal(12,3)", "decimal(60,10)"]
)  # fmt: skip
TYPES = st.recursive(
    SCALARS.map(parse_type),
    lambda inner: st.one_of(
        inner.map(lambda t: LogicalType("list", item=t)),
        st.lists(
            st.tuples(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), inner),
            min_size=1,
            max_size=3,
            unique_by=lambda f: f[0],
        ).map(lambda fs: LogicalType("struct", fields=tuple(fs))),
    ),
    max_leaves=6,
)


@given(TYPES)
def test_text_and_arrow_round_trips(typ: LogicalType) -> None:
    assert parse_type(str(typ)) == typ
    assert from_arrow(typ.to_arrow()) == typ


def test_json_is_tagged_on_the_field() -> None:
    field = parse_type("json").to_arrow_field("payload")
    assert from_arrow(field.type, field.metadata) == LogicalType("json")
