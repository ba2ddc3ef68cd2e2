"""Issue 6 check: a job with `cron: "* * * * *"` fires twice in about two minutes of a
real server (uvicorn on loopback, the scheduler on its own clock), polled, never slept on
blindly. Each run is due on its own minute, both succeed, nothing else fires."""

from __future__ import annotations

import itertools
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.pipelines import counted
from tests.server.test_ws import live_server

pytestmark = pytest.mark.e2e

JOBS = "/api/v1/jobs"
DEADLINE_SECONDS = 150.0


def test_a_cron_job_every_minute_fires_twice_in_two_minutes(tmp_path: Path) -> None:
    with live_server(tmp_path) as address, httpx.Client(base_url=f"http://{address}") as http:
        body = {"job_name": "minutely", "config_yaml": counted("minutely.db", count=50),
                "scheduling": {"cron": "* * * * *", "timezone": "UTC"}}  # fmt: skip
        created = http.post(JOBS, json=body)
        assert created.status_code == 201, created.text
        job = created.json()
        next_runs = [datetime.fromisoformat(t) for t in job["next_runs"]]
        gaps = {(b - a).total_seconds() for a, b in itertools.pairwise(next_runs)}
        assert len(next_runs) == 5 and gaps == {60.0}, next_runs

        items: list[dict[str, Any]] = []
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            items = http.get(f"{JOBS}/{job['job_id']}/executions").json()["items"]
            if sum(item["status"] == "succeeded" for item in items) >= 2:
                break
            time.sleep(1.0)
        else:
            pytest.fail(f"two cron runs did not end within {DEADLINE_SECONDS} s: {items}")

        assert all(item["trigger"] == "cron" for item in items), items
        assert len(items) == 2, items  # one run per due minute, none doubled
        starts = sorted(datetime.fromisoformat(item["start_time"]) for item in items)
        assert starts[0].replace(second=0, microsecond=0) != starts[1].replace(
            second=0, microsecond=0
        ), starts
        assert all(item["records_written"] == 40 for item in items), items
