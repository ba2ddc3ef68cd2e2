"""`kill -9` a Redis stream → PostgreSQL (upsert) run midway, run it again until the stream
is idle: every one of 100,000 entries arrives, each exactly once in the target, and the
rerun reports the replays (entries written but not acknowledged before the kill, which each
consumer re-reads from its pending list first)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.e2e.kill import (
    assert_each_id_once,
    assert_replays_counted,
    kill_then_drain,
    target_schema,
)

pytestmark = pytest.mark.e2e

MESSAGES = 100_000


@pytest.fixture
def setup() -> Iterator[tuple[str, str, redis.Redis]]:
    key = f"fg:xkill:{uuid.uuid4().hex[:10]}"
    client = redis.Redis(host="127.0.0.1", port=6379)
    with target_schema("xkill") as schema:
        try:
            for start in range(0, MESSAGES, 10_000):
                pipe = client.pipeline(transaction=False)
                for i in range(start, start + 10_000):
                    body = json.dumps({"id": i, "name": f"name-{i}", "amount": i / 100})
                    pipe.xadd(key, {"data": body})
                pipe.execute()
            assert client.xlen(key) == MESSAGES
            yield schema, key, client
        finally:
            client.delete(key)
            client.close()


def test_kill_9_then_rerun_delivers_every_entry_exactly_once_in_the_target(
    setup: tuple[str, str, redis.Redis], tmp_path: Path
) -> None:
    schema, key, client = setup
    source = {
        "type": "redis",
        "connection": {"host": "127.0.0.1"},
        "stream": {"keys": [key], "group": "loader"},
        "batching": {"period": "0.2s"},
    }

    def read_not_acknowledged(before: int) -> None:
        assert int(client.xpending(key, "loader")["pending"]) > 0

    before, summary = kill_then_drain(
        tmp_path,
        "redis-kill",
        source,
        schema=schema,
        total=MESSAGES,
        at=MESSAGES // 4,
        idle="2s",
        after_kill=read_not_acknowledged,
    )
    assert_each_id_once(schema, MESSAGES)
    assert int(client.xpending(key, "loader")["pending"]) == 0  # everything acknowledged
    # Written before the kill but not yet acknowledged: re-read first, found by the upsert.
    assert_replays_counted(summary, MESSAGES, before)
