"""Enrichment from a SQLite database: table or query, declared types, composite keys, errors."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from fustgo.engine.errors import RetryableError, TerminalError
from tests.plugins.processors.enrichment.building import batch_of, make, only, rows

pytestmark = pytest.mark.unit


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, since DATE, "
            "credit DECIMAL_TEXT(10,2), vip BOOLEAN)"
        )
        db.executemany(
            "INSERT INTO customers VALUES (?, ?, ?, ?, ?)",
            [
                (1, "Ada", "2020-01-31", "10.50", 1),
                (2, "Zoë ✓", None, None, 0),
                (3, "Bob", "2021-12-01", "-3.00", None),
            ],
        )
        db.execute("CREATE TABLE stock (store INTEGER, sku TEXT, qty INTEGER)")
        db.executemany(
            "INSERT INTO stock VALUES (?, ?, ?)", [(1, "a", 5), (1, "b", 0), (2, "a", 7)]
        )
    return path


def lookup(database: Path, **options: Any) -> dict[str, Any]:
    return {"type": "sql", "driver": "sqlite", "connection": {"database": str(database)}, **options}


def test_table_lookup_with_declared_column_types(database: Path) -> None:
    processor = make(
        {"key": "customer_id", "lookup": lookup(database, table="customers", key="id")}
    )
    out = only(processor.process(batch_of({"customer_id": [3, 1, 4, None, 2]})))
    assert out.schema.names == ["customer_id", "name", "since", "credit", "vip"]
    assert out.schema.field("since").type == pa.date32()
    assert out.schema.field("credit").type == pa.decimal128(10, 2)
    assert out.schema.field("vip").type == pa.bool_()
    assert out.data.to_pylist() == [
        {
            "customer_id": 3,
            "name": "Bob",
            "since": dt.date(2021, 12, 1),
            "credit": Decimal("-3.00"),
            "vip": None,
        },
        {
            "customer_id": 1,
            "name": "Ada",
            "since": dt.date(2020, 1, 31),
            "credit": Decimal("10.50"),
            "vip": True,
        },
        {"customer_id": 4, "name": None, "since": None, "credit": None, "vip": None},
        {"customer_id": None, "name": None, "since": None, "credit": None, "vip": None},
        {"customer_id": 2, "name": "Zoë ✓", "since": None, "credit": None, "vip": False},
    ]


def test_query_lookup_with_composite_key_and_computed_column(database: Path) -> None:
    processor = make(
        {
            "key": ["store", "sku"],
            "lookup": lookup(
                database, query="SELECT store, sku, qty, qty * 2 AS doubled FROM stock;"
            ),
            "types": {"doubled": "int64"},
        }
    )
    assert rows(processor, {"store": [2, 1, 1], "sku": ["a", "b", "z"]}) == [
        {"store": 2, "sku": "a", "qty": 7, "doubled": 14},
        {"store": 1, "sku": "b", "qty": 0, "doubled": 0},
        {"store": 1, "sku": "z", "qty": None, "doubled": None},
    ]


def test_unicode_text_keys_and_no_match_at_all(database: Path) -> None:
    processor = make(
        {"key": "who", "lookup": lookup(database, table="customers", key="name"), "fields": ["id"]}
    )
    assert rows(processor, {"who": ["Zoë ✓", "nobody"]}) == [
        {"who": "Zoë ✓", "id": 2},
        {"who": "nobody", "id": None},
    ]
    assert rows(processor, {"who": ["nobody else"]}) == [{"who": "nobody else", "id": None}]


def test_many_keys_in_one_batch(database: Path) -> None:
    processor = make(
        {"key": "id", "lookup": lookup(database, table="customers"), "fields": ["name"]}
    )
    out = only(processor.process(batch_of({"id": list(range(50_000))})))
    names = out.data.column("name").to_pylist()
    assert names[:4] == [None, "Ada", "Zoë ✓", "Bob"]
    assert names.count(None) == 50_000 - 3


def test_text_key_against_integer_column_is_a_clear_error(database: Path) -> None:
    processor = make({"key": "id", "lookup": lookup(database, table="customers")})
    with pytest.raises(TerminalError, match="Key field `id` is String in the records but `id` is"):
        processor.process(batch_of({"id": ["1"]}))


def test_missing_table_lists_the_tables(database: Path) -> None:
    processor = make({"key": "id", "lookup": lookup(database, table="clients")})
    with pytest.raises(
        TerminalError, match=r"Table `clients` does not exist .* `customers`, `stock`"
    ):
        processor.process(batch_of({"id": [1]}))


def test_missing_column_and_missing_database(database: Path, tmp_path: Path) -> None:
    processor = make(
        {"key": "id", "lookup": lookup(database, table="customers"), "fields": ["email"]}
    )
    with pytest.raises(TerminalError, match=r"has no column `email`; its columns are `id`, `name`"):
        processor.process(batch_of({"id": [1]}))
    processor = make({"key": "id", "lookup": lookup(tmp_path / "none.db", table="customers")})
    with pytest.raises(TerminalError, match=r"SQLite database `.*none\.db` does not exist"):
        asyncio.run(processor.check_connection())


def test_duplicate_keys_in_the_table_are_an_error(database: Path) -> None:
    processor = make({"key": "store", "lookup": lookup(database, table="stock")})
    with pytest.raises(TerminalError, match=r"2 rows sharing a key \(store = 1\)"):
        processor.process(batch_of({"store": [1]}))


@contextmanager
def locked(database: Path) -> Iterator[None]:
    """Another process holds an exclusive lock (POSIX locks do not block within a process)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == "locked"
    try:
        yield
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


LOCK_HOLDER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
db.execute("ROLLBACK")
"""


def test_locked_database_is_retried_then_gives_up(database: Path) -> None:
    processor = make(
        {
            "key": "id",
            "lookup": lookup(
                database,
                table="customers",
                connection={"database": str(database), "busy_timeout": 0},
            ),
            "retry": {"max_retries": 2, "initial_delay": "1s"},
        }
    )
    assert rows(processor, {"id": [1]})[0]["name"] == "Ada"
    with locked(database), pytest.raises(TerminalError) as caught:
        processor.process(batch_of({"id": [2]}))
    assert re.match(
        r"Gave up querying the SQLite lookup .* after 3 attempts: .*locked", str(caught.value)
    )
    assert isinstance(caught.value.__cause__, RetryableError)
    assert processor.sleep.delays == [1.0, 2.0]  # type: ignore[attr-defined]
    assert rows(processor, {"id": [2]})[0]["name"] == "Zoë ✓"


def test_check_connection_and_reopening_after_finish(database: Path) -> None:
    processor = make({"key": "id", "lookup": lookup(database, table="customers")})
    asyncio.run(processor.check_connection())
    assert rows(processor, {"id": [1]})[0]["name"] == "Ada"
    assert processor.finish() == []
    assert rows(processor, {"id": [3]})[0]["name"] == "Bob"


def test_batches_from_several_threads_share_one_connection_and_cache(database: Path) -> None:
    processor = make(
        {"key": "id", "lookup": lookup(database, table="customers"), "fields": ["name"]}
    )
    names = {1: "Ada", 2: "Zoë ✓", 3: "Bob"}
    batches = [{"id": [1 + i % 3, 1 + (i + 1) % 3, 10 + i]} for i in range(32)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda columns: rows(processor, columns), batches))
    for columns, got in zip(batches, results, strict=True):
        assert [row["name"] for row in got] == [names.get(key) for key in columns["id"]]
    stats = processor.cache_stats()
    assert stats.hits + stats.misses == 3 * 32
    assert stats.entries == 3 + 32
