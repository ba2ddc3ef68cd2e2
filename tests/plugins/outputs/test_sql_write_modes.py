"""Every write mode, conflict strategy and schema-evolution rule of the SQL outputs, run the
same way against PostgreSQL, MariaDB (LOAD DATA and INSERT paths) and SQLite, plus the
row isolation of bad records in a pipeline."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pytest
from pydantic import ValidationError

from fustgo.engine.batch import Batch
from fustgo.engine.errors import DataError, TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.clients.sql import BlockingTableOutput, TableWrite
from fustgo.plugins.outputs.mysql import MysqlOutput, MysqlOutputConfig
from fustgo.plugins.outputs.postgresql import PostgresqlOutput, PostgresqlOutputConfig
from fustgo.plugins.outputs.sqlite import SqliteOutput, SqliteOutputConfig
from tests.databases import PG_CONNECTION, PG_DSN, my, my_database, pg_schema
from tests.pipeline_runs import run_yaml
from tests.plugins.outputs.writing import people

pytestmark = pytest.mark.integration


@dataclass
class Target:
    """One family's target: how to build its output and look at its table `t`."""

    family: str
    table: str
    """`t` as the output's `write.table` names it."""
    connection: dict[str, Any]
    sql: Callable[[str], list[tuple[Any, ...]]]
    """Run SQL where `t` is the table (DDL with `t`, SELECTs)."""
    extra: dict[str, Any]

    def output(self, write: dict[str, Any], resume: bool = False) -> BlockingTableOutput[Any]:
        section = {**self.extra, **write, "table": self.table}
        config: Any
        if self.family == "postgresql":
            config = PostgresqlOutputConfig.model_validate(
                {"connection": self.connection, "write": section}
            )
            return PostgresqlOutput(config, PluginContext(resume=resume))
        if self.family == "mysql":
            config = MysqlOutputConfig.model_validate(
                {"connection": self.connection, "write": section}
            )
            return MysqlOutput(config, PluginContext(resume=resume))
        config = SqliteOutputConfig.model_validate(
            {"connection": self.connection, "write": section}
        )
        return SqliteOutput(config, PluginContext(resume=resume))

    def rows(self) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.sql("SELECT id, name FROM t ORDER BY id")]

    def yaml_output(self) -> str:
        return json.dumps(
            {
                "type": self.family,
                "connection": self.connection,
                "write": {**self.extra, "table": self.table},
            }
        )


@pytest.fixture(params=["postgresql", "mysql", "mysql-insert", "sqlite"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "postgresql":
        with pg_schema("modes") as name:
            yield Target("postgresql", f"{name}.t", PG_CONNECTION, lambda s: _pg_in(name, s), {})
    elif request.param.startswith("mysql"):
        with my_database("modes", local_infile=True) as name:
            yield Target(
                "mysql",
                "t",
                {"host": "127.0.0.1", "database": name, "user": "root"},
                lambda s: my(s, database=name),
                {"load_data": request.param == "mysql"},
            )
    else:
        path = tmp_path / "db.sqlite"

        def lite(statement: str) -> list[tuple[Any, ...]]:
            with sqlite3.connect(path) as connection:
                return connection.execute(statement).fetchall()

        yield Target("sqlite", "t", {"database": str(path)}, lite, {})


def _pg_in(schema: str, statement: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(PG_DSN, autocommit=True) as connection:
        connection.execute(f'SET search_path TO "{schema}"')  # type: ignore[arg-type]
        cursor = connection.execute(statement)  # type: ignore[arg-type]
        return list(cursor.fetchall()) if cursor.description else []


def write(output: BlockingTableOutput[Any], *batches: pa.RecordBatch) -> tuple[int, int]:
    """Write the batches; return (records written, records skipped)."""

    async def go() -> tuple[int, int]:
        await output.open(batches[0].schema)
        try:
            for batch in batches:
                await output.write(Batch(batch))
            await output.flush()
        finally:
            await output.close()
        stats = output.stats()
        return stats.records_written, stats.records_filtered

    return asyncio.run(go())


def test_every_mode(target: Target) -> None:
    keyed = {"conflict_key": ["id"]}
    assert write(target.output(keyed), people([1, 2], ["a", "b"])) == (2, 0)
    # update: only existing rows; the one that matches nothing is skipped, not inserted
    assert write(target.output({**keyed, "mode": "update"}), people([2, 3], ["B", "c"])) == (1, 1)
    assert target.rows() == [(1, "a"), (2, "B")]
    assert write(target.output({**keyed, "mode": "upsert"}), people([3, 1], ["c", "A"])) == (2, 0)
    assert target.rows() == [(1, "A"), (2, "B"), (3, "c")]
    assert write(target.output({**keyed, "mode": "replace"}), people([2], [None])) == (1, 0)
    assert target.rows() == [(1, "A"), (2, None), (3, "c")]
    assert write(target.output({**keyed, "mode": "merge"}), people([3, 4], ["C", "d"])) == (2, 0)
    assert target.rows() == [(1, "A"), (2, None), (3, "C"), (4, "d")]
    assert write(target.output({"mode": "truncate"}), people([9], ["z"]), people([8], ["y"])) == (
        2,
        0,
    )
    assert target.rows() == [(8, "y"), (9, "z")]  # emptied once, before the first batch
    write(target.output({"mode": "truncate"}, resume=True), people([7], ["x"]))
    assert target.rows() == [(7, "x"), (8, "y"), (9, "z")]  # a resumed run appends


def test_conflict_strategies(target: Target) -> None:
    keyed = {"conflict_key": ["id"]}
    write(target.output(keyed), people([1], ["a"]))
    ignore = {**keyed, "conflict": {"strategy": "ignore"}}
    assert write(target.output(ignore), people([1, 2], ["X", "b"])) == (1, 1)
    assert target.rows() == [(1, "a"), (2, "b")]
    update = {**keyed, "conflict": {"strategy": "update"}}
    assert write(target.output(update), people([2, 3], ["B", "c"])) == (2, 0)
    assert target.rows() == [(1, "a"), (2, "B"), (3, "c")]
    with pytest.raises(DataError):
        write(target.output(keyed), people([4, 3], ["d", "again"]))
    assert write(target.output({**ignore, "mode": "merge"}), people([1, 5], ["Y", "e"])) == (1, 1)
    with pytest.raises(DataError, match="already exists"):
        write(
            target.output({**keyed, "mode": "merge", "conflict": {"strategy": "error"}}),
            people([6, 5], ["f", "E"]),
        )
    assert target.rows() == [
        (1, "a"),
        (2, "B"),
        (3, "c"),
        (5, "e"),
    ]  # the failed batch left nothing


def test_merge_and_update_need_no_unique_index(target: Target) -> None:
    target.sql("CREATE TABLE t (id int, name varchar(20))")
    target.sql("INSERT INTO t VALUES (1, 'a')")
    keyed = {"conflict_key": ["id"]}
    assert write(target.output({**keyed, "mode": "merge"}), people([1, 2], ["A", "b"])) == (2, 0)
    assert write(target.output({**keyed, "mode": "update"}), people([2, 9], ["B", "z"])) == (1, 1)
    assert target.rows() == [(1, "A"), (2, "B")]


def test_new_fields_become_columns(target: Target) -> None:
    write(target.output({}), people([1], ["a"]))
    wider = pa.RecordBatch.from_pydict(
        {
            "id": pa.array([2], pa.int64()),
            "name": ["b"],
            "email": ["b@example.com"],
            "score": pa.array([1.5], pa.float64()),
        }
    )
    output = target.output({})
    write(output, people([3], ["c"]), wider)  # the new fields arrive mid-run
    found = target.sql("SELECT id, name, email, score FROM t ORDER BY id")
    assert [tuple(row) for row in found] == [
        (1, "a", None, None),
        (2, "b", "b@example.com", 1.5),
        (3, "c", None, None),
    ]
    with pytest.raises(
        TerminalError, match=r"\['note'\] are not in table.*new_columns` is `error`"
    ):
        write(
            target.output({"new_columns": "error"}),
            pa.RecordBatch.from_pydict({"id": [4], "note": ["x"]}),
        )


def test_a_type_change_is_an_error_with_advice(target: Target) -> None:
    write(target.output({}), people([1], ["a"]))
    stamped = pa.RecordBatch.from_pydict({"id": pa.array([0], pa.timestamp("us")), "name": ["b"]})
    with pytest.raises(TerminalError, match=r"never changes a column's type.*`transform`"):
        write(target.output({}), stamped)
    assert target.rows() == [(1, "a")]


@pytest.mark.parametrize(
    ("write_section", "message"),
    [
        ({"mode": "update"}, "`mode: update` needs `conflict_key`"),
        ({"mode": "merge"}, "`mode: merge` needs `conflict_key`"),
        ({"mode": "replace"}, "`mode: replace` needs `conflict_key`"),
        (
            {"mode": "upsert", "conflict_key": ["id"], "conflict": {"strategy": "ignore"}},
            "`conflict.strategy` applies to modes insert, truncate and merge",
        ),
        (
            {"mode": "update", "conflict_key": ["id"], "conflict": {"strategy": "error"}},
            "only updates existing rows",
        ),
        ({"conflict": {"strategy": "update"}}, "`conflict.strategy: update` needs `conflict_key`"),
        ({"mode": "truncate_insert"}, "truncate"),
        ({"conflict_key": ["id", "id"]}, "names a column twice"),
    ],
)
def test_invalid_combinations_are_explained(write_section: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TableWrite.model_validate({"table": "t", **write_section})


def test_strategy_defaults_follow_the_mode() -> None:
    assert TableWrite(table="t").strategy == "error"
    assert TableWrite(table="t", mode="merge", conflict_key=["id"]).strategy == "update"
    assert (
        TableWrite.model_validate(
            {
                "table": "t",
                "mode": "merge",
                "conflict_key": ["id"],
                "conflict": {"strategy": "ignore"},
            }
        ).inserts_directly
        is False
    )


def test_bad_rows_among_10000_go_to_the_dead_letter(target: Target, tmp_path: Path) -> None:
    target.sql("CREATE TABLE t (id bigint PRIMARY KEY, name varchar(20), qty int CHECK (qty >= 0))")
    lines = ["id,name,qty"] + [f"{i},n{i},{i % 7}" for i in range(1, 10_001)]
    lines[4321] = "4321,bad,-1"  # breaks the CHECK constraint
    lines[7777] = "1,dup,3"  # the key of row 1 again (in another batch)
    (tmp_path / "in.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    outcome = run_yaml(
        f"""
name: sql-isolate-{target.family}
settings: {{batch_size: 1000, error_limit: {{records: 5}}}}
input: {{type: csv, paths: [in.csv], columns: {{id: int64, name: string, qty: int32}}}}
output: {target.yaml_output()}
dead_letter: {{type: json, path: dead.jsonl}}
""",
        tmp_path,
    )
    summary = outcome.summary
    assert summary.status == "succeeded", summary.error
    assert (summary.records_written, summary.records_failed) == (9_998, 2)
    assert target.sql("SELECT count(*), sum(qty) FROM t")[0][0] == 9_998
    dead = [json.loads(line) for line in (tmp_path / "dead.jsonl").read_text().splitlines()]
    assert sorted(json.loads(d["record"])["name"] for d in dead) == ["bad", "dup"]


def test_update_skips_unmatched_records_in_the_run_summary(target: Target, tmp_path: Path) -> None:
    write(target.output({"conflict_key": ["id"]}), people([1, 2], ["a", "b"]))
    (tmp_path / "in.csv").write_text("id,name\n2,B\n3,c\n4,d\n", encoding="utf-8")
    output = json.loads(target.yaml_output())
    output["write"].update(mode="update", conflict_key=["id"])
    outcome = run_yaml(
        f"""
name: sql-update-{target.family}
input: {{type: csv, paths: [in.csv], columns: {{id: int64, name: string}}}}
output: {json.dumps(output)}
""",
        tmp_path,
    )
    summary = outcome.summary
    assert summary.status == "succeeded", summary.error
    assert (summary.records_written, summary.records_filtered, summary.records_failed) == (1, 2, 0)
    assert target.rows() == [(1, "a"), (2, "B")]


def test_rows_whose_key_existed_are_counted_as_updated_where_staged(target: Target) -> None:
    keyed = {"conflict_key": ["id"]}
    write(target.output(keyed), people([1, 2], ["a", "b"]))
    for section in ({**keyed, "mode": "upsert"}, {**keyed, "mode": "merge"}):
        output = target.output(section)
        assert write(output, people([2, 3, 4], ["B", "c", "d"])) == (3, 0)
        staged = (
            target.family == "postgresql"
            or target.extra.get("load_data")
            or (section["mode"] == "merge")
        )
        # Staged writes count the rows whose key was there; direct INSERTs cannot tell.
        expected = (1 if section["mode"] == "upsert" else 3) if staged else 0
        assert output.stats().records_updated == expected
