"""transform operations, regex_extract and date_format through YAML pipelines and the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli_runner import REPO, run_fustgo

pytestmark = pytest.mark.integration

EXAMPLE = REPO / "examples" / "strings-and-dates"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of the example so the test never touches the working tree's out/ folder."""
    shutil.copytree(EXAMPLE, tmp_path / "example", ignore=shutil.ignore_patterns("out"))
    return tmp_path / "example"


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_the_example_tidies_text_extracts_references_and_converts_dates(
    example: Path, tmp_path: Path
) -> None:
    result = run_fustgo(
        "run",
        str(example / "strings-and-dates.yaml"),
        "--fresh",
        cwd=tmp_path,
        summary_path=tmp_path / "summary.json",
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.summary is not None
    assert result.summary["records_read"] == 6
    assert result.summary["records_written"] == 5
    assert result.summary["records_failed"] == 1  # opened on 31 February

    tickets = {row["ticket_id"]: row for row in read_lines(example / "out" / "tickets.jsonl")}
    assert sorted(tickets) == [1001, 1002, 1003, 1004, 1005]
    assert tickets[1001] | {"subject": None} == {
        "ticket_id": 1001,
        "customer": "Ada Lovelace",
        "email": "ada.lovelace@example.com",
        "country": "GB",
        "phone": "+442079460018",
        "subject": None,
        "opened_at": "2024-01-31T01:15:00+00:00",  # 09:15 in Shanghai
        "status": "closed",
        "initial": "A",
        "label": "Ada Lovelace / GB",
        "opened_day": "2024-01-31",
        "order_ref": "ORD-2024-000123",
        "order_year": 2024,
        "order_number": 123,
        "closed_paris": "2024-01-31 16:15",
    }
    assert tickets[1002]["label"] == "陈伟 / CN"
    assert tickets[1002]["order_number"] == 981
    assert tickets[1003]["order_ref"] is None  # no reference: NULL, not a failure
    assert tickets[1005]["status"] == "unknown"
    assert tickets[1005]["closed_paris"] == "2024-03-31 13:30"  # summer time already

    (letter,) = read_lines(example / "out" / "tickets-dead-letters.jsonl")
    assert letter["stage"] == "pipeline.processors[0]"
    assert letter["error"] == "Cannot cast `opened_at` value `31/02/2024 12:00` to timestamp"
    assert json.loads(letter["record"])["ticket_id"] == 1006


def test_the_example_unit_tests_pass(example: Path, tmp_path: Path) -> None:
    result = run_fustgo("test", str(example), cwd=tmp_path)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "5 passed, 0 failed" in result.stdout


def write_pipeline(folder: Path, rows: str, processor: str) -> Path:
    (folder / "in.csv").write_text(rows, "utf-8")
    pipeline = folder / "pipeline.yaml"
    pipeline.write_text(
        "name: one-processor\n"
        "input: {type: csv, paths: [in.csv], columns: {value: string}}\n"
        f"pipeline:\n  processors:\n    - {processor}\n"
        "output: {type: json, path: out.jsonl}\n"
        "dead_letter: {type: json, path: dead.jsonl}\n",
        "utf-8",
    )
    return pipeline


def test_regex_extract_failures_stop_the_run_at_the_error_limit(tmp_path: Path) -> None:
    pipeline = write_pipeline(
        tmp_path,
        "id,value\n1,v=12\n2,nothing\n",
        '{type: regex_extract, source_field: value, pattern: "v=(?P<n>\\\\d+)", types: {n: int32}}',
    )
    result = run_fustgo("run", str(pipeline), "--fresh", cwd=tmp_path)
    assert result.exit_code == 3, result.stdout + result.stderr  # error_limit 0 exceeded
    (letter,) = read_lines(tmp_path / "dead.jsonl")
    assert letter["error"] == "`value` value `nothing` does not match `v=(?P<n>\\d+)`"


def test_date_format_skips_unreadable_values_as_filtered(tmp_path: Path) -> None:
    pipeline = write_pipeline(
        tmp_path,
        "id,value\n1,2024-07-01 12:00\n2,not a date\n3,\n",
        "{type: date_format, source_field: value, source_timezone: Europe/Paris, "
        "target_format: iso8601, target_timezone: UTC, on_error: skip}",
    )
    result = run_fustgo(
        "run", str(pipeline), "--fresh", cwd=tmp_path, summary_path=tmp_path / "s.json"
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.summary is not None
    assert result.summary["records_filtered"] == 1
    assert read_lines(tmp_path / "out.jsonl") == [
        {"id": 1, "value": "2024-07-01T10:00:00+00:00"},
        {"id": 3, "value": None},
    ]


def test_transform_operations_are_validated_before_the_run(tmp_path: Path) -> None:
    pipeline = write_pipeline(
        tmp_path,
        "id,value\n1,x\n",
        '{type: transform, operations: [{op: regex_replace, field: value, pattern: "(?<=a)b"}]}',
    )
    result = run_fustgo("run", str(pipeline), cwd=tmp_path)
    assert result.exit_code == 2
    output = result.stdout + result.stderr
    assert "pipeline.processors[0].operations[0].pattern" in output
    assert "look-around" in output
