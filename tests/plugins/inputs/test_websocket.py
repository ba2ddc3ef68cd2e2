"""The `websocket` input against a local `websockets` server: text and binary frames,
the subscribe message, reconnecting after a drop, poison frames, refused handshakes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from fustgo.engine.batch import Batch
from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.inputs.websocket import WebSocketInput, WebSocketInputConfig

pytestmark = pytest.mark.integration


def make(url: str, **config: Any) -> WebSocketInput:
    settings = {
        "url": url,
        "stop": {"idle": "400ms"},
        "batching": {"period": "50ms"},
        "reconnect": {"initial_delay": 0.05, "max_retries": 3},
        **config,
    }
    return WebSocketInput(
        WebSocketInputConfig.model_validate(settings), PluginContext(component_path="input")
    )


async def read(source: WebSocketInput) -> list[Batch]:
    split = (await source.splits(1))[0]
    try:
        return [batch async for batch in source.read(split, None)]
    finally:
        await source.close()


def test_frames_subscribe_and_reconnect() -> None:
    from websockets.asyncio.server import serve

    seen: list[dict[str, Any]] = []

    async def feed(connection: Any) -> None:
        subscribe = json.loads(await connection.recv())
        seen.append(
            {"subscribe": subscribe, "auth": connection.request.headers.get("Authorization")}
        )
        if len(seen) == 1:
            await connection.send(json.dumps({"id": 1, "v": "text"}))
            await connection.send(json.dumps({"id": 2, "v": "binary"}).encode())
            await connection.send("{not json")
            return  # drops the connection: the input reconnects
        await connection.send(json.dumps({"id": 3, "v": "after reconnect"}))
        await asyncio.sleep(2)

    async def scenario() -> tuple[list[Batch], list[Any]]:
        async with serve(feed, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            source = make(
                f"ws://127.0.0.1:{port}/feed",
                subscribe={"op": "subscribe", "channel": "c"},
                bearer_token="t",
                format={"schema": {"id": "int64", "v": "string"}},
                metadata=["frame", "sequence"],
            )
            batches = await read(source)
            return batches, source.take_rejected()

    batches, rejected = asyncio.run(scenario())
    rows = [row for batch in batches for row in batch.data.to_pylist()]
    assert [(r["id"], r["_frame"], r["_sequence"]) for r in rows] == [
        (1, "text", 1), (2, "binary", 2), (3, "text", 4),
    ]  # fmt: skip
    assert seen == [{"subscribe": {"op": "subscribe", "channel": "c"}, "auth": "Bearer t"}] * 2
    (poison,) = rejected
    assert poison.records.column("_sequence").to_pylist() == [3]
    assert "not valid JSON" in str(poison.error)


def test_refused_and_unreachable() -> None:
    from websockets.asyncio.server import serve
    from websockets.datastructures import Headers
    from websockets.http11 import Response

    def refuse(connection: Any, request: Any) -> Response:
        return Response(401, "Unauthorized", Headers(), b"")

    async def refused() -> None:
        async with serve(lambda c: c.close(), "127.0.0.1", 0, process_request=refuse) as server:
            port = server.sockets[0].getsockname()[1]
            await read(make(f"ws://127.0.0.1:{port}/"))

    with pytest.raises(TerminalError, match=r"refused the WebSocket with 401; check `input.bearer"):
        asyncio.run(refused())
    with pytest.raises(
        TerminalError, match=r"Gave up connecting .* after 2 attempts.*Cannot connect"
    ):
        asyncio.run(
            read(make("ws://127.0.0.1:9/", reconnect={"initial_delay": 0.01, "max_retries": 1}))
        )
    with pytest.raises(RetryableError, match=r"Cannot connect to `ws://127.0.0.1:9/`"):
        asyncio.run(make("ws://127.0.0.1:9/").check_connection())
