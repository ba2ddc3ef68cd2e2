"""What the MQTT input and output share: connection settings, connecting, errors.

Both use aiomqtt (asyncio over paho-mqtt 2). aiomqtt does not expose paho's manual
acknowledgements yet (aiomqtt issue #345), so the input switches them on through the paho
client it wraps (`Client._client`): one place, `manual_acks` below. aiomqtt is imported
inside functions so that listing plugins imports no driver.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, SecretStr, model_validator

from fustgo.engine.errors import FustgoError, RetryableError, TerminalError
from fustgo.engine.units import Duration
from fustgo.plugins.spec import PluginConfig, ui

if TYPE_CHECKING:
    import aiomqtt

QoS = Literal[0, 1, 2]
# CONNACK / SUBACK reason codes that retrying cannot fix (MQTT 5 numbering, which paho 2
# also uses for MQTT 3.1.1 answers): bad login, not authorised, banned, bad client id…
_TERMINAL_CODES = frozenset({128, 129, 130, 132, 133, 134, 135, 138, 140, 143, 149, 151, 153})


class MqttConnection(PluginConfig):
    """Where the MQTT broker is and who connects."""

    host: str = Field(default="localhost", min_length=1)
    """Broker host name or address."""
    port: int = Field(default=1883, ge=1, le=65535)
    """Broker port (8883 is the usual TLS port)."""
    username: str | None = None
    """User name, when the broker asks for one."""
    password: SecretStr | None = None
    """The user's password (write `${MQTT_PASSWORD}` to keep it out of the file)."""
    client_id: str | None = Field(default=None, max_length=200)
    """Client identifier. A persistent session belongs to it, so it must be stable and
    unique to this pipeline; `fustgo-<pipeline>-<component>` when omitted."""
    protocol: Literal["3.1.1", "5"] = "3.1.1"
    """MQTT protocol version (`5` carries user properties as headers)."""
    tls: bool = Field(default=False, json_schema_extra=ui(group="tls"))
    """Connect with TLS."""
    ca_file: str | None = Field(default=None, json_schema_extra=ui(group="tls", advanced=True))
    """CA certificate file that verifies the broker; the system's CAs when omitted."""
    keepalive: int = Field(default=30, ge=5, json_schema_extra=ui(advanced=True, unit="s"))
    """Seconds between pings; a dead broker is noticed after about 1.5 times this."""
    connect_timeout: Duration = Field(default=10.0, gt=0, json_schema_extra=ui(advanced=True))
    """How long to wait for the broker when connecting or subscribing."""

    @model_validator(mode="after")
    def _login(self) -> MqttConnection:
        if self.password is not None and self.username is None:
            raise ValueError("`password` is set without `username`")
        return self

    @property
    def server(self) -> str:
        """`host:port`, as messages name the broker."""
        return f"{self.host}:{self.port}"


def client_id(connection: MqttConnection, pipeline: str, where: str, suffix: str = "") -> str:
    """The configured client id, or a stable one made of the pipeline and component names."""
    base = connection.client_id or re.sub(r"[^A-Za-z0-9_.-]+", "-", f"fustgo-{pipeline}-{where}")
    return base + suffix


def make_client(
    connection: MqttConnection,
    identifier: str,
    *,
    clean: bool = True,
    session_expiry: int = 0,
) -> aiomqtt.Client:
    """An unconnected aiomqtt client for these settings.

    `clean` starts a clean session; otherwise the broker keeps the session (subscriptions,
    unacknowledged and queued messages) across connections, for MQTT 5 during
    `session_expiry` seconds after a disconnect.
    """
    import aiomqtt
    import paho.mqtt.client as paho
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    v5 = connection.protocol == "5"
    properties = None
    if v5 and not clean:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = session_expiry
    context = ssl.create_default_context(cafile=connection.ca_file) if connection.tls else None
    return aiomqtt.Client(
        connection.host,
        connection.port,
        username=connection.username,
        password=connection.password.get_secret_value() if connection.password else None,
        identifier=identifier,
        protocol=aiomqtt.ProtocolVersion.V5 if v5 else aiomqtt.ProtocolVersion.V311,
        clean_session=None if v5 else clean,
        clean_start=clean if v5 else paho.MQTT_CLEAN_START_FIRST_ONLY,
        keepalive=connection.keepalive,
        timeout=connection.connect_timeout,
        tls_context=context,
        properties=properties,
    )


def manual_acks(client: aiomqtt.Client) -> Any:
    """The paho client under aiomqtt, with manual acknowledgements on (before connecting).

    paho then sends no PUBACK for a QoS 1 message until `.ack(mid, qos)` is called.
    """
    paho_client = client._client  # aiomqtt has no public switch yet
    paho_client.manual_ack_set(True)
    return paho_client


async def connect(client: aiomqtt.Client, connection: MqttConnection, where: str) -> None:
    """Open the client's connection, or raise a typed error naming `where.connection`."""
    try:
        await client.__aenter__()
    except Exception as exc:
        raise translate(exc, connection, where, "connecting") from exc


async def disconnect(client: aiomqtt.Client) -> None:
    """Send DISCONNECT (a clean end: no will message, the session kept if persistent)."""
    with contextlib.suppress(Exception):  # already gone: nothing left to release
        await asyncio.wait_for(client.__aexit__(None, None, None), 5)


def translate(
    exc: BaseException, connection: MqttConnection, where: str, doing: str
) -> FustgoError:
    """The FustGo error for an aiomqtt/paho failure while `doing` something."""
    from aiomqtt import MqttCodeError

    if isinstance(exc, FustgoError):
        return exc
    server = f"MQTT broker at {connection.server}"
    code = getattr(getattr(exc, "rc", None), "value", getattr(exc, "rc", None))
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, MqttCodeError) and code in (134, 135, 4, 5):
        return TerminalError(
            f"{server} refused the login while {doing} ({detail}): check "
            f"`{where}.connection.username` and `{where}.connection.password`."
        )
    if isinstance(exc, MqttCodeError) and code in _TERMINAL_CODES:
        return TerminalError(f"{server} refused while {doing}: {detail}.")
    return RetryableError(
        f"{server} is unreachable or dropped the connection while {doing} "
        f"(`{where}.connection`): {detail}."
    )
