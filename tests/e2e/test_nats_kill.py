"""`kill -9` a NATS JetStream → PostgreSQL (upsert) run midway, run it again until the stream
is idle: every one of 100,000 messages arrives, each exactly once in the target, and the
rerun reports the replays (messages written but not acknowledged before the kill, which
the server redelivers after `ack_wait`)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from tests.e2e.kill import (
    assert_each_id_once,
    assert_replays_counted,
    kill_then_drain,
    target_schema,
)

pytestmark = pytest.mark.e2e

URL = "nats://127.0.0.1:4222"
MESSAGES = 100_000


async def _jetstream(work):  # type: ignore[no-untyped-def]
    client = await nats.connect(URL)
    try:
        return await work(client.jetstream(publish_async_max_pending=5000))
    finally:
        await client.close()


def consumer_state(stream: str) -> tuple[int, int]:
    async def look(js):  # type: ignore[no-untyped-def]
        info = await js.consumer_info(stream, "loader")
        return info.num_pending, info.num_ack_pending

    return asyncio.run(_jetstream(look))


@pytest.fixture
def setup() -> Iterator[tuple[str, str]]:
    stream = f"FGKILL{uuid.uuid4().hex[:10]}"

    async def fill(js):  # type: ignore[no-untyped-def]
        await js.add_stream(name=stream, subjects=[f"{stream}.>"])
        for i in range(MESSAGES):
            body = json.dumps({"id": i, "name": f"name-{i}", "amount": i / 100})
            await js.publish_async(f"{stream}.orders", body.encode())
        await asyncio.wait_for(js.publish_async_completed(), timeout=60)
        return (await js.stream_info(stream)).state.messages

    with target_schema("nkill") as schema:
        assert asyncio.run(_jetstream(fill)) == MESSAGES
        try:
            yield schema, stream
        finally:
            asyncio.run(_jetstream(lambda js: js.delete_stream(stream)))


def test_kill_9_then_rerun_delivers_every_message_exactly_once_in_the_target(
    setup: tuple[str, str], tmp_path: Path
) -> None:
    schema, stream = setup
    source = {
        "type": "nats",
        "subjects": [f"{stream}.orders"],
        "jetstream": {"stream": {"name": stream}, "durable": "loader", "ack_wait": "3s"},
        "batching": {"period": "0.2s"},
    }
    # Idle for longer than ack_wait: the unacknowledged messages come back before it ends.
    before, summary = kill_then_drain(
        tmp_path, "nats-kill", source, schema=schema, total=MESSAGES, at=MESSAGES // 4, idle="5s"
    )
    assert_each_id_once(schema, MESSAGES)
    assert consumer_state(stream) == (0, 0)  # everything delivered and acknowledged
    # Written before the kill but not yet acknowledged: delivered again, found by the upsert.
    assert_replays_counted(summary, MESSAGES, before)
