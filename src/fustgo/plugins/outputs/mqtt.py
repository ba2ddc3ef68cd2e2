"""MQTT output: publish each record as a message, QoS 0/1/2, optionally retained.

A batch's messages are published together and `write` returns once the broker confirmed
every one (PUBACK for QoS 1, PUBCOMP for QoS 2), so by the time the runner flushes and
saves a checkpoint everything is confirmed and `flush` has nothing left to wait for. A
lost connection fails the batch with a `RetryableError`; the runner writes it again on a
new connection, so QoS 1 messages may arrive twice (at least once). QoS 0 messages are
sent without any confirmation (at most once).
"""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING, Self

import pyarrow as pa
from pydantic import Field, model_validator

from fustgo.engine.batch import Batch
from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.engine.units import Duration
from fustgo.plugins.api import PluginContext
from fustgo.plugins.clients.mqtt import (
    MqttConnection,
    QoS,
    client_id,
    connect,
    disconnect,
    make_client,
    translate,
)
from fustgo.plugins.registry import register_output
from fustgo.plugins.spec import ui
from fustgo.plugins.streams.base import OutgoingMessage, StreamOutput, StreamOutputConfig

if TYPE_CHECKING:
    import aiomqtt


class MqttOutputConfig(StreamOutputConfig):
    """Publishes records to MQTT topics, one message each."""

    connection: MqttConnection = Field(default_factory=MqttConnection)
    """Broker, login and client id."""
    topic: str | None = None
    """A fixed topic (no wildcards)."""
    topic_field: str | None = None
    """Field whose value is each message's topic (it stays in the payload unless `fields`
    leaves it out)."""
    qos: QoS = 1
    """Publish QoS: 0 (no confirmation), 1 (PUBACK, at least once), 2 (PUBCOMP)."""
    retain: bool = False
    """Ask the broker to keep the last message of each topic for new subscribers."""
    confirm_timeout: Duration = Field(default=60.0, gt=0, json_schema_extra=ui(advanced=True))
    """Longest wait for a batch's confirmations before the batch is retried."""

    @model_validator(mode="after")
    def _routing(self) -> Self:
        if (self.topic is None) == (self.topic_field is None):
            raise ValueError("set `topic` (fixed) or `topic_field` (one of them)")
        if self.topic is not None and ("+" in self.topic or "#" in self.topic):
            raise ValueError(f"`topic` `{self.topic}` has a wildcard; publish to a plain topic")
        if self.key_field is not None:
            raise ValueError("MQTT messages have no key: choose the topic with `topic_field`")
        if self.header_fields and self.connection.protocol != "5":
            raise ValueError(
                "`header_fields` become MQTT 5 user properties: set `connection.protocol: '5'`"
            )
        return self


@register_output(
    "mqtt",
    config=MqttOutputConfig,
    family="mq",
    title="MQTT topics",
    examples=[
        {
            "type": "mqtt",
            "connection": {"host": "127.0.0.1"},
            "topic_field": "topic",
            "qos": 1,
        }
    ],
)
class MqttOutput(StreamOutput[MqttOutputConfig]):
    """Publishes each batch and awaits its confirmations."""

    def __init__(self, config: MqttOutputConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._where = self.context.component_path or "output"
        self._client: aiomqtt.Client | None = None
        self._topics: list[str | None] = []

    async def open(self, schema: pa.Schema) -> None:
        field = self.config.topic_field
        if field is not None and field not in schema.names:
            raise TerminalError(
                f"`{self._where}.topic_field` is `{field}`, which the records do not have; "
                f"their fields are: {', '.join(schema.names)}."
            )
        await self._connect()

    async def _connect(self) -> None:
        await self._disconnect()
        identifier = client_id(self.config.connection, self.context.pipeline_name, self._where)
        client = make_client(self.config.connection, identifier)
        client.pending_calls_threshold = 1 << 30  # many pending publishes are the point
        # paho keeps its default of 20 unconfirmed messages on the wire: Mosquitto (default
        # `max_inflight_messages 20`) confirms but drops QoS 2 messages beyond that.
        await connect(client, self.config.connection, self._where)
        self._client = client

    async def write(self, batch: Batch) -> None:
        if batch.num_rows == 0:
            return
        field = self.config.topic_field
        if field is None:
            self._topics = [self.config.topic] * batch.num_rows
        else:
            self._topics = [
                None if v is None else str(v) for v in batch.data.column(field).to_pylist()
            ]
        bad = [row for row, topic in enumerate(self._topics) if not _publishable(topic)]
        data = batch.data
        if bad:
            keep = sorted(set(range(data.num_rows)) - set(bad))
            self._topics = [self._topics[row] for row in keep]
            if keep:
                await super().write(batch.with_data(data.take(pa.array(keep))))
            # After the others were published: a retried write must not reject twice.
            self.reject(
                data.take(pa.array(bad)),
                f"`{field}` is null, empty or holds a wildcard (`+`, `#`): no topic to publish "
                f"to (`{self._where}.topic_field`)",
            )
        else:
            await super().write(batch)

    async def _publish(self, messages: list[OutgoingMessage]) -> None:
        """Publish every message (topic from `write`) and await all confirmations."""
        if self._client is None:
            await self._connect()
        client = self._client
        assert client is not None
        sends = []
        for message in messages:
            properties = _user_properties(message.headers) if message.headers else None
            topic = self._topics[message.row]
            assert topic is not None
            sends.append(
                client.publish(
                    topic,
                    message.value,
                    qos=self.config.qos,
                    retain=self.config.retain,
                    properties=properties,
                    timeout=math.inf,
                )
            )
        try:
            await asyncio.wait_for(asyncio.gather(*sends), self.config.confirm_timeout)
        except Exception as exc:
            self._client = None
            await disconnect(client)
            if isinstance(exc, TimeoutError):
                raise RetryableError(
                    f"MQTT broker at {self.config.connection.server} did not confirm "
                    f"{len(messages)} messages within {self.config.confirm_timeout:g} s "
                    f"(`{self._where}.confirm_timeout`); the batch is sent again."
                ) from exc
            raise translate(exc, self.config.connection, self._where, "publishing") from exc

    async def check_connection(self) -> None:
        identifier = client_id(self.config.connection, self.context.pipeline_name, self._where)
        client = make_client(self.config.connection, identifier + "-check")
        await connect(client, self.config.connection, self._where)
        await disconnect(client)

    async def _disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await disconnect(client)

    async def close(self) -> None:
        await self._disconnect()


def _publishable(topic: str | None) -> bool:
    return bool(topic) and "+" not in topic and "#" not in topic  # type: ignore[operator]


def _user_properties(headers: dict[str, str]) -> object:
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    properties = Properties(PacketTypes.PUBLISH)
    properties.UserProperty = list(headers.items())
    return properties
