"""SQLite input: a table or a query as Arrow batches, split by key ranges (DataX style).

Pages are read with ADBC, one query per page (`LIMIT fetch.size + 1`: the extra row says
whether another page follows) on a read-only connection from the run's pool (reused by
the next split), positioned by a keyset so that a checkpoint is the last key read and a
resumed split continues right after it (`plan`). Each column becomes the logical type its
declared type maps to in the SQLite type table (`fustgo.plugins.clients.sqlite`), so the
schema never depends on the data; a value that does not fit (text in an INTEGER column, a
malformed date) sends its row to the dead letter with a message naming the column and
the value (`pages`).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from pydantic import Field

from fustgo.engine.batch import Batch, BatchMetadata, Checkpoint, JSONValue, Split
from fustgo.engine.errors import TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.clients.incremental import IncrementalInput, Rows, SqliteDialect
from fustgo.plugins.clients.splitting import ALL_ROWS, SplitKey
from fustgo.plugins.clients.sql import BlockingTableInput, Fetch, Parsed, TableQuery
from fustgo.plugins.clients.sqlite import (
    SqliteConnection,
    connect,
    cursor,
    driver_message,
    query_rows,
    translate_error,
)
from fustgo.plugins.inputs.sqlite.pages import Page, assemble, convert_fast, convert_robust
from fustgo.plugins.inputs.sqlite.plan import ReadPlan, Sampler, sql_plan, table_plan
from fustgo.plugins.registry import register_input
from fustgo.plugins.spec import PluginConfig

if TYPE_CHECKING:
    from adbc_driver_manager.dbapi import Connection


class SqliteInputConfig(PluginConfig):
    """Reads a SQLite table or query, split into parallel key ranges, resumable by key."""

    connection: SqliteConnection
    """The database file."""
    query: TableQuery
    """Table, columns, condition and split key, or a full SQL query."""
    fetch: Fetch = Field(default_factory=Fetch)
    """Page size."""


@register_input(
    "sqlite",
    config=SqliteInputConfig,
    family="rdb",
    title="SQLite",
    capabilities={"split", "resume"},
    examples=[
        {
            "type": "sqlite",
            "connection": {"database": "data/shop.db"},
            "query": {
                "table": "orders",
                "columns": ["id", "user_id", "amount", "status", "created_at"],
                "where": "created_at >= '2024-01-01'",
                "split_key": "id",
            },
            "fetch": {"size": 10000},
        },
        {
            "type": "sqlite",
            "connection": {"database": "data/shop.db"},
            "query": {"sql": "SELECT o.id, u.email FROM orders o JOIN users u ON u.id = o.user_id"},
        },
    ],
)
class SqliteInput(IncrementalInput, BlockingTableInput[SqliteInputConfig]):
    """Reads pages of a SQLite table or query with ADBC; see the module docstring."""

    def __init__(self, config: SqliteInputConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)

    @property
    def path(self) -> Path:
        return self.context.resolve_path(self.config.connection.database)

    @property
    def page_size(self) -> int:
        return self.config.fetch.size or self.context.batch_size

    @property
    def plan(self) -> ReadPlan:
        if self._plan is None:
            raise TerminalError("The sqlite input was used before `open()`.")
        return self._plan

    def _connect(self) -> Connection:
        if not self.path.is_file():
            raise TerminalError(
                f"SQLite file `{self.path}` does not exist; check `input.connection.database` "
                "(relative paths start at the pipeline file's folder)."
            )
        return connect(
            self.path, read_only=True, busy_timeout_seconds=self.config.connection.busy_timeout
        )

    def _open(self) -> None:
        self._drop_connection(reusable=False)  # opened again after a retry
        self._discovery_connection()
        query = self.config.query
        if query.sql is not None:
            self._plan = sql_plan(self._connection, query.sql)
        else:
            assert query.table is not None
            self._plan = table_plan(
                self._connection,
                query.table,
                columns=query.columns,
                where=query.where,
                split_key=query.split_options.key if query.split_options else None,
                split_field=query.split_field,
                where_is=f"`{self.path}`",
                logger=self.context.logger,
            )
        sql, params = self.plan.page_sql(ALL_ROWS, {}, 1, frozenset())
        try:  # a bad `where` fails now, before any split is read
            query_rows(self._connection, f"EXPLAIN {sql}", tuple(params))
        except Exception as exc:
            raise TerminalError(
                f"The query built from `input.query` does not run in SQLite: "
                f"{driver_message(exc)}; check `where` and `columns`."
            ) from exc
        self._check_incremental()

    # -- splits -------------------------------------------------------------------------

    async def splits(self, parallelism: int) -> list[Split]:
        self._bound_pool(parallelism)
        plan = functools.partial(self._plan_splits, parallelism)
        return await asyncio.to_thread(self._windowed, plan, count=False)  # counted per split

    def _incremental_dialect(self) -> tuple[SqliteDialect, Rows]:
        def rows(sql: str) -> list[tuple[Any, ...]]:
            try:
                return query_rows(self._connection, sql)
            except Exception as exc:
                action = f"Planning the incremental window of {self.plan.source}"
                raise translate_error(exc, action) from exc

        assert self.config.query.table is not None
        has_rowid = bool(self.plan.tiebreak) and self.plan.tiebreak[0].name == "last_rowid"
        return SqliteDialect(rows, self.config.query.table, has_rowid), rows

    def _plan_splits(self, parallelism: int) -> list[Split]:
        assert self._connection is not None
        plan = self.plan
        splits = self._key_splits(parallelism)
        if [split.id for split in splits] == ["null-key"]:  # no key in range: read it all
            splits = [ALL_ROWS]
        counted = []
        for split in splits:
            sql, params = plan.count_sql(split)
            records = int(query_rows(self._connection, sql, tuple(params))[0][0])
            if split.id == "null-key" and not records:
                continue  # SQLite cannot declare that a key is never NULL or text
            counted.append(
                Split(split.id, split.params, split.description, estimated_records=records)
            )
        self._records_total = sum(split.estimated_records or 0 for split in counted)
        return counted

    def _sampler(self) -> Sampler:
        plan, query = self.plan, self.config.query
        assert plan.key is not None and query.split_options is not None
        kind = plan.key_kind
        null = f"rows whose {query.split_options.key} is NULL or not a number"
        key = SplitKey(
            query.split_options.key, plan.key.sql, kind, nullable=True, field=query.split_field,
            null_description=null if kind == "integer" else "",
        )  # fmt: skip
        assert self._connection is not None
        return Sampler(plan, key, self._connection)

    # -- reading ------------------------------------------------------------------------

    async def read(self, split: Split, checkpoint: Checkpoint | None) -> AsyncIterator[Batch]:
        if checkpoint is not None and checkpoint.split_done:
            return
        position: dict[str, JSONValue] = dict(checkpoint.position) if checkpoint else {}
        records = checkpoint.records if checkpoint else 0
        metadata = BatchMetadata(source=f"sqlite:{self.path.name}", split_id=split.id)
        connection = await asyncio.to_thread(self._pool.acquire)
        failed = False  # each page is a whole query: only a failure spoils the connection
        try:
            while True:
                page = await asyncio.to_thread(self._read_page, connection, split, position)
                if page.rows == 0:
                    return
                records += page.rows
                position = page.position
                if page.rejected is not None and page.errors is not None:
                    self.reject(page.rejected, page.errors)
                done = not page.has_more
                yield Batch(page.batch, metadata, Checkpoint(split.id, position, records, done))
                if done:
                    return
        except Exception:
            failed = True
            raise
        finally:
            await asyncio.to_thread(self._pool.release, connection, reusable=not failed)

    def _read_page(
        self, connection: Connection, split: Split, position: dict[str, JSONValue]
    ) -> Page:
        columns, size = self.plan.columns, self.page_size
        try:
            table = self._fetch(connection, split, position, frozenset())
        except _UntypedPageError:
            table = self._fetch(connection, split, position, frozenset(c.name for c in columns))
        has_more = table.num_rows > size
        table = table.slice(0, size)
        if table.num_rows == 0:
            empty = pa.RecordBatch.from_pylist([], schema=self.schema())
            return Page(batch=empty, rows=0, position=position, has_more=False)
        converted: dict[str, Parsed | None] = {}
        raw: dict[str, pa.Array] = {}
        for index, column in enumerate(columns):
            raw[column.name] = table.column(f"fg_c{index}").combine_chunks()
            if f"fg_t{index}" in table.column_names:  # the whole page was read as text
                classes = table.column(f"fg_t{index}").combine_chunks()
                converted[column.name] = convert_robust(classes, raw[column.name], column)
            else:
                converted[column.name] = convert_fast(raw[column.name], column)
        dirty = frozenset(name for name, parsed in converted.items() if parsed is None)
        if dirty:  # values that do not fit their column: read those columns again as text
            again = self._fetch(connection, split, position, dirty).slice(0, size)
            for index, column in enumerate(columns):
                if column.name in dirty:
                    raw[column.name] = again.column(f"fg_c{index}").combine_chunks()
                    classes = again.column(f"fg_t{index}").combine_chunks()
                    converted[column.name] = convert_robust(classes, raw[column.name], column)
        parsed = {name: value for name, value in converted.items() if value is not None}
        next_position = self.plan.next_position(table, split, position)
        return assemble(columns, parsed, raw, next_position, has_more)

    def _fetch(
        self,
        connection: Connection,
        split: Split,
        position: dict[str, JSONValue],
        robust: frozenset[str],
    ) -> pa.Table:
        """One page plus one row, in one Arrow batch (so ADBC types it from all its rows)."""
        sql, params = self.plan.page_sql(split, position, self.page_size + 1, robust)
        try:
            with cursor(connection, batch_rows=self.page_size + 1) as cur:
                cur.execute(sql, params)
                return cur.fetch_arrow_table()
        except Exception as exc:
            if "Type mismatch" in str(exc) and not robust:
                raise _UntypedPageError from exc
            raise translate_error(exc, f"Reading {self.plan.source} from `{self.path}`") from exc


class _UntypedPageError(Exception):
    """ADBC could not give one type to a column of a page (values of several classes)."""
