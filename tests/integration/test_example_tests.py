"""`fustgo test examples/`: every shipped example's unit tests pass, and a wrong one fails."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.cli_runner import REPO, run_fustgo

pytestmark = pytest.mark.integration


def test_the_examples_unit_tests_pass() -> None:
    result = run_fustgo("test", "examples/", cwd=REPO)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "examples/quickstart.test.yaml (pipeline examples/quickstart.yaml)" in result.stdout
    assert " 0 failed" in result.stdout.splitlines()[-1]


def test_a_changed_expectation_makes_the_command_fail(tmp_path: Path) -> None:
    shutil.copytree(REPO / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("out"))
    test_file = tmp_path / "examples" / "quickstart.test.yaml"
    text = test_file.read_text(encoding="utf-8")
    assert text.count("amount_cents: 85324") == 1
    test_file.write_text(text.replace("amount_cents: 85324", "amount_cents: 85325"), "utf-8")
    result = run_fustgo("test", "examples/quickstart.test.yaml", cwd=tmp_path)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert (
        "  FAIL  a paid order is kept with its amount in cents and the customer renamed"
        in result.stdout
    )
    assert "`amount_cents`: expected 85325, got 85324" in result.stdout
    assert result.stdout.splitlines()[-1] == "7 passed, 1 failed"
