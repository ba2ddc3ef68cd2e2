"""MySQL input (also `mariadb`, `tidb`): a table or a query as Arrow batches, split by key.

Discovery (columns, keys, split boundaries, incremental windows) runs on a read-only
mysqlclient session from the run's connection pool. A split with a keyset is read in pages
ordered by it, so that a checkpoint after each batch is the last key read and a resumed
split continues right after it (`plan`); each page is read Arrow-natively by connectorx
(`arrow`) when it can speak to the server, else over mysqlclient's unbuffered cursor. A
split without a keyset (a `sql` query, a table without primary key) is one mysqlclient
stream resumed by OFFSET. A lost connection (the session killed, the server restarted) is
a `RetryableError`: the runner reads the split again from its last checkpoint.

Over mysqlclient, numbers arrive as Python numbers and decimals, dates and times as text,
parsed by Arrow a whole column at a time (`clients.sql.parse_text`); over connectorx the
same columns arrive as Arrow arrays, decimals and times as the same text. Columns become
the logical types of the MySQL type table (`fustgo.plugins.clients.mysql`), so the schema
never depends on the data or the path.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from fustgo.engine.batch import Batch, BatchMetadata, Checkpoint, JSONValue, Split
from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.engine.types import FLOAT_KINDS, INTEGER_KINDS
from fustgo.plugins.api import PluginContext
from fustgo.plugins.clients.incremental import IncrementalInput, MysqlDialect, Rows
from fustgo.plugins.clients.mysql import (
    MysqlConnection,
    connect,
    described_type,
    kill_query,
    logical_type,
    parse_declared,
    qualified,
    quote,
    split_table,
    translate_error,
)
from fustgo.plugins.clients.pool import Deadline
from fustgo.plugins.clients.sql import BlockingTableInput, TableQuery, TimedFetch, parse_text
from fustgo.plugins.inputs.mysql.arrow import (
    ArrowSource,
    ConnectFailed,
    ConversionFailed,
    source,
    translate,
)
from fustgo.plugins.inputs.mysql.plan import (
    INTEGER_TYPES,
    OrderKey,
    ReadColumn,
    ReadPlan,
    Sampler,
    check_split_key,
    select_expression,
)
from fustgo.plugins.registry import register_input
from fustgo.plugins.spec import PluginConfig

if TYPE_CHECKING:
    from MySQLdb.connections import Connection

WHERE = "input.connection"
TIMEOUT = "input.fetch.timeout"


class MysqlInputConfig(PluginConfig):
    """Reads a MySQL, MariaDB or TiDB table or query, split into parallel key ranges,
    resumable by key."""

    connection: MysqlConnection
    """Where to connect; the password is a secret and never logged. Sessions are read-only."""
    query: TableQuery
    """Table, columns, condition and split key, or a full SQL query."""
    fetch: TimedFetch = Field(default_factory=TimedFetch)
    """Batch size and read timeout."""


_EXAMPLES = [
    {
        "type": "mysql",
        "connection": {
            "host": "127.0.0.1",
            "database": "shop",
            "user": "etl",
            "password": "${MYSQL_PASSWORD:}",
        },
        "query": {
            "table": "orders",
            "columns": ["id", "user_id", "amount", "status", "created_at"],
            "where": "created_at >= '2024-01-01'",
            "split_key": "id",
        },
        "fetch": {"size": 10000},
    },
    {
        "type": "mysql",
        "connection": {"host": "127.0.0.1", "database": "shop", "user": "etl"},
        "query": {
            "sql": "SELECT o.id, u.email FROM orders o JOIN users u ON u.id = o.user_id "
            "ORDER BY o.id"
        },
    },
]


@register_input(
    "mysql",
    config=MysqlInputConfig,
    family="rdb",
    title="MySQL",
    capabilities={"split", "resume"},
    examples=_EXAMPLES,
)
class MysqlInput(IncrementalInput, BlockingTableInput[MysqlInputConfig]):
    """Reads splits in keyset pages over unbuffered cursors; see the module docstring."""

    def __init__(self, config: MysqlInputConfig, context: PluginContext | None = None) -> None:
        super().__init__(config, context)
        self._arrow: ArrowSource | None = None
        """How keyset pages are read by connectorx; None: over mysqlclient."""
        self._arrow_worked = False
        """A connectorx page was read in this run: a later connect failure is an error,
        not a reason to fall back to mysqlclient."""
        self._temporal_text = False
        """A page held a value connectorx cannot convert (a zero date): dates and
        timestamps are selected as text from then on."""

    @property
    def plan(self) -> ReadPlan:
        if self._plan is None:
            raise TerminalError("The mysql input was used before `open()`.")
        return self._plan

    @property
    def batch_rows(self) -> int:
        return self.config.fetch.size or self.context.batch_size

    # -- discovery ----------------------------------------------------------------------

    # -- connections --------------------------------------------------------------------

    def _connect(self) -> Connection:
        return connect(self.config.connection, read_only=True, where=WHERE)

    def _check_alive(self, connection: Connection) -> None:
        connection.ping()

    def _rows(self, sql: str, action: str, *params: Any) -> list[tuple[Any, ...]]:
        try:
            connection = self._discovery_connection()
            with connection.cursor() as cursor:
                cursor.execute(sql, params or None)
                rows = list(cursor.fetchall())
            connection.commit()  # end the read-only transaction: no snapshot is held
            return rows
        except Exception as exc:
            raise self._discovery_error(exc, action) from exc

    def _describe(self, source: str, items: str) -> Any:
        try:
            connection = self._discovery_connection()
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {items} FROM {source} LIMIT 0")
                described = cursor.description, cursor.description_flags
            connection.commit()  # end the read-only transaction: no lock is held
            return described
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
        try:
            self._plan = self._discover()
            self._check_incremental()
            self._arrow = self._arrow_source()
        except BaseException:
            self._drop_connection(reusable=False)  # holds metadata locks until closed
            raise

    def _discover(self) -> ReadPlan:
        query = self.config.query
        if query.sql is not None:
            return self._query_plan(query.sql)
        assert query.table is not None
        plan = self._table_plan(query.table)
        # a bad `where` fails now, before any split is read
        self._describe(plan.source + (f" WHERE ({query.where})" if query.where else ""), "1")
        return plan

    def _query_plan(self, sql: str) -> ReadPlan:
        source = f"({sql.strip().rstrip(';')}) AS q"
        description, flags = self._describe(source, "*")
        columns = []
        for item, flag in zip(description, flags, strict=True):
            declared = described_type(item[1], flag, item[3], item[5])
            select = select_expression(item[0], declared)
            columns.append(ReadColumn(item[0], declared, logical_type(declared), select))
        return ReadPlan(source, "`input.query.sql`", None, columns, tiebreak=[])

    def _table_plan(self, table: str) -> ReadPlan:
        query = self.config.query
        database, name = split_table(table, self.config.connection.database)
        found = self._rows(
            "SELECT column_name, column_type, is_nullable, data_type FROM "
            "information_schema.columns WHERE table_schema = %s AND table_name = %s "
            "ORDER BY ordinal_position",
            f"Reading the columns of `{table}`",
            database,
            name,
        )
        if not found:
            raise TerminalError(
                f"Table `{table}` does not exist on {self.config.connection.server} (or the "
                f"user cannot see it); check `input.query.table` and the database name."
            )
        declared = {str(r[0]): (str(r[1]), str(r[2]) == "YES") for r in found}
        for column in self._json_columns(database, name, [r for r in found if r[3] == "longtext"]):
            declared[column] = ("json", declared[column][1])
        names = query.columns or list(declared)
        missing = [n for n in names if n not in declared]
        if missing:
            raise TerminalError(
                f"Columns {missing} of `input.query.columns` are not in table `{table}`; "
                f"its columns are: {', '.join(declared)}."
            )
        columns = [
            ReadColumn(n, declared[n][0], logical_type(declared[n][0]),
                       select_expression(n, declared[n][0]))
            for n in names
        ]  # fmt: skip
        indexes = self._rows(
            "SELECT index_name, column_name FROM information_schema.statistics WHERE "
            "table_schema = %s AND table_name = %s AND non_unique = 0 "
            "ORDER BY index_name, seq_in_index",
            f"Reading the indexes of `{table}`",
            database,
            name,
        )
        unique: dict[str, list[str]] = {}
        for index_name, column_name in indexes:
            unique.setdefault(str(index_name), []).append(str(column_name))
        primary = unique.get("PRIMARY", [])
        tiebreak = [OrderKey(f"q.{quote(n)}", declared[n][0]) for n in primary]
        source = f"{qualified(f'{database}.{name}')} AS q"
        plan = ReadPlan(
            source, f"`{table}`", query.where, columns, tiebreak, table=(database, name)
        )
        options = query.split_options
        if options is None:
            return plan
        key_name = options.key
        key_type, nullable = declared.get(key_name, (None, True))
        kind = check_split_key(key_name, key_type, table, list(declared), query.split_field)
        assert key_type is not None
        charset = collation = None
        if kind == "string":
            charset, collation = self._rows(
                "SELECT character_set_name, collation_name FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s AND column_name = %s",
                f"Reading the collation of `{key_name}`",
                database, name, key_name,
            )[0]  # fmt: skip
        key = OrderKey(f"q.{quote(key_name)}", key_type, charset, collation)
        key_unique = [key_name] in unique.values()
        integer_id = (
            len(primary) == 1 and parse_declared(declared[primary[0]][0])[0] in INTEGER_TYPES
        )
        return ReadPlan(
            source, plan.label, plan.where, columns, tiebreak, key, key_unique, nullable,
            plan.table, kind, primary[0] if integer_id else None,
        )  # fmt: skip

    def _json_columns(self, database: str, table: str, longtext: list[Any]) -> list[str]:
        """MariaDB's JSON columns: `longtext` with a `json_valid(col)` column check."""
        if not longtext:
            return []
        try:
            checks = self._rows(
                "SELECT check_clause FROM information_schema.check_constraints WHERE "
                "constraint_schema = %s AND table_name = %s",
                "Reading the checks",
                database,
                table,
            )
        except TerminalError:  # MySQL has no table_name there, and a real JSON type
            return []
        clauses = {str(row[0]) for row in checks}
        return [str(r[0]) for r in longtext if f"json_valid({quote(str(r[0]))})" in clauses]

    def _arrow_source(self) -> ArrowSource | None:
        """connectorx for keyset pages, unless the session needs what it cannot do: TLS
        (this connectorx build has none, and must not read in plain text what mysqlclient
        reads encrypted), or mysqlclient `options`. None means mysqlclient, logged."""
        settings, log = self.config.connection, self.context.logger
        reason = None
        if settings.options:
            reason = "`input.connection.options` are mysqlclient arguments"
        elif any((settings.ssl_ca, settings.ssl_cert, settings.ssl_key)) or settings.ssl_mode in (
            "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY",
        ):  # fmt: skip
            reason = "connectorx has no TLS"
        else:
            cipher = self._rows("SHOW SESSION STATUS LIKE 'Ssl_cipher'", "Reading the session")
            if cipher and cipher[0][1]:
                reason = "the server offers TLS and connectorx has none"
        if reason is None:
            try:
                import connectorx  # noqa: F401
            except ImportError as exc:
                reason = f"connectorx is not installed ({exc})"
        if reason is not None:
            log.info("Reading %s over mysqlclient: %s.", settings.server, reason)
            return None
        (version, socket), *_ = self._rows("SELECT @@version, @@socket", "Reading the version")
        via_socket = "socket" in self._discovery_connection().get_host_info().lower()
        return source(
            settings,
            mariadb="mariadb" in str(version).lower(),
            timeout=self.config.fetch.timeout,
            socket=str(socket) if via_socket and socket else None,
        )

    # -- splits -------------------------------------------------------------------------

    async def splits(self, parallelism: int) -> list[Split]:
        self._bound_pool(parallelism)
        plan = functools.partial(self._plan_splits, parallelism)
        return await asyncio.to_thread(self._windowed, plan, count=True)

    def _incremental_dialect(self) -> tuple[MysqlDialect, Rows]:
        assert self.plan.table is not None

        def rows(sql: str, *params: Any) -> list[tuple[Any, ...]]:
            return self._rows(sql, "Planning the incremental window", *params)

        return MysqlDialect(rows, self.plan.table), rows

    def _plan_splits(self, parallelism: int) -> list[Split]:
        plan = self.plan
        if plan.table is not None:
            estimate = self._rows(
                "SELECT table_rows FROM information_schema.tables WHERE table_schema = %s "
                "AND table_name = %s",
                "Reading the row estimate",
                *plan.table,
            )
            total = estimate[0][0] if estimate else None
            self._records_total = int(total) if total is not None else None
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
            source=f"mysql:{self.config.connection.database}", split_id=split.id
        )
        size = self.batch_rows
        keyset = bool(self.plan.order(split))
        while keyset and self._arrow is not None:
            page = await asyncio.to_thread(self._arrow_page, split, position)
            if page is None:  # connectorx cannot connect: mysqlclient reads on from here
                break
            more = page.num_rows > size
            page = page.slice(0, size)
            if not page.num_rows:
                return
            width = len(self.plan.columns)
            last = tuple(column[-1].as_py() for column in page.columns[width:])
            position = self.plan.next_position(last, split, position, page.num_rows)
            records += page.num_rows
            checkpoint = Checkpoint(split.id, position, records, not more)
            yield Batch(self._convert(page.columns[:width]), metadata, checkpoint)
            if not more:
                return
        connection = await asyncio.to_thread(self._pool.acquire)
        deadline = Deadline(self.config.fetch.timeout, self._killer(connection), TIMEOUT)
        cursor: Any = None
        finished = False  # the whole result was read: the connection can serve another split
        try:
            ahead: list[tuple[Any, ...]] = []  # one row read ahead tells whether more follow
            while True:
                if keyset:
                    rows = await asyncio.to_thread(
                        self._page, connection, split, position, deadline
                    )
                else:
                    if cursor is None:
                        cursor = await asyncio.to_thread(
                            self._stream, connection, split, position, deadline
                        )
                    wanted = size + 1 - len(ahead)
                    fetched = await asyncio.to_thread(self._fetch, cursor, wanted, split, deadline)
                    rows = ahead + fetched
                more = len(rows) > size
                rows, ahead = rows[:size], rows[size:]
                finished = not more
                if not rows:
                    return
                position = self.plan.next_position(rows[-1], split, position, len(rows))
                records += len(rows)
                checkpoint = Checkpoint(split.id, position, records, not more)
                data = self._convert(_raw_columns(rows, self.plan.columns))
                yield Batch(data, metadata, checkpoint)
                if not more:
                    return
        finally:
            await asyncio.to_thread(self._give_back, connection, cursor, finished)

    def _arrow_page(self, split: Split, position: dict[str, JSONValue]) -> pa.RecordBatch | None:
        """One keyset page (up to `batch_rows + 1` rows, columns then keys) read by
        connectorx; None when connectorx cannot connect before it ever did (an auth plugin
        or socket it does not speak): mysqlclient reads the rest of the run."""
        action = self._action(split)
        timeout = self.config.fetch.timeout
        timed_out = None
        if timeout is not None:
            timed_out = str(Deadline(timeout, lambda: None, TIMEOUT).error(action))
        while (arrow := self._arrow) is not None:
            sql = self.plan.select_sql(
                split, position, self.batch_rows, arrow=True, temporal_text=self._temporal_text,
                marker=f"fustgo {self.context.pipeline_name} {self.context.component_path}",
            )  # fmt: skip
            try:
                page = arrow.read(sql, self.batch_rows + 1)
            except ConversionFailed as exc:
                if self._temporal_text:
                    raise TerminalError(f"{action}: {exc}.") from exc
                self.context.logger.warning(
                    "%s: connectorx cannot convert a value (%s); dates and timestamps are read "
                    "as text from now on, bad values go to the dead letter.", action, exc,
                )  # fmt: skip
                self._temporal_text = True
                continue
            except ConnectFailed as exc:
                if self._arrow_worked:
                    raise translate(exc, action, self.config.connection, WHERE, None) from exc
                self.context.logger.warning(
                    "%s: connectorx could not connect (%s); reading over mysqlclient.",
                    action, translate(exc, action, self.config.connection, WHERE, None),
                )  # fmt: skip
                self._arrow = None
                return None
            except Exception as exc:
                error = translate(exc, action, self.config.connection, WHERE, timed_out)
                raise error from exc
            self._arrow_worked = True
            return page
        return None

    def _killer(self, connection: Connection) -> Any:
        """What `fetch.timeout` runs to stop the session's statement (from another session)."""
        thread_id = connection.thread_id()
        return lambda: kill_query(self.config.connection, thread_id, where=WHERE)

    def _give_back(self, connection: Connection, cursor: Any, finished: bool) -> None:
        """Return the split's connection to the pool, or close it after an error or a stop
        (closing a cursor whose rows still stream would read them all first)."""
        if finished:
            try:
                if cursor is not None:
                    cursor.close()
                connection.commit()  # end the read-only transaction
            except Exception:
                finished = False
        self._pool.release(connection, reusable=finished)

    def _action(self, split: Split) -> str:
        return f"Reading {self.plan.label} ({split.description or split.id})"

    def _page(
        self,
        connection: Connection,
        split: Split,
        position: dict[str, JSONValue],
        deadline: Deadline,
    ) -> list[tuple[Any, ...]]:
        """One keyset page (up to `batch_rows + 1` rows) over an unbuffered cursor."""
        from MySQLdb.cursors import SSCursor

        action = self._action(split)
        try:
            with deadline.armed(action), connection.cursor(SSCursor) as cursor:
                cursor.execute(self.plan.select_sql(split, position, self.batch_rows))
                rows = list(cursor.fetchall())
            connection.commit()
            return rows
        except Exception as exc:
            raise translate_error(exc, action, self.config.connection, WHERE) from exc

    def _stream(
        self,
        connection: Connection,
        split: Split,
        position: dict[str, JSONValue],
        deadline: Deadline,
    ) -> Any:
        """An unbuffered cursor over the split's remaining rows (no keyset: OFFSET resume)."""
        from MySQLdb.cursors import SSCursor

        action = self._action(split)
        try:
            cursor = connection.cursor(SSCursor)
            with deadline.armed(action):
                cursor.execute(self.plan.select_sql(split, position, self.batch_rows))
        except Exception as exc:
            raise translate_error(exc, action, self.config.connection, WHERE) from exc
        return cursor

    def _fetch(
        self, cursor: Any, rows: int, split: Split, deadline: Deadline
    ) -> list[tuple[Any, ...]]:
        action = self._action(split)
        try:
            with deadline.armed(action):
                return list(cursor.fetchmany(rows))
        except Exception as exc:
            raise translate_error(exc, action, self.config.connection, WHERE) from exc

    def _convert(self, raw: Sequence[pa.Array]) -> pa.RecordBatch:
        """Columns as read, as Arrow columns of their logical types; unparsable rows are
        rejected."""
        arrays: list[pa.Array] = []
        failed: pa.Array | None = None
        messages: pa.Array | None = None
        for index, column in enumerate(self.plan.columns):
            array, bad, raw_text = _to_logical(raw[index], column)
            arrays.append(array)
            if bad is not None:
                note = pc.if_else(
                    bad,
                    pc.binary_join_element_wise(
                        f"Column `{column.name}` ({column.declared}) holds `",
                        raw_text,
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


def _raw_columns(rows: Sequence[tuple[Any, ...]], columns: list[ReadColumn]) -> list[pa.Array]:
    """mysqlclient's rows as Arrow columns: numbers as numbers, the rest as sent."""
    values = list(zip(*rows, strict=True))
    arrays = []
    for index, column in enumerate(columns):
        logical = column.logical
        if logical.kind in INTEGER_KINDS or logical.kind in FLOAT_KINDS:
            arrays.append(pa.array(values[index], logical.to_arrow()))
        elif logical.kind == "bool":
            arrays.append(pa.array(values[index], pa.int64()))
        elif logical.kind in ("string", "json", "binary"):
            arrays.append(pa.array(values[index], logical.to_arrow()))
        else:  # decimals, dates and times, as the server wrote them
            arrays.append(pa.array(values[index], pa.string()))
    return arrays


def _to_logical(
    raw: pa.Array, column: ReadColumn
) -> tuple[pa.Array, pa.Array | None, pa.Array | None]:
    """(the column as its logical Arrow type, rows that failed or None, the raw text).

    Text (decimals, times; dates when they came as text) is parsed a column at a time;
    everything else is cast: integers to their width, any non-zero to true, connectorx's
    large strings and binaries (text of a `*_bin` collation comes as binary) to UTF-8
    checked strings, naive timestamps of a UTC session to UTC instants."""
    logical = column.logical
    target = logical.to_arrow()
    if logical.kind in ("string", "json"):
        return pc.cast(raw, pa.string()), None, None
    textual = pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type)
    if textual and logical.kind != "binary":
        text = pc.cast(raw, pa.string())
        parsed = parse_text(text, logical)
        return parsed.values, parsed.failed, text
    return pc.cast(raw, target), None, None


def _register_aliases() -> None:
    """`mariadb` and `tidb` speak the same protocol: the same plugin under their names."""
    for name, title in (("mariadb", "MariaDB"), ("tidb", "TiDB")):
        examples = [{**example, "type": name} for example in _EXAMPLES]
        register_input(
            name,
            config=MysqlInputConfig,
            family="rdb",
            title=title,
            capabilities={"split", "resume"},
            examples=examples,
        )(MysqlInput)


_register_aliases()
