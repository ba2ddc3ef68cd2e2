"""Metrics: samples recorded while a real job runs and read back over time ranges through
the API, the system and workers endpoints, and thinning/purging old samples (on SQLite,
PostgreSQL and MariaDB)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from fustgo.server.metrics.queries import job_series
from fustgo.server.metrics.recorder import MetricsSettings, prune_samples
from fustgo.store import Store
from fustgo.store.lifecycle import JobStatus
from fustgo.store.repositories import executions, jobs
from fustgo.store.tables import MetricSampleRow, utc_now
from tests.server.pipelines import endless
from tests.server.test_jobs_api import JOBS, assert_error, create, execution_ended, wait_for

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration

METRICS = "/api/v1/metrics"


def test_a_running_job_records_samples_read_back_by_time_range(client: TestClient) -> None:
    job = create(client, endless("out.db", rate_per_sec=1000))
    job_id = job["job_id"]
    started = client.post(f"{JOBS}/{job_id}/start").json()

    def points() -> list[dict[str, Any]]:
        return client.get(f"{METRICS}/jobs/{job_id}").json()["points"]

    wait_for(lambda: len(points()) >= 3, what="three samples of the running job")
    workers = client.get(f"{METRICS}/workers").json()["items"]
    assert len(workers) == 1 and workers[0]["status"] == "busy"
    assert workers[0]["jobs"] == [
        {"job_id": job_id, "execution_id": started["execution_id"], "state": "running"}
    ]
    system = client.get(f"{METRICS}/system").json()
    assert system["jobs"] == {"running": 1, "draining": 0, "queued": 0, "max_concurrent": 4}
    assert workers[0]["slots"] == 4 and workers[0]["queued"] == 0
    assert 0 <= system["cpu"]["percent"] <= 100 and system["cpu"]["cores"] >= 1
    assert system["memory"]["total_mb"] > 0 and 0 < system["disk"]["free_percent"] <= 100

    client.post(f"{JOBS}/{job_id}/stop")
    execution = wait_for(
        lambda: execution_ended(client, job_id, started["execution_id"]), what="the drain"
    )
    series = wait_for(
        lambda: (
            (body := client.get(f"{METRICS}/jobs/{job_id}").json())["points"][-1]["final"] and body
        ),
        what="the final sample",
    )
    last = series["points"][-1]
    assert last["records_read"] == execution["records_read"] > 0
    assert last["records_written"] == execution["records_written"]
    assert series["totals"]["records_read"] == execution["records_read"]
    assert series["totals"]["executions"] == 1
    running = [p for p in series["points"][:-1] if p["records_per_second"]]
    assert running, series["points"]
    # paced at 1000 records/s: each interval's rate is near it
    assert all(200 < p["records_per_second"] < 3000 for p in running), running
    assert all(p["error_rate_percent"] == 0 for p in running)
    assert any(p["batch_latency_ms"] is not None and p["batch_latency_ms"] >= 0 for p in running)
    times = [p["time"] for p in series["points"]]
    assert times == sorted(times)

    # a range that ends before the run: nothing; one that covers part of it: only those
    before = client.get(
        f"{METRICS}/jobs/{job_id}",
        params={"end": job["created_at"], "start": "2000-01-01T00:00:00Z"},
    ).json()
    assert before["points"] == [] and before["totals"]["records_read"] == 0
    middle = times[len(times) // 2]
    tail = client.get(f"{METRICS}/jobs/{job_id}", params={"start": middle}).json()
    assert tail["points"][0]["time"] == middle and len(tail["points"]) < len(times)
    # a point's counters are cumulative; the tail's totals are what was read since `middle`'s
    # previous sample
    assert tail["totals"]["records_read"] < execution["records_read"]
    wide = client.get(f"{METRICS}/jobs/{job_id}", params={"step": 3600}).json()
    assert len(wide["points"]) <= 2 and wide["totals"]["records_read"] == execution["records_read"]

    assert client.get(f"{METRICS}/workers").json()["items"][0]["status"] == "online"
    assert_error(
        client.get(f"{METRICS}/jobs/{job_id}", params={"start": middle, "end": middle}),
        422, field="start", says="must be before `end`",
    )  # fmt: skip
    assert_error(client.get(f"{METRICS}/jobs/nope"), 404, field=None, says="No job")
    assert_error(
        client.get(f"{METRICS}/jobs/{job_id}", params={"step": 0}), 422, field="step", says=""
    )


def _sample(execution: str, job: str, at: Any, read: int, **fields: Any) -> MetricSampleRow:
    return MetricSampleRow(
        job_id=job, execution_id=execution, recorded_at=at, elapsed_seconds=fields.pop("elapsed"),
        records_read=read, records_written=read, records_filtered=0,
        records_failed=fields.pop("failed", 0), bytes_read=read * 10,
        batches=read / 100, batch_seconds=read / 1000, final=fields.pop("final", False),
    )  # fmt: skip


def test_old_samples_are_thinned_to_a_minute_and_purged_without_changing_totals(
    store: Store,
) -> None:
    now = utc_now().replace(microsecond=0)
    with store.session() as session:
        job = jobs.add_job(
            session, job_name="j", job_type="ETL", config_yaml="name: j\n",
            status=JobStatus.ready, priority=0, enabled=True,
        ).job_id  # fmt: skip
        old = executions.start_execution(session, job).execution_id
        recent = executions.start_execution(session, job).execution_id
        start = now - timedelta(hours=3)
        # an old run sampled every 10 s for 5 minutes (30 samples, the last final)
        for i in range(1, 31):
            at = start + timedelta(seconds=10 * i)
            session.add(_sample(old, job, at, 100 * i, elapsed=10.0 * i, final=i == 30))
        # samples past the retention, and recent ones kept as they are
        session.add(_sample(old, job, now - timedelta(days=8), 5, elapsed=1.0))
        for i in range(1, 6):
            session.add(_sample(recent, job, now - timedelta(seconds=6 - i), 50 * i, elapsed=i))
    with store.session() as session:
        before = job_series(session, job, start, now)
        removed = prune_samples(session, now, MetricsSettings())
    with store.session() as session:
        after = job_series(session, job, start, now)
        left = session.query(MetricSampleRow).filter_by(execution_id=old).count()
    # 30 samples over 5 minutes → one per minute slot plus the final one; the 8-day-old one went
    assert 5 <= left <= 7 and removed == 31 - left
    assert after["totals"] == before["totals"]
    assert after["totals"]["records_read"] == 3000 + 250
    assert [p for p in after["points"] if p["execution_id"] == recent] == [
        p for p in before["points"] if p["execution_id"] == recent
    ]
