"""Per-record failure messages, built with Polars and only for the records that failed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    import polars as pl


def message_text(*parts: str | pl.Expr) -> pl.Expr:
    """Literal text and values joined into one message per row (names may hold braces,
    which `pl.format` would read as placeholders)."""
    import polars as pl

    return pl.concat_str([pl.lit(part) if isinstance(part, str) else part for part in parts])


def row_messages(frame: pl.DataFrame, failed: pl.Series, message: pl.Expr) -> pa.Array:
    """`message` for the rows of `frame` flagged in `failed`, NULL for the others.

    Formatting values into text costs more than most conversions, so only the failed rows
    (usually few) are formatted.
    """
    mask = failed.fill_null(False)
    texts = frame.filter(mask).select(message).to_series().to_arrow().cast(pa.string())
    empty = pa.nulls(frame.height, pa.string())
    return pc.replace_with_mask(empty, mask.to_arrow(), texts)
