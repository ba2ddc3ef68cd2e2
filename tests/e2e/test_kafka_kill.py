"""`kill -9` a Kafka → PostgreSQL (upsert) run midway, run it again: every one of 100,000
messages arrives, and the target holds each id exactly once (replays are upserted)."""

from __future__ import annotations

import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.cli_runner import fustgo_command, run_fustgo
from tests.plugins.streams.kafka_broker import KafkaBroker, kafka_broker_fixture  # noqa: F401

pytestmark = pytest.mark.e2e

DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
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


def pg(statement: str) -> list[tuple]:
    with psycopg.connect(DSN, autocommit=True) as connection:
        cursor = connection.execute(statement)  # type: ignore[arg-type]
        return list(cursor.fetchall()) if cursor.description else []


@pytest.fixture
def schema() -> Iterator[str]:
    name = f"fg_kafka_kill_{uuid.uuid4().hex[:10]}"
    pg(f'CREATE SCHEMA "{name}"')
    pg(f'CREATE TABLE "{name}".target (id bigint PRIMARY KEY, name text, amount float8)')
    try:
        yield name
    finally:
        pg(f'DROP SCHEMA "{name}" CASCADE')


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
    process = subprocess.Popen(
        fustgo_command("run", str(pipeline), "--quiet"),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while pg(f'SELECT count(*) FROM "{schema}".target')[0][0] < MESSAGES // 3:
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, "a third of the messages did not arrive in 60 s"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    before = pg(f'SELECT count(*) FROM "{schema}".target')[0][0]
    assert before < MESSAGES, "the run must be killed midway"
    committed = sum(max(0, o) for o in kafka_broker.committed(group, topic, 4))
    assert committed <= before, "offsets were committed for messages not in the target"

    # Again, now ending when the topic is drained: it starts from the committed offsets.
    write("stop: {idle: 3s}")
    again = run_fustgo("run", str(pipeline), "--quiet", cwd=tmp_path, summary_path=tmp_path / "s")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert again.summary is not None
    # At least once: it read everything after the last commit, some of it again.
    assert again.summary["records_read"] >= MESSAGES - before
    # What was written but not committed before the kill is replayed, and counted so.
    assert again.summary["records_updated"] > 0
    assert again.summary["records_written"] == MESSAGES - before + again.summary["records_updated"]

    count, distinct, low, high = pg(
        f'SELECT count(*), count(DISTINCT id), min(id), max(id) FROM "{schema}".target'
    )[0]
    assert count == distinct == MESSAGES and (low, high) == (0, MESSAGES - 1)
    assert sum(kafka_broker.committed(group, topic, 4)) == MESSAGES
