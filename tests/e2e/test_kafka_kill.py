"""`kill -9` a Kafka → PostgreSQL (upsert) run midway, run it again: every one of 100,000
messages arrives, and the target holds each id exactly once (replays are upserted)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import pg, pg_schema
from tests.e2e.kill import assert_replays_counted, kill_midway, rerun, target_ids
from tests.plugins.streams.kafka_broker import KafkaBroker, kafka_broker_fixture  # noqa: F401

pytestmark = pytest.mark.e2e

MESSAGES = 100_000

PIPELINE = """
name: kafka-kill
settings:
  parallelism: 2
  batch_size: 5000
  checkpoint: {{interval: 0.5s, path: state.db}}
input:
  type: kafka
  connection: {{brokers: ["{broker}"]}}
  topics: ["{topic}"]
  group: {group}
  properties: {{session.timeout.ms: 2000, heartbeat.interval.ms: 300}}
  {stop}
output:
  type: postgresql
  connection: {{host: 127.0.0.1, database: test, user: postgres}}
  write: {{table: {schema}.target, mode: upsert, conflict_key: [id]}}
"""


@pytest.fixture
def schema() -> Iterator[str]:
    with pg_schema("kafka_kill") as name:
        pg(f'CREATE TABLE "{name}".target (id bigint PRIMARY KEY, name text, amount float8)')
        yield name


def test_kill_9_midway_then_rerun_delivers_every_message_exactly_once_in_the_target(
    kafka_broker: KafkaBroker, schema: str, tmp_path: Path
) -> None:
    topic = kafka_broker.create_topic(f"kill-{uuid.uuid4().hex[:8]}", partitions=4)
    kafka_broker.produce(
        topic,
        [{"id": i, "name": f"n{i}", "amount": i / 100} for i in range(MESSAGES)],
        keys=[str(i).encode() for i in range(MESSAGES)],
    )
    group = f"g-{uuid.uuid4().hex[:8]}"
    pipeline = tmp_path / "pipeline.yaml"

    def write(stop: str) -> None:
        pipeline.write_text(
            PIPELINE.format(
                broker=kafka_broker.address, topic=topic, group=group, schema=schema, stop=stop
            )
        )

    write("")  # runs until killed
    before = kill_midway(pipeline, cwd=tmp_path, schema=schema, at=MESSAGES // 3, total=MESSAGES)
    committed = sum(max(0, o) for o in kafka_broker.committed(group, topic, 4))
    assert committed <= before, "offsets were committed for messages not in the target"

    # Again, now ending when the topic is drained: it starts from the committed offsets.
    write("stop: {idle: 3s}")
    summary = rerun(pipeline, cwd=tmp_path)
    # At least once: it read everything after the last commit, some of it again.
    assert summary["records_read"] >= MESSAGES - before
    # What was written but not committed before the kill is replayed, and counted so.
    assert_replays_counted(summary, MESSAGES, before)

    assert target_ids(schema) == (MESSAGES, MESSAGES, 0, MESSAGES - 1)
    assert sum(kafka_broker.committed(group, topic, 4)) == MESSAGES
