"""The bounded channel: capacity by records and bytes, FIFO order, waits, close."""

from __future__ import annotations

import asyncio

import pytest

from fustgo.engine.channel import BoundedChannel, ChannelClosed

pytestmark = pytest.mark.unit


def test_fifo_and_close_drains_then_ends() -> None:
    async def go() -> list[int]:
        channel: BoundedChannel[int] = BoundedChannel(100, 1_000)
        for i in range(5):
            await channel.put(i, 1, 10)
        await channel.close()
        got = []
        while True:
            try:
                got.append(await channel.get())
            except ChannelClosed:
                return got

    assert asyncio.run(go()) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(("records", "nbytes", "limit"), [(10, 1, "records"), (1, 100, "bytes")])
def test_producer_waits_when_full(records: int, nbytes: int, limit: str) -> None:
    async def go() -> tuple[bool, int]:
        channel: BoundedChannel[str] = BoundedChannel(capacity_records=15, capacity_bytes=150)
        await channel.put("a", records, nbytes)
        blocked = asyncio.create_task(channel.put("b", records, nbytes))
        await asyncio.sleep(0.01)
        was_blocked = not blocked.done()
        assert await channel.get() == "a"
        await asyncio.wait_for(blocked, 1)
        return was_blocked, len(channel)

    was_blocked, length = asyncio.run(go())
    assert was_blocked, f"a full channel ({limit}) must make the producer wait"
    assert length == 1


def test_oversize_item_passes_when_empty() -> None:
    async def go() -> str:
        channel: BoundedChannel[str] = BoundedChannel(capacity_records=10, capacity_bytes=10)
        await asyncio.wait_for(channel.put("huge", 1_000, 10_000), 1)
        return await channel.get()

    assert asyncio.run(go()) == "huge"


def test_waits_are_timed() -> None:
    async def go() -> BoundedChannel[int]:
        channel: BoundedChannel[int] = BoundedChannel(1, 1_000)
        consumer = asyncio.create_task(channel.get())
        await asyncio.sleep(0.02)
        await channel.put(1, 1, 1)
        await consumer
        return channel

    channel = asyncio.run(go())
    assert channel.waits.consumer_waited_seconds >= 0.015
    assert channel.waits.producers_waited_seconds == 0


def test_put_after_close_fails() -> None:
    async def go() -> None:
        channel: BoundedChannel[int] = BoundedChannel(1, 1)
        await channel.close()
        await channel.put(1, 1, 1)

    with pytest.raises(ChannelClosed):
        asyncio.run(go())
