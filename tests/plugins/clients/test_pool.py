"""The per-run connection pool and the read deadline, with fake connections."""

from __future__ import annotations

import threading
import time

import pytest

from fustgo.engine.errors import RetryableError, TerminalError
from fustgo.plugins.clients.pool import ConnectionPool, Deadline

pytestmark = pytest.mark.unit


class Fake:
    """A connection that knows whether it was closed and whether the server dropped it."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.closed = False
        self.dropped = False

    def close(self) -> None:
        if self.closed:
            raise RuntimeError("closed twice")
        self.closed = True


class Server:
    def __init__(self) -> None:
        self.connections: list[Fake] = []

    def connect(self) -> Fake:
        connection = Fake(len(self.connections))
        self.connections.append(connection)
        return connection


def check(connection: Fake) -> None:
    if connection.dropped:
        raise ConnectionError("server closed the connection")


def pool(server: Server, limit: int | None = None, wait: float = 5.0) -> ConnectionPool[Fake]:
    return ConnectionPool(
        server.connect, close=Fake.close, check=check, limit=limit, wait_seconds=wait
    )


def test_a_returned_connection_serves_the_next_split() -> None:
    server = Server()
    connections = pool(server)
    first = connections.acquire()
    connections.release(first)
    assert connections.acquire() is first
    assert (connections.opened, connections.reused, len(server.connections)) == (1, 1, 1)


def test_a_connection_that_failed_is_closed_not_returned() -> None:
    server = Server()
    connections = pool(server)
    with pytest.raises(ValueError), connections.connection() as broken:
        raise ValueError("the read failed")
    assert broken.closed
    fresh = connections.acquire()
    assert fresh is not broken and not fresh.closed
    assert connections.discarded == 1


def test_an_idle_connection_the_server_dropped_is_replaced() -> None:
    server = Server()
    connections = pool(server)
    first, second = connections.acquire(), connections.acquire()
    connections.release(first)
    connections.release(second)
    first.dropped = second.dropped = True
    third = connections.acquire()
    assert third not in (first, second)
    assert first.closed and second.closed
    assert connections.open_connections == 1


def test_connections_are_bounded_and_a_waiting_split_gets_a_returned_one() -> None:
    server = Server()
    connections = pool(server, limit=2)
    held = [connections.acquire(), connections.acquire()]
    got: list[Fake] = []
    waiter = threading.Thread(target=lambda: got.append(connections.acquire()))
    waiter.start()
    time.sleep(0.1)
    assert not got  # waiting: two are open and both are in use
    connections.release(held[0])
    waiter.join(2)
    assert got == [held[0]]
    assert len(server.connections) == 2


def test_waiting_too_long_for_a_connection_is_retryable() -> None:
    connections = pool(Server(), limit=1, wait=0.1)
    connections.acquire()
    with pytest.raises(RetryableError, match="All 1 connections"):
        connections.acquire()


def test_a_failed_connect_frees_its_place() -> None:
    attempts = []

    def connect() -> Fake:
        attempts.append(1)
        if len(attempts) == 1:
            raise RetryableError("refused")
        return Fake(len(attempts))

    connections = ConnectionPool(connect, close=Fake.close, limit=1, wait_seconds=0.1)
    with pytest.raises(RetryableError):
        connections.acquire()
    assert connections.acquire().number == 2


def test_closing_closes_idle_connections_and_those_returned_later() -> None:
    server = Server()
    connections = pool(server)
    idle, busy = connections.acquire(), connections.acquire()
    connections.release(idle)
    connections.close()
    assert idle.closed and not busy.closed
    connections.release(busy)
    assert busy.closed
    with pytest.raises(TerminalError):
        connections.acquire()


def test_a_deadline_cancels_a_wait_that_lasts_too_long() -> None:
    cancelled = threading.Event()
    deadline = Deadline(0.05, cancelled.set, "input.fetch.timeout")
    expected = r"Reading t: .*0\.05 s.*`input\.fetch\.timeout`"
    with pytest.raises(TerminalError, match=expected), deadline.armed("Reading t"):
        assert cancelled.wait(2)  # the driver's wait, interrupted by the cancel
        raise OSError("canceling statement due to user request")


def test_a_fired_deadline_fails_even_when_the_server_answered_in_time() -> None:
    deadline = Deadline(0.01, lambda: None, "input.fetch.timeout")
    with pytest.raises(TerminalError, match=r"input\.fetch\.timeout"), deadline.armed("t"):
        time.sleep(0.1)


def test_a_quick_wait_and_no_limit_pass_through() -> None:
    calls: list[int] = []
    for seconds in (None, 5.0):
        with Deadline(seconds, lambda: calls.append(1), "input.fetch.timeout").armed("x"):
            pass
        with pytest.raises(KeyError), Deadline(seconds, lambda: None, "f").armed("x"):
            raise KeyError("not a timeout")
    assert calls == []
