"""RabbitMQ output: publish each record as a message to an exchange, with confirms.

The channel runs in publisher-confirm mode. A batch's messages are published together and
their confirmations awaited before `write` returns, so when the runner flushes and saves a
checkpoint every message it covers is confirmed (persistent messages on durable queues
are on disk by then) and `flush` has nothing left to wait for. Awaiting per batch rather
than in `flush` lets a message the broker cannot take be told apart from the others: with
`mandatory` (the default) an unroutable message comes back and goes to the dead letter
naming its exchange and routing key, as does a message the broker refuses (`nack`, e.g. a
full queue with `x-overflow: reject-publish`); the rest of the batch counts as written.
A lost connection fails the batch with a `RetryableError`; the runner writes it again on a
new connection, so some messages may be published twice (at least once).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any, Self

import pyarrow as pa
from pydantic import Field, model_validator

from fustgo.engine.batch import Batch
from fustgo.engine.errors import TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.clients.rabbitmq import (
    ExchangeDeclaration,
    RabbitMQConnection,
    connect,
    declare_exchange,
    translate,
)
from fustgo.plugins.registry import register_output
from fustgo.plugins.streams.base import OutgoingMessage, StreamOutput, StreamOutputConfig

if TYPE_CHECKING:
    from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange

CONTENT_TYPES = {
    "json": "application/json",
    "ndjson": "application/x-ndjson",
    "csv": "text/csv",
    "string": "text/plain",
    "bytes": "application/octet-stream",
    "avro": "application/avro",
}


class RabbitMQOutputConfig(StreamOutputConfig):
    """Publishes records to a RabbitMQ exchange, one message each, with publisher confirms."""

    connection: RabbitMQConnection = Field(default_factory=RabbitMQConnection)
    """Broker and login."""
    exchange: str = ""
    """The exchange to publish to; `""` is the default exchange, which routes to the queue
    named by the routing key."""
    routing_key: str | None = None
    """A fixed routing key (`""` when neither this nor `routing_key_field` is set)."""
    routing_key_field: str | None = None
    """Field whose value is each message's routing key (the field stays in the payload
    unless `fields` leaves it out)."""
    declare: ExchangeDeclaration | None = None
    """Declare the exchange before publishing; when omitted it must exist."""
    persistent: bool = True
    """Delivery mode 2: durable queues keep the message across a broker restart."""
    mandatory: bool = True
    """Ask the broker to return messages no queue receives; they go to the dead letter
    instead of vanishing."""
    content_type: str | None = None
    """The messages' `content_type`; derived from `format` when omitted (`application/json`
    for `json`)."""

    @model_validator(mode="after")
    def _routing(self) -> Self:
        if self.routing_key is not None and self.routing_key_field is not None:
            raise ValueError("set `routing_key` (fixed) or `routing_key_field`, not both")
        if self.key_field is not None:
            raise ValueError(
                "RabbitMQ messages have no key: route them with `routing_key_field` instead "
                "of `key_field`"
            )
        return self


@register_output(
    "rabbitmq",
    config=RabbitMQOutputConfig,
    family="mq",
    title="RabbitMQ exchange",
    examples=[
        {
            "type": "rabbitmq",
            "connection": {"host": "127.0.0.1", "username": "guest", "password": "guest"},
            "exchange": "shop",
            "declare": {"type": "topic"},
            "routing_key_field": "kind",
        }
    ],
)
class RabbitMQOutput(StreamOutput[RabbitMQOutputConfig]):
    """Publishes each batch and awaits its confirms; unroutable messages are dead-lettered."""

    def __init__(self, config: RabbitMQOutputConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._where = self.context.component_path or "output"
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._content_type = config.content_type or CONTENT_TYPES[config.format.type]
        self._refused: dict[int, str] = {}
        """Rows of the batch being written that the broker refused, with why."""

    async def open(self, schema: pa.Schema) -> None:
        field = self.config.routing_key_field
        if field is not None and field not in schema.names:
            raise TerminalError(
                f"`{self._where}.routing_key_field` is `{field}`, which the records do not "
                f"have; their fields are: {', '.join(schema.names)}."
            )
        await self._connect()

    async def _connect(self) -> None:
        await self._disconnect()
        self._connection = await connect(self.config.connection, self._where)
        try:
            self._channel = await self._connection.channel(
                publisher_confirms=True, on_return_raises=self.config.mandatory
            )
            self._exchange = await declare_exchange(
                self._channel, self.config.exchange, self.config.declare
            )
        except Exception as exc:
            raise translate(
                exc,
                self.config.connection,
                self._where,
                f"opening exchange `{self.config.exchange}`",
            ) from exc

    def _alive(self) -> bool:
        return (
            self._connection is not None
            and not self._connection.is_closed
            and self._channel is not None
            and not self._channel.is_closed
        )

    async def write(self, batch: Batch) -> None:
        if batch.num_rows == 0:
            return
        if not self._alive():
            await self._connect()
        data = batch.data
        self._refused = {}
        sendable = []
        for message, key in zip(self.messages(data), self._routing_keys(data), strict=True):
            if key is None:
                self._refused[message.row] = (
                    f"`{self.config.routing_key_field}` is null: no routing key for this "
                    f"message (`{self._where}.routing_key_field`)"
                )
            else:
                message.key = key.encode()
                sendable.append(message)
        await self._publish(sendable)
        refused = self._refused
        if refused:
            rows = sorted(refused)
            self.reject(
                data.take(pa.array(rows)), pa.array([refused[r] for r in rows], pa.string())
            )
        written = data.num_rows - len(refused)
        self._stats.records_written += written
        self._stats.bytes_written += batch.nbytes * written // data.num_rows
        self._stats.batches_written += 1

    async def _publish(self, messages: list[OutgoingMessage]) -> None:
        """Publish (routing key in `key`), await every confirm; refusals into `_refused`."""
        results = await asyncio.gather(*map(self._send, messages), return_exceptions=True)
        lost: BaseException | None = None
        for message, result in zip(messages, results, strict=True):
            if isinstance(result, BaseException):
                reason = self._refusal(result, (message.key or b"").decode())
                if reason is None:
                    lost = lost or result
                else:
                    self._refused[message.row] = reason
        if lost is not None:
            raise translate(
                lost, self.config.connection, self._where, f"publishing to `{self.config.exchange}`"
            ) from lost

    async def _send(self, message: OutgoingMessage) -> Any:
        import aio_pika

        assert self._exchange is not None
        return await self._exchange.publish(
            aio_pika.Message(
                message.value,
                headers=message.headers or None,  # type: ignore[arg-type]
                content_type=self._content_type,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT
                if self.config.persistent
                else aio_pika.DeliveryMode.NOT_PERSISTENT,
            ),
            (message.key or b"").decode(),
            mandatory=self.config.mandatory,
        )

    def _refusal(self, exc: BaseException, routing_key: str) -> str | None:
        """Why the broker refused this one message, or None when the connection failed."""
        from aiormq.exceptions import DeliveryError, PublishError

        where = f"exchange `{self.config.exchange}` with routing key `{routing_key}`"
        if isinstance(exc, PublishError):
            return (
                f"RabbitMQ returned the message as unroutable: no queue is bound to {where} "
                f"(`{self._where}.mandatory` is on)"
            )
        if isinstance(exc, DeliveryError):
            return (
                f"RabbitMQ refused the message (nack) on {where}, e.g. a full queue with "
                "`x-overflow: reject-publish`"
            )
        return None

    def _routing_keys(self, data: pa.RecordBatch) -> list[str | None]:
        field = self.config.routing_key_field
        if field is None:
            return [self.config.routing_key or ""] * data.num_rows
        return [None if v is None else str(v) for v in data.column(field).to_pylist()]

    async def check_connection(self) -> None:
        connection = await connect(self.config.connection, self._where)
        try:
            channel = await connection.channel()
            if self.config.exchange:
                await channel.declare_exchange(self.config.exchange, passive=True)
        except Exception as exc:
            if self.config.declare is None:
                raise translate(
                    exc, self.config.connection, self._where, f"checking `{self.config.exchange}`"
                ) from exc
        finally:
            await connection.close()

    async def _disconnect(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and not connection.is_closed:
            with contextlib.suppress(Exception):  # already broken: nothing to release
                await connection.close()

    async def close(self) -> None:
        await self._disconnect()
