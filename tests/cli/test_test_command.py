"""`fustgo test`: PASS / FAIL lines, the summary line, JSON, discovery, `--filter`, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fustgo.cli.main import app

pytestmark = pytest.mark.unit

runner = CliRunner()

PIPELINE = """
name: orders
input: {type: csv, paths: [orders.csv]}
pipeline:
  processors:
    - type: filter
      condition: "status = 'paid'"
    - type: transform
      fields: {amount_cents: "CAST(ROUND(amount * 100) AS BIGINT)"}
output: {type: json, path: out.jsonl}
"""

TESTS = """
pipeline: orders.yaml
tests:
  - name: paid orders are kept
    input: [{id: 1, status: paid, amount: 2.5}, {id: 2, status: pending, amount: 1.0}]
    expect: {records: [{id: 1, amount_cents: 250}]}
  - name: cents are rounded
    input: [{id: 3, status: paid, amount: 0.29}]
    expect: {records: [{id: 3, amount_cents: 29}]}
"""


@pytest.fixture(autouse=True)
def no_main_config(monkeypatch: pytest.MonkeyPatch, in_tmp_cwd: Path) -> Path:
    monkeypatch.delenv("FUSTGO_CONFIG", raising=False)
    return in_tmp_cwd


def write(name: str, text: str) -> Path:
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def suite(folder: str = ".", tests: str = TESTS) -> Path:
    write(f"{folder}/orders.yaml", PIPELINE)
    return write(f"{folder}/orders.test.yaml", tests)


def test_passing_tests_print_pass_and_exit_0() -> None:
    suite()
    result = runner.invoke(app, ["test", "orders.test.yaml"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "orders.test.yaml (pipeline orders.yaml)"
    assert lines[1].startswith("  PASS  paid orders are kept (")
    assert lines[2].startswith("  PASS  cents are rounded (")
    assert lines[-1] == "2 passed, 0 failed"
    assert "\x1b[" not in result.stdout
    assert not Path("out.jsonl").exists()


def test_a_failing_test_prints_the_diff_and_exits_1() -> None:
    suite(tests=TESTS.replace("amount_cents: 29}", "amount_cents: 30}"))
    result = runner.invoke(app, ["test", "."])
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "  PASS  paid orders are kept" in out
    assert "  FAIL  cents are rounded (" in out
    assert "        output: record 0 differs\n" in out
    assert "          `amount_cents`: expected 30, got 29\n" in out
    assert out.splitlines()[-1] == "1 passed, 1 failed"


def test_an_invalid_test_file_prints_located_diagnostics_and_exits_2() -> None:
    suite("good")
    write("bad/orders.yaml", PIPELINE)
    write("bad/broken.test.yaml", "pipeline: orders.yaml\ntests:\n  - name: x\n    inputs: []\n")
    result = runner.invoke(app, ["test", "good", "bad"])
    assert result.exit_code == 2, result.output
    out = result.stdout
    assert "bad/broken.test.yaml:4:5: error[structure]: Unknown field `inputs` in `tests[0]`" in out
    assert "  4 |     inputs: []\n    |     ^\n" in out
    assert "hint: Did you mean `input`? It is required." in out
    assert "  PASS  paid orders are kept" in out  # the valid file still runs
    assert out.splitlines()[-1] == "2 passed, 0 failed, 1 invalid test file"


def test_an_invalid_pipeline_exits_2_with_its_own_diagnostics() -> None:
    suite()
    write("orders.yaml", PIPELINE.replace("type: filter", "type: filtr"))
    result = runner.invoke(app, ["test", "orders.test.yaml"])
    assert result.exit_code == 2, result.output
    assert "orders.yaml:6:13: error[semantic]: Unknown processor plugin `filtr`" in result.stdout
    assert "Did you mean `filter`?" in result.stdout


def test_json_format() -> None:
    suite(tests=TESTS.replace("amount_cents: 29}", "amount_cents: 30}"))
    write("bad.test.yaml", "tests: []\n")
    result = runner.invoke(app, ["test", ".", "--format", "json"])
    assert result.exit_code == 2, result.output
    payload = json.loads(result.stdout)
    assert (payload["passed"], payload["failed"], payload["invalid_files"]) == (1, 1, 1)
    bad, good = payload["files"]
    assert bad["file"] == "bad.test.yaml" and bad["ok"] is False and bad["tests"] == []
    assert bad["diagnostics"][0]["line"] == 1
    assert good["pipeline"] == "orders.yaml"
    assert [t["passed"] for t in good["tests"]] == [True, False]
    assert good["tests"][1]["failures"] == [
        {
            "message": "output: record 0 differs",
            "details": ["`amount_cents`: expected 30, got 29"],
        }
    ]


def test_folders_are_searched_recursively_for_test_files_only() -> None:
    suite("a")
    suite("a/deeper/still")
    suite("a/.hidden")
    write("a/notes.yaml", "not: a test\n")
    result = runner.invoke(app, ["test", "a"])
    assert result.exit_code == 0, result.output
    headers = [line for line in result.stdout.splitlines() if "(pipeline" in line]
    assert headers == [
        "a/deeper/still/orders.test.yaml (pipeline a/deeper/still/orders.yaml)",
        "a/orders.test.yaml (pipeline a/orders.yaml)",
    ]
    assert result.stdout.splitlines()[-1] == "4 passed, 0 failed"


def test_filter_runs_only_matching_tests() -> None:
    suite()
    result = runner.invoke(app, ["test", ".", "--filter", "ROUNDED"])
    assert result.exit_code == 0, result.output
    assert "cents are rounded" in result.stdout
    assert "paid orders are kept" not in result.stdout
    assert result.stdout.splitlines()[-1] == "1 passed, 0 failed"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["test", "missing.test.yaml"], "`missing.test.yaml` does not exist."),
        (["test", "empty"], "No `*.test.yaml` file in `empty`."),
        (["test", ".", "--filter", "nothing like it"], "No test matches `--filter"),
    ],
)
def test_usage_errors_exit_2(arguments: list[str], message: str) -> None:
    suite()
    Path("empty").mkdir()
    result = runner.invoke(app, arguments)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
