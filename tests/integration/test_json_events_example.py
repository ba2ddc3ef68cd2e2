"""The JSON processors through the CLI: the json-events example, and json_encode in a pipeline."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.cli_runner import REPO, run_fustgo

pytestmark = pytest.mark.integration

# The shipped sample: 18 captured messages from 4 users, 2 of them broken (one body is cut
# off, one has the amount "twelve"); 16 events hold 22 tag records once split.
MESSAGES, BROKEN, USERS, TAG_RECORDS = 18, 2, 4, 22


def json_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of examples/json-events so the run never writes into the working tree."""
    shutil.copytree(
        REPO / "examples" / "json-events",
        tmp_path / "json-events",
        ignore=shutil.ignore_patterns("out"),
    )
    return tmp_path / "json-events" / "json-events.yaml"


def test_events_are_decoded_split_and_merged_per_user(example: Path, tmp_path: Path) -> None:
    result = run_fustgo(
        "run", str(example), "--fresh", cwd=tmp_path, summary_path=tmp_path / "s.json"
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    summary = result.summary
    assert summary is not None and summary["status"] == "succeeded"
    assert summary["records_read"] == MESSAGES
    assert summary["records_failed"] == BROKEN
    assert summary["records_written"] == USERS
    split = next(s for s in summary["stages"] if s["plugin"] == "split")
    assert split["records_out"] == TAG_RECORDS

    out = tmp_path / "out"
    users = [
        json.loads(line) for line in (out / "json-events-users.jsonl").read_text().splitlines()
    ]
    assert [u["user_id"] for u in users] == [7, 12, 31, 44]  # the order first seen
    zoe = users[0]
    assert zoe["user"] == {"name": "Zoë Martin-Dubois", "country": "FR"}  # the last one given
    assert zoe["events"] == 5 and Decimal(zoe["total_amount"]) == Decimal("62.00")
    assert zoe["tags"] == ["spring-sale", "mobile", "spring-sale", "mobile", "desktop", "desktop"]
    assert users[1]["tags"] == ["app", "app", "推荐"]

    # The same totals straight from the sample file, counted in Python.
    events = []
    for line in (example.parent / "data" / "events-2026-03-01.jsonl").read_text().splitlines():
        try:
            body = json.loads(json.loads(line)["body"])
            events.append((body["user_id"], Decimal(str(body.get("amount", 0)))))
        except (ValueError, KeyError, ArithmeticError):
            continue  # the broken messages
    assert len(events) == MESSAGES - BROKEN
    for user in users:
        mine = [amount for user_id, amount in events if user_id == user["user_id"]]
        assert user["events"] == len(mine)
        assert Decimal(user["total_amount"]) == sum(mine)

    letters = [
        json.loads(line)
        for line in (out / "json-events-dead-letters.jsonl").read_text().splitlines()
    ]
    assert [letter["stage"] for letter in letters] == ["pipeline.processors[0]"] * BROKEN
    assert "`body` is not valid JSON" in letters[0]["error"]
    assert "'twelve' is not a valid decimal" in letters[1]["error"]
    assert json.loads(letters[1]["record"])["offset"] == 13


def test_json_encode_in_a_pipeline_wraps_records_as_json_text(tmp_path: Path) -> None:
    records = [
        {"id": 1, "user": {"name": "Zoë", "tags": ["a", "b"]}, "amount": 1.5},
        {"id": 2, "user": {"name": "李", "tags": []}, "amount": None},
    ]
    (tmp_path / "in.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    (tmp_path / "encode.yaml").write_text(
        """
name: encode
input: {type: json, paths: [in.jsonl]}
pipeline:
  processors:
    - type: json_encode
      source_fields: [user, amount]
      target_field: document
      drop_source: true
    - type: json_decode
      source_field: document
      target_field: again
output: {type: json, path: out.jsonl}
""",
        encoding="utf-8",
    )
    result = run_fustgo("run", "encode.yaml", "--fresh", cwd=tmp_path)
    assert result.exit_code == 0, result.stdout + result.stderr
    written = json_lines(tmp_path / "out.jsonl")
    assert [row["id"] for row in written] == [1, 2]
    assert [json.loads(row["document"]) for row in written] == [
        {"user": r["user"], "amount": r["amount"]} for r in records
    ]
    assert [row["again"] for row in written] == [
        {"user": r["user"], "amount": r["amount"]} for r in records
    ]
