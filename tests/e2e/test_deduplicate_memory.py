"""`deduplicate` over a bounded key space keeps peak memory flat: 5,000,000 vs 500,000 records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_runner import fustgo_command

pytestmark = pytest.mark.e2e

KEYS = 100_000

PIPELINE = """
name: dedupe-memory-{rows}
settings:
  parallelism: 2
  checkpoint: {{enabled: false}}
input:
  type: generate
  count: {rows}
  seed: 3
  fields:
    id: {{kind: sequence}}
    customer_id: {{kind: random_int, min: 1, max: {keys}}}
    amount: {{kind: random_float, min: 0, max: 500, decimals: 2}}
    note: {{kind: string, length: 24}}
pipeline:
  processors:
    - type: deduplicate
      key_fields: [customer_id]
output:
  type: drop
"""

# Measures the peak resident set of the child only (RUSAGE_CHILDREN of a fresh wrapper).
# Processors run in a pool of worker threads, and glibc gives each thread its own malloc
# arena: the longer run touches more of them and peaks ~20 % higher even with a stateless
# `filter`. Two arenas (a common production setting) leave only what the state costs.
PEAK_RSS = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def run_dedupe(tmp_path: Path, rows: int) -> tuple[int, dict]:
    """Peak RSS in KiB and the run summary of one run over `rows` records."""
    pipeline = tmp_path / f"dedupe-{rows}.yaml"
    pipeline.write_text(PIPELINE.format(rows=rows, keys=KEYS), encoding="utf-8")
    summary_path = tmp_path / f"summary-{rows}.json"
    command = fustgo_command("run", str(pipeline), "--quiet", "--summary-json", str(summary_path))
    completed = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, *command],
        cwd=tmp_path,
        env={**os.environ, "MALLOC_ARENA_MAX": "2"},
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    code, peak = (int(x) for x in completed.stdout.split())
    assert code == 0, completed.stderr
    return peak, json.loads(summary_path.read_text())


def test_dedupe_memory_is_flat_for_a_bounded_key_space(tmp_path: Path) -> None:
    small, small_summary = run_dedupe(tmp_path, 500_000)
    large, large_summary = run_dedupe(tmp_path, 5_000_000)
    print(f"dedupe peak RSS: 500k records {small / 1024:.0f} MiB, 5M {large / 1024:.0f} MiB")
    # 5M random draws hit every key of 1..100,000 (500k draws miss about 0.7 %), and each
    # key reaches the output once.
    assert 0.99 * KEYS < small_summary["records_written"] <= KEYS
    assert large_summary["records_written"] == KEYS
    assert large_summary["records_filtered"] == 5_000_000 - KEYS
    # Keeping every record's key instead of every distinct key would add ~160 MB.
    assert large <= 1.25 * small, f"5M records peaked at {large} KiB vs {small} KiB for 500k"
