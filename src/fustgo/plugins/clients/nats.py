"""What the NATS input and output share: connection settings, streams, errors.

nats-py is imported inside functions so that listing plugins imports no driver. The first
connection fails fast (a few attempts) so an unreachable server is reported at once; once
connected, the client reconnects on its own for as long as the run lasts, and the plugins
report a lost connection as retryable so the engine's retry policy waits for it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pydantic import Field, SecretStr, field_validator

from fustgo.engine.errors import DataError, FustgoError, RetryableError, TerminalError
from fustgo.engine.units import Duration
from fustgo.plugins.spec import PluginConfig, ui

if TYPE_CHECKING:
    import nats.aio.client
    import nats.js

logger = logging.getLogger("fustgo.nats")

CONNECT_ATTEMPTS = 3
"""Tries per server before the first connection is given up (then the engine retries)."""


class NatsConnection(PluginConfig):
    """Which NATS servers and how to log in."""

    servers: list[str] = Field(default_factory=lambda: ["nats://127.0.0.1:4222"], min_length=1)
    """Server URLs (`nats://host:4222`, `tls://host:4222`); more than one for a cluster."""
    user: str | None = None
    """User name (with `password`)."""
    password: SecretStr | None = None
    """Password of `user` (write `${NATS_PASSWORD}` to keep it out of the file)."""
    token: SecretStr | None = None
    """Authentication token, instead of user and password."""
    credentials_file: str | None = Field(default=None, json_schema_extra=ui(advanced=True))
    """A `.creds` file (JWT and NKey seed), relative to the pipeline file."""
    tls: bool = False
    """Connect with TLS (implied by `tls://` URLs)."""
    name: str = Field(default="fustgo", json_schema_extra=ui(advanced=True))
    """Client name the server shows in its connection list."""
    timeout: Duration = Field(default=5.0, gt=0, json_schema_extra=ui(advanced=True))
    """How long to wait to connect and for JetStream API replies and publish acks."""

    @field_validator("servers")
    @classmethod
    def _urls(cls, servers: list[str]) -> list[str]:
        return [url if "://" in url else f"nats://{url}" for url in servers]

    @property
    def where(self) -> str:
        """The servers as messages name them (`127.0.0.1:4222`)."""
        return ", ".join(url.split("://", 1)[-1].rsplit("@", 1)[-1] for url in self.servers)


class StreamSpec(PluginConfig):
    """A JetStream stream: which, and whether to create it."""

    name: str = Field(min_length=1)
    """Stream name."""
    subjects: list[str] = Field(default_factory=list)
    """Subjects the stream stores (used when creating it); the stream's own when omitted."""
    create: bool = False
    """Create the stream (file storage, limits retention) when it does not exist; an
    existing stream is used as it is."""


async def connect(
    settings: NatsConnection, field: str, base_dir: Any = None
) -> nats.aio.client.Client:
    """A connected client, or `RetryableError` naming the servers and `field`."""
    import ssl

    import nats
    import nats.errors

    async def on_error(exc: Exception) -> None:
        logger.debug("NATS connection to %s: %s", settings.where, exc)

    connected: list[nats.aio.client.Client] = []

    async def on_disconnect() -> None:
        if connected and not (connected[0].is_closed or connected[0].is_draining):
            logger.warning("NATS connection to %s lost; reconnecting", settings.where)

    options: dict[str, Any] = {
        "servers": settings.servers,
        "name": settings.name,
        "connect_timeout": settings.timeout,
        "max_reconnect_attempts": CONNECT_ATTEMPTS,
        "reconnect_time_wait": 0.5,
        "error_cb": on_error,
        "disconnected_cb": on_disconnect,
    }
    if settings.user is not None:
        options["user"] = settings.user
        options["password"] = settings.password.get_secret_value() if settings.password else ""
    if settings.token is not None:
        options["token"] = settings.token.get_secret_value()
    if settings.credentials_file is not None:
        path = settings.credentials_file
        options["user_credentials"] = str(base_dir / path) if base_dir is not None else path
    if settings.tls or any(url.startswith("tls://") for url in settings.servers):
        options["tls"] = ssl.create_default_context()
    try:
        client = await nats.connect(**options)
    except Exception as exc:
        raise nats_error(exc, settings, "connecting", field) from exc
    connected.append(client)
    # Connected once: from now on reconnect for as long as the run lasts.
    client.options["max_reconnect_attempts"] = -1
    client.options["reconnect_time_wait"] = 1.0
    return client


def check_connected(client: nats.aio.client.Client, settings: NatsConnection, field: str) -> None:
    """Raise `RetryableError` while the client is reconnecting (so idle is not mistaken)."""
    if not client.is_connected:
        raise RetryableError(
            f"The NATS connection to {settings.where} (`{field}.connection.servers`) is down; "
            "waiting for it to come back."
        )


async def ensure_stream(
    js: nats.js.JetStreamContext, spec: StreamSpec, settings: NatsConnection, field: str
) -> None:
    """Check the stream exists, creating it when `create` is set."""
    import nats.js.errors

    try:
        await js.stream_info(spec.name)
        return
    except nats.js.errors.NotFoundError:
        if not spec.create:
            raise TerminalError(
                f"JetStream stream `{spec.name}` does not exist on {settings.where}; create it "
                f"(`nats stream add`) or set `{field}.jetstream.stream.create: true`."
            ) from None
    except Exception as exc:
        raise nats_error(exc, settings, f"looking up stream `{spec.name}`", field) from exc
    if not spec.subjects:
        raise TerminalError(
            f"`{field}.jetstream.stream.subjects` is needed to create stream `{spec.name}`: "
            "list the subjects it stores."
        )
    try:
        await js.add_stream(name=spec.name, subjects=spec.subjects)
    except nats.js.errors.BadRequestError as exc:
        if "already in use" not in str(exc.description or ""):
            raise nats_error(exc, settings, f"creating stream `{spec.name}`", field) from exc
        # Another consumer created it at the same time: fine.
    except Exception as exc:
        raise nats_error(exc, settings, f"creating stream `{spec.name}`", field) from exc


def nats_error(exc: BaseException, settings: NatsConnection, what: str, field: str) -> FustgoError:
    """A nats-py error as FustGo's; `what` says what was being done, `field` is the
    plugin's config path (`input`)."""
    import nats.errors
    import nats.js.errors

    where = settings.where
    if isinstance(exc, FustgoError):
        return exc
    if isinstance(exc, nats.js.errors.ServiceUnavailableError):
        return TerminalError(
            f"JetStream is not enabled on NATS {where} ({what}); start nats-server with "
            f"`-js` (or `jetstream {{}}` in its config), or use core NATS subjects without "
            f"`{field}.jetstream`."
        )
    if isinstance(exc, nats.js.errors.APIError):
        return TerminalError(f"NATS JetStream on {where} refused {what}: {exc.description or exc}.")
    if isinstance(exc, nats.errors.AuthorizationError) or "authorization" in str(exc).lower():
        return TerminalError(
            f"NATS {where} refused the login ({what}): {exc}; check `{field}.connection.user`, "
            "`password`, `token` or `credentials_file`."
        )
    if isinstance(exc, nats.errors.MaxPayloadError):
        return DataError(f"A message is larger than NATS {where} accepts ({what}): {exc}.")
    if isinstance(
        exc,
        nats.errors.NoServersError
        | nats.errors.ConnectionClosedError
        | nats.errors.TimeoutError
        | nats.errors.StaleConnectionError
        | nats.errors.OutboundBufferLimitError
        | TimeoutError
        | OSError,
    ):
        return RetryableError(
            f"Cannot reach NATS {where} (`{field}.connection.servers`) while {what}: "
            f"{exc or type(exc).__name__}; check that the server is running and reachable."
        )
    return TerminalError(f"NATS {where}: {what} failed: {exc!r}.")
