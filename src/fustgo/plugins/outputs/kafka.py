"""`kafka` output: records → messages on a topic, confirmed by the brokers at each flush.

`write` queues the batch's messages in librdkafka's producer (it batches and compresses
them per partition); `flush` waits for every delivery report, so the runner saves a
checkpoint (and acknowledges its input) only once the brokers have the messages — with
`acks: all` and the idempotent producer by default, once every in-sync replica has them,
without duplicates from the producer's own retries.

Failures: a message larger than `max_message_bytes` is found in `write`, before anything
of the batch is sent, as a `DataError`, so the runner isolates that record to the dead
letter. Deliveries that fail because the brokers are unreachable (timed out) are queued
again and `flush` raises `RetryableError` (the runner retries it with backoff). A record
the broker itself refuses after `write` returned, or a missing topic, stops the run with a
`TerminalError` saying what to change: it cannot be isolated any more, and skipping it
would lose it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Literal, Self

import pyarrow as pa
from pydantic import Field, model_validator

from fustgo.engine.errors import DataError, RetryableError, TerminalError
from fustgo.engine.units import ByteSize, Duration
from fustgo.plugins.api import PluginContext
from fustgo.plugins.clients.kafka import (
    BrokerErrors,
    KafkaConnection,
    PropertyValue,
    check_connection,
    client_settings,
    translate,
)
from fustgo.plugins.registry import register_output
from fustgo.plugins.spec import ui
from fustgo.plugins.streams.base import OutgoingMessage, StreamOutput, StreamOutputConfig

_RESEND = {
    "_MSG_TIMED_OUT", "_TRANSPORT", "_ALL_BROKERS_DOWN", "_TIMED_OUT", "REQUEST_TIMED_OUT",
    "NOT_ENOUGH_REPLICAS", "NOT_ENOUGH_REPLICAS_AFTER_APPEND", "NOT_LEADER_FOR_PARTITION",
    "LEADER_NOT_AVAILABLE", "NETWORK_EXCEPTION", "_PURGE_QUEUE", "_PURGE_INFLIGHT",
}  # fmt: skip
_HEADER_OVERHEAD = 12
"""Bytes a header may take beyond its name and value (varint lengths), counted generously."""


class KafkaOutputConfig(StreamOutputConfig):
    """Publishes records to a Kafka topic; delivery confirmed by the brokers at each flush."""

    connection: KafkaConnection
    """Brokers and security (TLS, SASL)."""
    topic: str = Field(min_length=1)
    """The topic messages go to."""
    compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] = "lz4"
    """Compression of message batches (`compression.type`)."""
    acks: Literal["all", "leader", "none"] = "all"
    """Which replicas must have a message before it counts as delivered: `all` in-sync
    replicas, the partition `leader` only, or `none` (no confirmation: may lose messages)."""
    idempotent: bool = True
    """The idempotent producer: the producer's own retries never duplicate or reorder
    messages (`enable.idempotence`; needs `acks: all`)."""
    linger: Duration = Field(default=0.005, ge=0, json_schema_extra=ui(advanced=True))
    """How long the producer waits to fill a batch (`linger.ms`)."""
    batch_bytes: ByteSize = Field(default=1 << 20, ge=1, json_schema_extra=ui(advanced=True))
    """Largest batch of messages per partition and request (`batch.size`)."""
    max_message_bytes: ByteSize = Field(default=1_000_000, ge=1000)
    """Largest message (payload + key + headers); larger records go to the dead letter.
    Keep it at or below the topic's `max.message.bytes`."""
    delivery_timeout: Duration = Field(default=30.0, gt=0)
    """How long a message may wait for delivery (`message.timeout.ms`) before `flush`
    reports the brokers unreachable (the runner then retries)."""
    properties: dict[str, PropertyValue] = Field(
        default_factory=dict, json_schema_extra=ui(advanced=True)
    )
    """Other librdkafka producer properties (`queue.buffering.max.kbytes`, …), applied last."""

    @model_validator(mode="after")
    def _idempotence_needs_all(self) -> Self:
        if self.idempotent and self.acks != "all":
            raise ValueError(
                f"`idempotent: true` needs `acks: all` (it is `{self.acks}`); set "
                "`idempotent: false` to use weaker acknowledgements"
            )
        return self


@register_output(
    "kafka",
    config=KafkaOutputConfig,
    family="mq",
    title="Kafka",
    examples=[
        {
            "type": "kafka",
            "connection": {"brokers": ["127.0.0.1:9092"]},
            "topic": "orders-clean",
            "key_field": "order_id",
            "compression": "zstd",
        }
    ],
)
class KafkaOutput(StreamOutput[KafkaOutputConfig]):
    """librdkafka producer; `flush` is the durability point."""

    def __init__(self, config: KafkaOutputConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self.errors = BrokerErrors(self.context.logger)
        self._producer: Any = None
        self._failed: list[tuple[Any, Any]] = []
        self._where = f"{self.context.component_path or 'output'}.connection"

    def _settings(self) -> dict[str, Any]:
        config = self.config
        defaults: dict[str, PropertyValue] = {
            "acks": {"all": "all", "leader": "1", "none": "0"}[config.acks],
            "enable.idempotence": config.idempotent,
            "compression.type": config.compression,
            "linger.ms": config.linger * 1000,
            "batch.size": config.batch_bytes,
            "message.max.bytes": config.max_message_bytes,
            "message.timeout.ms": int(config.delivery_timeout * 1000),
        }
        return client_settings(config.connection, defaults, config.properties, self.errors)

    async def check_connection(self) -> None:
        await asyncio.to_thread(
            check_connection,
            self.config.connection,
            self.config.properties,
            self._where,
            self.context.logger,
        )

    async def open(self, schema: pa.Schema) -> None:
        await self.check_connection()
        await asyncio.to_thread(self._create)

    def _create(self) -> None:
        from confluent_kafka import KafkaException, Producer

        try:
            self._producer = Producer(self._settings())
        except KafkaException as exc:
            raise translate(
                exc, "Creating the Kafka producer", self.config.connection, self._where
            ) from exc

    async def _publish(self, messages: list[OutgoingMessage]) -> None:
        limit = self.config.max_message_bytes
        too_large = [m.row for m in messages if _size(m) > limit]
        if too_large:
            raise DataError(
                f"{len(too_large)} record(s) (rows {too_large[:5]}) make messages larger than "
                f"`output.max_message_bytes` = {limit} bytes; they go to the dead letter."
            )
        await asyncio.to_thread(self._produce, messages)

    def _produce(self, messages: list[OutgoingMessage]) -> None:
        from confluent_kafka import KafkaException

        producer, topic, report = self._producer, self.config.topic, self._on_delivery
        produce = producer.produce
        for message in messages:
            while True:
                try:
                    produce(topic, message.value, message.key, headers=message.headers,
                            on_delivery=report)  # fmt: skip
                    break
                except BufferError:  # the local queue is full: let deliveries drain it
                    producer.poll(0.05)
                except KafkaException as exc:
                    raise translate(
                        exc,
                        f"Producing to Kafka topic `{topic}`",
                        self.config.connection,
                        self._where,
                    ) from exc
        producer.poll(0)

    def _on_delivery(self, error: Any, message: Any) -> None:
        # Called by librdkafka inside poll/flush, which run one at a time (the runner
        # awaits each write and flush): no lock, and nothing here may raise.
        if error is not None:
            self._failed.append((error, message))

    async def flush(self) -> None:
        if self._producer is not None:
            await asyncio.to_thread(self._flush)

    def _flush(self) -> None:
        producer = self._producer
        from confluent_kafka import KafkaException

        deadline = time.monotonic() + self.config.delivery_timeout + 5
        remaining = 1
        try:
            while remaining and time.monotonic() < deadline and self.errors.fatal is None:
                remaining = producer.flush(0.5)
        except KafkaException as exc:
            raise translate(exc, "Flushing to Kafka", self.config.connection, self._where) from exc
        if self.errors.fatal is not None:
            raise TerminalError(
                f"The Kafka producer for topic `{self.config.topic}` cannot go on: "
                f"{self.errors.fatal.str()}. Nothing after the last checkpoint counts as "
                "delivered: the next run sends it again."
            )
        failed, self._failed = self._failed, []
        servers = self.config.connection.servers
        if failed:
            resend = [(e, m) for e, m in failed if e.name() in _RESEND]
            other = [(e, m) for e, m in failed if e.name() not in _RESEND]
            if other:
                error, message = other[0]
                reason = translate(error, "", self.config.connection, self._where)
                hint = (
                    "lower `output.max_message_bytes` to the topic's `max.message.bytes` so "
                    "such records are sent to the dead letter instead"
                    if isinstance(reason, DataError)
                    else str(reason).lstrip(": ")
                )
                raise TerminalError(
                    f"Kafka refused {len(other)} message(s) for topic `{message.topic()}` "
                    f"({error.str()}); {hint}. Nothing after the last checkpoint counts as "
                    "delivered: the next run sends it again."
                )
            self._resend([m for _, m in resend])
            raise RetryableError(
                f"{len(resend)} message(s) to topic `{self.config.topic}` were not confirmed "
                f"by the Kafka brokers {servers} within `output.delivery_timeout` "
                f"({resend[0][0].str()}){self.errors.reason()}; they are sent again. Check "
                f"`{self._where}.brokers` and that the brokers are up."
            )
        if remaining:
            raise RetryableError(
                f"{remaining} message(s) to topic `{self.config.topic}` are still waiting for "
                f"the Kafka brokers {servers}{self.errors.reason()}; check that they are up."
            )

    def _resend(self, messages: list[Any]) -> None:
        producer = self._producer
        for message in messages:
            while True:
                try:
                    producer.produce(
                        message.topic(), message.value(), message.key(),
                        headers=message.headers(), on_delivery=self._on_delivery,
                    )  # fmt: skip
                    break
                except BufferError:
                    producer.poll(0.05)

    async def close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            # The runner flushed what counts; anything left was never checkpointed.
            await asyncio.to_thread(producer.flush, min(5.0, self.config.delivery_timeout))


def _size(message: OutgoingMessage) -> int:
    """Bytes librdkafka counts against `message.max.bytes` (headers slightly overcounted)."""
    size = len(message.value) + len(message.key or b"")
    for name, value in (message.headers or {}).items():
        size += len(name.encode()) + len(value.encode()) + _HEADER_OVERHEAD
    return size
