"""The sqlite input: types from declared columns, splits, keyset paging, resume, bad values."""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from fustgo.engine.batch import Batch, Checkpoint, Split
from fustgo.engine.errors import TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.clients.splitting import key_ranges
from fustgo.plugins.inputs import sqlite as sqlite_input
from fustgo.plugins.inputs.sqlite import SqliteInput, SqliteInputConfig
from tests.databases import make_sqlite

pytestmark = pytest.mark.unit


def make_input(
    base: Path, query: dict[str, Any], size: int | None = None, **config: Any
) -> SqliteInput:
    body = {"connection": {"database": "db.sqlite"}, "query": query, **config}
    if size is not None:
        body["fetch"] = {"size": size}
    return SqliteInput(
        SqliteInputConfig.model_validate(body), PluginContext(base_dir=base, batch_size=1000)
    )


async def collect(
    inp: SqliteInput, split: Split, checkpoint: Checkpoint | None = None
) -> list[Batch]:
    return [batch async for batch in inp.read(split, checkpoint)]


def read_all(inp: SqliteInput, parallelism: int = 1) -> tuple[list[Split], list[Batch]]:
    async def go() -> tuple[list[Split], list[Batch]]:
        await inp.open()
        try:
            splits = await inp.splits(parallelism)
            batches = [batch for split in splits for batch in await collect(inp, split)]
            return splits, batches
        finally:
            await inp.close()

    return asyncio.run(go())


def rows_of(batches: list[Batch]) -> list[dict[str, Any]]:
    return [row for batch in batches for row in batch.data.to_pylist()]


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    make_sqlite(
        tmp_path / "db.sqlite",
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, amount DECIMAL(10,2), "
        "paid BOOLEAN, day DATE, at DATETIME, score REAL, doc JSON, raw BLOB, note VARCHAR(20))",
        rows={
            "orders": [
                (
                    1,
                    "Zoë",
                    12.5,
                    1,
                    "2024-01-31",
                    "2024-01-31 10:00:00",
                    0.5,
                    '{"a": 1}',
                    b"\x00",
                    "x",
                ),
                (2, None, None, None, None, None, None, None, None, None),
                (
                    3,
                    "李",
                    "99.99",
                    0,
                    "2024-02-29",
                    "2024-02-29T23:59:59.5",
                    3,
                    "[1, 2]",
                    b"",
                    "名前",
                ),
            ]
        },
    )
    return tmp_path


def test_declared_types_give_the_schema_and_values(shop: Path) -> None:
    inp = make_input(shop, {"table": "orders"})
    _, batches = read_all(inp)
    schema = batches[0].schema
    assert [str(f.type) for f in schema] == [
        "int64", "string", "decimal128(10, 2)", "bool", "date32[day]", "timestamp[us]",
        "double", "string", "binary", "string",
    ]  # fmt: skip
    assert schema.field("doc").metadata == {b"fustgo.logical_type": b"json"}
    assert rows_of(batches) == [
        {
            "id": 1, "customer": "Zoë", "amount": Decimal("12.50"), "paid": True,
            "day": dt.date(2024, 1, 31), "at": dt.datetime(2024, 1, 31, 10), "score": 0.5,
            "doc": '{"a": 1}', "raw": b"\x00", "note": "x",
        },
        dict.fromkeys(schema.names) | {"id": 2},
        {
            "id": 3, "customer": "李", "amount": Decimal("99.99"), "paid": False,
            "day": dt.date(2024, 2, 29), "at": dt.datetime(2024, 2, 29, 23, 59, 59, 500000),
            "score": 3.0, "doc": "[1, 2]", "raw": b"", "note": "名前",
        },
    ]  # fmt: skip
    assert inp.take_rejected() == []


def test_schema_is_known_before_reading_and_stable_when_a_page_is_all_null(tmp_path: Path) -> None:
    make_sqlite(
        tmp_path / "db.sqlite",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, day DATE, n INTEGER)",
        rows={"t": [(1, None, None, None), (2, None, None, None), (3, "a", "2024-01-01", 7)]},
    )
    inp = make_input(tmp_path, {"table": "t"}, size=2)
    asyncio.run(inp.open())
    expected = pa.schema(
        [("id", pa.int64()), ("name", pa.string()), ("day", pa.date32()), ("n", pa.int64())]
    )
    assert inp.schema() == expected
    asyncio.run(inp.close())
    _, batches = read_all(inp)
    assert [batch.num_rows for batch in batches] == [2, 1]
    assert all(batch.schema == expected for batch in batches)


def test_columns_where_and_unicode_names(tmp_path: Path) -> None:
    make_sqlite(
        tmp_path / "db.sqlite",
        'CREATE TABLE "客户 表" (id INTEGER PRIMARY KEY, "名 字" TEXT, "we""ird" INTEGER)',
        rows={"客户 表": [(1, "a", 10), (2, "b", 20), (3, "c", 30)]},
    )
    query = {"table": "客户 表", "columns": ['we"ird', "名 字"], "where": '"we""ird" >= 20'}
    _, batches = read_all(make_input(tmp_path, query))
    assert rows_of(batches) == [{'we"ird': 20, "名 字": "b"}, {'we"ird': 30, "名 字": "c"}]


def test_an_empty_table_has_one_split_and_no_batches(tmp_path: Path) -> None:
    make_sqlite(tmp_path / "db.sqlite", "CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER)")
    inp = make_input(tmp_path, {"table": "t", "split_key": "k"})
    splits, batches = read_all(inp, parallelism=4)
    assert [split.id for split in splits] == ["all"]
    assert batches == []
    assert inp.progress().records_total == 0


def test_split_key_ranges_are_deterministic_and_null_keys_get_their_own_split(
    tmp_path: Path,
) -> None:
    rows = [(i, None if i % 10 == 0 else i * 3 - 50) for i in range(1, 101)]
    make_sqlite(
        tmp_path / "db.sqlite",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER)",
        "CREATE INDEX t_k ON t (k)",
        rows={"t": rows},
    )
    inp = make_input(tmp_path, {"table": "t", "split_key": "k"}, size=7)
    splits, batches = read_all(inp, parallelism=4)
    again, _ = read_all(make_input(tmp_path, {"table": "t", "split_key": "k"}), parallelism=4)
    assert splits == again
    assert [split.id for split in splits] == [
        "range-0",
        "range-1",
        "range-2",
        "range-3",
        "null-key",
    ]
    assert sum(split.estimated_records or 0 for split in splits) == 100
    assert splits[-1].estimated_records == 10
    assert inp.progress().records_total == 100
    assert sorted(row["id"] for row in rows_of(batches)) == list(range(1, 101))
    last = [b.checkpoint for b in batches if b.checkpoint and b.checkpoint.split_id == "range-0"][
        -1
    ]
    assert last.split_done
    assert last.records == splits[0].estimated_records


def test_a_checkpoint_resumes_right_after_the_last_key(tmp_path: Path) -> None:
    make_sqlite(
        tmp_path / "db.sqlite",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)",
        rows={"t": [(i, f"v{i}") for i in range(1, 11)]},
    )
    inp = make_input(tmp_path, {"table": "t", "split_key": "id"}, size=4)

    async def go() -> tuple[list[Batch], list[Batch]]:
        await inp.open()
        try:
            (split,) = await inp.splits(1)
            first = await collect(inp, split)
            return first, await collect(inp, split, first[0].checkpoint)
        finally:
            await inp.close()

    first, resumed = asyncio.run(go())
    assert first[0].checkpoint == Checkpoint("range-0", {"last_key": 4}, 4, split_done=False)
    assert [b.checkpoint.records for b in resumed if b.checkpoint] == [8, 10]
    assert [row["id"] for row in rows_of(resumed)] == list(range(5, 11))
    assert resumed[-1].checkpoint is not None and resumed[-1].checkpoint.split_done
    done = asyncio.run(_read_after(inp, resumed[-1].checkpoint))
    assert done == []


async def _read_after(inp: SqliteInput, checkpoint: Checkpoint) -> list[Batch]:
    await inp.open()
    try:
        (split,) = await inp.splits(1)
        return await collect(inp, split, checkpoint)
    finally:
        await inp.close()


def test_duplicate_keys_across_page_boundaries_are_neither_lost_nor_repeated(
    tmp_path: Path,
) -> None:
    rows = [(i, 5 if i < 8 else 6) for i in range(1, 11)]
    make_sqlite(
        tmp_path / "db.sqlite",
        "CREATE TABLE t (id INTEGER, k INTEGER)",
        "CREATE INDEX t_k ON t (k)",
        rows={"t": rows},
    )
    inp = make_input(tmp_path, {"table": "t", "split_key": "k"}, size=3)
    _, batches = read_all(inp, parallelism=2)
    assert sorted(row["id"] for row in rows_of(batches)) == list(range(1, 11))
    positions = [b.checkpoint.position for b in batches if b.checkpoint]
    assert positions[0] == {"last_key": 5, "last_rowid": 3}


def test_rowid_and_without_rowid_tables_can_be_split(tmp_path: Path) -> None:
    make_sqlite(
        tmp_path / "db.sqlite",
        "CREATE TABLE r (name TEXT)",
        "CREATE TABLE w (a TEXT, b INTEGER, k INTEGER, PRIMARY KEY (a, b)) WITHOUT ROWID",
        rows={
            "r": [(f"n{i}",) for i in range(7)],
            "w": [(f"a{i % 3}", i, i % 2 if i != 4 else None) for i in range(9)],
        },
    )
    _, batches = read_all(make_input(tmp_path, {"table": "r", "split_key": "rowid"}, size=2), 3)
    assert sorted(row["name"] for row in rows_of(batches)) == [f"n{i}" for i in range(7)]
    _, batches = read_all(make_input(tmp_path, {"table": "w", "split_key": "b"}, size=2), 2)
    assert sorted(row["b"] for row in rows_of(batches)) == list(range(9))
    _, batches = read_all(make_input(tmp_path, {"table": "w"}, size=2))
    assert sorted(row["b"] for row in rows_of(batches)) == list(range(9))
    assert batches[0].checkpoint is not None
    assert batches[0].checkpoint.position == {"last_pk.a": "a0", "last_pk.b": 3}


def test_an_unindexed_split_key_bounds_splits_and_the_rowid_orders_pages(tmp_path: Path) -> None:
    make_sqlite(
        tmp_path / "db.sqlite",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER)",
        rows={"t": [(i, (i * 7) % 5) for i in range(1, 21)]},
    )
    _, batches = read_all(make_input(tmp_path, {"table": "t", "split_key": "k"}, size=3), 2)
    assert sorted(row["id"] for row in rows_of(batches)) == list(range(1, 21))
    assert batches[0].checkpoint is not None
    assert set(batches[0].checkpoint.position) == {"last_rowid"}


def test_sql_queries_take_declared_types_and_probe_expressions(tmp_path: Path) -> None:
    make_sqlite(
        tmp_path / "db.sqlite",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, day DATE, price DECIMAL(8,2))",
        rows={"t": [(i, f"2024-01-{i:02d}", i * 1.5) for i in range(1, 6)]},
    )
    sql = (
        "SELECT id, day, price, id * 2 AS twice, price / 3 AS third, NULL AS empty, "
        "CAST(id AS TEXT) AS label FROM t ORDER BY id"
    )
    inp = make_input(tmp_path, {"sql": sql}, size=2)
    splits, batches = read_all(inp, parallelism=4)
    assert [split.id for split in splits] == ["all"]
    schema = batches[0].schema
    assert [str(f.type) for f in schema] == [
        "int64", "date32[day]", "decimal128(8, 2)", "int64", "double", "string", "string",
    ]  # fmt: skip
    assert [row["twice"] for row in rows_of(batches)] == [2, 4, 6, 8, 10]
    assert rows_of(batches)[2]["price"] == Decimal("4.50")
    assert [b.checkpoint.position for b in batches if b.checkpoint] == [
        {"offset": 2},
        {"offset": 4},
        {"offset": 5},
    ]


def test_values_that_do_not_fit_their_column_go_to_the_dead_letter(tmp_path: Path) -> None:
    make_sqlite(
        tmp_path / "db.sqlite",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, day DATE, ok BOOLEAN, f REAL)",
        rows={
            "t": [
                (1, 1, "2024-01-01", 1, 1.5),
                (2, "abc", "2024-01-02", 0, 2.0),
                (3, 3, "2024-02-30", 1, 3.5),
                (4, 4, "2024-01-04", 7, 4.5),
                (5, 2.5, "2024-01-05", 1, "many"),
                (6, 6, 20240106, 0, None),
                (7, b"\x01", None, None, None),
            ]
        },
    )
    inp = make_input(tmp_path, {"table": "t"}, size=10)
    _, batches = read_all(inp)
    assert [row["id"] for row in rows_of(batches)] == [1]
    assert batches[-1].checkpoint is not None and batches[-1].checkpoint.records == 7
    (rejected,) = inp.take_rejected()
    assert rejected.records.column("id").to_pylist() == [2, 3, 4, 5, 6, 7]
    assert rejected.records.column("n").to_pylist() == ["1", "abc", "3", "4", "2.5", "6", None][1:]
    assert isinstance(rejected.error, pa.Array)
    assert rejected.error.to_pylist() == [
        "Column `n` (INTEGER) holds `abc`, which is not a valid int64",
        "Column `day` (DATE) holds `2024-02-30`, which is not a valid date",
        "Column `ok` (BOOLEAN) holds `7`, which is not a valid bool",
        "Column `n` (INTEGER) holds `2.5`, which is not a valid int64; "
        "Column `f` (REAL) holds `many`, which is not a valid float64",
        "Column `day` (DATE) holds `20240106`, which is not a valid date",
        "Column `n` (INTEGER) holds a BLOB, which is not a valid int64",
    ]


def test_the_text_path_reads_every_type_as_the_fast_path_does(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When ADBC cannot type a page, every column is read as text and parsed: same result."""
    _, fast = read_all(make_input(shop, {"table": "orders"}))
    fetch = SqliteInput._fetch

    def untyped_first(
        self: SqliteInput, connection: Any, split: Split, position: dict, robust: frozenset
    ) -> pa.Table:
        if not robust:
            raise sqlite_input._UntypedPageError
        return fetch(self, connection, split, position, robust)

    monkeypatch.setattr(SqliteInput, "_fetch", untyped_first)
    _, robust = read_all(make_input(shop, {"table": "orders"}))
    assert robust[0].data.equals(fast[0].data)


def test_reals_mixed_with_text_keep_every_digit(tmp_path: Path) -> None:
    make_sqlite(
        tmp_path / "db.sqlite",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, price DECIMAL(12,2), f REAL, s)",
        rows={"t": [(1, 1234567.89, 0.1, 1234567.891), (2, "n/a", "x", "text"), (3, 7, 2, 3)]},
    )
    inp = make_input(tmp_path, {"table": "t"})
    _, batches = read_all(inp)
    assert rows_of(batches) == [
        {"id": 1, "price": Decimal("1234567.89"), "f": 0.1, "s": "1234567.891"},
        {"id": 3, "price": Decimal("7.00"), "f": 2.0, "s": "3"},
    ]
    (rejected,) = inp.take_rejected()
    assert rejected.records.column("id").to_pylist() == [2]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"table": "nope"}, "Table `nope` does not exist in .*existing tables: `t`"),
        (
            {"table": "t", "columns": ["id", "nope"]},
            r"Columns \['nope'\] .* its columns are: id, v, b",
        ),
        ({"table": "t", "where": "v >"}, "does not run in SQLite.*syntax error"),
        ({"table": "t", "where": "nope = 1"}, "no such column: nope"),
        ({"table": "t", "split_key": "b"}, "split_key` `b` is `BLOB`.*split by an integer"),
        ({"table": "t", "split_key": "nope"}, "not a column of `t`"),
        ({"sql": "SELECT * FROM missing"}, "`input.query.sql` does not run"),
        ({"sql": "SELECT id, id FROM t"}, "several columns named"),
    ],
)
def test_configuration_errors_name_what_is_wrong(tmp_path: Path, query: dict, message: str) -> None:
    make_sqlite(tmp_path / "db.sqlite", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, b BLOB)")
    with pytest.raises(TerminalError, match=message):
        asyncio.run(make_input(tmp_path, query).check_connection())


def test_a_missing_database_file_is_a_terminal_error(tmp_path: Path) -> None:
    with pytest.raises(
        TerminalError, match=r"db\.sqlite` does not exist; check `input\.connection"
    ):
        asyncio.run(make_input(tmp_path, {"table": "t"}).open())
    assert not (tmp_path / "db.sqlite").exists()


def test_check_connection_passes_for_a_readable_table(shop: Path) -> None:
    asyncio.run(make_input(shop, {"table": "orders", "split_key": "id"}).check_connection())


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"table": "t", "sql": "SELECT 1"},
        {"sql": "SELECT 1", "where": "x > 1"},
        {"sql": "SELECT 1", "split_key": "id"},
        {"table": "t", "columns": []},
    ],
)
def test_invalid_queries_fail_validation(query: dict) -> None:
    with pytest.raises(ValidationError):
        SqliteInputConfig.model_validate({"connection": {"database": "x.db"}, "query": query})


def test_fetch_size_defaults_to_the_run_batch_size(tmp_path: Path) -> None:
    make_sqlite(
        tmp_path / "db.sqlite",
        "CREATE TABLE t (id INTEGER PRIMARY KEY)",
        rows={"t": [(i,) for i in range(5)]},
    )
    config = SqliteInputConfig.model_validate(
        {"connection": {"database": "db.sqlite"}, "query": {"table": "t"}}
    )
    inp = SqliteInput(config, PluginContext(base_dir=tmp_path, batch_size=2))
    _, batches = read_all(inp)
    assert [batch.num_rows for batch in batches] == [2, 2, 1]
    assert inp.info.capabilities == {"split", "resume"}


@pytest.mark.parametrize(
    ("low", "high", "parts", "expected"),
    [
        (1, 10, 3, [(None, 4, False), (4, 7, False), (7, 10, True)]),
        (5, 5, 4, [(None, 5, True)]),
        (
            -2.5,
            1.5,
            8,
            [(None, -2, False), (-2, -1, False), (-1, 0, False), (0, 1, False), (1, 1.5, True)],
        ),
        (float("-inf"), 3, 2, [(None, 3, True)]),
    ],
)
def test_key_ranges_cut_contiguous_pieces(
    low: float, high: float, parts: int, expected: list
) -> None:
    ranges = key_ranges(low, high, parts)
    assert [(r["lo"], r["hi"], r["last"]) for r in ranges] == expected


def test_cuts_beyond_64_bit_integers_are_bound_as_reals() -> None:
    first, last = key_ranges(-1e30, 2**63 - 1, 2)
    assert isinstance(first["hi"], float) and -1e30 < first["hi"] < 0
    assert (last["lo"], last["hi"], last["last"]) == (first["hi"], 2**63 - 1, True)


KEYS = st.one_of(
    st.none(),
    st.integers(-3, 3),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=2),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    keys=st.lists(KEYS, max_size=30),
    parallelism=st.integers(1, 16),
    page=st.integers(1, 6),
    indexed=st.booleans(),
    without_rowid=st.booleans(),
    where=st.sampled_from([None, "id % 3 <> 1"]),
)
def test_splits_cover_every_row_exactly_once(  # noqa: PLR0917  (one argument per strategy)
    keys: list, parallelism: int, page: int, indexed: bool, without_rowid: bool, where: str | None
) -> None:
    """Any keys (NULL, duplicate, negative, huge, real, text), any parallelism: each row once,
    also when every split is interrupted after its first batch and resumed from there."""
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        make_sqlite(
            base / "db.sqlite",
            "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, k INTEGER)"
            + (" WITHOUT ROWID" if without_rowid else ""),
            *(["CREATE INDEX t_k ON t (k)"] if indexed else []),
            rows={"t": list(enumerate(keys))},
        )
        query = {"table": "t", "columns": ["id"], "split_key": "k", "where": where}
        inp = make_input(base, query, size=page)

        async def go() -> tuple[list[Split], list[Split], list[int]]:
            await inp.open()
            try:
                splits = await inp.splits(parallelism)
                ids: list[int] = []
                for split in splits:
                    first = await collect(inp, split)
                    if first:
                        ids.extend(first[0].data.column("id").to_pylist())
                        assert first[0].checkpoint is not None
                        rest = await collect(inp, split, first[0].checkpoint)
                        ids.extend(i for batch in rest for i in batch.data.column("id").to_pylist())
                return splits, await inp.splits(parallelism), ids
            finally:
                await inp.close()

        splits, again, ids = asyncio.run(go())
        expected = [i for i in range(len(keys)) if where is None or i % 3 != 1]
        assert Counter(ids) == Counter(expected)
        assert splits == again
        assert inp.progress().records_total == len(expected)
        assert len({split.id for split in splits}) == len(splits)
