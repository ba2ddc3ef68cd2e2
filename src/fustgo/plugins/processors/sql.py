"""sql: run one SELECT over each batch, with the batch as the table `batch`.

The query runs on Polars' SQL engine (`pl.SQLContext`), over one batch at a time: the
processor holds nothing between batches, so `GROUP BY`, `DISTINCT`, `ORDER BY` and `LIMIT`
apply within a batch, never across the stream. Totals over the whole input (or per time
window) are the `aggregate` processor's job.

The query is parsed when the pipeline is validated: syntax errors, statements that are not
a SELECT, unknown functions and tables other than `batch` are validation errors. Column
names can be checked only against real batches, so a missing column stops the run with the
list of the batch's columns.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from fustgo.engine.batch import Batch
from fustgo.engine.errors import TerminalError
from fustgo.plugins.api import Processor
from fustgo.plugins.processors.frames import to_batch, to_frame
from fustgo.plugins.registry import register_processor
from fustgo.plugins.spec import PluginConfig

TABLE = "batch"
"""The name the query reads the batch by."""

_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_LEADING_KEYWORD = re.compile(r"^[\s(]*([A-Za-z]+)")
_POLARS_NOISE = re.compile(r"^(?:sql parser error|SQLSyntaxError|SQLInterfaceError):\s*", re.I)


def _check_query(value: str) -> str:
    import polars as pl

    keyword = _LEADING_KEYWORD.match(_COMMENT.sub(" ", value))
    if keyword is None or keyword.group(1).upper() not in ("SELECT", "WITH"):
        raise PydanticCustomError(
            "sql_query",
            "the query must be a SELECT (optionally after WITH), e.g. "
            "`SELECT id, amount * 2 AS doubled FROM batch`",
        )
    context = pl.SQLContext({TABLE: pl.LazyFrame()})
    try:
        # Planning against a table without columns resolves the statement, the functions
        # and the tables; only column names stay unknown until a batch arrives.
        context.execute(value, eager=False).collect_schema()
    except pl.exceptions.ColumnNotFoundError:
        pass
    except Exception as exc:  # polars raises several types; all mean the query is invalid
        raise PydanticCustomError(
            "sql_query", "invalid SQL query: {reason}", {"reason": _first_line(exc)}
        ) from exc
    return value


SqlQuery = Annotated[
    str,
    AfterValidator(_check_query),
    WithJsonSchema({"type": "string", "x-widget": "sql-query"}),
]
"""A SELECT statement over the table `batch`, planned when the config is validated."""


class SqlConfig(PluginConfig):
    """Runs a SQL SELECT over each batch (table `batch`); aggregates are per batch."""

    query: SqlQuery
    """The SELECT to run, reading the batch as the table `batch`, e.g.
    `SELECT id, UPPER(name) AS name, amount * 1.2 AS gross FROM batch WHERE amount > 0`.
    It sees one batch at a time: `GROUP BY` and `DISTINCT` work within a batch (use the
    `aggregate` processor for totals over the whole input). Use `TRY_CAST` for casts that
    may fail: a failing `CAST` stops the run."""


@register_processor(
    "sql",
    config=SqlConfig,
    title="SQL",
    examples=[
        {
            "type": "sql",
            "query": "SELECT id, UPPER(name) AS name, amount * 1.2 AS gross "
            "FROM batch WHERE amount > 0",
        },
        {
            "type": "sql",
            "query": "SELECT *, TRY_CAST(zip AS INTEGER) AS zip_code FROM batch",
        },
    ],
)
class Sql(Processor[SqlConfig]):
    """Runs the query on Polars over the batch; rows the query removes count as filtered."""

    def process(self, batch: Batch) -> list[Batch]:
        if batch.num_rows == 0:
            return []
        import polars as pl

        data = batch.data
        context = pl.SQLContext({TABLE: to_frame(data)})
        try:
            result = context.execute(self.config.query, eager=True)
        except pl.exceptions.ColumnNotFoundError as exc:
            raise TerminalError(
                f"The `sql` query names a column the batch does not have "
                f"({_first_line(exc)}); columns are: {', '.join(data.schema.names)}."
            ) from exc
        except pl.exceptions.PolarsError as exc:
            raise TerminalError(
                f"The `sql` query cannot run on this batch: {_first_line(exc)}. "
                "Check the column types (use TRY_CAST for values that may not convert)."
            ) from exc
        out = to_batch(result, {field.name: field for field in data.schema})
        if out.num_rows < batch.num_rows:
            self.count_filtered(batch.num_rows - out.num_rows)
        return [batch.with_data(out)] if out.num_rows else []


def _first_line(exc: Exception) -> str:
    return _POLARS_NOISE.sub("", str(exc).strip().splitlines()[0]).rstrip(".")
