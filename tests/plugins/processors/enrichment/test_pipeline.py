"""Enrichment through `fustgo run`, as a user runs it: the shipped example, and SQLite."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.cli_runner import REPO, run_fustgo

pytestmark = pytest.mark.integration


def test_the_example_enriches_orders_from_a_file_and_a_static_table(tmp_path: Path) -> None:
    shutil.copytree(REPO / "examples" / "enrichment", tmp_path / "enrichment")
    pipeline = tmp_path / "enrichment" / "orders-enriched.yaml"
    result = run_fustgo(
        "run", str(pipeline), "--fresh", cwd=tmp_path, summary_path=tmp_path / "s.json"
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.summary is not None
    assert result.summary["records_read"] == 12
    assert result.summary["records_written"] == 10
    assert result.summary["records_failed"] == 2

    with (tmp_path / "out" / "orders-enriched.csv").open(encoding="utf-8") as handle:
        written = {row["order_id"]: row for row in csv.DictReader(handle)}
    assert written["1003"]["customer_name"] == "李雷"
    assert written["1003"]["country_name"] == "China"
    assert written["1006"]["customer_tier"] == ""  # NULL in the customers file
    assert written["1011"]["region"] == ""  # CH is not in the static table
    assert "1007" not in written and "1010" not in written

    letters = (tmp_path / "out" / "orders-enriched-dead-letters.jsonl").read_text().splitlines()
    errors = sorted(json.loads(line)["error"] for line in letters)
    assert errors == [
        "No row of the lookup file `data/customers.csv` has the key `customer_id` = NULL",
        "No row of the lookup file `data/customers.csv` has the key `customer_id` = `99`",
    ]


PIPELINE = """
name: enrich-sqlite
settings: {parallelism: 2, batch_size: 3}
input:
  type: csv
  paths: ["orders-*.csv"]
pipeline:
  processors:
    - type: enrichment
      key: sku
      lookup:
        type: sql
        driver: sqlite
        connection: {database: shop.db}
        query: SELECT sku, title, price FROM products WHERE active = 1
      fields: {title: product, price: unit_price}
      types: {price: "decimal(8,2)"}
      on_missing: skip
      cache: {ttl: 1m, max_entries: 100}
output:
  type: json
  path: out/enriched.jsonl
"""


def test_a_sqlite_lookup_in_yaml_with_skip_and_two_channels(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.execute("CREATE TABLE products (sku TEXT, title TEXT, price TEXT, active INTEGER)")
        db.executemany(
            "INSERT INTO products VALUES (?, ?, ?, ?)",
            [("a", "Äpfel", "1.20", 1), ("b", "Bread", "2.50", 1), ("c", "Gone", "9", 0)],
        )
    (tmp_path / "orders-1.csv").write_text("id,sku\n1,a\n2,b\n3,c\n4,a\n5,z\n")
    (tmp_path / "orders-2.csv").write_text("id,sku\n6,b\n7,\n8,a\n")
    (tmp_path / "enrich.yaml").write_text(PIPELINE)
    result = run_fustgo(
        "run", "enrich.yaml", "--fresh", cwd=tmp_path, summary_path=tmp_path / "s.json"
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.summary is not None
    assert result.summary["records_filtered"] == 3  # c is inactive, z unknown, 7 has no sku
    records = [
        json.loads(line) for line in (tmp_path / "out" / "enriched.jsonl").read_text().splitlines()
    ]
    by_id = {record["id"]: record for record in records}
    assert sorted(by_id) == [1, 2, 4, 6, 8]
    assert by_id[1] == {"id": 1, "sku": "a", "product": "Äpfel", "unit_price": "1.20"}
    assert by_id[6]["unit_price"] == "2.50"


def test_validate_checks_the_lookup_connection(tmp_path: Path) -> None:
    (tmp_path / "orders-1.csv").write_text("id,sku\n1,a\n")
    (tmp_path / "enrich.yaml").write_text(PIPELINE)
    result = run_fustgo("validate", "enrich.yaml", "--check-connections", cwd=tmp_path)
    output = result.stdout + result.stderr
    assert "SQLite database" in output and "shop.db" in output and "does not exist" in output
