"""What the RabbitMQ input and output share: connection settings, connecting, errors.

Both speak AMQP 0-9-1 through aio-pika over a plain (not "robust") connection: a robust
connection re-opens channels behind the caller's back, and delivery tags restart on a new
channel, so an acknowledgement meant for the old channel could hit another message. Here a
lost connection is an error (`RetryableError`); the runner retries, the plugin reconnects,
and the broker redelivers whatever was not acknowledged. aio-pika is imported inside
functions so that listing plugins imports no driver.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, SecretStr

from fustgo.engine.errors import FustgoError, RetryableError, TerminalError
from fustgo.engine.units import Duration
from fustgo.plugins.spec import PluginConfig, ui

if TYPE_CHECKING:
    from aio_pika.abc import AbstractRobustConnection


class RabbitMQConnection(PluginConfig):
    """Where RabbitMQ is and who connects."""

    host: str = Field(default="localhost", min_length=1)
    """Broker host name or address."""
    port: int = Field(default=5672, ge=1, le=65535)
    """AMQP port (5671 is the usual TLS port)."""
    username: str = Field(default="guest", min_length=1)
    """User to log in as."""
    password: SecretStr = SecretStr("guest")
    """The user's password (write `${RABBITMQ_PASSWORD}` to keep it out of the file)."""
    vhost: str = "/"
    """Virtual host."""
    tls: bool = Field(default=False, json_schema_extra=ui(group="tls"))
    """Connect with TLS (AMQPS)."""
    ca_file: str | None = Field(default=None, json_schema_extra=ui(group="tls", advanced=True))
    """CA certificate file that verifies the broker; the system's CAs when omitted."""
    connect_timeout: Duration = Field(default=10.0, gt=0, json_schema_extra=ui(advanced=True))
    """How long to wait for the broker when connecting."""
    heartbeat: int = Field(default=60, ge=0, json_schema_extra=ui(advanced=True, unit="s"))
    """AMQP heartbeat in seconds (0 turns it off); a dead peer is noticed after about two."""

    @property
    def server(self) -> str:
        """`host:port/vhost`, as messages name the broker."""
        return f"{self.host}:{self.port}{'' if self.vhost == '/' else '/' + self.vhost}"


async def connect(connection: RabbitMQConnection, where: str) -> AbstractRobustConnection:
    """An open (non-robust) connection, or a typed error naming `where.connection`."""
    import aio_pika

    context = None
    if connection.tls:
        context = ssl.create_default_context(cafile=connection.ca_file)
    try:
        return await aio_pika.connect(  # type: ignore[return-value]
            host=connection.host,
            port=connection.port,
            login=connection.username,
            password=connection.password.get_secret_value(),
            virtualhost=connection.vhost,
            ssl=connection.tls,
            ssl_context=context,
            timeout=connection.connect_timeout,
            heartbeat=connection.heartbeat,
            client_properties={"connection_name": f"fustgo {where}"},
        )
    except Exception as exc:
        raise translate(exc, connection, where, "connecting") from exc


def translate(
    exc: BaseException, connection: RabbitMQConnection, where: str, doing: str
) -> FustgoError:
    """The FustGo error for an aio-pika/aiormq failure while `doing` something."""
    from aiormq import exceptions as amqp

    if isinstance(exc, FustgoError):
        return exc
    server = f"RabbitMQ at {connection.server}"
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, amqp.AuthenticationError | amqp.ProbableAuthenticationError):
        return TerminalError(
            f"{server} refused the login of `{connection.username}` while {doing}: check "
            f"`{where}.connection.username` and `{where}.connection.password` ({detail})."
        )
    if isinstance(exc, amqp.InvalidFrameError) and doing == "connecting":
        # The broker closes the connection during Connection.Open: unknown or forbidden vhost.
        return TerminalError(
            f"{server} closed the connection when opening vhost `{connection.vhost}`: check "
            f"that `{where}.connection.vhost` exists and that `{connection.username}` may "
            "use it."
        )
    if isinstance(exc, amqp.ChannelNotFoundEntity):
        return TerminalError(
            f"{server}: {_reply(detail)} while {doing}; create it, or ask FustGo to declare "
            f"it (`{where}.declare`)."
        )
    if isinstance(exc, amqp.ChannelAccessRefused | amqp.ConnectionNotAllowed):
        return TerminalError(
            f"{server} refused access while {doing}: {_reply(detail)}; grant "
            f"`{connection.username}` the permission in vhost `{connection.vhost}`."
        )
    if isinstance(exc, amqp.ChannelPreconditionFailed):
        return TerminalError(
            f"{server} rejected a declaration while {doing}: {_reply(detail)}. An existing "
            f"queue or exchange has other properties than `{where}.declare` asks for: make "
            "them match, or stop declaring it."
        )
    if isinstance(exc, OSError | asyncio.TimeoutError | amqp.AMQPError | RuntimeError):
        # Refused, timed out, reset, closed connection or channel: the broker or the network.
        return RetryableError(
            f"{server} is unreachable or dropped the connection while {doing} "
            f"(`{where}.connection`): {detail}."
        )
    return TerminalError(f"{server} failed while {doing}: {type(exc).__name__}: {detail}")


def _reply(detail: str) -> str:
    """The broker's reply text without aiormq's preamble."""
    for marker in ("NOT_FOUND", "ACCESS_REFUSED", "PRECONDITION_FAILED"):
        at = detail.find(marker)
        if at >= 0:
            return detail[at:].rstrip("\"'")
    return detail


ExchangeType = Literal["direct", "fanout", "topic", "headers"]


class ExchangeDeclaration(PluginConfig):
    """An exchange to declare (created when missing, checked when present)."""

    type: ExchangeType = "direct"
    """Exchange type."""
    durable: bool = True
    """Survives a broker restart."""
    arguments: dict[str, Any] = Field(default_factory=dict, json_schema_extra=ui(advanced=True))
    """Optional arguments (`alternate-exchange`, …)."""


async def declare_exchange(channel: Any, name: str, declaration: ExchangeDeclaration | None) -> Any:
    """The exchange `name`: declared as asked, or checked to exist (passive)."""
    if name == "":
        return channel.default_exchange
    if declaration is None:
        return await channel.declare_exchange(name, passive=True)
    return await channel.declare_exchange(
        name,
        type=declaration.type,
        durable=declaration.durable,
        arguments=declaration.arguments or None,
    )
