"""A long run watched and steered from the console: the designer's edges show live record
rates from the WebSocket's per-stage counters, and the job detail shows the counters
growing while its buttons pause, resume and stop the run. The job reads generated records
at a fixed rate (so it runs until stopped) into a SQLite file, through a filter."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.console.conftest import ConsoleServer, screenshot

pytestmark = pytest.mark.e2e

ENDLESS = """\
name: {name}
settings: {{batch_size: 50, checkpoint: {{interval: 0.5s}}}}
input:
  type: generate
  count: 0
  rate_per_sec: 400
  fields:
    id: {{kind: sequence, start: 1}}
pipeline:
  processors:
    - type: filter
      condition: "id % 4 <> 0"
output:
  type: sqlite
  connection: {{database: "{database}"}}
  write: {{table: ids, mode: upsert, conflict_key: [id]}}
"""

NON_ZERO_RATE = re.compile(r"^[1-9][\d,.]*/s$")


def number(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text) or 0)


def test_a_running_job_is_watched_and_steered_from_the_console(
    page: Any, console: ConsoleServer, tmp_path: Path
) -> None:
    name = "e2e-live-run"
    yaml_text = ENDLESS.format(name=name, database=tmp_path / "live.db")
    created = console.api("POST", "jobs", {"config_yaml": yaml_text})
    assert created.status_code == 201, created.text
    job_id = created.json()["job_id"]
    try:
        # The designer: Run, then every edge carries a live, non-zero record rate.
        page.goto(f"{console.url}/designer/{job_id}")
        expect(page.get_by_test_id("node-output")).to_be_visible()
        page.get_by_test_id("designer-run").click()
        expect(page.get_by_test_id("run-bar")).to_have_attribute("data-status", "running")
        expect(page.get_by_test_id("designer-stop")).to_be_visible()  # Stop takes Run's place
        rates = page.get_by_test_id("edge-rate")
        expect(rates).to_have_count(2, timeout=15_000)
        for index in range(2):
            expect(rates.nth(index)).to_have_text(NON_ZERO_RATE, timeout=15_000)
        expect(page.get_by_test_id("node-live-output")).to_be_visible()
        screenshot(page, "designer-live-en")

        # The job detail: counters grow while it runs; pause, resume and stop it there.
        page.goto(f"{console.url}/jobs/{job_id}")
        status = page.get_by_test_id("job-status")
        expect(status).to_contain_text("Running")
        read = page.get_by_test_id("job-counter-read")
        expect(read).not_to_have_text("0")
        first = number(read.inner_text())
        expect(read).not_to_have_text(read.inner_text(), timeout=15_000)
        assert number(read.inner_text()) > first
        screenshot(page, "job-detail-running-en")

        page.get_by_test_id(f"job-pause-{name}").click()
        expect(status).to_contain_text("Paused", timeout=30_000)
        assert console.api("GET", f"jobs/{job_id}").json()["status"] == "paused"
        page.get_by_test_id(f"job-resume-{name}").click()
        expect(status).to_contain_text("Running", timeout=30_000)
        page.get_by_test_id(f"job-stop-{name}").click()
        expect(status).to_contain_text("Stopped", timeout=30_000)
        (execution,) = console.api("GET", f"jobs/{job_id}/executions").json()["items"]
        assert execution["status"] == "stopped"
        assert execution["records_written"] > 0
        assert execution["records_filtered"] > 0
    finally:
        if console.api("GET", f"jobs/{job_id}").json()["status"] in ("running", "paused"):
            console.api("POST", f"jobs/{job_id}/stop")
