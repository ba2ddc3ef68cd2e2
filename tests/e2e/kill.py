"""The steps of the `kill -9` tests: a run into `<schema>.target` in the local PostgreSQL is
killed midway, run again to the end, and the target is checked (each test keeps its own
source, pipeline and what its family promises)."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from tests.cli_runner import run_fustgo, run_until_signalled
from tests.databases import pg


def target_rows(schema: str) -> int:
    return int(pg(f'SELECT count(*) FROM "{schema}".target')[0][0])


def kill_midway(
    pipeline: Path,
    *,
    cwd: Path,
    schema: str,
    at: int,
    total: int,
    within: float = 60,
    poll: float = 0.05,
) -> int:
    """Run `pipeline`, SIGKILL it once the target holds `at` rows; the rows it holds then,
    checked to be fewer than `total` (the kill landed midway)."""
    run_until_signalled(
        pipeline,
        cwd=cwd,
        until=lambda: target_rows(schema) >= at,
        signal_number=signal.SIGKILL,
        within=within,
        poll=poll,
    )
    before = target_rows(schema)
    assert before < total, "the run must be killed midway"
    return before


def rerun(pipeline: Path, *, cwd: Path) -> dict[str, Any]:
    """Run `pipeline` again to its end; it must succeed. Its JSON summary."""
    again = run_fustgo("run", str(pipeline), "--quiet", cwd=cwd, summary_path=cwd / "s")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert again.summary is not None
    return again.summary


def target_ids(schema: str) -> tuple[int, int, int, int]:
    """Rows, distinct ids, lowest and highest id in the target."""
    found = pg(f'SELECT count(*), count(DISTINCT id), min(id), max(id) FROM "{schema}".target')
    count, distinct, low, high = found[0]
    return count, distinct, low, high


def assert_replays_counted(summary: dict[str, Any], total: int, before: int) -> None:
    """What was written before the kill but not acknowledged came again, was found by the
    upsert and counted as updated: written = what was missing + the replays, exactly. (How
    many replays there are depends on where the kill lands: right after an acknowledgement
    there may be none, so their number itself is not asserted.)"""
    assert summary["records_written"] == total - before + summary["records_updated"]
