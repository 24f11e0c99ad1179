"""What every fake server of the tests shares: quiet threading HTTP/1.1 with keep-alive, and bugs kept, not printed.

A fake API object owns `errors` (tracebacks of bugs in the fake), `_lock`, and `_connections` (open sockets, so that
stopping the server can close them); its handler implements `_dispatch()` for every method.
"""

from __future__ import annotations

import sys
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeServer(ThreadingHTTPServer):
    """A threading server whose handler threads never keep the process alive and never print to stderr."""

    daemon_threads = True
    api: Any

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-answer are normal in fault tests; anything else is kept in api.errors."""
        if not isinstance(sys.exc_info()[1], OSError):
            self.api.errors.append(traceback.format_exc())


class FakeHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with Content-Length on every answer, so keep-alive works; every method goes to `_dispatch()`."""

    protocol_version = "HTTP/1.1"
    timeout = 60  # idle keep-alive connections give their thread back eventually
    # headers and body are two writes; without TCP_NODELAY, Nagle plus delayed ACK adds ~40 ms per keep-alive request
    disable_nagle_algorithm = True
    server: FakeServer

    def setup(self) -> None:
        super().setup()
        with self.server.api._lock:
            self.server.api._connections.add(self.connection)

    def finish(self) -> None:
        with self.server.api._lock:
            self.server.api._connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read the fake's request log instead."""

    def _dispatch(self) -> None:
        raise NotImplementedError

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()
