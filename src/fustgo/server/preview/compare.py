"""Source columns against target columns (design doc §6.5 "Schema 对比").

Columns are paired by name (any case); the rest get mapping suggestions by similar names
(`name` → `username`, `created_at` → `create_time`), and each pair is judged on the
logical types FustGo reads and writes plus what the declared types add (lengths):

- `compatible`: every value fits (`int` → `bigint`, `datetime` → `timestamp`);
- `warning`: values may not fit or lose something (`varchar(100)` → `varchar(50)`,
  `numeric(12,2)` → `numeric(10,2)`, `timestamptz` → `timestamp`, `bigint` → `int`);
- `incompatible`: no value converts (`bytea` → `integer`);
- `missing_in_target` / `missing_in_source`: the column is on one side only.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any, Literal

from fustgo.engine.types import FLOAT_KINDS, INTEGER_KINDS, LogicalType

Status = Literal["compatible", "warning", "incompatible", "missing_in_target", "missing_in_source"]
SUGGESTION_CUTOFF = 0.6

_LENGTH = re.compile(
    r"^\s*(?:national\s+)?(?:n?varchar|n?char|character(?:\s+varying)?|varbinary|binary|"
    r"bit\s+varying|varbit|string)\s*\(\s*(\d+)\s*\)",
    re.IGNORECASE,
)
_INTEGER_RANGE = {
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint8": (0, 2**8 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
}
_INTEGER_DIGITS = {kind: len(str(high)) for kind, (_, high) in _INTEGER_RANGE.items()}
_FLOAT_EXACT_INTEGER_BITS = {"float32": 24, "float64": 53}


@dataclass(frozen=True)
class Column:
    """A column of either side: its name, the database's type, FustGo's logical type."""

    name: str
    declared: str | None
    logical: LogicalType | None
    nullable: bool = True
    has_default: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.declared or (str(self.logical) if self.logical else None),
            "logical": str(self.logical) if self.logical else None,
            "nullable": self.nullable,
        }


def compare(source: list[Column], target: list[Column]) -> dict[str, Any]:
    """The comparison table, in source order then the target's extra columns, and counts."""
    targets = {column.name.lower(): column for column in target}
    paired: dict[str, Column] = {}
    for column in source:
        match = targets.get(column.name.lower())
        if match is not None:
            paired[column.name] = match
    unmatched_source = [c for c in source if c.name not in paired]
    used = {c.name for c in paired.values()}
    unmatched_target = [c for c in target if c.name not in used]
    suggested = suggest(unmatched_source, unmatched_target)

    rows: list[dict[str, Any]] = []
    for column in source:
        if column.name in paired:
            rows.append(_row(column, paired[column.name], "name"))
        elif column.name in suggested:
            rows.append(_row(column, suggested[column.name], "suggested"))
        else:
            rows.append(
                {
                    "source": column.to_json(),
                    "target": None,
                    "match": None,
                    "status": "missing_in_target",
                    "messages": [f"`{column.name}` is not a column of the target"],
                }
            )
    suggested_targets = {c.name for c in suggested.values()}
    for column in unmatched_target:
        if column.name in suggested_targets:
            continue
        required = not column.nullable and not column.has_default
        message = (
            f"`{column.name}` is NOT NULL without a default: rows without it are refused"
            if required
            else f"`{column.name}` gets NULL or its default"
        )
        rows.append(
            {
                "source": None,
                "target": column.to_json(),
                "match": None,
                "status": "missing_in_source",
                "messages": [message],
            }
        )
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return {
        "columns": rows,
        "counts": counts,
        "mapping": {name: column.name for name, column in suggested.items()},
    }


def suggest(source: list[Column], target: list[Column]) -> dict[str, Column]:
    """Source name → the target column it most likely maps to, each used at most once."""
    scored = sorted(
        (
            (similarity(s.name, t.name), index, s.name, t)
            for index, s in enumerate(source)
            for t in target
        ),
        key=lambda item: (-item[0], item[1]),
    )
    chosen: dict[str, Column] = {}
    taken: set[str] = set()
    for score, _index, name, column in scored:
        if score < SUGGESTION_CUTOFF or name in chosen or column.name in taken:
            continue
        chosen[name] = column
        taken.add(column.name)
    return chosen


def similarity(left: str, right: str) -> float:
    """How alike two column names are (0..1): letters compared without case and
    separators, and a name that contains the other (`name` in `username`) scores high."""
    a, b = _letters(left), _letters(right)
    if not a or not b:
        return 0.0
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    if a in b or b in a:
        ratio = max(ratio, 0.75)
    words_a, words_b = _stems(left), _stems(right)
    if words_a and words_a == words_b:
        ratio = max(ratio, 0.9)
    elif words_a & words_b:
        share = len(words_a & words_b) / len(words_a | words_b)
        ratio = max(ratio, 0.5 + share / 2 if share >= 0.5 else ratio)
    return round(ratio, 3)


_SYNONYMS = {"at": "time", "ts": "time", "timestamp": "time", "date": "time", "dt": "time"}


def _letters(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _stems(name: str) -> set[str]:
    words = re.findall(r"[a-z]+|\d+", re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower())
    stems = set()
    for word in words:
        stem = _SYNONYMS.get(word, word)
        for suffix in ("s", "ed", "e"):  # created, create → creat; orders → order
            if len(stem) > 4 and stem.endswith(suffix):
                stem = stem[:-1]
        stems.add(stem)
    return stems


def _row(source: Column, target: Column, match: str) -> dict[str, Any]:
    status, messages = judge(source, target)
    if match == "suggested":
        messages.insert(0, f"suggested mapping: `{source.name}` → `{target.name}`")
    return {
        "source": source.to_json(),
        "target": target.to_json(),
        "match": match,
        "status": status,
        "messages": messages,
    }


def judge(source: Column, target: Column) -> tuple[Status, list[str]]:
    """Whether values of `source` fit `target`, and why not."""
    messages: list[str] = []
    status: Status = "compatible"
    s, t = source.logical, target.logical
    if s is None or t is None:
        messages.append("type decided by the values (SQLite column without a type)")
    else:
        status, found = _types(s, t, source, target)
        messages.extend(found)
    if source.nullable and not target.nullable and status != "incompatible":
        status = "warning" if status == "compatible" else status
        messages.append("the source allows NULL but the target column is NOT NULL")
    return status, messages


def _types(
    s: LogicalType, t: LogicalType, source: Column, target: Column
) -> tuple[Status, list[str]]:
    names = f"{_spelled(source)} → {_spelled(target)}"
    if s.kind in INTEGER_KINDS and t.kind in INTEGER_KINDS:
        low, high = _INTEGER_RANGE[s.kind]
        t_low, t_high = _INTEGER_RANGE[t.kind]
        if t_low <= low and high <= t_high:
            return "compatible", []
        return "warning", [f"range mismatch: {names} may overflow"]
    if s.kind in INTEGER_KINDS and t.kind in FLOAT_KINDS:
        if _INTEGER_DIGITS[s.kind] <= len(str(2 ** _FLOAT_EXACT_INTEGER_BITS[t.kind])) - 1:
            return "compatible", []
        return "warning", [f"precision mismatch: {names} rounds large integers"]
    if s.kind in INTEGER_KINDS and t.kind == "decimal":
        assert t.precision is not None and t.scale is not None
        if t.precision - t.scale >= _INTEGER_DIGITS[s.kind]:
            return "compatible", []
        return "warning", [f"precision mismatch: {names} may overflow"]
    if s.kind in FLOAT_KINDS and t.kind in FLOAT_KINDS:
        if t.kind in {s.kind, "float64"}:
            return "compatible", []
        return "warning", [f"precision mismatch: {names} rounds"]
    if s.kind == "decimal" and t.kind == "decimal":
        return _decimals(s, t, names)
    if s.kind in (*INTEGER_KINDS, *FLOAT_KINDS, "decimal") and t.kind in (
        *INTEGER_KINDS,
        *FLOAT_KINDS,
        "decimal",
    ):
        return "warning", [f"precision mismatch: {names} may round or overflow"]
    if s.kind == "timestamp" and t.kind == "timestamp":
        if bool(s.timezone) == bool(t.timezone):
            return "compatible", []
        if s.timezone:
            return "warning", [f"time zone dropped: {names} keeps the UTC wall time"]
        return "warning", [f"time zone added: {names} reads the values as UTC"]
    if s.kind == "date" and t.kind == "timestamp":
        return "compatible", []
    if s.kind == "timestamp" and t.kind == "date":
        return "warning", [f"{names} drops the time of day"]
    if t.kind in ("string", "json") and s.kind in ("string", "json"):
        return _lengths(source, target, names)
    if s.kind == t.kind:
        if s.kind == "binary":
            return _lengths(source, target, names)
        if s.kind in ("list", "struct") and s != t:
            return "warning", [f"nested types differ: {names}"]
        return "compatible", []
    if t.kind == "string":
        _, messages = _lengths(source, target, names)
        return "warning", [f"{names}: values are written as text", *messages]
    if s.kind == "string":
        return "warning", [f"{names}: every value must parse as {t}"]
    if s.kind == "bool" and t.kind in INTEGER_KINDS:
        return "warning", [f"{names}: true/false become 1/0"]
    return "incompatible", [f"{names}: no value converts"]


def _decimals(s: LogicalType, t: LogicalType, names: str) -> tuple[Status, list[str]]:
    assert s.precision is not None and s.scale is not None
    assert t.precision is not None and t.scale is not None
    messages = []
    if t.precision - t.scale < s.precision - s.scale:
        messages.append(f"precision mismatch: {names} may overflow")
    if t.scale < s.scale:
        messages.append(f"scale mismatch: {names} rounds to {t.scale} decimals")
    return ("warning" if messages else "compatible"), messages


def _lengths(source: Column, target: Column, names: str) -> tuple[Status, list[str]]:
    target_length = declared_length(target.declared)
    if target_length is None:
        return "compatible", []
    source_length = declared_length(source.declared)
    if source_length is None:
        return "warning", [f"length mismatch: {names}: longer values are refused or cut"]
    if source_length > target_length:
        return "warning", [f"length mismatch: {names}: longer values are refused or cut"]
    return "compatible", []


def declared_length(declared: str | None) -> int | None:
    """The `n` of `varchar(n)`, `character varying(n)`, `char(n)`, `varbinary(n)`."""
    if not declared:
        return None
    match = _LENGTH.match(declared)
    return int(match.group(1)) if match else None


def _spelled(column: Column) -> str:
    return column.declared or (str(column.logical) if column.logical else "untyped")
