"""Where each key and value of a loaded document came from (file, line, column).

The loader records a `Position` for every key and every value it reads, indexed by the
value's location in the document (`("pipeline", "processors", 1, "condition")`), so any
later finding can point at the exact spot, even inside an included file or an override.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

Loc = tuple[str | int, ...]
"""A location in the document: mapping keys and sequence indexes from the root."""

_KEY = r"[^.\[\]=]+"
_PATH = re.compile(rf"{_KEY}(?:\.{_KEY}|\[\d+\])*")
_PART = re.compile(rf"(?P<key>{_KEY})|\[(?P<index>\d+)\]")


def format_loc(loc: Loc) -> str:
    """The dotted spelling users see: `pipeline.processors[1].condition`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def parse_loc(text: str) -> Loc | None:
    """The location a dotted path names (`input.paths[0]`), or None if it is not one."""
    if not _PATH.fullmatch(text):
        return None
    return tuple(
        int(match["index"]) if match["index"] is not None else match["key"].strip()
        for match in _PART.finditer(text)
    )


def is_within(loc: Loc, ancestor: Loc) -> bool:
    """True when `loc` is `ancestor` or lies inside it."""
    return loc[: len(ancestor)] == ancestor


@dataclass(frozen=True)
class Position:
    """A spot in a source; `line` and `column` are 1-based, absent for `--set` overrides."""

    file: str
    line: int | None = None
    column: int | None = None


@dataclass
class SourceMap:
    """Positions of every key and value, and the text of every file that was read."""

    values: dict[Loc, Position] = field(default_factory=dict)
    keys: dict[Loc, Position] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    """File text by the name diagnostics use, to quote the offending line."""

    def value_position(self, loc: Loc) -> Position | None:
        """Where the value at `loc` is written, or its nearest recorded ancestor."""
        for end in range(len(loc), -1, -1):
            position = self.values.get(loc[:end])
            if position is not None:
                return position
        return None

    def key_position(self, loc: Loc) -> Position | None:
        """Where the key naming `loc` is written (the value's spot for sequence items)."""
        return self.keys.get(loc) or self.value_position(loc)

    def forget(self, loc: Loc) -> None:
        """Drop the positions at and below `loc` (its value is being replaced)."""
        for index in (self.values, self.keys):
            for known in [known for known in index if is_within(known, loc)]:
                del index[known]
