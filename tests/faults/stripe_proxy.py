"""An HTTP proxy on loopback in front of the Stripe stand-in that can be down, stall, fail or lose answers.

The app's real `stripe` client talks to the proxy; the proxy forwards to localstripe unless told to
misbehave on refunds (POST /v1/refunds):

- `down()` / `up()`: connections refused (the port stays reserved), then served again on it;
- `stall`: the refund request is never forwarded and never answered, so the client times out;
- `fail`: Stripe answers the refund with HTTP 500 and does nothing;
- `lose_answer`: Stripe makes the refund, but the connection drops before its answer arrives.
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal, Self
from urllib.parse import urlsplit

import pytest

import bot.app
from core.adapters.payments import Gateways
from core.config import Settings

HOST = "127.0.0.1"
REFUNDS = "/v1/refunds"

Fault = Literal["stall", "fail", "lose_answer"]
_API_ERROR = (
    b'{"error": {"type": "api_error", "message": "An unknown error occurred (proxy fault)."}}'
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, proxy: StripeProxy) -> None:
        self.proxy = proxy
        super().__init__((HOST, port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def do_DELETE(self) -> None:
        self._forward()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests look at what Stripe holds, not at access lines."""

    def _forward(self) -> None:
        proxy = self.server.proxy
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fault = proxy.fault if self.command == "POST" and self.path == REFUNDS else None
        if fault is not None:
            proxy.faulted.set()
        if fault == "stall":
            proxy.release.wait(30)
            self.close_connection = True
            return
        if fault == "fail":
            self._answer(500, _API_ERROR, "application/json")
            return
        upstream = http.client.HTTPConnection(HOST, proxy.upstream_port, timeout=10)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            upstream.request(self.command, self.path, body=body, headers=headers)
            reply = upstream.getresponse()
            content = reply.read()
        finally:
            upstream.close()
        if fault == "lose_answer":
            # Stripe did the work; the answer is lost on the way back.
            self.close_connection = True
            return
        self._answer(reply.status, content, reply.getheader("Content-Type") or "application/json")

    def _answer(self, status: int, content: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


class StripeProxy:
    """The proxy; `url` is the STRIPE_API_BASE the app should use."""

    def __init__(self, upstream_url: str) -> None:
        self.upstream_port = int(urlsplit(upstream_url).port or 80)
        self.fault: Fault | None = None
        # Set when a refund met the fault; `release` ends a stall.
        self.faulted = threading.Event()
        self.release = threading.Event()
        self.port = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._placeholder: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> Self:
        self._listen(0)
        return self

    def close(self) -> None:
        self.release.set()
        self._stop_serving()
        if self._placeholder is not None:
            self._placeholder.close()
            self._placeholder = None

    def down(self) -> None:
        """Refuse connections from now on; a bound, non-listening socket keeps the port ours."""
        self._stop_serving()
        placeholder = socket.socket()
        placeholder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        placeholder.bind((HOST, self.port))
        self._placeholder = placeholder

    def up(self) -> None:
        """Serve again on the same port, forwarding everything."""
        assert self._placeholder is not None, "the proxy is not down"
        self._placeholder.close()
        self._placeholder = None
        self.fault = None
        self._listen(self.port)

    def heal(self) -> None:
        """Forward every request from now on (and let a stalled one go)."""
        self.fault = None
        self.release.set()

    def _listen(self, port: int) -> None:
        server = _Server(port, self)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.01,), name="stripe-proxy", daemon=True
        )
        self._thread.start()

    def _stop_serving(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@contextmanager
def app_through_proxy(
    upstream_url: str, monkeypatch: pytest.MonkeyPatch, *, timeout: float
) -> Iterator[StripeProxy]:
    """A proxy in front of the Stripe stand-in, which every app built meanwhile reaches Stripe
    through, with `timeout` and no silent retry."""
    with StripeProxy(upstream_url) as running:

        def gateways(settings: Settings) -> Gateways:
            return Gateways(running.url, timeout=timeout, max_network_retries=0)

        monkeypatch.setattr(bot.app, "gateways_from_settings", gateways)
        yield running
