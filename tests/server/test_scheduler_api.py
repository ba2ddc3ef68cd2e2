"""The scheduler over HTTP: next run times in the job and in the schedule preview,
dependencies refused at save time (unknown jobs, cycles named), webhook triggers (a wrong
token is a 404 with a JSON body), and a seconds cron firing twice in a real server."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from fustgo.config.app import DatabaseSettings, SchedulerSettings
from fustgo.server.settings import ServerSettings
from tests.server.conftest import make_client
from tests.server.pipelines import counted
from tests.server.test_jobs_api import JOBS, assert_error, execution_ended, wait_for

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration


def make_job(client: TestClient, name: str, **fields: Any) -> dict[str, Any]:
    body = {"job_name": name, "config_yaml": counted(f"{name}.db"), **fields}
    response = client.post(JOBS, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_schedule_preview_shows_the_next_times_in_the_zone(client: TestClient) -> None:
    job = make_job(client, "nightly", scheduling={"cron": "30 2 * * *", "timezone": "Europe/Paris"})
    assert len(job["next_runs"]) == 5
    assert all(time[11:19] == "02:30:00" for time in job["next_runs"])
    preview = client.get(f"{JOBS}/{job['job_id']}/schedule", params={"count": 12}).json()
    assert len(preview["next_runs"]) == 12 and preview["next_runs"][:5] == job["next_runs"]
    assert preview["scheduling"]["overlap"] == "serial"
    assert preview["scheduling"]["missed_runs"] == "run_once"
    assert preview["trigger_url"].startswith("http://testserver/api/v1/triggers/")
    assert_error(client.get(f"{JOBS}/{job['job_id']}/schedule", params={"count": 0}), 422,
                 field="count", says="greater than or equal to 1")  # fmt: skip
    assert_error(client.get(f"{JOBS}/nope/schedule"), 404, field=None, says="No job `nope`")
    bad = {"config_yaml": counted("x.db"), "scheduling": {"cron": "every day"}}
    assert_error(client.post(JOBS, json=bad), 422, field="scheduling.cron",
                 says="is not a cron expression")  # fmt: skip
    manual = make_job(client, "manual")
    assert manual["next_runs"] == []


def test_dependency_cycles_and_unknown_upstreams_are_refused(client: TestClient) -> None:
    extract = make_job(client, "extract")
    load = make_job(client, "load", scheduling={"depends_on": [extract["job_id"]]})
    report = make_job(client, "report", scheduling={"depends_on": [load["job_id"]]})
    preview = client.get(f"{JOBS}/{load['job_id']}/schedule").json()
    assert preview["depends_on"] == [{"job_id": extract["job_id"], "job_name": "extract"}]
    assert preview["downstream"] == [{"job_id": report["job_id"], "job_name": "report"}]

    closing = {"scheduling": {"depends_on": [report["job_id"]]}}
    error = assert_error(client.put(f"{JOBS}/{extract['job_id']}", json=closing), 422,
                         field="scheduling.depends_on", says="makes a cycle")  # fmt: skip
    assert "`extract` → `load` → `report` → `extract`" in error["message"]
    myself = {"scheduling": {"depends_on": [extract["job_id"]]}}
    assert_error(client.put(f"{JOBS}/{extract['job_id']}", json=myself), 422,
                 field="scheduling.depends_on", says="`extract` → `extract`")  # fmt: skip
    assert client.get(f"{JOBS}/{extract['job_id']}").json()["scheduling"] is None  # unchanged
    unknown = {"job_name": "orphan", "config_yaml": counted("orphan.db"),
               "scheduling": {"depends_on": ["no-such-job"]}}  # fmt: skip
    assert_error(client.post(JOBS, json=unknown), 422, field="scheduling.depends_on",
                 says="names no job: `no-such-job`")  # fmt: skip
    assert client.get(JOBS, params={"q": "orphan"}).json()["total"] == 0  # not saved


def test_webhook_triggers_run_the_job_and_wrong_tokens_are_refused(client: TestClient) -> None:
    job = make_job(client, "hooked")
    url = client.get(f"{JOBS}/{job['job_id']}/schedule").json()["trigger_url"]
    path = url.removeprefix("http://testserver")
    assert_error(client.post("/api/v1/triggers/not-the-token"), 404, field=None,
                 says="No job has this trigger token")  # fmt: skip
    assert_error(client.post(path[:-1] + ("A" if path[-1] != "A" else "B")), 404, field=None,
                 says="No job has this trigger token")  # fmt: skip
    fired = client.post(path)
    assert fired.status_code == 202, fired.text
    assert fired.json()["outcome"] == "started" and fired.json()["job_id"] == job["job_id"]
    ended = wait_for(lambda: execution_ended(client, job["job_id"], fired.json()["execution_id"]),
                     what="the triggered run")  # fmt: skip
    assert ended["trigger"] == "webhook" and ended["status"] == "succeeded"

    rotated = client.post(f"{JOBS}/{job['job_id']}/schedule/token").json()["trigger_url"]
    assert rotated != url
    assert_error(client.post(path), 404, field=None, says="No job has this trigger token")
    client.put(f"{JOBS}/{job['job_id']}", json={"enabled": False})
    assert_error(client.post(rotated.removeprefix("http://testserver")), 409, field="status",
                 says="is disabled")  # fmt: skip


def test_a_cron_with_seconds_fires_twice_in_a_real_server(tmp_path: Path) -> None:
    settings = ServerSettings(
        db=DatabaseSettings(path=str(tmp_path / "fustgo.db")),
        base_dir=tmp_path,
        scheduler=SchedulerSettings(tick_seconds=0.2),
    )
    with make_client(settings) as client:
        job = make_job(client, "often", scheduling={"cron": "* * * * * */2"})

        def two_runs() -> bool:
            items = client.get(f"{JOBS}/{job['job_id']}/executions").json()["items"]
            ended = [item for item in items if item["status"] == "succeeded"]
            return len(ended) >= 2 and all(item["trigger"] == "cron" for item in items)

        wait_for(two_runs, timeout=15, what="two cron runs")
        assert client.get("/health").json()["runs"]["max_concurrent"] == 4
