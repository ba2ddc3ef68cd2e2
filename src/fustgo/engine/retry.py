"""The one retry policy: exponential backoff on `RetryableError`, nothing else retried."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.engine.settings import RetryPolicy

T = TypeVar("T")
log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


def backoff_delays(policy: RetryPolicy) -> list[float]:
    """The waits before each retry: initial, ×multiplier, … capped at max_delay."""
    delays, delay = [], policy.initial_delay
    for _ in range(policy.max_retries):
        delays.append(min(delay, policy.max_delay))
        delay *= policy.backoff_multiplier
    return delays


async def retry_async(
    operation: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    what: str,
    sleep: Sleep = asyncio.sleep,
    on_retry: Callable[[int, RetryableError], None] | None = None,
) -> T:
    """Run `operation`, retrying transient failures with backoff.

    `what` names the operation for messages ("writing to `output`"). After the last retry
    the transient error becomes a `TerminalError` that says how often it was tried.
    """
    delays = backoff_delays(policy)
    attempt = 0
    while True:
        try:
            return await operation()
        except RetryableError as exc:
            if attempt >= len(delays):
                raise TerminalError(f"Gave up {what} after {attempt + 1} attempts: {exc}") from exc
            delay = delays[attempt]
            if exc.retry_after_seconds is not None:
                delay = max(delay, exc.retry_after_seconds)
            attempt += 1
            log.warning(
                "Transient error %s (attempt %d of %d), retrying in %.1fs: %s",
                what, attempt, len(delays) + 1, delay, exc,
            )  # fmt: skip
            if on_retry is not None:
                on_retry(attempt, exc)
            await sleep(delay)
