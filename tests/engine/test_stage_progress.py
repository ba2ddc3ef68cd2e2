"""Per-stage counters and queue fill in the runner's progress snapshots, keyed by the
pipeline file's paths: the input, each processor, a `switch` output and what is nested
in its cases, a `broker`'s outputs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from fustgo.config.loader import load_pipeline
from fustgo.engine.runner import Runner, RunObserver
from fustgo.engine.stats import ProgressSnapshot, RunSummary, StageProgress
from fustgo.runtime.execute import run_pipeline

pytestmark = pytest.mark.unit

TYPES = ["order", "refund", "ping", None]
EVENTS = [{"id": i, "type": TYPES[i % 4], "amount": i % 10, "user": f"u{i}"} for i in range(1, 101)]

PIPELINE = """
name: stages
settings: {checkpoint: {enabled: false}, error_limit: {records: 1000}, batch_size: 16}
input: {type: json, paths: [events.jsonl]}
pipeline:
  processors:
    - {type: filter, condition: "id > 20"}
    - {type: mapping, drop: [user]}
output:
  type: switch
  cases:
    - condition: "type = 'order'"
      output: {type: json, path: orders.jsonl}
    - condition: "type = 'refund'"
      processors:
        - {type: filter, condition: "amount > 5"}
      output: {type: json, path: refunds.jsonl}
dead_letter: {type: json, path: dead.jsonl}
"""

BROKER = """
name: fanout
settings: {checkpoint: {enabled: false}, error_limit: {records: 1000}}
input: {type: json, paths: [events.jsonl]}
output:
  type: broker
  outputs:
    - {type: json, path: all.jsonl}
    - type: switch
      cases:
        - condition: "type = 'order'"
          output: {type: json, path: orders.jsonl}
      default: {output: {type: json, path: others.jsonl}}
dead_letter: {type: json, path: dead.jsonl}
"""


class _Keep(RunObserver):
    progress_interval_seconds = 0.01

    def __init__(self) -> None:
        self.snapshots: list[ProgressSnapshot] = []
        self.summary: RunSummary | None = None

    def on_start(self, snapshot: ProgressSnapshot) -> None:
        self.snapshots.append(snapshot)

    def on_progress(self, snapshot: ProgressSnapshot) -> None:
        self.snapshots.append(snapshot)

    def on_finish(self, summary: RunSummary) -> None:
        self.summary = summary


def _run(text: str, folder: Path) -> tuple[Runner, _Keep]:
    (folder / "events.jsonl").write_text(
        "".join(json.dumps(e) + "\n" for e in EVENTS), encoding="utf-8"
    )
    path = folder / "pipeline.yaml"
    path.write_text(text, encoding="utf-8")
    report = load_pipeline(path)
    assert report.pipeline is not None, [d.message for d in report.diagnostics]
    observer = _Keep()
    runners: list[Runner] = []
    asyncio.run(
        run_pipeline(
            report.pipeline,
            handle_signals=False,
            fresh=True,
            observer=observer,
            on_runner=runners.append,
        )
    )
    assert observer.summary is not None and observer.summary.status == "succeeded"
    return runners[0], observer


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_switch_pipeline_counts_every_stage_by_its_path(tmp_path: Path) -> None:
    runner, observer = _run(PIPELINE, tmp_path)
    kept = [e for e in EVENTS if e["id"] > 20]
    orders = [e for e in kept if e["type"] == "order"]
    refunds = [e for e in kept if e["type"] == "refund"]
    big_refunds = [e for e in refunds if e["amount"] > 5]
    unmatched = len(kept) - len(orders) - len(refunds)
    assert _lines(tmp_path / "orders.jsonl") == len(orders)
    assert _lines(tmp_path / "refunds.jsonl") == len(big_refunds)
    assert _lines(tmp_path / "dead.jsonl") == unmatched

    final = runner.snapshot()
    assert final.stages == {
        "input": StageProgress(100, 100, 0),
        "pipeline.processors[0]": StageProgress(100, len(kept), 0),
        "pipeline.processors[1]": StageProgress(len(kept), len(kept), 0),
        "output": StageProgress(len(kept), len(orders) + len(refunds), unmatched),
        "output.cases[0].output": StageProgress(len(orders), len(orders), 0),
        "output.cases[1].processors[0]": StageProgress(len(refunds), len(big_refunds), 0),
        "output.cases[1].output": StageProgress(len(big_refunds), len(big_refunds), 0),
    }
    # The bounded queues: read-ahead batches before the first processor, and the
    # channel before the output (in records, bounded by bytes too); drained at the end.
    assert set(final.queues) == {"pipeline.processors[0]", "output"}
    assert final.queues["pipeline.processors[0]"].unit == "batches"
    assert final.queues["output"].unit == "records"
    assert final.queues["output"].depth == 0
    assert final.queues["output"].capacity == runner.settings.queue.capacity_records
    # The observer saw the same keys while the run went (from the first snapshot on).
    assert set(observer.snapshots[0].stages) == set(final.stages)

    # The summary reuses the same counters (the input is in `records_read`).
    summary = observer.summary
    assert summary is not None
    by_name = {s.name: s for s in summary.stages}
    assert set(by_name) == (set(final.stages) - {"input"}) | {"dead_letter"}
    assert by_name["output.cases[1].processors[0]"].records_filtered == len(refunds) - len(
        big_refunds
    )
    assert summary.records_written == len(orders) + len(big_refunds)
    assert summary.records_filtered == 20 + len(refunds) - len(big_refunds)
    assert summary.records_failed == unmatched


def test_broker_paths_nest_recursively(tmp_path: Path) -> None:
    runner, _ = _run(BROKER, tmp_path)
    orders = sum(1 for e in EVENTS if e["type"] == "order")
    assert runner.snapshot().stages == {
        "input": StageProgress(100, 100, 0),
        "output": StageProgress(100, 100, 0),
        "output.outputs[0]": StageProgress(100, 100, 0),
        "output.outputs[1]": StageProgress(100, 100, 0),
        "output.outputs[1].cases[0].output": StageProgress(orders, orders, 0),
        "output.outputs[1].default.output": StageProgress(100 - orders, 100 - orders, 0),
    }
    # No processors: the only bounded queue is the one in front of the output.
    assert set(runner.snapshot().queues) == {"output"}
