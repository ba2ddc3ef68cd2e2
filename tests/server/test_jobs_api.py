"""The jobs API against the app: create from YAML or JSON, list, get, update, delete, the
state machine over HTTP, and runs started, stopped, paused and resumed in the server."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from fustgo.config.app import DatabaseSettings
from fustgo.server.settings import ServerSettings
from tests.databases import sqlite_ids
from tests.server.conftest import head_revision, make_client
from tests.server.pipelines import counted, endless

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration

JOBS = "/api/v1/jobs"
YAML = {"Content-Type": "application/yaml"}


def wait_for(condition: Callable[[], Any], *, timeout: float = 20.0, what: str) -> Any:
    """Poll `condition` until it returns something truthy (no blind sleeps)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"Timed out waiting for {what}")


def steady_ids(target: Path) -> list[int] | None:
    """The target's ids once they stop changing for half a second, else None."""
    before = sqlite_ids(target)
    time.sleep(0.5)
    after = sqlite_ids(target)
    return after if after and after == before else None


def create(client: TestClient, yaml_text: str, **query: str) -> dict[str, Any]:
    response = client.post(JOBS, content=yaml_text, headers=YAML, params=query)
    assert response.status_code == 201, response.text
    return response.json()


def execution_ended(client: TestClient, job_id: str, execution_id: str) -> Any:
    items = client.get(f"{JOBS}/{job_id}/executions").json()["items"]
    found = next(item for item in items if item["execution_id"] == execution_id)
    return found if found["status"] not in ("queued", "running") else None


def assert_error(response: Any, status: int, *, field: str | None, says: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert says in error["message"]
    assert error.get("field") == field
    return error


def test_health_openapi_and_unknown_routes(client: TestClient) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["store"]["revision"] == head_revision()
    assert health["store"]["type"] == "sqlite" and health["version"]
    spec = client.get("/api/v1/openapi.json").json()
    create_body = spec["paths"]["/api/v1/jobs"]["post"]["requestBody"]["content"]
    assert set(create_body) == {"application/json", "application/yaml"}
    assert "config_yaml" in spec["components"]["schemas"]["JobCreate"]["properties"]
    assert client.get("/api/v1/docs").status_code == 200
    assert_error(client.get("/api/v1/nothing"), 404, field=None, says="No such endpoint")
    assert_error(client.patch(JOBS), 405, field=None, says="PATCH is not allowed")


def test_create_from_yaml_or_json_and_read_back(
    any_store_client: TestClient, tmp_path: Path
) -> None:
    client = any_store_client
    job = create(client, counted("out.db"))
    assert job["job_name"] == "counted" and job["status"] == "ready"
    assert (job["source_type"], job["target_type"]) == ("generate", "sqlite")
    assert job["diagnostics"] == [] and job["job_type"] == "ETL" and job["enabled"] is True
    fetched = client.get(f"{JOBS}/{job['job_id']}").json()
    assert fetched["config_yaml"] == counted("out.db") and fetched["status"] == "ready"

    body = {
        "job_name": "nightly",
        "job_type": "ELT",
        "config_yaml": counted("other.db"),
        "scheduling": {"cron": "0 2 * * *", "timezone": "Asia/Shanghai"},
        "retry_policy": {"max_retries": 2},
        "priority": 7,
        "flow_diagram": {"nodes": [{"id": "input"}], "edges": []},
    }
    made = client.post(JOBS, json=body)
    assert made.status_code == 201, made.text
    nightly = made.json()
    assert nightly["scheduling"] == {
        "cron": "0 2 * * *", "timezone": "Asia/Shanghai", "run_at": None, "depends_on": [],
        "overlap": "serial", "timeout_seconds": None, "missed_runs": "run_once",
    }  # fmt: skip
    assert len(nightly["next_runs"]) == 5 and nightly["next_runs"][0].endswith("T02:00:00+08:00")
    assert nightly["retry_policy"] == {"max_retries": 2, "delay_seconds": 60.0}
    assert nightly["flow_diagram"]["nodes"] == [{"id": "input"}] and nightly["priority"] == 7
    assert_error(client.post(JOBS, json=body), 409, field="job_name", says="already exists")


def test_request_errors_are_json_with_the_field(any_store_client: TestClient) -> None:
    client = any_store_client
    assert_error(
        client.post(JOBS, json={"config_yml": "name: x"}), 422, field="config_yaml",
        says="`config_yaml`: Field required",
    )  # fmt: skip
    error = client.post(JOBS, json={"config_yaml": "x", "priority": 1000}).json()["error"]
    assert error["field"] == "priority" and "less than or equal to 100" in error["message"]
    bad_zone = {"config_yaml": "x", "scheduling": {"timezone": "Mars/Base"}}
    assert_error(
        client.post(JOBS, json=bad_zone), 422, field="scheduling.timezone", says="unknown time zone"
    )
    assert_error(
        client.post(JOBS, content=b"<xml/>", headers={"Content-Type": "application/xml"}),
        422, field="Content-Type", says="Cannot read a body of type `application/xml`",
    )  # fmt: skip
    not_json = client.post(JOBS, content=b"{no", headers={"Content-Type": "application/json"})
    assert_error(not_json, 422, field=None, says="Invalid JSON")
    assert_error(client.get(f"{JOBS}?sort=color"), 422, field="sort", says="by `color`")
    assert_error(client.get(f"{JOBS}/missing"), 404, field=None, says="No job `missing`")
    unnamed = client.post(JOBS, content=b"input: {type: csv}\n", headers=YAML)
    assert_error(unnamed, 422, field="job_name", says="The job has no name")


def test_an_invalid_config_is_a_draft_that_cannot_start(any_store_client: TestClient) -> None:
    client = any_store_client
    draft = create(client, "name: broken\ninput: {type: generat}\n")
    assert draft["status"] == "draft" and draft["source_type"] == "generat"
    messages = [d["message"] for d in draft["diagnostics"]]
    assert any("generat" in message for message in messages), messages
    assert all(d["file"] == "job.yaml" and d["line"] for d in draft["diagnostics"])
    error = assert_error(
        client.post(f"{JOBS}/{draft['job_id']}/start"), 409, field="status",
        says="Cannot start it: job `broken` is `draft`",
    )  # fmt: skip
    assert "Fix the errors" in error["hint"]
    fixed = client.put(
        f"{JOBS}/{draft['job_id']}", content=counted("out.db").replace("counted", "broken"),
        headers=YAML,
    )  # fmt: skip
    assert fixed.status_code == 200 and fixed.json()["status"] == "ready"
    assert fixed.json()["diagnostics"] == []
    assert_error(client.post(f"{JOBS}/{draft['job_id']}/resume"), 409, field="status",
                 says="Cannot resume it")  # fmt: skip


def test_list_filters_sorts_and_pages(any_store_client: TestClient) -> None:
    client = any_store_client
    for name, priority in [("a-job", 3), ("b-job", 9), ("c-job", 1)]:
        created = client.post(
            JOBS, json={"config_yaml": counted(f"{name}.db"), "job_name": name,
                        "priority": priority},
        )  # fmt: skip
        assert created.status_code == 201
    create(client, "name: d-job\ninput: {type: csv, paths: [x.csv]}\n")  # a draft
    listing = client.get(JOBS, params={"sort": "-priority", "status": "ready"}).json()
    assert [item["job_name"] for item in listing["items"]] == ["b-job", "a-job", "c-job"]
    assert listing["total"] == 3 and "config_yaml" not in listing["items"][0]
    page = client.get(JOBS, params={"sort": "job_name", "page": 2, "page_size": 2}).json()
    assert [item["job_name"] for item in page["items"]] == ["c-job", "d-job"]
    assert (page["total"], page["page"], page["page_size"]) == (4, 2, 2)
    by_plugins = client.get(JOBS, params={"source": "csv"}).json()
    assert [item["job_name"] for item in by_plugins["items"]] == ["d-job"]
    assert client.get(JOBS, params={"target": "sqlite", "q": "B-J"}).json()["total"] == 1
    assert client.get(JOBS, params={"job_type": "ELT"}).json()["total"] == 0


def test_update_and_delete(any_store_client: TestClient) -> None:
    client = any_store_client
    job = create(client, counted("out.db"))
    renamed = client.put(f"{JOBS}/{job['job_id']}", json={"job_name": "renamed", "enabled": False})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["job_name"] == "renamed" and renamed.json()["enabled"] is False
    assert renamed.json()["config_yaml"] == counted("out.db")  # untouched
    assert_error(client.post(f"{JOBS}/{job['job_id']}/start"), 409, field="enabled",
                 says="is disabled")  # fmt: skip
    assert client.delete(f"{JOBS}/{job['job_id']}").status_code == 204
    assert client.get(f"{JOBS}/{job['job_id']}").status_code == 404
    assert_error(client.put(f"{JOBS}/{job['job_id']}", json={}), 404, field=None, says="No job")


def run_to_the_end(client: TestClient, tmp_path: Path) -> None:
    """Start a job, wait for its execution, check its counts against the target."""
    job = create(client, counted("out/target.db"))
    started = client.post(f"{JOBS}/{job['job_id']}/start")
    assert started.status_code == 202, started.text
    execution_id = started.json()["execution_id"]
    assert started.json()["status"] == "running"
    ended = wait_for(
        lambda: execution_ended(client, job["job_id"], execution_id), what="the run's end"
    )
    assert ended["status"] == "succeeded", ended
    assert (ended["records_read"], ended["records_written"], ended["records_filtered"]) == (
        500, 400, 100,
    )  # fmt: skip
    assert ended["error_message"] is None and ended["summary"]["status"] == "succeeded"
    assert ended["end_time"] >= ended["start_time"] and ended["worker_id"]
    assert len(sqlite_ids(tmp_path / "out" / "target.db")) == 400
    job_now = client.get(f"{JOBS}/{job['job_id']}").json()
    assert job_now["status"] == "succeeded" and job_now["active_execution_id"] is None
    again = client.post(f"{JOBS}/{job['job_id']}/start")  # a finished job runs again
    assert again.status_code == 202
    wait_for(lambda: execution_ended(client, job["job_id"], again.json()["execution_id"]),
             what="the second run")  # fmt: skip
    assert client.get(f"{JOBS}/{job['job_id']}/executions").json()["total"] == 2


def test_start_runs_the_pipeline_and_records_the_execution(
    client: TestClient, tmp_path: Path
) -> None:
    run_to_the_end(client, tmp_path)


def test_runs_are_recorded_in_postgresql_and_mysql_stores(
    server_db_settings: DatabaseSettings, tmp_path: Path
) -> None:
    with make_client(ServerSettings(db=server_db_settings, base_dir=tmp_path)) as client:
        assert client.get("/health").json()["store"]["type"] == server_db_settings.type
        run_to_the_end(client, tmp_path)


def test_pause_resume_and_stop_lose_nothing(client: TestClient, tmp_path: Path) -> None:
    target = tmp_path / "endless.db"
    job = create(client, endless("endless.db"))
    job_id = job["job_id"]
    first = client.post(f"{JOBS}/{job_id}/start").json()["execution_id"]
    wait_for(lambda: len(sqlite_ids(target)) >= 100, what="rows in the target")
    assert_error(client.delete(f"{JOBS}/{job_id}"), 409, field="status", says="is `running`")
    assert_error(client.post(f"{JOBS}/{job_id}/start"), 409, field="status",
                 says="Cannot start it")  # fmt: skip
    paused = client.post(f"{JOBS}/{job_id}/pause")
    assert paused.status_code == 202 and paused.json()["status"] == "paused"
    assert client.get(f"{JOBS}/{job_id}").json()["status"] == "paused"
    # Reading stops; what was read is written and committed, so the target stops growing.
    written = wait_for(lambda: steady_ids(target), what="the target to stop growing")
    assert written == list(range(1, len(written) + 1))  # every id up to the pause
    (execution,) = client.get(f"{JOBS}/{job_id}/executions").json()["items"]
    assert execution["status"] == "running"  # the run is kept, not ended

    resumed = client.post(f"{JOBS}/{job_id}/resume")
    assert resumed.status_code == 202, resumed.text
    assert resumed.json()["execution_id"] == first  # the same run reads on
    wait_for(lambda: len(sqlite_ids(target)) >= len(written) + 100, what="rows after resume")
    stopped = client.post(f"{JOBS}/{job_id}/stop")
    assert stopped.status_code == 202 and stopped.json()["status"] == "stopped"
    ended = wait_for(lambda: execution_ended(client, job_id, first), what="the stop")
    assert ended["status"] == "stopped"
    assert client.get(f"{JOBS}/{job_id}").json()["status"] == "stopped"
    after = sqlite_ids(target)
    assert after == list(range(1, len(after) + 1)) and len(after) > len(written)

    restarted = client.post(f"{JOBS}/{job_id}/start").json()["execution_id"]
    wait_for(lambda: len(sqlite_ids(target)) >= len(after) + 100, what="rows after a start")
    client.post(f"{JOBS}/{job_id}/stop")
    ended = wait_for(lambda: execution_ended(client, job_id, restarted), what="the second stop")
    assert ended["summary"]["resumed"] is True  # a stopped job starts from its checkpoint
    final = sqlite_ids(target)
    assert final == list(range(1, len(final) + 1))
    assert_error(client.post(f"{JOBS}/{job_id}/stop"), 409, field="status", says="Cannot stop it")


def test_shutting_down_stops_runs_and_a_restart_resumes_them(
    server_settings: ServerSettings, tmp_path: Path
) -> None:
    target = tmp_path / "endless.db"
    with make_client(server_settings) as client:
        job_id = create(client, endless("endless.db"))["job_id"]
        client.post(f"{JOBS}/{job_id}/start")
        wait_for(lambda: len(sqlite_ids(target)) >= 50, what="rows in the target")
    # the app's shutdown drained the run: the job is stopped, its execution says so
    with make_client(server_settings) as client:
        assert client.get(f"{JOBS}/{job_id}").json()["status"] == "stopped"
        (execution,) = client.get(f"{JOBS}/{job_id}/executions").json()["items"]
        assert execution["status"] == "stopped"
        written = sqlite_ids(target)
        assert written == list(range(1, len(written) + 1))


def test_every_jobs_runs_are_listed_newest_first_with_their_job(
    client: TestClient, tmp_path: Path
) -> None:
    ran = []
    for name in ("first", "second"):
        job = create(
            client, counted(f"{name}.db", count=50).replace("name: counted", f"name: {name}")
        )
        started = client.post(f"{JOBS}/{job['job_id']}/start").json()["execution_id"]
        wait_for(lambda: execution_ended(client, job["job_id"], started), what=f"run of {name}")  # noqa: B023
        ran.append((name, started))
    listed = client.get("/api/v1/executions").json()
    assert listed["total"] == 2
    assert [(item["job_name"], item["execution_id"]) for item in listed["items"]] == ran[::-1]
    assert all(item["records_written"] == 40 for item in listed["items"])
    later = listed["items"][0]["start_time"]
    since = client.get("/api/v1/executions", params={"since": later}).json()
    assert [item["job_name"] for item in since["items"]] == ["second"]
    assert client.get("/api/v1/executions", params={"status": "failed"}).json()["total"] == 0
    bad = client.get("/api/v1/executions", params={"since": "yesterday"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "since"
