"""`nats` output: publish records to core NATS subjects or to JetStream with acks.

JetStream: messages are published without waiting, at most `jetstream.max_in_flight`
unconfirmed at a time; `flush()` waits for every stream acknowledgement, so a checkpoint
is saved only when the stream stored everything before it. A message whose ack timed out
is published again on the next flush (at least once; `message_id_field` lets the stream
drop such duplicates within its duplicate window).

Core NATS: `flush()` waits until the server has received everything published (a PING
round trip); the server keeps nothing, subscribers that are not listening miss it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

import pyarrow as pa
from pydantic import Field, model_validator

from fustgo.engine.batch import Batch
from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.clients.nats import (
    NatsConnection,
    StreamSpec,
    connect,
    ensure_stream,
    nats_error,
)
from fustgo.plugins.registry import register_output
from fustgo.plugins.spec import PluginConfig, ui
from fustgo.plugins.streams.base import OutgoingMessage, StreamOutput, StreamOutputConfig

if TYPE_CHECKING:
    import nats.aio.client
    import nats.js

MSG_ID_HEADER = "Nats-Msg-Id"


class JetStreamPublish(PluginConfig):
    """Publish to JetStream and wait for the stream's acknowledgements."""

    stream: StreamSpec | None = None
    """A stream to check (or create, with `create: true`) when the output opens; any
    stream storing the subjects is used when omitted."""
    max_in_flight: int = Field(default=4_000, ge=1, json_schema_extra=ui(advanced=True))
    """Messages published and not yet acknowledged by the stream; publishing waits above it."""


class NatsOutputConfig(StreamOutputConfig):
    """Publishes records as messages to NATS subjects, or to JetStream streams with acks."""

    connection: NatsConnection = Field(default_factory=NatsConnection)
    """Which servers and how to log in; passwords and tokens are secrets and never logged."""
    subject: str | None = Field(default=None, json_schema_extra=ui(placeholder="orders.created"))
    """The subject of every message."""
    subject_field: str | None = None
    """Field whose value is each message's subject (instead of `subject`); a record without
    one goes to the dead letter."""
    message_id_field: str | None = None
    """Field sent as the `Nats-Msg-Id` header: JetStream stores a message id once within the
    stream's duplicate window, so replays after a crash are dropped."""
    jetstream: JetStreamPublish | None = None
    """Publish to JetStream and wait for acks in `flush` (at least once); core NATS (the
    server keeps nothing) when omitted."""

    @model_validator(mode="after")
    def _one_subject(self) -> Self:
        if (self.subject is None) == (self.subject_field is None):
            raise ValueError("set either `subject` or `subject_field`")
        return self


@dataclass(slots=True)
class _Unconfirmed:
    """A JetStream publish whose ack is awaited."""

    subject: str
    payload: bytes
    headers: dict[str, str] | None
    ack: asyncio.Future[Any] | None = None


@register_output(
    "nats",
    config=NatsOutputConfig,
    family="mq",
    title="NATS / JetStream",
    examples=[
        {
            "type": "nats",
            "subject": "orders.created",
            "jetstream": {"stream": {"name": "ORDERS", "subjects": ["orders.>"], "create": True}},
            "message_id_field": "order_id",
        },
        {"type": "nats", "subject_field": "topic", "header_fields": ["source"]},
    ],
)
class NatsOutput(StreamOutput[NatsOutputConfig]):
    """Publishes over one connection; JetStream acks are gathered in `flush`."""

    def __init__(self, config: NatsOutputConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._client: nats.aio.client.Client | None = None
        self._js: nats.js.JetStreamContext | None = None
        self._unconfirmed: list[_Unconfirmed] = []
        self._routes: tuple[list[str | None], list[str | None]] = ([], [])
        self._data: pa.RecordBatch | None = None

    @property
    def _path(self) -> str:
        return self.context.component_path or "output"

    async def open(self, schema: pa.Schema) -> None:
        config = self.config
        for name, field in (
            ("subject_field", config.subject_field),
            ("message_id_field", config.message_id_field),
        ):
            if field is not None and field not in schema.names:
                raise TerminalError(
                    f"`{self._path}.{name}` is `{field}`, which the records do not have; "
                    f"their fields are: {', '.join(schema.names)}."
                )
        await self._connect()

    async def _connect(self) -> nats.aio.client.Client:
        if self._client is not None and not self._client.is_closed:
            return self._client
        config = self.config
        client = await connect(config.connection, self._path, self.context.base_dir)
        if config.jetstream is not None:
            js = client.jetstream(
                timeout=config.connection.timeout,
                publish_async_max_pending=config.jetstream.max_in_flight,
            )
            try:
                await js.account_info()
                if config.jetstream.stream is not None:
                    await ensure_stream(js, config.jetstream.stream, config.connection, self._path)
            except Exception as exc:
                await client.close()
                raise nats_error(exc, config.connection, "opening JetStream", self._path) from exc
            self._js = js
        self._client = client
        return client

    async def check_connection(self) -> None:
        await self._connect()
        await self.close()

    async def write(self, batch: Batch) -> None:
        if batch.num_rows == 0:
            return
        config = self.config
        self._data = batch.data
        self._routes = (
            self._texts(batch.data, config.subject_field),
            self._texts(batch.data, config.message_id_field),
        )
        try:
            await super().write(batch)
        finally:
            self._data = None

    @staticmethod
    def _texts(data: pa.RecordBatch, field: str | None) -> list[str | None]:
        if field is None:
            return []
        return [None if v is None else str(v) for v in data.column(field).to_pylist()]

    async def _publish(self, messages: list[OutgoingMessage]) -> None:
        import nats.errors

        client = await self._connect()
        subjects, message_ids = self._routes
        unrouted: list[int] = []
        too_large: list[int] = []
        for message in messages:
            subject = subjects[message.row] if subjects else self.config.subject
            if not subject:
                unrouted.append(message.row)
                continue
            headers = message.headers or None
            if message_ids and message_ids[message.row] is not None:
                headers = {**(headers or {}), MSG_ID_HEADER: message_ids[message.row]}  # type: ignore[dict-item]
            try:
                if self._js is not None:
                    pending = _Unconfirmed(subject, message.value, headers)
                    await self._send(pending)
                    self._unconfirmed.append(pending)
                else:
                    await client.publish(subject, message.value, headers=headers)
            except nats.errors.MaxPayloadError:
                too_large.append(message.row)
            except Exception as exc:
                raise nats_error(exc, self.config.connection, "publishing", self._path) from exc
        self._reject_rows(
            unrouted, f"`{self.config.subject_field}` is empty: the message has no subject"
        )
        self._reject_rows(
            too_large,
            f"the message is larger than the server's max_payload ({client.max_payload} bytes)",
        )

    async def _send(self, pending: _Unconfirmed) -> None:
        js = self._js
        assert js is not None and self.config.jetstream is not None
        if js.publish_async_pending() >= self.config.jetstream.max_in_flight:
            await self._wait_for_room()
        # No `wait_stall`: it wraps every publish in a task, and the yield it causes makes
        # the client send each message in its own write (5x slower).
        pending.ack = await js.publish_async(
            pending.subject, pending.payload, headers=pending.headers
        )

    async def _wait_for_room(self) -> None:
        """Wait until an ack frees a slot; acks that never come are a retryable error."""
        recent = self._unconfirmed[-self.config.jetstream.max_in_flight :]  # type: ignore[union-attr]
        waiting = [i.ack for i in recent if i.ack is not None and not i.ack.done()]
        if waiting:
            done, _ = await asyncio.wait(
                waiting, timeout=self.config.connection.timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )  # fmt: skip
            if done:
                return
        raise RetryableError(
            f"JetStream on {self.config.connection.where} acknowledged none of "
            f"{len(waiting)} messages in {self.config.connection.timeout:g} s; they are "
            "published again."
        )

    def _reject_rows(self, rows: list[int], error: str) -> None:
        if rows and self._data is not None:
            self.reject(self._data.take(pa.array(rows, pa.int64())), error)

    async def flush(self) -> None:
        if self._client is None:
            return
        if self._js is None:
            try:
                await self._client.flush(timeout=self.config.connection.timeout)
            except Exception as exc:
                raise nats_error(exc, self.config.connection, "flushing", self._path) from exc
            return
        await self._confirm()

    async def _confirm(self) -> None:
        """Wait for every JetStream ack; keep what timed out (or was never sent) to publish
        again on the next flush, which the engine's retry policy calls."""
        import nats.js.errors

        pending, self._unconfirmed = self._unconfirmed, []
        settings = self.config.connection
        try:
            for item in pending:
                if item.ack is None:
                    await self._send(item)
        except Exception as exc:
            self._unconfirmed = pending
            raise nats_error(exc, settings, "publishing again", self._path) from exc
        acks = [item.ack for item in pending if item.ack is not None]
        if acks:
            await asyncio.wait(acks, timeout=settings.timeout)
        failed: list[_Unconfirmed] = []
        error: BaseException | None = None
        for item in pending:
            ack = item.ack
            assert ack is not None
            if not ack.done():
                ack.cancel()
                problem: BaseException | None = TimeoutError("no acknowledgement in time")
            else:
                problem = None if ack.cancelled() else ack.exception()
                if ack.cancelled():
                    problem = TimeoutError("cancelled")
            if problem is None:
                continue
            if isinstance(problem, nats.js.errors.NoStreamResponseError):
                raise TerminalError(
                    f"No JetStream stream on {settings.where} stores subject `{item.subject}`; "
                    f"create one, or set `{self._path}.jetstream.stream` with `create: true`."
                )
            if isinstance(problem, nats.js.errors.APIError) and not isinstance(
                problem, nats.js.errors.ServiceUnavailableError
            ):
                raise nats_error(problem, settings, f"storing on `{item.subject}`", self._path)
            item.ack = None
            failed.append(item)
            error = problem
        if failed:
            self._unconfirmed = failed
            raise RetryableError(
                f"{len(failed)} JetStream publishes to {settings.where} were not acknowledged "
                f"({error!r}); they are published again."
            )

    async def close(self) -> None:
        client, self._client, self._js = self._client, None, None
        if client is not None and not client.is_closed:
            await client.close()
