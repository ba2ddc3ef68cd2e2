"""`redis` input: streams with consumer groups, lists as reliable queues, or pub/sub.

Streams (at least once): each split is one consumer of the group (`<consumer>-<n>`), reading
with XREADGROUP; entries are acknowledged (XACK) only when the runner says the output
flushed their batch. A consumer first re-reads its own pending entries (XREADGROUP from id
0: delivered before a crash, never acknowledged), then new ones (`>`). With `claim_idle`,
entries another consumer left pending for that long (a consumer that is gone) are claimed
with XAUTOCLAIM and delivered here.

Lists, `reliable: true` (at least once): each element is moved atomically to the split's
processing list (BLMOVE/LMOVE) and removed from it only once written; on start, what is in
the processing list (read before a crash) is delivered first. `reliable: false` pops
elements (BLPOP): what was popped and not yet written when the process dies is lost.

Pub/sub (at most once): Redis keeps nothing; messages published while no subscriber
listens, or received and not yet written when the process dies, are lost.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

from pydantic import Field, model_validator

from fustgo.engine.batch import Split
from fustgo.engine.errors import TerminalError
from fustgo.engine.types import LogicalType
from fustgo.engine.units import Duration
from fustgo.plugins.api import PluginContext
from fustgo.plugins.clients.redis import RedisConnection, async_client, redis_error
from fustgo.plugins.registry import register_input
from fustgo.plugins.spec import PluginConfig, ui
from fustgo.plugins.streams.base import Message, StreamInput, StreamInputConfig

if TYPE_CHECKING:
    import redis.asyncio as redis_async

logger = logging.getLogger(__name__)

SHORTEST_BLOCK = 0.01
"""Seconds: blocking commands wait at least this long (0 would mean forever)."""


class RedisStreamSource(PluginConfig):
    """Read streams through a consumer group (XREADGROUP / XACK)."""

    keys: list[str] = Field(min_length=1, json_schema_extra=ui(placeholder="orders"))
    """Stream keys to read."""
    group: str = Field(default="fustgo", min_length=1)
    """Consumer group; created when missing (with the stream: MKSTREAM)."""
    consumer: str = Field(default="fustgo", min_length=1)
    """Consumer name prefix: split n reads as `<consumer>-<n>`, the same name on every run so
    it finds its own pending entries after a crash."""
    start: Literal["first", "new"] = "first"
    """Where a new group starts: the first entry kept (`0`) or only new entries (`$`)."""
    field: str | None = "data"
    """Entry field holding the payload (decoded by `format`); with null the whole entry (its
    fields as text) is the record."""
    claim_idle: Duration | None = Field(default=None, gt=0, json_schema_extra=ui(advanced=True))
    """Claim (XAUTOCLAIM) entries pending this long with any consumer of the group: those of
    a consumer that is gone; longer than the time to write and checkpoint a batch."""


class RedisListSource(PluginConfig):
    """Read a list as a queue (producers RPUSH, this input takes from the head)."""

    key: str = Field(min_length=1)
    """List key."""
    reliable: bool = True
    """Move each element to a processing list and delete it only once written (at least
    once); `false` pops elements (at most once)."""
    consumer: str = Field(default="fustgo", min_length=1)
    """Reliable: split n's processing list is `<key>:processing:<consumer>-<n>`."""


class RedisPubSubSource(PluginConfig):
    """Subscribe to channels (at most once: Redis keeps nothing)."""

    channels: list[str] = Field(default_factory=list)
    """Channels to subscribe to."""
    patterns: list[str] = Field(default_factory=list)
    """Channel patterns (`orders.*`)."""

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.channels and not self.patterns:
            raise ValueError("give `channels`, `patterns` or both")
        return self


class RedisInputConfig(StreamInputConfig):
    """Reads Redis streams (consumer groups), lists (reliable queues) or pub/sub channels."""

    connection: RedisConnection = Field(default_factory=RedisConnection)
    """Where to connect; the password is a secret and never logged."""
    stream: RedisStreamSource | None = None
    """Read streams through a consumer group (at least once)."""
    list: RedisListSource | None = None
    """Read a list as a queue."""
    pubsub: RedisPubSubSource | None = None
    """Subscribe to channels (at most once)."""

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        given = [n for n in ("stream", "list", "pubsub") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("set exactly one of `stream`, `list` and `pubsub`")
        return self


@register_input(
    "redis",
    config=RedisInputConfig,
    family="mq",
    title="Redis streams, lists, pub/sub",
    examples=[
        {
            "type": "redis",
            "connection": {"host": "127.0.0.1"},
            "stream": {"keys": ["orders"], "group": "loader", "claim_idle": "5m"},
            "metadata": ["stream", "id"],
        },
        {"type": "redis", "list": {"key": "jobs"}},
        {"type": "redis", "pubsub": {"patterns": ["events.*"]}, "format": {"type": "string"}},
    ],
    capabilities={"streaming", "acks"},
)
class RedisInput(StreamInput[RedisInputConfig]):
    """One asyncio client (a connection pool) shared by the splits' readers."""

    metadata_fields: ClassVar[dict[str, LogicalType]] = {
        **StreamInput.metadata_fields,
        "stream": LogicalType("string"),
        "id": LogicalType("string"),
        "timestamp": LogicalType("timestamp", timezone="UTC"),
        "list": LogicalType("string"),
        "channel": LogicalType("string"),
        "pattern": LogicalType("string"),
    }

    def __init__(self, config: RedisInputConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._client: redis_async.Redis | None = None

    def _source(self) -> str:
        config = self.config
        if config.stream is not None:
            return f"redis:{','.join(config.stream.keys)}/{config.stream.group}"
        if config.list is not None:
            return f"redis:{config.list.key}"
        assert config.pubsub is not None
        return "redis:" + ",".join([*config.pubsub.channels, *config.pubsub.patterns])

    def _consumer_count(self, parallelism: int) -> int:
        return 1 if self.config.pubsub is not None else max(1, parallelism)

    def _redis(self) -> redis_async.Redis:
        if self._client is None:
            period = self.config.batching.period
            self._client = async_client(self.config.connection, blocking=period + 1.0)
        return self._client

    def _error(self, exc: BaseException, what: str) -> Exception:
        return redis_error(exc, self.config.connection, what, f"{self._path}.connection")

    async def open(self) -> None:
        try:
            await self._redis().ping()
        except Exception as exc:
            raise self._error(exc, "connecting") from exc

    async def check_connection(self) -> None:
        try:
            await self.open()
        finally:
            await self.close()

    async def _consumer(self, split: Split) -> _StreamReader | _ListReader | _PubSubReader:
        index = int(split.params.get("consumer", 0))  # type: ignore[arg-type]
        config = self.config
        client = self._redis()
        if config.stream is not None:
            reader: _StreamReader | _ListReader | _PubSubReader = _StreamReader(
                self, client, config.stream, f"{config.stream.consumer}-{index}"
            )
        elif config.list is not None:
            reader = _ListReader(self, client, config.list, f"{config.list.consumer}-{index}")
        else:
            assert config.pubsub is not None
            reader = _PubSubReader(self, client, config.pubsub)
        try:
            await reader.start()
        except TerminalError:
            raise
        except Exception as exc:
            raise self._error(exc, f"starting to read {self._source()}") from exc
        return reader

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            client, self._client = self._client, None
            if client is not None:
                await client.aclose()


def _block(timeout: float) -> float:
    return max(timeout, SHORTEST_BLOCK)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else value


class _StreamReader:
    """One consumer of the group: its pending entries first, then new ones, plus claims."""

    def __init__(
        self, owner: RedisInput, client: redis_async.Redis, source: RedisStreamSource, name: str
    ) -> None:
        self.owner, self.client, self.source, self.name = owner, client, source, name
        self.replay: dict[str, str] = {key: "0" for key in source.keys}
        """Per stream, the id after which this consumer's pending entries are re-read."""
        self.in_flight: set[tuple[str, str]] = set()
        self.last_claim = 0.0

    async def start(self) -> None:
        import redis

        start = "0" if self.source.start == "first" else "$"
        for key in self.source.keys:
            try:
                await self.client.xgroup_create(key, self.source.group, id=start, mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise self.owner._error(exc, f"creating group `{self.source.group}`") from exc

    async def receive(self, max_messages: int, timeout: float) -> list[Message]:
        try:
            if self.replay:
                messages = await self._pending(max_messages)
                if messages or self.replay:
                    return messages
            if self.source.claim_idle is not None:
                claimed = await self._claim(max_messages)
                if claimed:
                    return claimed
            reply = await self.client.xreadgroup(
                self.source.group,
                self.name,
                dict.fromkeys(self.source.keys, ">"),
                count=max_messages,
                block=int(_block(timeout) * 1000),
            )
        except Exception as exc:
            self.replay = dict.fromkeys(self.source.keys, "0")  # re-read what may be lost
            raise self.owner._error(exc, f"reading streams {self.source.keys}") from exc
        return await self._messages(reply)

    async def _pending(self, max_messages: int) -> list[Message]:
        """This consumer's entries delivered before and never acknowledged (the replay)."""
        reply = await self.client.xreadgroup(
            self.source.group, self.name, dict(self.replay), count=max_messages
        )
        for key, entries in _by_stream(reply):
            if entries:
                self.replay[key] = _text(entries[-1][0])
            else:
                self.replay.pop(key, None)
        for key in [k for k in self.replay if k not in {name for name, _ in _by_stream(reply)}]:
            self.replay.pop(key)
        return await self._messages(reply)

    async def _claim(self, max_messages: int) -> list[Message]:
        """Entries idle longer than `claim_idle` with any consumer, claimed for this one."""
        assert self.source.claim_idle is not None
        now = time.monotonic()
        if now - self.last_claim < self.source.claim_idle / 2:
            return []
        self.last_claim = now
        reply: list[Any] = []
        idle_ms = int(self.source.claim_idle * 1000)
        for key in self.source.keys:
            answer = await self.client.xautoclaim(
                key, self.source.group, self.name, idle_ms, count=max_messages
            )
            if answer[1]:
                reply.append([key, answer[1]])
        messages = await self._messages(reply)
        if messages:
            logger.info("claimed %d idle entries of %s", len(messages), self.source.keys)
        return messages

    async def _messages(self, reply: Any) -> list[Message]:
        messages: list[Message] = []
        gone: dict[str, list[str]] = defaultdict(list)
        field = self.source.field
        for key, entries in _by_stream(reply):
            for raw_id, fields in entries:
                if raw_id is None:
                    continue
                entry_id = _text(raw_id)
                if (key, entry_id) in self.in_flight:
                    continue  # already delivered in this run, not yet acknowledged
                if not fields:  # an entry always has a field: this one was deleted
                    gone[key].append(entry_id)  # deleted (XDEL/trimmed) while pending
                    continue
                if field is None:
                    value: bytes | None = json.dumps(
                        {_text(k): _text(v) for k, v in fields.items()}, ensure_ascii=False
                    ).encode()
                else:
                    value = fields.get(field.encode())
                    if value is None:
                        value = json.dumps(
                            {"missing_field": field, "entry": {_text(k): _text(v)
                                                               for k, v in fields.items()}}
                        ).encode()  # fmt: skip
                millis = int(entry_id.split("-", 1)[0])
                self.in_flight.add((key, entry_id))
                messages.append(
                    Message(
                        value,
                        meta={
                            "stream": key,
                            "id": entry_id,
                            "timestamp": _from_millis(millis),
                        },
                        token=(key, entry_id),
                    )
                )
        for key, ids in gone.items():
            logger.warning("entries %s of stream %s were deleted before being read", ids, key)
            await self.client.xack(key, self.source.group, *ids)
        return messages

    async def acknowledge(self, tokens: list[Any]) -> None:
        by_stream: dict[str, list[str]] = defaultdict(list)
        for key, entry_id in tokens:
            by_stream[key].append(entry_id)
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for key, ids in by_stream.items():
                    pipe.xack(key, self.source.group, *ids)
                await pipe.execute()
        except Exception as exc:
            raise self.owner._error(exc, "acknowledging entries (XACK)") from exc
        self.in_flight.difference_update(tokens)

    async def close(self) -> None:
        return  # unacknowledged entries stay pending for this consumer name


def _by_stream(reply: Any) -> list[tuple[str, list[Any]]]:
    """XREADGROUP's reply (RESP2 list or RESP3 dict) as (stream, entries) pairs."""
    if not reply:
        return []
    items = reply.items() if isinstance(reply, dict) else reply
    result = []
    for key, entries in items:
        nested = isinstance(entries, list) and len(entries) == 1 and isinstance(entries[0], list)
        result.append((_text(key), entries[0] if nested else entries))  # RESP3 nests once more
    return result


def _from_millis(millis: int) -> Any:
    import datetime

    return datetime.datetime.fromtimestamp(millis / 1000, tz=datetime.UTC)


class _ListReader:
    """A list read as a queue; reliable: through this split's processing list."""

    def __init__(
        self, owner: RedisInput, client: redis_async.Redis, source: RedisListSource, name: str
    ) -> None:
        self.owner, self.client, self.source = owner, client, source
        self.processing = f"{source.key}:processing:{name}"
        self.outstanding = 0
        """Elements at the head of the processing list delivered and not yet acknowledged."""
        self.resync = source.reliable
        """Deliver what is in the processing list beyond `outstanding` (moved before a crash
        or a lost reply) before moving new elements."""

    async def start(self) -> None:
        import redis

        try:
            await self.client.llen(self.source.key)
        except redis.ResponseError as exc:
            raise self.owner._error(exc, f"reading list `{self.source.key}`") from exc

    async def receive(self, max_messages: int, timeout: float) -> list[Message]:
        try:
            values = await self._take(max_messages, timeout)
        except Exception as exc:
            self.resync = self.source.reliable
            raise self.owner._error(exc, f"reading list `{self.source.key}`") from exc
        key = self.source.key
        return [Message(v, meta={"list": key}, token=True) for v in values]

    async def _take(self, max_messages: int, timeout: float) -> list[bytes]:
        key, processing = self.source.key, self.processing
        if not self.source.reliable:
            first = await self.client.blpop([key], timeout=_block(timeout))
            if first is None:
                return []
            rest = await self.client.lpop(key, max_messages - 1) if max_messages > 1 else None
            return [first[1], *(rest or [])]
        if self.resync:
            start = self.outstanding
            values = await self.client.lrange(processing, start, start + max_messages - 1)
            if len(values) < max_messages:
                self.resync = False
            if values:
                self.outstanding += len(values)
                return list(values)
        first = await self.client.blmove(key, processing, _block(timeout), "LEFT", "RIGHT")
        if first is None:
            return []
        values = [first]
        if max_messages > 1:
            async with self.client.pipeline(transaction=False) as pipe:
                for _ in range(max_messages - 1):
                    pipe.lmove(key, processing, "LEFT", "RIGHT")
                values.extend(v for v in await pipe.execute() if v is not None)
        self.outstanding += len(values)
        return values

    async def acknowledge(self, tokens: list[Any]) -> None:
        if not self.source.reliable or not tokens:
            return
        try:
            await self.client.lpop(self.processing, len(tokens))
        except Exception as exc:
            what = f"removing written elements of `{self.processing}`"
            raise self.owner._error(exc, what) from exc
        self.outstanding -= len(tokens)

    async def close(self) -> None:
        return  # unacknowledged elements stay in the processing list for the next run


class _PubSubReader:
    """Subscriptions to channels and patterns."""

    def __init__(
        self, owner: RedisInput, client: redis_async.Redis, source: RedisPubSubSource
    ) -> None:
        self.owner, self.source = owner, source
        self.pubsub = client.pubsub(ignore_subscribe_messages=True)

    async def start(self) -> None:
        if self.source.channels:
            await self.pubsub.subscribe(*self.source.channels)
        if self.source.patterns:
            await self.pubsub.psubscribe(*self.source.patterns)

    async def receive(self, max_messages: int, timeout: float) -> list[Message]:
        messages: list[Message] = []
        wait = max(timeout, SHORTEST_BLOCK)
        try:
            while len(messages) < max_messages:
                item = await self.pubsub.get_message(timeout=wait)
                if item is None:
                    if messages or wait == 0:
                        break
                    return []
                wait = 0  # take what is already here, then hand the batch on
                if item["type"] not in ("message", "pmessage"):
                    continue
                pattern = item.get("pattern")
                messages.append(
                    Message(
                        item["data"],
                        meta={
                            "channel": _text(item["channel"]),
                            "pattern": None if pattern is None else _text(pattern),
                        },
                    )
                )
        except Exception as exc:
            raise self.owner._error(exc, "receiving pub/sub messages") from exc
        return messages

    async def acknowledge(self, tokens: list[Any]) -> None:
        return  # pub/sub has no acknowledgements

    async def close(self) -> None:
        await self.pubsub.aclose()
