"""The steps of the `kill -9` tests: a run into `<schema>.target` in the local PostgreSQL is
killed midway, run again to the end, and the target is checked (each test keeps its own
source and what its family promises; `kill_then_drain` writes the pipeline around it)."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.cli_runner import run_fustgo, run_until_signalled
from tests.databases import pg, pg_schema

SETTINGS: dict[str, Any] = {
    "parallelism": 2,
    "batch_size": 5000,
    "checkpoint": {"interval": "1s", "path": "state.db"},
}


@contextmanager
def target_schema(prefix: str, columns: str = "name text, amount float8") -> Iterator[str]:
    """A fresh schema holding an empty `target (id bigint PRIMARY KEY, <columns>)`."""
    with pg_schema(prefix) as name:
        pg(f'CREATE TABLE "{name}".target (id bigint PRIMARY KEY, {columns})')
        yield name


def pipeline_text(name: str, source: dict[str, Any], schema: str, settings: dict[str, Any]) -> str:
    """A pipeline (JSON, which is YAML) from `source` into `<schema>.target`, upserting by id."""
    output = {
        "type": "postgresql",
        "connection": {"host": "127.0.0.1", "database": "test", "user": "postgres"},
        "write": {"table": f"{schema}.target", "mode": "upsert", "conflict_key": ["id"]},
    }
    return json.dumps({"name": name, "settings": settings, "input": source, "output": output})


def kill_then_drain(
    cwd: Path,
    name: str,
    source: dict[str, Any],
    *,
    schema: str,
    total: int,
    at: int,
    idle: str,
    settings: dict[str, Any] = SETTINGS,
    poll: float = 0.05,
    after_kill: Callable[[int], None] | None = None,
) -> tuple[int, dict[str, Any]]:
    """Run `source` into `<schema>.target` until killed midway (`kill_midway`), call
    `after_kill` with the rows then held, and run it again until the source is idle for
    `idle` (`rerun`). The rows held at the kill and the rerun's summary."""
    pipeline = cwd / "pipeline.yaml"
    pipeline.write_text(pipeline_text(name, source, schema, settings))
    before = kill_midway(pipeline, cwd=cwd, schema=schema, at=at, total=total, poll=poll)
    if after_kill is not None:
        after_kill(before)
    drain = cwd / "drain.yaml"
    drain.write_text(pipeline_text(name, {**source, "stop": {"idle": idle}}, schema, settings))
    return before, rerun(drain, cwd=cwd)


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


def assert_each_id_once(schema: str, total: int) -> None:
    """The target holds ids 0 … total - 1, each exactly once."""
    assert target_ids(schema) == (total, total, 0, total - 1)


def assert_replays_counted(summary: dict[str, Any], total: int, before: int) -> None:
    """What was written before the kill but not acknowledged came again, was found by the
    upsert and counted as updated: written = what was missing + the replays, exactly. (How
    many replays there are depends on where the kill lands: right after an acknowledgement
    there may be none, so their number itself is not asserted.)"""
    assert summary["records_written"] == total - before + summary["records_updated"]
