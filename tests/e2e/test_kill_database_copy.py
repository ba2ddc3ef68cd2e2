"""`kill -9` a PostgreSQL → PostgreSQL copy midway, run it again: every row arrives.

On the row path (a processor in between) what is sent twice is at most one batch per split
(checkpoint after every batch); on the binary COPY pass-through (no processor) a split is
one transaction, so nothing is sent twice."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from fustgo.runtime.verify import verify
from tests.databases import PG_CONNECTION, pg, pg_schema
from tests.e2e.kill import kill_midway, rerun, target_ids

pytestmark = pytest.mark.e2e

ROWS, BATCH, SPLITS = 400_000, 5_000, 2

PIPELINE = """
name: kill-copy
settings:
  parallelism: {splits}
  batch_size: {batch}
  checkpoint: {{interval: 0s, path: state.db}}
input:
  type: postgresql
  connection: {{host: 127.0.0.1, database: test, user: postgres}}
  query: {{table: {schema}.source, {split}}}
{processors}
output:
  type: postgresql
  connection: {{host: 127.0.0.1, database: test, user: postgres}}
  write: {{table: {schema}.target, mode: insert}}
"""


@pytest.fixture
def schema() -> Iterator[str]:
    with pg_schema("kill") as name:
        pg(
            f'CREATE TABLE "{name}".source (id bigint PRIMARY KEY, name text, '
            "amount numeric(12,2), created_at timestamptz, payload jsonb)"
        )
        pg(
            f'INSERT INTO "{name}".source SELECT g, md5(g::text), (g % 100000) / 100.0, '
            f"'2024-01-01'::timestamptz + g * interval '1 second', "
            f"jsonb_build_object('g', g) FROM generate_series(1, {ROWS}) g"
        )
        # No primary key on the target: a row sent twice shows as a duplicate.
        pg(f'CREATE TABLE "{name}".target (LIKE "{name}".source)')
        yield name


ROW_PATH = "pipeline: {processors: [{type: filter, condition: 'id IS NOT NULL'}]}"


def kill_then_resume(pipeline: Path, schema: str, tmp_path: Path) -> None:
    """Start the run, SIGKILL it once a quarter of the rows is in, then run it again."""
    kill_midway(
        pipeline, cwd=tmp_path, schema=schema, at=ROWS // 4, total=ROWS, within=120, poll=0.02
    )
    assert rerun(pipeline, cwd=tmp_path)["resumed"] is True


def test_kill_9_on_the_row_path_resends_at_most_one_batch_per_split(
    schema: str, tmp_path: Path
) -> None:
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(
        PIPELINE.format(
            schema=schema, splits=SPLITS, batch=BATCH, split="split_key: id", processors=ROW_PATH
        )
    )
    kill_then_resume(pipeline, schema, tmp_path)
    count, distinct, *_ = target_ids(schema)
    assert distinct == ROWS
    assert count - ROWS <= SPLITS * BATCH, f"{count - ROWS} rows were sent twice"

    # Every column arrived intact: order-independent checksums of source and target rows.
    report = asyncio.run(
        verify(
            {
                "type": "postgresql",
                "connection": PG_CONNECTION,
                "query": {"table": f"{schema}.source"},
            },
            {
                "type": "postgresql",
                "connection": PG_CONNECTION,
                "query": {"sql": f'SELECT DISTINCT * FROM "{schema}".target'},
            },
        )
    )
    assert report.ok, report.describe()
    assert report.source.rows == report.target.rows == ROWS


def test_kill_9_during_a_pass_through_copy_sends_nothing_twice(schema: str, tmp_path: Path) -> None:
    # Four splits copied one after the other: the kill lands between two split commits.
    pipeline = tmp_path / "pipeline.yaml"
    split = "split: {key: id, boundaries: [100001, 200001, 300001]}"
    pipeline.write_text(
        PIPELINE.format(schema=schema, splits=1, batch=BATCH, split=split, processors="")
    )
    kill_then_resume(pipeline, schema, tmp_path)
    count, distinct, *_ = target_ids(schema)
    assert (count, distinct) == (ROWS, ROWS)
