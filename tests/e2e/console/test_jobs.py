"""The job pages in a real browser against a real `fustgo serve --sample`: the list shows the
sample job and starts it; the detail shows the run's counts as the executions API has them;
the logs tab shows the run's lines and filters them by level; the wizard builds a CSV →
SQLite job that validates and creates it. Screenshots: jobs-list-<lang>.png and
job-detail-<lang>.png in tests/e2e/artifacts/."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.cli_runner import REPO
from tests.e2e.console.conftest import ConsoleServer, choose, screenshot

pytestmark = pytest.mark.e2e

SAMPLE = "sample-quickstart"
RUN_TIMEOUT_MS = 60_000


def sample_job(console: ConsoleServer) -> dict[str, Any]:
    jobs = console.api("GET", "jobs").json()["items"]
    return next(job for job in jobs if job["job_name"] == SAMPLE)


def last_execution(console: ConsoleServer, job_id: str) -> dict[str, Any] | None:
    runs = console.api("GET", f"jobs/{job_id}/executions").json()["items"]
    return runs[0] if runs else None


def number(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text))


def start_from_list(page: Any, console: ConsoleServer) -> dict[str, Any]:
    """Starts the sample job with its row's button; returns the finished execution."""
    job = sample_job(console)
    before = last_execution(console, job["job_id"])
    page.goto(console.url + "/jobs")
    row = page.get_by_test_id(f"job-row-{SAMPLE}")
    expect(row).to_be_visible()
    page.get_by_test_id(f"job-start-{SAMPLE}").click()
    # The live status reaches the row: the run ends `succeeded` (the sample is small).
    expect(page.get_by_test_id(f"job-status-{SAMPLE}")).to_contain_text(
        "Succeeded", timeout=RUN_TIMEOUT_MS
    )
    run = last_execution(console, job["job_id"])
    assert run is not None and (before is None or run["execution_id"] != before["execution_id"])
    assert run["status"] == "succeeded", run
    return run


def test_the_list_shows_the_sample_job_and_starts_it(page: Any, console: ConsoleServer) -> None:
    page.goto(console.url + "/jobs")
    row = page.get_by_test_id(f"job-row-{SAMPLE}")
    expect(row).to_contain_text("csv")
    expect(row).to_contain_text("sqlite")
    expect(row).to_contain_text("Manual")
    run = start_from_list(page, console)
    assert run["records_read"] > 0
    screenshot(page, "jobs-list-en")
    # A keyword that matches nothing empties the table and says so.
    page.get_by_test_id("jobs-search").fill("no-such-job")
    page.get_by_test_id("jobs-search").press("Enter")
    expect(page.get_by_test_id("jobs-empty")).to_be_visible()
    expect(row).to_have_count(0)


def test_the_detail_shows_the_run_its_counts_and_its_logs(
    page: Any, console: ConsoleServer
) -> None:
    job = sample_job(console)
    run = last_execution(console, job["job_id"]) or start_from_list(page, console)
    page.goto(f"{console.url}/jobs/{job['job_id']}")
    expect(page.get_by_test_id("job-status")).to_contain_text("Succeeded")
    expect(page.get_by_test_id("last-execution-status")).to_contain_text("Succeeded")
    for name, field in (
        ("read", "records_read"),
        ("written", "records_written"),
        ("failed", "records_failed"),
    ):
        counter = page.get_by_test_id(f"job-counter-{name}")
        expect(counter).to_have_text(re.compile(r"\d"))
        assert number(counter.inner_text()) == run[field], (name, run)
    screenshot(page, "job-detail-en")

    page.get_by_test_id("tab-executions").click()
    table = page.get_by_test_id("executions-table")
    expect(table.get_by_test_id(f"execution-row-{run['execution_id']}")).to_contain_text(
        f"{run['records_written']:,}"
    )

    page.get_by_test_id("tab-logs").click()
    lines = page.get_by_test_id("log-line")
    expect(lines.first).to_be_visible()
    expect(page.get_by_test_id("job-logs")).to_contain_text("The run succeeded")
    assert lines.count() >= 2
    # ERROR and above: the successful run logged none.
    choose(page, "log-level", "ERROR")
    expect(lines).to_have_count(0)
    choose(page, "log-level", "INFO")
    expect(lines.first).to_be_visible()


def test_the_schedule_is_changed_in_the_job_detail(page: Any, console: ConsoleServer) -> None:
    job = sample_job(console)
    page.goto(f"{console.url}/jobs/{job['job_id']}")
    card = page.get_by_test_id("job-schedule-card")
    expect(card).to_contain_text("Manual")
    card.get_by_test_id("schedule-edit").click()
    page.get_by_test_id("wizard-schedule").get_by_text("Cron", exact=True).click()
    page.get_by_test_id("wizard-cron").fill("0 3 1 1 *")  # far off: it must not fire here
    expect(page.get_by_test_id("wizard-next-runs")).to_be_visible()
    page.get_by_test_id("schedule-save").click()
    expect(card).to_contain_text("0 3 1 1 *")
    saved = console.api("GET", f"jobs/{job['job_id']}").json()
    assert saved["scheduling"]["cron"] == "0 3 1 1 *"
    assert len(saved["next_runs"]) == 5
    first = saved["next_runs"][0]  # the page shows it in the browser's zone, UTC here
    expect(card).to_contain_text(first[:10] + " 03:00:00")

    card.get_by_test_id("schedule-edit").click()
    page.get_by_test_id("wizard-schedule").get_by_text("Manual", exact=True).click()
    page.get_by_test_id("schedule-save").click()
    expect(card).to_contain_text("None scheduled")
    assert console.api("GET", f"jobs/{job['job_id']}").json()["scheduling"] is None


def test_the_pages_in_chinese(page: Any, console: ConsoleServer) -> None:
    job = sample_job(console)
    page.goto(console.url + "/jobs?lang=zh-CN")
    expect(page.get_by_test_id(f"job-row-{SAMPLE}")).to_be_visible()
    expect(page.get_by_test_id("jobs-page")).to_contain_text("任务")
    screenshot(page, "jobs-list-zh-CN")
    page.goto(f"{console.url}/jobs/{job['job_id']}?lang=zh-CN")
    expect(page.get_by_test_id("job-detail")).to_contain_text("概览")
    screenshot(page, "job-detail-zh-CN")


def test_the_wizard_creates_a_csv_to_sqlite_job(page: Any, console: ConsoleServer) -> None:
    page.goto(console.url + "/jobs/new")
    choose(page, "wizard-source-plugin", "csv")
    page.get_by_test_id("wizard-source-paths").fill(
        str(REPO / "examples" / "data" / "orders-*.csv")
    )
    page.get_by_test_id("wizard-source-preview").click()
    expect(page.get_by_test_id("wizard-source-preview-table")).to_contain_text("order_id")
    page.get_by_test_id("wizard-next").click()

    choose(page, "wizard-target-plugin", "sqlite")
    choose(page, "wizard-target-connection", "sample-sqlite")
    page.get_by_test_id("wizard-target-table").fill("orders_from_wizard")
    page.get_by_test_id("wizard-target-test").click()
    expect(page.get_by_test_id("wizard-target-test-result")).to_contain_text("Connected")
    page.get_by_test_id("wizard-next").click()

    # Drop `status`, rename `customer`: the wizard adds a mapping processor.
    page.get_by_test_id("mapping-keep-status").uncheck()
    page.get_by_test_id("mapping-target-customer").fill("customer_name")
    page.get_by_test_id("wizard-next").click()
    page.get_by_test_id("wizard-next").click()  # manual schedule

    page.get_by_test_id("wizard-name").fill("wizard-csv-to-sqlite")
    expect(page.get_by_test_id("job-yaml")).to_contain_text("customer: customer_name")
    page.get_by_test_id("wizard-validate").click()
    expect(page.get_by_test_id("wizard-validation")).to_have_attribute("data-ok", "true")
    page.get_by_test_id("wizard-create").click()

    expect(page.get_by_test_id("job-name")).to_have_text("wizard-csv-to-sqlite")
    expect(page.get_by_test_id("job-status")).to_contain_text("Ready")
    created = next(
        job
        for job in console.api("GET", "jobs").json()["items"]
        if job["job_name"] == "wizard-csv-to-sqlite"
    )
    assert (created["source_type"], created["target_type"], created["status"]) == (
        "csv",
        "sqlite",
        "ready",
    )
    assert page.url.endswith(f"/jobs/{created['job_id']}")
