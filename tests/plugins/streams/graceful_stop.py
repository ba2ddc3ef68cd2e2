"""The shared part of the broker inputs' SIGTERM tests: 300 messages `{"id": i}` wait on the
broker; a pipeline reading them into SQLite (`out.db`, table `t`) with acknowledgements held
back (checkpoint interval 60 s) is stopped with SIGTERM once 100 arrived. Each test then
checks what its broker holds; `assert_each_id_once` checks that the written ids and what a
fresh read gets back are every message exactly once."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

from tests.cli_runner import run_until_signalled
from tests.databases import sqlite_ids

MESSAGES = 300

BODIES = [json.dumps({"id": i}).encode() for i in range(MESSAGES)]

PIPELINE = """
name: graceful-stop
settings: {{batch_size: 50, checkpoint: {{interval: 60s, path: state.db}}}}
input: {input}
output:
  type: sqlite
  connection: {{database: out.db}}
  write: {{table: t, mode: insert}}
"""


def stop_midway(tmp_path: Path, source: dict[str, Any]) -> list[int]:
    """Run the pipeline reading from `source` (an input's settings; batching every 0.1 s is
    added), SIGTERM it once 100 ids are in `out.db`; it must exit with 128 + SIGTERM. The
    ids written."""
    pipeline = tmp_path / "p.yaml"
    settings = {**source, "batching": {"period": "0.1s"}}
    pipeline.write_text(PIPELINE.format(input=json.dumps(settings)))
    out = tmp_path / "out.db"
    code = run_until_signalled(
        pipeline,
        cwd=tmp_path,
        until=lambda: len(sqlite_ids(out)) >= 100,
        signal_number=signal.SIGTERM,
        within=30,
    )
    assert code == 128 + signal.SIGTERM
    return sqlite_ids(out)


def assert_each_id_once(written: list[int], rest: list[dict[str, Any]]) -> None:
    """The ids written before the stop and the records read afterwards are every message,
    each exactly once."""
    assert sorted(written + [r["id"] for r in rest]) == list(range(MESSAGES))
