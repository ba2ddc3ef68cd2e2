"""broker and switch outputs: routing, per-case processors, defaults, isolation, retries."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pyarrow as pa
import pytest

from fustgo.engine.batch import Batch
from fustgo.engine.errors import DataError, RetryableError
from fustgo.plugins.api import Output, PluginContext
from fustgo.plugins.outputs.branching import Broker, BrokerConfig
from tests.pipeline_runs import run_yaml

pytestmark = pytest.mark.unit

EVENTS = [
    {"id": 1, "type": "order", "amount": 10.5, "user": "ana"},
    {"id": 2, "type": "refund", "amount": 3.0, "user": "bo"},
    {"id": 3, "type": "order", "amount": 7.25, "user": "chen"},
    {"id": 4, "type": "ping", "amount": None, "user": "dmitri"},
    {"id": 5, "type": None, "amount": 1.5, "user": "émilie"},
]


def write_events(folder: Path, events: list[dict] = EVENTS) -> None:
    (folder / "events.jsonl").write_text(
        "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8"
    )


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


SWITCH = """
name: switch
settings: {{checkpoint: {{enabled: false}}, error_limit: {{records: 10}}}}
input: {{type: json, paths: [events.jsonl]}}
output:
  type: switch
  cases:
    - condition: "type = 'order'"
      output: {{type: json, path: orders.jsonl}}
    - condition: "type = 'refund'"
      processors:
        - {{type: transform, fields: {{amount: "-amount"}}}}
        - {{type: mapping, drop: [type]}}
      output: {{type: sqlite, connection: {{database: refunds.db}}, write: {{table: refunds}}}}
{default}
dead_letter: {{type: json, path: dead.jsonl}}
"""


def test_switch_routes_by_first_true_case_with_case_processors(tmp_path: Path) -> None:
    write_events(tmp_path)
    default = "  default: {output: {type: json, path: other.jsonl}}"
    summary = run_yaml(SWITCH.format(default=default), tmp_path).summary
    assert summary.status == "succeeded", summary.error
    assert [r["id"] for r in read_jsonl(tmp_path / "orders.jsonl")] == [1, 3]
    assert sorted(r["id"] for r in read_jsonl(tmp_path / "other.jsonl")) == [4, 5]
    db = sqlite3.connect(tmp_path / "refunds.db")
    assert db.execute("SELECT id, amount, user FROM refunds").fetchall() == [(2, -3.0, "bo")]
    columns = [r[1] for r in db.execute("PRAGMA table_info(refunds)")]
    db.close()
    assert "type" not in columns
    assert summary.records_written == 5 and summary.records_failed == 0


def test_switch_without_default_dead_letters_the_unmatched(tmp_path: Path) -> None:
    write_events(tmp_path)
    summary = run_yaml(SWITCH.format(default=""), tmp_path).summary
    assert summary.status == "succeeded", summary.error
    letters = read_jsonl(tmp_path / "dead.jsonl")
    assert sorted(json.loads(x["record"])["id"] for x in letters) == [4, 5]
    assert all("matched no case" in x["error"] for x in letters)
    assert summary.records_failed == 2


def test_broker_fans_out_to_every_output(tmp_path: Path) -> None:
    write_events(tmp_path)
    pipeline = """
name: broker
settings: {checkpoint: {enabled: false}}
input: {type: json, paths: [events.jsonl]}
output:
  type: broker
  outputs:
    - {type: json, path: a.jsonl}
    - {type: csv, path: b.csv}
"""
    summary = run_yaml(pipeline, tmp_path).summary
    assert summary.status == "succeeded", summary.error
    assert len(read_jsonl(tmp_path / "a.jsonl")) == 5
    assert len((tmp_path / "b.csv").read_text(encoding="utf-8").splitlines()) == 6
    assert "émilie" in (tmp_path / "b.csv").read_text(encoding="utf-8")


class FlakyOutput(Output):
    """Refuses id 13 as bad data and fails transiently once; keeps what it got."""

    def __init__(self, transient: int = 0) -> None:
        super().__init__(None, PluginContext(component_path="child"))  # type: ignore[arg-type]
        self.rows: list[int] = []
        self.transient = transient

    async def write(self, batch: Batch) -> None:
        ids = batch.data.column("id").to_pylist()
        if 13 in ids:
            raise DataError("id 13 is cursed")
        if self.transient:
            self.transient -= 1
            raise RetryableError("busy")
        self.rows.extend(ids)


def test_broker_isolates_bad_records_and_does_not_rewrite_after_a_retry() -> None:
    steady, flaky = FlakyOutput(), FlakyOutput(transient=1)
    built = iter([steady, flaky])
    context = PluginContext(component_path="output", components=lambda kind, cfg, path: next(built))
    broker = Broker(BrokerConfig(outputs=[{"type": "x"}, {"type": "y"}]), context)
    batch = Batch.of(pa.record_batch({"id": list(range(10, 20))}))

    async def go() -> None:
        await broker.open(batch.schema)
        with pytest.raises(RetryableError):
            await broker.write(batch)  # steady took it; flaky failed transiently
        await broker.write(batch)  # the runner's retry: only flaky writes now

    asyncio.run(go())
    expected = [i for i in range(10, 20) if i != 13]
    assert steady.rows == expected  # not twice
    assert sorted(flaky.rows) == expected
    rejected = broker.take_rejected()
    assert [r.records.column("id").to_pylist() for r in rejected] == [[13], [13]]
