"""The postgresql output against the real server: modes, types, atomic batches, pipelines."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pydantic import ValidationError

from fustgo.engine.batch import Batch
from fustgo.engine.errors import DataError, TerminalError
from fustgo.engine.types import JSON_FIELD_METADATA
from fustgo.plugins.api import PluginContext
from fustgo.plugins.inputs.postgresql import PostgresqlInput, PostgresqlInputConfig
from fustgo.plugins.outputs.postgresql import PostgresqlOutput, PostgresqlOutputConfig
from tests.cli_runner import run_fustgo
from tests.databases import PG_CONNECTION, pg, pg_schema
from tests.pipeline_runs import run_yaml
from tests.plugins.outputs.writing import people, write_all

pytestmark = pytest.mark.integration


@pytest.fixture
def schema() -> Iterator[str]:
    with pg_schema("out") as name:
        yield name


def make(write: dict[str, Any], resume: bool = False) -> PostgresqlOutput:
    config = PostgresqlOutputConfig.model_validate({"connection": PG_CONNECTION, "write": write})
    return PostgresqlOutput(config, PluginContext(component_path="output", resume=resume))


EVERY_TYPE = pa.RecordBatch.from_arrays(
    [
        pa.array([1, 2], pa.int64()),
        pa.array([-128, None], pa.int8()),
        pa.array([-32768, None], pa.int16()),
        pa.array([2**31 - 1, None], pa.int32()),
        pa.array([2**32 - 1, None], pa.uint32()),
        pa.array([2**64 - 1, None], pa.uint64()),
        pa.array([1.5, None], pa.float32()),
        pa.array([-2.25, None], pa.float64()),
        pa.array([Decimal("1234567890123456789012345678.0123456789"), None], pa.decimal128(38, 10)),
        pa.array(["héllo 😀", None], pa.string()),
        pa.array([b"\x00\xff", None], pa.binary()),
        pa.array([True, None], pa.bool_()),
        pa.array([dt.date(2024, 2, 29), None], pa.date32()),
        pa.array([dt.time(23, 59, 59, 999999), None], pa.time64("us")),
        pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 123456), None], pa.timestamp("us")),
        pa.array(
            [dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC), None],
            pa.timestamp("us", tz="Asia/Kolkata"),
        ),
        pa.array(['{"b": "😀", "n": [1, 2]}', None], pa.string()),
        pa.array([[1, None, 3], None], pa.list_(pa.int64())),
        pa.array([["x", "y z"], None], pa.list_(pa.string())),
        pa.array([{"a": 1, "b": "é"}, None], pa.struct([("a", pa.int64()), ("b", pa.string())])),
    ],
    schema=pa.schema(
        [
            pa.field("id", pa.int64()),
            pa.field("i1", pa.int8()),
            pa.field("i2", pa.int16()),
            pa.field("i4", pa.int32()),
            pa.field("u4", pa.uint32()),
            pa.field("u8", pa.uint64()),
            pa.field("f4", pa.float32()),
            pa.field("f8", pa.float64()),
            pa.field("n", pa.decimal128(38, 10)),
            pa.field("txt", pa.string()),
            pa.field("b", pa.binary()),
            pa.field("ok", pa.bool_()),
            pa.field("d", pa.date32()),
            pa.field("tm", pa.time64("us")),
            pa.field("ts", pa.timestamp("us")),
            pa.field("tz", pa.timestamp("us", tz="Asia/Kolkata")),
            pa.field("j", pa.string(), metadata=JSON_FIELD_METADATA),
            pa.field("ints", pa.list_(pa.int64())),
            pa.field("texts", pa.list_(pa.string())),
            pa.field("st", pa.struct([("a", pa.int64()), ("b", pa.string())])),
        ]
    ),
)


def test_created_table_round_trips_every_type_through_the_input(schema: str) -> None:
    write_all(make({"table": f"{schema}.t", "conflict_key": ["id"]}), EVERY_TYPE)
    declared = dict(
        pg(
            f"SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE "
            f"attrelid = '\"{schema}\".t'::regclass AND attnum > 0"
        )
    )
    assert declared["i1"] == "smallint" and declared["u8"] == "numeric(20,0)"
    assert declared["n"] == "numeric(38,10)" and declared["tz"] == "timestamp with time zone"
    assert declared["j"] == "jsonb" and declared["st"] == "jsonb"
    assert declared["ints"] == "bigint[]"
    (jsonb_value,) = pg(f"SELECT j->'n'->>1 FROM \"{schema}\".t WHERE id = 1")[0]
    assert jsonb_value == "2"  # stored as jsonb, not as a JSON string
    config = PostgresqlInputConfig.model_validate(
        {"connection": PG_CONNECTION, "query": {"table": f"{schema}.t"}}
    )
    source = PostgresqlInput(config)

    async def read() -> list[dict[str, Any]]:
        await source.open()
        try:
            (split,) = await source.splits(1)
            return [row async for b in source.read(split, None) for row in b.data.to_pylist()]
        finally:
            await source.close()

    first, second = sorted(asyncio.run(read()), key=lambda row: row["id"])
    assert first == {
        "id": 1, "i1": -128, "i2": -32768, "i4": 2**31 - 1, "u4": 2**32 - 1,
        "u8": Decimal(2**64 - 1), "f4": 1.5, "f8": -2.25,
        "n": Decimal("1234567890123456789012345678.0123456789"), "txt": "héllo 😀",
        "b": b"\x00\xff", "ok": True, "d": dt.date(2024, 2, 29), "tm": dt.time(23, 59, 59, 999999),
        "ts": dt.datetime(2024, 1, 2, 3, 4, 5, 123456),
        "tz": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        "j": '{"b": "😀", "n": [1, 2]}', "ints": [1, None, 3], "texts": ["x", "y z"],
        "st": '{"a": 1, "b": "é"}',
    }  # fmt: skip
    assert all(value is None for key, value in second.items() if key != "id")


def test_existing_columns_of_other_types_are_cast_or_staged_as_text(schema: str) -> None:
    pg(
        f'CREATE TABLE "{schema}".t (id int PRIMARY KEY, ref uuid, span interval, '
        "price numeric, doc json, created timestamptz DEFAULT now())"
    )
    batch = pa.RecordBatch.from_pydict(
        {
            "id": pa.array([7], pa.int64()),
            "ref": ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"],
            "span": ["P1DT2H"],
            "price": pa.array([Decimal("12.345")], pa.decimal128(10, 3)),
            "doc": ['{"k": 1}'],
        }
    )
    write_all(make({"table": f"{schema}.t"}), batch)
    assert pg(f'SELECT id, ref::text, span::text, price::text, doc::text FROM "{schema}".t') == [
        (7, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "1 day 02:00:00", "12.345", '{"k": 1}')
    ]


def test_every_write_mode(schema: str) -> None:
    table = f"{schema}.people"
    write_all(make({"table": table, "conflict_key": ["id"]}), people([1, 2], ["a", "b"]))
    write_all(
        make({"table": table, "mode": "upsert", "conflict_key": ["id"]}),
        people([2, 3], ["B", "c"]),
        people([3], ["C"]),
    )
    assert pg(f'SELECT * FROM "{schema}".people ORDER BY id') == [(1, "a"), (2, "B"), (3, "C")]
    write_all(
        make({"table": table, "mode": "replace", "conflict_key": ["id"]}), people([1], [None])
    )
    assert pg(f'SELECT * FROM "{schema}".people ORDER BY id') == [(1, None), (2, "B"), (3, "C")]
    write_all(make({"table": table, "mode": "truncate"}), people([9], ["z"]))
    assert pg(f'SELECT * FROM "{schema}".people') == [(9, "z")]
    write_all(make({"table": table, "mode": "truncate"}, resume=True), people([10], ["y"]))
    assert pg(f'SELECT count(*) FROM "{schema}".people') == [(2,)]


def test_failed_batch_leaves_nothing_and_is_a_data_error(schema: str) -> None:
    table = f"{schema}.people"
    output = make({"table": table, "conflict_key": ["id"], "batch_size": 1})

    async def go() -> None:
        await output.open(people([1], ["a"]).schema)
        try:
            await output.write(Batch(people([1], ["a"])))
            with pytest.raises(DataError, match="duplicate key"):
                await output.write(Batch(people([2, 1], ["b", "again"])))
            with pytest.raises(DataError, match="cannot hold"):
                await output.write(
                    Batch(pa.RecordBatch.from_pydict({"id": [3], "name": [b"\xff"]}))
                )
            await output.write(Batch(people([2], ["b"])))
            await output.flush()
        finally:
            await output.close()

    asyncio.run(go())
    assert pg(f'SELECT * FROM "{schema}".people ORDER BY id') == [(1, "a"), (2, "b")]


def test_configuration_errors(schema: str) -> None:
    with pytest.raises(ValidationError, match="needs `conflict_key`"):
        PostgresqlOutputConfig.model_validate(
            {"connection": PG_CONNECTION, "write": {"table": "t", "mode": "upsert"}}
        )
    with pytest.raises(TerminalError, match="create_table"):
        write_all(make({"table": f"{schema}.none", "create_table": False}), people([1], ["a"]))
    pg(f'CREATE TABLE "{schema}".t (id bigint, name text)')
    with pytest.raises(TerminalError, match=r"\['extra'\] are not in table"):
        batch = pa.RecordBatch.from_pydict({"id": [1], "extra": ["x"]})
        write_all(make({"table": f"{schema}.t", "new_columns": "error"}), batch)
    with pytest.raises(TerminalError, match="ON CONFLICT"):
        write_all(make({"table": f"{schema}.t", "mode": "upsert", "conflict_key": ["id"]}),
                  people([1], ["a"]))  # fmt: skip


def test_pre_and_post_sql_run_around_the_writes(schema: str) -> None:
    table = f'"{schema}".t'
    write_all(
        make(
            {
                "table": f"{schema}.t",
                "pre_sql": [f"CREATE TABLE {table} (id bigint, name text, note text)"],
                "post_sql": [f"UPDATE {table} SET note = 'done'"],
            }
        ),
        people([1], ["a"]),
    )
    assert pg(f"SELECT * FROM {table}") == [(1, "a", "done")]


def test_constraint_violation_isolates_only_the_bad_rows(schema: str, tmp_path: Path) -> None:
    pg(f'CREATE TABLE "{schema}".t (id bigint PRIMARY KEY, qty int CHECK (qty >= 0))')
    (tmp_path / "in.csv").write_text("id,qty\n1,5\n2,-1\n3,7\n3,8\n4,0\n", encoding="utf-8")
    outcome = run_yaml(
        f"""
name: pg-isolate
settings: {{batch_size: 10, error_limit: {{records: 10}}}}
input: {{type: csv, paths: [in.csv]}}
output:
  type: postgresql
  connection: {json.dumps(PG_CONNECTION)}
  write: {{table: {schema}.t}}
dead_letter: {{type: json, path: dead.jsonl}}
""",
        tmp_path,
    )
    summary = outcome.summary
    assert summary.status == "succeeded", summary.error
    assert (summary.records_written, summary.records_failed) == (3, 2)
    assert pg(f'SELECT id, qty FROM "{schema}".t ORDER BY id') == [(1, 5), (3, 7), (4, 0)]
    dead = [json.loads(line) for line in (tmp_path / "dead.jsonl").read_text().splitlines()]
    assert len(dead) == 2


def test_csv_to_postgresql_through_the_cli(schema: str, tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text(
        "id,customer,amount\n1,Zoë 😀,12.50\n2,,3.00\n", encoding="utf-8"
    )
    (tmp_path / "p.yaml").write_text(
        f"""
name: csv-to-pg
input: {{type: csv, paths: [orders.csv], columns: {{amount: "decimal(10,2)"}}}}
output:
  type: postgresql
  connection: {json.dumps(PG_CONNECTION)}
  write: {{table: {schema}.orders, mode: upsert, conflict_key: [id]}}
""",
        encoding="utf-8",
    )
    result = run_fustgo("run", "p.yaml", cwd=tmp_path, timeout=120)
    assert result.exit_code == 0, result.stderr
    assert pg(f'SELECT * FROM "{schema}".orders ORDER BY id') == [
        (1, "Zoë 😀", Decimal("12.50")),
        (2, None, Decimal("3.00")),
    ]
