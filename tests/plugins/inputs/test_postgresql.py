"""The postgresql input against the real server: types, splits, resume, errors."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fustgo.engine.batch import Batch, Checkpoint, Split
from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.inputs.postgresql import PostgresqlInput, PostgresqlInputConfig
from tests.databases import PG_CONNECTION, pg, pg_schema
from tests.plugins.inputs.reading import read_all, rows

pytestmark = pytest.mark.integration


@pytest.fixture
def schema() -> Iterator[str]:
    with pg_schema("in") as name:
        yield name


def make(query: dict[str, Any], size: int | None = None, **connection: Any) -> PostgresqlInput:
    config = PostgresqlInputConfig.model_validate(
        {"connection": {**PG_CONNECTION, **connection}, "query": query, "fetch": {"size": size}}
    )
    return PostgresqlInput(config, PluginContext(component_path="input"))


def test_every_mapped_type_arrives_with_its_logical_type(schema: str) -> None:
    pg(
        f'CREATE TABLE "{schema}".t (id int PRIMARY KEY, i2 smallint, i4 integer, i8 bigint, '
        "f4 real, f8 double precision, n numeric(38,10), n_free numeric, txt text, "
        "v varchar(10), b bytea, ok boolean, d date, tm time, ts timestamp, tz timestamptz, "
        "iv interval, u uuid, j json, jb jsonb, ints int[], texts text[], nums numeric(5,2)[])"
    )
    pg(
        f'INSERT INTO "{schema}".t VALUES (1, -32768, 2147483647, 9223372036854775807, 1.5, '
        "-2.25, 1234567890123456789012345678.0123456789, 0.1000000000000000000001, "
        "'héllo 😀', 'ünï', '\\x00ff'::bytea, true, '2024-02-29', '23:59:59.999999', "
        "'2024-01-02 03:04:05.123456', '2024-01-02 03:04:05+05:30', '1 day 2 hours', "
        "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"a\": [1, 2]}', '{\"b\": \"😀\"}', "
        "'{1,NULL,3}', '{x,\"y z\"}', '{1.50,NULL}'), (2, NULL, NULL, NULL, NULL, NULL, "
        "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
        "NULL, NULL, NULL)"
    )
    plugin = make({"table": f"{schema}.t"})
    _, batches = read_all(plugin)
    schema_out = plugin.schema()
    assert schema_out is not None
    types = {field.name: field.type for field in schema_out}
    assert types["i2"] == pa.int16() and types["i4"] == pa.int32() and types["i8"] == pa.int64()
    assert types["n"] == pa.decimal128(38, 10) and types["n_free"] == pa.string()
    assert types["tz"] == pa.timestamp("us", tz="UTC") and types["ts"] == pa.timestamp("us")
    assert types["ints"] == pa.list_(pa.int32()) and types["nums"] == pa.list_(pa.decimal128(5, 2))
    assert schema_out.field("jb").metadata == {b"fustgo.logical_type": b"json"}
    first, second = rows(batches["all"])
    assert first == {
        "id": 1, "i2": -32768, "i4": 2147483647, "i8": 9223372036854775807, "f4": 1.5,
        "f8": -2.25, "n": Decimal("1234567890123456789012345678.0123456789"),
        "n_free": "0.1000000000000000000001", "txt": "héllo 😀", "v": "ünï", "b": b"\x00\xff",
        "ok": True, "d": dt.date(2024, 2, 29), "tm": dt.time(23, 59, 59, 999999),
        "ts": dt.datetime(2024, 1, 2, 3, 4, 5, 123456),
        "tz": dt.datetime(2024, 1, 1, 21, 34, 5, tzinfo=dt.UTC), "iv": "P1DT2H",
        "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "j": '{"a": [1, 2]}', "jb": '{"b": "😀"}',
        "ints": [1, None, 3], "texts": ["x", "y z"], "nums": [Decimal("1.50"), None],
    }  # fmt: skip
    assert all(value is None for key, value in second.items() if key != "id")


def test_numeric_nan_in_a_decimal_column_goes_to_the_dead_letter(schema: str) -> None:
    pg(f'CREATE TABLE "{schema}".t (id int, amount numeric(6,2))')
    pg(f"INSERT INTO \"{schema}\".t VALUES (1, 1.25), (2, 'NaN'), (3, NULL)")
    plugin = make({"table": f"{schema}.t"})
    _, batches = read_all(plugin)
    assert rows(batches["all"]) == [{"id": 1, "amount": Decimal("1.25")}, {"id": 3, "amount": None}]
    (rejected,) = plugin.take_rejected()
    assert rejected.records.to_pylist() == [{"id": 2, "amount": None}]
    assert "holds `nan`" in rejected.error[0].as_py().lower()  # type: ignore[index]


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    keys=st.lists(st.one_of(st.none(), st.integers(-(2**40), 2**40)), max_size=40),
    parallelism=st.integers(1, 5),
    size=st.integers(1, 7),
)
def test_splits_cover_the_table_exactly_once(
    schema: str, keys: list[int | None], parallelism: int, size: int
) -> None:
    table = f"t_{uuid.uuid4().hex[:8]}"
    pg(f'CREATE TABLE "{schema}".{table} (k bigint, n serial)')
    pg(f'INSERT INTO "{schema}".{table} (k) VALUES (%s)', [(k,) for k in keys], many=True)
    splits, batches = read_all(make({"table": f"{schema}.{table}", "split_key": "k"}, size))
    assert len(splits) <= parallelism + 1 or parallelism == 1
    read = sorted(row["n"] for split in batches.values() for row in rows(split))
    assert read == list(range(1, len(keys) + 1))
    for split in splits:
        done = [b.checkpoint for b in batches[split.id] if b.checkpoint and b.checkpoint.split_done]
        assert len(done) == (1 if batches[split.id] else 0)


def test_resume_continues_after_the_checkpoint(schema: str) -> None:
    pg(f'CREATE TABLE "{schema}".t (k int, v text)')
    pg(f"INSERT INTO \"{schema}\".t SELECT g % 4, 'row ' || g FROM generate_series(1, 23) g")
    plugin = make({"table": f"{schema}.t", "split_key": "k"}, size=3)

    async def run() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        await plugin.open()
        try:
            (split, *_) = await plugin.splits(1)
            first = [b async for b in plugin.read(split, None)]
            resumed = [b async for b in plugin.read(split, first[2].checkpoint)]
            return rows(first), rows(first[:3] + resumed)
        finally:
            await plugin.close()

    everything, stitched = asyncio.run(run())
    assert len(everything) == 23
    assert stitched == everything
    done = Checkpoint("range-0", {}, 23, split_done=True)

    async def finished() -> list[Batch]:
        await plugin.open()
        try:
            return [b async for b in plugin.read(Split("range-0"), done)]
        finally:
            await plugin.close()

    assert asyncio.run(finished()) == []


def test_sql_query_is_one_split_resumed_by_offset(schema: str) -> None:
    pg(f'CREATE TABLE "{schema}".t (k int)')
    pg(f'INSERT INTO "{schema}".t SELECT generate_series(1, 10)')
    plugin = make({"sql": f'SELECT k, k * 2 AS twice FROM "{schema}".t ORDER BY k'}, size=4)
    splits, batches = read_all(plugin, parallelism=4)
    assert [s.id for s in splits] == ["all"]
    assert [r["twice"] for r in rows(batches["all"])] == list(range(2, 21, 2))
    assert batches["all"][0].checkpoint.position == {"offset": 4}  # type: ignore[union-attr]


def test_progress_is_the_row_estimate(schema: str) -> None:
    pg(f'CREATE TABLE "{schema}".t AS SELECT generate_series(1, 500) AS k')
    pg(f'ANALYZE "{schema}".t')
    plugin = make({"table": f"{schema}.t", "split_key": "k"})
    read_all(plugin, parallelism=3)
    assert plugin.progress().records_total == 500


def test_empty_table_gives_no_batches(schema: str) -> None:
    pg(f'CREATE TABLE "{schema}".t (k int NOT NULL, v text)')
    splits, batches = read_all(make({"table": f"{schema}.t", "split_key": "k"}), 4)
    assert [s.id for s in splits] == ["all"]
    assert batches == {"all": []}


def test_missing_table_column_and_bad_split_key_are_terminal(schema: str) -> None:
    pg(f'CREATE TABLE "{schema}".t (k int, name text, doc jsonb)')
    with pytest.raises(TerminalError, match=r"nothing.*does not exist"):
        read_all(make({"table": f"{schema}.nothing"}))
    with pytest.raises(TerminalError, match=r"\['nope'\].*k, name, doc"):
        read_all(make({"table": f"{schema}.t", "columns": ["k", "nope"]}))
    with pytest.raises(TerminalError, match=r"split_key` `doc` is `jsonb`.*split by an integer"):
        read_all(make({"table": f"{schema}.t", "split_key": "doc"}))
    with pytest.raises(TerminalError, match=r"does not run"):
        read_all(make({"table": f"{schema}.t", "where": "no_such_column > 1"}))


def test_sessions_are_read_only(schema: str) -> None:
    pg(f'CREATE TABLE "{schema}".t (k int)')
    plugin = make({"sql": f'INSERT INTO "{schema}".t VALUES (1) RETURNING k'})
    with pytest.raises(TerminalError):
        read_all(plugin)


def test_unreachable_server_is_retryable() -> None:
    plugin = make({"table": "t"}, port=1)
    with pytest.raises(RetryableError, match=r"127\.0\.0\.1:1"):
        asyncio.run(plugin.check_connection())
