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

from tests.databases import pg, pg_schema
from tests.e2e.kill import kill_midway, rerun, target_ids
from tests.plugins.mosquitto import Mosquitto, start_mosquitto

pytestmark = pytest.mark.e2e

MESSAGES = 5_000

PIPELINE = """
name: mqtt-kill
settings:
  batch_size: 500
  checkpoint: {{interval: 0.5s, path: state.db}}
input:
  type: mqtt
  connection: {{host: 127.0.0.1, port: {port}, username: {user}, password: {password},
                client_id: {client_id}}}
  topics: ["{prefix}/#"]
  qos: 1
  batching: {{period: 0.2s}}
  {stop}
output:
  type: postgresql
  connection: {{host: 127.0.0.1, database: test, user: postgres}}
  write: {{table: {schema}.target, mode: upsert, conflict_key: [id]}}
"""


@pytest.fixture
def broker() -> Iterator[Mosquitto]:
    started = start_mosquitto()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def schema() -> Iterator[str]:
    with pg_schema("mkill") as name:
        pg(f'CREATE TABLE "{name}".target (id bigint PRIMARY KEY, name text)')
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
    fields = {
        "port": broker.port,
        "user": broker.user,
        "password": broker.password,
        "client_id": client_id,
        "prefix": prefix,
        "schema": schema,
    }
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(PIPELINE.format(stop="", **fields))
    before = kill_midway(
        pipeline, cwd=tmp_path, schema=schema, at=MESSAGES // 4, total=MESSAGES, poll=0.02
    )

    drain = tmp_path / "drain.yaml"
    drain.write_text(PIPELINE.format(stop="stop: {idle: 2s}", **fields))
    summary = rerun(drain, cwd=tmp_path)
    count, distinct, *_ = target_ids(schema)
    assert count == distinct == MESSAGES
    assert summary["records_written"] >= MESSAGES - before
