"""`websocket` input: the frames of a WebSocket, each one a message in `format`.

A stream input (`StreamInput`) whose consumer holds one connection (the `websockets`
library). After connecting it sends `subscribe`, if set; then every text or binary frame is
one message. When the connection drops it reconnects with the backoff of `reconnect`
(and subscribes again); after `reconnect.max_retries` failed attempts in a row the run
stops.

Delivery is at most once: a WebSocket has no acknowledgements or replay, so frames
received but not yet written when the process dies are lost, as are frames the server sent
while the connection was down. Use a broker input where every message must arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from fustgo.engine.batch import Split
from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.engine.retry import retry_async
from fustgo.engine.settings import RetryPolicy
from fustgo.engine.types import LogicalType
from fustgo.plugins.clients.http import HttpSettings, shown
from fustgo.plugins.registry import register_input
from fustgo.plugins.spec import ui
from fustgo.plugins.streams.base import Message, StreamInput, StreamInputConfig, take_from

log = logging.getLogger(__name__)

QUEUED_FRAMES = 10_000
"""Frames received ahead of the pipeline; beyond this the reader stops reading (the
server then sees TCP backpressure)."""


class WebSocketInputConfig(StreamInputConfig, HttpSettings):
    """Read the frames of a WebSocket (at most once)."""

    url: str = Field(
        min_length=1,
        pattern=r"^wss?://",
        json_schema_extra=ui(placeholder="wss://feed.example.com/ws"),
    )
    """The WebSocket URL (`ws://` or `wss://`)."""
    subscribe: str | dict[str, Any] | list[Any] | None = None
    """Sent after each (re)connect: text as is, a mapping or list as JSON
    (`{op: subscribe, channel: trades}`)."""
    reconnect: RetryPolicy = Field(default_factory=RetryPolicy, json_schema_extra=ui(advanced=True))
    """Backoff between attempts to (re)connect; the run stops after `max_retries`
    failed attempts in a row."""


@register_input(
    "websocket",
    config=WebSocketInputConfig,
    family="http",
    title="WebSocket",
    capabilities={"streaming"},
    examples=[
        {
            "type": "websocket",
            "url": "wss://feed.example.com/ws",
            "subscribe": {"op": "subscribe", "channel": "trades"},
            "format": {"type": "json"},
            "metadata": ["received_at"],
        }
    ],
)
class WebSocketInput(StreamInput[WebSocketInputConfig]):
    """Frames of one WebSocket connection, reconnected when it drops."""

    metadata_fields = {
        "url": LogicalType("string"),
        "sequence": LogicalType("int64"),
        "frame": LogicalType("string"),
        "received_at": LogicalType("timestamp", timezone="UTC"),
    }

    def _source(self) -> str:
        return f"websocket:{shown(self.config.url)}"

    async def _consumer(self, split: Split) -> FrameReader:
        reader = FrameReader(self.config, self._path)
        await reader.start()
        return reader

    async def check_connection(self) -> None:
        connection = await connect(self.config, self._path)
        await connection.close()


async def connect(config: WebSocketInputConfig, where: str) -> Any:
    """One connection attempt; unreachable → `RetryableError`, refused → `TerminalError`."""
    from websockets.asyncio.client import connect as ws_connect
    from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

    url = shown(config.url)
    headers = {k: v for k, v in config.request_headers().items() if k != "Accept"}
    try:
        return await ws_connect(
            config.url, additional_headers=headers, open_timeout=config.timeout, max_size=None
        )
    except InvalidStatus as exc:
        status = exc.response.status_code
        if status in (401, 403):
            raise TerminalError(
                f"`{url}` refused the WebSocket with {status}; check `{where}.bearer_token` "
                f"(or `basic_auth`, `key_header`) and `{where}.headers`."
            ) from exc
        if status == 404:
            raise TerminalError(f"`{url}` answered 404; check `{where}.url`.") from exc
        raise RetryableError(f"`{url}` refused the WebSocket with {status}.") from exc
    except InvalidURI as exc:
        raise TerminalError(f"`{where}.url` is not a WebSocket URL: {exc}.") from exc
    except (OSError, TimeoutError, InvalidHandshake) as exc:
        raise RetryableError(f"Cannot connect to `{url}` (`{where}.url`): {exc}.") from exc


class FrameReader:
    """Reads frames into a queue in the background; reconnects when the connection drops."""

    def __init__(self, config: WebSocketInputConfig, where: str) -> None:
        self.config = config
        self.where = where
        self._queue: asyncio.Queue[Message] = asyncio.Queue(QUEUED_FRAMES)
        self._task: asyncio.Task[None] | None = None
        self._connection: Any = None
        self._failure: BaseException | None = None
        self._sequence = 0

    async def start(self) -> None:
        await self._connect()
        self._task = asyncio.create_task(self._read(), name=f"websocket {self.where}")

    async def _connect(self) -> None:
        self._connection = await retry_async(
            lambda: connect(self.config, self.where),
            self.config.reconnect,
            what=f"connecting to `{shown(self.config.url)}`",
        )
        subscribe = self.config.subscribe
        if subscribe is not None:
            text = subscribe if isinstance(subscribe, str) else json.dumps(subscribe)
            await self._connection.send(text)

    async def _read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            while True:
                try:
                    async for frame in self._connection:
                        self._sequence += 1
                        binary = isinstance(frame, bytes)
                        meta = {
                            "url": shown(self.config.url),
                            "sequence": self._sequence,
                            "frame": "binary" if binary else "text",
                            "received_at": datetime.now(UTC),
                        }
                        value = frame if binary else frame.encode()
                        await self._queue.put(Message(value, meta=meta))
                except ConnectionClosed as exc:
                    log.warning("`%s` closed the connection (%s); reconnecting.", self.where, exc)
                else:
                    log.warning("`%s`: the server ended the connection; reconnecting.", self.where)
                await self._connect()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # handed to the pipeline by `receive`
            self._failure = exc

    async def receive(self, max_messages: int, timeout: float) -> list[Message]:
        if self._failure is not None and self._queue.empty():
            raise self._failure
        return await take_from(self._queue, max_messages, timeout)

    async def acknowledge(self, tokens: list[Any]) -> None:
        return  # at most once: a WebSocket has nothing to acknowledge

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
