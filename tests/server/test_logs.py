"""Run logs: records routed to the log of the run whose task made them (concurrent runs do
not mix), daily files and 7-day retention by an injected clock, filters; and the logs
endpoints over real runs (level, keyword, time range, pages, one execution, download)."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from fustgo.server.logs import LogQuery, LogStore
from tests.server.pipelines import counted, endless
from tests.server.test_jobs_api import assert_error, create, execution_ended, wait_for

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration

JOBS = "/api/v1/jobs"
log = logging.getLogger("fustgo.tests.logs")


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_concurrent_runs_keep_their_records_apart(tmp_path: Path) -> None:
    store = LogStore(tmp_path, worker_id="w1")

    async def run(job_id: str, execution_id: str) -> None:
        store.open(job_id, execution_id).activate()
        for step in range(5):
            log.info("%s step %d", job_id, step)
            await asyncio.sleep(0)  # the other run logs in between
            await asyncio.to_thread(log.warning, "%s from a thread %d", job_id, step)

        async def helper() -> None:  # a task the run starts inherits its log
            log.error("%s helper", job_id)

        await asyncio.create_task(helper())
        log.debug("%s below the capture level", job_id)

    async def both() -> None:
        await asyncio.gather(run("job-a", "run-a"), run("job-b", "run-b"))

    asyncio.run(both())
    log.error("outside any run")  # no run's log gets it
    day = datetime.now(UTC).date().isoformat()
    for job_id, execution_id in [("job-a", "run-a"), ("job-b", "run-b")]:
        entries = lines(tmp_path / day / job_id / f"{execution_id}.jsonl")
        assert len(entries) == 11
        assert all(e["message"].startswith(f"{job_id} ") for e in entries), entries
        assert {(e["job_id"], e["execution_id"], e["worker_id"]) for e in entries} == {
            (job_id, execution_id, "w1")
        }
        assert [e["level"] for e in entries[:2]] == ["INFO", "WARN"]
        assert entries[-1]["level"] == "ERROR" and entries[-1]["logger"] == log.name
    assert len(list(tmp_path.rglob("*.jsonl"))) == 2


def test_daily_files_and_seven_days_retention(tmp_path: Path) -> None:
    clock = Clock(datetime(2024, 3, 1, 23, 59, 57, tzinfo=UTC))
    store = LogStore(tmp_path, clock=clock)
    run_log = store.open("job", "long")
    old = store.open("job", "old")

    def write(execution_log: Any, message: str) -> None:
        record = log.makeRecord(log.name, logging.INFO, __file__, 1, message, (), None)
        execution_log.write(record)

    write(old, "an older run")
    clock.now += timedelta(seconds=1)
    write(run_log, "before midnight")
    clock.now += timedelta(seconds=4)  # 2024-03-02 00:00:02: the next day's file
    write(run_log, "after midnight")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.jsonl")) == [
        "2024-03-01/job/long.jsonl",
        "2024-03-01/job/old.jsonl",
        "2024-03-02/job/long.jsonl",
    ]
    messages = [e["message"] for e in store.read("job", LogQuery(), execution_id="long")]
    assert messages == ["before midnight", "after midnight"]
    assert [e["message"] for e in store.read("job", LogQuery())] == [
        "an older run", "before midnight", "after midnight",
    ]  # fmt: skip

    clock.now = datetime(2024, 3, 9, 8, 0, tzinfo=UTC)  # 2024-03-01 is 8 days ago
    write(run_log, "a week later")  # a new day's file: old days are purged
    days = sorted(p.name for p in tmp_path.iterdir())
    assert days == ["2024-03-02", "2024-03-09"]  # 7 days ago is kept
    clock.now += timedelta(days=1)
    assert store.purge() == 1 and sorted(p.name for p in tmp_path.iterdir()) == ["2024-03-09"]
    run_log.close()
    write(run_log, "after the end")  # a late record of a finished run is not written
    assert [e["message"] for e in store.read("job", LogQuery())] == ["a week later"]


def test_filters_by_level_keyword_and_time(tmp_path: Path) -> None:
    clock = Clock(datetime(2024, 5, 1, 10, 0, tzinfo=UTC))
    store = LogStore(tmp_path, clock=clock)

    async def run() -> None:
        store.open("job", "e1").activate()
        log.info("Reading 3 splits")
        clock.now += timedelta(minutes=1)
        log.warning("Retrying the connection")
        clock.now += timedelta(minutes=1)
        try:
            raise ValueError("Boom in a WRITER")
        except ValueError:
            log.exception("The write failed")

    asyncio.run(run())

    def messages(**query: Any) -> list[str]:
        return [e["message"] for e in store.read("job", LogQuery(**query))]

    assert messages(min_level=logging.WARNING) == ["Retrying the connection", "The write failed"]
    assert messages(min_level=logging.CRITICAL) == []
    assert messages(keyword="reading") == ["Reading 3 splits"]
    assert messages(keyword="boom in a writer") == ["The write failed"]  # in the error
    start = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert messages(since=start + timedelta(seconds=30)) == [
        "Retrying the connection", "The write failed",
    ]  # fmt: skip
    assert messages(until=start + timedelta(minutes=1)) == [
        "Reading 3 splits", "Retrying the connection",
    ]  # fmt: skip
    assert messages(since=start + timedelta(days=1)) == []
    failed = next(store.read("job", LogQuery(min_level=logging.ERROR)))
    assert "Traceback" in failed["error"] and "ValueError: Boom" in failed["error"]
    assert LogQuery(since=start).covers(date(2024, 5, 1))
    assert not LogQuery(since=start).covers(date(2024, 4, 30))


# --------------------------------------------------------------------------------- the API


def start(client: TestClient, job_id: str) -> str:
    response = client.post(f"{JOBS}/{job_id}/start")
    assert response.status_code == 202, response.text
    return str(response.json()["execution_id"])


def logs(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_logs_api_over_concurrent_runs(client: TestClient, tmp_path: Path) -> None:
    alpha = create(client, endless("alpha.db").replace("name: endless", "name: alpha"))
    beta = create(client, endless("beta.db").replace("name: endless", "name: beta"))
    runs = {job["job_id"]: start(client, job["job_id"]) for job in (alpha, beta)}

    def reading(job_id: str) -> bool:
        found = logs(client, f"{JOBS}/{job_id}/logs", q="reading")["total"]
        return bool(found)

    for job_id in runs:
        wait_for(lambda job_id=job_id: reading(job_id), what=f"job {job_id} reading")
    for job_id in runs:  # both run at once until here
        assert client.post(f"{JOBS}/{job_id}/stop").status_code == 202
    for job_id, execution_id in runs.items():
        wait_for(lambda j=job_id, e=execution_id: execution_ended(client, j, e), what="the drain")

    for job_id, execution_id in runs.items():
        other = next(e for j, e in runs.items() if j != job_id)
        page = logs(client, f"{JOBS}/{job_id}/logs")
        entries = page["items"]
        assert page["total"] == len(entries) >= 4
        assert {(e["job_id"], e["execution_id"]) for e in entries} == {(job_id, execution_id)}
        text = json.dumps(entries)
        assert other not in text  # nothing of the other run
        assert entries[0]["message"].startswith("The run starts")
        assert entries[-1]["message"].endswith(f"execution {execution_id} ended stopped.")
        warnings = logs(client, f"{JOBS}/{job_id}/logs", level="warn")["items"]
        assert [e["level"] for e in warnings] == ["WARN"]
        assert "stopped through the API" in warnings[0]["message"]
        assert logs(client, f"{JOBS}/{job_id}/logs", level="ERROR")["total"] == 0

    job_id, execution_id = next(iter(runs.items()))
    base = f"{JOBS}/{job_id}/logs"
    everything = logs(client, base)["items"]
    stamps = [e["timestamp"] for e in everything]
    assert stamps == sorted(stamps)
    since = logs(client, base, since=stamps[1])["items"]
    assert since == everything[1:]
    assert logs(client, base, until=stamps[0])["items"] == everything[:1]
    second = logs(client, base, offset=1, limit=1)
    assert second["items"] == everything[1:2] and second["total"] == len(everything)
    by_run = logs(client, f"{JOBS}/{job_id}/executions/{execution_id}/logs", q="STARTS")
    assert [e["message"] for e in by_run["items"]] == [everything[0]["message"]]

    download = client.get(base, params={"download": "true", "level": "info"})
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/x-ndjson")
    assert f'filename="{job_id}.log.jsonl"' in download.headers["content-disposition"]
    assert [json.loads(line)["message"] for line in download.text.splitlines()] == [
        e["message"] for e in everything
    ]


def test_logs_of_several_runs_and_request_errors(client: TestClient) -> None:
    job = create(client, counted("out.db", count=200))
    job_id = job["job_id"]
    first = start(client, job_id)
    wait_for(lambda: execution_ended(client, job_id, first), what="the first run")
    second = start(client, job_id)
    wait_for(lambda: execution_ended(client, job_id, second), what="the second run")

    entries = logs(client, f"{JOBS}/{job_id}/logs")["items"]
    ids = [e["execution_id"] for e in entries]
    assert ids == sorted(ids, key=[first, second].index) and set(ids) == {first, second}
    only_second = logs(client, f"{JOBS}/{job_id}/logs", execution_id=second)["items"]
    assert only_second == [e for e in entries if e["execution_id"] == second]
    assert any("succeeded" in e["message"] for e in only_second)

    other = create(client, counted("other.db", count=10).replace("name: counted", "name: o"))
    assert_error(client.get(f"{JOBS}/nope/logs"), 404, field=None, says="No job `nope`")
    assert_error(
        client.get(f"{JOBS}/{other['job_id']}/executions/{first}/logs"),
        404, field=None, says=f"has no execution `{first}`",
    )  # fmt: skip
    assert_error(
        client.get(f"{JOBS}/{job_id}/logs", params={"execution_id": "missing"}),
        404, field=None, says="No execution `missing`",
    )  # fmt: skip
    assert_error(
        client.get(f"{JOBS}/{job_id}/logs", params={"level": "loud"}),
        422, field="level", says="Unknown log level `loud`",
    )  # fmt: skip
    assert_error(
        client.get(
            f"{JOBS}/{job_id}/logs",
            params={"since": "2024-01-02T00:00:00", "until": "2024-01-01T00:00:00"},
        ),
        422, field=None, says="`since` is after `until`",
    )  # fmt: skip
    assert_error(
        client.get(f"{JOBS}/{job_id}/logs", params={"limit": 0}),
        422, field="limit", says="greater than or equal to 1",
    )  # fmt: skip
    assert logs(client, f"{JOBS}/{other['job_id']}/logs") == {
        "items": [], "total": 0, "offset": 0, "limit": 1000,
    }  # fmt: skip
