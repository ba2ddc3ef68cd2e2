"""The `http_server` input in a real pipeline into SQLite: a POST is answered only once its
records are in the target; bad bodies are refused with a reason; poison records go to the
dead letter and the answer counts them."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from fustgo.runtime.execute import RunOutcome
from tests.pipeline_runs import run_yaml

pytestmark = pytest.mark.integration

PIPELINE = """
name: http-server-{port}
settings:
  checkpoint: {{path: "{store}", interval: 0s}}
  error_limit: {{records: 100}}
input:
  type: http_server
  port: {port}
  path: /events
  auth_token: right
  format: {{schema: {{id: int64, name: string}}}}
  metadata: [request]
  batching: {{period: 50ms}}
  stop: {{idle: {idle}}}
output:
  type: sqlite
  connection: {{database: "{db}"}}
  write: {{table: events, mode: upsert, conflict_key: [id]}}
dead_letter:
  type: json
  path: "{dead}"
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Running:
    url: str
    db: Path
    dead: Path
    outcome: list[RunOutcome]
    thread: threading.Thread

    def rows(self) -> list[tuple[int, str]]:
        # Read with the SQLite library the output writes with (ADBC's): two SQLite copies in
        # one process break each other's file locks, so Python's sqlite3 could see stale
        # pages while the run is going.
        import adbc_driver_sqlite.dbapi

        with adbc_driver_sqlite.dbapi.connect(str(self.db)) as db, db.cursor() as cursor:
            try:
                cursor.execute("SELECT id, name FROM events ORDER BY id")
            except adbc_driver_sqlite.dbapi.Error:  # no table yet
                return []
            return [tuple(row) for row in cursor.fetchall()]  # type: ignore[misc]

    def post(self, body: bytes, kind: str = "application/json", **headers: str) -> httpx.Response:
        return httpx.post(
            self.url,
            content=body,
            headers={"Content-Type": kind, "Authorization": "Bearer right", **headers},
            timeout=20,
        )


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Running]:
    port = free_port()
    db, dead = tmp_path / "t.db", tmp_path / "dead.jsonl"
    text = PIPELINE.format(port=port, store=tmp_path / "c.db", db=db, dead=dead, idle="1500ms")
    outcome: list[RunOutcome] = []
    thread = threading.Thread(target=lambda: outcome.append(run_yaml(text, tmp_path)))
    thread.start()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:  # the server listens once the run reads
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    running = Running(f"http://127.0.0.1:{port}/events", db, dead, outcome, thread)
    yield running
    thread.join(30)
    assert outcome and outcome[0].summary.status == "succeeded", outcome[0].summary.error


def test_the_answer_comes_after_the_records_are_in_the_target(pipeline: Running) -> None:
    records = [{"id": i, "name": f"n{i}"} for i in range(1, 501)]
    response = pipeline.post(json.dumps(records).encode())
    assert response.status_code == 200, response.text
    assert response.json() == {"received": 500, "written": 500, "rejected": 0}
    assert len(pipeline.rows()) == 500  # already there when the answer arrived

    one = pipeline.post(b'{"id": 501, "name": "single"}')
    assert one.json()["written"] == 1 and pipeline.rows()[-1] == (501, "single")

    lines = b'{"id": 502, "name": "a"}\r\n\n{"id": 503, "name": "b"}\n'
    ndjson = pipeline.post(lines, "application/x-ndjson")
    assert ndjson.json() == {"received": 2, "written": 2, "rejected": 0}
    assert [r[0] for r in pipeline.rows()[-2:]] == [502, 503]


def test_concurrent_requests_each_answered_after_their_own_records(pipeline: Running) -> None:
    answers: dict[int, tuple[int, int]] = {}

    def send(client: int) -> None:
        body = json.dumps([{"id": client * 100 + i, "name": "c"} for i in range(50)]).encode()
        response = pipeline.post(body)
        mine = [r for r in pipeline.rows() if r[0] // 100 == client]
        answers[client] = (response.status_code, len(mine))

    threads = [threading.Thread(target=send, args=(c,)) for c in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert answers == {c: (200, 50) for c in range(1, 9)}


def test_poison_records_go_to_the_dead_letter_and_are_counted(pipeline: Running) -> None:
    body = b'{"id": 1, "name": "ok"}\n{"id": 2, "name": \n{"id": "x", "name": "bad id"}\n'
    response = pipeline.post(body, "application/x-ndjson")
    assert response.status_code == 200
    assert response.json() == {"received": 3, "written": 1, "rejected": 2}
    assert pipeline.rows() == [(1, "ok")]

    every_bad = pipeline.post(b'[{"id": "y"}, 5]')
    assert every_bad.json() == {"received": 2, "written": 0, "rejected": 2}
    pipeline.thread.join(30)
    dead = [json.loads(line) for line in pipeline.dead.read_text().splitlines()]
    assert len(dead) == 4
    assert all(d["stage"] == "input.format" and d["error"] for d in dead)
    assert {json.loads(d["record"])["_request"] for d in dead} == {"r1", "r2"}
    assert all("Bearer" not in json.dumps(d) for d in dead)  # credentials are not kept


@pytest.mark.parametrize(
    "case",
    [
        (b'{"id": 1,', "application/json", {}, 400, "The body is not JSON: Expecting"),
        (b"42", "application/json", {}, 400, "The body is a JSON int"),
        (b"\xff\xfe", "application/x-ndjson", {}, 400, "not UTF-8"),
        (b"{}", "text/plain", {}, 415, "Content-Type `text/plain` is not accepted"),
        (b"{}", "application/json", {"Authorization": "Bearer wrong"}, 401, "Bearer <token>"),
    ],
)
def test_bad_requests_are_refused_with_the_reason(
    pipeline: Running, case: tuple[bytes, str, dict[str, str], int, str]
) -> None:
    body, kind, headers, status, reason = case
    response = pipeline.post(body, kind, **headers)
    assert response.status_code == status
    assert reason in response.json()["error"]
    assert pipeline.rows() == []


def test_wrong_path_and_method(pipeline: Running) -> None:
    base = pipeline.url.rsplit("/", 1)[0]
    assert httpx.post(base + "/other", content=b"{}").status_code == 404
    assert httpx.get(pipeline.url).status_code == 405
    assert pipeline.post(b"[]").json() == {"received": 0, "written": 0, "rejected": 0}


def test_too_large_bodies_and_a_stop_before_the_write() -> None:
    """413 past `max_body`; records not written when the pipeline stops are answered 503."""
    import asyncio

    from fustgo.plugins.inputs.http_server import HttpServerInputConfig, RecordServer

    port = free_port()
    config = HttpServerInputConfig.model_validate({"port": port, "max_body": "1KiB"})

    async def scenario() -> tuple[httpx.Response, httpx.Response, int]:
        server = RecordServer(config, "input")
        await server.start()
        url = f"http://127.0.0.1:{port}/"
        async with httpx.AsyncClient(timeout=10) as client:
            big = await client.post(url, content=b"[" + b"1," * 1000 + b"1]",
                                    headers={"Content-Type": "application/json"})  # fmt: skip
            waiting = asyncio.create_task(
                client.post(url, content=b'{"id": 1}', headers={"Content-Type": "application/json"})
            )
            received = await server.receive(10, 5)
            await server.close()  # stopped before the record was acknowledged
            return big, await waiting, len(received)

    big, stopped, received = asyncio.run(scenario())
    assert big.status_code == 413 and "`input.max_body`" in big.json()["error"]
    assert received == 1
    assert stopped.status_code == 503 and "send them again" in stopped.json()["error"]


def test_config() -> None:
    from fustgo.plugins.inputs.http_server import HttpServerInputConfig

    with pytest.raises(ValueError, match="must be `json`"):
        HttpServerInputConfig.model_validate({"port": 1, "format": {"type": "string"}})
