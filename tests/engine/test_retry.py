"""The retry policy: backoff delays, only transient errors retried, a clear give-up message."""

from __future__ import annotations

import asyncio

import pytest

from fustgo.engine.errors import DataError, RetryableError, TerminalError
from fustgo.engine.retry import backoff_delays, retry_async
from fustgo.engine.settings import RetryPolicy

pytestmark = pytest.mark.unit


def test_backoff_is_exponential_and_capped() -> None:
    policy = RetryPolicy(max_retries=6, initial_delay=1, max_delay=10, backoff_multiplier=2)
    assert backoff_delays(policy) == [1, 2, 4, 8, 10, 10]
    assert backoff_delays(RetryPolicy(max_retries=0)) == []


def run_with(failures: list[Exception], policy: RetryPolicy) -> tuple[object, list[float]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def operation() -> str:
        if failures:
            raise failures.pop(0)
        return "ok"

    result = asyncio.run(retry_async(operation, policy, what="writing to `output`", sleep=sleep))
    return result, slept


def test_transient_errors_are_retried_with_backoff() -> None:
    policy = RetryPolicy(max_retries=3, initial_delay=0.5, backoff_multiplier=3)
    result, slept = run_with([RetryableError("a"), RetryableError("b")], policy)
    assert result == "ok"
    assert slept == [0.5, 1.5]


def test_retry_after_is_honoured() -> None:
    policy = RetryPolicy(max_retries=1, initial_delay=0.1)
    _, slept = run_with([RetryableError("slow down", retry_after_seconds=7)], policy)
    assert slept == [7]


def test_gives_up_with_the_attempt_count() -> None:
    policy = RetryPolicy(max_retries=2, initial_delay=0.01)
    with pytest.raises(TerminalError, match=r"Gave up writing to `output` after 3 attempts: c"):
        run_with([RetryableError("a"), RetryableError("b"), RetryableError("c")], policy)


def test_other_errors_are_not_retried() -> None:
    policy = RetryPolicy(max_retries=5, initial_delay=0.01)
    with pytest.raises(DataError):
        run_with([DataError("bad row")], policy)
