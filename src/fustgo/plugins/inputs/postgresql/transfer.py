"""PostgreSQL → PostgreSQL without decoding: the binary COPY stream passed through.

When a pipeline copies a PostgreSQL table into a PostgreSQL table with no processor in
between, decoding every value into Arrow and encoding it back costs the client about four
times the CPU the servers spend. Instead each split runs `COPY (SELECT …) TO STDOUT
(FORMAT binary)` on the source and feeds the bytes, unparsed, to `COPY … FROM STDIN
(FORMAT binary)` on the target, in one target transaction per split. Binary COPY data
is type-specific, so this is offered only when every column has the same base type on
both sides (the target's type modifiers still apply: a value too long for `varchar(5)`
is refused by the server) and the output inserts plainly (`insert` or `truncate`, key
conflicts are errors). A refused row fails the split's transaction with a `DataError`,
and the runner reads that split the ordinary way to isolate the row.

libpq's low-level COPY calls (psycopg's `pq` module) hand over one row per message, so
the loop only counts messages and joins them into 1 MiB writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fustgo.engine.batch import Split
from fustgo.engine.errors import FustgoError, TerminalError
from fustgo.plugins.clients.postgresql import (
    PostgresConnection,
    base_name,
    quote,
    translate_error,
)

if TYPE_CHECKING:
    from psycopg import pq

    from fustgo.plugins.inputs.postgresql import PostgresqlInput
    from fustgo.plugins.outputs.postgresql import PostgresqlOutput

log = logging.getLogger(__name__)

WRITE_BYTES = 1 << 20
"""Bytes joined into one write to the target."""
PROGRESS_ROWS = 50_000
"""Rows between two progress reports."""


class ServerError(Exception):
    """A libpq error with its SQLSTATE, in the shape `translate_error` reads."""

    def __init__(self, message: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class CopyStopped(Exception):
    """The run is stopping: the split's transaction is rolled back."""


class PostgresTransfer:
    """Copies splits of a `postgresql` input into a `postgresql` output, bytes unparsed."""

    def __init__(self, source: PostgresqlInput, target: PostgresqlOutput) -> None:
        self.source = source
        self.target = target
        self.description = "binary COPY pass-through"
        self._table = ""

    async def prepare(self) -> bool:
        """Accept when every source column is in the target with the same base type."""
        target_types = self.target.column_types()
        for column in self.source.plan.columns:
            declared = target_types.get(column.name)
            if declared is None or base_name(declared)[:2] != base_name(column.declared)[:2]:
                log.info(
                    "Not passing COPY data through: column `%s` is %s in the source and %s "
                    "in the target; rows are converted instead.",
                    column.name, column.declared, declared or "missing",
                )  # fmt: skip
                return False
        self._table = await self.target.start_direct_copy()
        self.description = f"binary COPY pass-through into {self._table}"
        return True

    async def copy(self, split: Split, progress: Callable[[int, int], None]) -> int:
        stop = threading.Event()
        work = asyncio.ensure_future(asyncio.to_thread(self._copy, split, progress, stop))
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            stop.set()  # the thread rolls the split back before the run closes the output
            with contextlib.suppress(Exception):
                await work
            raise

    def _copy(
        self, split: Split, progress: Callable[[int, int], None], stop: threading.Event
    ) -> int:
        plan = self.source.plan
        names = ", ".join(quote(column.name) for column in plan.columns)
        pipeline = self.source.context.pipeline_name
        action = f"Copying {plan.label} ({split.description or split.id}) into {self._table}"
        source, target = self.source.config.connection, self.target.config.connection
        reading = _Session(source, "input.connection", read_only=True, pipeline=pipeline)
        try:
            writing = _Session(target, "output.connection", read_only=False, pipeline=pipeline)
        except BaseException:
            reading.close()
            raise
        try:
            writing.run(b"BEGIN", action)
            reading.start_copy(f"COPY ({plan.copy_sql(split)}) TO STDOUT (FORMAT binary)", action)
            writing.start_copy(f"COPY {self._table} ({names}) FROM STDIN (FORMAT binary)", action)
            self._stream(reading, writing, progress, stop, action)
            reading.finish(action)
            rows = writing.end_copy(action)
            writing.run(b"COMMIT", action)
            return rows
        finally:  # closing a connection in a transaction rolls it back
            reading.close()
            writing.close()

    @staticmethod
    def _stream(
        reading: _Session,
        writing: _Session,
        progress: Callable[[int, int], None],
        stop: threading.Event,
        action: str,
    ) -> None:
        get, put = reading.connection.get_copy_data, writing.connection.put_copy_data
        buffer = bytearray()
        messages = reported_rows = reported_bytes = streamed = 0
        while True:
            size, data = get(0)
            if size < 0:
                if size == -2:
                    raise reading.failure(action)
                break
            buffer += data
            messages += 1
            if len(buffer) >= WRITE_BYTES:
                streamed += len(buffer)
                if put(buffer) < 0:
                    raise writing.failure(action)
                buffer = bytearray()
                if stop.is_set():
                    raise CopyStopped
                rows = max(messages - 1, 0)  # the first message is the header
                if rows - reported_rows >= PROGRESS_ROWS:
                    progress(rows - reported_rows, streamed - reported_bytes)
                    reported_rows, reported_bytes = rows, streamed
        if buffer:
            streamed += len(buffer)
            if put(buffer) < 0:
                raise writing.failure(action)
        rows = max(messages - 1, 0)
        progress(rows - reported_rows, streamed - reported_bytes)


class _Session:
    """One libpq connection driven with psycopg's low-level `pq` calls."""

    def __init__(
        self, settings: PostgresConnection, where: str, *, read_only: bool, pipeline: str
    ) -> None:
        from psycopg import conninfo, pq

        self.settings, self.where = settings, where
        application = f"fustgo {pipeline} {where.split('.', maxsplit=1)[0]} copy"
        parameters = settings.parameters(read_only=read_only, application=application)
        self.connection: pq.abc.PGconn = pq.PGconn.connect(
            conninfo.make_conninfo("", **parameters).encode()
        )
        if self.connection.status != pq.ConnStatus.OK:
            error = self.failure(f"Connecting to {settings.server}")
            self.connection.finish()
            raise error

    def run(self, sql: bytes, action: str) -> None:
        from psycopg import pq

        result = self.connection.exec_(sql)
        if result.status != pq.ExecStatus.COMMAND_OK:
            raise self._result_error(result, action)

    def start_copy(self, sql: str, action: str) -> None:
        from psycopg import pq

        result = self.connection.exec_(sql.encode())
        if result.status not in (pq.ExecStatus.COPY_OUT, pq.ExecStatus.COPY_IN):
            raise self._result_error(result, action)

    def finish(self, action: str) -> None:
        """The result of a COPY TO once its data is read."""
        from psycopg import pq

        while (result := self.connection.get_result()) is not None:
            if result.status != pq.ExecStatus.COMMAND_OK:
                raise self._result_error(result, action)

    def end_copy(self, action: str) -> int:
        """End a COPY FROM; the rows the server stored."""
        from psycopg import pq

        if self.connection.put_copy_end() < 0:
            raise self.failure(action)
        rows = 0
        while (result := self.connection.get_result()) is not None:
            if result.status != pq.ExecStatus.COMMAND_OK:
                raise self._result_error(result, action)
            rows = result.command_tuples or 0
        return rows

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.connection.finish()

    def failure(self, action: str) -> FustgoError:
        message = self.connection.error_message.decode(errors="replace").strip()
        return translate_error(
            ServerError(message or "the connection failed", None), action, self.settings,
            self.where,
        )  # fmt: skip

    def _result_error(self, result: pq.abc.PGresult, action: str) -> FustgoError:
        from psycopg import pq

        message = (result.error_message or b"").decode(errors="replace").strip()
        state = result.error_field(pq.DiagnosticField.SQLSTATE)
        if not message:
            return TerminalError(f"{action}: the server answered {result.status!r}.")
        return translate_error(
            ServerError(message, state.decode() if state else None), action, self.settings,
            self.where,
        )  # fmt: skip


def offer(source: PostgresqlInput, output: Any) -> PostgresTransfer | None:
    """The pass-through, when the output is a plainly inserting `postgresql` output."""
    from fustgo.plugins.outputs.postgresql import PostgresqlOutput

    if not isinstance(output, PostgresqlOutput) or not output.config.write.inserts_directly:
        return None
    return PostgresTransfer(source, output)
