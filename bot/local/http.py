"""Serve a WSGI application on 127.0.0.1 in a background thread, for tests and the console."""

from __future__ import annotations

import threading
from collections.abc import Callable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import WSGIApplication


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: an access line per request would drown test and console output."""


def serve_wsgi(app: WSGIApplication) -> tuple[str, Callable[[], None]]:
    """Start serving `app` on a free loopback port; returns its root URL and a stop function."""
    server = make_server(
        "127.0.0.1", 0, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    # A short poll interval keeps stop() quick: shutdown waits for the loop to look again.
    thread = threading.Thread(
        target=server.serve_forever, args=(0.01,), name="local-wsgi", daemon=True
    )
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join()

    return f"http://127.0.0.1:{server.server_port}", stop
