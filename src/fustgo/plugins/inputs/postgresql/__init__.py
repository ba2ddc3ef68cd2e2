"""PostgreSQL input: a table or a query as Arrow batches, split by key ranges (DataX style).

Each split is one query streamed by ADBC (`adbc-driver-postgresql`, which reads the result
as `COPY … TO STDOUT (FORMAT binary)` straight into Arrow, no Python per row) on a
read-only session borrowed from the run's connection pool, ordered by a keyset so that a
checkpoint after each batch is the last key read and a resumed split continues right after
it (`plan`). A dropped connection is a `RetryableError`: the runner reads the split again
from its last checkpoint on a fresh connection. Columns become the
logical types of the PostgreSQL type table (`fustgo.plugins.clients.postgresql`), so the
schema never depends on the data.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from fustgo.engine.batch import Batch, BatchMetadata, Checkpoint, JSONValue, Split
from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.plugins.api import Output, PluginContext, Transfer
from fustgo.plugins.clients.incremental import IncrementalInput, PostgresDialect, Rows
from fustgo.plugins.clients.pool import Deadline
from fustgo.plugins.clients.postgresql import (
    PostgresConnection,
    connect_adbc,
    qualified,
    quote,
    quote_literal,
    translate_error,
)
from fustgo.plugins.clients.sql import BlockingTableInput, TableQuery, TimedFetch, parse_text
from fustgo.plugins.inputs.postgresql.plan import (
    OrderKey,
    ReadColumn,
    ReadPlan,
    Sampler,
    check_split_key,
    read_columns,
)
from fustgo.plugins.registry import register_input
from fustgo.plugins.spec import PluginConfig

WHERE = "input.connection"
TIMEOUT = "input.fetch.timeout"


class PostgresqlInputConfig(PluginConfig):
    """Reads a PostgreSQL table or query, split into parallel key ranges, resumable by key."""

    connection: PostgresConnection
    """Where to connect; the password is a secret and never logged. Sessions are read-only."""
    query: TableQuery
    """Table, columns, condition and split key, or a full SQL query."""
    fetch: TimedFetch = Field(default_factory=TimedFetch)
    """Batch size and read timeout."""


@register_input(
    "postgresql",
    config=PostgresqlInputConfig,
    family="rdb",
    title="PostgreSQL",
    capabilities={"split", "resume"},
    examples=[
        {
            "type": "postgresql",
            "connection": {
                "host": "127.0.0.1",
                "database": "shop",
                "user": "etl",
                "password": "${PG_PASSWORD:}",
            },
            "query": {
                "table": "public.orders",
                "columns": ["id", "user_id", "amount", "status", "created_at"],
                "where": "created_at >= '2024-01-01'",
                "split_key": "id",
            },
            "fetch": {"size": 10000},
        },
        {
            "type": "postgresql",
            "connection": {"host": "127.0.0.1", "database": "shop", "user": "etl"},
            "query": {
                "sql": "SELECT o.id, u.email FROM orders o JOIN users u ON u.id = o.user_id "
                "ORDER BY o.id"
            },
        },
    ],
)
class PostgresqlInput(IncrementalInput, BlockingTableInput[PostgresqlInputConfig]):
    """Streams splits with ADBC; see the module docstring."""

    def __init__(self, config: PostgresqlInputConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)

    @property
    def plan(self) -> ReadPlan:
        if self._plan is None:
            raise TerminalError("The postgresql input was used before `open()`.")
        return self._plan

    @property
    def batch_rows(self) -> int:
        return self.config.fetch.size or self.context.batch_size

    # -- discovery ----------------------------------------------------------------------

    # -- connections --------------------------------------------------------------------

    def _connect(self) -> Any:
        application = f"fustgo {self.context.pipeline_name} {self.context.component_path}"
        return connect_adbc(self.config.connection, where=WHERE, application=application)

    def _check_alive(self, connection: Any) -> None:
        cursor = connection.cursor()
        try:
            cursor.execute("SELECT 1")
            cursor.fetchall()
        finally:
            cursor.close()

    def _rows(self, sql: str, action: str) -> list[tuple[Any, ...]]:
        try:
            cursor = self._discovery_connection().cursor()
            try:
                cursor.execute(sql)
                return list(cursor.fetchall())
            finally:
                cursor.close()
        except Exception as exc:
            raise self._discovery_error(exc, action) from exc

    def _describe(self, source: str, items: str) -> pa.Schema:
        try:
            cursor = self._discovery_connection().cursor()
            try:
                cursor.execute(f"SELECT {items} FROM {source} LIMIT 0")
                return cursor.fetch_arrow_table().schema
            finally:
                cursor.close()
        except Exception as exc:
            error = self._discovery_error(exc, "Reading the columns")
            if isinstance(error, RetryableError):
                raise error from exc
            raise TerminalError(
                f"The query built from `input.query` does not run on "
                f"{self.config.connection.server}: {error}"
            ) from exc

    def _discovery_error(self, exc: Exception, action: str) -> Exception:
        """The translated error; a lost discovery connection is closed (a retry reconnects)."""
        error = translate_error(exc, action, self.config.connection, WHERE)
        if isinstance(error, RetryableError):
            self._drop_connection(reusable=False)
        return error

    def _open(self) -> None:
        self._drop_connection(reusable=False)  # opened again after a retry
        self._discovery_connection()
        query = self.config.query
        if query.sql is not None:
            source = f"({query.sql.strip().rstrip(';')}) AS q"
            columns = read_columns(self._describe(source, "*"))
            self._plan = ReadPlan(source, "`input.query.sql`", None, columns, tiebreak=[])
            return
        assert query.table is not None
        self._plan = self._table_plan(query.table)
        # a bad `where` fails now, before any split is read
        where = f" WHERE ({query.where})" if query.where else ""
        self._describe(self._plan.source + where, "1")
        self._check_incremental()

    def _table_plan(self, table: str) -> ReadPlan:
        query = self.config.query
        found = self._rows(
            f"SELECT c.oid, c.relkind FROM pg_class c "
            f"WHERE c.oid = to_regclass({quote_literal(qualified(table))})",
            f"Looking up table `{table}`",
        )
        if not found:
            raise TerminalError(
                f"Table `{table}` does not exist on {self.config.connection.server} (or the "
                f"role cannot see it); check `input.query.table` and the schema name."
            )
        oid, kind = int(found[0][0]), str(found[0][1])
        attributes = self._rows(
            f"SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute "
            f"WHERE attrelid = {oid} AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            f"Reading the columns of `{table}`",
        )
        declared = {str(row[0]): (str(row[1]), bool(row[2])) for row in attributes}
        names = query.columns or list(declared)
        missing = [name for name in names if name not in declared]
        if missing:
            raise TerminalError(
                f"Columns {missing} of `input.query.columns` are not in table `{table}`; "
                f"its columns are: {', '.join(declared)}."
            )
        source = f"{qualified(table)} AS q"
        described = self._describe(source, ", ".join(f"q.{quote(n)}" for n in names))
        columns = read_columns(described, {name: declared[name][0] for name in names})
        primary = [
            str(row[0])
            for row in self._rows(
                f"SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
                f"i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = {oid} AND "
                f"i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)",
                f"Reading the primary key of `{table}`",
            )
        ]
        if primary:
            tiebreak = [OrderKey(f"q.{quote(n)}", declared[n][0]) for n in primary]
        elif kind in ("r", "m"):  # plain and materialized tables have a row address
            tiebreak = [OrderKey("q.ctid", "tid")]
        else:
            tiebreak = []
        plan = ReadPlan(source, f"`{table}`", query.where, columns, tiebreak, relation=oid)
        options = query.split_options
        if options is None:
            return plan
        key_name = options.key
        key_type, not_null = declared.get(key_name, (None, False))
        key_kind = check_split_key(key_name, key_type, table, list(declared), query.split_field)
        assert key_type is not None
        unique = primary == [key_name] or bool(
            self._rows(
                f"SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                f"WHERE i.indrelid = {oid} AND i.indisunique AND i.indpred IS NULL AND "
                f"i.indnkeyatts = 1 AND a.attnum = i.indkey[0] AND "
                f"a.attname = {quote_literal(key_name)}",
                f"Reading the indexes of `{table}`",
            )
        )
        key = OrderKey(f"q.{quote(key_name)}", key_type)
        return ReadPlan(
            source, plan.label, plan.where, columns, tiebreak, key, unique, not not_null, oid,
            key_kind, samplable=kind in ("r", "m"),
        )  # fmt: skip

    def direct_transfer(self, output: Output[Any]) -> Transfer | None:
        """Splits passed through as binary COPY data into a `postgresql` output."""
        from fustgo.plugins.inputs.postgresql.transfer import offer

        return offer(self, output)

    # -- splits -------------------------------------------------------------------------

    async def splits(self, parallelism: int) -> list[Split]:
        self._bound_pool(parallelism)
        plan = functools.partial(self._plan_splits, parallelism)
        return await asyncio.to_thread(self._windowed, plan, count=True)

    def _incremental_dialect(self) -> tuple[PostgresDialect, Rows]:
        assert self.plan.relation is not None

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return self._rows(sql, "Planning the incremental window")

        return PostgresDialect(rows, self.plan.relation), rows

    def _plan_splits(self, parallelism: int) -> list[Split]:
        plan = self.plan
        if plan.relation is not None:
            estimate = self._rows(
                f"SELECT reltuples::bigint FROM pg_class WHERE oid = {plan.relation}",
                "Reading the row estimate",
            )[0][0]
            self._records_total = int(estimate) if estimate is not None and estimate >= 0 else None
        return self._key_splits(parallelism)

    def _sampler(self) -> Sampler:
        return Sampler(self.plan, self._split_key(), self._rows)

    # -- reading ------------------------------------------------------------------------

    async def read(self, split: Split, checkpoint: Checkpoint | None) -> AsyncIterator[Batch]:
        if checkpoint is not None and checkpoint.split_done:
            return
        position: dict[str, JSONValue] = dict(checkpoint.position) if checkpoint else {}
        records = checkpoint.records if checkpoint else 0
        metadata = BatchMetadata(
            source=f"postgresql:{self.config.connection.database}", split_id=split.id
        )
        connection = await asyncio.to_thread(self._pool.acquire)
        cursor: Any = None
        finished = False  # the whole result was read: the connection can serve another split
        try:
            cursor = connection.cursor()
            deadline = Deadline(
                self.config.fetch.timeout, cursor.adbc_cancel, "input.fetch.timeout"
            )
            pages = await asyncio.to_thread(self._pages, cursor, split, position, deadline)
            while True:
                page = await asyncio.to_thread(next, pages, None)
                if page is None:
                    finished = True
                    return
                table, has_more = page
                position = self.plan.next_position(table, split, position)
                records += table.num_rows
                batch = self._convert(table)
                finished = done = not has_more
                yield Batch(batch, metadata, Checkpoint(split.id, position, records, done))
                if done:
                    return
        finally:
            await asyncio.to_thread(self._give_back, connection, cursor, finished)

    def _give_back(self, connection: Any, cursor: Any, finished: bool) -> None:
        """Return the split's connection to the pool, or close it after an error or a stop
        (a result still streaming would have to be cancelled first)."""
        try:
            if cursor is not None:
                cursor.close()
        except Exception:
            finished = False
        self._pool.release(connection, reusable=finished)

    def _pages(
        self, cursor: Any, split: Split, position: dict[str, JSONValue], deadline: Deadline
    ) -> Iterator[tuple[pa.Table, bool]]:
        """Pages of `batch_rows` rows as ADBC returns them, and whether more follow."""
        sql = self.plan.select_sql(split, position)
        action = f"Reading {self.plan.label} ({split.description or split.id})"
        try:
            with deadline.armed(action):
                cursor.execute(sql)
                reader = cursor.fetch_record_batch()
        except Exception as exc:
            raise translate_error(exc, action, self.config.connection, WHERE) from exc
        return _rechunk(reader, self.batch_rows, action, self.config.connection, deadline)

    def _convert(self, table: pa.Table) -> pa.RecordBatch:
        """ADBC's columns as their logical types; rows with unconvertible values rejected."""
        arrays: list[pa.Array] = []
        failed: pa.Array | None = None
        messages: pa.Array | None = None
        for index, column in enumerate(self.plan.columns):
            raw = table.column(f"c{index}").combine_chunks()
            array, bad = _to_logical(raw, column)
            arrays.append(array)
            if bad is not None:
                note = pc.if_else(
                    bad,
                    pc.binary_join_element_wise(
                        f"Column `{column.name}` ({column.declared}) holds `",
                        pc.cast(_storage(raw), pa.string()),
                        f"`, which is not a valid {column.logical}",
                        "",
                    ),
                    None,
                )
                failed = bad if failed is None else pc.or_(failed, bad)
                messages = note if messages is None else pc.coalesce(messages, note)
        fields = [c.logical.to_arrow_field(c.name) for c in self.plan.columns]
        batch = pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))
        if failed is None or messages is None:
            return batch
        self.reject(batch.filter(failed), messages.filter(failed))
        return batch.filter(pc.invert(failed))


def _rechunk(
    reader: Any, rows: int, action: str, settings: PostgresConnection, deadline: Deadline
) -> Iterator[tuple[pa.Table, bool]]:
    """Cut ADBC's batches (sized in bytes) into pages of `rows`, reading one batch ahead."""
    buffered: list[pa.RecordBatch] = []
    count, exhausted = 0, False
    while True:
        while not exhausted and count <= rows:
            try:
                with deadline.armed(action):
                    chunk = reader.read_next_batch()
            except StopIteration:
                exhausted = True
                break
            except Exception as exc:
                raise translate_error(exc, action, settings, WHERE) from exc
            buffered.append(chunk)
            count += chunk.num_rows
        if count == 0:
            return
        table = pa.Table.from_batches(buffered)
        page = table.slice(0, rows)
        rest = table.slice(rows)
        buffered, count = rest.to_batches(), rest.num_rows
        yield page, count > 0 or not exhausted


def _storage(array: pa.Array) -> pa.Array:
    """The plain Arrow array under ADBC's extension types (numeric, json as text)."""
    return array.storage if isinstance(array, pa.ExtensionArray) else array


def _to_logical(raw: pa.Array, column: ReadColumn) -> tuple[pa.Array, pa.Array | None]:
    """The column as its logical Arrow type, and which rows failed (None when none did)."""
    array = _storage(raw)
    target = column.logical.to_arrow()
    if array.type == target:
        return array, None
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), target), None
    try:
        return pc.cast(array, target), None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        if column.logical.kind != "decimal":
            raise
    parsed = parse_text(array, column.logical)  # `NaN` or digits beyond the precision
    return parsed.values, parsed.failed
