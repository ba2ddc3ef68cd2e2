"""`kill -9` a RabbitMQ → PostgreSQL (upsert) run midway, run it again until the queue is
idle: every one of 100,000 messages arrives, each exactly once in the target, and the
rerun reports the replays (messages written but not acknowledged before the kill)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import pytest

from tests.e2e.kill import (
    assert_each_id_once,
    assert_replays_counted,
    kill_then_drain,
    target_schema,
)

pytestmark = pytest.mark.e2e

URL = "amqp://guest:guest@127.0.0.1:5672/"
MESSAGES = 100_000


async def _amqp(work):  # type: ignore[no-untyped-def]
    connection = await aio_pika.connect(URL)
    try:
        return await work(await connection.channel(publisher_confirms=False))
    finally:
        await connection.close()


def ready(queue: str) -> int:
    async def look(channel):  # type: ignore[no-untyped-def]
        return (await channel.declare_queue(queue, passive=True)).declaration_result.message_count

    return asyncio.run(_amqp(look))


@pytest.fixture
def setup() -> Iterator[tuple[str, str]]:
    queue = f"fg-rkill-{uuid.uuid4().hex[:10]}"

    async def fill(channel):  # type: ignore[no-untyped-def]
        await channel.declare_queue(queue, durable=True)
        for i in range(MESSAGES):
            body = json.dumps({"id": i, "name": f"name-{i}", "amount": i / 100})
            await channel.default_exchange.publish(aio_pika.Message(body.encode()), queue)

    async def drop(channel):  # type: ignore[no-untyped-def]
        await channel.queue_delete(queue)

    with target_schema("rkill") as schema:
        asyncio.run(_amqp(fill))
        deadline = time.monotonic() + 60
        while ready(queue) < MESSAGES:  # published without confirms: wait until all are queued
            assert time.monotonic() < deadline
            time.sleep(0.1)
        try:
            yield schema, queue
        finally:
            asyncio.run(_amqp(drop))


def test_kill_9_then_rerun_delivers_every_message_exactly_once_in_the_target(
    setup: tuple[str, str], tmp_path: Path
) -> None:
    schema, queue = setup
    source = {
        "type": "rabbitmq",
        "connection": {"host": "127.0.0.1"},
        "queue": queue,
        "batching": {"period": "0.2s"},
    }
    before, summary = kill_then_drain(
        tmp_path, "rabbit-kill", source, schema=schema, total=MESSAGES, at=MESSAGES // 4, idle="2s"
    )
    assert_each_id_once(schema, MESSAGES)
    assert ready(queue) == 0
    # Written before the kill but not yet acknowledged: delivered again, found by the upsert.
    assert_replays_counted(summary, MESSAGES, before)
