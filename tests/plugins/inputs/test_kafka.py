"""The kafka input against a real broker (Tansu): records, metadata, groups, offsets, errors."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from fustgo.engine.batch import Batch
from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.inputs.kafka import KafkaInput, KafkaInputConfig
from tests.cli_runner import fustgo_command, run_fustgo
from tests.plugins.streams.kafka_broker import (  # noqa: F401
    GROUP_TIMEOUTS,
    KafkaBroker,
    free_port,
    kafka_broker_fixture,
    unique,
)

pytestmark = pytest.mark.integration


def make(broker: KafkaBroker, resume: bool = False, **config: Any) -> KafkaInput:
    settings = {
        "connection": {"brokers": [broker.address]},
        "properties": dict(GROUP_TIMEOUTS),
        "stop": {"idle": 0.5},
        "batching": {"period": 0.2},
        **config,
    }
    return KafkaInput(
        KafkaInputConfig.model_validate(settings),
        PluginContext(component_path="input", pipeline_name="test", resume=resume),
    )


def read_all(stream: KafkaInput, parallelism: int = 1, ack: bool = True) -> list[Batch]:
    """Open, read every split concurrently until idle, ack the last checkpoints, close."""

    async def one(split: Any) -> list[Batch]:
        return [batch async for batch in stream.read(split, None)]

    async def go() -> list[Batch]:
        await stream.open()
        try:
            splits = await stream.splits(parallelism)
            results = await asyncio.gather(*(one(s) for s in splits))
            if ack:
                for batches in results:
                    await stream.ack(batches[-1].checkpoint)  # type: ignore[arg-type]
        finally:
            await stream.close()
        return [batch for batches in results for batch in batches]

    return asyncio.run(go())


def rows(batches: list[Batch]) -> list[dict[str, Any]]:
    return [row for batch in batches for row in batch.data.to_pylist()]


def test_records_keep_keys_headers_and_metadata_and_acks_commit_offsets(
    kafka_broker: KafkaBroker,
) -> None:
    topic = kafka_broker.create_topic(unique("orders"), partitions=2)
    kafka_broker.produce(
        topic,
        [{"id": i, "name": f"n{i}"} for i in range(40)],
        keys=[f"k{i}".encode() for i in range(40)],
        headers=[{"source": "test", "n": str(i)} for i in range(40)],
    )
    group = unique("g")
    stream = make(
        kafka_broker,
        topics=[topic],
        group=group,
        metadata=["key", "headers", "topic", "partition", "offset", "timestamp"],
    )
    got = rows(read_all(stream))
    assert sorted(r["id"] for r in got) == list(range(40))
    first = next(r for r in got if r["id"] == 7)
    assert first["_key"] == "k7" and json.loads(first["_headers"]) == {"source": "test", "n": "7"}
    assert first["_topic"] == topic and first["_partition"] in (0, 1)
    assert first["_timestamp"].year >= 2024
    per_partition = {p: sorted(r["_offset"] for r in got if r["_partition"] == p) for p in (0, 1)}
    assert all(offsets == list(range(len(offsets))) for offsets in per_partition.values())
    # The group committed the next offset to read in each partition.
    committed = kafka_broker.committed(group, topic, 2)
    assert committed == [len(per_partition[0]), len(per_partition[1])]
    # Read again with the same group: nothing is left.
    assert rows(read_all(make(kafka_broker, topics=[topic], group=group))) == []


def test_unacknowledged_batches_are_read_again(kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.create_topic(unique("replay"))
    kafka_broker.produce(topic, [{"id": i} for i in range(10)])
    group = unique("g")
    assert len(rows(read_all(make(kafka_broker, topics=[topic], group=group), ack=False))) == 10
    assert kafka_broker.committed(group, topic) == [-1001]
    again = rows(read_all(make(kafka_broker, topics=[topic], group=group)))
    assert sorted(r["id"] for r in again) == list(range(10))


def test_topic_pattern_reads_every_matching_topic_and_only_those(
    kafka_broker: KafkaBroker,
) -> None:
    prefix = unique("shop").replace("-", "_")
    for name, count in ((f"{prefix}.orders.eu", 3), (f"{prefix}.orders.us", 2), (f"{prefix}.x", 5)):
        kafka_broker.create_topic(name)
        kafka_broker.produce(name, [{"n": i} for i in range(count)])
    stream = make(
        kafka_broker, topics=[f"^{prefix}\\.orders\\..*"], group=unique("g"), metadata=["topic"]
    )
    got = rows(read_all(stream))
    assert (
        sorted(r["_topic"] for r in got)
        == [f"{prefix}.orders.eu"] * 3 + [f"{prefix}.orders.us"] * 2
    )


def test_start_from_committed_earliest_and_latest(kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.create_topic(unique("start"))
    group = unique("g")
    kafka_broker.produce(topic, [{"id": i} for i in range(5)])
    assert len(rows(read_all(make(kafka_broker, topics=[topic], group=group)))) == 5
    kafka_broker.produce(topic, [{"id": i} for i in range(5, 8)], separately=True)
    # committed (the default): only what arrived since the last commit
    fresh = make(kafka_broker, topics=[topic], group=group)
    assert [r["id"] for r in rows(read_all(fresh, ack=False))] == [5, 6, 7]
    # earliest ignores the committed offset on a fresh run …
    earliest = make(kafka_broker, topics=[topic], group=group, start_from="earliest")
    assert [r["id"] for r in rows(read_all(earliest, ack=False))] == list(range(8))
    # … but a resumed run continues from it
    resumed = make(kafka_broker, resume=True, topics=[topic], group=group, start_from="earliest")
    assert [r["id"] for r in rows(read_all(resumed, ack=False))] == [5, 6, 7]
    # latest: nothing already there
    latest = make(kafka_broker, topics=[topic], group=group, start_from="latest")
    assert rows(read_all(latest)) == []
    # a new group with `reset: latest` starts at the end too; `earliest` at the beginning
    new_latest = make(kafka_broker, topics=[topic], group=unique("g"), reset="latest")
    assert rows(read_all(new_latest, ack=False)) == []
    assert len(rows(read_all(make(kafka_broker, topics=[topic], group=unique("g"))))) == 8


def test_two_members_share_the_partitions_and_together_read_everything(
    kafka_broker: KafkaBroker,
) -> None:
    topic = kafka_broker.create_topic(unique("shared"), partitions=4)
    kafka_broker.produce(
        topic, [{"id": i} for i in range(400)], keys=[b"%d" % i for i in range(400)]
    )
    group = unique("g")
    stream = make(kafka_broker, topics=[topic], group=group, stop={"idle": 3})
    batches = read_all(stream, parallelism=2)
    ids = [r["id"] for r in rows(batches)]
    assert set(ids) == set(range(400))  # a rebalance may replay, never skip
    assert {b.metadata.split_id for b in batches} == {"consumer-0", "consumer-1"}
    assert sum(kafka_broker.committed(group, topic, 4)) == 400


def test_unreachable_broker_is_retryable_and_names_host_and_port() -> None:
    port = free_port()
    stream = KafkaInput(
        KafkaInputConfig.model_validate(
            {"connection": {"brokers": [f"127.0.0.1:{port}"], "timeout": 1}, "topics": ["t"]}
        ),
        PluginContext(component_path="input"),
    )
    with pytest.raises(RetryableError, match=rf"127\.0\.0\.1:{port}.*input\.connection\.brokers"):
        asyncio.run(stream.open())


def test_missing_topic_is_terminal(kafka_broker: KafkaBroker) -> None:
    stream = make(kafka_broker, topics=[unique("nowhere")])
    with pytest.raises(TerminalError, match=r"do not exist.*input\.topics"):
        asyncio.run(stream.open())


def test_config_rejects_managed_properties_and_bad_patterns() -> None:
    base = {"connection": {"brokers": ["127.0.0.1:9092"]}}
    with pytest.raises(ValidationError, match=r"enable\.auto\.commit"):
        KafkaInputConfig.model_validate(
            {**base, "topics": ["t"], "properties": {"enable.auto.commit": True}}
        )
    with pytest.raises(ValidationError, match="not a valid regex"):
        KafkaInputConfig.model_validate({**base, "topics": ["^orders(["]})
    with pytest.raises(ValidationError, match="host:port"):
        KafkaInputConfig.model_validate({"connection": {"brokers": ["nohost"]}, "topics": ["t"]})
    with pytest.raises(ValidationError, match="sasl"):
        KafkaInputConfig.model_validate(
            {"connection": {"brokers": ["h:1"], "security_protocol": "sasl_ssl"}, "topics": ["t"]}
        )


# ------------------------------------------------------------------ through `fustgo run`

PIPELINE = """
name: {name}
settings:
  batch_size: 500
  checkpoint: {{interval: 0.2s, path: state.db}}
  error_limit: {{records: 10}}
input:
  type: kafka
  connection: {{brokers: ["{broker}"]}}
  topics: ["{topic}"]
  group: {group}
  metadata: [partition, offset]
  properties: {{session.timeout.ms: 2000, heartbeat.interval.ms: 300}}
  batching: {{period: 0.2s}}
{stop}
output:
  type: sqlite
  connection: {{database: out.db}}
  write: {{table: orders, mode: upsert, conflict_key: [id]}}
dead_letter:
  type: json
  path: dead.jsonl
"""


def pipeline(tmp_path: Path, broker: KafkaBroker, topic: str, group: str, idle: str | None) -> Path:
    stop = f"  stop: {{idle: {idle}}}" if idle else ""
    path = tmp_path / "pipeline.yaml"
    path.write_text(
        PIPELINE.format(
            name=unique("p"), broker=broker.address, topic=topic, group=group, stop=stop
        )
    )
    return path


def target_ids(tmp_path: Path) -> list[int]:
    try:
        with sqlite3.connect(tmp_path / "out.db") as connection:
            return [row[0] for row in connection.execute("SELECT id FROM orders ORDER BY id")]
    except sqlite3.OperationalError:  # the output has not created the table yet
        return []


def test_poison_message_goes_to_the_dead_letter_with_its_offset_and_the_run_goes_on(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    topic = kafka_broker.create_topic(unique("poison"))
    values: list[bytes | dict[str, Any]] = [{"id": i, "v": f"x{i}"} for i in range(30)]
    values[12] = b'{"id": 12, "v": '  # cut short
    kafka_broker.produce(topic, values)
    path = pipeline(tmp_path, kafka_broker, topic, unique("g"), idle="1s")
    result = run_fustgo("run", str(path), cwd=tmp_path, summary_path=tmp_path / "s.json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.summary is not None and result.summary["records_failed"] == 1
    assert target_ids(tmp_path) == [i for i in range(30) if i != 12]
    [letter] = [json.loads(line) for line in (tmp_path / "dead.jsonl").read_text().splitlines()]
    record = json.loads(letter["record"]) if isinstance(letter["record"], str) else letter["record"]
    assert record["_offset"] == 12 and record["_partition"] == 0 and record["_topic"] == topic
    assert "JSON" in letter["error"]


def test_sigterm_drains_commits_and_the_next_run_reads_only_new_messages(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    topic = kafka_broker.create_topic(unique("drain"), partitions=2)
    group = unique("g")
    kafka_broker.produce(
        topic, [{"id": i, "v": "a"} for i in range(2000)], keys=[b"%d" % i for i in range(2000)]
    )
    path = pipeline(tmp_path, kafka_broker, topic, group, idle=None)  # runs until stopped
    process = subprocess.Popen(
        fustgo_command("run", str(path), "--quiet"),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not (tmp_path / "out.db").exists() or len(target_ids(tmp_path)) < 2000:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "the run did not write 2,000 records in 60 s"
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 128 + signal.SIGTERM
    assert sum(max(0, offset) for offset in kafka_broker.committed(group, topic, 2)) == 2000
    kafka_broker.produce(topic, [{"id": i, "v": "b"} for i in range(2000, 2010)])
    path = pipeline(tmp_path, kafka_broker, topic, group, idle="1s")
    again = run_fustgo("run", str(path), cwd=tmp_path, summary_path=tmp_path / "s.json")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert again.summary is not None and again.summary["records_read"] == 10
    assert target_ids(tmp_path) == list(range(2010))
