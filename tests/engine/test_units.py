"""Durations and sizes as users write them."""

from __future__ import annotations

import pytest

from fustgo.engine.units import parse_byte_size, parse_duration

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(5, 5.0), (0.5, 0.5), ("500ms", 0.5), ("30s", 30.0), ("1m30s", 90.0), ("2h", 7200.0),
     ("1d", 86400.0), ("2.5", 2.5)],
)  # fmt: skip
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "5 parsecs", "-1", -3, True, "1m x"])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "size"),
    [(1024, 1024), ("64MiB", 64 * 1024**2), ("10MB", 10_000_000), ("1.5GiB", 1_610_612_736),
     ("512k", 512_000), ("7", 7)],
)  # fmt: skip
def test_sizes(text: object, size: int) -> None:
    assert parse_byte_size(text) == size


@pytest.mark.parametrize("text", ["big", "10 XB", -1, False])
def test_bad_sizes(text: object) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_byte_size(text)
