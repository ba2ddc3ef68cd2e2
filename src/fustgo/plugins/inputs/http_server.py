"""`http_server` input: receive records POSTed as JSON or NDJSON; answer once they are written.

A stream input (`StreamInput`) whose one consumer is a small HTTP/1.1 server
(`asyncio.start_server` with h11, the protocol library httpx is built on). Each record of
a request body is one message; the request's pending answer is every message's ack
token. The runner acknowledges a batch only after the output flushed it (and the dead
letter held its rejects), so the server answers `200` only when every record of the
request is durably written or dead-lettered: a client that got `200` may forget the
records, and a client that got no answer (the pipeline crashed) sends them again — at
least once. The answer counts them: `{"received": n, "written": w, "rejected": r}`, where
`rejected` are the records that went to the dead letter because they did not decode.

A body that is not JSON (or not UTF-8, or not an object or a list) is refused with `400`
naming what is wrong; in an NDJSON body, each bad line is one poison record (dead letter).
Requests the pipeline did not get to before it stopped are answered `503` (send again).

A separate input type, not `http` with `mode: server`: the two share no field but the
name, and a server's settings (listening address, path, what it accepts) would be
meaningless options of the polling input, and the reverse.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self

from pydantic import Field, SecretStr, model_validator

from fustgo.engine.batch import Split
from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.engine.types import LogicalType
from fustgo.engine.units import ByteSize
from fustgo.plugins.api import PluginContext, RejectedRecords
from fustgo.plugins.registry import register_input
from fustgo.plugins.spec import ui
from fustgo.plugins.streams.base import (
    METADATA_PREFIX,
    Message,
    StreamInput,
    StreamInputConfig,
    take_from,
)

if TYPE_CHECKING:
    import h11

log = logging.getLogger(__name__)

MAX_WAITING_RECORDS = 100_000
"""Records received but not yet taken into a batch; beyond this, requests wait (the TCP
window then slows the clients down) instead of filling memory."""
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl",
                "application/x-jsonlines", "application/json-lines")  # fmt: skip
HIDDEN_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
"""Request headers never kept in the `headers` metadata (nor in dead letters), with any
whose name says token, key or secret."""


class HttpServerInputConfig(StreamInputConfig):
    """Listen for records POSTed as JSON or NDJSON; answer once they are written."""

    host: str = "127.0.0.1"
    """Address to listen on (`0.0.0.0`: every interface)."""
    port: int = Field(ge=1, le=65535, json_schema_extra=ui(placeholder="8080"))
    """Port to listen on."""
    path: str = Field(default="/", pattern=r"^/", json_schema_extra=ui(placeholder="/events"))
    """The path records are POSTed to; other paths answer 404."""
    auth_token: SecretStr | None = None
    """When set, requests must carry `Authorization: Bearer <token>` (else 401)."""
    max_body: ByteSize = Field(default=16 << 20, json_schema_extra=ui(advanced=True))
    """Largest request body accepted (larger ones answer 413)."""

    @model_validator(mode="after")
    def _json_records(self) -> Self:
        if self.format.type != "json":
            raise ValueError(
                "`format.type` must be `json`: each record of a JSON or NDJSON body is one "
                "JSON object (the request's Content-Type says which body it is)"
            )
        return self


@register_input(
    "http_server",
    config=HttpServerInputConfig,
    family="http",
    title="HTTP server (records POSTed)",
    capabilities={"streaming", "acks"},
    examples=[
        {
            "type": "http_server",
            "host": "0.0.0.0",
            "port": 8080,
            "path": "/events",
            "auth_token": "${INGEST_TOKEN:}",
            "format": {"schema": {"id": "int64", "event": "string"}},
            "metadata": ["received_at"],
        }
    ],
)
class HttpServerInput(StreamInput[HttpServerInputConfig]):
    """Records from POST requests; each request is answered after its records are written."""

    metadata_fields = {
        "headers": LogicalType("json"),
        "request": LogicalType("string"),
        "remote": LogicalType("string"),
        "received_at": LogicalType("timestamp", timezone="UTC"),
    }

    def __init__(self, config: HttpServerInputConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._server: RecordServer | None = None

    def _source(self) -> str:
        return f"http_server:{self.config.host}:{self.config.port}{self.config.path}"

    async def _consumer(self, split: Split) -> RecordServer:
        server = RecordServer(self.config, self._path)
        await server.start()
        self._server = server
        return server

    def take_rejected(self) -> list[RejectedRecords]:
        """The base's rejects, counted against the requests they came from (for the answer)."""
        taken = super().take_rejected()
        if self._server is not None:
            for item in taken:
                self._server.count_rejected(item.records)
        return taken

    async def check_connection(self) -> None:
        try:
            server = await asyncio.start_server(
                lambda r, w: None, self.config.host, self.config.port
            )
        except OSError as exc:
            raise TerminalError(
                f"Cannot listen on {self.config.host}:{self.config.port} "
                f"(`{self._path}.host`, `{self._path}.port`): {exc.strerror or exc}."
            ) from exc
        server.close()
        await server.wait_closed()


class _Pending:
    """One request waiting for its records to be written."""

    __slots__ = ("acked", "answer", "count", "id", "rejected")

    def __init__(self, request_id: str, count: int) -> None:
        self.id = request_id
        self.count = count
        self.acked = 0
        self.rejected = 0
        self.answer: asyncio.Future[None] = asyncio.get_running_loop().create_future()


class RecordServer:
    """The HTTP server and its queue of received records (the input's one `Consumer`)."""

    def __init__(self, config: HttpServerInputConfig, where: str) -> None:
        self.config = config
        self.where = where
        self._queue: asyncio.Queue[Message] = asyncio.Queue(MAX_WAITING_RECORDS)
        self._pending: dict[str, _Pending] = {}
        self._ids = itertools.count(1)
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[Any]] = set()
        self._closing = False

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(
                self._connection, self.config.host, self.config.port
            )
        except OSError as exc:
            raise RetryableError(
                f"Cannot listen on {self.config.host}:{self.config.port} "
                f"(`{self._path}.host`, `{self._path}.port`): {exc.strerror or exc}."
            ) from exc
        log.info(
            "Listening on http://%s:%d%s", self.config.host, self.config.port, self.config.path
        )

    # ----------------------------------------------------------------- the consumer

    async def receive(self, max_messages: int, timeout: float) -> list[Message]:
        return await take_from(self._queue, max_messages, timeout)

    async def acknowledge(self, tokens: list[Any]) -> None:
        for request_id, count in Counter(tokens).items():
            pending = self._pending.get(request_id)
            if pending is None:
                continue
            pending.acked += count
            if pending.acked >= pending.count and not pending.answer.done():
                pending.answer.set_result(None)

    def count_rejected(self, records: Any) -> None:
        column = METADATA_PREFIX + "request"
        if column not in records.schema.names:
            return
        for request_id, count in Counter(records.column(column).to_pylist()).items():
            pending = self._pending.get(request_id)
            if pending is not None:
                pending.rejected += count

    async def close(self) -> None:
        self._closing = True
        if self._server is not None:
            self._server.close()
        for pending in self._pending.values():  # not written: the clients must send again
            if not pending.answer.done():
                pending.answer.set_exception(_Stopped())
        if self._connections:
            await asyncio.wait(self._connections, timeout=5)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    # ------------------------------------------------------------------- the server

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away; its records (if any) are still written
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        import h11

        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=64 << 10)
        peer = writer.get_extra_info("peername")
        remote = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        while True:
            try:
                event = await _next_event(connection, reader)
                if isinstance(event, h11.ConnectionClosed):
                    return
                if not isinstance(event, h11.Request):
                    return
                status, answer = await self._request(connection, reader, event, remote)
            except h11.RemoteProtocolError as exc:
                status, answer = 400, {"error": f"Not an HTTP/1.1 request: {exc}"}
                if connection.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
                    return
            body = json.dumps(answer).encode()
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            if status >= 400 and connection.their_state is not h11.DONE:
                headers.append(("Connection", "close"))  # the rest of the body is not read
            writer.write(connection.send(h11.Response(status_code=status, headers=headers)))
            writer.write(connection.send(h11.Data(data=body)))
            writer.write(connection.send(h11.EndOfMessage()))
            await writer.drain()
            if connection.our_state is h11.MUST_CLOSE or self._closing:
                return
            try:
                connection.start_next_cycle()
            except h11.LocalProtocolError:
                return

    async def _request(
        self,
        connection: h11.Connection,
        reader: asyncio.StreamReader,
        request: h11.Request,
        remote: str,
    ) -> tuple[int, dict[str, Any]]:
        """The status and JSON answer of one request (records written when it is 200)."""
        import h11

        headers = {k.decode().lower(): v.decode("latin-1") for k, v in request.headers}
        target = request.target.decode("latin-1").split("?", 1)[0]
        if target != self.config.path:
            return 404, {"error": f"Records are POSTed to {self.config.path}, not {target}."}
        if request.method != b"POST":
            return 405, {"error": f"Use POST to send records, not {request.method.decode()}."}
        token = self.config.auth_token
        if token is not None and headers.get("authorization") != (
            f"Bearer {token.get_secret_value()}"
        ):
            return 401, {"error": "Send `Authorization: Bearer <token>` with the right token."}
        if self._closing:
            return 503, {"error": "The pipeline is stopping; send the records again later."}
        kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if kind != "application/json" and kind not in NDJSON_TYPES:
            return 415, {
                "error": f"Content-Type `{kind or 'none'}` is not accepted: send "
                "`application/json` (an object or an array of objects) or "
                "`application/x-ndjson` (one object per line)."
            }
        body = bytearray()
        while True:
            event = await _next_event(connection, reader)
            if isinstance(event, h11.Data):
                body += event.data
                if len(body) > self.config.max_body:
                    return 413, {
                        "error": f"The body is larger than {self.config.max_body} bytes "
                        f"(`{self.where}.max_body`); send fewer records per request."
                    }
            elif isinstance(event, h11.EndOfMessage):
                break
            else:
                return 400, {"error": "The request ended before its body."}
        try:
            payloads = _ndjson(bytes(body)) if kind in NDJSON_TYPES else _json(bytes(body))
        except _BadBody as exc:
            return 400, {"error": str(exc)}
        if not payloads:
            return 200, {"received": 0, "written": 0, "rejected": 0}
        return await self._deliver(payloads, headers, remote)

    async def _deliver(
        self, payloads: list[bytes], headers: dict[str, str], remote: str
    ) -> tuple[int, dict[str, Any]]:
        request_id = f"r{next(self._ids)}"
        pending = _Pending(request_id, len(payloads))
        self._pending[request_id] = pending
        kept = {k: v for k, v in headers.items() if not _secret(k)}
        meta = {"request": request_id, "remote": remote, "received_at": datetime.now(UTC)}
        try:
            for payload in payloads:
                await self._queue.put(Message(payload, headers=kept, meta=meta, token=request_id))
            await pending.answer
        except _Stopped:
            return 503, {
                "error": "The pipeline stopped before these records were written; send them again.",
            }
        finally:
            self._pending.pop(request_id, None)
        written = pending.count - pending.rejected
        return 200, {"received": pending.count, "written": written, "rejected": pending.rejected}


class _Stopped(Exception):
    """The pipeline stopped before a request's records were written."""


class _BadBody(Exception):
    """A request body that holds no records (the message says why)."""


async def _next_event(connection: h11.Connection, reader: asyncio.StreamReader) -> Any:
    import h11

    while True:
        event = connection.next_event()
        if event is not h11.NEED_DATA:
            return event
        data = await reader.read(64 << 10)
        connection.receive_data(data)  # b"" tells h11 the peer closed


def _json(body: bytes) -> list[bytes]:
    """The records of a JSON body: one object, or an array (each element one record)."""
    try:
        document = json.loads(body)
    except UnicodeDecodeError as exc:
        raise _BadBody(f"The body is not UTF-8 text: {exc.reason} at byte {exc.start}.") from exc
    except json.JSONDecodeError as exc:
        raise _BadBody(
            f"The body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno} "
            "(send NDJSON as `application/x-ndjson`)."
        ) from exc
    if isinstance(document, dict):
        return [body]
    if isinstance(document, list):
        return [json.dumps(item, ensure_ascii=False).encode() for item in document]
    raise _BadBody(
        f"The body is a JSON {type(document).__name__}: send an object or an array of objects."
    )


def _secret(header: str) -> bool:
    return header in HIDDEN_HEADERS or any(w in header for w in ("token", "key", "secret"))


def _ndjson(body: bytes) -> Sequence[bytes]:
    """The non-blank lines of an NDJSON body (a bad line is a poison record, not a 400)."""
    try:
        body.decode()
    except UnicodeDecodeError as exc:
        raise _BadBody(f"The body is not UTF-8 text: {exc.reason} at byte {exc.start}.") from exc
    return [line.rstrip(b"\r") for line in body.split(b"\n") if line.strip()]
