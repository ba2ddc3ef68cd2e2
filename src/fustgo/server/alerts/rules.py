"""What an alert rule is: its type, the condition of that type, and what it does.

The API stores `condition` and `action` as JSON in `alert_rules`; these models are the one
definition of both, used to validate requests and to read stored rules.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fustgo.store.errors import InvalidRequestError

AlertType = Literal[
    "job_failed", "error_rate", "low_throughput", "long_run", "no_run_since", "disk_space"
]
WebhookFormat = Literal["generic", "slack", "dingtalk", "wecom", "feishu"]
MASK = "********"
"""What a secret (a signing secret, an SMTP password) looks like in responses."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class JobFailedCondition(_Strict):
    """Fires while a job's latest finished run failed (also: hit its error limit, or was
    killed by its timeout); resolves when a run ends otherwise."""

    job_id: str | None = None
    """The job watched; none: every job (each is its own subject)."""


class ErrorRateCondition(_Strict):
    """Fires while the share of failed records over the last `window_minutes` is above
    `threshold_percent` (with at least `min_records` read in that window)."""

    job_id: str | None = None
    threshold_percent: float = Field(default=5.0, gt=0, le=100)
    window_minutes: float = Field(default=5.0, gt=0, le=1440)
    min_records: int = Field(default=100, ge=1)


class LowThroughputCondition(_Strict):
    """Fires while a run going for at least `for_minutes` read fewer than
    `min_records_per_second` on average over the last `for_minutes`."""

    job_id: str | None = None
    min_records_per_second: float = Field(gt=0)
    for_minutes: float = Field(default=5.0, gt=0, le=1440)


class LongRunCondition(_Strict):
    """Fires while a run has been going for more than `max_minutes`."""

    job_id: str | None = None
    max_minutes: float = Field(gt=0)


class NoRunSinceCondition(_Strict):
    """Fires when the job has not succeeded for `minutes` (counted from its creation when
    it never did); resolves with its next success."""

    job_id: str
    minutes: float = Field(gt=0)


class DiskSpaceCondition(_Strict):
    """Fires while the free space of the file system holding `path` is below
    `min_free_percent`."""

    path: str | None = None
    """Default: the server's folder (where the SQLite store and logs live)."""
    min_free_percent: float = Field(default=10.0, gt=0, lt=100)


CONDITIONS: dict[str, type[_Strict]] = {
    "job_failed": JobFailedCondition,
    "error_rate": ErrorRateCondition,
    "low_throughput": LowThroughputCondition,
    "long_run": LongRunCondition,
    "no_run_since": NoRunSinceCondition,
    "disk_space": DiskSpaceCondition,
}


def parse_condition(alert_type: str, condition: dict[str, Any]) -> _Strict:
    """The condition as its type's model (raises pydantic's `ValidationError`)."""
    return CONDITIONS[alert_type].model_validate(condition)


class WebhookChannel(_Strict):
    """An HTTP POST of the alert as JSON, in the shape a chat tool's robot expects."""

    type: Literal["webhook"] = "webhook"
    url: str = Field(min_length=8, max_length=2000)
    """`http://` or `https://`; for DingTalk and WeCom the robot URL with its token or key."""
    format: WebhookFormat = "generic"
    """`generic` (the alert's fields), `slack`, `dingtalk`, `wecom` or `feishu`."""
    secret: str | None = None
    """The signing secret of a DingTalk (`SEC…`) or Feishu robot with signatures on."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra request headers (an `Authorization` for a generic receiver)."""

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value


class EmailChannel(_Strict):
    """A plain-text e-mail through an SMTP server."""

    type: Literal["email"]
    to: list[str] = Field(min_length=1)
    """Recipients."""
    sender: str = Field(min_length=3)
    """The `From` address."""
    smtp_host: str = Field(min_length=1)
    smtp_port: int = Field(default=25, ge=1, le=65535)
    security: Literal["none", "starttls", "ssl"] = "none"
    """`starttls` (usually port 587) or `ssl` (port 465) encrypt the connection."""
    username: str | None = None
    password: str | None = None
    """Stored as given, never returned (`********`)."""

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address:
                raise ValueError(f"`{address}` is not an e-mail address")
        return value


Channel = Annotated[WebhookChannel | EmailChannel, Field(discriminator="type")]


class AlertAction(_Strict):
    """Where an alert goes and how often."""

    channels: list[Channel] = Field(min_length=1)
    cooldown_minutes: float = Field(default=30.0, ge=0, le=10080)
    """After a notification for a subject, no other for it (a new firing, or a reminder
    that it still fires) for this long; a resolution is always sent. 0: every new firing
    is sent, and no reminders."""
    notify_resolved: bool = True
    """Also send a message when the condition no longer holds."""


def masked_action(action: dict[str, Any]) -> dict[str, Any]:
    """The stored action with every secret replaced by the mask."""
    channels = []
    for channel in action.get("channels", []):
        shown = dict(channel)
        for name in ("secret", "password"):
            if shown.get(name) is not None:
                shown[name] = MASK
        channels.append(shown)
    return {**action, "channels": channels}


def unmask_action(action: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """Secrets sent back as the mask keep the stored value of the same channel (by position)."""
    old = stored.get("channels", [])
    channels = []
    for index, channel in enumerate(action.get("channels", [])):
        kept = dict(channel)
        for name in ("secret", "password"):
            if kept.get(name) == MASK:
                previous = old[index].get(name) if index < len(old) else None
                if previous is None:
                    raise InvalidRequestError(
                        f"`action.channels.{index}.{name}` is the mask `{MASK}`, but that "
                        "channel has no stored secret.",
                        field=f"action.channels.{index}.{name}",
                        hint="Send the real value.",
                    )
                kept[name] = previous
        channels.append(kept)
    return {**action, "channels": channels}
