"""examples/rabbitmq-to-postgresql.yaml against the local RabbitMQ and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import aio_pika
import pytest

from tests.cli_runner import REPO, run_fustgo
from tests.databases import pg

pytestmark = pytest.mark.integration


async def _amqp(work):  # type: ignore[no-untyped-def]
    connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
    try:
        return await work(await connection.channel())
    finally:
        await connection.close()


def test_example_upserts_order_events_and_dead_letters_a_bad_one(tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    queue, table = f"fg-example-{suffix}", f"fg_example_orders_{suffix}"
    dead = tmp_path / "failed.jsonl"
    env = {"RABBITMQ_QUEUE": queue, "PG_TABLE": table, "DEAD_LETTER": str(dead)}
    example = REPO / "examples" / "rabbitmq-to-postgresql.yaml"
    idle = ["--set", "input.stop.idle=1s"]
    try:
        # The first run declares and binds the queue (nothing to read yet).
        first = run_fustgo("run", str(example), "--quiet", *idle, cwd=tmp_path, env=env)
        assert first.exit_code == 0, first.stdout + first.stderr

        async def send(channel):  # type: ignore[no-untyped-def]
            exchange = await channel.get_exchange("amq.topic")
            events = [(1, "new", 9.5), (2, "new", 3.0), (1, "paid", 9.5)]
            for order_id, status, amount in events:
                body = json.dumps({"order_id": order_id, "status": status, "amount": amount})
                await exchange.publish(aio_pika.Message(body.encode()), f"order.{status}")
            await exchange.publish(aio_pika.Message(b"{oops"), "order.new")
            await exchange.publish(aio_pika.Message(b'{"order_id": 3}'), "invoice.new")

        asyncio.run(_amqp(send))
        second = run_fustgo("run", str(example), "--quiet", *idle, cwd=tmp_path, env=env)
        assert second.exit_code == 0, second.stdout + second.stderr
        got = pg(f"SELECT order_id, status FROM {table} ORDER BY 1")
        assert got == [(1, "paid"), (2, "new")]  # invoice.new is not bound to the queue
        [letter] = [json.loads(line) for line in dead.read_text().splitlines()]
        record = letter["record"]
        record = json.loads(record) if isinstance(record, str) else record
        assert record["_routing_key"] == "order.new" and "JSON" in letter["error"]
    finally:
        pg(f"DROP TABLE IF EXISTS {table}")

        async def drop(channel):  # type: ignore[no-untyped-def]
            await channel.queue_delete(queue)

        asyncio.run(_amqp(drop))
