"""gunicorn's `gthread` worker, but a connection reaches a request thread only once its whole
request head has arrived: idle or slow clients wait in the event loop, not on a thread."""

from __future__ import annotations

import selectors
import socket
import time
from collections import deque
from functools import partial
from typing import Any

from gunicorn.http.parser import RequestParser
from gunicorn.workers.gthread import TConn, ThreadWorker

from bot.transport.limits import CLIENT_SECONDS, MAX_HEAD_BYTES

_HEAD_END = b"\r\n\r\n"
_RECV_BYTES = 8192


class _HeadFirstConn(TConn):
    """A connection that carries the request head read so far, handed to its parser at start."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.head = bytearray()
        self.deadline = time.monotonic() + CLIENT_SECONDS

    def restart_head(self) -> None:
        """Wait for the next request's head on a kept-alive connection."""
        self.head.clear()
        self.deadline = time.monotonic() + CLIENT_SECONDS

    def init(self) -> None:
        """Build the parser as gthread does, then give it the head already read."""
        super().init()
        # In a request thread every read and write is bounded: a body or a reader that
        # stalls frees the thread after CLIENT_SECONDS instead of never.
        self.sock.settimeout(CLIENT_SECONDS)
        if self.head:
            # Plain HTTP/1.1: the workers serve neither TLS nor HTTP/2.
            assert isinstance(self.parser, RequestParser)
            self.parser.unreader.unread(bytes(self.head))
            self.head.clear()


class HeadFirstWorker(ThreadWorker):
    """gthread with the request head read in the event loop, within CLIENT_SECONDS."""

    def init_process(self) -> None:
        """Start the queue of connections still sending their head, then gthread's loop."""
        self.reading_heads: deque[_HeadFirstConn] = deque()
        super().init_process()

    def accept(self, listener: socket.socket) -> None:
        """Accept a connection and read its head in the loop (gthread gives it a thread)."""
        try:
            client, address = listener.accept()
        except (BlockingIOError, ConnectionAbortedError):
            return
        self.nr_conns += 1
        conn = _HeadFirstConn(self.cfg, client, address, listener.getsockname())
        self._read_head(conn)

    def on_client_socket_readable(self, conn: TConn, client: socket.socket) -> None:
        """A kept-alive connection's next request: its head too is read in the loop."""
        assert isinstance(conn, _HeadFirstConn)  # accept() makes no other kind
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        conn.restart_head()
        self._read_head(conn)

    def _read_head(self, conn: _HeadFirstConn) -> None:
        conn.sock.setblocking(False)
        self.reading_heads.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_head_data, conn))

    def _on_head_data(self, conn: _HeadFirstConn, client: socket.socket) -> None:
        try:
            data = client.recv(_RECV_BYTES)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._drop(conn)
            return
        conn.head += data
        # A head over the limit goes on too: gunicorn's parser refuses it with a 400.
        if _HEAD_END in conn.head or len(conn.head) > MAX_HEAD_BYTES:
            self.poller.unregister(client)
            self.reading_heads.remove(conn)
            conn.data_ready = True
            self.enqueue_req(conn)

    def _drop(self, conn: _HeadFirstConn) -> None:
        self.poller.unregister(conn.sock)
        self.reading_heads.remove(conn)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """gthread's clean-up of waiting connections (once a second), plus slow heads."""
        super().murder_pending()
        now = time.monotonic()
        # Deadlines grow in the order connections joined, so the expired ones lead.
        while self.reading_heads and self.reading_heads[0].deadline <= now:
            self._drop(self.reading_heads[0])
