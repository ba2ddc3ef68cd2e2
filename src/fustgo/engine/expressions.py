"""The one expression compiler: SQL expressions → Polars expressions, compiled once.

Filters, computed fields and every other place a user writes a condition or a formula go
through `compile_expression`, so they share one dialect (Polars SQL), one set of error
messages and one cache.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from fustgo.engine.errors import ConfigError

if TYPE_CHECKING:
    import polars as pl


class ExpressionError(ConfigError):
    """A SQL expression does not parse; the message quotes it and says what is wrong."""


_POLARS_NOISE = re.compile(r"^(?:sql parser error|SQLSyntaxError|SQLInterfaceError):\s*", re.I)


@lru_cache(maxsize=1024)
def compile_expression(sql: str) -> pl.Expr:
    """A Polars expression for one SQL expression (`amount > 0 AND status = 'paid'`).

    Raises `ExpressionError` when it does not parse. Column names are checked later, against
    the batch, because the schema of a source is known only once it is read.
    """
    import polars as pl

    text = sql.strip()
    if not text:
        raise ExpressionError("The expression is empty; write a SQL expression like `amount > 0`.")
    try:
        return pl.sql_expr(text)
    except Exception as exc:  # polars raises several types; all mean "does not parse"
        detail = _POLARS_NOISE.sub("", str(exc).strip().splitlines()[0])
        raise ExpressionError(f"Invalid SQL expression `{text}`: {detail}.") from exc


def referenced_columns(expr: pl.Expr) -> list[str]:
    """Column names an expression reads, for 'column X is missing' messages."""
    return list(expr.meta.root_names())
