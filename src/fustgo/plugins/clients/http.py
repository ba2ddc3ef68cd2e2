"""What every HTTP plugin shares: credentials, one request with its errors translated,
rate limiting, JSON paths and `Retry-After`.

The `http` input (REST polling), the `http` output and the enrichment processor's HTTP
lookup all speak to JSON APIs with httpx. They take their credentials and timeout from
`HttpSettings`, send through `send` (timeouts, dropped connections, 408/429 and 5xx become
`RetryableError` carrying the server's `Retry-After`, 401/403 a `TerminalError` naming the
credential fields; other answers are the caller's to judge), and retry with the engine's
one policy (`fustgo.engine.retry.retry_async`). Query strings never appear in messages:
they may hold credentials.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator

from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.engine.units import Duration
from fustgo.plugins.spec import PluginConfig

if TYPE_CHECKING:
    import httpx

SNIPPET_CHARS = 200
"""How much of an unexpected answer's body a message quotes."""


class BasicAuth(PluginConfig):
    """HTTP Basic credentials."""

    username: str = Field(min_length=1)
    """The user name."""
    password: SecretStr
    """The password (write `${API_PASSWORD}`)."""


class ApiKey(PluginConfig):
    """An API key sent in a request header."""

    name: str = Field(default="X-API-Key", min_length=1)
    """The header that carries the key."""
    value: SecretStr
    """The key (write `${API_KEY}`)."""


class HttpSettings(PluginConfig):
    """Credentials, extra headers and the timeout of requests to an HTTP API."""

    headers: dict[str, str] = Field(default_factory=dict)
    """Extra request headers (`Accept-Language`, API version headers…); put credentials in
    `bearer_token`, `basic_auth` or `key_header`, which are kept out of logs."""
    bearer_token: SecretStr | None = None
    """Sent as `Authorization: Bearer <token>` (write `${API_TOKEN}`)."""
    basic_auth: BasicAuth | None = None
    """Sent as `Authorization: Basic …`."""
    key_header: ApiKey | None = None
    """An API key sent in its own header (`X-API-Key` unless `name` says otherwise)."""
    timeout: Duration = Field(default=10.0, gt=0)
    """How long one request may take (connect, send, wait, read) before it is retried."""

    @model_validator(mode="after")
    def _one_authorization(self) -> Self:
        if self.bearer_token is not None and self.basic_auth is not None:
            raise ValueError("set `bearer_token` or `basic_auth`: both use `Authorization`")
        return self

    def request_headers(self) -> dict[str, str]:
        """The headers every request carries: JSON accepted, extras, credentials."""
        import base64

        headers = {"Accept": "application/json", **self.headers}
        if self.bearer_token is not None:
            headers["Authorization"] = f"Bearer {self.bearer_token.get_secret_value()}"
        if self.basic_auth is not None:
            pair = f"{self.basic_auth.username}:{self.basic_auth.password.get_secret_value()}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        if self.key_header is not None:
            headers[self.key_header.name] = self.key_header.value.get_secret_value()
        return headers


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The default TLS context, built once: loading the CA bundle takes ~50 ms."""
    return ssl.create_default_context()


def async_client(settings: HttpSettings, *, connections: int = 8) -> httpx.AsyncClient:
    """A client with the settings' headers and timeout, following redirects."""
    import httpx

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(
        timeout=settings.timeout,
        headers=settings.request_headers(),
        limits=limits,
        follow_redirects=True,
        verify=tls_context(),
    )


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    where: str,
    timeout: float,
    content: bytes | str | None = None,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """One request. Transient failures raise `RetryableError`, refused credentials a
    `TerminalError` naming `<where>`'s credential fields; other answers are returned."""
    import httpx

    try:
        response = await client.request(
            method, url, content=content, params=params, headers=headers
        )
    except httpx.TimeoutException as exc:
        raise RetryableError(f"`{shown(url)}` did not answer within {timeout:g}s.") from exc
    except httpx.TransportError as exc:
        raise RetryableError(f"Cannot reach `{shown(url)}`: {exc}.") from exc
    status = response.status_code
    if status in (408, 429) or status >= 500:
        raise RetryableError(
            f"`{shown(url)}` answered {status} {response.reason_phrase}.",
            retry_after_seconds=retry_after(response),
        )
    if status in (401, 403):
        raise credentials_error(shown(url), response, where)
    return response


def refused(response: httpx.Response, url: str) -> TerminalError:
    """The error of an answer that retrying cannot change (a 4xx the caller did not expect)."""
    return TerminalError(
        f"`{shown(url)}` answered {response.status_code} {response.reason_phrase}: "
        f"{response.text[:SNIPPET_CHARS]!r}."
    )


def credentials_error(url: str, response: httpx.Response, where: str) -> TerminalError:
    return TerminalError(
        f"`{url}` answered {response.status_code} {response.reason_phrase}; check "
        f"`{where}.bearer_token` (or `basic_auth`, `key_header`) and `{where}.headers`."
    )


def retry_after(response: httpx.Response) -> float | None:
    """The seconds a 429/503 asks to wait: `Retry-After` as seconds or as an HTTP date."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def parse_json(response: httpx.Response, url: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise TerminalError(
            f"`{shown(url)}` answered {response.status_code} with a body that is not JSON: "
            f"{response.text[:SNIPPET_CHARS]!r}."
        ) from exc


def at_path(document: Any, path: str) -> Any:
    """The value at a dotted path (`data.items`, `results.0`); None where it stops."""
    value = document
    for part in path.split(".") if path else ():
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def shown(url: str) -> str:
    """A URL as messages show it: without its query string, which may hold credentials."""
    return url.split("?", 1)[0]


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


async def check_reachable(settings: HttpSettings, url: str, where: str) -> None:
    """A HEAD of the URL's origin: unreachable → `RetryableError`, refused credentials →
    `TerminalError`. Any other answer means the server is there."""
    async with async_client(settings, connections=1) as client:
        await send(client, "HEAD", origin(url), where=where, timeout=settings.timeout)


class RateLimiter:
    """Spaces requests evenly: at most `per_second` start in any second (None: no limit)."""

    def __init__(self, per_second: float | None) -> None:
        self.interval = 1.0 / per_second if per_second else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()
        self.waited_seconds = 0.0

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            self.waited_seconds += delay
            await asyncio.sleep(delay)
