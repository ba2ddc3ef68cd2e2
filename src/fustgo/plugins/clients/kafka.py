"""What the Kafka input and output share: connection settings, error translation, checks.

Both speak to the brokers through confluent-kafka (librdkafka). The connection section
holds the bootstrap brokers and the security settings (TLS, SASL PLAIN/SCRAM), which map
one to one onto librdkafka properties; anything else librdkafka accepts goes into the
plugin's `properties` map, applied last. librdkafka logs through the plugin's logger
instead of writing to standard error, and its error callback keeps the last broker error,
so that a failed check can say *why* `host:port` was unreachable.

Errors, by librdkafka code: transport failures, timeouts and broker-side transient codes
are `RetryableError`; authentication and authorization failures and missing topics are
`TerminalError`; a record the broker refuses (too large, invalid) is `DataError`.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator

from fustgo.engine.errors import DataError, FustgoError, RetryableError, TerminalError
from fustgo.engine.units import Duration
from fustgo.plugins.spec import PluginConfig, ui

if TYPE_CHECKING:
    from confluent_kafka import KafkaError

SecurityProtocol = Literal["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
PropertyValue = str | int | float | bool

# librdkafka error names (KafkaError.name()) by what they mean for a run.
_DATA = {
    "MSG_SIZE_TOO_LARGE", "_MSG_SIZE_TOO_LARGE", "INVALID_RECORD", "CORRUPT_MESSAGE",
    "RECORD_LIST_TOO_LARGE", "INVALID_MSG", "INVALID_MSG_SIZE", "_INVALID_ARG",
}  # fmt: skip
_AUTH = {
    "_AUTHENTICATION", "SASL_AUTHENTICATION_FAILED", "UNSUPPORTED_SASL_MECHANISM",
    "ILLEGAL_SASL_STATE", "_SSL", "TOPIC_AUTHORIZATION_FAILED", "GROUP_AUTHORIZATION_FAILED",
    "CLUSTER_AUTHORIZATION_FAILED", "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
}  # fmt: skip
_MISSING = {"UNKNOWN_TOPIC_OR_PART", "_UNKNOWN_TOPIC", "_UNKNOWN_PARTITION", "TOPIC_EXCEPTION"}
_UNREACHABLE = {
    "_TRANSPORT", "_ALL_BROKERS_DOWN", "_TIMED_OUT", "_MSG_TIMED_OUT", "_RESOLVE",
    "REQUEST_TIMED_OUT", "NETWORK_EXCEPTION", "_TIMED_OUT_QUEUE",
}  # fmt: skip


class KafkaTls(PluginConfig):
    """TLS files (PEM); librdkafka's `ssl.*` properties."""

    ca_file: str | None = None
    """CA certificate(s) that verify the brokers (`ssl.ca.location`); the system store
    when omitted."""
    cert_file: str | None = None
    """Client certificate, when the brokers authenticate clients by certificate."""
    key_file: str | None = None
    """Private key of `cert_file`."""
    key_password: SecretStr | None = None
    """Password of `key_file`, if it is encrypted."""
    verify_hostname: bool = True
    """Check that the broker's certificate names the host connected to."""

    @model_validator(mode="after")
    def _pair(self) -> Self:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("`cert_file` and `key_file` go together: set both or neither")
        return self


class KafkaSasl(PluginConfig):
    """SASL authentication (PLAIN or SCRAM)."""

    mechanism: SaslMechanism = "SCRAM-SHA-512"
    """`PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`."""
    username: str = Field(min_length=1)
    """The SASL user."""
    password: SecretStr
    """Its password (write `${KAFKA_PASSWORD}` to keep it out of the file)."""


class KafkaConnection(PluginConfig):
    """Where the Kafka cluster is and how to authenticate."""

    brokers: list[str] = Field(min_length=1)
    """Bootstrap brokers as `host:port` (the rest of the cluster is discovered)."""
    security_protocol: SecurityProtocol | None = Field(
        default=None, json_schema_extra=ui(group="security")
    )
    """`plaintext`, `ssl`, `sasl_plaintext` or `sasl_ssl`; derived from `tls` and `sasl`
    when omitted."""
    tls: KafkaTls | None = Field(default=None, json_schema_extra=ui(group="security"))
    """TLS to the brokers (turns `ssl` / `sasl_ssl` on)."""
    sasl: KafkaSasl | None = Field(default=None, json_schema_extra=ui(group="security"))
    """SASL user and password (turns `sasl_plaintext` / `sasl_ssl` on)."""
    client_id: str = Field(default="fustgo", json_schema_extra=ui(advanced=True))
    """How brokers name this client in their logs and quotas."""
    timeout: Duration = Field(default=10.0, gt=0, json_schema_extra=ui(advanced=True))
    """How long to wait for the brokers when checking the connection and topics."""

    @field_validator("brokers")
    @classmethod
    def _host_port(cls, brokers: list[str]) -> list[str]:
        for broker in brokers:
            host, _, port = broker.rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"`{broker}` is not `host:port`")
        return brokers

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        protocol = self.security_protocol
        if protocol in ("plaintext", "sasl_plaintext") and self.tls is not None:
            raise ValueError(f"`security_protocol: {protocol}` does not use TLS; remove `tls`")
        if protocol in ("sasl_plaintext", "sasl_ssl") and self.sasl is None:
            raise ValueError(f"`security_protocol: {protocol}` needs `sasl` (user, password)")
        if protocol in ("plaintext", "ssl") and self.sasl is not None:
            raise ValueError(f"`security_protocol: {protocol}` does not use SASL; remove `sasl`")
        return self

    @property
    def servers(self) -> str:
        """The brokers as messages name them (`host:port, host:port`)."""
        return ", ".join(self.brokers)

    def protocol(self) -> str:
        if self.security_protocol is not None:
            return self.security_protocol
        if self.sasl is not None:
            return "sasl_ssl" if self.tls is not None else "sasl_plaintext"
        return "ssl" if self.tls is not None else "plaintext"

    def properties(self) -> dict[str, PropertyValue]:
        """librdkafka properties of the connection (no logger or callbacks)."""
        settings: dict[str, PropertyValue] = {
            "bootstrap.servers": ",".join(self.brokers),
            "client.id": self.client_id,
            "security.protocol": self.protocol(),
        }
        if self.tls is not None:
            tls = self.tls
            optional = {
                "ssl.ca.location": tls.ca_file,
                "ssl.certificate.location": tls.cert_file,
                "ssl.key.location": tls.key_file,
                "ssl.key.password": tls.key_password.get_secret_value()
                if tls.key_password
                else None,
            }
            settings.update({k: v for k, v in optional.items() if v is not None})
            settings["ssl.endpoint.identification.algorithm"] = (
                "https" if tls.verify_hostname else "none"
            )
        if self.sasl is not None:
            settings["sasl.mechanism"] = self.sasl.mechanism
            settings["sasl.username"] = self.sasl.username
            settings["sasl.password"] = self.sasl.password.get_secret_value()
        return settings


class BrokerErrors:
    """librdkafka's error callback and logger: keeps the last error for messages."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self.last: KafkaError | None = None
        self.fatal: KafkaError | None = None
        """The first fatal error (the client cannot go on: an idempotent producer whose
        broker forgot its id), if any."""
        self._lock = threading.Lock()

    def __call__(self, error: KafkaError) -> None:
        with self._lock:
            self.last = error
            if error.fatal() and self.fatal is None:
                self.fatal = error
        self.logger.debug("librdkafka: %s", error.str())

    def reason(self) -> str:
        """The last broker error in words, or an empty string."""
        last = self.last
        return f" ({last.str()})" if last is not None else ""


def client_settings(
    connection: KafkaConnection,
    defaults: dict[str, PropertyValue],
    properties: dict[str, PropertyValue],
    errors: BrokerErrors,
) -> dict[str, Any]:
    """librdkafka settings: connection, then FustGo's defaults, then the user's properties."""
    return {
        **connection.properties(),
        **defaults,
        **properties,
        "error_cb": errors,
        "logger": errors.logger.getChild("librdkafka"),
    }


def translate(
    error: KafkaError | Exception, action: str, connection: KafkaConnection, where: str
) -> FustgoError:
    """The FustGo error for a librdkafka error (`where` names the config section)."""
    if isinstance(error, FustgoError):
        return error
    kafka_error = _kafka_error(error)
    if kafka_error is None:
        return TerminalError(f"{action}: {error}")
    name, text = kafka_error.name(), kafka_error.str()
    if name in _UNREACHABLE:
        return RetryableError(
            f"{action}: the Kafka brokers {connection.servers} did not answer ({text}); "
            f"check `{where}.brokers` and that the brokers are up."
        )
    if name in _AUTH:
        return TerminalError(
            f"{action}: the brokers {connection.servers} refused this client ({text}); check "
            f"`{where}.sasl` / `{where}.tls` and the user's ACLs."
        )
    if name in _DATA:
        return DataError(f"{action}: {text}.")
    if name in _MISSING:
        return TerminalError(f"{action}: {text}; check the topic names or create the topics.")
    if kafka_error.retriable() and not kafka_error.fatal():
        return RetryableError(f"{action}: {text} (the broker says to retry).")
    return TerminalError(f"{action}: {text}.")


def _kafka_error(error: Any) -> KafkaError | None:
    from confluent_kafka import KafkaError, KafkaException

    if isinstance(error, KafkaError):
        return error
    if isinstance(error, KafkaException) and error.args and isinstance(error.args[0], KafkaError):
        return error.args[0]
    return None


def list_topics(
    client: Any, connection: KafkaConnection, errors: BrokerErrors, where: str
) -> dict[str, int]:
    """Topic name → partition count, as the cluster reports it; raises when unreachable.

    `client` is a confluent-kafka Consumer, Producer or AdminClient (blocking call).
    """
    from confluent_kafka import KafkaException

    try:
        metadata = client.list_topics(timeout=connection.timeout)
    except KafkaException as exc:
        kafka_error = _kafka_error(exc)
        if kafka_error is not None and kafka_error.name() in _UNREACHABLE:
            raise RetryableError(
                f"Cannot reach the Kafka brokers {connection.servers}{errors.reason()} within "
                f"{connection.timeout:g} s; check `{where}.brokers` and that the brokers are up."
            ) from exc
        raise translate(
            exc, f"Reading metadata from {connection.servers}", connection, where
        ) from exc
    return {
        name: len(topic.partitions)
        for name, topic in metadata.topics.items()
        if topic.error is None or topic.error.name() not in _MISSING
    }


def check_connection(
    connection: KafkaConnection,
    properties: dict[str, PropertyValue],
    where: str,
    logger: logging.Logger,
) -> dict[str, int]:
    """Connect with an admin client and list the topics (`fustgo validate --check-connections`)."""
    from confluent_kafka.admin import AdminClient

    errors = BrokerErrors(logger)
    admin = AdminClient(client_settings(connection, {}, properties, errors))
    return list_topics(admin, connection, errors, where)
