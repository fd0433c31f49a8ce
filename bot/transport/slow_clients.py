"""gunicorn's `gthread` worker, but a connection reaches a request thread only once its request
head and body have arrived: idle or slow clients wait in the event loop, not on a thread."""

from __future__ import annotations

import re
import selectors
import socket
import time
from collections import deque
from functools import partial
from typing import Any

from gunicorn.http.parser import RequestParser
from gunicorn.workers.gthread import TConn, ThreadWorker

from bot.transport.limits import CLIENT_SECONDS, MAX_BODY_BYTES, MAX_HEAD_BYTES

_HEAD_END = b"\r\n\r\n"
# Only to know how much to wait for: gunicorn's parser still judges the header.
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length[ \t]*:[ \t]*(\d{1,12})[ \t]*\r\n", re.IGNORECASE)
_RECV_BYTES = 64 * 1024


class _BufferedConn(TConn):
    """A connection that carries the request bytes read so far, handed to its parser at start."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.received = bytearray()
        self.deadline = time.monotonic() + CLIENT_SECONDS

    def restart(self) -> None:
        """Wait for the next request on a kept-alive connection."""
        self.received.clear()
        self.deadline = time.monotonic() + CLIENT_SECONDS

    def ready(self) -> bool:
        """Whether a thread may take the request: its head, and a body within the limit, are in."""
        end = self.received.find(_HEAD_END)
        if end < 0:
            # A head over the limit goes on too: gunicorn's parser refuses it with a 400.
            return len(self.received) > MAX_HEAD_BYTES
        length = _CONTENT_LENGTH.search(self.received, 0, end + 2)
        if length is None:
            # No body, or a chunked one: the request thread reads it, each read time-limited.
            return True
        expected = int(length[1])
        # A body over the limit is refused from its length, unread.
        return expected > MAX_BODY_BYTES or len(self.received) >= end + 4 + expected

    def init(self) -> None:
        """Build the parser as gthread does, then give it the bytes already read."""
        super().init()
        # In a request thread every read and write is bounded: a body or a reader that
        # stalls frees the thread after CLIENT_SECONDS instead of never.
        self.sock.settimeout(CLIENT_SECONDS)
        if self.received:
            # Plain HTTP/1.1: the workers serve neither TLS nor HTTP/2.
            assert isinstance(self.parser, RequestParser)
            self.parser.unreader.unread(bytes(self.received))
            self.received.clear()


class BufferingWorker(ThreadWorker):
    """gthread with each request read in the event loop, within CLIENT_SECONDS."""

    def init_process(self) -> None:
        """Start the queue of connections still sending a request, then gthread's loop."""
        self.reading: deque[_BufferedConn] = deque()
        super().init_process()

    def accept(self, listener: socket.socket) -> None:
        """Accept a connection and read its request in the loop (gthread gives it a thread)."""
        try:
            client, address = listener.accept()
        except (BlockingIOError, ConnectionAbortedError):
            return
        self.nr_conns += 1
        conn = _BufferedConn(self.cfg, client, address, listener.getsockname())
        self._read_request(conn)

    def on_client_socket_readable(self, conn: TConn, client: socket.socket) -> None:
        """A kept-alive connection's next request: it too is read in the loop."""
        assert isinstance(conn, _BufferedConn)  # accept() makes no other kind
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        conn.restart()
        self._read_request(conn)

    def _read_request(self, conn: _BufferedConn) -> None:
        conn.sock.setblocking(False)
        self.reading.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_data, conn))

    def _on_data(self, conn: _BufferedConn, client: socket.socket) -> None:
        try:
            data = client.recv(_RECV_BYTES)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._drop(conn)
            return
        conn.received += data
        if conn.ready():
            self.poller.unregister(client)
            self.reading.remove(conn)
            conn.data_ready = True
            self.enqueue_req(conn)

    def _drop(self, conn: _BufferedConn) -> None:
        self.poller.unregister(conn.sock)
        self.reading.remove(conn)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """gthread's clean-up of waiting connections (once a second), plus slow requests."""
        super().murder_pending()
        now = time.monotonic()
        # Deadlines grow in the order connections joined, so the expired ones lead.
        while self.reading and self.reading[0].deadline <= now:
            self._drop(self.reading[0])
