"""What the Redis input, output and lookup share: connection settings, clients, errors.

redis-py is imported inside functions so that listing plugins imports no driver. The
lookup (`processors/enrichment/redis.py`) uses the blocking client from its threads; the
stream input and output use `redis.asyncio`. Both are built from one `RedisConnection`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, SecretStr

from fustgo.engine.errors import FustgoError, RetryableError, TerminalError
from fustgo.engine.units import Duration
from fustgo.plugins.spec import PluginConfig, ui

if TYPE_CHECKING:
    import redis.asyncio as redis_async


class RedisConnection(PluginConfig):
    """Where Redis is and how to log in."""

    host: str = Field(default="localhost", min_length=1)
    """Server host name or address."""
    port: int = Field(default=6379, ge=1, le=65535)
    """Server port."""
    db: int = Field(default=0, ge=0)
    """Database number."""
    username: str | None = None
    """ACL user (Redis 6+); unset logs in as the default user."""
    password: SecretStr | None = None
    """Password of the user (write `${REDIS_PASSWORD}` to keep it out of the file)."""
    tls: bool = False
    """Connect with TLS."""
    timeout: Duration = Field(default=5.0, json_schema_extra=ui(advanced=True))
    """How long to wait to connect and for each reply."""

    @property
    def server(self) -> str:
        """`host:port/db`, as messages name the server."""
        return f"{self.host}:{self.port}/{self.db}"

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments of `redis.Redis` / `redis.asyncio.Redis` for these settings."""
        return {
            "host": self.host,
            "port": self.port,
            "db": self.db,
            "username": self.username,
            "password": self.password.get_secret_value() if self.password else None,
            "ssl": self.tls,
            "socket_timeout": self.timeout,
            "socket_connect_timeout": self.timeout,
        }


def async_client(settings: RedisConnection, *, blocking: float = 0.0) -> redis_async.Redis:
    """An asyncio client; `blocking` seconds are added to the reply timeout for commands
    that wait on the server (XREADGROUP BLOCK, BLMOVE). The engine's retry policy decides
    about retries, so redis-py's own are off."""
    import redis.asyncio as redis_async
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    options = settings.client_options()
    options["socket_timeout"] = settings.timeout + blocking
    return redis_async.Redis(**options, retry=Retry(NoBackoff(), 0))


def redis_error(
    exc: BaseException, settings: RedisConnection, what: str, field: str
) -> FustgoError:
    """A redis-py error as FustGo's: unreachable → retryable; login, wrong types → terminal.

    `what` says what was being done (`reading stream orders`), `field` is the config path
    of the connection (`input.connection`).
    """
    import redis

    server = settings.server
    if isinstance(exc, FustgoError):
        return exc
    if (
        isinstance(exc, redis.AuthenticationError)
        or "NOAUTH" in str(exc)
        or "WRONGPASS" in str(exc)
    ):
        return TerminalError(
            f"Redis on {server} refused the login while {what}: {exc}; check "
            f"`{field}.username` and `{field}.password`."
        )
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError | OSError):
        return RetryableError(
            f"Cannot reach Redis on {server} (`{field}.host`, `{field}.port`) while {what}: "
            f"{exc}; check that the server is running and reachable from here."
        )
    if "WRONGTYPE" in str(exc):
        return TerminalError(
            f"Redis on {server}: {what} failed because a key holds another type: {exc}."
        )
    return TerminalError(f"Redis on {server}: {what} failed: {exc}.")
