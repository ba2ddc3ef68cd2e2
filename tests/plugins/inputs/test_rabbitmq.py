"""RabbitMQ input and output against the real broker on 127.0.0.1:5672 (guest/guest).

Each test declares its own queue and exchange (unique names) and deletes them afterwards.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aio_pika
import pyarrow as pa
import pytest

from fustgo.engine.batch import Batch
from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.inputs.rabbitmq import RabbitMQInput, RabbitMQInputConfig
from fustgo.plugins.outputs.rabbitmq import RabbitMQOutput, RabbitMQOutputConfig
from tests.cli_runner import run_fustgo
from tests.plugins.streams.graceful_stop import BODIES, MESSAGES, assert_each_id_once, stop_midway

pytestmark = pytest.mark.integration

URL = "amqp://guest:guest@127.0.0.1:5672/"


async def _admin(work: Any) -> Any:
    connection = await aio_pika.connect(URL)
    try:
        return await work(await connection.channel())
    finally:
        await connection.close()


def admin(work: Any) -> Any:
    return asyncio.run(_admin(work))


def publish(queue: str, bodies: list[bytes], **properties: Any) -> None:
    async def send(channel: Any) -> None:
        for body in bodies:
            await channel.default_exchange.publish(aio_pika.Message(body, **properties), queue)

    admin(send)


def depth(queue: str) -> tuple[int, int]:
    """(ready messages, consumers) of the queue."""

    async def look(channel: Any) -> tuple[int, int]:
        result = (await channel.declare_queue(queue, passive=True)).declaration_result
        return result.message_count, result.consumer_count

    return admin(look)


@pytest.fixture
def names() -> Iterator[tuple[str, str]]:
    """A unique (queue, exchange) pair, deleted afterwards."""
    suffix = uuid.uuid4().hex[:10]
    queue, exchange = f"fg-q-{suffix}", f"fg-x-{suffix}"
    yield queue, exchange

    async def drop(channel: Any) -> None:
        await channel.queue_delete(queue)
        await channel.exchange_delete(exchange)

    admin(drop)


def make_input(queue: str, batch: int = 100, **config: Any) -> RabbitMQInput:
    settings = {
        "queue": queue,
        "connection": {"host": "127.0.0.1"},
        "declare": {"durable": True},
        "stop": {"idle": 0.5},
        "batching": {"period": 0.1},
        **config,
    }
    return RabbitMQInput(
        RabbitMQInputConfig.model_validate(settings),
        PluginContext(component_path="input", batch_size=batch),
    )


def read_split(stream: RabbitMQInput, index: int = 0, ack: bool = True) -> list[Batch]:
    """Read one split until idle (the same event loop for reading and acknowledging)."""

    async def run() -> list[Batch]:
        splits = await stream.splits(index + 1)
        batches = [b async for b in stream.read(splits[index], None)]
        if ack and batches:
            await stream.ack(batches[-1].checkpoint)  # type: ignore[arg-type]
        await stream.close()
        return batches

    return asyncio.run(run())


def rows(batches: list[Batch]) -> list[dict[str, Any]]:
    return [row for batch in batches for row in batch.data.to_pylist()]


def test_round_trip_through_a_topic_exchange_with_routing_keys_and_metadata(
    names: tuple[str, str],
) -> None:
    queue, exchange = names
    # Declares the queue and binds it to the exchange the output declares first.
    output = RabbitMQOutput(
        RabbitMQOutputConfig.model_validate(
            {
                "connection": {"host": "127.0.0.1"},
                "exchange": exchange,
                "declare": {"type": "topic", "durable": False},
                "routing_key_field": "kind",
                "header_fields": ["source"],
            }
        ),
        PluginContext(component_path="output"),
    )
    kinds = ["order.new", "order.paid", "refund.new"]
    data = pa.record_batch(
        {
            "id": list(range(300)),
            "kind": [kinds[i % 3] for i in range(300)],
            "source": ["web"] * 300,
        }
    )
    stream = make_input(
        queue,
        declare={"bindings": [{"exchange": exchange, "routing_key": "order.*"}]},
        metadata=["routing_key", "exchange", "delivery_tag", "redelivered", "headers", "key"],
    )

    async def write() -> list[Any]:
        await output.open(data.schema)
        consumer = await stream._consumer((await stream.splits(1))[0])  # declares and binds
        await consumer.close()
        await output.write(Batch(data))
        await output.flush()
        await output.close()
        return output.take_rejected()

    [rejected] = asyncio.run(write())  # refund.new reaches no queue: returned, dead-lettered
    assert rejected.records.num_rows == 100
    assert set(rejected.records.column("kind").to_pylist()) == {"refund.new"}
    assert f"exchange `{exchange}` with routing key `refund.new`" in rejected.error[0].as_py()  # type: ignore[index]
    assert output.stats().records_written == 200

    got = rows(read_split(stream))
    assert sorted(r["id"] for r in got) == [i for i in range(300) if i % 3 != 2]
    first = next(r for r in got if r["id"] == 0)
    assert first["_routing_key"] == first["_key"] == "order.new" == first["kind"]
    assert first["_exchange"] == exchange and first["_redelivered"] is False
    assert json.loads(first["_headers"]) == {"source": "web"}
    assert sorted(r["_delivery_tag"] for r in got) == list(range(1, 201))
    assert depth(queue) == (0, 0)  # all acknowledged, the consumer gone


def test_poison_message_goes_to_the_dead_letter_with_routing_key_and_tag(
    names: tuple[str, str], tmp_path: Path
) -> None:
    queue, _ = names
    admin(lambda channel: channel.declare_queue(queue, durable=True))
    bodies = [json.dumps({"id": i}).encode() for i in range(50)]
    bodies[17] = b"{not json"
    publish(queue, bodies, message_id="m")
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        f"""
name: rabbit-poison
settings: {{checkpoint: {{interval: 0s, path: state.db}}, error_limit: {{records: 5}}}}
input:
  type: rabbitmq
  connection: {{host: 127.0.0.1}}
  queue: {queue}
  metadata: [routing_key]
  batching: {{period: 0.1s, count: 10}}
  stop: {{idle: 1s}}
output: {{type: json, path: out.jsonl}}
dead_letter: {{type: json, path: dead.jsonl}}
"""
    )
    result = run_fustgo("run", str(pipeline), "--quiet", cwd=tmp_path, summary_path=tmp_path / "s")
    assert result.exit_code == 0, result.stdout + result.stderr
    written = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in written) == [i for i in range(50) if i != 17]
    [letter] = [json.loads(line) for line in (tmp_path / "dead.jsonl").read_text().splitlines()]
    record = json.loads(letter["record"]) if isinstance(letter["record"], str) else letter["record"]
    assert record["_routing_key"] == queue and record["_delivery_tag"] == 18
    assert record["_message_id"] == "m" and "JSON" in letter["error"]
    assert depth(queue) == (0, 0)  # the poison message is acknowledged too (it is dead-lettered)


def test_a_consumer_that_dies_without_acknowledging_gets_its_messages_redelivered(
    names: tuple[str, str],
) -> None:
    queue, _ = names
    admin(lambda channel: channel.declare_queue(queue, durable=True))
    publish(queue, [json.dumps({"id": i}).encode() for i in range(40)])
    first = rows(read_split(make_input(queue, stop={"messages": 25}, prefetch=25), ack=False))
    assert [r["id"] for r in first] == list(range(25))
    again = rows(read_split(make_input(queue, metadata=["redelivered"])))
    assert sorted(r["id"] for r in again) == list(range(40))
    assert sum(r["_redelivered"] for r in again) == 25
    assert depth(queue) == (0, 0)


def test_acknowledging_a_checkpoint_covers_earlier_batches_only(names: tuple[str, str]) -> None:
    queue, _ = names
    admin(lambda channel: channel.declare_queue(queue, durable=True))
    publish(queue, [json.dumps({"id": i}).encode() for i in range(30)])
    stream = make_input(queue, batch=10)

    async def run() -> list[Batch]:
        [split] = await stream.splits(1)
        batches = [b async for b in stream.read(split, None)]
        await stream.ack(batches[1].checkpoint)  # type: ignore[arg-type]
        await stream.close()
        return batches

    assert [b.num_rows for b in asyncio.run(run())] == [10, 10, 10, 0]
    assert depth(queue) == (10, 0)  # the third batch was not acknowledged: back in the queue


def test_parallel_consumers_compete_for_the_queue(names: tuple[str, str]) -> None:
    queue, _ = names
    admin(lambda channel: channel.declare_queue(queue, durable=True))
    publish(queue, [json.dumps({"id": i}).encode() for i in range(400)])
    stream = make_input(queue, batch=50, prefetch=50)

    async def run() -> list[list[Batch]]:
        splits = await stream.splits(2)
        assert len(splits) == 2

        async def one(index: int) -> list[Batch]:
            got = []
            async for batch in stream.read(splits[index], None):  # as the runner does
                got.append(batch)
                await stream.ack(batch.checkpoint)  # type: ignore[arg-type]
            return got

        both = await asyncio.gather(one(0), one(1))
        await stream.close()
        return list(both)

    first, second = asyncio.run(run())
    ids_first, ids_second = {r["id"] for r in rows(first)}, {r["id"] for r in rows(second)}
    assert ids_first and ids_second and not ids_first & ids_second
    assert ids_first | ids_second == set(range(400))


def test_graceful_stop_acknowledges_what_was_written(
    names: tuple[str, str], tmp_path: Path
) -> None:
    queue, _ = names
    admin(lambda channel: channel.declare_queue(queue, durable=True))
    publish(queue, BODIES)
    source = {"type": "rabbitmq", "connection": {"host": "127.0.0.1"}, "queue": queue}
    written = stop_midway(tmp_path, {**source, "prefetch": 1000})
    # Nothing was acknowledged before the stop (interval 60 s): the stop acknowledged exactly
    # what was written; what was received but not yet written went back to the queue.
    assert depth(queue) == (MESSAGES - len(written), 0)
    assert_each_id_once(written, rows(read_split(make_input(queue))))


def test_missing_queue_unreachable_broker_and_bad_login_are_clear_errors() -> None:
    missing = f"fg-missing-{uuid.uuid4().hex[:8]}"
    with pytest.raises(TerminalError, match=rf"no queue '{missing}'.*input\.declare"):
        read_split(make_input(missing, declare=None))
    with pytest.raises(RetryableError, match=r"127\.0\.0\.1:1 .*`input\.connection`"):
        read_split(make_input(missing, connection={"host": "127.0.0.1", "port": 1}))
    with pytest.raises(TerminalError, match=r"refused the login of `guest`.*password"):
        read_split(make_input(missing, connection={"host": "127.0.0.1", "password": "wrong"}))
    with pytest.raises(TerminalError, match=r"vhost `nope-fg`"):
        read_split(make_input(missing, connection={"host": "127.0.0.1", "vhost": "nope-fg"}))
    output = RabbitMQOutput(
        RabbitMQOutputConfig.model_validate({"exchange": missing, "connection": {"port": 5672}}),
        PluginContext(component_path="output"),
    )
    with pytest.raises(TerminalError, match=rf"no exchange '{missing}'.*output\.declare"):
        asyncio.run(output.check_connection())


def test_routing_key_and_key_field_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="not both"):
        RabbitMQOutputConfig.model_validate({"routing_key": "a", "routing_key_field": "b"})
    with pytest.raises(ValueError, match="routing_key_field"):
        RabbitMQOutputConfig.model_validate({"key_field": "id"})


def test_unacknowledged_tokens_of_a_closed_channel_are_dropped(names: tuple[str, str]) -> None:
    """After a reconnect, tags of the old channel must not be acknowledged on the new one."""
    queue, _ = names
    admin(lambda channel: channel.declare_queue(queue, durable=True))
    publish(queue, [json.dumps({"id": i}).encode() for i in range(5)])
    stream = make_input(queue)

    async def run() -> tuple[list[Any], list[Any]]:
        [split] = await stream.splits(1)
        consumer = await stream._consumer(split)
        stream._consumers[split.id], stream._unacked[split.id] = consumer, deque()
        first = await consumer.receive(10, 2)
        await consumer.close()  # the broker requeues the five
        second = await consumer.receive(10, 2)  # reconnects: a new channel, new tags
        await consumer.acknowledge([m.token for m in first])  # stale: ignored
        await consumer.acknowledge([m.token for m in second])
        await stream.close()
        return first, second

    first, second = asyncio.run(run())
    assert len(first) == len(second) == 5 and all(m.meta["redelivered"] for m in second)
    assert depth(queue) == (0, 0)
