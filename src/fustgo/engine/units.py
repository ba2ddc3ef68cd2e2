"""Durations and byte sizes as users write them in YAML (`30s`, `1m30s`, `64MiB`).

Both are pydantic-annotated floats/ints, so every config model that uses them accepts plain
numbers too (seconds, bytes) and exports a JSON Schema that admits either spelling.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)", re.IGNORECASE)
_DURATION_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}

_BYTES = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)\s*$", re.IGNORECASE)
_BYTE_FACTORS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "kib": 1024, "ki": 1024,
    "m": 1000**2, "mb": 1000**2, "mib": 1024**2, "mi": 1024**2,
    "g": 1000**3, "gb": 1000**3, "gib": 1024**3, "gi": 1024**3,
    "t": 1000**4, "tb": 1000**4, "tib": 1024**4, "ti": 1024**4,
}  # fmt: skip


def parse_duration(value: Any) -> float:
    """Seconds from `1.5`, `"500ms"`, `"30s"`, `"1m30s"`, `"2h"`."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string like `30s`")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if not isinstance(value, str):
        raise ValueError("a duration is a number of seconds or a string like `30s`")
    text = value.strip().replace(" ", "")
    total, pos = 0.0, 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _DURATION_SECONDS[match.group(2).lower()]
        pos = match.end()
    if pos != len(text) or not text:
        try:
            return parse_duration(float(text))
        except ValueError:
            raise ValueError(
                f"`{value}` is not a duration; write e.g. `500ms`, `30s`, `5m` or `1h`"
            ) from None
    return total


def parse_byte_size(value: Any) -> int:
    """Bytes from `1048576`, `"64MiB"`, `"10MB"`, `"1.5GiB"`."""
    if isinstance(value, bool):
        raise ValueError("a size is a number of bytes or a string like `64MiB`")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a size cannot be negative")
        return int(value)
    if isinstance(value, str):
        match = _BYTES.match(value)
        if match and match.group(2).lower() in _BYTE_FACTORS:
            return int(float(match.group(1)) * _BYTE_FACTORS[match.group(2).lower()])
    raise ValueError(f"`{value}` is not a size; write e.g. `512KiB`, `64MiB` or `1GB`")


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": r"^(\d+(\.\d+)?\s*(ms|s|m|h|d))+$"},
            ],
            "x-unit": "duration",
        }
    ),
]
"""Seconds; YAML may say `30s`, `5m`, `500ms` or a number of seconds."""

ByteSize = Annotated[
    int,
    BeforeValidator(parse_byte_size),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": r"^\d+(\.\d+)?\s*([kKmMgGtT]i?)?[bB]?$"},
            ],
            "x-unit": "bytes",
        }
    ),
]
"""Bytes; YAML may say `64MiB`, `10MB` or a number of bytes."""
