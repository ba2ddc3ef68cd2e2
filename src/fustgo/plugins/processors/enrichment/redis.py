"""`lookup.type: redis`: one Redis hash per key, read with `HGETALL <key_prefix><key>`.

Layout: each looked-up entity is a hash (`HSET customer:42 name Ada tier gold`), the
common way to store records in Redis; a key whose hash does not exist is missing. (One
big hash with the key as field would hold one string per key, not several fields.) A
composite key is joined with `key_separator` (`order:7:3`); key values are written as
text the way Arrow casts them (`42`, `1.5`, `2024-01-31`, `true`).

Each batch's keys are read with pipelined `HGETALL`s (no transaction), up to
`PIPELINE_COMMANDS` per round trip. Hash values are text; `types` casts them.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from fustgo.engine.errors import FustgoError, RetryableError, TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.clients.redis import RedisConnection
from fustgo.plugins.processors.enrichment.base import (
    LookupColumns,
    LookupShape,
    RemoteSource,
    Retrier,
    text_rows,
    text_shape,
)
from fustgo.plugins.spec import PluginConfig, ui

if TYPE_CHECKING:
    import redis as redis_client

PIPELINE_COMMANDS = 1_000
"""HGETALLs sent per round trip; bounds the memory of one reply."""


class RedisLookup(PluginConfig):
    """Redis hashes, one per key (`HGETALL <key_prefix><key>`)."""

    type: Literal["redis"]
    """Selects the Redis lookup."""
    connection: RedisConnection = Field(default_factory=RedisConnection)
    """Where to connect; the password is a secret and never logged."""
    key_prefix: str = Field(default="", json_schema_extra=ui(placeholder="customer:"))
    """Text put before the key to name the hash (`customer:` reads `customer:42`)."""
    key_separator: str = ":"
    """Joins the parts of a composite key (`7:3`)."""

    def source(self, columns: LookupColumns, context: PluginContext) -> RedisSource:
        return RedisSource(self, columns, context)


class RedisSource(RemoteSource):
    """A redis-py client (its connection pool is shared by the processor's threads)."""

    def __init__(self, config: RedisLookup, columns: LookupColumns, context: PluginContext) -> None:
        super().__init__(columns, context)
        self.config = config
        self._client: redis_client.Redis | None = None
        self._lock = threading.Lock()

    @property
    def server(self) -> str:
        connection = self.config.connection
        return f"`{connection.host}:{connection.port}/{connection.db}`"

    @property
    def description(self) -> str:
        return f"the Redis lookup on {self.server} (hashes `{self.config.key_prefix}<key>`)"

    def open(self) -> LookupShape:
        return text_shape(self.columns)

    def check(self) -> None:
        import redis

        try:
            self._redis().ping()
        except redis.RedisError as exc:
            raise self._error(exc) from exc
        finally:
            self.close()

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    async def fetch(self, keys: pa.Table, retry: Retrier) -> pa.Table:
        names = self._hash_names(keys)

        async def attempt() -> list[dict[str, str]]:
            return self._read(names)

        hashes = await retry(attempt, f"reading {self.description}")
        found = [bool(one) for one in hashes]
        values = {
            name: [one.get(name) for one in hashes if one] for name in self.columns.fields or ()
        }
        schema = pa.schema([pa.field(name, pa.string()) for name in values])
        return text_rows(keys, found, values, schema)

    def _hash_names(self, keys: pa.Table) -> list[str]:
        try:
            parts = [pc.cast(column, pa.string()) for column in keys.columns]
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise TerminalError(
                f"Keys of type {keys.schema.types} cannot be written as Redis key names; use "
                "text or number key fields."
            ) from exc
        text = parts[0]
        if len(parts) > 1:
            text = pc.binary_join_element_wise(*parts, self.config.key_separator)
        prefix = self.config.key_prefix
        return [prefix + name for name in text.to_pylist()]

    def _read(self, names: list[str]) -> list[dict[str, str]]:
        """`HGETALL` of every name, pipelined; an empty dict for a missing hash."""
        import redis

        client = self._redis()
        replies: list[Any] = []
        try:
            for start in range(0, len(names), PIPELINE_COMMANDS):
                pipeline = client.pipeline(transaction=False)
                for name in names[start : start + PIPELINE_COMMANDS]:
                    pipeline.hgetall(name)
                replies.extend(pipeline.execute(raise_on_error=False))
        except (redis.RedisError, UnicodeDecodeError) as exc:
            raise self._error(exc) from exc
        for name, reply in zip(names, replies, strict=True):
            if isinstance(reply, Exception):
                raise TerminalError(
                    f"Redis key `{name}` of {self.description} cannot be read as a hash: "
                    f"{reply}; the lookup reads hashes (HSET)."
                )
        return replies

    def _redis(self) -> redis_client.Redis:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        with self._lock:
            if self._client is None:
                self._client = redis.Redis(
                    **self.config.connection.client_options(),
                    decode_responses=True,
                    retry=Retry(NoBackoff(), 0),  # the processor's retry policy decides
                )
            return self._client

    def _error(self, exc: Exception) -> FustgoError:
        import redis

        if isinstance(exc, redis.AuthenticationError) or "NOAUTH" in str(exc):
            return TerminalError(
                f"Redis on {self.server} refused the login: {exc}; check "
                "`lookup.connection.username` and `password`."
            )
        if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
            return RetryableError(
                f"Cannot reach Redis on {self.server}: {exc}; check that the server is running "
                "and reachable from here."
            )
        if isinstance(exc, UnicodeDecodeError):
            return TerminalError(f"{self.description} holds values that are not UTF-8 text.")
        return TerminalError(f"Reading {self.description} failed: {exc}.")
