"""filter: keep or drop records by a SQL condition, evaluated over the whole batch.

NULL semantics follow SQL's WHERE: `include` keeps the records whose condition is TRUE
(FALSE and NULL are dropped); `exclude` drops the records whose condition is TRUE and keeps
FALSE and NULL, so `exclude` is exactly the complement of `include`.
"""

from __future__ import annotations

from typing import Literal

from fustgo.engine.batch import Batch
from fustgo.engine.errors import TerminalError
from fustgo.engine.expressions import compile_expression, referenced_columns
from fustgo.plugins.api import Processor
from fustgo.plugins.processors.frames import require_fields, to_frame
from fustgo.plugins.registry import register_processor
from fustgo.plugins.spec import PluginConfig, SqlExpression

_KEEP = "__fustgo_keep"


class FilterConfig(PluginConfig):
    """Keeps (or drops) the records that meet a SQL condition."""

    condition: SqlExpression
    """SQL condition over the record's fields, e.g. `amount > 0 AND status = 'paid'`.
    Quote names that are not plain identifiers with double quotes: `"unit price" > 10`."""
    mode: Literal["include", "exclude"] = "include"
    """`include` keeps records where the condition is TRUE; `exclude` drops them and keeps
    the others, including those where it is NULL (e.g. compares a NULL field)."""


@register_processor(
    "filter",
    config=FilterConfig,
    title="Filter",
    examples=[
        {"type": "filter", "condition": "amount > 0 AND status = 'paid'"},
        {"type": "filter", "condition": "email IS NULL", "mode": "exclude"},
    ],
)
class Filter(Processor[FilterConfig]):
    """Evaluates the condition with Polars and filters the Arrow batch with the mask."""

    def process(self, batch: Batch) -> list[Batch]:
        if batch.num_rows == 0:
            return []
        import polars as pl

        expression = compile_expression(self.config.condition)
        require_fields(
            batch.schema,
            referenced_columns(expression),
            f"the `filter` condition `{self.config.condition}`",
        )
        frame = to_frame(batch.data, list(dict.fromkeys(referenced_columns(expression))))
        try:
            mask = frame.with_columns(expression.alias(_KEEP)).get_column(_KEEP)
        except pl.exceptions.PolarsError as exc:
            detail = str(exc).strip().splitlines()[0]
            raise TerminalError(
                f"The `filter` condition `{self.config.condition}` cannot be evaluated: {detail}."
            ) from exc
        if mask.dtype != pl.Boolean:
            raise TerminalError(
                f"The `filter` condition `{self.config.condition}` gives {mask.dtype} values, "
                "not true/false; write a comparison such as `amount > 0`."
            )
        matched = mask.fill_null(False)
        keep = matched if self.config.mode == "include" else ~matched
        kept = batch.data.filter(keep.to_arrow())
        self._stats.records_filtered += batch.num_rows - kept.num_rows
        return [batch.with_data(kept)] if kept.num_rows else []
