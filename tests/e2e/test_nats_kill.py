"""`kill -9` a NATS JetStream → PostgreSQL (upsert) run midway, run it again until the stream
is idle: every one of 100,000 messages arrives, each exactly once in the target, and the
rerun reports the replays (messages written but not acknowledged before the kill, which
the server redelivers after `ack_wait`)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import nats
import psycopg
import pytest

from tests.cli_runner import fustgo_command, run_fustgo

pytestmark = pytest.mark.e2e

DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
URL = "nats://127.0.0.1:4222"
MESSAGES = 100_000

PIPELINE = """
name: nats-kill
settings:
  parallelism: 2
  batch_size: 5000
  checkpoint: {{interval: 1s, path: state.db}}
input:
  type: nats
  subjects: ["{stream}.orders"]
  jetstream: {{stream: {{name: {stream}}}, durable: loader, ack_wait: 3s}}
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
    suffix = uuid.uuid4().hex[:10]
    schema, stream = f"fg_nkill_{suffix}", f"FGKILL{suffix}"
    pg(f'CREATE SCHEMA "{schema}"')
    pg(f'CREATE TABLE "{schema}".target (id bigint PRIMARY KEY, name text, amount float8)')

    async def fill(js):  # type: ignore[no-untyped-def]
        await js.add_stream(name=stream, subjects=[f"{stream}.>"])
        for i in range(MESSAGES):
            body = json.dumps({"id": i, "name": f"name-{i}", "amount": i / 100})
            await js.publish_async(f"{stream}.orders", body.encode())
        await asyncio.wait_for(js.publish_async_completed(), timeout=60)
        return (await js.stream_info(stream)).state.messages

    assert asyncio.run(_jetstream(fill)) == MESSAGES
    try:
        yield schema, stream
    finally:
        pg(f'DROP SCHEMA "{schema}" CASCADE')
        asyncio.run(_jetstream(lambda js: js.delete_stream(stream)))


def test_kill_9_then_rerun_delivers_every_message_exactly_once_in_the_target(
    setup: tuple[str, str], tmp_path: Path
) -> None:
    schema, stream = setup
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(PIPELINE.format(schema=schema, stream=stream, stop=""))
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
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    before = pg(f'SELECT count(*) FROM "{schema}".target')[0][0]
    assert before < MESSAGES, "the run must be killed midway"

    # Idle for longer than ack_wait: the unacknowledged messages come back before it ends.
    drain = tmp_path / "drain.yaml"
    drain.write_text(PIPELINE.format(schema=schema, stream=stream, stop="stop: {idle: 5s}"))
    again = run_fustgo("run", str(drain), "--quiet", cwd=tmp_path, summary_path=tmp_path / "s")
    assert again.exit_code == 0, again.stdout + again.stderr
    count, distinct = pg(f'SELECT count(*), count(DISTINCT id) FROM "{schema}".target')[0]
    assert count == distinct == MESSAGES
    assert pg(f'SELECT min(id), max(id) FROM "{schema}".target')[0] == (0, MESSAGES - 1)
    assert consumer_state(stream) == (0, 0)  # everything delivered and acknowledged
    assert again.summary is not None
    # Written before the kill but not yet acknowledged: delivered again, found by the upsert.
    assert again.summary["records_updated"] > 0
    assert again.summary["records_written"] == MESSAGES - before + again.summary["records_updated"]
