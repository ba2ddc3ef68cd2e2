"""The aggregate example through the CLI: deduplicate → sql → aggregate → CSV, exact totals."""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from tests.cli_runner import REPO, run_fustgo

pytestmark = pytest.mark.integration

# The shipped sample: 71 orders over three days and four regions, 6 of them sent twice.
ROWS, DUPLICATES, GROUPS = 77, 6, 12


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of examples/aggregate so the run never writes into the working tree."""
    shutil.copytree(
        REPO / "examples" / "aggregate",
        tmp_path / "aggregate",
        ignore=shutil.ignore_patterns("out"),
    )
    return tmp_path / "aggregate" / "sales-by-region.yaml"


def test_daily_totals_per_region(example: Path, tmp_path: Path) -> None:
    result = run_fustgo(
        "run", str(example), "--fresh", cwd=tmp_path, summary_path=tmp_path / "s.json"
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    summary = result.summary
    assert summary is not None and summary["status"] == "succeeded"
    assert summary["records_read"] == ROWS
    assert summary["records_filtered"] == DUPLICATES
    assert summary["records_written"] == GROUPS
    assert summary["records_failed"] == 0

    with (example.parent.parent / "out" / "sales-by-region.csv").open(encoding="utf-8") as file:
        groups = list(csv.DictReader(file))
    assert list(groups[0]) == [
        "region",
        "day",
        "orders",
        "revenue",
        "average_order",
        "largest_order",
        "customers",
    ]
    assert len({(g["region"], g["day"]) for g in groups}) == GROUPS
    assert sum(int(g["orders"]) for g in groups) == ROWS - DUPLICATES

    # The same totals straight from the sample file, first copy of each order only.
    with (example.parent / "data" / "sales-2026-03.csv").open(encoding="utf-8") as file:
        orders = {row["order_id"]: row for row in reversed(list(csv.DictReader(file)))}
    revenue: dict[tuple[str, str], Decimal] = {}
    for order in orders.values():
        key = (order["region"], order["ordered_at"][:10])
        revenue[key] = revenue.get(key, Decimal(0)) + Decimal(order["amount"])
    assert {(g["region"], g["day"]): Decimal(g["revenue"]) for g in groups} == revenue
    first = groups[0]
    assert (first["region"], first["day"]) == ("east", "2026-03-01")  # first order's group
    assert Decimal(first["average_order"]) == round(
        Decimal(first["revenue"]) / int(first["orders"]), 2
    )
