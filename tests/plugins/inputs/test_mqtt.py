"""MQTT input and output against the real Mosquitto on 127.0.0.1:1883, and a private
Mosquitto (password file, no in-flight cap) for logins and the at-least-once checks.

Each test uses its own topic prefix and client ids, so runs do not see each other.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import deque
from collections.abc import Iterator
from typing import Any

import aiomqtt
import pyarrow as pa
import pytest

from fustgo.engine.batch import Batch
from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.inputs.mqtt import MqttInput, MqttInputConfig
from fustgo.plugins.outputs.mqtt import MqttOutput, MqttOutputConfig
from tests.plugins.mosquitto import Mosquitto, start_mosquitto

pytestmark = pytest.mark.integration

SHARED = {"host": "127.0.0.1", "port": 1883}


@pytest.fixture(scope="module")
def private() -> Iterator[Mosquitto]:
    broker = start_mosquitto()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def prefix() -> str:
    return f"fg-test/{uuid.uuid4().hex[:10]}"


def make_input(topics: list[str], batch: int = 100, **config: Any) -> MqttInput:
    settings = {
        "topics": topics,
        "connection": {**SHARED, "client_id": f"fg-{uuid.uuid4().hex[:12]}"},
        "stop": {"idle": 0.5},
        "batching": {"period": 0.1},
        **config,
    }
    return MqttInput(
        MqttInputConfig.model_validate(settings),
        PluginContext(component_path="input", batch_size=batch),
    )


def make_output(**config: Any) -> MqttOutput:
    return MqttOutput(
        MqttOutputConfig.model_validate({"connection": SHARED, **config}),
        PluginContext(component_path="output"),
    )


async def subscribe(stream: MqttInput) -> None:
    """Connect the split's consumer (subscribing) before anything is published."""
    [split] = await stream.splits(1)
    stream._consumers[split.id] = await stream._consumer(split)
    stream._unacked[split.id] = deque()


async def drain(stream: MqttInput, ack: bool = True) -> list[Batch]:
    """Read until idle, acknowledging each batch as the runner does (interval 0)."""
    [split] = await stream.splits(1)
    batches = []
    async for batch in stream.read(split, None):
        batches.append(batch)
        if ack:
            await stream.ack(batch.checkpoint)  # type: ignore[arg-type]
    return batches


async def publish(data: pa.RecordBatch, **config: Any) -> MqttOutput:
    output = make_output(**config)
    await output.open(data.schema)
    await output.write(Batch(data))
    await output.flush()
    await output.close()
    return output


def rows(batches: list[Batch]) -> list[dict[str, Any]]:
    return [row for batch in batches for row in batch.data.to_pylist()]


def test_wildcard_subscription_round_trip_with_metadata(prefix: str) -> None:
    stream = make_input([f"{prefix}/+/reading"], metadata=["topic", "qos", "retain", "mid", "key"])
    topics = [f"{prefix}/a/reading", f"{prefix}/b/reading", f"{prefix}/a/status"]
    data = pa.record_batch({"id": list(range(90)), "t": [topics[i % 3] for i in range(90)]})

    async def run() -> tuple[MqttOutput, list[Batch]]:
        await subscribe(stream)
        output = await publish(data, topic_field="t", qos=1)
        got = await drain(stream)
        await stream.close()
        return output, got

    output, batches = asyncio.run(run())
    assert output.stats().records_written == 90
    got = rows(batches)
    assert sorted(r["id"] for r in got) == [i for i in range(90) if i % 3 != 2]
    first = next(r for r in got if r["id"] == 0)
    assert first["_topic"] == first["_key"] == topics[0] == first["t"]
    assert first["_qos"] == 1 and first["_retain"] is False and first["_mid"] > 0


def test_qos_2_publish_and_subscribe(prefix: str) -> None:
    stream = make_input([f"{prefix}/#"], qos=2, metadata=["qos"])
    data = pa.record_batch({"id": list(range(30))})

    async def run() -> list[Batch]:
        await subscribe(stream)
        await publish(data, topic=f"{prefix}/x", qos=2)
        got = await drain(stream)
        await stream.close()
        return got

    got = rows(asyncio.run(run()))
    assert sorted(r["id"] for r in got) == list(range(30))
    assert {r["_qos"] for r in got} == {2}


def test_poison_message_goes_to_the_dead_letter_with_topic_and_mid(prefix: str) -> None:
    stream = make_input([f"{prefix}/#"], metadata=["topic"])

    async def run() -> list[Batch]:
        await subscribe(stream)
        async with aiomqtt.Client("127.0.0.1", 1883) as client:
            for i in range(10):
                payload = b"{not json" if i == 4 else json.dumps({"id": i}).encode()
                await client.publish(f"{prefix}/p{i}", payload, qos=1)
        got = await drain(stream)
        await stream.close()
        return got

    got = rows(asyncio.run(run()))
    assert sorted(r["id"] for r in got) == [i for i in range(10) if i != 4]
    [rejected] = stream.take_rejected()
    [letter] = rejected.records.to_pylist()
    assert letter["_topic"] == f"{prefix}/p4" and letter["_mid"] > 0 and letter["_qos"] == 1
    assert "JSON" in rejected.error[0].as_py()  # type: ignore[index]


def test_unacknowledged_qos1_messages_come_again_to_the_persistent_session(prefix: str) -> None:
    client_id = f"fg-{uuid.uuid4().hex[:12]}"
    connection = {**SHARED, "client_id": client_id}

    async def run() -> tuple[list[Batch], list[Batch]]:
        first = make_input([f"{prefix}/#"], connection=connection, metadata=["mid"])
        await subscribe(first)
        await publish(pa.record_batch({"id": list(range(15))}), topic=f"{prefix}/x")
        unacked = await drain(first, ack=False)
        await first.close()  # gone without acknowledging: the session keeps them
        second = make_input([f"{prefix}/#"], connection=connection)
        again = await drain(second)
        await second.close()
        async with aiomqtt.Client("127.0.0.1", 1883, identifier=client_id, clean_session=True):
            pass  # ends the session on the shared broker
        return unacked, again

    unacked, again = asyncio.run(run())
    assert sorted(r["id"] for r in rows(unacked)) == list(range(15))
    assert sorted(r["id"] for r in rows(again)) == list(range(15))


def test_retained_messages_reach_later_subscribers_with_the_flag(prefix: str) -> None:
    topic = f"{prefix}/config"

    async def run() -> list[Batch]:
        await publish(pa.record_batch({"v": [1]}), topic=topic, retain=True)
        stream = make_input([topic], metadata=["retain"], session="clean")
        got = await drain(stream)
        await stream.close()
        async with aiomqtt.Client("127.0.0.1", 1883) as client:  # clear the retained message
            await client.publish(topic, b"", qos=1, retain=True)
        return got

    assert rows(asyncio.run(run())) == [{"v": 1, "_retain": True}]


def test_records_without_a_topic_go_to_the_dead_letter(prefix: str) -> None:
    data = pa.record_batch({"id": [1, 2, 3], "t": [f"{prefix}/a", None, f"{prefix}/+"]})
    output = asyncio.run(publish(data, topic_field="t"))
    [rejected] = output.take_rejected()
    assert rejected.records.column("id").to_pylist() == [2, 3]
    assert "no topic" in str(rejected.error)
    assert output.stats().records_written == 1


def test_login_and_unreachable_broker_errors(private: Mosquitto, prefix: str) -> None:
    good = {"host": "127.0.0.1", "port": private.port, "username": private.user}
    stream = make_input([f"{prefix}/#"], connection={**good, "password": "wrong"})
    with pytest.raises(TerminalError, match=r"refused the login.*input\.connection\.password"):
        asyncio.run(stream.check_connection())
    ok = make_input([f"{prefix}/#"], connection={**good, "password": private.password})
    asyncio.run(ok.check_connection())
    down = make_input([f"{prefix}/#"], connection={"host": "127.0.0.1", "port": 1})
    with pytest.raises(RetryableError, match=r"127\.0\.0\.1:1 .*`input\.connection`"):
        asyncio.run(drain(down))
    output = make_output(topic="x", connection={"host": "127.0.0.1", "port": 1})
    with pytest.raises(RetryableError, match=r"127\.0\.0\.1:1 .*`output\.connection`"):
        asyncio.run(output.open(pa.schema([("id", pa.int64())])))


def test_at_least_once_throughput_needs_the_broker_in_flight_cap_raised(
    private: Mosquitto, prefix: str
) -> None:
    """With `max_inflight_messages 0`, acknowledging after the write lets a batch fill."""
    connection = {
        "host": "127.0.0.1",
        "port": private.port,
        "username": private.user,
        "password": private.password,
        "client_id": f"fg-{uuid.uuid4().hex[:12]}",
    }
    stream = make_input([f"{prefix}/#"], batch=500, connection=connection)

    async def run() -> list[Batch]:
        await subscribe(stream)
        output = MqttOutput(
            MqttOutputConfig.model_validate({"connection": {**connection, "client_id": None},
                                             "topic": f"{prefix}/x"}),
            PluginContext(component_path="output"),
        )  # fmt: skip
        data = pa.record_batch({"id": list(range(2000))})
        await output.open(data.schema)
        await output.write(Batch(data))
        await output.close()
        got = await drain(stream)
        await stream.close()
        return got

    batches = asyncio.run(run())
    assert sorted(r["id"] for r in rows(batches)) == list(range(2000))
    assert max(b.num_rows for b in batches) == 500  # batches fill by count


def test_topic_filters_and_output_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="not a valid topic filter"):
        MqttInputConfig.model_validate({"topics": ["a/#/b"]})
    with pytest.raises(ValueError, match="not a valid topic filter"):
        MqttInputConfig.model_validate({"topics": ["a/b+"]})
    MqttInputConfig.model_validate({"topics": ["a/+/b", "#", "$share/g/a/#"]})
    with pytest.raises(ValueError, match="one of them"):
        MqttOutputConfig.model_validate({})
    with pytest.raises(ValueError, match="wildcard"):
        MqttOutputConfig.model_validate({"topic": "a/#"})
    with pytest.raises(ValueError, match="protocol: '5'"):
        MqttOutputConfig.model_validate({"topic": "a", "header_fields": ["h"]})
