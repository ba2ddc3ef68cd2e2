"""The sqlite output: table creation, write modes, atomic batches, error classes, round trips."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pydantic import ValidationError

from fustgo.engine.batch import Batch, Checkpoint
from fustgo.engine.errors import DataError, RetryableError, TerminalError
from fustgo.engine.types import JSON_FIELD_METADATA
from fustgo.plugins.api import PluginContext
from fustgo.plugins.clients.sqlite import connect, query_rows
from fustgo.plugins.inputs.sqlite import SqliteInput, SqliteInputConfig
from fustgo.plugins.outputs.sqlite import SqliteOutput, SqliteOutputConfig
from tests.plugins.outputs.writing import write_all

pytestmark = pytest.mark.unit


def make_output(
    base: Path, write: dict[str, Any], resume: bool = False, **connection: Any
) -> SqliteOutput:
    config = SqliteOutputConfig.model_validate(
        {"connection": {"database": "out/db.sqlite", **connection}, "write": write}
    )
    return SqliteOutput(config, PluginContext(base_dir=base, resume=resume))


def select(base: Path, *statements: str) -> list[tuple]:
    """Run statements with ADBC; the last one's rows.

    Python's sqlite3 is another copy of SQLite: its POSIX locks and the plugin's are the
    same process's, so it must not touch a file the plugin has open.
    """
    (base / "out").mkdir(exist_ok=True)
    connection = connect(base / "out" / "db.sqlite", read_only=False, busy_timeout_seconds=1)
    try:
        rows: list[tuple] = []
        for statement in statements:
            rows = query_rows(connection, statement)
        return rows
    finally:
        connection.close()


def people(ids: list[int], names: list[str | None]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({"id": ids, "name": pa.array(names, pa.string())})


ALL_TYPES = pa.schema(
    [
        pa.field("id", pa.int64()),
        pa.field("small", pa.int16()),
        pa.field("name", pa.string()),
        pa.field("price", pa.decimal128(20, 6)),
        pa.field("paid", pa.bool_()),
        pa.field("day", pa.date32()),
        pa.field("at", pa.timestamp("us")),
        pa.field("at_utc", pa.timestamp("us", tz="UTC")),
        pa.field("clock", pa.time64("us")),
        pa.field("ratio", pa.float64()),
        pa.field("raw", pa.binary()),
        pa.field("doc", pa.string(), metadata=JSON_FIELD_METADATA),
    ]
)
ALL_ROWS = [
    {
        "id": 1, "small": -3, "name": "Zoë 名前", "price": Decimal("12345678901234.123456"),
        "paid": True, "day": dt.date(2024, 2, 29),
        "at": dt.datetime(2024, 2, 29, 23, 59, 59, 999999),
        "at_utc": dt.datetime(2024, 1, 1, 0, 0, tzinfo=dt.UTC), "clock": dt.time(1, 2, 3, 4),
        "ratio": 0.1, "raw": b"\x00\xff", "doc": '{"k": [1, 2]}',
    },
    {name: None for name in ALL_TYPES.names} | {"id": 2},
]  # fmt: skip


def test_creates_folder_file_and_table_with_declared_types(tmp_path: Path) -> None:
    output = make_output(tmp_path, {"table": "客户", "mode": "upsert", "conflict_key": ["id"]})
    write_all(output, pa.RecordBatch.from_pylist(ALL_ROWS, schema=ALL_TYPES))
    (ddl,) = select(tmp_path, "SELECT sql FROM sqlite_schema WHERE name = '客户'")[0]
    assert ddl == (
        'CREATE TABLE "客户" ("id" INTEGER NOT NULL, "small" SMALLINT, "name" TEXT, '
        '"price" DECIMAL_TEXT(20,6), "paid" BOOLEAN, "day" DATE, "at" TIMESTAMP, '
        '"at_utc" TIMESTAMPTZ, "clock" TIME, "ratio" REAL, "raw" BLOB, "doc" JSON, '
        'PRIMARY KEY ("id"))'
    )
    assert select(tmp_path, 'SELECT * FROM "客户" ORDER BY id') == [
        (1, -3, "Zoë 名前", "12345678901234.123456", 1, "2024-02-29", "2024-02-29 23:59:59.999999",
         "2024-01-01 00:00:00.000000Z", "01:02:03.000004", 0.1, b"\x00\xff", '{"k": [1, 2]}'),
        (2, *([None] * 11)),
    ]  # fmt: skip
    assert select(tmp_path, "PRAGMA journal_mode") == [("wal",)]
    assert output.stats().records_written == 2
    assert output.stats().batches_written == 1
    assert output.stats().bytes_written > 0


def test_sqlite_to_sqlite_round_trip_keeps_logical_types(tmp_path: Path) -> None:
    batch = pa.RecordBatch.from_pylist(ALL_ROWS, schema=ALL_TYPES)
    write_all(make_output(tmp_path, {"table": "t"}), batch)
    config = SqliteInputConfig.model_validate(
        {"connection": {"database": "out/db.sqlite"}, "query": {"table": "t"}}
    )
    reader = SqliteInput(config, PluginContext(base_dir=tmp_path))

    async def read() -> list[Batch]:
        await reader.open()
        try:
            (split,) = await reader.splits(1)
            return [b async for b in reader.read(split, None)]
        finally:
            await reader.close()

    (read_back,) = asyncio.run(read())
    expected = ALL_TYPES.set(1, pa.field("small", pa.int64()))  # SQLite integers are 64-bit
    assert read_back.schema == expected
    assert (
        read_back.data.to_pylist()
        == pa.RecordBatch.from_pylist(ALL_ROWS, schema=expected).to_pylist()
    )
    assert reader.take_rejected() == []


def test_upsert_updates_and_replays_are_harmless(tmp_path: Path) -> None:
    output = make_output(tmp_path, {"table": "p", "mode": "upsert", "conflict_key": ["id"]})
    first, second = people([1, 2], ["a", "b"]), people([2, 3], ["B", None])
    write_all(output, first, second, second, first.slice(0, 1))
    assert select(tmp_path, "SELECT * FROM p ORDER BY id") == [(1, "a"), (2, "B"), (3, None)]


def test_upsert_with_only_key_columns_does_nothing_on_conflict(tmp_path: Path) -> None:
    batch = pa.RecordBatch.from_pydict({"id": [1, 1, 2]})
    write_all(
        make_output(tmp_path, {"table": "k", "mode": "upsert", "conflict_key": ["id"]}), batch
    )
    assert select(tmp_path, "SELECT id FROM k ORDER BY id") == [(1,), (2,)]


def test_replace_deletes_the_rows_with_the_batch_keys_then_inserts(tmp_path: Path) -> None:
    select(
        tmp_path,
        "CREATE TABLE p (id INTEGER, name TEXT, note TEXT)",  # no unique key needed
        "INSERT INTO p VALUES (1, 'a', 'kept?'), (1, 'a2', 'dup'), (2, 'b', 'kept')",
    )
    write = {"table": "p", "mode": "replace", "conflict_key": ["id"]}
    write_all(make_output(tmp_path, write), people([1, 3], ["A", "c"]))
    assert select(tmp_path, "SELECT * FROM p ORDER BY id") == [
        (1, "A", None),
        (2, "b", "kept"),
        (3, "c", None),
    ]


def test_truncate_empties_the_table_unless_the_run_resumes(tmp_path: Path) -> None:
    write_all(make_output(tmp_path, {"table": "p"}), people([1, 2], ["a", "b"]))
    write_all(make_output(tmp_path, {"table": "p", "mode": "truncate"}), people([3], ["c"]))
    assert select(tmp_path, "SELECT id FROM p") == [(3,)]
    resumed = make_output(tmp_path, {"table": "p", "mode": "truncate"}, resume=True)
    write_all(resumed, people([4], ["d"]))
    assert select(tmp_path, "SELECT id FROM p ORDER BY id") == [(3,), (4,)]


def test_a_constraint_violation_is_a_data_error_and_leaves_nothing_of_the_batch(
    tmp_path: Path,
) -> None:
    output = make_output(tmp_path, {"table": "p", "conflict_key": ["id"]})

    async def go() -> list[str]:
        errors = []
        await output.open(people([1], ["a"]).schema)
        await output.write(Batch(people([1], ["a"])))
        for bad in (people([2, 1], ["b", "dup"]), people([3, 4], ["c", None])):
            try:
                await output.write(Batch(bad))
            except DataError as exc:
                errors.append(str(exc))
        await output.write(Batch(people([5], ["e"])))
        await output.flush()
        await output.close()
        return errors

    select(tmp_path, "CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    errors = asyncio.run(go())
    target = f"Writing to `p` in `{tmp_path / 'out' / 'db.sqlite'}`"
    assert errors == [
        f"{target}: UNIQUE constraint failed: p.id.",
        f"{target}: NOT NULL constraint failed: p.name.",
    ]
    assert select(tmp_path, "SELECT * FROM p ORDER BY id") == [(1, "a"), (5, "e")]
    assert output.stats().records_written == 2


def test_batch_size_chunks_one_atomic_batch(tmp_path: Path) -> None:
    output = make_output(tmp_path, {"table": "p", "conflict_key": ["id"], "batch_size": 2})

    async def go() -> None:
        await output.open(people([1], ["a"]).schema)
        await output.write(Batch(people([1, 2, 3, 4, 5], list("abcde"))))
        with pytest.raises(DataError):
            await output.write(Batch(people([6, 7, 8, 1], list("fghi"))))
        await output.close()

    asyncio.run(go())
    assert select(tmp_path, "SELECT count(*) FROM p") == [(5,)]


def test_each_batch_is_committed_by_write(tmp_path: Path) -> None:
    output = make_output(tmp_path, {"table": "p"})

    async def go() -> list:
        await output.open(people([1], ["a"]).schema)
        await output.write(Batch(people([1], ["a"])))
        committed = select(tmp_path, "SELECT count(*) FROM p")  # another connection sees it
        await output.close()
        return committed

    assert asyncio.run(go()) == [(1,)]


def test_a_locked_database_is_retryable(tmp_path: Path) -> None:
    output = make_output(tmp_path, {"table": "p"}, busy_timeout=0.05)

    async def go() -> None:
        await output.open(people([1], ["a"]).schema)
        await output.flush()
        blocker = connect(tmp_path / "out" / "db.sqlite", read_only=False, busy_timeout_seconds=1)
        query_rows(blocker, "BEGIN IMMEDIATE")
        try:
            with pytest.raises(RetryableError, match="locked by another connection"):
                await output.write(Batch(people([1], ["a"])))
        finally:
            query_rows(blocker, "ROLLBACK")
            blocker.close()
        await output.write(Batch(people([2], ["b"])))  # the retry succeeds
        await output.close()

    asyncio.run(go())
    assert select(tmp_path, "SELECT id FROM p") == [(2,)]


def test_missing_columns_are_named_when_new_columns_is_error(tmp_path: Path) -> None:
    write_all(make_output(tmp_path, {"table": "p"}), people([1], ["a"]))
    wider = pa.RecordBatch.from_pydict({"id": [2], "name": ["b"], "email": ["x@y"], "age": [3]})
    with pytest.raises(
        TerminalError,
        match=r"Columns \['email', 'age'\] are not in table `p`.*new_columns` is `error`",
    ):
        write_all(make_output(tmp_path, {"table": "p", "new_columns": "error"}), wider)


def test_required_columns_the_records_lack_are_named(tmp_path: Path) -> None:
    select(tmp_path, "CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT, email TEXT NOT NULL)")
    with pytest.raises(TerminalError, match=r"requires values for \['email'\]"):
        write_all(make_output(tmp_path, {"table": "p"}), people([1], ["a"]))


def test_upsert_on_a_table_without_a_matching_unique_key_says_how_to_add_one(
    tmp_path: Path,
) -> None:
    write_all(make_output(tmp_path, {"table": "p"}), people([1], ["a"]))
    with pytest.raises(
        TerminalError, match='CREATE UNIQUE INDEX "p_conflict_key" ON "p" \\("id"\\)'
    ):
        write_all(
            make_output(tmp_path, {"table": "p", "mode": "upsert", "conflict_key": ["id"]}),
            people([1], ["a"]),
        )


def test_create_table_false_and_a_missing_table_is_terminal(tmp_path: Path) -> None:
    write_all(make_output(tmp_path, {"table": "p"}), people([1], ["a"]))
    with pytest.raises(TerminalError, match=r"Table `q` does not exist in .*existing tables: `p`"):
        write_all(make_output(tmp_path, {"table": "q", "create_table": False}), people([1], ["a"]))


def test_pre_and_post_sql_run_around_the_writes(tmp_path: Path) -> None:
    write = {
        "table": "p",
        "pre_sql": ["CREATE TABLE IF NOT EXISTS log (what TEXT)", "INSERT INTO log VALUES ('pre')"],
        "post_sql": ["INSERT INTO log SELECT 'post ' || count(*) FROM p"],
    }
    write_all(make_output(tmp_path, write), people([1, 2], ["a", "b"]))
    assert select(tmp_path, "SELECT what FROM log") == [("pre",), ("post 2",)]


def test_failing_pre_sql_names_the_statement(tmp_path: Path) -> None:
    with pytest.raises(TerminalError, match=r"`output.write.pre_sql\[1\]` failed: near \"NOPE\""):
        write_all(
            make_output(tmp_path, {"table": "p", "pre_sql": ["SELECT 1", "NOPE"]}),
            people([1], ["a"]),
        )


def test_close_commits_and_empty_batches_are_no_ops(tmp_path: Path) -> None:
    output = make_output(tmp_path, {"table": "p"})

    async def go() -> None:
        await output.open(people([1], ["a"]).schema)
        await output.write(Batch(people([], []), checkpoint=Checkpoint("s")))
        await output.write(Batch(people([1], ["a"])))
        await output.close()
        await output.close()

    asyncio.run(go())
    assert select(tmp_path, "SELECT * FROM p") == [(1, "a")]
    assert output.stats().batches_written == 1


def test_check_connection_changes_nothing(tmp_path: Path) -> None:
    asyncio.run(make_output(tmp_path, {"table": "p"}).check_connection())
    assert not (tmp_path / "out").exists()
    with pytest.raises(TerminalError, match="does not exist"):
        asyncio.run(make_output(tmp_path, {"table": "p", "create_table": False}).check_connection())
    write_all(make_output(tmp_path, {"table": "p"}), people([1], ["a"]))
    asyncio.run(make_output(tmp_path, {"table": "p", "create_table": False}).check_connection())
    with pytest.raises(TerminalError, match="Table `q` does not exist"):
        asyncio.run(make_output(tmp_path, {"table": "q", "create_table": False}).check_connection())


@pytest.mark.parametrize(
    "write",
    [
        {"table": "p", "mode": "upsert"},
        {"table": "p", "conflict_key": ["id", "id"]},
        {"table": "p", "mode": "merge"},
        {"table": ""},
        {"table": "p", "batch_size": 0},
    ],
)
def test_invalid_write_sections_fail_validation(write: dict) -> None:
    with pytest.raises(ValidationError):
        SqliteOutputConfig.model_validate({"connection": {"database": "x.db"}, "write": write})


def test_upsert_capability_is_declared() -> None:
    assert SqliteOutput.info.capabilities == {"upsert"}


def test_a_failed_open_runs_no_post_sql_and_open_can_be_retried(tmp_path: Path) -> None:
    write_all(make_output(tmp_path, {"table": "p"}), people([1], ["a"]))
    output = make_output(
        tmp_path, {"table": "p", "post_sql": ["DELETE FROM p"], "new_columns": "error"}
    )
    wider = pa.RecordBatch.from_pydict({"id": [2], "email": ["x@y"]})

    async def go() -> None:
        with pytest.raises(TerminalError, match="email"):
            await output.open(wider.schema)
        await output.close()
        assert select(tmp_path, "SELECT count(*) FROM p") == [(1,)]
        await output.open(people([2], ["b"]).schema)
        await output.open(people([2], ["b"]).schema)  # as the runner does after a retry
        await output.write(Batch(people([2], ["b"])))
        await output.close()

    asyncio.run(go())
    assert select(tmp_path, "SELECT count(*) FROM p") == [(0,)]  # post_sql ran once, at the end
