"""The dashboard, monitoring and alerts pages in a real browser against a real
`fustgo serve --sample`: the dashboard counts the sample job; once the sample job ran (started
through the API) the dashboard lists the run and the monitoring charts have its samples; an
alert rule made in the editor (after the server refused a bad URL on its field) is listed,
stored as entered, sends a test and is deleted. Screenshots: dashboard-<lang>.png and
monitoring-<lang>.png in tests/e2e/artifacts/."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.console.conftest import ConsoleServer, choose, screenshot

pytestmark = pytest.mark.e2e

RUN_TIMEOUT = 60.0


def sample_job(console: ConsoleServer) -> dict[str, Any]:
    jobs = console.api("GET", "jobs").json()["items"]
    return next(job for job in jobs if job["job_name"] == "sample-quickstart")


def run_sample_once(console: ConsoleServer) -> dict[str, Any]:
    """Starts the sample job (unless a run of it succeeded already) and waits for the run."""
    job = sample_job(console)
    runs = console.api("GET", f"jobs/{job['job_id']}/executions").json()["items"]
    if not any(run["status"] == "succeeded" for run in runs):
        started = console.api("POST", f"jobs/{job['job_id']}/start")
        assert started.status_code == 202, started.text
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        runs = console.api("GET", f"jobs/{job['job_id']}/executions").json()["items"]
        if runs and runs[0]["status"] not in ("running", "queued"):
            assert runs[0]["status"] == "succeeded", runs[0]
            return job
        time.sleep(0.2)
    raise AssertionError(f"the sample run did not end in {RUN_TIMEOUT}s: {runs}")


def test_the_dashboard_counts_the_sample_job(page: Any, console: ConsoleServer) -> None:
    page.goto(console.url + "/")
    expect(page.get_by_test_id("stat-jobs-total")).to_contain_text("1")
    expect(page.get_by_test_id("stat-jobs-running")).to_contain_text("0")
    expect(page.get_by_test_id("dashboard-workers")).to_contain_text("/server")
    expect(page.get_by_test_id("system-cpu")).to_contain_text("%")
    expect(page.get_by_test_id("dashboard-alerts")).to_contain_text("No alert rule yet")


def test_a_run_of_the_sample_shows_on_the_dashboard_and_in_monitoring(
    page: Any, console: ConsoleServer
) -> None:
    job = run_sample_once(console)
    page.goto(console.url + "/")
    runs = page.get_by_test_id("recent-runs-table")
    expect(runs).to_contain_text("sample-quickstart")
    expect(runs).to_contain_text("Succeeded")
    expect(page.get_by_test_id("stat-succeeded-today")).not_to_contain_text("–")
    expect(page.get_by_test_id("stat-records-today")).to_contain_text("790")
    expect(
        page.get_by_test_id("dashboard-throughput").locator("[data-empty=false]")
    ).to_be_visible()
    screenshot(page, "dashboard-en", full_page=True)

    page.goto(f"{console.url}/monitoring?job={job['job_id']}&range=1h")
    expect(page.get_by_test_id("monitoring-job")).to_contain_text("sample-quickstart")
    expect(page.get_by_test_id("monitoring-totals")).to_contain_text("1,250")  # records read
    for chart in ("chart-throughput", "chart-error-rate", "chart-latency", "chart-bytes"):
        expect(page.get_by_test_id(chart)).to_have_attribute("data-empty", "false")
    expect(page.get_by_test_id("chart-throughput").locator("canvas").first).to_be_visible()
    expect(page.get_by_test_id("monitoring-workers")).to_contain_text("in-process")
    screenshot(page, "monitoring-en", full_page=True)

    page.goto(console.url + "/?lang=zh-CN")
    expect(page.get_by_test_id("recent-runs-table")).to_contain_text("成功")
    expect(page.get_by_test_id("stat-records-today")).to_contain_text("今日同步记录数")
    screenshot(page, "dashboard-zh-CN", full_page=True)
    page.goto(f"{console.url}/monitoring?job={job['job_id']}&range=1h&lang=zh-CN")
    expect(page.get_by_test_id("monitoring-totals")).to_contain_text("读取记录数")
    expect(page.get_by_test_id("chart-throughput")).to_have_attribute("data-empty", "false")
    screenshot(page, "monitoring-zh-CN", full_page=True)


def test_an_alert_rule_made_in_the_editor(page: Any, console: ConsoleServer) -> None:
    job = sample_job(console)
    page.goto(console.url + "/alerts")
    expect(page.get_by_test_id("rules-table")).to_contain_text("No alert rule yet")
    page.get_by_test_id("new-rule").first.click()
    editor = page.get_by_test_id("rule-editor")
    editor.get_by_test_id("rule-name").fill("Sample failed")
    choose(page, "rule-job", "sample-quickstart")
    choose(page, "channel-0-format", "Slack")
    url = editor.get_by_test_id("channel-0-url")

    # The server refuses the URL: its message shows under the URL field.
    url.fill("ftp://hooks.example.com/x")
    editor.get_by_test_id("rule-save").click()
    expect(editor.locator(".ant-form-item-has-error")).to_contain_text(
        "must start with http:// or https://"
    )

    url.fill("http://127.0.0.1:9/hook")  # nothing listens: the test send fails
    editor.get_by_test_id("rule-save").click()
    expect(editor).to_be_hidden()
    table = page.get_by_test_id("rules-table")
    expect(table).to_contain_text("Sample failed")
    expect(table).to_contain_text("Job failed")
    expect(table).to_contain_text("sample-quickstart")
    expect(table).to_contain_text("Slack")

    rules = console.api("GET", "alerts").json()["items"]
    assert [rule["alert_name"] for rule in rules] == ["Sample failed"]
    rule = rules[0]
    assert rule["alert_type"] == "job_failed"
    assert rule["condition"] == {"job_id": job["job_id"]}
    assert rule["enabled"] is True
    assert rule["action"]["channels"] == [
        {"type": "webhook", "url": "http://127.0.0.1:9/hook", "format": "slack",
         "secret": None, "headers": {}},
    ]  # fmt: skip

    page.get_by_test_id(f"rule-test-{rule['alert_id']}").click()
    expect(page.get_by_test_id("test-result")).to_contain_text("127.0.0.1:9")
    page.locator(".ant-modal-confirm .ant-btn").click()

    page.get_by_test_id(f"rule-enabled-{rule['alert_id']}").click()
    expect(page.get_by_test_id(f"rule-enabled-{rule['alert_id']}")).not_to_be_checked()
    assert console.api("GET", f"alerts/{rule['alert_id']}").json()["enabled"] is False

    page.get_by_test_id(f"rule-delete-{rule['alert_id']}").click()
    page.locator(".ant-popconfirm .ant-btn-dangerous").click()
    expect(table).to_contain_text("No alert rule yet")
    assert console.api("GET", f"alerts/{rule['alert_id']}").status_code == 404
