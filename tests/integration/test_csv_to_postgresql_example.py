"""The CSV → PostgreSQL example, run by the CLI as a user would, against the real server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.cli_runner import REPO, run_fustgo
from tests.databases import pg, pg_schema

pytestmark = pytest.mark.integration


@pytest.fixture
def schema() -> Iterator[str]:
    with pg_schema("ex") as name:
        yield name


def test_orders_arrive_typed_once_and_a_rerun_updates_them(schema: str, tmp_path: Path) -> None:
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    env = {"PG_TABLE": f"{schema}.orders"}
    for _ in range(2):  # the second run upserts the same rows
        result = run_fustgo(
            "run", "examples/csv-to-postgresql.yaml", "--fresh", cwd=tmp_path, env=env,
            summary_path=tmp_path / "summary.json",
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
        assert result.summary is not None
        assert (result.summary["records_written"], result.summary["records_failed"]) == (1_250, 1)
    [(count, distinct, total)] = pg(
        f'SELECT count(*), count(DISTINCT order_id), sum(amount) FROM "{schema}".orders'
    )
    types = dict(
        pg(
            "SELECT column_name, data_type || coalesce('(' || numeric_precision || ',' || "
            "numeric_scale || ')', '') FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = 'orders'",
            (schema,),
        )
    )
    assert count == distinct == 1_250
    assert isinstance(total, Decimal)
    assert types["order_id"].startswith("bigint") and types["order_date"] == "date"
    assert types["amount"] == "numeric(12,2)" and types["customer_name"] == "text"
