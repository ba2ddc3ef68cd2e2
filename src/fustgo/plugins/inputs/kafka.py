"""`kafka` input: a consumer group over topics or topic patterns, offsets committed only
after the output flushed.

Each split is one member of the consumer group (`settings.parallelism` members); the brokers
share the partitions among them. Offsets are never committed automatically: when the runner
acknowledges a checkpoint (the output flushed every batch up to it), each member commits,
per partition, the highest acknowledged offset + 1. A crash replays what was read after the
last commit, so delivery is at least once.

Rebalances: when partitions are revoked (a member joined or left), the batches already read
from them are still written, but their offsets are not committed by this member (the
partition's new owner reads them again from the last commit, and commits its own). Every
assignment of a partition starts an *epoch*; acknowledgements of an older epoch are
dropped. So a rebalance can replay messages, never skip them.

confluent-kafka is blocking: every call of a member (poll, commit, close) runs in that
member's own worker thread, in slices of at most 0.1 s, so a commit never waits long behind
a poll.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from fustgo.engine.batch import Split
from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.engine.types import LogicalType
from fustgo.plugins.api import PluginContext
from fustgo.plugins.clients.kafka import (
    BrokerErrors,
    KafkaConnection,
    PropertyValue,
    check_connection,
    client_settings,
    translate,
)
from fustgo.plugins.registry import register_input
from fustgo.plugins.spec import ui
from fustgo.plugins.streams.base import Message, StreamInput, StreamInputConfig

SLICE = 0.1
"""Longest single blocking call into librdkafka (seconds)."""
_MANAGED = ("enable.auto.commit", "enable.auto.offset.store", "group.id", "auto.offset.reset")
# Commit failures that mean the group rebalanced: the partitions' new owners re-read them.
_REBALANCED = {"ILLEGAL_GENERATION", "UNKNOWN_MEMBER_ID", "REBALANCE_IN_PROGRESS", "_NO_OFFSET",
               "FENCED_INSTANCE_ID", "_STATE", "_ASSIGNMENT_LOST"}  # fmt: skip


class KafkaInputConfig(StreamInputConfig):
    """Consumes Kafka topics as a consumer group; commits offsets after the output flushed."""

    connection: KafkaConnection
    """Brokers and security (TLS, SASL)."""
    topics: list[str] = Field(min_length=1)
    """Topics to read; a name starting with `^` is a regular expression matching topic
    names (`^orders\\..*`), and topics created later that match are picked up."""
    group: str | None = Field(default=None, min_length=1)
    """Consumer group id (the members share partitions and committed offsets);
    `fustgo-<pipeline name>` when omitted."""
    start_from: Literal["committed", "earliest", "latest"] = "committed"
    """Where a fresh run starts: `committed` continues from the group's committed offsets
    (`reset` where it has none); `earliest` / `latest` ignore them and start at the
    beginning / end of each partition. An interrupted run that resumes always continues
    from the committed offsets."""
    reset: Literal["earliest", "latest"] = "earliest"
    """Where `start_from: committed` starts in partitions the group has no offset for."""
    properties: dict[str, PropertyValue] = Field(
        default_factory=dict, json_schema_extra=ui(advanced=True)
    )
    """Other librdkafka consumer properties (`session.timeout.ms`, `fetch.max.bytes`,
    `isolation.level`, …), applied last. Offsets are committed by FustGo, so
    `enable.auto.commit`, `group.id` and `auto.offset.reset` cannot be set here."""

    @field_validator("topics")
    @classmethod
    def _patterns_compile(cls, topics: list[str]) -> list[str]:
        for topic in topics:
            if topic.startswith("^"):
                try:
                    re.compile(topic)
                except re.error as exc:
                    raise ValueError(
                        f"topic pattern `{topic}` is not a valid regex: {exc}"
                    ) from exc
            elif not topic:
                raise ValueError("topic names cannot be empty")
        return topics

    @model_validator(mode="after")
    def _managed(self) -> Self:
        clash = [name for name in _MANAGED if name in self.properties]
        if clash:
            raise ValueError(
                f"`properties` sets {clash}, which FustGo manages: use `group`, `start_from` "
                "and `reset`; offsets are committed only after the output flushed"
            )
        return self


@register_input(
    "kafka",
    config=KafkaInputConfig,
    family="mq",
    title="Kafka",
    capabilities={"streaming", "acks"},
    examples=[
        {
            "type": "kafka",
            "connection": {"brokers": ["127.0.0.1:9092"]},
            "topics": ["orders", "^events\\..*"],
            "group": "orders-to-warehouse",
            "metadata": ["key", "partition", "offset"],
        }
    ],
)
class KafkaInput(StreamInput[KafkaInputConfig]):
    """One consumer-group member per split; commits acknowledged offsets per partition."""

    metadata_fields = {
        **StreamInput.metadata_fields,
        "topic": LogicalType("string"),
        "partition": LogicalType("int32"),
        "offset": LogicalType("int64"),
        "timestamp": LogicalType("timestamp", timezone="UTC"),
    }

    def __init__(self, config: KafkaInputConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._started: set[tuple[str, int]] = set()
        """Partitions assigned at least once in this run (`start_from` applies only once)."""
        self._started_lock = threading.Lock()

    @property
    def group(self) -> str:
        return self.config.group or f"fustgo-{self.context.pipeline_name}"

    def _source(self) -> str:
        return "kafka:" + ",".join(self.config.topics)

    def _consumer_count(self, parallelism: int) -> int:
        return max(1, parallelism)

    async def open(self) -> None:
        await self.check_connection()

    async def check_connection(self) -> None:
        topics = await asyncio.to_thread(
            check_connection,
            self.config.connection,
            self.config.properties,
            f"{self._path}.connection",
            self.context.logger,
        )
        missing = [t for t in self.config.topics if not t.startswith("^") and t not in topics]
        if missing:
            raise TerminalError(
                f"Topic(s) {missing} do not exist on {self.config.connection.servers}; create "
                "them, or check `input.topics` (a name starting with `^` is a pattern)."
            )

    async def _consumer(self, split: Split) -> GroupMember:
        member = GroupMember(self, int(split.params.get("consumer", 0)))  # type: ignore[arg-type]
        await member.start()
        return member

    def _first_assignment(self, topic: str, partition: int) -> bool:
        """True the first time this run is assigned the partition (then `start_from` applies)."""
        with self._started_lock:
            if (topic, partition) in self._started:
                return False
            self._started.add((topic, partition))
            return True


class GroupMember:
    """One consumer of the group, driven from its own worker thread."""

    def __init__(self, owner: KafkaInput, index: int) -> None:
        self.owner = owner
        self.config = owner.config
        self.index = index
        self.where = f"{owner._path}.connection"
        self.errors = BrokerErrors(owner.context.logger)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"kafka-{index}")
        self._consumer: Any = None
        self._epochs: dict[tuple[str, int], int] = {}
        """Current assignment epoch per owned partition (worker thread only)."""
        self._epoch = 0
        self._assigned = False
        self._early: list[Any] = []
        self._cooperative = "cooperative" in str(
            self.config.properties.get("partition.assignment.strategy", "")
        )

    async def _call(self, function: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._thread, function, *args)

    async def start(self) -> None:
        await self._call(self._start)

    def _start(self) -> None:
        from confluent_kafka import Consumer, KafkaException

        defaults: dict[str, PropertyValue] = {
            "group.id": self.owner.group,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": self.config.reset,
            "client.id": f"{self.config.connection.client_id}-{self.index}",
        }
        settings = client_settings(
            self.config.connection, defaults, self.config.properties, self.errors
        )
        try:
            self._consumer = Consumer(settings)
            self._consumer.subscribe(
                list(self.config.topics),
                on_assign=self._on_assign,
                on_revoke=self._on_revoke,
                on_lost=self._on_revoke,
            )
        except KafkaException as exc:
            raise translate(
                exc, "Creating the Kafka consumer", self.config.connection, self.where
            ) from exc
        # Wait for the first assignment, so `stop.idle` does not count the group join.
        deadline = time.monotonic() + self.config.connection.timeout
        while not self._assigned and time.monotonic() < deadline:
            message = self._consumer.poll(SLICE)
            if message is not None:
                self._early.append(message)
        if not self._assigned:
            self.owner.context.logger.warning(
                "Kafka consumer %d of group `%s` has no partitions after %g s%s; it keeps "
                "waiting for the group to assign some.",
                self.index, self.owner.group, self.config.connection.timeout,
                self.errors.reason(),
            )  # fmt: skip

    # ------------------------------------------------------------ rebalance callbacks

    def _on_assign(self, consumer: Any, partitions: list[Any]) -> None:
        from confluent_kafka import OFFSET_BEGINNING, OFFSET_END

        start = self.config.start_from
        override = start != "committed" and not self.owner.context.resume
        changed = False
        for part in partitions:
            self._epoch += 1
            self._epochs[(part.topic, part.partition)] = self._epoch
            if self.owner._first_assignment(part.topic, part.partition) and override:
                part.offset = OFFSET_BEGINNING if start == "earliest" else OFFSET_END
                changed = True
        self._assigned = True
        if changed:
            if self._cooperative:
                consumer.incremental_assign(partitions)
            else:
                consumer.assign(partitions)
        self.owner.context.logger.info(
            "Kafka consumer %d assigned %s",
            self.index, ", ".join(f"{p.topic}[{p.partition}]" for p in partitions) or "nothing",
        )  # fmt: skip

    def _on_revoke(self, consumer: Any, partitions: list[Any]) -> None:
        for part in partitions:
            self._epochs.pop((part.topic, part.partition), None)
        if partitions:
            self.owner.context.logger.info(
                "Kafka consumer %d gave up %d partition(s) (rebalance or close); what it "
                "read from them and did not commit is read again by their next owner.",
                self.index, len(partitions),
            )  # fmt: skip

    # ------------------------------------------------------------------- receiving

    async def receive(self, max_messages: int, timeout: float) -> list[Message]:
        deadline = time.monotonic() + timeout
        while True:
            wait = min(SLICE, max(0.0, deadline - time.monotonic()))
            messages = await self._call(self._receive, max_messages, wait)
            if messages or time.monotonic() >= deadline:
                return messages

    def _receive(self, max_messages: int, wait: float) -> list[Message]:
        consumer = self._consumer
        raw, self._early = self._early, []
        if not raw:
            first = consumer.poll(wait)
            if first is None:
                return []
            raw = [first]
        if len(raw) < max_messages:
            raw.extend(consumer.consume(max_messages - len(raw), 0))
        return self._convert(raw)

    def _convert(self, raw: list[Any]) -> list[Message]:
        epochs = self._epochs
        out: list[Message] = []
        append = out.append
        for m in raw:
            if m.error() is not None:
                self._consume_error(m.error())
                continue
            topic, partition, offset = m.topic(), m.partition(), m.offset()
            kind, stamp = m.timestamp()
            headers = m.headers()
            append(
                Message(
                    m.value(),
                    m.key(),
                    dict(headers) if headers else None,
                    {
                        "topic": topic,
                        "partition": partition,
                        "offset": offset,
                        "timestamp": stamp * 1000 if kind else None,
                    },
                    (topic, partition, offset, epochs.get((topic, partition))),
                )
            )
        return out

    def _consume_error(self, error: Any) -> None:
        if error.name() == "_PARTITION_EOF":
            return
        failure = translate(error, "Consuming from Kafka", self.config.connection, self.where)
        if isinstance(failure, RetryableError):  # librdkafka reconnects by itself
            self.owner.context.logger.warning("%s", failure)
            return
        raise failure

    # ----------------------------------------------------------------- committing

    async def acknowledge(self, tokens: list[Any]) -> None:
        await self._call(self._commit, tokens)

    def _commit(self, tokens: list[Any]) -> None:
        from confluent_kafka import KafkaException, TopicPartition

        highest: dict[tuple[str, int], int] = {}
        epochs = self._epochs
        for topic, partition, offset, epoch in tokens:
            key = (topic, partition)
            if epoch is not None and epochs.get(key) == epoch and offset >= highest.get(key, -1):
                highest[key] = offset
        if not highest:
            return
        offsets = [TopicPartition(t, p, o + 1) for (t, p), o in highest.items()]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            if error is not None and hasattr(error, "name") and error.name() in _REBALANCED:
                self.owner.context.logger.warning(
                    "Kafka consumer %d could not commit (%s): the group rebalanced; those "
                    "messages are read again by their partitions' owners.", self.index, error.str()
                )  # fmt: skip
                return
            raise translate(
                exc, "Committing Kafka offsets", self.config.connection, self.where
            ) from exc

    async def close(self) -> None:
        try:
            if self._consumer is not None:
                await self._call(self._consumer.close)
        finally:
            self._thread.shutdown(wait=False)
