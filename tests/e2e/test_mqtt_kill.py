"""At least once over MQTT: QoS 1, a persistent session, `kill -9` midway, run again.

On a private Mosquitto without the in-flight and queue caps (Mosquitto's defaults — 20
unacknowledged messages in flight, 1,000 queued — would throttle acknowledgements after the
write and drop what overflows). 5,000 messages wait in the pipeline's session; the first
run is killed after a quarter reached PostgreSQL (upsert); the second, with the same client
id, gets every unacknowledged message again and ends when idle."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import psycopg
import pytest

from tests.cli_runner import fustgo_command, run_fustgo
from tests.plugins.mosquitto import Mosquitto, start_mosquitto

pytestmark = pytest.mark.e2e

DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
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


def pg(statement: str) -> list[tuple]:
    with psycopg.connect(DSN, autocommit=True) as connection:
        cursor = connection.execute(statement)  # type: ignore[arg-type]
        return list(cursor.fetchall()) if cursor.description else []


@pytest.fixture
def broker() -> Iterator[Mosquitto]:
    started = start_mosquitto()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def schema() -> Iterator[str]:
    name = f"fg_mkill_{uuid.uuid4().hex[:10]}"
    pg(f'CREATE SCHEMA "{name}"')
    pg(f'CREATE TABLE "{name}".target (id bigint PRIMARY KEY, name text)')
    try:
        yield name
    finally:
        pg(f'DROP SCHEMA "{name}" CASCADE')


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
    process = subprocess.Popen(
        fustgo_command("run", str(pipeline), "--quiet"),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while pg(f'SELECT count(*) FROM "{schema}".target')[0][0] < MESSAGES // 4:
            assert process.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "a quarter did not arrive in 60 s"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    before = pg(f'SELECT count(*) FROM "{schema}".target')[0][0]
    assert before < MESSAGES, "the run must be killed midway"

    drain = tmp_path / "drain.yaml"
    drain.write_text(PIPELINE.format(stop="stop: {idle: 2s}", **fields))
    again = run_fustgo("run", str(drain), "--quiet", cwd=tmp_path, summary_path=tmp_path / "s")
    assert again.exit_code == 0, again.stdout + again.stderr
    count, distinct = pg(f'SELECT count(*), count(DISTINCT id) FROM "{schema}".target')[0]
    assert count == distinct == MESSAGES
    assert again.summary is not None
    assert again.summary["records_written"] >= MESSAGES - before
