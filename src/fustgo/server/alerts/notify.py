"""Delivering an alert: the payload shapes of chat robots, webhooks over HTTP, e-mail.

Webhook formats follow each tool's documented custom-robot message:
- `slack` (incoming webhook): `{"text", "blocks": [section with mrkdwn]}`;
- `dingtalk` (custom robot): `{"msgtype": "markdown", "markdown": {"title", "text"}}`; with
  a `secret`, `timestamp` (ms) and `sign` = base64(HMAC-SHA256(key=secret,
  msg="{timestamp}\\n{secret}")) go in the query string;
- `wecom` (group robot): `{"msgtype": "markdown", "markdown": {"content"}}`;
- `feishu` (custom bot): `{"msg_type": "text", "content": {"text"}}`; with a `secret`,
  `timestamp` (s) and `sign` = base64(HMAC-SHA256(key="{timestamp}\\n{secret}", msg=""))
  go in the body;
- `generic`: the notification's own fields.
The robots answer HTTP 200 with an error code in the body when they refuse a message
(`errcode` for DingTalk and WeCom, `code` for Feishu): that counts as a failed delivery.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx

from fustgo.server.alerts.rules import EmailChannel, WebhookChannel

TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Notification:
    """One message about one subject of one rule."""

    alert_id: str
    alert_name: str
    alert_type: str
    subject: str
    status: str
    """`firing`, `resolved`, or `test`."""
    message: str
    started_at: datetime
    at: datetime
    resolved_at: datetime | None = None

    @property
    def title(self) -> str:
        return f"[FustGo] {self.status.upper()}: {self.alert_name}"

    def lines(self) -> list[str]:
        lines = [
            self.message,
            f"Rule: {self.alert_name} ({self.alert_type}); subject: {self.subject}",
            f"Since: {self.started_at.isoformat(timespec='seconds')}",
        ]
        if self.resolved_at is not None:
            lines.append(f"Resolved: {self.resolved_at.isoformat(timespec='seconds')}")
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "alert_name": self.alert_name,
            "alert_type": self.alert_type,
            "subject": self.subject,
            "status": self.status,
            "message": self.message,
            "started_at": self.started_at.isoformat(),
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
            "at": self.at.isoformat(),
            "title": self.title,
        }


def _hmac_b64(key: str, message: str) -> str:
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def webhook_request(
    channel: WebhookChannel, notification: Notification
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The URL, query parameters and JSON body of `notification` for the channel's format."""
    text = "\n".join(notification.lines())
    params: dict[str, str] = {}
    body: dict[str, Any]
    if channel.format == "slack":
        body = {
            "text": f"{notification.title}\n{text}",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": notification.title}},
                {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            ],
        }
    elif channel.format == "dingtalk":
        body = {
            "msgtype": "markdown",
            "markdown": {
                "title": notification.title,
                "text": f"#### {notification.title}\n\n" + "\n\n".join(notification.lines()),
            },
        }
        if channel.secret:
            timestamp = str(int(notification.at.timestamp() * 1000))
            params = {
                "timestamp": timestamp,
                "sign": _hmac_b64(channel.secret, f"{timestamp}\n{channel.secret}"),
            }
    elif channel.format == "wecom":
        body = {
            "msgtype": "markdown",
            "markdown": {"content": f"### {notification.title}\n" + text},
        }
    elif channel.format == "feishu":
        body = {"msg_type": "text", "content": {"text": f"{notification.title}\n{text}"}}
        if channel.secret:
            timestamp = str(int(notification.at.timestamp()))
            body = {
                "timestamp": timestamp,
                "sign": _hmac_b64(f"{timestamp}\n{channel.secret}", ""),
                **body,
            }
    else:
        body = notification.to_json()
    return channel.url, params, body


def describe(channel: WebhookChannel | EmailChannel) -> str:
    """A channel named without its secrets (robot URLs carry tokens in their query)."""
    if isinstance(channel, EmailChannel):
        return f"email to {', '.join(channel.to)}"
    parts = urlsplit(channel.url)
    return f"{channel.format} webhook {parts.scheme}://{parts.netloc}{parts.path}"


async def send_webhook(
    client: httpx.AsyncClient, channel: WebhookChannel, notification: Notification
) -> None:
    """POST it; raises `RuntimeError` with the reason when it was not accepted."""
    url, params, body = webhook_request(channel, notification)
    try:
        # merged: httpx's `params=` would replace the robot's own `access_token`/`key`
        target = httpx.URL(url).copy_merge_params(params)
        response = await client.post(
            target, json=body, headers=channel.headers, timeout=TIMEOUT_SECONDS
        )
    except httpx.HTTPError as exc:
        raise RuntimeError(f"{type(exc).__name__}: {exc}") from exc
    if response.status_code >= 300:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
    if channel.format in ("dingtalk", "wecom", "feishu"):
        try:
            answer = response.json()
        except ValueError:
            return
        code = answer.get("errcode", answer.get("code", 0)) if isinstance(answer, dict) else 0
        if code not in (0, None):
            reason = answer.get("errmsg") or answer.get("msg") or "refused"
            raise RuntimeError(f"the robot answered code {code}: {reason}")


def send_email(channel: EmailChannel, notification: Notification) -> None:
    """Send it through the channel's SMTP server (blocking: run in a thread)."""
    message = EmailMessage()
    message["Subject"] = notification.title
    message["From"] = channel.sender
    message["To"] = ", ".join(channel.to)
    message.set_content("\n".join(notification.lines()) + "\n")
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if channel.security == "ssl":
        smtp = smtplib.SMTP_SSL(
            channel.smtp_host, channel.smtp_port, timeout=TIMEOUT_SECONDS, context=context
        )
    else:
        smtp = smtplib.SMTP(channel.smtp_host, channel.smtp_port, timeout=TIMEOUT_SECONDS)
    with smtp:
        if channel.security == "starttls":
            smtp.starttls(context=context)
        if channel.username:
            smtp.login(channel.username, channel.password or "")
        smtp.send_message(message)


async def deliver(
    channels: list[WebhookChannel | EmailChannel],
    notification: Notification,
    client: httpx.AsyncClient,
) -> list[dict[str, Any]]:
    """Send to every channel at once; one result per channel: `{channel, ok, error}`."""

    async def one(channel: WebhookChannel | EmailChannel) -> dict[str, Any]:
        try:
            if isinstance(channel, EmailChannel):
                await asyncio.to_thread(send_email, channel, notification)
            else:
                await send_webhook(client, channel, notification)
        except (RuntimeError, OSError, smtplib.SMTPException) as exc:
            return {"channel": describe(channel), "ok": False, "error": str(exc) or repr(exc)}
        return {"channel": describe(channel), "ok": True, "error": None}

    return list(await asyncio.gather(*(one(channel) for channel in channels)))
