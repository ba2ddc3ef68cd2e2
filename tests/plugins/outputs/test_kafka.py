"""The kafka output against a real broker (Tansu): messages, keys, headers, failures."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pydantic import ValidationError

from fustgo.engine.batch import Batch
from fustgo.engine.errors import DataError, RetryableError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.outputs.kafka import KafkaOutput, KafkaOutputConfig
from tests.cli_runner import run_fustgo
from tests.plugins.streams.kafka_broker import (  # noqa: F401
    KafkaBroker,
    free_port,
    kafka_broker_fixture,
    start_tansu,
    stop,
    unique,
    wait_port,
)

pytestmark = pytest.mark.integration


def make(address: str, **config: Any) -> KafkaOutput:
    settings = {"connection": {"brokers": [address]}, **config}
    return KafkaOutput(
        KafkaOutputConfig.model_validate(settings), PluginContext(component_path="output")
    )


def test_records_become_messages_with_keys_and_headers(kafka_broker: KafkaBroker) -> None:
    topic = unique("out")
    output = make(
        kafka_broker.address,
        topic=topic,
        key_field="id",
        header_fields=["region"],
        compression="zstd",
    )
    data = pa.record_batch(
        {"id": [1, 2, 3], "region": ["eu", None, "us"], "amount": [1.5, 2.0, None]}
    )

    async def go() -> None:
        await output.open(data.schema)
        await output.write(Batch(data))
        await output.write(Batch(data.slice(0, 1)))
        await output.flush()
        await output.close()

    asyncio.run(go())
    got = kafka_broker.read(topic, expected=4)
    messages = sorted((m.key(), m.value(), m.headers()) for m in got)  # partitioned by key
    assert [(key, json.loads(value), headers) for key, value, headers in messages] == [
        (b"1", {"amount": 1.5}, [("region", b"eu")]),
        (b"1", {"amount": 1.5}, [("region", b"eu")]),
        (b"2", {"amount": 2.0}, None),
        (b"3", {"amount": None}, [("region", b"us")]),
    ]  # the key and header fields are not in the payload
    assert output.stats().records_written == 4


def test_a_message_too_large_is_a_data_error_before_anything_is_sent(
    kafka_broker: KafkaBroker,
) -> None:
    topic = kafka_broker.create_topic(unique("large"))
    output = make(kafka_broker.address, topic=topic, max_message_bytes=1000)
    data = pa.record_batch({"id": [1, 2], "text": ["small", "x" * 2000]})

    async def go() -> None:
        await output.open(data.schema)
        try:
            with pytest.raises(DataError, match=r"rows \[1\].*output\.max_message_bytes"):
                await output.write(Batch(data))
            await output.write(Batch(data.slice(0, 1)))
            await output.flush()
        finally:
            await output.close()

    asyncio.run(go())
    assert [json.loads(m.value())["id"] for m in kafka_broker.read(topic, expected=1)] == [1]


def test_pipeline_sends_the_oversized_record_to_the_dead_letter(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    topic = kafka_broker.create_topic(unique("pipe"))
    lines = [{"id": i, "text": "x" * (3000 if i == 7 else 10)} for i in range(20)]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    (tmp_path / "p.yaml").write_text(
        f"""
name: {unique("p")}
settings: {{error_limit: {{records: 5}}}}
input: {{type: json, paths: [in.jsonl]}}
output:
  type: kafka
  connection: {{brokers: ["{kafka_broker.address}"]}}
  topic: {topic}
  key_field: id
  max_message_bytes: 1000
dead_letter: {{type: json, path: dead.jsonl}}
"""
    )
    result = run_fustgo("run", "p.yaml", cwd=tmp_path, summary_path=tmp_path / "s.json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.summary is not None and result.summary["records_written"] == 19
    [letter] = [json.loads(x) for x in (tmp_path / "dead.jsonl").read_text().splitlines()]
    assert "max_message_bytes" in letter["error"]
    sent = sorted(int(m.key()) for m in kafka_broker.read(topic, expected=19))
    assert sent == [i for i in range(20) if i != 7]


def test_unreachable_broker_is_retryable_and_names_host_and_port() -> None:
    port = free_port()
    output = KafkaOutput(
        KafkaOutputConfig.model_validate(
            {"connection": {"brokers": [f"127.0.0.1:{port}"], "timeout": 1}, "topic": "t"}
        ),
        PluginContext(component_path="output"),
    )
    with pytest.raises(RetryableError, match=rf"127\.0\.0\.1:{port}.*output\.connection\.brokers"):
        asyncio.run(output.open(pa.schema([("id", pa.int64())])))


def test_deliveries_that_fail_while_the_broker_is_down_are_sent_again_on_retry() -> None:
    """flush → RetryableError while down; the runner's retry of flush delivers them."""
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        broker = start_tansu(port, Path(folder))
        try:
            wait_port(port, broker, time.monotonic() + 30)
            address = f"127.0.0.1:{port}"
            topic = unique("down")
            # Not idempotent: the restarted in-memory broker forgets producer ids, which an
            # idempotent producer rightly treats as fatal (a real cluster keeps them).
            output = make(
                address, topic=topic, delivery_timeout=1.5, key_field="id", idempotent=False
            )
            data = pa.record_batch({"id": [1, 2, 3], "v": ["a", "b", "c"]})

            async def go() -> None:
                nonlocal broker
                await output.open(data.schema)
                await output.write(Batch(data))
                await output.flush()
                stop(broker)
                await output.write(Batch(pa.record_batch({"id": [4, 5], "v": ["d", "e"]})))
                with pytest.raises(RetryableError, match=r"2 message\(s\).*sent again"):
                    await output.flush()
                broker = start_tansu(port, Path(folder))  # memory storage: a new, empty topic
                wait_port(port, broker, time.monotonic() + 30)
                for attempt in range(20):  # as the runner retries a flush
                    try:
                        await output.flush()
                        break
                    except RetryableError:
                        assert attempt < 19
                await output.close()

            asyncio.run(go())
            got = KafkaBroker(address).read(topic, expected=2)
            assert sorted(int(m.key()) for m in got) == [4, 5]
        finally:
            stop(broker)


def test_idempotence_needs_acks_all() -> None:
    with pytest.raises(ValidationError, match="idempotent"):
        KafkaOutputConfig.model_validate(
            {"connection": {"brokers": ["h:1"]}, "topic": "t", "acks": "leader"}
        )
    config = KafkaOutputConfig.model_validate(
        {"connection": {"brokers": ["h:1"]}, "topic": "t", "acks": "leader", "idempotent": False}
    )
    assert config.acks == "leader"
