"""Speed limits: the limiter sleeps exactly enough to keep the average under the limit."""

from __future__ import annotations

import asyncio

import pytest

from fustgo.engine.limits import SpeedLimiter

pytestmark = pytest.mark.unit


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(
    ("records_per_sec", "bytes_per_sec", "expected_seconds"),
    [(1_000, 0, 9.0), (0, 500, 19.0), (1_000, 500, 19.0), (0, 0, 0.0)],
)
def test_pacing(records_per_sec: int, bytes_per_sec: int, expected_seconds: float) -> None:
    clock = FakeClock()
    limiter = SpeedLimiter(records_per_sec, bytes_per_sec, clock=clock, sleep=clock.sleep)

    async def go() -> None:
        for _ in range(10):  # 10,000 records and 10,000 bytes, read instantly
            await limiter.consume(1_000, 1_000)

    asyncio.run(go())
    # One second of burst is free; the rest is paced.
    assert sum(clock.slept) == pytest.approx(expected_seconds)
    assert limiter.throttled_seconds == pytest.approx(expected_seconds)


def test_slow_source_is_not_throttled() -> None:
    clock = FakeClock()
    limiter = SpeedLimiter(1_000, clock=clock, sleep=clock.sleep)

    async def go() -> None:
        for _ in range(5):
            await limiter.consume(500, 0)
            clock.now += 1.0  # the source itself only delivers 500 records/s

    asyncio.run(go())
    assert clock.slept == []
