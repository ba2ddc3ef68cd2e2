"""Many table-to-table jobs from one template, in a real browser: the batch builder lists
the source schema's tables from a saved PostgreSQL connection (GET /connections/{id}/tables),
makes one job per table, and each job, started through the API, copies its table."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.databases import PG_CONNECTION, pg, pg_schema
from tests.e2e.console.conftest import ConsoleServer, choose, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture
def schemas() -> Iterator[tuple[str, str]]:
    """A source schema with `orders` (3 rows) and `customers` (2 rows), and an empty target."""
    with pg_schema("batch_src") as source, pg_schema("batch_dst") as target:
        pg(
            f'CREATE TABLE "{source}".orders (id int PRIMARY KEY, amount numeric(10,2));'
            f'INSERT INTO "{source}".orders VALUES (1, 1.5), (2, 2.5), (3, 3.5);'
            f'CREATE TABLE "{source}".customers (id int PRIMARY KEY, name text);'
            f"INSERT INTO \"{source}\".customers VALUES (1, 'ann'), (2, 'bob')"
        )
        yield source, target


def wait_for_run(console: ConsoleServer, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        runs = console.api("GET", f"jobs/{job_id}/executions").json()["items"]
        if runs and runs[0]["status"] not in ("queued", "running"):
            return runs[0]
        time.sleep(0.2)
    raise AssertionError(f"the run of job {job_id} did not end within 60 s")


def test_batch_builder_makes_one_job_per_listed_table(
    page: Any, console: ConsoleServer, schemas: tuple[str, str]
) -> None:
    source, target = schemas
    name = f"e2e-batch-{uuid.uuid4().hex[:6]}"
    saved = console.api(
        "POST", "connections", {"name": name, "type": "postgresql", "config": PG_CONNECTION}
    ).json()
    try:
        page.goto(console.url + "/jobs/batch")
        choose(page, "batch-source", name)
        choose(page, "batch-target", name)
        page.get_by_test_id("batch-schema").fill(source)
        page.get_by_test_id("batch-load-tables").click()
        tables = page.get_by_test_id("batch-tables")
        expect(tables).to_have_value(f"{source}.customers\n{source}.orders")

        page.get_by_test_id("batch-name-pattern").fill(f"{name}-{{table}}")
        page.get_by_test_id("batch-table-pattern").fill(f"{target}.{{table}}")
        expect(page.get_by_test_id("batch-preview")).to_contain_text(f"{target}.orders")
        screenshot(page, "batch-create-en")
        page.get_by_test_id("batch-create-all").click()
        expect(page.get_by_test_id("batch-outcome")).to_contain_text("2")

        jobs = {
            job["job_name"]: job
            for job in console.api("GET", "jobs", params={"q": name}).json()["items"]
        }
        assert set(jobs) == {f"{name}-orders", f"{name}-customers"}
        for table, rows in (("orders", 3), ("customers", 2)):
            job = jobs[f"{name}-{table}"]
            assert job["status"] == "ready", job
            console.api("POST", f"jobs/{job['job_id']}/start")
            run = wait_for_run(console, job["job_id"])
            assert (run["status"], run["records_written"]) == ("succeeded", rows), run
            assert pg(f'SELECT count(*) FROM "{target}".{table}') == [(rows,)]
    finally:
        for job in console.api("GET", "jobs", params={"q": name}).json()["items"]:
            console.api("DELETE", f"jobs/{job['job_id']}")
        console.api("DELETE", f"connections/{saved['connection_id']}")
