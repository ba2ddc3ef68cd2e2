"""The conditional processor: first match wins, NULL is false, defaults, nested state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.pipeline_runs import run_yaml

pytestmark = pytest.mark.unit

EVENTS = [
    {"id": 1, "kind": "order", "amount": 10.0, "note": "ok"},
    {"id": 2, "kind": "refund", "amount": 4.0, "note": "ünïcode ✓"},
    {"id": 3, "kind": None, "amount": 1.0, "note": "null kind"},
    {"id": 4, "kind": "order", "amount": -2.0, "note": "negative"},
    {"id": 5, "kind": "test", "amount": 0.0, "note": "drop me"},
]

PIPELINE = """
name: conditional
settings: {{checkpoint: {{enabled: false}}, error_limit: {{records: 10}}}}
input: {{type: json, paths: [events.jsonl]}}
pipeline:
  processors:
    - type: conditional
      branches:
        - condition: "kind = 'refund' OR amount < 0"
          processors:
            - {{type: transform, fields: {{amount: "-abs(amount)", note: "'refund'"}}}}
        - condition: "kind = 'test'"
          processors:
            - {{type: filter, condition: "false"}}
        - condition: "kind = 'order'"
          processors: []
{default}
output: {{type: json, path: out.jsonl}}
"""


def run(
    tmp_path: Path, default: str = "", events: list[dict] = EVENTS
) -> tuple[list[dict], object]:
    (tmp_path / "events.jsonl").write_text(
        "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8"
    )
    outcome = run_yaml(PIPELINE.format(default=default), tmp_path)
    out = tmp_path / "out.jsonl"
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    return sorted(rows, key=lambda r: r["id"]), outcome.summary


def test_first_match_wins_and_unmatched_pass_unchanged(tmp_path: Path) -> None:
    rows, summary = run(tmp_path)
    assert summary.status == "succeeded", summary.error
    by_id = {r["id"]: r for r in rows}
    assert sorted(by_id) == [1, 2, 3, 4]  # 5 filtered in its branch
    assert by_id[2]["amount"] == -4.0 and by_id[2]["note"] == "refund"
    assert by_id[4]["note"] == "refund"  # matched the first branch before `kind = 'order'`
    assert by_id[1] == EVENTS[0]
    assert by_id[3]["note"] == "null kind"  # NULL kind matches nothing: unchanged
    assert summary.records_filtered == 1  # counted through the nested filter


def test_default_processors_take_the_unmatched(tmp_path: Path) -> None:
    default = """      default:
        - {type: transform, fields: {note: "'defaulted'"}}"""
    rows, summary = run(tmp_path, default)
    assert summary.status == "succeeded", summary.error
    assert {r["id"]: r["note"] for r in rows}[3] == "defaulted"


def test_nested_failures_reach_the_dead_letter_with_their_stage(tmp_path: Path) -> None:
    pipeline = """
name: nested-failure
settings: {checkpoint: {enabled: false}, error_limit: {records: 10}}
input: {type: json, paths: [events.jsonl]}
pipeline:
  processors:
    - type: conditional
      branches:
        - condition: "kind = 'order'"
          processors:
            - {type: transform, casts: {note: int64}}
output: {type: drop}
dead_letter: {type: json, path: dead.jsonl}
"""
    (tmp_path / "events.jsonl").write_text(
        "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in EVENTS), encoding="utf-8"
    )
    summary = run_yaml(pipeline, tmp_path).summary
    assert summary.status == "succeeded", summary.error
    assert summary.records_failed == 2  # the two orders' notes are not integers
    letters = [json.loads(x) for x in (tmp_path / "dead.jsonl").read_text().splitlines()]
    assert {x["stage"] for x in letters} == {"pipeline.processors[0].branches[0].processors[0]"}


def test_empty_input(tmp_path: Path) -> None:
    rows, summary = run(tmp_path, events=[])
    assert summary.status == "succeeded" and rows == []


def test_unknown_column_in_a_condition_stops_with_a_clear_error(tmp_path: Path) -> None:
    events = [{"id": 1, "amount": 1.0}]  # no `kind` column at all
    _, summary = run(tmp_path, events=events)
    assert summary.status == "failed"
    assert "Column `kind`" in (summary.error or "")
