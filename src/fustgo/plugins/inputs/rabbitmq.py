"""RabbitMQ input: consume a queue, acknowledging messages only once they are written.

Each split is one consumer on its own connection and channel, so `settings.parallelism`
consumers compete for the queue's messages (RabbitMQ hands each message to one of them).
Deliveries are never auto-acknowledged: the base class keeps every batch's delivery tags,
and when the runner acknowledges a checkpoint (after the output flushed) the consumer
sends one `basic.ack` with `multiple=true` for the highest tag of its channel, which
covers every earlier delivery of that channel (deliveries arrive in tag order and batches
are acknowledged in order). Whatever was not acknowledged when a consumer dies (a crash,
`kill -9`, a dropped connection) goes back to the queue and is delivered again, marked
`redelivered`: at least once, never lost.

`prefetch` bounds the unacknowledged messages per consumer. Since acknowledgements follow
checkpoints, one consumer reads at most `prefetch` messages per `settings.checkpoint
.interval`; the default (four batches, at most 65,535) lets a batch fill while earlier ones
are being written.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from pydantic import Field

from fustgo.engine.batch import Split
from fustgo.engine.errors import RetryableError
from fustgo.engine.types import LogicalType
from fustgo.plugins.api import PluginContext
from fustgo.plugins.clients.rabbitmq import RabbitMQConnection, connect, translate
from fustgo.plugins.registry import register_input
from fustgo.plugins.spec import PluginConfig, ui
from fustgo.plugins.streams.base import Message, StreamInput, StreamInputConfig

if TYPE_CHECKING:
    from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage

log = logging.getLogger(__name__)
PREFETCH_LIMIT = 65_535
"""AMQP's `prefetch_count` is a 16-bit number."""


class QueueBinding(PluginConfig):
    """Route messages of an exchange to the queue."""

    exchange: str = Field(min_length=1)
    """The exchange (it must exist)."""
    routing_key: str = ""
    """Binding key (`orders.*` on a topic exchange; ignored by fanout exchanges)."""
    arguments: dict[str, Any] = Field(default_factory=dict, json_schema_extra=ui(advanced=True))
    """Binding arguments (headers exchanges match on them)."""


class QueueDeclaration(PluginConfig):
    """Create the queue when it is missing (an existing one must have the same properties)."""

    durable: bool = True
    """Survives a broker restart (its persistent messages too)."""
    arguments: dict[str, Any] = Field(default_factory=dict)
    """Queue arguments: `x-queue-type: quorum`, `x-dead-letter-exchange`, `x-max-length`, …"""
    bindings: list[QueueBinding] = Field(default_factory=list)
    """Exchanges to bind the queue to."""


class RabbitMQInputConfig(StreamInputConfig):
    """Consumes a RabbitMQ queue; messages are acknowledged after the output flushed them."""

    connection: RabbitMQConnection = Field(default_factory=RabbitMQConnection)
    """Broker and login."""
    queue: str = Field(min_length=1)
    """The queue to consume."""
    declare: QueueDeclaration | None = None
    """Declare the queue (and its bindings) before consuming; when omitted the queue must
    exist."""
    prefetch: int | None = Field(
        default=None, ge=1, le=PREFETCH_LIMIT, json_schema_extra=ui(unit="messages")
    )
    """Unacknowledged messages one consumer may hold; four batches (at most 65,535) when
    omitted. Must be at least the batch size for a batch to fill by count."""


@register_input(
    "rabbitmq",
    config=RabbitMQInputConfig,
    family="mq",
    title="RabbitMQ queue",
    capabilities={"streaming", "acks", "split"},
    examples=[
        {
            "type": "rabbitmq",
            "connection": {"host": "127.0.0.1", "username": "guest", "password": "guest"},
            "queue": "orders",
            "declare": {
                "durable": True,
                "bindings": [{"exchange": "shop", "routing_key": "order.*"}],
            },
            "metadata": ["routing_key", "redelivered"],
        }
    ],
)
class RabbitMQInput(StreamInput[RabbitMQInputConfig]):
    """Competing consumers on one queue (one per split), manual acknowledgements.

    Metadata: `key` is the routing key (the same value as `routing_key`), `headers` the AMQP
    headers, plus `exchange`, `delivery_tag`, `redelivered`, `message_id`, `timestamp`.
    """

    metadata_fields = {
        **StreamInput.metadata_fields,
        "routing_key": LogicalType("string"),
        "exchange": LogicalType("string"),
        "delivery_tag": LogicalType("int64"),
        "redelivered": LogicalType("bool"),
        "message_id": LogicalType("string"),
        "timestamp": LogicalType("timestamp", timezone="UTC"),
    }

    def __init__(self, config: RabbitMQInputConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        count = config.batching.count or self.context.batch_size
        self._prefetch = config.prefetch or min(PREFETCH_LIMIT, 4 * count)
        if self._prefetch < count:
            log.warning(
                "`%s.prefetch` (%d) is below the batch size (%d): batches will close by "
                "`batching.period`, not by count.",
                self._path,
                self._prefetch,
                count,
            )

    def _consumer_count(self, parallelism: int) -> int:
        return max(1, parallelism)

    def _source(self) -> str:
        return f"rabbitmq:{self.config.queue}"

    async def _consumer(self, split: Split) -> QueueConsumer:
        consumer = QueueConsumer(self.config, self._path, self._prefetch)
        await consumer.start()
        return consumer

    async def check_connection(self) -> None:
        consumer = QueueConsumer(self.config, self._path, 1)
        try:
            await consumer.connect(check_only=True)
        finally:
            await consumer.close()


class QueueConsumer:
    """One consumer on its own connection; reconnects (a new channel) after a failure.

    Tokens are `(generation, delivery_tag)`: tags belong to one channel, so tokens of a
    channel that is gone are dropped on acknowledge (the broker already requeued those
    messages, they come again).
    """

    def __init__(self, config: RabbitMQInputConfig, where: str, prefetch: int) -> None:
        self.config, self.where, self.prefetch = config, where, prefetch
        self.generation = 0
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()

    async def connect(self, *, check_only: bool = False) -> None:
        """Open the connection and channel, declare or check the queue, start consuming."""
        connection = await connect(self.config.connection, self.where)
        self._connection = connection
        try:
            channel = await connection.channel(publisher_confirms=False)
            self._channel = channel
            declare = self.config.declare
            if declare is None:
                queue = await channel.declare_queue(self.config.queue, passive=True)
            elif check_only:
                return  # checking declares nothing
            else:
                queue = await channel.declare_queue(
                    self.config.queue, durable=declare.durable, arguments=declare.arguments or None
                )
                for binding in declare.bindings:
                    await queue.bind(
                        binding.exchange, binding.routing_key, arguments=binding.arguments or None
                    )
            if check_only:
                return
            await channel.set_qos(prefetch_count=self.prefetch)
            self.generation += 1
            self._inbox = inbox = asyncio.Queue()
            await queue.consume(inbox.put, no_ack=False)
        except Exception as exc:
            raise translate(exc, self.config.connection, self.where, "opening the queue") from exc

    async def start(self) -> None:
        await self.connect()

    def _alive(self) -> bool:
        return (
            self._connection is not None
            and not self._connection.is_closed
            and self._channel is not None
            and not self._channel.is_closed
        )

    async def receive(self, max_messages: int, timeout: float) -> list[Message]:
        if not self._alive():
            await self.close()
            await self.connect()
        inbox = self._inbox
        try:
            first = await asyncio.wait_for(inbox.get(), timeout) if inbox.empty() else None
        except TimeoutError:
            if not self._alive():
                raise RetryableError(
                    f"RabbitMQ at {self.config.connection.server} closed the channel of "
                    f"`{self.where}` (queue `{self.config.queue}`); unacknowledged messages "
                    "are redelivered after reconnecting."
                ) from None
            return []
        taken = [] if first is None else [first]
        while len(taken) < max_messages and not inbox.empty():
            taken.append(inbox.get_nowait())
        return [self._message(m) for m in taken]

    def _message(self, incoming: AbstractIncomingMessage) -> Message:
        return Message(
            incoming.body,
            key=incoming.routing_key.encode() if incoming.routing_key is not None else None,
            headers=_headers(incoming.headers),
            meta={
                "routing_key": incoming.routing_key,
                "exchange": incoming.exchange,
                "delivery_tag": incoming.delivery_tag,
                "redelivered": incoming.redelivered,
                "message_id": incoming.message_id,
                "timestamp": incoming.timestamp,
            },
            token=(self.generation, incoming.delivery_tag),
        )

    async def acknowledge(self, tokens: list[Any]) -> None:
        tags = [tag for generation, tag in tokens if generation == self.generation]
        if not tags or not self._alive():
            return  # the channel is gone: the broker requeued these, they come again
        assert self._channel is not None
        try:
            underlay = await self._channel.get_underlay_channel()
            await underlay.basic_ack(max(tags), multiple=True)
        except Exception as exc:  # a lost ack only means a redelivery
            log.warning(
                "`%s`: acknowledging on RabbitMQ failed (%s); those messages will be "
                "delivered again.",
                self.where,
                exc,
            )

    async def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and not connection.is_closed:
            try:
                await connection.close()
            except Exception as exc:  # closing a broken connection: nothing left to do
                log.debug("closing the RabbitMQ connection of `%s`: %s", self.where, exc)


def _headers(headers: dict[str, Any] | None) -> dict[str, bytes | str | None] | None:
    """AMQP header values (numbers, tables, timestamps…) as text; bytes and text kept."""
    if not headers:
        return None
    return {
        name: value
        if value is None or isinstance(value, str | bytes)
        else json.dumps(value, default=str)
        for name, value in headers.items()
    }
