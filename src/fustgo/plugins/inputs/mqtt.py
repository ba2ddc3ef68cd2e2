"""MQTT input: subscribe to topics (with `+` / `#` wildcards) at QoS 0, 1 or 2.

Delivery guarantees, by subscription QoS (see `docs/plugins/mqtt.md`):

- QoS 1 with `acknowledge: after_write` (the default): paho's manual acknowledgements are
  on, so a message's PUBACK is sent only when the runner acknowledges the checkpoint that
  covers it (after the output flushed). With a persistent session (the default) the broker
  redelivers every unacknowledged message after a crash or a dropped connection: at least
  once, as long as the broker keeps the session (Mosquitto: `persistent_client_expiration`,
  and `max_queued_messages` for what arrives while the pipeline is down).
- QoS 2: the protocol hands a message over to the subscriber when it answers PUBREC, on
  receipt; holding back the final PUBCOMP protects nothing (and paho would leave a PUBREL
  redelivered after a crash unanswered), so paho completes QoS 2 exchanges itself. No
  duplicates from the broker, but messages received and not yet written are lost in a
  crash: use QoS 1 and an idempotent output for at least once.
- QoS 0, or `acknowledge: on_receive`: at most once.

The broker bounds the unacknowledged messages it sends one client (Mosquitto's
`max_inflight_messages`, 20 by default): with acknowledgements after the write, at most
that many messages arrive per checkpoint, so raise it (0 = no limit) for throughput.

One consumer reads unless every topic is a shared subscription (`$share/<group>/<topic>`,
MQTT 5 or Mosquitto 2): then `settings.parallelism` consumers (client ids `<id>-<n>`) share
the messages.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import Field, model_validator

from fustgo.engine.batch import Split
from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.engine.types import LogicalType
from fustgo.engine.units import Duration
from fustgo.plugins.clients.mqtt import (
    MqttConnection,
    QoS,
    client_id,
    connect,
    disconnect,
    make_client,
    manual_acks,
    translate,
)
from fustgo.plugins.registry import register_input
from fustgo.plugins.spec import ui
from fustgo.plugins.streams.base import Message, StreamInput, StreamInputConfig

if TYPE_CHECKING:
    import aiomqtt


class MqttInputConfig(StreamInputConfig):
    """Subscribes to MQTT topics; QoS 1 messages are acknowledged after they are written."""

    connection: MqttConnection = Field(default_factory=MqttConnection)
    """Broker, login and client id."""
    topics: list[str] = Field(min_length=1)
    """Topic filters to subscribe to; `+` matches one level, `#` the rest
    (`sensors/+/temperature`, `orders/#`)."""
    qos: QoS = 1
    """Subscription QoS: the highest QoS messages are delivered with. 1 gives at least once
    (with the default session and acknowledgements); see the plugin's guide for 0 and 2."""
    session: Literal["persistent", "clean"] = "persistent"
    """`persistent`: the broker keeps the subscriptions and unacknowledged or newly
    arrived messages while the pipeline is down; `clean`: a new session every connection
    (what was published meanwhile is not delivered)."""
    session_expiry: Duration = Field(default=7 * 86400.0, ge=0, json_schema_extra=ui(advanced=True))
    """MQTT 5 persistent sessions: how long the broker keeps the session after a disconnect."""
    acknowledge: Literal["after_write", "on_receive"] = "after_write"
    """`after_write`: PUBACK once the output flushed (at least once); `on_receive`: paho
    acknowledges on arrival (faster on brokers that cap unacknowledged messages, but a
    crash loses what was not written)."""

    @model_validator(mode="after")
    def _topics(self) -> Self:
        for topic in self.topics:
            levels = topic.split("/")
            if (
                not topic
                or "#" in levels[:-1]
                or any(("+" in level or "#" in level) and len(level) > 1 for level in levels)
            ):
                raise ValueError(
                    f"`{topic}` is not a valid topic filter: `+` must fill a whole level and "
                    "`#` must be the whole last level"
                )
        return self


@register_input(
    "mqtt",
    config=MqttInputConfig,
    family="mq",
    title="MQTT topics",
    capabilities={"streaming", "acks"},
    examples=[
        {
            "type": "mqtt",
            "connection": {"host": "127.0.0.1", "client_id": "sensors-to-pg"},
            "topics": ["sensors/+/reading"],
            "qos": 1,
            "metadata": ["topic", "retain"],
        }
    ],
)
class MqttInput(StreamInput[MqttInputConfig]):
    """Subscribed clients; QoS 1 PUBACKs sent when the runner acknowledges.

    Metadata: `topic`, `qos`, `retain`, `mid` (the packet identifier); `key` is the topic
    too, and `headers` the MQTT 5 user properties.
    """

    metadata_fields = {
        **StreamInput.metadata_fields,
        "topic": LogicalType("string"),
        "qos": LogicalType("int8"),
        "retain": LogicalType("bool"),
        "mid": LogicalType("int32"),
    }

    def _shared(self) -> bool:
        return all(topic.startswith("$share/") for topic in self.config.topics)

    def _consumer_count(self, parallelism: int) -> int:
        return max(1, parallelism) if self._shared() else 1

    def _source(self) -> str:
        return f"mqtt:{','.join(self.config.topics)}"

    def _client_id(self, suffix: str) -> str:
        return client_id(self.config.connection, self.context.pipeline_name, self._path, suffix)

    async def _consumer(self, split: Split) -> TopicConsumer:
        index = int(split.params.get("consumer", 0))  # type: ignore[arg-type]
        identifier = self._client_id(f"-{index}" if self._shared() else "")
        consumer = TopicConsumer(self.config, self._path, identifier)
        await consumer.connect()
        return consumer

    async def check_connection(self) -> None:
        client = make_client(self.config.connection, self._client_id("-check"))
        await connect(client, self.config.connection, self._path)
        await disconnect(client)


class TopicConsumer:
    """One subscribed client; reconnects after a failure (the session brings back the
    unacknowledged messages). Tokens are `(generation, mid, qos)`."""

    def __init__(self, config: MqttInputConfig, where: str, identifier: str) -> None:
        self.config, self.where, self.identifier = config, where, identifier
        self.generation = 0
        self._client: aiomqtt.Client | None = None
        self._paho: Any = None
        self._messages: Any = None

    @property
    def _manual(self) -> bool:
        return self.config.qos == 1 and self.config.acknowledge == "after_write"

    async def connect(self) -> None:
        connection = self.config.connection
        client = make_client(
            connection,
            self.identifier,
            clean=self.config.session == "clean",
            session_expiry=int(self.config.session_expiry),
        )
        client.pending_calls_threshold = 1 << 30  # not a warning sign here
        self._paho = manual_acks(client) if self._manual else None
        await connect(client, connection, self.where)
        try:
            granted = await client.subscribe(
                [(topic, self.config.qos) for topic in self.config.topics]
            )
        except Exception as exc:
            await disconnect(client)
            raise translate(exc, connection, self.where, "subscribing") from exc
        refused = [
            topic
            for topic, code in zip(self.config.topics, granted, strict=False)
            if int(getattr(code, "value", code)) >= 128
        ]
        if refused:
            await disconnect(client)
            raise TerminalError(
                f"MQTT broker at {connection.server} refused the subscription to {refused} "
                f"(`{self.where}.topics`): check the topic filters and the broker's ACL for "
                f"this user and client id `{self.identifier}`."
            )
        self.generation += 1
        self._client = client
        self._messages = aiter(client.messages)

    async def receive(self, max_messages: int, timeout: float) -> list[Message]:
        if self._client is None:
            await self.connect()
        client, messages = self._client, self._messages
        assert client is not None
        taken: list[aiomqtt.Message] = []
        try:
            if len(client.messages) == 0:
                try:
                    taken.append(await asyncio.wait_for(anext(messages), timeout))
                except TimeoutError:
                    return []
            while len(taken) < max_messages and len(client.messages) > 0:
                taken.append(await anext(messages))
        except Exception as exc:  # the iterator raises when the connection is lost
            self._client = None
            await disconnect(client)
            error = translate(exc, self.config.connection, self.where, "receiving")
            if isinstance(error, RetryableError):
                error = RetryableError(
                    f"{error} Unacknowledged messages are redelivered after reconnecting"
                    + ("." if self.config.session == "persistent" else " (persistent sessions).")
                )
            raise error from exc
        return [self._message(m) for m in taken]

    def _message(self, incoming: aiomqtt.Message) -> Message:
        topic = incoming.topic.value
        headers = None
        properties = incoming.properties
        if properties is not None and getattr(properties, "UserProperty", None):
            headers = dict(properties.UserProperty)
        payload = incoming.payload
        value = payload if isinstance(payload, bytes | bytearray) else str(payload).encode()
        return Message(
            bytes(value),
            key=topic.encode(),
            headers=headers,
            meta={
                "topic": topic,
                "qos": incoming.qos,
                "retain": incoming.retain,
                "mid": incoming.mid,
            },
            token=(self.generation, incoming.mid, incoming.qos),
        )

    async def acknowledge(self, tokens: list[Any]) -> None:
        paho = self._paho
        if paho is None or self._client is None:
            return  # acknowledged by paho already, or the session redelivers them
        for generation, mid, qos in tokens:
            if generation == self.generation and qos == 1:
                paho.ack(mid, qos)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await disconnect(client)
