"""Enrichment from a real PostgreSQL (127.0.0.1:5432, user postgres, database test)."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.plugins.processors.enrichment import EnrichmentConfig
from fustgo.plugins.processors.enrichment.base import LookupColumns, Retrier
from fustgo.plugins.processors.enrichment.postgresql import PostgresqlSource
from tests.databases import pg
from tests.plugins.processors.enrichment.building import batch_of, make, only, rows

pytestmark = pytest.mark.integration

CONNECTION = {"host": "127.0.0.1", "port": 5432, "database": "test", "user": "postgres"}
CUSTOMER_ROWS = [
    (1, "Ada", "gold", dt.date(2020, 1, 31), Decimal("10.50"), '{"vip": true}'),
    (2, "Zoë ✓ 日本", None, None, None, None),
    (3, "Bob", "silver", dt.date(2021, 12, 1), Decimal("-3.00"), "[1, 2]"),
]


@pytest.fixture
def table() -> Iterator[str]:
    """A uniquely named customers table, dropped afterwards."""
    name = f"fustgo_enrich_{uuid.uuid4().hex[:10]}"
    pg(
        f"CREATE TABLE {name} (id int4 PRIMARY KEY, name text, tier varchar(10), "
        "since date, credit numeric(10,2), extra jsonb, ref uuid DEFAULT gen_random_uuid(), "
        "seen timestamptz DEFAULT '2024-05-01 10:00:00+02')"
    )
    pg(
        f"INSERT INTO {name} (id, name, tier, since, credit, extra) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        CUSTOMER_ROWS,
        many=True,
    )
    try:
        yield name
    finally:
        pg(f"DROP TABLE IF EXISTS {name}")


def lookup(**options: Any) -> dict[str, Any]:
    return {"type": "sql", "driver": "postgresql", "connection": CONNECTION, **options}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_table_lookup_types_nulls_and_unicode(table: str) -> None:
    processor = make(
        {
            "key": "customer_id",
            "lookup": lookup(table=table, key="id"),
            "fields": ["name", "tier", "since", "credit", "extra", "seen"],
        }
    )
    data = pa.RecordBatch.from_pydict({"customer_id": pa.array([2, 1, 9, None, 3], pa.int64())})
    out = only(processor.process(batch_of(data)))
    assert out.schema.field("since").type == pa.date32()
    assert out.schema.field("credit").type == pa.decimal128(10, 2)
    assert out.schema.field("seen").type == pa.timestamp("us", tz="UTC")
    assert out.schema.field("extra").metadata == {b"fustgo.logical_type": b"json"}
    assert out.schema.field("customer_id").type == pa.int64()
    got = out.data.to_pylist()
    assert got[0]["name"] == "Zoë ✓ 日本" and got[0]["tier"] is None
    assert got[1]["since"] == dt.date(2020, 1, 31)
    assert got[1]["credit"] == Decimal("10.50")
    assert got[1]["extra"] == '{"vip": true}'
    assert got[1]["seen"] == dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.UTC)
    assert got[2] == {"customer_id": 9, **dict.fromkeys(got[2].keys() - {"customer_id"})}
    assert got[3]["name"] is None
    assert got[4]["extra"] == "[1, 2]"


def test_query_lookup_with_uuid_keys_sent_as_text(table: str) -> None:
    [found] = pg(f"SELECT ref FROM {table} WHERE id = 3")
    ref, other = str(found[0]), str(uuid.uuid4())
    processor = make(
        {
            "key": "ref",
            "lookup": lookup(query=f"SELECT ref, name FROM {table} WHERE tier IS NOT NULL"),
        }
    )
    assert rows(processor, {"ref": [ref, other, None]}) == [
        {"ref": ref, "name": "Bob"},
        {"ref": other, "name": None},
        {"ref": None, "name": None},
    ]


def test_composite_key_with_unnest(table: str) -> None:
    processor = make(
        {
            "key": ["tier", "id"],
            "lookup": lookup(table=table, key=["tier", "id"]),
            "fields": {"name": "customer"},
        }
    )
    data = pa.RecordBatch.from_pydict(
        {"tier": ["gold", "silver", "gold"], "id": pa.array([1, 3, 3], pa.int32())}
    )
    assert only(processor.process(batch_of(data))).data.to_pylist() == [
        {"tier": "gold", "id": 1, "customer": "Ada"},
        {"tier": "silver", "id": 3, "customer": "Bob"},
        {"tier": "gold", "id": 3, "customer": None},
    ]


def test_cache_sends_only_the_keys_it_does_not_hold(table: str) -> None:
    processor = make({"key": "id", "lookup": lookup(table=table), "fields": ["name"]})
    rows(processor, {"id": [1, 2, 1]})
    rows(processor, {"id": [2, 3, 4]})
    stats = processor.cache_stats()
    assert (stats.hits, stats.misses, stats.entries) == (1, 4, 4)


def test_key_type_mismatch_is_a_clear_error(table: str) -> None:
    processor = make({"key": "id", "lookup": lookup(table=table)})
    with pytest.raises(
        TerminalError, match=r"Key field `id` is String in the records but `id` is Int32"
    ):
        processor.process(batch_of({"id": ["1"]}))


def test_missing_table_is_terminal_and_names_it(table: str) -> None:
    processor = make({"key": "id", "lookup": lookup(table=f"{table}_missing")})
    with pytest.raises(TerminalError, match=rf'relation "{table}_missing" does not exist; check'):
        processor.process(batch_of({"id": [1]}))


def test_missing_column_lists_the_columns(table: str) -> None:
    processor = make({"key": "id", "lookup": lookup(table=table), "fields": ["email"]})
    with pytest.raises(TerminalError, match=r"has no column `email`; its columns are `id`, `name`"):
        asyncio.run(processor.check_connection())


def test_unknown_role_and_database_are_terminal() -> None:
    processor = make(
        {
            "key": "id",
            "lookup": lookup(table="t", connection={**CONNECTION, "user": "no_such_role"}),
        }
    )
    with pytest.raises(
        TerminalError, match=r'refused the connection: role "no_such_role" does not'
    ):
        asyncio.run(processor.check_connection())
    processor = make(
        {"key": "id", "lookup": lookup(table="t", connection={**CONNECTION, "database": "nodb_x"})}
    )
    with pytest.raises(TerminalError, match=r'database "nodb_x" does not exist; check'):
        processor.process(batch_of({"id": [1]}))


def test_wrong_password_is_terminal(table: str) -> None:
    """The test server trusts local connections, so a role that needs a password is
    refused only through `pg_hba`; a role with LOGIN denied stands in for bad credentials."""
    role = f"fustgo_nologin_{uuid.uuid4().hex[:8]}"
    pg(f"CREATE ROLE {role} NOLOGIN PASSWORD 'right'")
    try:
        processor = make(
            {
                "key": "id",
                "lookup": lookup(
                    table=table, connection={**CONNECTION, "user": role, "password": "wrong"}
                ),
            }
        )
        with pytest.raises(TerminalError, match=rf'role "{role}" is not permitted to log in'):
            processor.process(batch_of({"id": [1]}))
    finally:
        pg(f"DROP ROLE {role}")


def test_server_down_is_retryable_at_the_source_then_terminal() -> None:
    port = free_port()
    body = {
        "key": "id",
        "lookup": lookup(table="t", connection={**CONNECTION, "port": port}),
        "retry": {"max_retries": 2, "initial_delay": "0.5s"},
    }
    config = EnrichmentConfig.model_validate(body)
    source = PostgresqlSource(config.lookup, config.lookup_columns(), make(body).context)  # type: ignore[arg-type]
    with pytest.raises(
        RetryableError, match=rf"Cannot reach PostgreSQL on `127.0.0.1:{port}/test`"
    ):
        source.open()
    processor = make(body)
    with pytest.raises(TerminalError) as caught:
        processor.process(batch_of({"id": [1]}))
    assert "Gave up opening the PostgreSQL lookup" in str(caught.value)
    assert f"after 3 attempts: Cannot reach PostgreSQL on `127.0.0.1:{port}/test`" in str(
        caught.value
    )
    assert processor.sleep.delays == [0.5, 1.0]  # type: ignore[attr-defined]
    with pytest.raises(RetryableError, match="Cannot reach PostgreSQL"):
        asyncio.run(processor.check_connection())


def test_dropped_connection_is_reopened_by_the_retry(table: str) -> None:
    processor = make(
        {
            "key": "id",
            "lookup": lookup(table=table),
            "fields": ["name"],
            "cache": {"enabled": False},
        }
    )
    assert rows(processor, {"id": [1]}) == [{"id": 1, "name": "Ada"}]
    pg(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = 'test' AND pid <> pg_backend_pid() AND query LIKE %s",
        (f"%{table}%",),
    )
    assert rows(processor, {"id": [3]}) == [{"id": 3, "name": "Bob"}]
    assert processor.sleep.delays == [1.0]  # type: ignore[attr-defined]


def test_per_batch_latency_of_ten_thousand_keys(
    table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pg(f"INSERT INTO {table} (id, name) SELECT g, 'name ' || g FROM generate_series(10, 20009) g")
    processor = make({"key": "id", "lookup": lookup(table=table), "fields": ["name"]})
    keys = list(range(10, 10_010))
    started = time.perf_counter()
    out = only(processor.process(batch_of({"id": keys})))
    elapsed = time.perf_counter() - started
    assert out.data.column("name").to_pylist()[-1] == "name 10009"
    started = time.perf_counter()
    processor.process(batch_of({"id": keys}))
    cached = time.perf_counter() - started
    with capsys.disabled():
        print(
            f"\npostgresql: 10,000 keys fetched in {elapsed * 1000:.0f} ms, "
            f"served from the cache in {cached * 1000:.0f} ms"
        )
    assert processor.cache_stats().hits == 10_000


def test_source_fetch_retries_through_the_retrier(table: str) -> None:
    config = EnrichmentConfig.model_validate({"key": "id", "lookup": lookup(table=table)})
    columns: LookupColumns = config.lookup_columns()
    source = PostgresqlSource(
        config.lookup, columns, make({"key": "id", "lookup": lookup(table=table)}).context
    )  # type: ignore[arg-type]
    source.open()
    keys = pa.table({"__fustgo_key_0": pa.array([3, 1], pa.int32())})
    fetched = asyncio.run(source.fetch(keys, Retrier(config.retry, asyncio.sleep)))
    source.close()
    assert sorted(fetched.column("name").to_pylist()) == ["Ada", "Bob"]
