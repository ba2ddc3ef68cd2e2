"""The `http` output against the test's own HTTP server: batching (JSON array, NDJSON,
per record), URL templates, auth headers, retries, 429, and bad records isolated."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pydantic import ValidationError

from fustgo.engine.batch import Batch, BatchMetadata
from fustgo.engine.errors import DataError, TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.outputs.http import HttpOutput, HttpOutputConfig
from tests.pipeline_runs import run_yaml
from tests.plugins.http_test_server import Reply, Request, http_server

pytestmark = pytest.mark.integration

FAST = {"initial_delay": 0.01, "max_delay": 0.05}


def records(count: int) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(
        {"id": list(range(1, count + 1)), "name": [f"n {i}/x" for i in range(1, count + 1)]}
    )


def write(data: pa.RecordBatch, **config: Any) -> HttpOutput:
    output = HttpOutput(
        HttpOutputConfig.model_validate({"retry": FAST, **config}),
        PluginContext(component_path="output"),
    )

    async def run() -> None:
        await output.open(data.schema)
        try:
            await output.write(Batch(data, BatchMetadata(source="test")))
            await output.flush()
        finally:
            await output.close()

    asyncio.run(run())
    return output


def test_batches_as_json_arrays_of_at_most_max_records() -> None:
    with http_server() as server:
        output = write(records(25), url=server.url + "/in", max_records=10, bearer_token="t")
        bodies = [r.json() for r in server.requests]
        assert [len(b) for b in bodies] == [10, 10, 5]
        assert [row["id"] for body in bodies for row in body] == list(range(1, 26))
        assert bodies[0][0] == {"id": 1, "name": "n 1/x"}
        assert {r.headers["Authorization"] for r in server.requests} == {"Bearer t"}
        assert {r.headers["Content-Type"] for r in server.requests} == {"application/json"}
        assert output.stats().records_written == 25


def test_ndjson_body_with_put_and_chosen_fields() -> None:
    with http_server() as server:
        write(
            records(3), url=server.url, method="PUT", body_format="ndjson", fields=["id"],
            key_header={"value": "k"},
        )  # fmt: skip
        (request,) = server.requests
        assert request.method == "PUT" and request.headers["X-API-Key"] == "k"
        assert request.headers["Content-Type"] == "application/x-ndjson"
        assert [json.loads(line) for line in request.body.decode().splitlines()] == [
            {"id": 1}, {"id": 2}, {"id": 3},
        ]  # fmt: skip


def test_one_request_per_record_with_a_url_template() -> None:
    with http_server() as server:
        write(records(6), url=server.url + "/items/{id}/{name}", mode="record", concurrency=3)
        paths = sorted(r.path for r in server.requests)
        assert paths == sorted(f"/items/{i}/n%20{i}%2Fx" for i in range(1, 7))
        assert all(isinstance(r.json(), dict) for r in server.requests)


def test_batch_mode_groups_records_by_their_url() -> None:
    data = pa.RecordBatch.from_pydict({"tenant": ["a", "b", "a"], "v": [1, 2, 3]})
    with http_server() as server:
        write(data, url=server.url + "/{tenant}/events")
        sent = {r.path: [row["v"] for row in r.json()] for r in server.requests}
        assert sent == {"/a/events": [1, 3], "/b/events": [2]}


def test_5xx_and_timeouts_are_retried_and_429_waits() -> None:
    state = {"n": 0}
    lock = threading.Lock()

    def flaky(request: Request) -> Reply:
        with lock:
            state["n"] += 1
            n = state["n"]
        if n == 1:
            return Reply(502, {"error": "gateway"})
        if n == 2:
            return Reply(429, {}, {"Retry-After": "1"})
        return Reply(201, {"ok": True})

    with http_server(flaky) as server:
        write(records(2), url=server.url)
        assert len(server.requests) == 3
        assert server.requests[2].at - server.requests[1].at >= 0.95
        assert server.requests[2].json() == server.requests[0].json()

        server.serve(lambda r: Reply(503, {}))
        with pytest.raises(TerminalError, match=r"Gave up sending to .* after 2 attempts.*503"):
            write(records(2), url=server.url, retry={**FAST, "max_retries": 1})


def test_refused_records_in_record_mode_go_to_the_dead_letter_alone() -> None:
    def picky(request: Request) -> Reply:
        if request.json()["id"] in (2, 5):
            return Reply(422, {"error": "name is not allowed"})
        return Reply(200, {})

    with http_server(picky) as server:
        output = write(records(6), url=server.url, mode="record")
        assert len(server.requests) == 6  # nothing sent twice
        (rejected,) = output.take_rejected()
        assert rejected.records.column("id").to_pylist() == [2, 5]
        assert "422" in rejected.error[0].as_py() and "not allowed" in rejected.error[0].as_py()  # type: ignore[union-attr]
        assert output.stats().records_written == 4


def test_a_refused_batch_is_a_data_error_and_credentials_are_terminal() -> None:
    with http_server(lambda r: Reply(400, {"error": "bad"})) as server:
        with pytest.raises(DataError, match=r"answered 400 Bad Request"):
            write(records(3), url=server.url)
        server.serve(lambda r: Reply(401, {}))
        with pytest.raises(TerminalError, match=r"check `output.bearer_token`"):
            write(records(3), url=server.url)
        server.serve(lambda r: Reply(404, {}))
        with pytest.raises(TerminalError, match=r"answered 404"):
            write(records(3), url=server.url)


def test_missing_template_fields_and_bad_templates() -> None:
    with pytest.raises(TerminalError, match=r"names fields \['nope'\]"):
        write(records(1), url="http://127.0.0.1:9/{nope}")
    with pytest.raises(ValidationError, match="not a valid template"):
        HttpOutputConfig.model_validate({"url": "http://x/{id"})


PIPELINE = """
name: http-output
settings:
  checkpoint: {{path: "{store}"}}
  retry: {{initial_delay: 0.01}}
  error_limit: {{records: 10}}
input:
  type: generate
  count: 40
  fields: {{id: {{kind: sequence, start: 1}}}}
output:
  type: http
  url: {url}
  max_records: 100
  retry: {{initial_delay: 0.01}}
dead_letter:
  type: json
  path: "{dead}"
"""


def test_batch_mode_isolates_the_refused_record_in_a_pipeline(tmp_path: Path) -> None:
    accepted: set[int] = set()
    lock = threading.Lock()

    def refuses_13(request: Request) -> Reply:
        ids = [row["id"] for row in request.json()]
        if 13 in ids:
            return Reply(400, {"error": "13 is unlucky"})
        with lock:
            accepted.update(ids)
        return Reply(200, {})

    with http_server(refuses_13) as server:
        text = PIPELINE.format(url=server.url, store=tmp_path / "c.db", dead=tmp_path / "d.jsonl")
        outcome = run_yaml(text, tmp_path)
    assert outcome.summary.status == "succeeded", outcome.summary.error
    assert outcome.summary.records_written == 39
    assert accepted == set(range(1, 41)) - {13}
    (dead,) = [json.loads(line) for line in (tmp_path / "d.jsonl").read_text().splitlines()]
    assert json.loads(dead["record"])["id"] == 13 and "unlucky" in dead["error"]
