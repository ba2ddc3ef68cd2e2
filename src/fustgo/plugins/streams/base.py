"""What every message-stream input and output shares: batching, decoding, acknowledging.

A stream input is unbounded: each split is one consumer (a Kafka group member, a queue
consumer, a JetStream pull consumer, a Redis group reader) that runs until the run is
stopped, or until `stop` says a bounded drain is over. The base gathers messages into
batches by the batching policy (count, bytes or period, whichever comes first), decodes
them with the message format (`formats.py`), and yields each batch with a checkpoint
naming its sequence number. It keeps every batch's acknowledgement tokens; the runner
calls `ack(checkpoint)` only after the output flushed that batch (and every earlier one),
and only then are the messages acknowledged to the broker: a crash before that replays
them, so nothing is lost (at least once).

A connector implements a `Consumer` (receive, acknowledge, close) and says which metadata
each message carries (`metadata_fields`): `key`, `headers`, `topic`, `partition`,
`offset`, `subject`, … Every raw batch holds all of them, so a poison message's dead
letter names where it came from; the record keeps those listed in `metadata`, as fields
named `_<name>` that processors can use.
"""

from __future__ import annotations

import asyncio
import json
import time
from abc import abstractmethod
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, Self

import pyarrow as pa
from pydantic import Field, model_validator

from fustgo.engine.batch import Batch, BatchMetadata, Checkpoint, JSONValue, Split
from fustgo.engine.errors import TerminalError
from fustgo.engine.types import LogicalType
from fustgo.engine.units import ByteSize, Duration
from fustgo.plugins.api import ConfigT, Input, Output, PluginContext
from fustgo.plugins.spec import PluginConfig, ui
from fustgo.plugins.streams.formats import VALUE, Decoder, Encoder, MessageFormat

METADATA_PREFIX = "_"


@dataclass(slots=True)
class Message:
    """One message as a consumer received it."""

    value: bytes | None
    key: bytes | None = None
    headers: Mapping[str, bytes | str | None] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    """Connector metadata by name (`topic`, `partition`, `offset`, `subject`, …)."""
    token: Any = None
    """What the consumer needs to acknowledge this message (opaque to the base)."""


class Consumer(Protocol):
    """One split's connection to the broker."""

    async def receive(self, max_messages: int, timeout: float) -> list[Message]:
        """Up to `max_messages` messages, waiting at most `timeout` seconds for the first."""
        ...

    async def acknowledge(self, tokens: list[Any]) -> None:
        """The messages of these tokens are durably written: commit, ack or delete them."""
        ...

    async def close(self) -> None: ...


def awaiting_acks(consumer: Consumer) -> bool:
    """True when the broker holds messages back until earlier ones are acknowledged (a
    JetStream consumer at `max_ack_pending`): a quiet spell then is not idleness. A
    consumer says so with an `awaiting_acks` property; most never need to."""
    return bool(getattr(consumer, "awaiting_acks", False))


async def take_from(queue: asyncio.Queue[Any], max_messages: int, timeout: float) -> list[Any]:
    """Up to `max_messages` items of a consumer's own queue (messages a push-style client
    delivered), waiting at most `timeout` seconds for the first."""
    try:
        first = await asyncio.wait_for(queue.get(), timeout)
    except TimeoutError:
        return []
    taken = [first]
    while len(taken) < max_messages:
        try:
            taken.append(queue.get_nowait())
        except asyncio.QueueEmpty:
            break
    return taken


class Batching(PluginConfig):
    """When a batch is complete: whichever limit is reached first."""

    count: int | None = Field(default=None, ge=1, json_schema_extra=ui(unit="messages"))
    """Messages per batch; `settings.batch_size` when omitted."""
    bytes: ByteSize = Field(default=8 << 20, json_schema_extra=ui(advanced=True))
    """Payload bytes per batch."""
    period: Duration = Field(default=1.0, gt=0)
    """Longest time a message waits in an incomplete batch."""


class StopWhen(PluginConfig):
    """End the read (and the run) instead of running until stopped: a bounded drain."""

    idle: Duration | None = Field(default=None, gt=0)
    """Stop when no message arrived for this long."""
    messages: int | None = Field(default=None, ge=1)
    """Stop after this many messages (per consumer)."""

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.idle is None and self.messages is None:
            raise ValueError("set `idle`, `messages` or both; omit `stop` to run until stopped")
        return self


class StreamInputConfig(PluginConfig):
    """Fields every stream input has (format, batching, metadata fields, stop)."""

    format: MessageFormat = Field(default_factory=MessageFormat)
    """How payloads hold records."""
    metadata: list[str] = Field(default_factory=list)
    """Message metadata to add to each record as `_<name>` fields (`key`, `headers`,
    `topic`, `partition`, `offset`, `subject`, … — see the plugin's description)."""
    batching: Batching = Field(default_factory=Batching)
    """When a batch is complete (count, bytes, period)."""
    stop: StopWhen | None = None
    """End the run when idle or after N messages; runs until stopped when omitted."""


class StreamInput(Input[ConfigT]):
    """Unbounded input over `Consumer`s; subclasses implement `_consumer` and the metadata."""

    metadata_fields: ClassVar[dict[str, LogicalType]] = {
        "key": LogicalType("string"),
        "headers": LogicalType("json"),
    }
    """Metadata each message carries and its type (subclasses extend it)."""

    def __init__(self, config: ConfigT, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._consumers: dict[str, Consumer] = {}
        self._unacked: dict[str, deque[tuple[int, list[Any]]]] = {}
        self._decoder = Decoder(self._stream.format, self, self.context.component_path)
        unknown = [name for name in self._stream.metadata if name not in self.metadata_fields]
        if unknown:
            raise TerminalError(
                f"`{self._path}.metadata` names {unknown}; this input's "
                f"messages carry: {', '.join(self.metadata_fields)}."
            )

    @property
    def _path(self) -> str:
        """Where this input sits in the pipeline, for messages (`input`, `inputs[1]`)."""
        return self.context.component_path or "input"

    @property
    def _stream(self) -> StreamInputConfig:
        assert isinstance(self.config, StreamInputConfig)
        return self.config

    @abstractmethod
    async def _consumer(self, split: Split) -> Consumer:
        """Connect one split's consumer (called once per split per run)."""

    def _consumer_count(self, parallelism: int) -> int:
        """How many consumers read in parallel; one unless the broker shares work."""
        return 1

    def _source(self) -> str:
        """How batch metadata names the source (`kafka:orders`)."""
        return self.info.name if hasattr(self, "info") else "stream"

    async def splits(self, parallelism: int) -> list[Split]:
        count = self._consumer_count(parallelism)
        return [
            Split(id=f"consumer-{index}", params={"consumer": index}, description=self._source())
            for index in range(count)
        ]

    async def read(self, split: Split, checkpoint: Checkpoint | None) -> AsyncIterator[Batch]:
        consumer = self._consumers.get(split.id)
        if consumer is None:
            consumer = await self._consumer(split)
            self._consumers[split.id] = consumer
            self._unacked[split.id] = deque()
        limits = self._stream.batching
        stop = self._stream.stop
        sequence = int(checkpoint.position.get("batch", 0)) if checkpoint else 0  # type: ignore[arg-type]
        received = checkpoint.records if checkpoint else 0
        metadata = BatchMetadata(source=self._source(), split_id=split.id)
        batch = _Gathering(limits.count or self.context.batch_size, limits.bytes)
        last_message = time.monotonic()
        while True:
            batch = batch.next()
            deadline = time.monotonic() + limits.period if batch.pending else None
            while not batch.full:
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    break
                wait = limits.period if deadline is None else deadline - now
                if stop is not None and stop.idle is not None and not batch.pending:
                    wait = min(wait, max(0.0, last_message + stop.idle - now))
                want = batch.room
                if stop is not None and stop.messages is not None:
                    want = min(want, stop.messages - received - len(batch.pending))
                    if want <= 0:
                        break
                messages = await consumer.receive(want, wait)
                if messages:
                    last_message = time.monotonic()
                    deadline = deadline or last_message + limits.period
                    batch.admit(messages)
                elif awaiting_acks(consumer):
                    last_message = time.monotonic()  # held back until the next checkpoint
                    if batch.pending:
                        break  # hand on what we have: its checkpoint brings the acks
                elif not batch.pending and self._idle_over(last_message):
                    break
            pending = batch.pending
            finished = self._finished(received + len(pending), last_message)
            if not pending and not finished:
                continue
            sequence += 1
            received += len(pending)
            self._unacked[split.id].append((sequence, [m.token for m in pending]))
            data = self._decode(pending, metadata)
            position: dict[str, JSONValue] = {"batch": sequence}
            yield Batch(data, metadata, Checkpoint(split.id, position, received, finished))
            if finished:
                return

    def _idle_over(self, last_message: float) -> bool:
        stop = self._stream.stop
        return (
            stop is not None
            and stop.idle is not None
            and time.monotonic() - last_message >= stop.idle
        )

    def _finished(self, received: int, last_message: float) -> bool:
        stop = self._stream.stop
        if stop is None:
            return False
        if stop.messages is not None and received >= stop.messages:
            return True
        return self._idle_over(last_message)

    async def ack(self, checkpoint: Checkpoint) -> None:
        """Acknowledge every batch of the split up to this checkpoint's, in order."""
        queue = self._unacked.get(checkpoint.split_id)
        consumer = self._consumers.get(checkpoint.split_id)
        if queue is None or consumer is None:
            return
        upto = int(checkpoint.position.get("batch", 0))  # type: ignore[arg-type]
        tokens: list[Any] = []
        while queue and queue[0][0] <= upto:
            tokens.extend(queue.popleft()[1])
        if tokens:
            await consumer.acknowledge(tokens)

    async def close(self) -> None:
        consumers, self._consumers = self._consumers, {}
        errors = []
        for consumer in consumers.values():
            try:
                await consumer.close()
            except Exception as exc:  # close the others anyway
                errors.append(exc)
        if errors:
            raise errors[0]

    def _decode(self, messages: list[Message], metadata: BatchMetadata) -> pa.RecordBatch:
        raw = self._raw(messages)
        if not messages:
            return raw.drop_columns([VALUE])
        decoded = self._decoder.decode(raw, Batch(raw, metadata))
        unwanted = [
            METADATA_PREFIX + name
            for name in self.metadata_fields
            if name not in self._stream.metadata
        ]
        return decoded.drop_columns([n for n in unwanted if n in decoded.schema.names])

    def _raw(self, messages: Sequence[Message]) -> pa.RecordBatch:
        """The payloads and every metadata field of the messages, as one batch."""
        arrays: list[pa.Array] = [pa.array([m.value for m in messages], pa.binary())]
        fields = [pa.field(VALUE, pa.binary())]
        for name, logical in self.metadata_fields.items():
            if name == "key":
                values: list[Any] = [_text(m.key) for m in messages]
            elif name == "headers":
                values = [_headers_json(m.headers) for m in messages]
            else:
                values = [m.meta.get(name) for m in messages]
            arrow_field = logical.to_arrow_field(METADATA_PREFIX + name)
            arrays.append(pa.array(values, arrow_field.type))
            fields.append(arrow_field)
        return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


class _Gathering:
    """The messages of one batch being gathered, and those received beyond its limits."""

    def __init__(self, count: int, size_limit: int) -> None:
        self.count, self.size_limit = count, size_limit
        self.pending: list[Message] = []
        self.carry: list[Message] = []
        self.size = 0

    @property
    def full(self) -> bool:
        return bool(self.carry) or self.room == 0 or self.size >= self.size_limit

    @property
    def room(self) -> int:
        return self.count - len(self.pending)

    def admit(self, messages: list[Message]) -> None:
        """Into this batch while it has room (at least one message), the rest carried."""
        for message in messages:
            grown = self.size + len(message.value or b"")
            if self.carry or self.room == 0 or (self.pending and grown > self.size_limit):
                self.carry.append(message)
            else:
                self.pending.append(message)
                self.size = grown

    def next(self) -> _Gathering:
        """The next batch, starting with the carried messages."""
        following = _Gathering(self.count, self.size_limit)
        following.admit(self.carry)
        return following


def _text(value: bytes | None) -> str | None:
    if value is None:
        return None
    try:
        return value.decode()
    except UnicodeDecodeError:
        return "hex:" + value.hex()


def _headers_json(headers: Mapping[str, bytes | str | None] | None) -> str | None:
    if not headers:
        return None
    return json.dumps(
        {k: _text(v) if isinstance(v, bytes) else v for k, v in headers.items()},
        ensure_ascii=False,
    )


# ---------------------------------------------------------------------------- outputs


@dataclass(slots=True)
class OutgoingMessage:
    """One message to publish: payload, key and headers from the record's fields."""

    value: bytes
    key: bytes | None = None
    headers: dict[str, str] | None = None
    row: int = 0
    """The record's row in its batch (for messages naming a failed record)."""


class StreamOutputConfig(PluginConfig):
    """Fields every stream output has (format, key, headers, which fields are sent)."""

    format: MessageFormat = Field(default_factory=MessageFormat)
    """How records become payloads."""
    key_field: str | None = None
    """Field whose value is the message key (Kafka partitioning, NATS/MQTT/RabbitMQ routing
    use their own fields)."""
    header_fields: list[str] = Field(default_factory=list)
    """Fields sent as message headers (name = field name, value = its text)."""
    fields: list[str] | None = None
    """Fields that make the payload; every field but `key_field` and `header_fields` when
    omitted."""


class StreamOutput(Output[ConfigT]):
    """Encodes batches into messages; subclasses publish them and confirm on `flush`."""

    def __init__(self, config: ConfigT, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._encoder = Encoder(self._stream.format, self.context, self.context.component_path)

    @property
    def _stream(self) -> StreamOutputConfig:
        assert isinstance(self.config, StreamOutputConfig)
        return self.config

    def messages(self, data: pa.RecordBatch) -> list[OutgoingMessage]:
        """One message per record: payload from `fields`, key and headers from theirs."""
        config = self._stream
        routed = {config.key_field, *config.header_fields} - {None}
        wanted = config.fields or [n for n in data.schema.names if n not in routed]
        missing = [n for n in [*wanted, *routed] if n not in data.schema.names]
        if missing:
            raise TerminalError(
                f"`{self.context.component_path}` sends fields {missing}, which the records "
                f"do not have; their fields are: {', '.join(data.schema.names)}."
            )
        payloads = self._encoder.encode(data.select(wanted))
        keys = (
            [
                None if v is None else str(v).encode()
                for v in data.column(config.key_field).to_pylist()
            ]
            if config.key_field
            else [None] * data.num_rows
        )
        headers: list[dict[str, str] | None] = [None] * data.num_rows
        if config.header_fields:
            columns = {name: data.column(name).to_pylist() for name in config.header_fields}
            headers = [
                {
                    name: str(values[row])
                    for name, values in columns.items()
                    if values[row] is not None
                }
                for row in range(data.num_rows)
            ]
        return [
            OutgoingMessage(payload, key, header, row)
            for row, (payload, key, header) in enumerate(zip(payloads, keys, headers, strict=True))
        ]

    async def write(self, batch: Batch) -> None:
        if batch.num_rows == 0:
            return
        await self._publish(self.messages(batch.data))
        self._stats.records_written += batch.num_rows
        self._stats.bytes_written += batch.nbytes
        self._stats.batches_written += 1

    @abstractmethod
    async def _publish(self, messages: list[OutgoingMessage]) -> None:
        """Send the messages (confirmations may be awaited in `flush`)."""
