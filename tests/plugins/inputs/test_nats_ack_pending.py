"""A JetStream durable at `max_ack_pending` pauses delivery until the next checkpoint's
acks: with `stop.idle` shorter than the checkpoint interval, that pause must not end the
run early (real NATS server on 127.0.0.1:4222)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.pipeline_runs import run_yaml
from tests.plugins.inputs.test_nats import consumer_state, create_stream, name, publish

pytestmark = pytest.mark.integration
__all__ = ["name"]  # the fixture


def test_a_pause_at_max_ack_pending_is_not_an_idle_stream(name: str, tmp_path: Path) -> None:
    create_stream(name)
    publish(f"{name}.orders", [json.dumps({"id": i}).encode() for i in range(600)])
    outcome = run_yaml(
        f"""
name: ack-pending
settings: {{batch_size: 50, checkpoint: {{interval: 1s}}}}
input:
  type: nats
  connection: {{servers: ["nats://127.0.0.1:4222"]}}
  subjects: ["{name}.orders"]
  jetstream: {{stream: {{name: {name}}}, max_ack_pending: 100}}
  batching: {{period: 0.05s}}
  stop: {{idle: 0.4s}}
output: {{type: sqlite, connection: {{database: {tmp_path}/out.db}}, write: {{table: t}}}}
""",
        tmp_path,
    )
    assert outcome.summary.status == "succeeded", outcome.summary.error
    assert outcome.summary.records_written == 600
    with sqlite3.connect(tmp_path / "out.db") as db:
        assert db.execute("SELECT count(DISTINCT id) FROM t").fetchone() == (600,)
    assert consumer_state(name) == (0, 0)
