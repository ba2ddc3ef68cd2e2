"""A metadata store that stops answering while the server runs: requests get 503 with the
JSON error body and a Retry-After, /health says `degraded`, the log has one line per
request and no traceback, and the server answers again once the database is back."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from fustgo.config.app import DatabaseSettings
from fustgo.engine.errors import DataError, RetryableError, TerminalError
from fustgo.server.errors import status_of
from fustgo.server.settings import ServerSettings
from tests.databases import pg_schema
from tests.server.conftest import make_client

pytestmark = pytest.mark.integration


class Proxy:
    """A TCP relay to PostgreSQL that can be cut (listener closed, connections reset) and
    put back on the same port: the database, as the server sees it, goes away."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        assert self._listener is not None
        with suppress(OSError):  # wakes the thread blocked in accept(), which close() won't
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for sock in self._sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@contextmanager
def proxied_store(tmp_path: Path) -> Iterator[tuple[Proxy, ServerSettings]]:
    proxy = Proxy(("127.0.0.1", 5432))
    proxy.start()
    with pg_schema("outage") as schema:
        url = (
            f"postgresql://postgres@127.0.0.1:{proxy.port}/test"
            f"?options=-csearch_path%3D{schema}&connect_timeout=3"
        )
        try:
            yield proxy, ServerSettings(db=DatabaseSettings(type="postgresql", url=url),
                                        base_dir=tmp_path)  # fmt: skip
        finally:
            with suppress(AssertionError, OSError):
                proxy.cut()


def test_an_unreachable_store_is_503_without_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with proxied_store(tmp_path) as (proxy, settings), make_client(settings) as client:
        assert client.get("/api/v1/jobs").status_code == 200
        proxy.cut()
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            for path in ("/api/v1/jobs", "/api/v1/connections", "/api/v1/alerts"):
                response = client.get(path)
                assert response.status_code == 503, response.text
                error = response.json()["error"]
                assert error["message"].startswith("The metadata store does not answer: ")
                assert "`db:`" in error["hint"] and response.headers["Retry-After"] == "5"
            health = client.get("/health")
            assert health.status_code == 503 and health.json()["status"] == "degraded"
        assert not [record for record in caplog.records if record.exc_info], caplog.text
        assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
        outage_lines = [r for r in caplog.records if "does not answer" in r.getMessage()]
        assert len(outage_lines) == 3

        proxy.start()  # the database is back on the same address
        assert client.get("/api/v1/jobs").status_code == 200
        assert client.get("/health").json()["status"] == "ok"


def test_fustgo_errors_map_to_client_or_retry_statuses() -> None:
    """What a request names and retrying cannot fix is the client's (422); what may
    succeed later is 503; neither is a 500."""
    assert status_of(TerminalError("table `x` does not exist")) == 422
    assert status_of(DataError("row 3: not a number")) == 422
    assert status_of(RetryableError("timed out", retry_after_seconds=2)) == 503
