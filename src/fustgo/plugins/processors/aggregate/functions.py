"""The aggregate functions: their `function(field)` syntax and their Polars expressions.

Every function is computed in three steps so that batches can be reduced on their own and
combined later: `partials` reduce one batch to a few columns per group, `folds` combine the
partial rows of a group (they arrive in order), `final` turns the folded partials into the
result. An average is a sum and a count of non-NULL values; a sum keeps that count too, so a
sum of only NULLs is NULL as in SQL; `count_distinct` keeps the set of distinct values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from fustgo.engine.errors import TerminalError

if TYPE_CHECKING:
    import polars as pl

FUNCTIONS = ("count", "sum", "avg", "min", "max", "first", "last", "count_distinct")
_CALL = re.compile(r'^\s*(\w+)\s*\(\s*(?:(\*)|"((?:[^"]|"")+)"|([^()"]+?))\s*\)\s*$')


@dataclass(frozen=True)
class AggregateCall:
    """One aggregation: a function and the field it reads (None for `count(*)`)."""

    function: str
    field: str | None

    def __str__(self) -> str:
        if self.field is None:
            return f"{self.function}(*)"
        plain = re.fullmatch(r"[^()\"]+", self.field) and self.field == self.field.strip()
        return f"{self.function}({self.field if plain else _quoted(self.field)})"


@cache
def parse_call(text: str) -> AggregateCall:
    """`sum(amount)`, `count(*)`, `max("unit price")` → an `AggregateCall`, or ValueError."""
    match = _CALL.match(text)
    if match is None:
        raise ValueError(
            f"`{text}` is not an aggregation; write `function(field)`, e.g. `sum(amount)`, "
            '`count(*)` or `max("unit price")`'
        )
    function = match.group(1).lower()
    if function not in FUNCTIONS:
        raise ValueError(f"unknown function `{match.group(1)}`; use one of {', '.join(FUNCTIONS)}")
    if match.group(2) and function != "count":
        raise ValueError(f"`{function}(*)` is not allowed; only `count(*)` takes `*`")
    field = match.group(4) or (match.group(3) or "").replace('""', '"') or None
    return AggregateCall(function, field)


def _check_call(value: str) -> str:
    try:
        return str(parse_call(value))
    except ValueError as exc:
        raise PydanticCustomError("aggregation", "{reason}", {"reason": str(exc)}) from exc


Aggregation = Annotated[
    str,
    AfterValidator(_check_call),
    WithJsonSchema(
        {"type": "string", "pattern": r"^\s*\w+\s*\(.+\)\s*$", "x-widget": "aggregation"}
    ),
]
"""`function(field)` with a function of `FUNCTIONS`; `count(*)` counts records."""


def part_column(name: str, part: str) -> str:
    """The state column holding one part (`n`: count, `v`: value) of an aggregation."""
    return f"__fustgo_{part}_{name}"


def partials(name: str, call: AggregateCall, frame: pl.DataFrame) -> list[pl.Expr]:
    """What one batch contributes to an aggregation, per group."""
    import polars as pl

    count_name, value_name = part_column(name, "n"), part_column(name, "v")
    if call.field is None:
        return [pl.len().cast(pl.Int64).alias(count_name)]
    column = pl.col(call.field)
    count = column.count().cast(pl.Int64).alias(count_name)
    function = call.function
    if function == "count":
        return [count]
    if function == "sum":
        return [widened_sum_input(column, frame.schema[call.field]).sum().alias(value_name), count]
    if function == "avg":
        return [column.cast(pl.Float64).sum().alias(value_name), count]
    if function == "count_distinct":
        return [column.drop_nulls().unique().alias(value_name)]
    return [getattr(column, function)().alias(value_name)]  # min, max, first, last


def folds(name: str, call: AggregateCall) -> list[pl.Expr]:
    """How partials of the same group combine (they come in arrival order)."""
    import polars as pl

    count = pl.col(part_column(name, "n")).sum()
    value = pl.col(part_column(name, "v"))
    function = call.function
    if function == "count" or call.field is None:
        return [count]
    if function in ("sum", "avg"):
        return [value.sum(), count]
    if function == "count_distinct":
        return [value.explode().drop_nulls().unique()]
    return [getattr(value, function)()]  # min of mins, first of firsts, …


def final(name: str, call: AggregateCall) -> pl.Expr:
    """The aggregation's result from its folded partials, named `name`."""
    import polars as pl

    count, value = pl.col(part_column(name, "n")), pl.col(part_column(name, "v"))
    function = call.function
    if function == "count" or call.field is None:
        result = count
    elif function == "sum":
        result = pl.when(count > 0).then(value)
    elif function == "avg":
        result = pl.when(count > 0).then(value / count)
    elif function == "count_distinct":
        result = value.list.len().cast(pl.Int64)
    else:
        result = value
    return result.alias(name)


def widened_sum_input(column: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Sums in 64 bits, as SQL engines do (Polars would sum int32 in int32)."""
    import polars as pl

    if dtype.is_float():
        return column.cast(pl.Float64)
    if dtype.is_integer() and dtype != pl.UInt64:
        return column.cast(pl.Int64)
    return column


def check_type(name: str, call: AggregateCall, dtype: pl.DataType) -> None:
    """Stop the run, naming the aggregation, when the field's type does not fit the function."""
    import polars as pl

    if call.function in ("sum", "avg") and (not dtype.is_numeric() or dtype == pl.Boolean):
        fix = "cast it with `transform.casts` first"
    elif call.function in ("min", "max") and (dtype.is_nested() or dtype == pl.Object):
        fix = "pick a field of numbers, text or times"
    else:
        return
    raise TerminalError(
        f"`aggregate.aggregations.{name}` is `{call}`, but `{call.field}` holds {dtype} "
        f"values; {fix}."
    )


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
