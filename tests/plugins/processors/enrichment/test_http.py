"""Enrichment from an HTTP API: the test's own server (stdlib, in a thread, on port 0)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pyarrow as pa
import pytest
from pydantic import ValidationError

from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.plugins.processors.enrichment import EnrichmentConfig
from tests.plugins.processors.enrichment.building import batch_of, make, only, rows

pytestmark = pytest.mark.integration

CUSTOMERS: dict[str, dict[str, Any]] = {
    "1": {"name": "Ada", "score": 9.5, "tags": ["a", "b"], "vip": True},
    "2": {"name": "Zoë ✓ 日本", "score": None},
    "a/b": {"name": "slash"},
    "7:x": {"name": "composite"},
}


class Api:
    """What the server answers, and what it saw."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.paths: list[str] = []
        self.bodies: list[Any] = []
        self.headers: list[dict[str, str]] = []
        self.failures_left = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.barrier: threading.Barrier | None = None
        self.release = threading.Event()

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        route, _, rest = path.lstrip("/").partition("/")
        key = unquote(rest)
        if route == "flaky":
            with self.lock:
                if self.failures_left:
                    self.failures_left -= 1
                    return 503, {"error": "busy"}
        if route == "secure" and self.headers[-1].get("Authorization") != "Bearer right":
            return 401, {"error": "who are you"}
        if route == "hang":
            self.release.wait(30)
            return 200, {}
        if route == "concurrent":
            assert self.barrier is not None
            self.barrier.wait(10)  # all `parties` requests must be in flight together
        if route == "broken":
            return 200, "<html>"
        if route == "batch":
            keys = body["ids"] if isinstance(body, dict) else body
            return 200, {
                "results": [{"id": k, **CUSTOMERS[str(k)]} for k in keys if str(k) in CUSTOMERS]
            }
        if route == "mapping":
            return 200, {str(k): CUSTOMERS[str(k)] for k in body if str(k) in CUSTOMERS}
        if key in CUSTOMERS:
            return 200, {"data": {"customer": CUSTOMERS[key]}}
        return 404, {"error": "not found"}


@pytest.fixture
def api() -> Iterator[tuple[Api, str]]:
    state = Api()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            with state.lock:
                state.paths.append(self.path)
                state.bodies.append(body)
                state.headers.append(dict(self.headers))
                state.in_flight += 1
                state.max_in_flight = max(state.max_in_flight, state.in_flight)
            try:
                status, answer = state.answer(self.command, self.path, body)
            finally:
                with state.lock:
                    state.in_flight -= 1
            payload = (answer if isinstance(answer, str) else json.dumps(answer)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_HEAD = _handle  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()


def test_per_key_reads_the_object_at_response_path(api: tuple[Api, str]) -> None:
    state, base = api
    processor = make(
        {
            "key": "customer_id",
            "lookup": {
                "type": "http",
                "url": f"{base}/customers/{{key}}",
                "response_path": "data.customer",
                "headers": {"X-Api": "v2"},
            },
            "fields": {"name": "name", "score": "score", "tags": "tags", "vip": "vip"},
            "types": {"score": "float64", "vip": "bool"},
        }
    )
    data = pa.RecordBatch.from_pydict({"customer_id": pa.array([2, 1, 3, None, 1], pa.int64())})
    out = only(processor.process(batch_of(data)))
    assert out.data.to_pylist() == [
        {"customer_id": 2, "name": "Zoë ✓ 日本", "score": None, "tags": None, "vip": None},
        {"customer_id": 1, "name": "Ada", "score": 9.5, "tags": '["a", "b"]', "vip": True},
        {"customer_id": 3, "name": None, "score": None, "tags": None, "vip": None},
        {"customer_id": None, "name": None, "score": None, "tags": None, "vip": None},
        {"customer_id": 1, "name": "Ada", "score": 9.5, "tags": '["a", "b"]', "vip": True},
    ]
    assert sorted(state.paths) == ["/customers/1", "/customers/2", "/customers/3"]
    assert state.headers[0]["X-Api"] == "v2"


def test_keys_are_url_encoded_and_composite_keys_joined(api: tuple[Api, str]) -> None:
    state, base = api
    processor = make(
        {"key": "k", "lookup": {"type": "http", "url": f"{base}/c/{{k}}"}, "fields": ["name"]}
    )
    assert rows(processor, {"k": ["a/b"]}) == [{"k": "a/b", "name": None}]  # no response_path
    assert state.paths == ["/c/a%2Fb"]
    processor = make(
        {
            "key": ["n", "s"],
            "lookup": {
                "type": "http",
                "url": f"{base}/c/{{key}}",
                "response_path": "data.customer",
            },
            "fields": ["name"],
        }
    )
    assert rows(processor, {"n": [7], "s": ["x"]}) == [{"n": 7, "s": "x", "name": "composite"}]


def test_5xx_is_retried_then_succeeds(api: tuple[Api, str]) -> None:
    state, base = api
    state.failures_left = 2
    processor = make(
        {
            "key": "id",
            "lookup": {
                "type": "http",
                "url": f"{base}/flaky/{{key}}",
                "response_path": "data.customer",
            },
            "fields": ["name"],
            "retry": {"max_retries": 3, "initial_delay": "1s"},
        }
    )
    assert rows(processor, {"id": [1]}) == [{"id": 1, "name": "Ada"}]
    assert processor.sleep.delays == [1.0, 2.0]  # type: ignore[attr-defined]
    assert len(state.paths) == 3


def test_5xx_beyond_the_retries_stops_the_run(api: tuple[Api, str]) -> None:
    state, base = api
    state.failures_left = 10
    processor = make(
        {
            "key": "id",
            "lookup": {"type": "http", "url": f"{base}/flaky/{{key}}?token=secret"},
            "fields": ["name"],
            "retry": {"max_retries": 1},
        }
    )
    with pytest.raises(TerminalError) as caught:
        processor.process(batch_of({"id": [1]}))
    message = str(caught.value)
    assert f"Gave up requesting `{base}/flaky/1` after 2 attempts" in message
    assert "answered 503 Service Unavailable" in message
    assert "secret" not in message


def test_timeout_is_retryable_and_names_the_url(api: tuple[Api, str]) -> None:
    _state, base = api
    processor = make(
        {
            "key": "id",
            "lookup": {"type": "http", "url": f"{base}/hang/{{key}}", "timeout": "200ms"},
            "fields": ["name"],
            "retry": {"max_retries": 0},
        }
    )
    with pytest.raises(
        TerminalError, match=rf"`{base}/hang/1` did not answer within 0.2s"
    ) as caught:
        processor.process(batch_of({"id": [1]}))
    assert isinstance(caught.value.__cause__, RetryableError)


def test_unreachable_server_is_retryable() -> None:
    processor = make(
        {
            "key": "id",
            "lookup": {"type": "http", "url": "http://127.0.0.1:9/c/{key}"},
            "fields": ["name"],
            "retry": {"max_retries": 0},
        }
    )
    with pytest.raises(TerminalError, match=r"Cannot reach `http://127.0.0.1:9/c/1`") as caught:
        processor.process(batch_of({"id": [1]}))
    assert isinstance(caught.value.__cause__, RetryableError)
    with pytest.raises(RetryableError, match=r"Cannot reach `http://127.0.0.1:9/`"):
        asyncio.run(processor.check_connection())


def test_bearer_token_and_401(api: tuple[Api, str]) -> None:
    _state, base = api
    lookup = {"type": "http", "url": f"{base}/secure/{{key}}", "response_path": "data.customer"}
    processor = make({"key": "id", "lookup": lookup, "fields": ["name"]})
    with pytest.raises(
        TerminalError, match=r"answered 401 Unauthorized; check `lookup.bearer_token`"
    ):
        processor.process(batch_of({"id": [1]}))
    asyncio.run(processor.check_connection())  # checks that the server answers, nothing more
    processor = make(
        {"key": "id", "lookup": {**lookup, "bearer_token": "right"}, "fields": ["name"]}
    )
    assert rows(processor, {"id": [1]}) == [{"id": 1, "name": "Ada"}]
    assert "right" not in repr(processor.config)


def test_a_body_that_is_not_json_is_terminal(api: tuple[Api, str]) -> None:
    _state, base = api
    processor = make(
        {"key": "id", "lookup": {"type": "http", "url": f"{base}/broken/{{key}}"}, "fields": ["x"]}
    )
    with pytest.raises(TerminalError, match=r"a body that is not JSON: '<html>'"):
        processor.process(batch_of({"id": [1]}))


def test_per_key_concurrency_reaches_and_respects_the_limit(api: tuple[Api, str]) -> None:
    state, base = api
    state.barrier = threading.Barrier(4)
    processor = make(
        {
            "key": "id",
            "lookup": {"type": "http", "url": f"{base}/concurrent/{{key}}", "concurrency": 4},
            "fields": ["name"],
        }
    )
    out = only(processor.process(batch_of({"id": list(range(100, 120))})))
    assert out.num_rows == 20
    assert state.max_in_flight == 4
    assert len(state.paths) == 20


def test_batch_mode_posts_the_keys_and_reads_a_list(api: tuple[Api, str]) -> None:
    state, base = api
    processor = make(
        {
            "key": "customer_id",
            "lookup": {
                "type": "http",
                "mode": "batch",
                "url": f"{base}/batch",
                "response_path": "results",
                "key": "id",
                "body_field": "ids",
                "max_keys_per_request": 2,
            },
            "fields": ["name"],
        }
    )
    assert rows(processor, {"customer_id": [2, 1, 9, 2, None]}) == [
        {"customer_id": 2, "name": "Zoë ✓ 日本"},
        {"customer_id": 1, "name": "Ada"},
        {"customer_id": 9, "name": None},
        {"customer_id": 2, "name": "Zoë ✓ 日本"},
        {"customer_id": None, "name": None},
    ]
    assert len(state.bodies) == 2  # 3 distinct keys, 2 per request
    assert sorted(k for body in state.bodies for k in body["ids"]) == [1, 2, 9]


def test_batch_mode_reads_a_key_to_object_mapping(api: tuple[Api, str]) -> None:
    state, base = api
    processor = make(
        {
            "key": "id",
            "lookup": {"type": "http", "mode": "batch", "url": f"{base}/mapping"},
            "fields": ["name"],
        }
    )
    assert rows(processor, {"id": ["2", "x"]}) == [
        {"id": "2", "name": "Zoë ✓ 日本"},
        {"id": "x", "name": None},
    ]
    assert [sorted(body) for body in state.bodies] == [["2", "x"]]


def test_url_placeholders_are_validated() -> None:
    with pytest.raises(ValidationError, match=r"placeholders \['id'\]; use `\{key\}`"):
        EnrichmentConfig.model_validate(
            {"key": "k", "lookup": {"type": "http", "url": "http://x/{id}"}, "fields": ["a"]}
        )
    with pytest.raises(ValidationError, match=r"needs `\{key\}`"):
        EnrichmentConfig.model_validate(
            {"key": "k", "lookup": {"type": "http", "url": "http://x/"}, "fields": ["a"]}
        )
    with pytest.raises(ValidationError, match="needs `fields`"):
        EnrichmentConfig.model_validate(
            {"key": "k", "lookup": {"type": "http", "url": "http://x/{k}"}}
        )
