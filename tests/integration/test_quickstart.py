"""The quick-start pipeline alone (`fustgo run examples/quickstart.yaml`) moves exactly the
shipped sample's rows. `make run` serves the same pipeline as a job: tests/server/test_sample.py."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.cli_runner import REPO, run_fustgo

pytestmark = pytest.mark.integration

# The shipped sample: 1,250 well-formed orders in two files, 790 of them paid with a
# positive amount, and one malformed row (an extra field) in the February file.
ROWS, PAID, MALFORMED = 1_250, 790, 1


@pytest.fixture
def quickstart(tmp_path: Path) -> Path:
    """A copy of examples/ so the test never touches the working tree's out/ folder."""
    shutil.copytree(REPO / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("out"))
    return tmp_path / "examples" / "quickstart.yaml"


def test_quickstart_counts_and_target(quickstart: Path, tmp_path: Path) -> None:
    result = run_fustgo(
        "run", str(quickstart), "--fresh", cwd=tmp_path, summary_path=tmp_path / "s.json"
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    summary = result.summary
    assert summary is not None
    assert summary["status"] == "succeeded"
    assert summary["records_read"] == ROWS
    assert summary["records_written"] == PAID
    assert summary["records_filtered"] == ROWS - PAID
    assert summary["records_failed"] == MALFORMED
    assert "Records written     : 790" in result.stdout

    db = sqlite3.connect(quickstart.parent / "out" / "quickstart.db")
    count, distinct, cents = db.execute(
        "SELECT count(*), count(DISTINCT order_id), sum(amount_cents) FROM paid_orders"
    ).fetchone()
    columns = [row[1] for row in db.execute("PRAGMA table_info(paid_orders)")]
    db.close()
    assert count == distinct == PAID
    assert cents > 0
    assert "customer_name" in columns and "status" not in columns

    dead = (quickstart.parent / "out" / "quickstart-dead-letters.jsonl").read_text().splitlines()
    assert len(dead) == MALFORMED
    letter = json.loads(dead[0])
    assert letter["stage"] == "input"
    assert "orders-2026-02.csv" in letter["error"] or "orders-2026-02.csv" in letter["record"]

    # Running again upserts the same rows: still exactly one row per order.
    again = run_fustgo("run", str(quickstart), "--fresh", cwd=tmp_path)
    assert again.exit_code == 0, again.stdout + again.stderr
    db = sqlite3.connect(quickstart.parent / "out" / "quickstart.db")
    assert db.execute("SELECT count(*) FROM paid_orders").fetchone()[0] == PAID
    db.close()
