"""Kill a large CSV → SQLite run midway with SIGTERM, run it again: every row exactly once."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from bench.datasets import orders_csv
from fustgo.runtime.verify import verify
from tests.cli_runner import fustgo_command, run_fustgo

pytestmark = pytest.mark.e2e

ROWS = 1_500_000

PIPELINE = """
name: resume-e2e
settings:
  parallelism: 2
  batch_size: 20000
  checkpoint: {{interval: 0.5s, path: {state}}}
input:
  type: csv
  paths: [{csv}]
pipeline:
  processors:
    - type: transform
      fields: {{total: "quantity * unit_price"}}
output:
  type: sqlite
  connection: {{database: {db}}}
  write: {{table: orders, mode: upsert, conflict_key: [order_id]}}
"""


def checkpoint_saved(state: Path) -> bool:
    if not state.exists():
        return False
    try:
        db = sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=0.2)
        try:
            return db.execute("SELECT count(*) FROM checkpoints").fetchone()[0] > 0
        finally:
            db.close()
    except sqlite3.Error:
        return False


def test_sigterm_then_rerun_lands_every_row_once(tmp_path: Path) -> None:
    # Two files → two splits, so the checkpoint covers a split mid-way and one possibly done.
    half = ROWS // 2
    orders_csv(tmp_path / "a.csv", half, seed=1)
    second = orders_csv(tmp_path / "b.csv", half, seed=2)
    # The second file's ids must not collide with the first's.
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(second)
    table = table.set_column(0, "order_id", pc.add(table.column("order_id"), half))
    pacsv.write_csv(table, second)

    state, db = tmp_path / "state.db", tmp_path / "target.db"
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(
        PIPELINE.format(csv=f"'{tmp_path}/*.csv'", state=state, db=db), encoding="utf-8"
    )

    summary_path = tmp_path / "first.json"
    process = subprocess.Popen(
        [*fustgo_command("run", str(pipeline), "--quiet"), "--summary-json", str(summary_path)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not checkpoint_saved(state):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no checkpoint was saved within 120 s"
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stdout + stderr
    interrupted = json.loads(summary_path.read_text())
    assert interrupted["status"] == "interrupted"
    assert 0 < interrupted["records_written"] < ROWS, "the run must be stopped midway"
    assert "Status              : interrupted" in stdout

    again = run_fustgo(
        "run", str(pipeline), "--quiet", cwd=tmp_path, summary_path=tmp_path / "2.json"
    )
    assert again.exit_code == 0, again.stdout + again.stderr
    resumed = again.summary
    assert resumed is not None and resumed["resumed"] is True
    assert resumed["resumed_records"] > 0
    assert resumed["records_read"] < ROWS  # it did not start over
    assert "Resumed             : yes" in again.stdout

    target = sqlite3.connect(db)
    count, distinct, low, high = target.execute(
        "SELECT count(*), count(DISTINCT order_id), min(order_id), max(order_id) FROM orders"
    ).fetchone()
    target.close()
    assert count == distinct == ROWS
    assert (low, high) == (0, ROWS - 1)
    assert not checkpoint_saved(state)  # a finished run leaves no resume state

    # Every source column arrived intact (order-independent checksums; `total` is extra).
    report = asyncio.run(
        verify(
            {"type": "csv", "paths": [f"{tmp_path}/*.csv"]},
            {"type": "sqlite", "connection": {"database": str(db)}, "query": {"table": "orders"}},
        )
    )
    assert report.ok, report.describe()
    assert report.source.rows == report.target.rows == ROWS
    assert report.notes == ("Target columns not in the source were not compared: `total`.",)
