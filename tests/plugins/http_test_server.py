"""A local HTTP server for the HTTP plugins' tests: stdlib, in a thread, on a free port.

A test gives it a handler `(request) -> Reply`; the server records every request it saw
(method, path, query, headers, body), so tests assert what the plugin sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float = 0.0

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None


Handler = Callable[[Request], Reply]


@dataclass
class Server:
    url: str
    requests: list[Request]
    handler: list[Handler]

    def serve(self, handler: Handler) -> None:
        self.handler[0] = handler


@contextmanager
def http_server(handler: Handler | None = None) -> Iterator[Server]:
    """Serve `handler` on 127.0.0.1 at a free port for the duration of the block."""
    import time

    requests: list[Request] = []
    lock = threading.Lock()
    handlers: list[Handler] = [handler or (lambda _request: Reply())]

    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            request = Request(
                self.command, parts.path, query, dict(self.headers.items()), body, time.monotonic()
            )
            with lock:
                requests.append(request)
            reply = handlers[0](request)
            payload = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_HEAD = _any  # noqa: N815 (the stdlib's names)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{server.server_port}", requests, handlers)
    finally:
        server.shutdown()
        server.server_close()
