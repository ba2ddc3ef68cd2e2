"""examples/kafka-to-postgresql.yaml against Tansu (test fixture) and the local PostgreSQL."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.cli_runner import REPO, run_fustgo
from tests.databases import pg
from tests.plugins.streams.kafka_broker import KafkaBroker, kafka_broker_fixture  # noqa: F401

pytestmark = pytest.mark.integration


def test_example_upserts_order_events_from_matching_topics(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:8]
    table, dead = f"fg_kafka_orders_{suffix}", tmp_path / "failed.jsonl"
    # The example reads `^orders\..*`: topics unique to this test would not match it, so
    # the group is unique and the ids are checked, not the whole table.
    eu, us = kafka_broker.create_topic(f"orders.eu-{suffix}"), f"orders.us-{suffix}"
    kafka_broker.create_topic(us)
    kafka_broker.produce(eu, [{"order_id": 1, "status": "new", "amount": 9.5}, b"{oops"])
    kafka_broker.produce(us, [{"order_id": 2, "status": "new", "amount": 3.0}])
    kafka_broker.produce(eu, [{"order_id": 1, "status": "paid", "amount": 9.5}])
    kafka_broker.produce(f"invoices-{suffix}", [{"order_id": 3, "status": "x", "amount": 1}])
    env = {
        "KAFKA_BROKERS": kafka_broker.address,
        "KAFKA_GROUP": f"example-{suffix}",
        "PG_TABLE": table,
        "DEAD_LETTER": str(dead),
    }
    settings = [
        "--set", "input.stop.idle=1s",
        "--set", 'input.properties={"session.timeout.ms": 2000, "heartbeat.interval.ms": 300}',
    ]  # fmt: skip
    example = REPO / "examples" / "kafka-to-postgresql.yaml"
    try:
        run = run_fustgo("run", str(example), "--quiet", *settings, cwd=tmp_path, env=env)
        assert run.exit_code == 0, run.stdout + run.stderr
        got = pg(f"SELECT order_id, status, _topic FROM {table} ORDER BY 1")
        assert [(o, s) for o, s, _ in got if o in (1, 2, 3)] == [(1, "paid"), (2, "new")]
        [letter] = [json.loads(line) for line in dead.read_text().splitlines()]
        record = letter["record"]
        record = json.loads(record) if isinstance(record, str) else record
        assert record["_topic"] == eu and record["_offset"] == 1 and "JSON" in letter["error"]
    finally:
        pg(f"DROP TABLE IF EXISTS {table}")
