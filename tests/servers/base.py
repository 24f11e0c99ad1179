"""What every fake server of the tests shares: quiet threading HTTP/1.1 with keep-alive, and bugs kept, not printed.

A fake API object owns `errors` (tracebacks of bugs in the fake), `_lock`, and `_connections` (open sockets, so that
stopping the server can close them); its handler implements `_dispatch()` for every method.
"""

from __future__ import annotations

import signal
import socket
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

HOST = "127.0.0.1"  # the only address a fake ever binds


def free_port() -> int:
    """A port of HOST that is free now, for a server that must be told its port rather than given a socket."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class StartedInWith:
    """A fake that `with` starts and stops: subclasses define start() (returning self) and stop()."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


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


class ServedApi(StartedInWith):
    """Start and stop for a fake API object: serve `handler` on 127.0.0.1 in a daemon thread.

    Subclasses set `handler` and `server_class`, and give instances `_port`, `_lock`, `_connections`, `_server`,
    `_thread` and `base_url` in their `__init__`.
    """

    handler: type[FakeHandler]
    server_class: type[FakeServer] = FakeServer
    _port: int
    _lock: threading.Lock
    _connections: set[socket.socket]
    _server: FakeServer | None
    _thread: threading.Thread | None
    base_url: str

    def start(self) -> Self:
        """Bind an ephemeral (or the given) port on 127.0.0.1 and serve; base_url becomes http://127.0.0.1:PORT."""
        if self._server is not None:
            return self
        server = self.server_class((HOST, self._port), self.handler)
        server.api = self
        self._server = server
        self.base_url = f"http://{HOST}:{server.server_address[1]}"
        # a short poll interval makes stop() quick, which matters when a test suite starts many servers
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and cut open keep-alive connections, so a stopped server really answers nothing."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def announced_url(self) -> str:
        """What a command-line run prints first: where clients should send their requests."""
        return self.base_url

    def serve_until_signalled(self) -> None:
        """Serve from the command line: print the base URL first (a parent process reads it), stop on SIGTERM/SIGINT."""
        stopped = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopped.set())
        self.start()
        print(self.announced_url(), flush=True)
        try:
            stopped.wait()
        finally:
            self.stop()
