"""Peak memory stays flat as data grows: 5,000,000 rows vs 500,000 rows, CSV → Parquet."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from bench.datasets import orders_csv
from tests.cli_runner import fustgo_command

pytestmark = pytest.mark.e2e

PIPELINE = """
name: memory-{rows}
settings:
  parallelism: 2
  checkpoint: {{enabled: false}}
input:
  type: csv
  paths: ['{csv}']
pipeline:
  processors:
    - type: filter
      condition: "status <> 'cancelled'"
output:
  type: parquet
  path: '{parquet}'
"""

# Measures the peak resident set of the child only (RUSAGE_CHILDREN of a fresh wrapper).
PEAK_RSS = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_rss_kib(tmp_path: Path, rows: int) -> int:
    csv = orders_csv(tmp_path / f"orders-{rows}.csv", rows)
    parquet = tmp_path / f"orders-{rows}.parquet"
    pipeline = tmp_path / f"memory-{rows}.yaml"
    pipeline.write_text(PIPELINE.format(rows=rows, csv=csv, parquet=parquet), encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, *fustgo_command("run", str(pipeline), "--quiet")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    code, peak = (int(x) for x in completed.stdout.split())
    assert code == 0, completed.stderr
    assert pq.ParquetFile(parquet).metadata.num_rows > rows * 0.7
    csv.unlink()
    return peak


def test_peak_memory_is_flat(tmp_path: Path) -> None:
    small = peak_rss_kib(tmp_path, 500_000)
    large = peak_rss_kib(tmp_path, 5_000_000)
    print(f"peak RSS: 500k rows {small / 1024:.0f} MiB, 5M rows {large / 1024:.0f} MiB")
    assert large <= 1.5 * small, f"5M rows peaked at {large} KiB vs {small} KiB for 500k rows"
