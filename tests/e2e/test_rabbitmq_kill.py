"""`kill -9` a RabbitMQ → PostgreSQL (upsert) run midway, run it again until the queue is
idle: every one of 100,000 messages arrives, each exactly once in the target, and the
rerun reports the replays (messages written but not acknowledged before the kill)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import psycopg
import pytest

from tests.cli_runner import fustgo_command, run_fustgo

pytestmark = pytest.mark.e2e

DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
URL = "amqp://guest:guest@127.0.0.1:5672/"
MESSAGES = 100_000

PIPELINE = """
name: rabbit-kill
settings:
  parallelism: 2
  batch_size: 5000
  checkpoint: {{interval: 1s, path: state.db}}
input:
  type: rabbitmq
  connection: {{host: 127.0.0.1}}
  queue: {queue}
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
    suffix = uuid.uuid4().hex[:10]
    schema, queue = f"fg_rkill_{suffix}", f"fg-rkill-{suffix}"
    pg(f'CREATE SCHEMA "{schema}"')
    pg(f'CREATE TABLE "{schema}".target (id bigint PRIMARY KEY, name text, amount float8)')

    async def fill(channel):  # type: ignore[no-untyped-def]
        await channel.declare_queue(queue, durable=True)
        for i in range(MESSAGES):
            body = json.dumps({"id": i, "name": f"name-{i}", "amount": i / 100})
            await channel.default_exchange.publish(aio_pika.Message(body.encode()), queue)

    asyncio.run(_amqp(fill))
    deadline = time.monotonic() + 60
    while ready(queue) < MESSAGES:  # published without confirms: wait until all are queued
        assert time.monotonic() < deadline
        time.sleep(0.1)
    try:
        yield schema, queue
    finally:
        pg(f'DROP SCHEMA "{schema}" CASCADE')

        async def drop(channel):  # type: ignore[no-untyped-def]
            await channel.queue_delete(queue)

        asyncio.run(_amqp(drop))


def test_kill_9_then_rerun_delivers_every_message_exactly_once_in_the_target(
    setup: tuple[str, str], tmp_path: Path
) -> None:
    schema, queue = setup
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(PIPELINE.format(schema=schema, queue=queue, stop=""))
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

    drain = tmp_path / "drain.yaml"
    drain.write_text(PIPELINE.format(schema=schema, queue=queue, stop="stop: {idle: 2s}"))
    again = run_fustgo("run", str(drain), "--quiet", cwd=tmp_path, summary_path=tmp_path / "s")
    assert again.exit_code == 0, again.stdout + again.stderr
    count, distinct = pg(f'SELECT count(*), count(DISTINCT id) FROM "{schema}".target')[0]
    assert count == distinct == MESSAGES
    assert pg(f'SELECT min(id), max(id) FROM "{schema}".target')[0] == (0, MESSAGES - 1)
    assert ready(queue) == 0
    assert again.summary is not None
    # Written before the kill but not yet acknowledged: delivered again, found by the upsert.
    assert again.summary["records_updated"] > 0
    assert again.summary["records_written"] == MESSAGES - before + again.summary["records_updated"]
