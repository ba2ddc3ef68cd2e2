"""At least once over MQTT: QoS 1, a persistent session, `kill -9` midway, run again.

On a private Mosquitto without the in-flight and queue caps (Mosquitto's defaults — 20
unacknowledged messages in flight, 1,000 queued — would throttle acknowledgements after the
write and drop what overflows). 5,000 messages wait in the pipeline's session; the first
run is killed after a quarter reached PostgreSQL (upsert); the second, with the same client
id, gets every unacknowledged message again and ends when idle."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest

from tests.e2e.kill import kill_then_drain, target_ids, target_schema
from tests.plugins.mosquitto import Mosquitto, start_mosquitto

pytestmark = pytest.mark.e2e

MESSAGES = 5_000


@pytest.fixture
def broker() -> Iterator[Mosquitto]:
    started = start_mosquitto()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def schema() -> Iterator[str]:
    with target_schema("mkill", "name text") as name:
        yield name


async def prepare(broker: Mosquitto, client_id: str, prefix: str) -> None:
    """Create the pipeline's persistent session, then publish while it is offline."""
    login = {"username": broker.user, "password": broker.password}
    async with aiomqtt.Client(
        "127.0.0.1", broker.port, identifier=client_id, clean_session=False, **login
    ) as session:
        await session.subscribe(f"{prefix}/#", qos=1)
    publisher = aiomqtt.Client("127.0.0.1", broker.port, **login)
    publisher.pending_calls_threshold = 1 << 30
    async with publisher:
        for start in range(0, MESSAGES, 500):
            await asyncio.gather(
                *(
                    publisher.publish(f"{prefix}/m", json.dumps({"id": i, "name": f"n{i}"}), qos=1)
                    for i in range(start, start + 500)
                )
            )


def test_kill_9_then_rerun_with_the_same_session_delivers_every_message(
    broker: Mosquitto, schema: str, tmp_path: Path
) -> None:
    client_id, prefix = f"fg-kill-{uuid.uuid4().hex[:8]}", f"fg-kill/{uuid.uuid4().hex[:8]}"
    asyncio.run(prepare(broker, client_id, prefix))
    connection = {
        "host": "127.0.0.1",
        "port": broker.port,
        "username": broker.user,
        "password": broker.password,
        "client_id": client_id,
    }
    source = {
        "type": "mqtt",
        "connection": connection,
        "topics": [f"{prefix}/#"],
        "qos": 1,
        "batching": {"period": "0.2s"},
    }
    before, summary = kill_then_drain(
        tmp_path,
        "mqtt-kill",
        source,
        schema=schema,
        total=MESSAGES,
        at=MESSAGES // 4,
        idle="2s",
        settings={"batch_size": 500, "checkpoint": {"interval": "0.5s", "path": "state.db"}},
        poll=0.02,
    )
    count, distinct, *_ = target_ids(schema)
    assert count == distinct == MESSAGES
    assert summary["records_written"] >= MESSAGES - before
