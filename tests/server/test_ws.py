"""`/api/v1/ws` against a real uvicorn on loopback, with the `websockets` client: a
subscriber sees a run go (`job_status` running, growing `job_progress`, `log_entry`,
`metric_update`, `job_status` succeeded), unsubscribing stops the events, bad messages
get error frames; and the hub alone (threads, slow clients)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from fustgo.config.app import DatabaseSettings
from fustgo.server.app import create_app
from fustgo.server.events import EventHub, make_event
from fustgo.server.settings import ServerSettings
from tests.databases import my, my_database, pg, pg_schema
from tests.server.pipelines import endless

pytestmark = pytest.mark.integration

JOBS = "/api/v1/jobs"
YAML = {"Content-Type": "application/yaml"}
WAIT = 20.0


def paced(count: int, rate_per_sec: int) -> str:
    """`count` records at a steady rate (a run that lasts `count / rate` seconds)."""
    return f"""\
name: paced
settings: {{batch_size: 50}}
input:
  type: generate
  count: {count}
  rate_per_sec: {rate_per_sec}
  fields:
    id: {{kind: sequence, start: 1}}
output:
  type: sqlite
  connection: {{database: "paced.db"}}
  write: {{table: t, mode: upsert, conflict_key: [id]}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def live_server(tmp_path: Path) -> Iterator[str]:
    """The app under uvicorn in a thread (so the test can reach its state), progress
    every 0.1 s instead of every second."""
    settings = ServerSettings(db=DatabaseSettings(path=str(tmp_path / "f.db")), base_dir=tmp_path)
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    app.state.fustgo.runs.events.progress_interval_seconds = 0.1
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)


@pytest.fixture(scope="module")
def address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(tmp_path_factory.mktemp("ws")) as found:
        yield found


@asynccontextmanager
async def clients(address: str) -> AsyncIterator[tuple[httpx.AsyncClient, ClientConnection]]:
    async with (
        httpx.AsyncClient(base_url=f"http://{address}", timeout=WAIT) as http,
        connect(f"ws://{address}/api/v1/ws") as ws,
    ):
        yield http, ws


async def receive(ws: ClientConnection, timeout: float = WAIT) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), timeout)))


async def receive_until(
    ws: ClientConnection, done: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """Every message up to and including the one `done` accepts."""
    seen = []
    while True:
        message = await receive(ws)
        seen.append(message)
        if done(message):
            return seen


async def create_job(http: httpx.AsyncClient, yaml_text: str, name: str) -> str:
    response = await http.post(JOBS, content=yaml_text, headers=YAML, params={"job_name": name})
    assert response.status_code == 201, response.text
    return str(response.json()["job_id"])


async def send(ws: ClientConnection, message: Any) -> None:
    await ws.send(json.dumps(message))


def test_a_subscriber_sees_the_run_go(address: str) -> None:
    async def scenario() -> None:
        async with clients(address) as (http, ws):
            job_id = await create_job(http, paced(1500, 2000), "watched")
            await send(ws, {"type": "subscribe", "job_id": job_id})
            assert await receive(ws) == {
                "type": "subscribed", "job_id": job_id, "status": "ready", "execution_id": None,
            }  # fmt: skip
            started = await http.post(f"{JOBS}/{job_id}/start")
            execution_id = started.json()["execution_id"]

            def final(message: dict[str, Any]) -> bool:
                return message["type"] == "job_status" and message["data"]["status"] != "running"

            events = await receive_until(ws, final)
            assert {(e["job_id"], e["execution_id"]) for e in events} == {(job_id, execution_id)}
            kinds = [e["type"] for e in events]
            assert kinds[0] == "job_status" and events[0]["data"]["status"] == "running"
            progress = [e["data"] for e in events if e["type"] == "job_progress"]
            reads = [p["records_read"] for p in progress if not p["final"]]
            assert len(reads) >= 3 and reads == sorted(reads) and reads[-1] > reads[0] >= 0
            assert progress[-1]["final"] and progress[-1]["records_read"] == 1500
            assert progress[0]["records_total"] == 1500 and progress[0]["splits_total"] == 1
            rates = [
                e["data"]["records_per_second"] for e in events if e["type"] == "metric_update"
            ]
            assert rates and max(rates) > 0
            logs = [e["data"] for e in events if e["type"] == "log_entry"]
            assert logs[0]["message"].startswith("The run starts") and logs[0]["level"] == "INFO"
            assert any("1500 read, 1500 written" in entry["message"] for entry in logs)
            assert kinds.index("log_entry") < kinds.index("job_progress")
            end = events[-1]["data"]
            assert end["status"] == "succeeded" and end["execution_status"] == "succeeded"
            assert end["records_written"] == 1500 and end["error"] is None
            # the same entries are on disk, served by the logs endpoint
            stored = (await http.get(f"{JOBS}/{job_id}/logs")).json()["items"]
            assert [e["message"] for e in stored] == [e["message"] for e in logs]

    asyncio.run(scenario())


def test_the_mysql_to_postgresql_example_as_a_job(
    address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's check: created through the API, it runs with the right counts, its logs
    are there, and a WebSocket client sees its progress while it runs."""
    example = Path(__file__).resolve().parents[2] / "examples" / "mysql-to-postgresql.yaml"
    pipeline = example.read_text(encoding="utf-8").replace(
        "settings:\n", "settings:\n  batch_size: 100\n  speed: {records_per_sec: 4000}\n"
    )  # ~0.5 s, so that progress comes while it runs
    with my_database("ws") as database, pg_schema("ws") as target:
        my(
            f"CREATE TABLE `{database}`.orders (id bigint PRIMARY KEY, user_id int, "
            "amount decimal(12,2), status varchar(8), note varchar(20), created_at datetime)"
        )
        rows = [(n, n % 7, "1.50", "paid" if n % 2 else "new", None, None) for n in range(1, 2001)]
        my(f"INSERT INTO `{database}`.orders VALUES (%s, %s, %s, %s, %s, %s)", rows, many=True)
        monkeypatch.setenv("MYSQL_DATABASE", database)
        monkeypatch.setenv("PG_TABLE", f"{target}.orders")

        async def scenario() -> None:
            async with clients(address) as (http, ws):
                job_id = await create_job(http, pipeline, "mysql-to-postgresql")
                await send(ws, {"type": "subscribe", "job_id": job_id})
                await receive(ws)
                execution_id = (await http.post(f"{JOBS}/{job_id}/start")).json()["execution_id"]
                events = await receive_until(
                    ws, lambda m: m["type"] == "job_status" and m["data"]["status"] != "running"
                )
                progress = [e["data"] for e in events if e["type"] == "job_progress"]
                during = [(p["records_read"], p["records_written"]) for p in progress[:-1]]
                for column in zip(*during, strict=True):
                    assert list(column) == sorted(column)  # counts only grow
                assert any(read > 0 and (read < 2000 or written < 1000) for read, written in during)
                assert events[-1]["data"]["status"] == "succeeded", events[-1]
                runs = (await http.get(f"{JOBS}/{job_id}/executions")).json()["items"]
                assert [r["execution_id"] for r in runs] == [execution_id]
                counts = runs[0]
                assert (counts["records_read"], counts["records_written"]) == (2000, 1000)
                assert counts["records_filtered"] == 1000
                stored = (await http.get(f"{JOBS}/{job_id}/logs")).json()
                assert any("2000 read, 1000 written" in e["message"] for e in stored["items"])

        asyncio.run(scenario())
        assert pg(f'SELECT count(*), min(order_id) FROM "{target}".orders') == [(1000, 1)]


def test_unsubscribe_stops_the_events(address: str) -> None:
    async def scenario() -> None:
        async with clients(address) as (http, ws), connect(f"ws://{address}/api/v1/ws") as every:
            job_id = await create_job(http, endless("endless.db"), "unsubscribed")
            await send(ws, {"type": "subscribe", "job_id": job_id})
            await send(every, {"type": "subscribe", "job_id": "*"})
            assert (await receive(ws))["type"] == "subscribed"
            assert await receive(every) == {"type": "subscribed", "job_id": "*"}
            await http.post(f"{JOBS}/{job_id}/start")
            await receive_until(ws, lambda m: m["type"] == "job_progress")
            await send(ws, {"type": "unsubscribe", "job_id": job_id})
            await receive_until(ws, lambda m: m["type"] == "unsubscribed")
            # progress goes on every 0.1 s: the `*` subscriber sees it, the other nothing
            for _ in range(3):
                await receive_until(every, lambda m: m["type"] == "job_progress")
            with pytest.raises(TimeoutError):
                await receive(ws, timeout=0.5)
            await http.post(f"{JOBS}/{job_id}/stop")
            ended = await receive_until(
                every,
                lambda m: m["type"] == "job_status" and m["data"]["execution_status"] == "stopped",
            )
            statuses = [m["data"] for m in ended if m["type"] == "job_status"]
            assert statuses[0] == {"status": "stopped", "execution_status": "running"}
            assert statuses[-1]["status"] == "stopped"
            assert statuses[-1]["execution_status"] == "stopped"
            assert any("stopped through the API" in m["data"]["message"]
                       for m in ended if m["type"] == "log_entry")  # fmt: skip
            with pytest.raises(TimeoutError):
                await receive(ws, timeout=0.2)

    asyncio.run(scenario())


def test_bad_messages_get_error_frames(address: str) -> None:
    async def scenario() -> None:
        async with clients(address) as (_http, ws):

            async def error_for(raw: str | bytes) -> dict[str, Any]:
                await ws.send(raw)
                reply = await receive(ws)
                assert reply["type"] == "error", reply
                return dict(reply["error"])

            assert (await error_for("{nope"))["message"].startswith("Not JSON")
            assert "binary" in (await error_for(b"\x00\x01"))["message"]
            wrong = await error_for(json.dumps({"type": "shout", "job_id": "x"}))
            assert wrong["field"] == "type" and "'subscribe'" in wrong["message"]
            assert "hint" in wrong
            not_object = await error_for(json.dumps(["subscribe"]))
            assert "valid dictionary" in not_object["message"] and "field" not in not_object
            missing = await error_for(json.dumps({"type": "subscribe"}))
            assert missing == {"message": "`subscribe` needs a `job_id`.", "field": "job_id"}
            unknown = await error_for(json.dumps({"type": "subscribe", "job_id": "ghost"}))
            assert unknown["field"] == "job_id" and "No job `ghost`" in unknown["message"]
            extra = await error_for(json.dumps({"type": "ping", "color": "red"}))
            assert extra["field"] == "color"
            await send(ws, {"type": "ping"})
            assert await receive(ws) == {"type": "pong"}  # still open after all that

    asyncio.run(scenario())


def test_the_hub_takes_events_from_threads_and_tells_slow_clients(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("fustgo.server.events.QUEUE_LIMIT", 3)

    async def scenario() -> None:
        hub = EventHub()
        hub.publish(make_event("job_status", "a", None, {}))  # nobody listens: nothing kept
        mine, others = hub.open(), hub.open()
        mine.jobs.add("a")
        others.jobs.add("b")
        await asyncio.to_thread(hub.publish, make_event("log_entry", "a", "e", {"n": 0}))
        event = await asyncio.wait_for(mine.queue.get(), WAIT)  # delivered on the loop
        assert event["data"] == {"n": 0} and others.queue.empty()
        for n in range(1, 6):
            hub.publish(make_event("job_progress", "a", "e", {"n": n}))
        assert mine.dropped == 2
        assert [mine.queue.get_nowait()["data"]["n"] for _ in range(3)] == [3, 4, 5]
        hub.close(mine)
        hub.publish(make_event("job_progress", "a", "e", {}))
        assert mine.queue.empty()

    asyncio.run(scenario())
