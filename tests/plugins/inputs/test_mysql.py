"""The mysql input against the real MariaDB: types, splits, resume, errors, a CLI pipeline."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import MySQLdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fustgo.engine.batch import Batch, Checkpoint, Split
from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.inputs.mysql import MysqlInput, MysqlInputConfig
from tests.cli_runner import run_fustgo
from tests.databases import my, my_database, pg, pg_schema
from tests.plugins.inputs.reading import read_all, rows

pytestmark = pytest.mark.integration


@pytest.fixture
def database() -> Iterator[str]:
    with my_database("in") as name:
        yield name


def make(database: str, query: dict[str, Any], size: int | None = None, **conn: Any) -> MysqlInput:
    config = MysqlInputConfig.model_validate(
        {
            "connection": {"host": "127.0.0.1", "database": database, "user": "root", **conn},
            "query": query,
            "fetch": {"size": size},
        }
    )
    return MysqlInput(config, PluginContext(component_path="input"))


def test_every_mapped_type_arrives_with_its_logical_type(database: str) -> None:
    my(
        f"CREATE TABLE `{database}`.t (id int PRIMARY KEY, ok tinyint(1), i1 tinyint, "
        "u1 tinyint unsigned, i2 smallint, i3 mediumint, i4 int, u4 int unsigned, i8 bigint, "
        "u8 bigint unsigned, f4 float, f8 double, n decimal(38,10), wide decimal(65,30), "
        "txt varchar(20), body text, e enum('a','b'), st set('x','y'), b varbinary(4), "
        "bl blob, d date, tm time(6), ts datetime(6), tz timestamp(6) NULL, y year, "
        "bits bit(5), j json)"
    )
    my(
        f"INSERT INTO `{database}`.t VALUES (1, 1, -128, 255, -32768, -8388608, 2147483647, "
        "4294967295, -9223372036854775808, 18446744073709551615, 1.5, -2.25, "
        "1234567890123456789012345678.0123456789, "
        "12345678901234567890123456789012345.123456789012345678901234567891, "
        "'héllo 😀', '中文 text', 'b', 'x,y', x'00ff', x'0a0d', '2024-02-29', '23:59:59.999999', "
        "'2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.5', 2024, b'10101', "
        '\'{"a": [1, 2], "e": "😀"}\')'
    )
    my(f"INSERT INTO `{database}`.t (id) VALUES (2)")
    plugin = make(database, {"table": "t"})
    _, batches = read_all(plugin)
    schema = plugin.schema()
    assert schema is not None
    types = {field.name: field.type for field in schema}
    assert types["ok"] == pa.bool_() and types["u8"] == pa.uint64() and types["i3"] == pa.int32()
    assert types["n"] == pa.decimal128(38, 10) and types["wide"] == pa.decimal256(65, 30)
    assert types["tz"] == pa.timestamp("us", tz="UTC") and types["ts"] == pa.timestamp("us")
    assert schema.field("j").metadata == {b"fustgo.logical_type": b"json"}
    first, second = rows(batches["all"])
    assert first == {
        "id": 1, "ok": True, "i1": -128, "u1": 255, "i2": -32768, "i3": -8388608,
        "i4": 2147483647, "u4": 4294967295, "i8": -9223372036854775808,
        "u8": 18446744073709551615, "f4": 1.5, "f8": -2.25,
        "n": Decimal("1234567890123456789012345678.0123456789"),
        "wide": Decimal("12345678901234567890123456789012345.123456789012345678901234567891"),
        "txt": "héllo 😀", "body": "中文 text", "e": "b", "st": "x,y", "b": b"\x00\xff",
        "bl": b"\n\r", "d": dt.date(2024, 2, 29), "tm": dt.time(23, 59, 59, 999999),
        "ts": dt.datetime(2024, 1, 2, 3, 4, 5, 123456),
        "tz": dt.datetime(2024, 1, 2, 3, 4, 5, 500000, tzinfo=dt.UTC), "y": 2024, "bits": 21,
        "j": '{"a": [1, 2], "e": "😀"}',
    }  # fmt: skip
    assert all(value is None for key, value in second.items() if key != "id")


def test_time_outside_a_day_goes_to_the_dead_letter(database: str) -> None:
    my(f"CREATE TABLE `{database}`.t (id int PRIMARY KEY, span time)")
    my(f"INSERT INTO `{database}`.t VALUES (1, '01:00:00'), (2, '-12:00:00'), (3, NULL)")
    plugin = make(database, {"table": "t"})
    _, batches = read_all(plugin)
    assert rows(batches["all"]) == [{"id": 1, "span": dt.time(1)}, {"id": 3, "span": None}]
    (rejected,) = plugin.take_rejected()
    assert rejected.records.to_pylist() == [{"id": 2, "span": None}]
    assert "holds `-12:00:00`" in rejected.error[0].as_py()  # type: ignore[index]


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    keys=st.lists(st.one_of(st.none(), st.integers(-(2**40), 2**40)), max_size=40),
    parallelism=st.integers(1, 5),
    size=st.integers(1, 7),
    unique=st.booleans(),
)
def test_splits_cover_the_table_exactly_once(
    database: str, keys: list[int | None], parallelism: int, size: int, unique: bool
) -> None:
    table = f"t_{uuid.uuid4().hex[:8]}"
    index = ", UNIQUE KEY (k)" if unique else ""
    my(f"CREATE TABLE `{database}`.{table} (n int AUTO_INCREMENT PRIMARY KEY, k bigint{index})")
    if unique:
        keys = [*dict.fromkeys(keys), None, None]
    my(f"INSERT INTO `{database}`.{table} (k) VALUES (%s)", [(k,) for k in keys], many=True)
    splits, batches = read_all(
        make(database, {"table": table, "split_key": "k"}, size), parallelism
    )
    assert len(splits) <= parallelism + 1
    read = sorted(row["n"] for split in batches.values() for row in rows(split))
    assert read == list(range(1, len(keys) + 1))
    for split in splits:
        done = [b.checkpoint for b in batches[split.id] if b.checkpoint and b.checkpoint.split_done]
        assert len(done) == (1 if batches[split.id] else 0)


@pytest.mark.parametrize("primary_key", [True, False])
def test_resume_continues_after_the_checkpoint(database: str, primary_key: bool) -> None:
    key = "n int PRIMARY KEY" if primary_key else "n int"
    my(f"CREATE TABLE `{database}`.t ({key}, k int, v varchar(10))")
    my(
        f"INSERT INTO `{database}`.t VALUES (%s, %s, %s)",
        [(n, n % 4, f"row {n}") for n in range(1, 24)],
        many=True,
    )
    plugin = make(database, {"table": "t", "split_key": "k"}, size=3)

    async def run() -> tuple[list[dict[str, Any]], list[dict[str, Any]], Checkpoint]:
        await plugin.open()
        try:
            (split, *_) = await plugin.splits(1)
            first = [b async for b in plugin.read(split, None)]
            assert first[2].checkpoint is not None
            resumed = [b async for b in plugin.read(split, first[2].checkpoint)]
            return rows(first), rows(first[:3] + resumed), first[2].checkpoint
        finally:
            await plugin.close()

    everything, stitched, checkpoint = asyncio.run(run())
    assert len(everything) == 23
    assert stitched == everything
    if primary_key:  # keyset: the split key, then the primary key
        assert checkpoint.position == {"last": [1, 13]}
    else:  # repeated keys and no primary key: OFFSET
        assert checkpoint.position == {"offset": 9}
    done = Checkpoint("range-0", {}, 23, split_done=True)

    async def finished() -> list[Batch]:
        await plugin.open()
        try:
            return [b async for b in plugin.read(Split("range-0"), done)]
        finally:
            await plugin.close()

    assert asyncio.run(finished()) == []


def test_string_primary_key_pages_and_resumes(database: str) -> None:
    my(f"CREATE TABLE `{database}`.t (code varchar(10) PRIMARY KEY, v int)")
    codes = ["a", "B", "c'x", "d\\e", "É", "😀"]
    my(
        f"INSERT INTO `{database}`.t VALUES (%s, %s)",
        [(c, i) for i, c in enumerate(codes)],
        many=True,
    )
    _, batches = read_all(make(database, {"table": "t"}, size=2))
    assert sorted(r["v"] for r in rows(batches["all"])) == list(range(len(codes)))
    assert len(batches["all"]) == 3


def test_sql_query_is_one_split_resumed_by_offset(database: str) -> None:
    my(f"CREATE TABLE `{database}`.t (k int)")
    my(f"INSERT INTO `{database}`.t VALUES (%s)", [(k,) for k in range(1, 11)], many=True)
    plugin = make(database, {"sql": "SELECT k, k * 2 AS twice, 'é' AS c FROM t ORDER BY k"}, 4)
    splits, batches = read_all(plugin, parallelism=4)
    assert [s.id for s in splits] == ["all"]
    assert [r["twice"] for r in rows(batches["all"])] == list(range(2, 21, 2))
    assert [b.checkpoint.position for b in batches["all"]] == [  # type: ignore[union-attr]
        {"offset": 4},
        {"offset": 8},
        {"offset": 10},
    ]
    assert batches["all"][-1].checkpoint.split_done  # type: ignore[union-attr]
    assert rows(batches["all"])[0]["c"] == "é"


def test_progress_and_empty_table(database: str) -> None:
    my(f"CREATE TABLE `{database}`.t (k int NOT NULL PRIMARY KEY, v text)")
    splits, batches = read_all(make(database, {"table": "t", "split_key": "k"}), 4)
    assert [s.id for s in splits] == ["all"] and batches == {"all": []}
    my(f"INSERT INTO `{database}`.t (k) VALUES (%s)", [(k,) for k in range(500)], many=True)
    my(f"ANALYZE TABLE `{database}`.t")
    plugin = make(database, {"table": "t", "split_key": "k"})
    splits, _ = read_all(plugin, 3)
    assert len(splits) == 3
    assert plugin.progress().records_total == 500


def test_missing_table_column_and_bad_split_key_are_terminal(database: str) -> None:
    my(f"CREATE TABLE `{database}`.t (k int, name text, price double)")
    with pytest.raises(TerminalError, match=r"nothing.*does not exist"):
        read_all(make(database, {"table": "nothing"}))
    with pytest.raises(TerminalError, match=r"\['nope'\].*k, name, price"):
        read_all(make(database, {"table": "t", "columns": ["k", "nope"]}))
    with pytest.raises(TerminalError, match=r"split_key` `price` is `double`.*split by an integer"):
        read_all(make(database, {"table": "t", "split_key": "price"}))
    with pytest.raises(TerminalError, match=r"does not run"):
        read_all(make(database, {"table": "t", "where": "no_such_column > 1"}))
    with pytest.raises(TerminalError, match=r"does not run.*Duplicate column name"):
        read_all(make(database, {"sql": "SELECT k, k FROM t"}))


def test_unreachable_server_is_retryable() -> None:
    plugin = make("test", {"table": "t"}, port=1)
    with pytest.raises(RetryableError, match=r"127\.0\.0\.1:1"):
        asyncio.run(plugin.check_connection())


def test_mysql_to_postgresql_with_filter_and_mapping_through_the_cli(
    database: str, tmp_path: Path
) -> None:
    my(
        f"CREATE TABLE `{database}`.orders (id bigint PRIMARY KEY, user_id int, "
        "amount decimal(12,2), status enum('paid','new'), note varchar(20), created_at datetime)"
    )
    my(
        f"INSERT INTO `{database}`.orders VALUES (%s, %s, %s, %s, %s, %s)",
        [
            (1, 10, "12.50", "paid", "Zoë 😀", "2024-01-02 03:04:05"),
            (2, 11, "3.00", "new", None, "2024-01-03 00:00:00"),
            (3, 12, "7.25", "paid", None, None),
        ],
        many=True,
    )
    example = Path(__file__).resolve().parents[3] / "examples" / "mysql-to-postgresql.yaml"
    (tmp_path / "p.yaml").write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    with pg_schema("my") as target:
        env = {"MYSQL_DATABASE": database, "PG_TABLE": f"{target}.orders"}
        result = run_fustgo("run", "p.yaml", cwd=tmp_path, env=env, timeout=120)
        assert result.exit_code == 0, result.stderr
        found = pg(
            f'SELECT order_id, customer_id, amount, note, created_at FROM "{target}".orders '
            "ORDER BY order_id"
        )
    assert found == [
        (1, 10, Decimal("12.50"), "Zoë 😀", dt.datetime(2024, 1, 2, 3, 4, 5)),
        (3, 12, Decimal("7.25"), None, None),
    ]


def test_connectorx_pages_keep_bad_temporal_values_for_the_dead_letter(database: str) -> None:
    """connectorx cannot convert zero dates or times beyond a day: the page is read again
    with dates as text and the bad rows go to the dead letter, as over mysqlclient."""
    my(
        f"CREATE TABLE `{database}`.t (id int PRIMARY KEY, d date, dt datetime(6), "
        "ts timestamp(6) NULL, span time, vb varchar(10) COLLATE utf8mb4_bin, "
        "lt longtext COLLATE utf8mb4_bin, l1 text CHARACTER SET latin1)"
    )
    connection = MySQLdb.connect(host="127.0.0.1", user="root", charset="utf8mb4")
    try:
        cursor = connection.cursor()
        cursor.execute("SET SESSION sql_mode = ''")  # lets zero dates in, as old servers did
        cursor.execute(
            f"INSERT INTO `{database}`.t VALUES (1, '2024-02-29', '2024-01-02 03:04:05.5', "
            "'2024-01-02 03:04:05.25', '-01:00:00', 'Zoë', 'x😀', 'café'), "
            "(2, '0000-00-00', NULL, NULL, NULL, NULL, NULL, NULL), "
            "(3, '2024-03-01', '2024-03-01 00:00:00', NULL, '12:00:00', NULL, NULL, NULL)"
        )
        connection.commit()
    finally:
        connection.close()
    plugin = make(database, {"table": "t"}, size=2)
    _, batches = read_all(plugin)
    assert plugin._arrow is not None and plugin._temporal_text  # read by connectorx, as text
    assert rows(batches["all"]) == [
        {"id": 3, "d": dt.date(2024, 3, 1), "dt": dt.datetime(2024, 3, 1), "ts": None,
         "span": dt.time(12), "vb": None, "lt": None, "l1": None},
    ]  # fmt: skip
    rejected = plugin.take_rejected()
    bad = [row for item in rejected for row in item.records.to_pylist()]
    assert sorted(row["id"] for row in bad) == [1, 2]
    first = next(row for row in bad if row["id"] == 1)
    assert first["ts"] == dt.datetime(2024, 1, 2, 3, 4, 5, 250000, tzinfo=dt.UTC)
    assert (first["vb"], first["lt"], first["l1"]) == ("Zoë", "x😀", "café")
    messages = " ".join(str(m) for item in rejected for m in item.error.to_pylist())
    assert "holds `-01:00:00`" in messages and "holds `0000-00-00`" in messages


def test_connectorx_sessions_are_utc_strict_and_read_only(database: str) -> None:
    """The `where` is true only in a session set up as FustGo's: rows arrive, so the
    connectorx session ran the settings (its own default would be the server's)."""
    my(f"CREATE TABLE `{database}`.t (id int PRIMARY KEY)")
    my(f"INSERT INTO `{database}`.t VALUES (%s)", [(n,) for n in range(1, 6)], many=True)
    where = (
        "@@session.time_zone = '+00:00' AND @@session.sql_mode LIKE '%STRICT_ALL_TABLES%' "
        "AND @@session.tx_read_only = 1"
    )
    plugin = make(database, {"table": "t", "where": where}, size=2)
    reads: list[str] = []
    arrow_read = type_of_arrow_source().read

    def spy(self: Any, query: str, limit: int) -> pa.RecordBatch:
        reads.append(query)
        return arrow_read(self, query, limit)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type_of_arrow_source(), "read", spy)
        _, batches = read_all(plugin)
    assert [r["id"] for r in rows(batches["all"])] == [1, 2, 3, 4, 5]
    assert len(reads) == 3 and all(
        q.startswith("SELECT /* fustgo pipeline input */") for q in reads
    )


def test_a_connectorx_that_cannot_connect_hands_over_to_mysqlclient(database: str) -> None:
    """An auth plugin, socket or TLS connectorx cannot use shows up as a failed connect on
    the first page: mysqlclient reads the run from there, every row once."""
    from fustgo.plugins.inputs.mysql.arrow import ConnectFailed

    my(f"CREATE TABLE `{database}`.t (id int PRIMARY KEY, v varchar(5))")
    my(f"INSERT INTO `{database}`.t VALUES (%s, 'x')", [(n,) for n in range(1, 8)], many=True)
    plugin = make(database, {"table": "t", "split_key": "id"}, size=3)

    def refuse(self: Any, query: str, limit: int) -> pa.RecordBatch:
        raise ConnectFailed("timed out waiting for connection: UnknownAuthPlugin")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type_of_arrow_source(), "read", refuse)
        _, batches = read_all(plugin, parallelism=2)
    assert plugin._arrow is None
    assert sorted(r["id"] for split in batches.values() for r in rows(split)) == list(range(1, 8))


def type_of_arrow_source() -> Any:
    from fustgo.plugins.inputs.mysql.arrow import ArrowSource

    return ArrowSource
