"""Incremental reads through the runner and the CLI: the mark is committed only when a run
succeeds, `--full-refresh` reads everything again, `--dry-run` shows the window, and the
PostgreSQL → PostgreSQL example works against the real server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from fustgo.config.loader import load_pipeline
from fustgo.runtime.execute import committed_state
from tests.cli_runner import REPO, run_fustgo
from tests.databases import pg, pg_schema
from tests.pipeline_runs import run_yaml

pytestmark = pytest.mark.integration


@pytest.fixture
def schema() -> Iterator[str]:
    with pg_schema("inc") as name:
        yield name


PIPELINE = """
name: incremental-{schema}
settings:
  checkpoint: {{path: "{store}"}}
input:
  type: postgresql
  connection: {{host: 127.0.0.1, database: test, user: postgres}}
  query:
    table: {schema}.source
    incremental: {{column: updated_at}}
output:
  type: postgresql
  connection: {{host: 127.0.0.1, database: test, user: postgres}}
  write: {{table: {schema}.target, mode: upsert, conflict_key: [id]}}
"""


def test_a_failed_run_does_not_advance_the_mark(schema: str, tmp_path: Path) -> None:
    pg(f"CREATE TABLE {schema}.source (id int PRIMARY KEY, v text, updated_at timestamptz)")
    pg(f"CREATE TABLE {schema}.target (id int PRIMARY KEY, v text CHECK (v <> 'bad'), "
        "updated_at timestamptz)")  # fmt: skip
    pg(f"INSERT INTO {schema}.source VALUES (1, 'a', '2026-01-01 10:00+00'), "
        "(2, 'b', '2026-01-01 10:01+00')")  # fmt: skip
    text = PIPELINE.format(schema=schema, store=tmp_path / "checkpoints.db")
    path = tmp_path / "pipeline.yaml"

    first = run_yaml(text, tmp_path)
    assert first.summary.status == "succeeded" and first.summary.records_written == 2
    spec = load_pipeline(path).pipeline
    assert spec is not None
    mark = committed_state(spec)
    assert mark is not None and mark["high"] == ["2026-01-01 10:01:00+00", "2"]

    pg(f"INSERT INTO {schema}.source VALUES (3, 'c', '2026-01-01 10:02+00'), "
        "(4, 'bad', '2026-01-01 10:03+00')")  # fmt: skip
    failed = run_yaml(text, tmp_path)  # the target refuses row 4; error_limit is 0
    assert failed.summary.status != "succeeded"
    assert committed_state(spec) == mark

    pg(f"ALTER TABLE {schema}.target DROP CONSTRAINT target_v_check")
    again = run_yaml(text, tmp_path)  # plans from the mark of the first run again
    assert again.summary.status == "succeeded" and again.summary.records_read == 2
    assert pg(f"SELECT id, v FROM {schema}.target ORDER BY id") == [
        (1, "a"), (2, "b"), (3, "c"), (4, "bad"),
    ]  # fmt: skip
    state = committed_state(spec)
    assert state is not None and state["high"] == ["2026-01-01 10:03:00+00", "4"]


def test_the_example_copies_only_new_and_changed_orders(schema: str, tmp_path: Path) -> None:
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    setup = (REPO / "examples" / "postgresql-incremental.sql").read_text()
    pg(setup.replace("public.shop_orders", f"{schema}.shop_orders"))
    env = {"PG_SOURCE_TABLE": f"{schema}.shop_orders", "PG_TARGET_TABLE": f"{schema}.copy"}
    example = "examples/postgresql-incremental.yaml"

    def run(*flags: str) -> int:
        result = run_fustgo(
            "run", example, *flags, cwd=tmp_path, env=env, summary_path=tmp_path / "s.json"
        )
        assert result.exit_code == 0, result.stderr
        assert result.summary is not None
        return int(result.summary["records_written"])

    assert run() == 20
    pg(f"UPDATE {schema}.shop_orders SET status = 'shipped', updated_at = now() WHERE id <= 3")
    pg(f"INSERT INTO {schema}.shop_orders VALUES (21, 'late', 1, 'new', now())")
    dry = run_fustgo("run", example, "--dry-run", cwd=tmp_path, env={**env, "COLUMNS": "250"})
    assert dry.exit_code == 0, dry.stderr
    assert "incremental: updated_at >= 2026-01-01 19:55:00+00" in " ".join(dry.stdout.split())
    # the 4 changed orders, and order 20 again: it is inside the 5-minute overlap
    assert run() == 5
    assert run() == 4  # the orders changed in the 5 minutes behind the new mark, again
    assert run("--full-refresh") == 21
    assert pg(
        f"SELECT count(*), count(*) FILTER (WHERE status = 'shipped') FROM {schema}.copy"
    ) == [(21, 3)]
