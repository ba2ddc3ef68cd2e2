"""The `http` input against the test's own HTTP server: every kind of pagination, auth
headers, 429 with Retry-After, 5xx retried, incremental runs, polling and resume."""

from __future__ import annotations

import asyncio
import base64
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from fustgo.engine.batch import Batch, Checkpoint
from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.inputs.http import HttpInput, HttpInputConfig
from tests.pipeline_runs import run_yaml
from tests.plugins.http_test_server import Reply, Request, http_server

pytestmark = pytest.mark.integration

ITEMS = [
    {"id": i, "name": f"item {i}", "updated_at": f"2026-01-01T00:00:{i:02d}Z"} for i in range(1, 24)
]
FAST = {"initial_delay": 0.01, "max_delay": 0.05}


def make(**config: Any) -> HttpInput:
    return HttpInput(HttpInputConfig.model_validate(config), PluginContext(component_path="input"))


def read_all(source: HttpInput, checkpoint: Checkpoint | None = None) -> list[Batch]:
    async def run() -> list[Batch]:
        source.restore_state(None)
        split = (await source.splits(1))[0]
        return [batch async for batch in source.read(split, checkpoint)]

    return asyncio.run(run())


def ids(batches: list[Batch]) -> list[int]:
    return [row["id"] for batch in batches for row in batch.data.to_pylist()]


def paged(request: Request) -> Reply:
    """Page by number (`page`, `per_page`), by offset (`offset`, `limit`), or by cursor."""
    q = request.query
    if request.path == "/pages":
        size = int(q.get("per_page", 5))
        start = (int(q["page"]) - 1) * size
        return Reply(body={"data": {"items": ITEMS[start : start + size]}})
    if request.path == "/offsets":
        start, limit = int(q["offset"]), int(q["limit"])
        return Reply(body={"results": ITEMS[start : start + limit]})
    if request.path == "/cursors":
        start = int(q.get("cursor", "0"))
        following = start + 4 if start + 4 < len(ITEMS) else None
        return Reply(body={"items": ITEMS[start : start + 4], "meta": {"next": following}})
    if request.path == "/links":
        start = int(q.get("from", "0"))
        headers = {}
        if start + 10 < len(ITEMS):
            headers["Link"] = f'</links?from={start + 10}>; rel="next", </links>; rel="first"'
        return Reply(body=ITEMS[start : start + 10], headers=headers)
    return Reply(404, {"error": "no such path"})


def test_page_number_pagination() -> None:
    with http_server(paged) as server:
        batches = read_all(
            make(
                url=f"{server.url}/pages",
                records_path="data.items",
                pagination={"type": "page", "size_param": "per_page", "size": 5},
            )
        )
        assert ids(batches) == list(range(1, 24))
        assert [r.query["page"] for r in server.requests] == ["1", "2", "3", "4", "5"]
        assert all(r.query["per_page"] == "5" for r in server.requests)
        assert [b.checkpoint.split_done for b in batches] == [False] * 4 + [True]  # type: ignore[union-attr]


def test_page_number_without_size_ends_at_an_empty_page() -> None:
    with http_server(paged) as server:
        batches = read_all(
            make(url=f"{server.url}/pages", records_path="data.items", pagination={"type": "page"})
        )
        assert ids(batches) == list(range(1, 24))
        assert len(server.requests) == 6  # the sixth page is empty
        assert batches[-1].num_rows == 0 and batches[-1].checkpoint.split_done  # type: ignore[union-attr]


def test_offset_pagination() -> None:
    with http_server(paged) as server:
        batches = read_all(
            make(
                url=f"{server.url}/offsets",
                records_path="results",
                pagination={"type": "offset", "limit": 10},
            )
        )
        assert ids(batches) == list(range(1, 24))
        assert [r.query["offset"] for r in server.requests] == ["0", "10", "20"]
        assert {r.query["limit"] for r in server.requests} == {"10"}


def test_cursor_pagination() -> None:
    with http_server(paged) as server:
        batches = read_all(
            make(
                url=f"{server.url}/cursors",
                records_path="items",
                params={"fixed": "yes"},
                pagination={"type": "cursor", "cursor_path": "meta.next"},
            )
        )
        assert ids(batches) == list(range(1, 24))
        assert [r.query.get("cursor") for r in server.requests] == [
            None,
            "4",
            "8",
            "12",
            "16",
            "20",
        ]
        assert {r.query["fixed"] for r in server.requests} == {"yes"}


def test_link_header_pagination() -> None:
    with http_server(paged) as server:
        batches = read_all(make(url=f"{server.url}/links", pagination={"type": "link"}))
        assert ids(batches) == list(range(1, 24))
        assert [r.query.get("from") for r in server.requests] == [None, "10", "20"]


def test_max_pages_ends_the_pass() -> None:
    with http_server(paged) as server:
        batches = read_all(
            make(url=f"{server.url}/links", pagination={"type": "link"}, max_pages=2)
        )
        assert ids(batches) == list(range(1, 21))


def test_resume_continues_at_the_page_after_the_checkpoint() -> None:
    with http_server(paged) as server:
        config = {
            "url": f"{server.url}/cursors",
            "records_path": "items",
            "pagination": {"type": "cursor", "cursor_path": "meta.next"},
        }
        first = read_all(make(**config))
        server.requests.clear()
        resumed = read_all(make(**config), first[2].checkpoint)
        assert ids(resumed) == list(range(13, 24))
        assert server.requests[0].query["cursor"] == "12"
        assert resumed[-1].checkpoint.records == 23  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("auth", "header", "expected"),
    [
        ({"bearer_token": "s3cret"}, "Authorization", "Bearer s3cret"),
        (
            {"basic_auth": {"username": "ada", "password": "pw"}},
            "Authorization",
            "Basic " + base64.b64encode(b"ada:pw").decode(),
        ),
        ({"key_header": {"value": "k1"}}, "X-API-Key", "k1"),
        ({"key_header": {"name": "Api-Token", "value": "k2"}}, "Api-Token", "k2"),
    ],
)
def test_auth_headers_reach_the_server(auth: dict[str, Any], header: str, expected: str) -> None:
    def secured(request: Request) -> Reply:
        if request.headers.get(header) != expected:
            return Reply(401, {"error": "who are you"})
        return Reply(body=ITEMS[:3])

    with http_server(secured) as server:
        assert ids(read_all(make(url=server.url, headers={"X-Trace": "t"}, **auth))) == [1, 2, 3]
        assert server.requests[0].headers["X-Trace"] == "t"
        with pytest.raises(TerminalError, match=r"answered 401 Unauthorized; check `input.bearer"):
            read_all(make(url=server.url))


def test_both_bearer_and_basic_are_refused() -> None:
    with pytest.raises(ValidationError, match="both use `Authorization`"):
        make(url="http://x", bearer_token="t", basic_auth={"username": "u", "password": "p"})


def test_429_waits_the_retry_after_then_succeeds() -> None:
    state = {"limited": 1}

    def limited(request: Request) -> Reply:
        if state["limited"]:
            state["limited"] -= 1
            return Reply(429, {"error": "slow down"}, {"Retry-After": "1"})
        return Reply(body=ITEMS[:2])

    with http_server(limited) as server:
        assert ids(read_all(make(url=server.url, retry=FAST))) == [1, 2]
        first, second = server.requests
        assert second.at - first.at >= 0.95  # the backoff alone would be 0.01 s


def test_5xx_is_retried_then_succeeds_and_gives_up_after_the_policy() -> None:
    state = {"failures": 2}

    def flaky(request: Request) -> Reply:
        if state["failures"]:
            state["failures"] -= 1
            return Reply(503, {"error": "busy"})
        return Reply(body=ITEMS[:2])

    with http_server(flaky) as server:
        assert ids(read_all(make(url=server.url, retry=FAST))) == [1, 2]
        assert len(server.requests) == 3
        state["failures"] = 10
        with pytest.raises(TerminalError, match=r"Gave up requesting .* after 3 attempts.*503"):
            read_all(make(url=server.url, retry={**FAST, "max_retries": 2}))


def test_timeouts_are_retried() -> None:
    state = {"slow": 1}

    def slow(request: Request) -> Reply:
        if state["slow"]:
            state["slow"] -= 1
            time.sleep(0.5)
        return Reply(body=ITEMS[:1])

    with http_server(slow) as server:
        assert ids(read_all(make(url=server.url, timeout="200ms", retry=FAST))) == [1]
        assert len(server.requests) == 2


def test_rate_limit_spaces_requests() -> None:
    with http_server(paged) as server:
        read_all(
            make(
                url=f"{server.url}/offsets",
                records_path="results",
                pagination={"type": "offset", "limit": 5},
                rate_limit=10,
            )
        )
        times = [r.at for r in server.requests]
        assert len(times) == 5
        assert times[-1] - times[0] >= 0.38  # 4 gaps of 0.1 s


def test_post_with_a_body() -> None:
    def search(request: Request) -> Reply:
        wanted = request.json()["ids"]
        return Reply(body={"hits": [item for item in ITEMS if item["id"] in wanted]})

    with http_server(search) as server:
        batches = read_all(
            make(url=server.url, method="POST", body={"ids": [2, 5]}, records_path="hits")
        )
        assert ids(batches) == [2, 5]
        assert server.requests[0].headers["Content-Type"] == "application/json"


def test_bad_records_go_to_the_dead_letter_and_a_wrong_path_is_named() -> None:
    with http_server(
        lambda r: Reply(body={"data": [{"id": 1}, 7, {"id": "x"}, {"id": 2}]})
    ) as server:
        source = make(url=server.url, records_path="data", schema={"id": "int64"})
        assert ids(read_all(source)) == [1, 2]
        rejected = source.take_rejected()
        assert sum(r.records.num_rows for r in rejected) == 2
        with pytest.raises(
            TerminalError,
            match=r"nothing at `input.records_path` \(`items`\); its top level holds: data",
        ):
            read_all(make(url=server.url, records_path="items"))
    with (
        http_server(paged) as server,
        pytest.raises(TerminalError, match=r"answered 404 Not Found; check `input.url`"),
    ):
        read_all(make(url=f"{server.url}/nowhere"))


def test_polling_asks_again_with_the_highest_value_and_stops_when_asked() -> None:
    served: list[dict[str, Any]] = ITEMS[:3]

    def growing(request: Request) -> Reply:
        since = request.query.get("since")
        return Reply(body=[i for i in served if since is None or i["updated_at"] > since])

    async def poll(source: HttpInput) -> list[Batch]:
        source.restore_state(None)
        split = (await source.splits(1))[0]
        batches = []
        async for batch in source.read(split, None):
            batches.append(batch)
            if len(batches) == 1:
                served.extend(ITEMS[3:5])
            if len(batches) == 3:
                break
        return batches

    with http_server(growing) as server:
        source = make(url=server.url, interval="50ms", incremental={"field": "updated_at"})
        batches = asyncio.run(poll(source))
        assert ids(batches) == [1, 2, 3, 4, 5]
        assert [r.query.get("since") for r in server.requests] == [
            None, ITEMS[2]["updated_at"], ITEMS[4]["updated_at"],
        ]  # fmt: skip
        assert not any(b.checkpoint.split_done for b in batches)  # type: ignore[union-attr]


PIPELINE = """
name: http-incremental
settings:
  checkpoint: {{path: "{store}"}}
input:
  type: http
  url: {url}
  bearer_token: ${{API_TOKEN:right}}
  records_path: data
  pagination: {{type: page, size_param: per_page, size: 4}}
  incremental: {{field: updated_at, param: since}}
output:
  type: sqlite
  connection: {{database: "{db}"}}
  write: {{table: items, mode: upsert, conflict_key: [id]}}
"""


def test_incremental_second_run_asks_since_the_highest_value(tmp_path: Path) -> None:
    served: list[dict[str, Any]] = list(ITEMS[:10])

    def api(request: Request) -> Reply:
        if request.headers.get("Authorization") != "Bearer right":
            return Reply(401, {})
        since, size = request.query.get("since"), int(request.query["per_page"])
        new = [i for i in served if since is None or i["updated_at"] > since]
        start = (int(request.query["page"]) - 1) * size
        return Reply(body={"data": new[start : start + size]})

    with http_server(api) as server:
        text = PIPELINE.format(url=server.url, store=tmp_path / "c.db", db=tmp_path / "t.db")
        first = run_yaml(text, tmp_path)
        assert first.summary.status == "succeeded", first.summary.error
        assert first.summary.records_written == 10
        assert {r.query.get("since") for r in server.requests} == {None}

        server.requests.clear()
        served.extend(ITEMS[10:15])
        second = run_yaml(text, tmp_path)
        assert second.summary.status == "succeeded", second.summary.error
        assert second.summary.records_read == 5
        assert {r.query["since"] for r in server.requests} == {ITEMS[9]["updated_at"]}

        server.requests.clear()
        third = run_yaml(text, tmp_path)  # nothing new: the mark stays
        assert third.summary.records_read == 0
        assert {r.query["since"] for r in server.requests} == {ITEMS[14]["updated_at"]}
    with sqlite3.connect(tmp_path / "t.db") as db:
        assert db.execute("SELECT count(*), max(id) FROM items").fetchone() == (15, 15)


def test_a_failed_run_keeps_the_mark(tmp_path: Path) -> None:
    served = list(ITEMS[:4])
    broken = {"on": False}

    def api(request: Request) -> Reply:
        if broken["on"] and request.query.get("page") == "2":
            return Reply(400, {"error": "bad page"})
        since, size = request.query.get("since"), int(request.query["per_page"])
        new = [i for i in served if since is None or i["updated_at"] > since]
        start = (int(request.query["page"]) - 1) * size
        return Reply(body={"data": new[start : start + size]})

    with http_server(api) as server:
        text = PIPELINE.format(url=server.url, store=tmp_path / "c.db", db=tmp_path / "t.db")
        assert run_yaml(text, tmp_path).summary.status == "succeeded"
        served.extend(ITEMS[4:12])
        broken["on"] = True
        failed = run_yaml(text, tmp_path)
        assert failed.summary.status == "failed" and "400" in (failed.summary.error or "")
        broken["on"] = False
        server.requests.clear()
        again = run_yaml(text, tmp_path)
        assert again.summary.status == "succeeded"
        assert server.requests[0].query["since"] == ITEMS[3]["updated_at"]


def test_config_is_validated() -> None:
    with pytest.raises(ValidationError, match="cursor_path"):
        HttpInputConfig.model_validate({"url": "http://x", "pagination": {"type": "cursor"}})
    with pytest.raises(ValidationError, match="url"):
        HttpInputConfig.model_validate({"url": "ftp://x"})


def test_mixed_incremental_values_are_named() -> None:
    answer = [{"id": 1, "v": 3}, {"id": 2, "v": "x"}]
    with (
        http_server(lambda r: Reply(body=answer)) as server,
        pytest.raises(TerminalError, match=r"`input.incremental.field` \(`v`\) holds"),
    ):
        read_all(make(url=server.url, incremental={"field": "v"}))


def test_check_connection() -> None:
    with http_server(paged) as server:
        asyncio.run(make(url=f"{server.url}/links").check_connection())
        with pytest.raises(TerminalError, match="404"):
            asyncio.run(make(url=f"{server.url}/nowhere").check_connection())
    with pytest.raises(RetryableError, match=r"Cannot reach `http://127.0.0.1:9/`"):
        asyncio.run(make(url="http://127.0.0.1:9/").check_connection())
