"""`nats` input: core NATS subjects (at most once) or a JetStream durable pull consumer.

JetStream: every split fetches from the same durable consumer (competing consumers, each
message goes to one of them). Messages are acknowledged explicitly, one by one, only when
the runner says the output flushed their batch; a crash before that leaves them unacked and
the server redelivers them after `ack_wait` (at least once). On close, messages that were
read but not written are negatively acknowledged so they come back at once.

Core NATS has no acknowledgements: a message published while no subscriber listens, or
read but not yet written when the process dies, is gone (at most once).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

from pydantic import Field, model_validator

from fustgo.engine.batch import Split
from fustgo.engine.errors import TerminalError
from fustgo.engine.types import LogicalType
from fustgo.engine.units import Duration
from fustgo.plugins.api import PluginContext
from fustgo.plugins.clients.nats import (
    NatsConnection,
    StreamSpec,
    check_connected,
    connect,
    ensure_stream,
    nats_error,
)
from fustgo.plugins.registry import register_input
from fustgo.plugins.spec import PluginConfig, ui
from fustgo.plugins.streams.base import Message, StreamInput, StreamInputConfig

if TYPE_CHECKING:
    import nats.aio.client
    import nats.aio.msg
    import nats.js

SHORTEST_FETCH = 0.05
"""Seconds: a JetStream pull request shorter than this is not worth sending."""


class JetStreamConsumer(PluginConfig):
    """Read through a durable JetStream pull consumer."""

    stream: StreamSpec | None = None
    """The stream to read; found by the first subject when omitted."""
    durable: str = Field(default="fustgo", min_length=1, pattern=r"^[^.*>\s]+$")
    """Durable consumer name. Every split (and every process) with this name shares the
    consumer's work; its position survives restarts."""
    deliver: Literal["all", "new", "by_start_time"] = "all"
    """Where a new durable starts: the first message kept, only new messages, or the first at
    or after `start_time`. An existing durable continues where it was."""
    start_time: datetime.datetime | None = None
    """With `deliver: by_start_time`: the first message time (ISO 8601, with a zone)."""
    ack_wait: Duration = Field(default=60.0, gt=0)
    """How long the server waits for an acknowledgement before redelivering; longer than
    `settings.checkpoint.interval` plus the time to write a batch."""
    max_ack_pending: int = Field(default=100_000, ge=1, json_schema_extra=ui(advanced=True))
    """Messages delivered and not yet acknowledged before the server pauses delivery; at least
    the messages read per checkpoint interval, or reading waits for acknowledgements."""
    max_deliver: int | None = Field(default=None, ge=1, json_schema_extra=ui(advanced=True))
    """Deliveries of one message before the server gives up on it; unlimited when omitted."""

    @model_validator(mode="after")
    def _start_time(self) -> Self:
        if (self.deliver == "by_start_time") != (self.start_time is not None):
            raise ValueError("`start_time` is set exactly when `deliver` is `by_start_time`")
        return self


class NatsInputConfig(StreamInputConfig):
    """Reads messages from NATS subjects, or from a JetStream stream with acknowledgements."""

    connection: NatsConnection = Field(default_factory=NatsConnection)
    """Which servers and how to log in; passwords and tokens are secrets and never logged."""
    subjects: list[str] = Field(default_factory=list, json_schema_extra=ui(placeholder="orders.>"))
    """Subjects to read, with wildcards (`orders.*`, `orders.>`). Core NATS: required.
    JetStream: the consumer's filter (one subject on NATS 2.9; several need 2.10); the
    whole stream when omitted."""
    queue_group: str | None = None
    """Core NATS: share the messages among every subscriber of this queue group (each split
    is one); without it each subscriber gets every message, so one split reads."""
    jetstream: JetStreamConsumer | None = None
    """Read through a durable JetStream consumer (at least once); core NATS (at most once)
    when omitted."""

    @model_validator(mode="after")
    def _mode(self) -> Self:
        if self.jetstream is None and not self.subjects:
            raise ValueError("core NATS needs `subjects` (or set `jetstream` to read a stream)")
        if self.jetstream is not None and self.queue_group is not None:
            raise ValueError(
                "`queue_group` is for core NATS; JetStream splits share `jetstream.durable`"
            )
        if self.jetstream is not None and self.jetstream.stream is None and not self.subjects:
            raise ValueError("name `jetstream.stream` or give `subjects` to find it by")
        return self


@register_input(
    "nats",
    config=NatsInputConfig,
    family="mq",
    title="NATS / JetStream",
    examples=[
        {
            "type": "nats",
            "connection": {"servers": ["nats://127.0.0.1:4222"]},
            "subjects": ["orders.>"],
            "jetstream": {
                "stream": {"name": "ORDERS", "subjects": ["orders.>"], "create": True},
                "durable": "orders-to-postgres",
            },
            "metadata": ["subject", "sequence"],
        },
        {"type": "nats", "subjects": ["sensors.*.temperature"], "queue_group": "loaders"},
    ],
    capabilities={"streaming", "acks"},
)
class NatsInput(StreamInput[NatsInputConfig]):
    """Core subscriptions or JetStream pull subscriptions over one connection."""

    metadata_fields: ClassVar[dict[str, LogicalType]] = {
        **StreamInput.metadata_fields,
        "subject": LogicalType("string"),
        "stream": LogicalType("string"),
        "sequence": LogicalType("int64"),
        "num_delivered": LogicalType("int64"),
        "redelivered": LogicalType("bool"),
        "timestamp": LogicalType("timestamp", timezone="UTC"),
    }

    def __init__(self, config: NatsInputConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._client: nats.aio.client.Client | None = None
        self._stream_name: str | None = None
        self._readers: list[_JetStreamReader] = []

    def _source(self) -> str:
        config = self.config
        if config.jetstream is not None:
            name = self._stream_name or (config.jetstream.stream and config.jetstream.stream.name)
            return f"nats:{name}/{config.jetstream.durable}"
        return "nats:" + ",".join(config.subjects)

    def _consumer_count(self, parallelism: int) -> int:
        config = self.config
        shared = config.jetstream is not None or config.queue_group is not None
        return max(1, parallelism) if shared else 1

    async def open(self) -> None:
        client = await self._connection()
        if self.config.jetstream is not None:
            await self._prepare_durable(client.jetstream(timeout=self.config.connection.timeout))

    async def check_connection(self) -> None:
        client = await connect(self.config.connection, self._path, self.context.base_dir)
        try:
            jetstream = self.config.jetstream
            if jetstream is not None:
                js = client.jetstream(timeout=self.config.connection.timeout)
                try:
                    await js.account_info()
                    if jetstream.stream is not None and not jetstream.stream.create:
                        await ensure_stream(
                            js, jetstream.stream, self.config.connection, self._path
                        )
                except Exception as exc:
                    settings = self.config.connection
                    raise nats_error(exc, settings, "checking JetStream", self._path) from exc
        finally:
            await client.close()

    async def _connection(self) -> nats.aio.client.Client:
        if self._client is None or self._client.is_closed:
            self._client = await connect(self.config.connection, self._path, self.context.base_dir)
        return self._client

    async def _prepare_durable(self, js: nats.js.JetStreamContext) -> None:
        """Find or create the stream, then create the durable consumer unless it exists."""
        import nats.js.errors
        from nats.js import api

        config = self.config
        jetstream = config.jetstream
        assert jetstream is not None
        settings = config.connection
        try:
            if jetstream.stream is not None:
                await ensure_stream(js, jetstream.stream, settings, self._path)
                stream = jetstream.stream.name
            else:
                stream = await js.find_stream_name_by_subject(config.subjects[0])
        except nats.js.errors.NotFoundError:
            raise TerminalError(
                f"No JetStream stream on {settings.where} stores subject `{config.subjects[0]}`; "
                f"name one in `{self._path}.jetstream.stream` (with `create: true` to create it)."
            ) from None
        except Exception as exc:
            raise nats_error(exc, settings, "finding the stream", self._path) from exc
        self._stream_name = stream
        try:
            await js.consumer_info(stream, jetstream.durable)
            return  # an existing durable continues where it was, with its own settings
        except nats.js.errors.NotFoundError:
            pass
        except Exception as exc:
            raise nats_error(
                exc, settings, f"looking up consumer `{jetstream.durable}`", self._path
            ) from exc
        policies = {
            "all": api.DeliverPolicy.ALL,
            "new": api.DeliverPolicy.NEW,
            "by_start_time": api.DeliverPolicy.BY_START_TIME,
        }
        consumer = api.ConsumerConfig(
            name=jetstream.durable,
            durable_name=jetstream.durable,
            ack_policy=api.AckPolicy.EXPLICIT,
            deliver_policy=policies[jetstream.deliver],
            opt_start_time=jetstream.start_time,
            ack_wait=jetstream.ack_wait,
            max_ack_pending=jetstream.max_ack_pending,
            max_deliver=jetstream.max_deliver,
        )
        if len(config.subjects) == 1:
            consumer.filter_subject = config.subjects[0]
        elif config.subjects:
            consumer.filter_subjects = list(config.subjects)
        try:
            await js.add_consumer(stream, config=consumer)
        except Exception as exc:
            raise nats_error(
                exc, settings, f"creating consumer `{jetstream.durable}` on `{stream}`", self._path
            ) from exc

    async def _consumer(self, split: Split) -> _JetStreamReader | _CoreReader:
        client = await self._connection()
        settings = self.config.connection
        jetstream = self.config.jetstream
        if jetstream is not None:
            js = client.jetstream(timeout=settings.timeout)
            if self._stream_name is None:
                await self._prepare_durable(js)
            try:
                subscription = await js.pull_subscribe_bind(
                    durable=jetstream.durable, stream=self._stream_name
                )
            except Exception as exc:
                raise nats_error(exc, settings, "subscribing", self._path) from exc
            reader = _JetStreamReader(client, subscription, settings, self._path)
            reader.readers, reader.limit = self._readers, jetstream.max_ack_pending
            self._readers.append(reader)
            return reader
        reader = _CoreReader(client, settings, self._path, self.context.batch_size)
        try:
            for subject in self.config.subjects:
                await reader.subscribe(subject, self.config.queue_group)
            await client.flush(timeout=settings.timeout)  # subscribed on the server
        except Exception as exc:
            raise nats_error(exc, settings, "subscribing", self._path) from exc
        return reader

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            client, self._client = self._client, None
            if client is not None and not client.is_closed:
                await client.close()


class _JetStreamReader:
    """One split's pull subscription on the shared durable."""

    def __init__(
        self,
        client: nats.aio.client.Client,
        subscription: nats.js.JetStreamContext.PullSubscription,
        settings: NatsConnection,
        path: str,
    ) -> None:
        self.client, self.subscription = client, subscription
        self.settings, self.path = settings, path
        self.unacked: dict[int, nats.aio.msg.Msg] = {}
        """Messages read and not yet acknowledged, by id (nak'ed on close)."""
        self.fetching: asyncio.Future[list[nats.aio.msg.Msg]] | None = None
        """The pull in progress; shielded, so a stop that cancels the reader while it
        waits does not strand what it fetched (`close` gives that back)."""
        self.readers: list[_JetStreamReader] = [self]
        """Every split's reader of the shared durable (they share `max_ack_pending`)."""
        self.limit: int | None = None

    @property
    def awaiting_acks(self) -> bool:
        """The durable has `max_ack_pending` messages out: JetStream sends no more until
        some are acknowledged (at the next checkpoint), so an empty fetch is not idleness."""
        unacked = sum(len(reader.unacked) for reader in self.readers)
        return self.limit is not None and unacked >= self.limit

    async def receive(self, max_messages: int, timeout: float) -> list[Message]:
        import nats.errors

        check_connected(self.client, self.settings, self.path)
        self.fetching = asyncio.ensure_future(
            self.subscription.fetch(batch=max_messages, timeout=max(timeout, SHORTEST_FETCH))
        )
        try:
            fetched = await asyncio.shield(self.fetching)
            self.fetching = None
        except (TimeoutError, nats.errors.TimeoutError):
            self.fetching = None
            return []
        except asyncio.CancelledError:
            raise  # the fetch goes on; `close` gives back what it brings
        except Exception as exc:
            self.fetching = None
            raise nats_error(exc, self.settings, "fetching messages", self.path) from exc
        messages = []
        for msg in fetched:
            meta = msg.metadata
            self.unacked[id(msg)] = msg
            messages.append(
                Message(
                    msg.data,
                    headers=msg.headers,
                    meta={
                        "subject": msg.subject,
                        "stream": meta.stream,
                        "sequence": meta.sequence.stream,
                        "num_delivered": meta.num_delivered,
                        "redelivered": meta.num_delivered > 1,
                        "timestamp": meta.timestamp,
                    },
                    token=msg,
                )
            )
        return messages

    async def acknowledge(self, tokens: list[Any]) -> None:
        try:
            for msg in tokens:
                await msg.ack()
                self.unacked.pop(id(msg), None)
            await self.client.flush(timeout=self.settings.timeout)
        except Exception as exc:
            raise nats_error(exc, self.settings, "acknowledging messages", self.path) from exc

    async def close(self) -> None:
        """Give back what was read and not written, so it is redelivered at once."""
        pending, self.unacked = list(self.unacked.values()), {}
        fetching, self.fetching = self.fetching, None
        if fetching is not None:  # a pull cut short by a stop: wait for it, give it back
            with contextlib.suppress(Exception):
                pending.extend(await fetching)
        # A pull request can deliver messages after `fetch` returned; they wait in the
        # subscription's queue for the next fetch. Give those back too (nats-py keeps the
        # queue private; without it they return after `ack_wait`).
        queue = getattr(getattr(self.subscription, "_sub", None), "_pending_queue", None)
        while queue is not None and not queue.empty():
            msg = queue.get_nowait()
            if msg.reply and msg.reply.startswith("$JS.ACK."):
                pending.append(msg)
        if self.client.is_connected:
            for msg in pending:
                await msg.nak()
            if pending:
                await self.client.flush(timeout=self.settings.timeout)
            await self.subscription.unsubscribe()


class _CoreReader:
    """Core subscriptions feeding one bounded queue (no acknowledgements exist)."""

    def __init__(
        self, client: nats.aio.client.Client, settings: NatsConnection, path: str, room: int
    ) -> None:
        self.client, self.settings, self.path = client, settings, path
        self.queue: asyncio.Queue[nats.aio.msg.Msg] = asyncio.Queue(maxsize=2 * room)
        self.subscriptions: list[Any] = []

    async def subscribe(self, subject: str, queue_group: str | None) -> None:
        self.subscriptions.append(
            await self.client.subscribe(subject, queue=queue_group or "", cb=self.queue.put)
        )

    async def receive(self, max_messages: int, timeout: float) -> list[Message]:
        check_connected(self.client, self.settings, self.path)
        if self.queue.empty():
            try:
                taken = [await asyncio.wait_for(self.queue.get(), timeout=max(timeout, 0.001))]
            except TimeoutError:
                return []
        else:
            taken = [self.queue.get_nowait()]
        while len(taken) < max_messages and not self.queue.empty():
            taken.append(self.queue.get_nowait())
        return [Message(m.data, headers=m.headers, meta={"subject": m.subject}) for m in taken]

    async def acknowledge(self, tokens: list[Any]) -> None:
        return  # core NATS has no acknowledgements

    async def close(self) -> None:
        if self.client.is_connected:
            for subscription in self.subscriptions:
                await subscription.unsubscribe()
