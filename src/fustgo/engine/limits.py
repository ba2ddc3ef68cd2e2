"""Speed limits (records/s, bytes/s) shared by every channel of a run: a token bucket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class SpeedLimiter:
    """Paces reads to at most `records_per_sec` and `bytes_per_sec` (0 = unlimited).

    Callers report what they just read; the limiter sleeps long enough that the average
    rate since the start never exceeds the limit, with a one-second burst allowance.
    """

    def __init__(
        self,
        records_per_sec: float = 0,
        bytes_per_sec: float = 0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self.records_per_sec = records_per_sec
        self.bytes_per_sec = bytes_per_sec
        self.throttled_seconds = 0.0
        self._records = 0.0
        self._bytes = 0.0
        self._started: float | None = None
        self._lock = asyncio.Lock()

    @property
    def enabled(self) -> bool:
        return self.records_per_sec > 0 or self.bytes_per_sec > 0

    async def consume(self, records: int, nbytes: int) -> None:
        """Account for one batch, sleeping if it would push the rate over a limit."""
        if not self.enabled:
            return
        async with self._lock:
            now = self._clock()
            if self._started is None:
                self._started = now - 1.0  # one second of burst before pacing starts
            self._records += records
            self._bytes += nbytes
            due = 0.0
            if self.records_per_sec > 0:
                due = max(due, self._records / self.records_per_sec)
            if self.bytes_per_sec > 0:
                due = max(due, self._bytes / self.bytes_per_sec)
            delay = self._started + due - now
            if delay > 0:
                self.throttled_seconds += delay
                await self._sleep(delay)
