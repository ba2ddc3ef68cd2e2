"""Split-key planning shared by the SQL inputs (DataX `splitPk`, made exact).

A split key cuts a table into contiguous, half-open key ranges `[lo, hi)` plus one split
for NULL keys. Every comparison that decides where a row goes is evaluated by the
database, in the key column's own type and collation: range conditions, the ordering of
boundaries and their deduplication (`GROUP BY` over a `UNION` with the column). So under
a case-insensitive or PAD SPACE collation `'a'`, `'A'` and `'a '` are one value and land
in one range, and no client-side string comparison can disagree with the server.

Boundaries come from one of three places (`SplitOptions.method`):
- `even`: integer keys only; `min..max` cut into `parallelism` equal ranges (DataX).
- `sample`: a bounded sample of the keys, ordered and counted by the server; boundaries
  are its quantiles, so every range holds about the same number of rows whatever the
  skew. Each family samples as cheaply as it can (`KeySampler`).
- `boundaries`: given by the user, ordered and deduplicated by the server.
`auto` (the default) samples string, date and timestamp keys; for an integer key it takes
even ranges when a cheap sample shows they would hold about as many rows each (or when no
cheap sample exists), else the sample's boundaries.

Whatever the boundaries, correctness never depends on them: the first range has no lower
bound, the last none above, so every non-NULL key is in exactly one range even when the
sample missed values or the table changed since. The number of ranges is bounded:
`parallelism` for `even` and `sample`, `BOUNDARY_FACTOR × parallelism` for user-given
boundaries (extra ones are thinned evenly), plus the NULL split.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from logging import Logger
from typing import Any, Literal, Protocol, Self

from pydantic import Field, field_validator, model_validator

from fustgo.engine.batch import JSONValue, Split
from fustgo.engine.errors import TerminalError
from fustgo.plugins.spec import PluginConfig

SAMPLE_ROWS = 10_000
"""Rows a sample aims at: enough for even quantiles at any sane parallelism, and small
enough to order and count at planning time in a few milliseconds."""
SEEK_POINTS = 1_000
"""Index seeks of a seek sample: each is one B-tree descent, so a sample costs milliseconds
whatever the table's size."""
BOUNDARY_FACTOR = 4
"""User-given boundaries make at most this many ranges per unit of parallelism."""
UNIFORM_SLACK = 2.0
"""`auto` keeps even integer ranges while each holds within this factor of a fair share."""

KeyKind = Literal["integer", "string", "date", "timestamp", "uuid"]
SUPPORTED = "an integer, string (char/varchar/text), date or timestamp column"

ALL_ROWS = Split(id="all", params={"kind": "all"}, description="all rows")
"""The one split of a read that is not cut by a key."""


class SplitOptions(PluginConfig):
    """How a table is cut into parallel key ranges (`split_key: id` is `split: {key: id}`)."""

    key: str
    """Column whose values cut the table into ranges: an integer, string, date or
    timestamp column (SQLite also takes `rowid`). Index it so a split reads only its range."""
    method: Literal["auto", "even", "sample"] = "auto"
    """`even`: min..max cut into equal ranges (integer keys only; skewed keys give uneven
    splits). `sample`: boundaries at the quantiles of a bounded sample of the keys.
    `auto`: `sample` for string and date keys; for integer keys `even` when a cheap
    sample shows even ranges would be balanced (or no cheap sample exists), else `sample`."""
    boundaries: list[int | str] | None = Field(default=None, min_length=1)
    """Range boundaries to use instead of computed ones (`[1000, 5000]`, `['g', 'n']`,
    `['2024-01-01', '2024-07-01']`): n boundaries make n + 1 ranges, the first without
    lower and the last without upper bound. The server orders them and drops repeats under
    the column's collation."""

    @field_validator("boundaries", mode="before")
    @classmethod
    def _dates_as_text(cls, value: Any) -> Any:
        """YAML reads `2024-01-01` as a date: boundaries travel as text."""
        if isinstance(value, list):
            return [str(v) if isinstance(v, dt.date) else v for v in value]
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if self.boundaries is not None and self.method != "auto":
            raise ValueError(f"`boundaries` are given: remove `method: {self.method}`")
        return self


@dataclass(frozen=True)
class SplitKey:
    """The split key as planning sees it."""

    name: str
    sql: str
    """How the queries name it (`q."created_at"`)."""
    kind: KeyKind
    nullable: bool
    field: str = "input.query.split_key"
    """The config field messages name."""
    null_description: str = ""
    """What the NULL split holds, when it is more than NULL keys (SQLite)."""


class KeySampler(Protocol):
    """A family's queries for planning: each runs on the server, in the key's collation."""

    key: SplitKey

    def bounds(self) -> tuple[Any, Any]:
        """The smallest and largest non-NULL key (integer keys; (None, None) when none)."""
        ...

    def sample(self, *, forced: bool) -> list[tuple[JSONValue, int]] | None:
        """Distinct sampled keys with their counts, in the column's order. None when only
        an expensive full scan could sample and `forced` is false."""
        ...

    def ordered(self, values: Sequence[JSONValue]) -> list[JSONValue]:
        """`values` as the column's type, ordered and deduplicated by its collation."""
        ...


def unsupported_key(key: SplitKey | str, declared: str, field: str) -> TerminalError:
    """The error for a split key of a type ranges cannot be cut on."""
    name = key.name if isinstance(key, SplitKey) else key
    return TerminalError(
        f"`{field}` `{name}` is `{declared}`, which cannot be split into ranges; split by "
        f"{SUPPORTED}, or leave the split key out to read the table as one split."
    )


def plan_key_splits(
    sampler: KeySampler, options: SplitOptions, parallelism: int, logger: Logger | None = None
) -> list[Split]:
    """The range splits (and NULL split) of `sampler.key`; see the module docstring."""
    key = sampler.key
    parts = max(1, parallelism)
    if options.boundaries is not None:
        given = _given(key, options.boundaries)
        ordered = sampler.ordered(given)
        limit = BOUNDARY_FACTOR * parts - 1
        if len(ordered) > limit:
            if logger is not None:
                logger.info(
                    "%d split boundaries for `%s` make more than %d ranges; using %d of them "
                    "(raise settings.parallelism for more).",
                    len(ordered), key.name, limit + 1, limit,
                )  # fmt: skip
            ordered = thin(ordered, limit)
        return boundary_splits(key, ordered)
    if key.kind != "integer":
        if options.method == "even":
            raise TerminalError(
                f"`{key.field.rsplit('.', 1)[0]}` `method: even` needs an integer key; "
                f"`{key.name}` is a {key.kind} column: use `method: sample` (the default) "
                "or give `boundaries`."
            )
        sample = sampler.sample(forced=True) or []
        return boundary_splits(key, sample_boundaries(sample, parts))
    if options.method == "sample":
        sample = sampler.sample(forced=True) or []
        return boundary_splits(key, sample_boundaries(sample, parts))
    low, high = sampler.bounds()
    if low is None or high is None:  # no key at all: every row is in the NULL split
        return [null_split(key)] if key.nullable else [ALL_ROWS]
    if options.method == "auto" and parts > 1:
        sample = sampler.sample(forced=False)
        if sample and not looks_even(sample, low, high, parts):
            if logger is not None:
                logger.info(
                    "Split key `%s` is skewed (min %s, max %s): ranges from a sample of %d "
                    "keys instead of even ranges.",
                    key.name, low, high, sum(count for _, count in sample),
                )  # fmt: skip
            return boundary_splits(key, sample_boundaries(sample, parts))
    return even_splits(key, low, high, parts)


def _given(key: SplitKey, values: list[int | str]) -> list[JSONValue]:
    if key.kind == "integer":
        wrong = [v for v in values if not isinstance(v, int)]
        if wrong:
            raise TerminalError(
                f"`{key.field.rsplit('.', 1)[0]}.boundaries` holds {wrong!r} but `{key.name}` "
                "is an integer column; give integers."
            )
        return list(values)
    return [str(v) for v in values]


def null_split(key: SplitKey) -> Split:
    return Split(
        id="null-key",
        params={"kind": "null_key"},
        description=key.null_description or f"rows whose {key.name} is NULL",
    )


def even_splits(key: SplitKey, low: float, high: float, parts: int) -> list[Split]:
    """Integer ranges over `low..high` (`key_ranges`), plus the NULL split when nullable."""
    splits = [
        Split(id=f"range-{index}", params=params, description=describe(key.name, params))
        for index, params in enumerate(key_ranges(low, high, parts))
    ]
    return [*splits, null_split(key)] if key.nullable else splits


def boundary_splits(key: SplitKey, boundaries: Sequence[JSONValue]) -> list[Split]:
    """`len(boundaries) + 1` half-open ranges, unbounded at both ends, plus the NULL split."""
    edges: list[JSONValue] = [None, *boundaries, None]
    splits = []
    for index in range(len(edges) - 1):
        params: dict[str, JSONValue] = {
            "kind": "range",
            "lo": edges[index],
            "hi": edges[index + 1],
            "last": False,
        }
        splits.append(
            Split(id=f"range-{index}", params=params, description=describe(key.name, params))
        )
    return [*splits, null_split(key)] if key.nullable else splits


def key_ranges(low: float, high: float, parts: int) -> list[dict[str, JSONValue]]:
    """Split params cutting numeric keys low..high into at most `parts` contiguous ranges.

    Cuts are integers spread evenly over the key range. The first range has no lower
    bound and the last one ends at the maximum, inclusive, so every number from `low` to
    `high` (integer or real) is in exactly one range.
    """
    import math

    if not (math.isfinite(low) and math.isfinite(high)):
        return [{"kind": "range", "lo": None, "hi": high, "last": True}]
    first, final = math.floor(low), math.floor(high)
    span = final - first + 1
    cuts = sorted({first + span * i // parts for i in range(1, parts)} - {first})
    bounds: list[Any] = [None, *(_bindable(cut) for cut in cuts)]
    return [
        {
            "kind": "range",
            "lo": start,
            "hi": high if index == len(bounds) - 1 else bounds[index + 1],
            "last": index == len(bounds) - 1,
        }
        for index, start in enumerate(bounds)
    ]


def _bindable(cut: int) -> int | float:
    """A cut SQLite can bind: an integer within 64 bits, else the nearest real."""
    return cut if -(2**63) <= cut < 2**63 else float(cut)


def sample_boundaries(sample: Sequence[tuple[JSONValue, int]], parts: int) -> list[JSONValue]:
    """At most `parts - 1` boundaries cutting an ordered, counted sample into ranges of
    about equal weight.

    Walking the distinct keys, a key starts a new range when adding it to the current one
    would overshoot the target (what is left over the ranges left) by more than stopping
    short undershoots it. The smallest key is never a boundary, so no range is empty in
    the sample, and a heavy key is one range's start however many quantiles it spans.
    """
    remaining = sum(count for _, count in sample)
    boundaries: list[JSONValue] = []
    size = 0
    for value, count in sample:
        ranges_left = parts - len(boundaries)
        target = remaining / ranges_left
        if size > 0 and ranges_left > 1 and size + count - target > target - size:
            boundaries.append(value)
            remaining -= size
            size = 0
        size += count
    return boundaries


def looks_even(sample: Sequence[tuple[JSONValue, int]], low: Any, high: Any, parts: int) -> bool:
    """Whether the sample shows even ranges over low..high would hold about as many keys
    each: every range within `UNIFORM_SLACK` of its fair share, and at least two sampled
    keys per range to tell (a sparse or tiny sample says nothing, and sampled boundaries
    then at least avoid empty ranges)."""
    ranges = key_ranges(low, high, parts)
    cuts = [r["hi"] for r in ranges[:-1]]
    counts = [0] * len(ranges)
    for value, count in sample:
        counts[sum(1 for cut in cuts if value >= cut)] += count  # type: ignore[operator]
    fair = sum(counts) / len(ranges)
    if fair < 2:
        return False
    return fair / UNIFORM_SLACK <= min(counts) and max(counts) <= UNIFORM_SLACK * fair


def thin(values: Sequence[JSONValue], limit: int) -> list[JSONValue]:
    """`limit` of `values`, evenly spread, in order."""
    if limit <= 0:
        return []
    step = len(values) / limit
    return [values[int(index * step)] for index in range(limit)]


def range_conditions(split: Split, key_sql: str, literal: Callable[[JSONValue], str]) -> list[str]:
    """SQL conditions of a split's key range (`[lo, hi)`, the last one closed) or of its
    NULL keys; `literal` writes a bound in the key's type. No conditions for other splits."""
    kind = split.params.get("kind")
    if kind == "null_key":
        return [f"{key_sql} IS NULL"]
    if kind != "range":
        return []
    low, high = split.params["lo"], split.params["hi"]
    conditions = [] if low is None else [f"{key_sql} >= {literal(low)}"]
    if high is not None:
        conditions.append(f"{key_sql} {'<=' if split.params['last'] else '<'} {literal(high)}")
    elif low is None:  # the one range of an unsplit key: not NULL
        conditions.append(f"{key_sql} IS NOT NULL")
    return conditions


def describe(name: str, params: dict[str, JSONValue]) -> str:
    """A range as people read it: `'m' <= name < 't'`, `id <= 99`, `'t' <= name`."""
    lo, hi = params.get("lo"), params.get("hi")
    lower = "" if lo is None else f"{show(lo)} <= "
    if hi is None:
        return f"{lower}{name}" if lower else f"every non-NULL {name}"
    return f"{lower}{name} {'<=' if params.get('last') else '<'} {show(hi)}"


def show(value: JSONValue) -> str:
    """A bound as a SQL-like literal: numbers bare, text quoted."""
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


# -- SQL shared by the samplers: portable to PostgreSQL, MySQL/MariaDB and SQLite ----------


def ordered_values_sql(key_sql: str, source: str, literals: Sequence[str], select: str) -> str:
    """Literals ordered and deduplicated as values of the key column.

    The column (with no rows) leads a UNION ALL, so the result has its type and collation
    in all three families; `select` formats the grouped value `fg_v` for the client.
    """
    parts = [f"SELECT {key_sql} AS fg_v FROM {source} WHERE 1 = 0"]
    parts += [f"SELECT {literal}" for literal in literals]
    union = " UNION ALL ".join(parts)
    return f"SELECT {select} FROM ({union}) fg_b GROUP BY fg_v ORDER BY fg_v"


def scan_sample_sql(key_sql: str, source: str, where: str | None, step: int, select: str) -> str:
    """Every `step`-th non-NULL key in scan order, counted per distinct key (one full
    scan, no sort of the table: only the ≤ `SAMPLE_ROWS` picked keys are grouped)."""
    condition = f"{key_sql} IS NOT NULL" + (f" AND ({where})" if where else "")
    scan = f"SELECT {key_sql} AS fg_v, row_number() OVER () AS fg_r FROM {source} WHERE {condition}"
    picked = f"SELECT fg_v FROM ({scan}) fg_a WHERE fg_r % {int(step)} = 0"
    return f"SELECT {select}, count(*) FROM ({picked}) fg_p GROUP BY fg_v ORDER BY fg_v"


def seek_sample_sql(
    *,
    table: str,
    source: str,
    key_column: str,
    key_sql: str,
    row_id: str,
    row_id_sql: str,
    where: str | None,
    low: int,
    high: int,
    literal_points: bool,
    select: str,
) -> str:
    """A systematic sample by an integer row id (SQLite's rowid, MySQL's integer primary
    key): `SEEK_POINTS` points spread over `low..high`, each one index seek to the next row
    with a key, joined back so the key keeps its column's collation. Each row found counts
    once, however many points landed on it: with sparse ids (snowflakes) the rows after big
    gaps would weigh as much as the gaps otherwise.

    SQLite seeks from a recursive CTE (a correlated `rowid >= point` is one seek each).
    MariaDB scans the index for a correlated bound instead, so `literal_points` writes one
    parenthesized `SELECT … LIMIT 1` per point, with the point as a constant (computed
    here, so no SQL arithmetic can overflow). `select` formats the grouped `fg_j.<key>`.
    """
    condition = f"{key_sql} IS NOT NULL" + (f" AND ({where})" if where else "")
    step = max(1, (int(high) - int(low)) // (SEEK_POINTS - 1))
    prefix = ""
    if literal_points:
        seeks = " UNION ALL ".join(
            f"(SELECT {row_id_sql} AS fg_id FROM {source} WHERE {row_id_sql} >= "
            f"{int(low) + step * index} AND {condition} ORDER BY {row_id_sql} LIMIT 1)"
            for index in range(SEEK_POINTS)
            if int(low) + step * index <= int(high)
        )
        seek = f"SELECT DISTINCT fg_id FROM ({seeks}) fg_u"
    else:
        prefix = (
            f"WITH RECURSIVE fg_g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM fg_g "
            f"WHERE i < {SEEK_POINTS - 1}) "
        )
        seek = (
            f"SELECT DISTINCT (SELECT {row_id_sql} FROM {source} WHERE {row_id_sql} >= "
            f"{int(low)} + {step} * fg_g.i AND {condition} ORDER BY {row_id_sql} LIMIT 1) "
            "AS fg_id FROM fg_g"
        )
    return (
        f"{prefix}SELECT {select}, count(*) FROM {table} AS fg_j JOIN ({seek}) fg_s "
        f"ON fg_j.{row_id} = fg_s.fg_id GROUP BY fg_j.{key_column} ORDER BY fg_j.{key_column}"
    )


def scan_step(rows: int | None) -> int:
    """Every how many rows a scan sample keeps one, to keep about `SAMPLE_ROWS`."""
    return max(1, (rows or 0) // SAMPLE_ROWS)
