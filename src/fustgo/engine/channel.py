"""The bounded channel between stages: backpressure by records and by bytes.

A full channel makes the producer wait; an empty one makes the consumer wait. Both waits
are timed, because their totals tell the user where the bottleneck is: a writer that waits
on the reader means the source is slow; readers that wait on the writer mean the target is.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class ChannelWaits:
    """Seconds spent blocked on a channel, summed over every producer and consumer."""

    producers_waited_seconds: float = 0.0
    consumer_waited_seconds: float = 0.0


class ChannelClosed(Exception):
    """Raised by `get` once the channel is closed and drained."""


class BoundedChannel(Generic[T]):
    """A FIFO bounded by a record count and a byte count, whichever is reached first.

    One item larger than the whole capacity is still let through when the channel is empty,
    so an oversize batch slows the pipeline down instead of deadlocking it.
    """

    def __init__(self, capacity_records: int, capacity_bytes: int) -> None:
        self.capacity_records = capacity_records
        self.capacity_bytes = capacity_bytes
        self.waits = ChannelWaits()
        self._items: deque[tuple[T, int, int]] = deque()
        self._records = 0
        self._bytes = 0
        self._closed = False
        self._changed = asyncio.Condition()

    @property
    def records(self) -> int:
        return self._records

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def _has_room(self, records: int, nbytes: int) -> bool:
        if not self._items:
            return True
        return (
            self._records + records <= self.capacity_records
            and self._bytes + nbytes <= self.capacity_bytes
        )

    async def put(self, item: T, records: int, nbytes: int) -> None:
        """Add an item, waiting while the channel is full."""
        async with self._changed:
            if self._closed:
                raise ChannelClosed("The channel is closed.")
            if not self._has_room(records, nbytes):
                started = time.perf_counter()
                try:
                    await self._changed.wait_for(
                        lambda: self._closed or self._has_room(records, nbytes)
                    )
                finally:
                    self.waits.producers_waited_seconds += time.perf_counter() - started
                if self._closed:
                    raise ChannelClosed("The channel is closed.")
            self._items.append((item, records, nbytes))
            self._records += records
            self._bytes += nbytes
            self._changed.notify_all()

    async def get(self) -> T:
        """Take the oldest item, waiting while the channel is empty; `ChannelClosed` at the end."""
        async with self._changed:
            if not self._items and not self._closed:
                started = time.perf_counter()
                try:
                    await self._changed.wait_for(lambda: bool(self._items) or self._closed)
                finally:  # also when a timeout cancels the wait
                    self.waits.consumer_waited_seconds += time.perf_counter() - started
            if not self._items:
                raise ChannelClosed("The channel is closed and empty.")
            item, records, nbytes = self._items.popleft()
            self._records -= records
            self._bytes -= nbytes
            self._changed.notify_all()
            return item

    async def close(self) -> None:
        """No more puts; `get` drains what is left, then raises `ChannelClosed`."""
        async with self._changed:
            self._closed = True
            self._changed.notify_all()
