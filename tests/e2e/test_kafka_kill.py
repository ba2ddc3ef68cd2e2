"""`kill -9` a Kafka → PostgreSQL (upsert) run midway, run it again: every one of 100,000
messages arrives, and the target holds each id exactly once (replays are upserted)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.kill import (
    SETTINGS,
    assert_each_id_once,
    assert_replays_counted,
    kill_then_drain,
    target_schema,
)
from tests.plugins.streams.kafka_broker import KafkaBroker, kafka_broker_fixture  # noqa: F401

pytestmark = pytest.mark.e2e

MESSAGES = 100_000


@pytest.fixture
def schema() -> Iterator[str]:
    with target_schema("kafka_kill") as name:
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
    source = {
        "type": "kafka",
        "connection": {"brokers": [kafka_broker.address]},
        "topics": [topic],
        "group": group,
        "properties": {"session.timeout.ms": 2000, "heartbeat.interval.ms": 300},
    }

    def committed_only_what_was_written(before: int) -> None:
        committed = sum(max(0, o) for o in kafka_broker.committed(group, topic, 4))
        assert committed <= before, "offsets were committed for messages not in the target"

    # Again, now ending when the topic is drained: it starts from the committed offsets.
    before, summary = kill_then_drain(
        tmp_path,
        "kafka-kill",
        source,
        schema=schema,
        total=MESSAGES,
        at=MESSAGES // 3,
        idle="3s",
        settings={**SETTINGS, "checkpoint": {"interval": "0.5s", "path": "state.db"}},
        after_kill=committed_only_what_was_written,
    )
    # At least once: it read everything after the last commit, some of it again.
    assert summary["records_read"] >= MESSAGES - before
    # What was written but not committed before the kill is replayed, and counted so.
    assert_replays_counted(summary, MESSAGES, before)

    assert_each_id_once(schema, MESSAGES)
    assert sum(kafka_broker.committed(group, topic, 4)) == MESSAGES
