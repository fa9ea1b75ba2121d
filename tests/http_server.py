"""A small HTTP server on 127.0.0.1 for tests: scripted routes, and a log of what was asked."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now (for a server a test starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Route:
    """What the server answers for one path.

    `statuses` are served in turn before `status` (e.g. [503] then 200). With `etag` or
    `last_modified` set, a matching conditional GET gets 304. `declared_length` overrides
    Content-Length (a larger value simulates a truncated transfer); `send_length=False` omits it.
    """

    body: bytes = b""
    status: int = 200
    content_type: str = "application/pdf"
    headers: dict[str, str] = field(default_factory=dict)
    statuses: list[int] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    redirect_to: str | None = None
    delay_s: float = 0.0
    declared_length: int | None = None
    send_length: bool = True


@dataclass
class Hit:
    """One request the server received."""

    path: str
    headers: dict[str, str]
    status: int


class LocalServer:
    """Serves `routes` (path -> Route) on a free port; `hits` records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def hits_for(self, path: str) -> list[Hit]:
        with self._lock:
            return [hit for hit in self.hits if hit.path == path]

    def full_downloads(self, path: str) -> int:
        """How many requests for `path` were answered 200 (with the body)."""
        return sum(1 for hit in self.hits_for(path) if hit.status == 200)

    def _record(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@contextmanager
def serving() -> Iterator[LocalServer]:
    """Yield a started LocalServer; stop it afterwards."""
    server = LocalServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _handler_for(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def handle(self) -> None:
            # The client hanging up early (size cap, timeout) is expected in tests.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                super().handle()

        def do_GET(self) -> None:
            self._answer(send_body=True)

        def do_HEAD(self) -> None:
            self._answer(send_body=False)

        def _answer(self, *, send_body: bool) -> None:
            route = server.routes.get(self.path)
            status = self._status(route)
            server._record(Hit(self.path, dict(self.headers.items()), status))
            if route is None or (status >= 400 and not route.body):
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if route.delay_s:
                time.sleep(route.delay_s)
            self.send_response(status)
            if route.redirect_to is not None:
                self.send_header("Location", route.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            for name, value in route.headers.items():
                self.send_header(name, value)
            if route.etag:
                self.send_header("ETag", route.etag)
            if route.last_modified:
                self.send_header("Last-Modified", route.last_modified)
            if status == 304:
                self.end_headers()
                return
            self.send_header("Content-Type", route.content_type)
            if route.send_length:
                length = route.declared_length or len(route.body)
                self.send_header("Content-Length", str(length))
            self.end_headers()
            if send_body:
                self.wfile.write(route.body)

        def _status(self, route: Route | None) -> int:
            if route is None:
                return 404
            if route.statuses:
                return route.statuses.pop(0)
            if route.redirect_to is not None:
                return 302
            conditional = route.etag and self.headers.get("If-None-Match") == route.etag
            conditional = conditional or (
                route.last_modified
                and not route.etag
                and self.headers.get("If-Modified-Since") == route.last_modified
            )
            return 304 if conditional else route.status

        def log_message(self, format: str, *args: object) -> None:
            """Keep test output quiet."""

    return Handler
