"""The mysql output against the real MariaDB: modes, types, atomic batches, pipelines.

The server must allow `LOAD DATA LOCAL INFILE`; the fixture enables it
(`SET GLOBAL local_infile = 1`), and `write.load_data: false` tests the INSERT path.
"""

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
from fustgo.plugins.inputs.mysql import MysqlInput, MysqlInputConfig
from fustgo.plugins.outputs.mysql import MysqlOutput, MysqlOutputConfig, tab_separated
from tests.databases import my, my_database
from tests.pipeline_runs import run_yaml
from tests.plugins.outputs.writing import people, write_all

pytestmark = pytest.mark.integration


@pytest.fixture
def database() -> Iterator[str]:
    with my_database("out", local_infile=True) as name:
        yield name


def make(
    database: str, write: dict[str, Any], resume: bool = False, load_data: bool = True
) -> MysqlOutput:
    config = MysqlOutputConfig.model_validate(
        {
            "connection": {"host": "127.0.0.1", "database": database, "user": "root"},
            "write": {"load_data": load_data, **write},
        }
    )
    return MysqlOutput(config, PluginContext(component_path="output", resume=resume))


EVERY_TYPE = pa.RecordBatch.from_pydict(
    {
        "id": pa.array([1, 2], pa.int64()),
        "i1": pa.array([-128, None], pa.int8()),
        "u8": pa.array([2**64 - 1, None], pa.uint64()),
        "f4": pa.array([1.5, None], pa.float32()),
        "f8": pa.array([-2.25, None], pa.float64()),
        "n": pa.array(
            [Decimal("1234567890123456789012345678.0123456789"), None], pa.decimal128(38, 10)
        ),
        "txt": pa.array(["héllo 😀\ttab\nline \\ back", None], pa.string()),
        "b": pa.array([b"\x00\xff\t\n\\", None], pa.binary()),
        "ok": pa.array([True, None], pa.bool_()),
        "d": pa.array([dt.date(2024, 2, 29), None], pa.date32()),
        "tm": pa.array([dt.time(23, 59, 59, 999999), None], pa.time64("us")),
        "ts": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 123456), None], pa.timestamp("us")),
        "tz": pa.array(
            [dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC), None],
            pa.timestamp("us", tz="Asia/Kolkata"),
        ),
        "ints": pa.array([[1, None, 3], None], pa.list_(pa.int64())),
    }
)
EVERY_TYPE = EVERY_TYPE.append_column(
    pa.field("j", pa.string(), metadata=JSON_FIELD_METADATA),
    pa.array(['{"b": "😀", "n": [1, 2]}', None], pa.string()),
)


@pytest.mark.parametrize("load_data", [True, False])
def test_created_table_round_trips_every_type_through_the_input(
    database: str, load_data: bool
) -> None:
    write_all(make(database, {"table": "t", "conflict_key": ["id"]}, load_data=load_data),
              EVERY_TYPE)  # fmt: skip
    declared = dict(
        my(
            f"SELECT column_name, column_type FROM information_schema.columns "
            f"WHERE table_schema = '{database}' AND table_name = 't'"
        )
    )
    assert declared["u8"] == "bigint(20) unsigned" and declared["ok"] == "tinyint(1)"
    assert declared["n"] == "decimal(38,10)" and declared["tz"] == "datetime(6)"
    assert declared["ts"] == "datetime(6)" and declared["txt"] == "longtext"
    config = MysqlInputConfig.model_validate(
        {"connection": {"host": "127.0.0.1", "database": database, "user": "root"},
         "query": {"table": "t"}}
    )  # fmt: skip
    source = MysqlInput(config)

    async def read() -> list[dict[str, Any]]:
        await source.open()
        try:
            (split,) = await source.splits(1)
            return [row async for b in source.read(split, None) for row in b.data.to_pylist()]
        finally:
            await source.close()

    first, second = asyncio.run(read())
    assert first == {
        "id": 1, "i1": -128, "u8": 2**64 - 1, "f4": 1.5, "f8": -2.25,
        "n": Decimal("1234567890123456789012345678.0123456789"),
        "txt": "héllo 😀\ttab\nline \\ back", "b": b"\x00\xff\t\n\\", "ok": True,
        "d": dt.date(2024, 2, 29), "tm": dt.time(23, 59, 59, 999999),
        "ts": dt.datetime(2024, 1, 2, 3, 4, 5, 123456),
        "tz": dt.datetime(2024, 1, 2, 3, 4, 5),  # the instant, as UTC in a datetime(6)
        "ints": "[1,null,3]",
        "j": '{"b": "😀", "n": [1, 2]}',
    }  # fmt: skip
    assert all(value is None for key, value in second.items() if key != "id")


def test_tab_separated_text_escapes_and_marks_nulls() -> None:
    batch = pa.RecordBatch.from_pydict({"a": ["x\ty", None, ""], "n": [1, 2, None]})
    assert tab_separated(batch) == b"x\\ty\t1\n\\N\t2\n\t\\N\n"
    assert tab_separated(batch.slice(0, 0)) == b""


@pytest.mark.parametrize("load_data", [True, False])
def test_every_write_mode(database: str, load_data: bool) -> None:
    def out(write: dict[str, Any], resume: bool = False) -> MysqlOutput:
        return make(database, {"table": "people", **write}, resume, load_data)

    write_all(out({"conflict_key": ["id"]}), people([1, 2], ["a", "b"]))
    write_all(
        out({"mode": "upsert", "conflict_key": ["id"]}),
        people([2, 3], ["B", "c"]),
        people([3], ["C"]),
    )
    assert my(f"SELECT * FROM `{database}`.people ORDER BY id") == [
        (1, "a"), (2, "B"), (3, "C")
    ]  # fmt: skip
    write_all(out({"mode": "replace", "conflict_key": ["id"]}), people([1], [None]))
    assert my(f"SELECT * FROM `{database}`.people ORDER BY id") == [
        (1, None), (2, "B"), (3, "C")
    ]  # fmt: skip
    write_all(out({"mode": "truncate"}), people([9], ["z"]))
    assert my(f"SELECT * FROM `{database}`.people") == [(9, "z")]
    write_all(out({"mode": "truncate"}, resume=True), people([10], ["y"]))
    assert my(f"SELECT count(*) FROM `{database}`.people") == [(2,)]


@pytest.mark.parametrize("load_data", [True, False])
def test_failed_batch_leaves_nothing_and_is_a_data_error(database: str, load_data: bool) -> None:
    my(f"CREATE TABLE `{database}`.people (id bigint PRIMARY KEY, name varchar(3), "
           "qty tinyint)")  # fmt: skip
    output = make(database, {"table": "people", "batch_size": 1}, load_data=load_data)
    schema = people([1], ["a"]).schema

    async def go() -> None:
        await output.open(schema)
        try:
            await output.write(Batch(people([1], ["a"])))
            with pytest.raises(DataError, match="Duplicate entry"):
                await output.write(Batch(people([2, 1], ["b", "ag"])))
            with pytest.raises(DataError, match=r"too long|truncated"):
                await output.write(Batch(people([3], ["long"])))
            with pytest.raises(DataError, match=r"[Oo]ut of range"):
                bad = pa.RecordBatch.from_pydict({"id": [4], "qty": pa.array([300], pa.int64())})
                await output.write(Batch(bad))
            await output.write(Batch(people([2], ["b"])))
            await output.flush()
        finally:
            await output.close()

    asyncio.run(go())
    assert my(f"SELECT id, name FROM `{database}`.people ORDER BY id") == [(1, "a"), (2, "b")]


def test_configuration_errors(database: str) -> None:
    with pytest.raises(ValidationError, match="needs `conflict_key`"):
        MysqlOutputConfig.model_validate(
            {"connection": {"database": "x", "user": "root"}, "write": {"table": "t",
                                                                         "mode": "upsert"}}
        )  # fmt: skip
    with pytest.raises(TerminalError, match="create_table"):
        write_all(make(database, {"table": "none", "create_table": False}), people([1], ["a"]))
    my(f"CREATE TABLE `{database}`.t (id bigint, name text, must int NOT NULL)")
    with pytest.raises(TerminalError, match=r"\['extra'\] are not in table"):
        write_all(make(database, {"table": "t", "new_columns": "error"}),
                  pa.RecordBatch.from_pydict({"id": [1], "extra": ["x"]}))  # fmt: skip
    with pytest.raises(TerminalError, match=r"requires values for \['must'\]"):
        write_all(make(database, {"table": "t"}), people([1], ["a"]))


def test_pre_and_post_sql_run_around_the_writes(database: str) -> None:
    table = f"`{database}`.t"
    write_all(
        make(
            database,
            {
                "table": "t",
                "pre_sql": [f"CREATE TABLE {table} (id bigint, name text, note text)"],
                "post_sql": [f"UPDATE {table} SET note = 'done'", f"ANALYZE TABLE {table}"],
            },
        ),
        people([1], ["a"]),
    )
    assert my(f"SELECT * FROM {table}") == [(1, "a", "done")]


def test_constraint_violation_isolates_only_the_bad_rows(database: str, tmp_path: Path) -> None:
    my(f"CREATE TABLE `{database}`.t (id bigint PRIMARY KEY, qty int CHECK (qty >= 0), "
           "code varchar(3))")  # fmt: skip
    (tmp_path / "in.csv").write_text(
        "id,qty,code\n1,5,a\n2,-1,b\n3,7,c\n3,8,d\n4,0,toolong\n5,1,é😀\n", encoding="utf-8"
    )
    connection = {"host": "127.0.0.1", "database": database, "user": "root"}
    outcome = run_yaml(
        f"""
name: mysql-isolate
settings: {{batch_size: 10, error_limit: {{records: 10}}}}
input: {{type: csv, paths: [in.csv]}}
output:
  type: mariadb
  connection: {json.dumps(connection)}
  write: {{table: t}}
dead_letter: {{type: json, path: dead.jsonl}}
""",
        tmp_path,
    )
    summary = outcome.summary
    assert summary.status == "succeeded", summary.error
    assert (summary.records_written, summary.records_failed) == (3, 3)
    assert my(f"SELECT id, qty, code FROM `{database}`.t ORDER BY id") == [
        (1, 5, "a"), (3, 7, "c"), (5, 1, "é😀")
    ]  # fmt: skip
    dead = [json.loads(line) for line in (tmp_path / "dead.jsonl").read_text().splitlines()]
    assert len(dead) == 3
