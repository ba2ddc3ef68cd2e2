"""Connections of one run: a small pool shared by the splits, and the read deadline.

A table input reads many splits, one after the other on each of `settings.parallelism`
channels. Connecting costs a TLS handshake, authentication and session setup each time,
so the connections live in a per-run pool: a split takes one, returns it when it has read
everything, and the next split reuses it. A connection that failed, or whose result was
not read to the end, is closed instead of returned, so a dropped connection never comes
back; an idle one is checked before reuse (the server may have closed it meanwhile).

`Deadline` implements `input.fetch.timeout`: it cancels a blocking wait on the server that
lasts too long (the driver's own cancel, or `KILL QUERY`), so that one slow query fails
with a message naming the setting instead of hanging the run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from fustgo.engine.errors import RetryableError, TerminalError

C = TypeVar("C")
log = logging.getLogger(__name__)


class ConnectionPool(Generic[C]):
    """Connections reused across the splits of one run; thread-safe, blocking calls.

    `connect` opens a new connection (raising FustGo errors), `close` closes one, `check`
    raises when an idle connection is no longer usable. At most `limit` connections are
    open at once (None: as many as are asked for at the same time); `acquire` waits up to
    `wait_seconds` for one to be returned when the limit is reached.
    """

    def __init__(
        self,
        connect: Callable[[], C],
        *,
        close: Callable[[C], None],
        check: Callable[[C], None] | None = None,
        limit: int | None = None,
        wait_seconds: float = 60.0,
    ) -> None:
        self._connect = connect
        self._close = close
        self._check = check
        self._limit = limit
        self._wait_seconds = wait_seconds
        self._idle: list[C] = []
        self._in_use = 0
        self._closed = False
        self._condition = threading.Condition()
        self.opened = 0
        """Connections opened so far (tests and logs: how well reuse works)."""
        self.reused = 0
        """Times an idle connection was handed out again."""
        self.discarded = 0
        """Connections closed because they failed or were left mid-result."""

    @property
    def limit(self) -> int | None:
        return self._limit

    @limit.setter
    def limit(self, value: int | None) -> None:
        with self._condition:
            self._limit = value
            self._condition.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def open_connections(self) -> int:
        """Connections open now: handed out plus idle."""
        with self._condition:
            return self._in_use + len(self._idle)

    def acquire(self) -> C:
        """An idle connection that still works, else a new one."""
        while True:
            idle = self._take()
            if idle is None:
                break
            if self._usable(idle):
                with self._condition:
                    self.reused += 1
                return idle
            self._forget(idle)  # closed by the server while idle: try the next one
        try:
            connection = self._connect()
        except BaseException:
            with self._condition:
                self._in_use -= 1
                self._condition.notify()
            raise
        with self._condition:
            self.opened += 1
        return connection

    def release(self, connection: C, *, reusable: bool = True) -> None:
        """Return a connection; one that failed or holds an unfinished result is closed."""
        with self._condition:
            self._in_use -= 1
            keep = reusable and not self._closed
            if keep:
                self._idle.append(connection)
            elif not reusable:
                self.discarded += 1
            self._condition.notify()
        if not keep:
            self._close_quietly(connection)

    @contextmanager
    def connection(self) -> Iterator[C]:
        """A connection for the block; discarded if the block raises."""
        connection = self.acquire()
        reusable = False
        try:
            yield connection
            reusable = True
        finally:
            self.release(connection, reusable=reusable)

    def close(self) -> None:
        """Close the idle connections; those still handed out are closed when returned."""
        with self._condition:
            self._closed = True
            idle, self._idle = self._idle, []
            self._condition.notify_all()
        for connection in idle:
            self._close_quietly(connection)

    def _take(self) -> C | None:
        """Count one more connection in use: an idle one, or None to open a new one."""
        deadline = time.monotonic() + self._wait_seconds
        with self._condition:
            while True:
                if self._closed:
                    raise TerminalError("A connection was asked for after the input closed.")
                if self._idle:
                    self._in_use += 1
                    return self._idle.pop()
                if self._limit is None or self._in_use < self._limit:
                    self._in_use += 1
                    return None
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RetryableError(
                        f"All {self._limit} connections of the input are in use after "
                        f"waiting {self._wait_seconds:.0f} s."
                    )
                self._condition.wait(left)

    def _usable(self, connection: C) -> bool:
        if self._check is None:
            return True
        try:
            self._check(connection)
        except Exception as exc:
            log.info("A pooled connection no longer works (%s); opening a new one.", exc)
            return False
        return True

    def _forget(self, connection: C) -> None:
        with self._condition:
            self._in_use -= 1
            self.discarded += 1
            self._condition.notify()
        self._close_quietly(connection)

    def _close_quietly(self, connection: C) -> None:
        try:
            self._close(connection)
        except Exception as exc:  # a dropped connection often fails to close cleanly
            log.debug("Closing a connection failed: %s", exc)


class Deadline:
    """Cancels a blocking wait on the server that lasts longer than `seconds`.

    `cancel` runs in a timer thread and must interrupt the wait (ADBC's `adbc_cancel`, or
    `KILL QUERY` from another connection). Once it has fired, the wait ends with a
    `TerminalError` naming `field`, even if the server answered in the same instant: the
    cancellation may still be on its way, so that connection is not used again.
    """

    def __init__(self, seconds: float | None, cancel: Callable[[], None], field: str) -> None:
        self.seconds = seconds
        self._cancel = cancel
        self._field = field
        self.fired = False

    @contextmanager
    def armed(self, action: str) -> Iterator[None]:
        """Guard one blocking call; `action` says what waited (`Reading orders (all rows)`)."""
        if self.seconds is None:
            yield
            return
        timer = threading.Timer(self.seconds, self._fire)
        timer.daemon = True
        timer.start()
        try:
            yield
        except Exception as exc:
            if self.fired:
                raise self.error(action) from exc
            raise
        finally:
            timer.cancel()
        if self.fired:
            raise self.error(action)

    def error(self, action: str) -> TerminalError:
        return TerminalError(
            f"{action}: the server sent no rows for {self.seconds:g} s, the limit set by "
            f"`{self._field}`; raise it (or omit it for no limit), or make the query faster "
            "(an index on `split_key`, a narrower `where`)."
        )

    def _fire(self) -> None:
        self.fired = True
        try:
            self._cancel()
        except Exception as exc:
            log.warning("Cancelling a query after `%s` failed: %s", self._field, exc)
