"""`redis` output: records to streams (XADD), lists (RPUSH/LPUSH), hashes (HSET), sets (SADD).

Keys are templates over the record's fields (`user:{id}`). Each batch is one pipelined round
trip (no MULTI: Redis has no rollback anyway); a command the server refuses (a key holding
another type) sends its record to the dead letter with the server's error and the others
stay written. What a batch wrote is on the server when `write` returns, so `flush` has
nothing left to wait for. A batch that fails on the connection is written again by the
engine's retry: lists and streams may then hold it twice (at least once), hashes and sets
are unchanged by a replay.
"""

from __future__ import annotations

import json
import string
from typing import TYPE_CHECKING, Any, Literal, Self

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, model_validator

from fustgo.engine.batch import Batch
from fustgo.engine.errors import TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.clients.redis import RedisConnection, async_client, redis_error
from fustgo.plugins.registry import register_output
from fustgo.plugins.spec import PluginConfig, ui
from fustgo.plugins.streams.base import OutgoingMessage, StreamOutput, StreamOutputConfig

if TYPE_CHECKING:
    import redis.asyncio as redis_async

KeyTemplate = str


class RedisStreamTarget(PluginConfig):
    """Append entries to streams (XADD)."""

    key: KeyTemplate = Field(min_length=1, json_schema_extra=ui(placeholder="orders"))
    """Stream key; `{field}` is replaced by the record's value (`events:{region}`)."""
    field: str | None = "data"
    """Entry field holding the payload (encoded by `format`); with null each record field
    becomes an entry field (as text)."""
    maxlen: int | None = Field(default=None, ge=1)
    """Trim the stream to about this many entries (`MAXLEN ~`)."""


class RedisListTarget(PluginConfig):
    """Push payloads onto lists."""

    key: KeyTemplate = Field(min_length=1)
    """List key; `{field}` is replaced by the record's value."""
    push: Literal["right", "left"] = "right"
    """`right` (RPUSH: a queue read from the head, as the `redis` input does) or `left`."""


class RedisHashTarget(PluginConfig):
    """Store each record as a hash (HSET), field by field as text."""

    key: KeyTemplate = Field(min_length=1, json_schema_extra=ui(placeholder="user:{id}"))
    """Hash key from the record's fields (`user:{id}`); the record's other fields are set."""


class RedisSetTarget(PluginConfig):
    """Add payloads to sets (SADD)."""

    key: KeyTemplate = Field(min_length=1, json_schema_extra=ui(placeholder="tags:{user}"))
    """Set key; `{field}` is replaced by the record's value."""


class RedisOutputConfig(StreamOutputConfig):
    """Writes records to Redis streams, lists, hashes or sets, one pipeline per batch."""

    connection: RedisConnection = Field(default_factory=RedisConnection)
    """Where to connect; the password is a secret and never logged."""
    stream: RedisStreamTarget | None = None
    """Append to streams (XADD)."""
    list: RedisListTarget | None = None
    """Push to lists (RPUSH / LPUSH)."""
    hash: RedisHashTarget | None = None
    """One hash per record (HSET), as the Redis lookup reads them."""
    set: RedisSetTarget | None = None
    """Add each payload to a set (SADD)."""

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        given = [n for n in ("stream", "list", "hash", "set") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("set exactly one of `stream`, `list`, `hash` and `set`")
        return self

    @property
    def target(self) -> tuple[str, Any]:
        for name in ("stream", "list", "hash", "set"):
            value = getattr(self, name)
            if value is not None:
                return name, value
        raise AssertionError("validated: one target")


@register_output(
    "redis",
    config=RedisOutputConfig,
    family="mq",
    title="Redis streams, lists, hashes, sets",
    examples=[
        {"type": "redis", "stream": {"key": "orders", "maxlen": 1_000_000}},
        {"type": "redis", "hash": {"key": "user:{id}"}},
        {"type": "redis", "list": {"key": "jobs:{queue}"}, "fields": ["job_id", "args"]},
    ],
)
class RedisOutput(StreamOutput[RedisOutputConfig]):
    """Pipelines each batch's commands; refused commands' records go to the dead letter."""

    def __init__(self, config: RedisOutputConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._client: redis_async.Redis | None = None
        kind, target = config.target
        self._kind: str = kind
        self._template: str = target.key
        self._key_fields = [
            name for _, name, _, _ in string.Formatter().parse(target.key) if name is not None
        ]
        if any(not name for name in self._key_fields):
            raise TerminalError(
                f"`{self._path}.{kind}.key` has an empty `{{}}`; name a field: `user:{{id}}`."
            )
        self._data: pa.RecordBatch | None = None

    @property
    def _path(self) -> str:
        return self.context.component_path or "output"

    def _redis(self) -> redis_async.Redis:
        if self._client is None:
            self._client = async_client(self.config.connection)
        return self._client

    def _error(self, exc: BaseException, what: str) -> Exception:
        return redis_error(exc, self.config.connection, what, f"{self._path}.connection")

    async def open(self, schema: pa.Schema) -> None:
        missing = [name for name in self._key_fields if name not in schema.names]
        if missing:
            raise TerminalError(
                f"`{self._path}.{self._kind}.key` names fields {missing}, which the records do "
                f"not have; their fields are: {', '.join(schema.names)}."
            )
        await self._ping()

    async def _ping(self) -> None:
        try:
            await self._redis().ping()
        except Exception as exc:
            raise self._error(exc, "connecting") from exc

    async def check_connection(self) -> None:
        try:
            await self._ping()
        finally:
            await self.close()

    async def write(self, batch: Batch) -> None:
        if batch.num_rows == 0:
            return
        self._data = batch.data
        try:
            if self._kind == "hash" or (
                self._kind == "stream" and self.config.stream and self.config.stream.field is None
            ):
                await self._write_fields(batch)
            else:
                await super().write(batch)
        finally:
            self._data = None

    async def _publish(self, messages: list[OutgoingMessage]) -> None:
        assert self._data is not None
        keys = self._keys(self._data)
        commands: list[tuple[int, str, tuple[Any, ...]]] = []
        for message in messages:
            key = keys[message.row]
            if key is None:
                continue
            if self._kind == "stream":
                assert self.config.stream is not None
                fields = {self.config.stream.field: message.value}
                commands.append((message.row, "stream", (key, fields)))
            else:
                commands.append((message.row, self._kind, (key, message.value)))
        await self._execute(commands, keys)

    async def _write_fields(self, batch: Batch) -> None:
        """Hashes (and streams with `field: null`): each record field as a hash/entry field."""
        data = batch.data
        keys = self._keys(data)
        routed = set(self._key_fields) if self._kind == "hash" else set()
        names = self.config.fields or [n for n in data.schema.names if n not in routed]
        missing = [n for n in names if n not in data.schema.names]
        if missing:
            raise TerminalError(
                f"`{self._path}.fields` names {missing}, which the records do not have; their "
                f"fields are: {', '.join(data.schema.names)}."
            )
        columns = {name: _text_values(data.column(name)) for name in names}
        commands: list[tuple[int, str, tuple[Any, ...]]] = []
        for row in range(data.num_rows):
            key = keys[row]
            if key is None:
                continue
            fields = {n: values[row] for n, values in columns.items() if values[row] is not None}
            if fields:
                commands.append((row, self._kind, (key, fields)))
        await self._execute(commands, keys)
        self._stats.records_written += batch.num_rows
        self._stats.bytes_written += batch.nbytes
        self._stats.batches_written += 1

    def _keys(self, data: pa.RecordBatch) -> list[str | None]:
        """Each record's key from the template; None (dead-lettered) when a field is null."""
        if not self._key_fields:
            return [self._template] * data.num_rows
        values = {name: _text_values(data.column(name)) for name in set(self._key_fields)}
        keys: list[str | None] = []
        for row in range(data.num_rows):
            parts = {name: column[row] for name, column in values.items()}
            if any(part is None for part in parts.values()):
                keys.append(None)
            else:
                keys.append(
                    self._template.format_map(
                        {n: p.decode() if isinstance(p, bytes) else p for n, p in parts.items()}
                    )
                )
        return keys

    async def _execute(
        self, commands: list[tuple[int, str, tuple[Any, ...]]], keys: list[str | None]
    ) -> None:
        """One pipelined round trip; refused commands' records go to the dead letter."""
        assert self._data is not None
        unkeyed = [row for row, key in enumerate(keys) if key is None]
        if unkeyed:
            self.reject(
                self._data.take(pa.array(unkeyed, pa.int64())),
                f"a field of the key `{self._template}` is null: the record has no Redis key",
            )
        if not commands:
            return
        stream = self.config.stream
        try:
            async with self._redis().pipeline(transaction=False) as pipe:
                for _, kind, (key, value) in commands:
                    if kind == "stream":
                        assert stream is not None
                        pipe.xadd(key, value, maxlen=stream.maxlen, approximate=True)
                    elif kind == "list":
                        assert self.config.list is not None
                        push = pipe.rpush if self.config.list.push == "right" else pipe.lpush
                        push(key, value)
                    elif kind == "hash":
                        pipe.hset(key, mapping=value)
                    else:
                        pipe.sadd(key, value)
                results = await pipe.execute(raise_on_error=False)
        except Exception as exc:
            raise self._error(exc, f"writing to {self._kind} `{self._template}`") from exc
        refused = [
            (row, f"Redis refused {kind} `{key}`: {result}")
            for (row, kind, (key, _)), result in zip(commands, results, strict=True)
            if isinstance(result, Exception)
        ]
        if refused:
            import redis

            first = next(r for r in results if isinstance(r, Exception))
            if not isinstance(first, redis.ResponseError):
                raise self._error(first, f"writing to {self._kind} `{self._template}`")
            rows = [row for row, _ in refused]
            self.reject(
                self._data.take(pa.array(rows, pa.int64())),
                pa.array([error for _, error in refused], pa.string()),
            )

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def _text_values(column: pa.Array | pa.ChunkedArray) -> list[str | bytes | None]:
    """A column's values as Redis stores them: text (JSON for nested values), raw binary."""
    kind = column.type
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return column.to_pylist()
    if pa.types.is_nested(kind):
        return [
            None if v is None else json.dumps(v, ensure_ascii=False, default=str)
            for v in column.to_pylist()
        ]
    if pa.types.is_boolean(kind):
        return [None if v is None else ("true" if v else "false") for v in column.to_pylist()]
    try:
        return pc.cast(column, pa.string()).to_pylist()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return [None if v is None else str(v) for v in column.to_pylist()]
