"""Enrichment from a real Redis (127.0.0.1:6379): one hash per key, pipelined."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
import redis

from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.plugins.processors.enrichment import EnrichmentConfig
from fustgo.plugins.processors.enrichment.redis import RedisSource
from tests.plugins.processors.enrichment.building import batch_of, make, only, rows

pytestmark = pytest.mark.integration

SERVER = {"host": "127.0.0.1", "port": 6379}


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    connection = redis.Redis(**SERVER, decode_responses=True)
    yield connection
    connection.close()


@pytest.fixture
def prefix(client: redis.Redis) -> Iterator[str]:
    """A unique key prefix; every key under it is deleted afterwards."""
    name = f"fustgo:test:{uuid.uuid4().hex[:10]}:"
    client.hset(f"{name}1", mapping={"name": "Ada", "price": "12.50", "stock": "3"})
    client.hset(f"{name}2", mapping={"name": "Zoë ✓ 日本", "stock": "0"})
    client.hset(f"{name}héllo", mapping={"name": "unicode key"})
    client.hset(f"{name}7:b", mapping={"name": "composite"})
    client.set(f"{name}text", "not a hash")
    yield name
    keys = list(client.scan_iter(match=f"{name}*"))
    if keys:
        client.delete(*keys)


def lookup(prefix: str, **options: Any) -> dict[str, Any]:
    return {"type": "redis", "connection": SERVER, "key_prefix": prefix, **options}


def test_hash_fields_as_text_or_declared_types(prefix: str) -> None:
    processor = make(
        {
            "key": "sku",
            "lookup": lookup(prefix),
            "fields": {"name": "title", "price": "price", "stock": "stock"},
            "types": {"price": "decimal(10,2)", "stock": "int32"},
        }
    )
    data = pa.RecordBatch.from_pydict({"sku": pa.array([2, 1, 5, None, 1], pa.int64())})
    out = only(processor.process(batch_of(data)))
    assert out.schema.field("title").type == pa.string()
    assert out.schema.field("price").type == pa.decimal128(10, 2)
    assert out.schema.field("stock").type == pa.int32()
    assert out.data.to_pylist() == [
        {"sku": 2, "title": "Zoë ✓ 日本", "price": None, "stock": 0},
        {"sku": 1, "title": "Ada", "price": Decimal("12.50"), "stock": 3},
        {"sku": 5, "title": None, "price": None, "stock": None},
        {"sku": None, "title": None, "price": None, "stock": None},
        {"sku": 1, "title": "Ada", "price": Decimal("12.50"), "stock": 3},
    ]


def test_unicode_and_composite_keys(prefix: str) -> None:
    processor = make({"key": "k", "lookup": lookup(prefix), "fields": ["name"]})
    assert rows(processor, {"k": ["héllo", "nope"]}) == [
        {"k": "héllo", "name": "unicode key"},
        {"k": "nope", "name": None},
    ]
    processor = make({"key": ["a", "b"], "lookup": lookup(prefix), "fields": ["name"]})
    assert rows(processor, {"a": [7, 7], "b": ["b", "c"]}) == [
        {"a": 7, "b": "b", "name": "composite"},
        {"a": 7, "b": "c", "name": None},
    ]


def test_on_missing_fail_and_empty_batches(prefix: str) -> None:
    processor = make(
        {"key": "sku", "lookup": lookup(prefix), "fields": ["name"], "on_missing": "fail"}
    )
    assert processor.process(batch_of({"sku": pa.array([], pa.int64())})) == []
    assert rows(processor, {"sku": [1, 404]}) == [{"sku": 1, "name": "Ada"}]
    (rejected,) = processor.take_rejected()
    assert rejected.records.to_pylist() == [{"sku": 404}]
    assert "has the key `sku` = `404`" in rejected.error[0].as_py()  # type: ignore[index]


def test_cache_reads_each_key_once_per_ttl(prefix: str, client: redis.Redis) -> None:
    processor = make({"key": "sku", "lookup": lookup(prefix), "fields": ["name"]})
    assert rows(processor, {"sku": [1]}) == [{"sku": 1, "name": "Ada"}]
    client.hset(f"{prefix}1", "name", "changed")
    assert rows(processor, {"sku": [1]}) == [{"sku": 1, "name": "Ada"}]
    assert processor.cache_stats().hits == 1


def test_a_key_holding_no_hash_is_terminal(prefix: str) -> None:
    processor = make({"key": "sku", "lookup": lookup(prefix), "fields": ["name"]})
    with pytest.raises(
        TerminalError, match=rf"Redis key `{prefix}text` .* cannot be read as a hash"
    ):
        processor.process(batch_of({"sku": ["text"]}))


def test_a_value_not_of_the_declared_type_is_terminal(prefix: str) -> None:
    processor = make(
        {"key": "sku", "lookup": lookup(prefix), "fields": ["name"], "types": {"name": "int64"}}
    )
    with pytest.raises(TerminalError, match=r"Column `name` of the Redis lookup .* not int64"):
        processor.process(batch_of({"sku": [1]}))


def test_wrong_password_is_terminal(prefix: str, client: redis.Redis) -> None:
    user = f"fustgo_test_{uuid.uuid4().hex[:8]}"
    client.execute_command("ACL", "SETUSER", user, "on", ">right", "~fustgo:*", "+@all")
    try:
        body = {
            "key": "sku",
            "lookup": lookup(prefix, connection={**SERVER, "username": user, "password": "wrong"}),
            "fields": ["name"],
        }
        processor = make(body)
        with pytest.raises(TerminalError, match=r"Redis on `127.0.0.1:6379/0` refused the login"):
            processor.process(batch_of({"sku": [1]}))
        with pytest.raises(TerminalError, match="refused the login"):
            asyncio.run(processor.check_connection())
        right = {
            **body,
            "lookup": lookup(prefix, connection={**SERVER, "username": user, "password": "right"}),
        }
        assert rows(make(right), {"sku": [1]}) == [{"sku": 1, "name": "Ada"}]
    finally:
        client.execute_command("ACL", "DELUSER", user)


def test_server_down_is_retryable_then_terminal(prefix: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    body = {
        "key": "sku",
        "lookup": lookup(prefix, connection={"host": "127.0.0.1", "port": port, "timeout": 2}),
        "fields": ["name"],
        "retry": {"max_retries": 1, "initial_delay": "2s"},
    }
    processor = make(body)
    with pytest.raises(
        TerminalError,
        match=rf"Gave up reading .* after 2 attempts: Cannot reach "
        rf"Redis on `127.0.0.1:{port}/0`",
    ):
        processor.process(batch_of({"sku": [1]}))
    assert processor.sleep.delays == [2.0]  # type: ignore[attr-defined]
    with pytest.raises(RetryableError, match=rf"Cannot reach Redis on `127.0.0.1:{port}/0`"):
        asyncio.run(processor.check_connection())
    config = EnrichmentConfig.model_validate(body)
    source = RedisSource(config.lookup, config.lookup_columns(), processor.context)  # type: ignore[arg-type]
    with pytest.raises(RetryableError):
        source.check()


def test_check_connection_passes(prefix: str) -> None:
    processor = make({"key": "sku", "lookup": lookup(prefix), "fields": ["name"]})
    asyncio.run(processor.check_connection())


def test_per_batch_latency_of_ten_thousand_keys(
    prefix: str, client: redis.Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline = client.pipeline(transaction=False)
    for key in range(100, 10_100):
        pipeline.hset(f"{prefix}{key}", mapping={"name": f"name {key}"})
    pipeline.execute()
    processor = make({"key": "sku", "lookup": lookup(prefix), "fields": ["name"]})
    started = time.perf_counter()
    out = only(processor.process(batch_of({"sku": list(range(100, 10_100))})))
    elapsed = time.perf_counter() - started
    assert out.data.column("name").to_pylist()[-1] == "name 10099"
    with capsys.disabled():
        print(f"\nredis: 10,000 keys fetched in {elapsed * 1000:.0f} ms")
