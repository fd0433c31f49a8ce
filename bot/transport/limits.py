"""HTTP request limits shared by both servers: the largest body, the longest head, how long a
client may take; and the middleware that answers 413 before reading a body over the limit."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# Far above any Slack payload (a large modal submission is tens of KiB).
MAX_BODY_BYTES = 1024 * 1024
# Request line and headers together; Slack's are under 2 KiB.
MAX_HEAD_BYTES = 64 * 1024
# A client that is silent this long (single process), or whose head or body takes longer to
# arrive (workers), is dropped: Slack sends a whole request at once and gives up after 3 s.
CLIENT_SECONDS = 10
# The servers' own body limits sit this far above ours, so chunked framing never trips them
# first and this middleware stays the one exact boundary.
SERVER_BODY_MARGIN = 64 * 1024

_READ_BYTES = 64 * 1024


class _Refused(Exception):
    """A body this middleware will not pass on, with the status that says why."""

    def __init__(self, status: str, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


def _refuse(start_response: StartResponse, refused: _Refused) -> list[bytes]:
    body = json.dumps({"ok": False, "error": refused.error}).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    start_response(refused.status, headers)
    return [body]


def _declared_length(environ: dict[str, Any]) -> int | None:
    """The body's Content-Length, or None when the body is chunked or absent."""
    raw = str(environ.get("CONTENT_LENGTH") or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise _Refused("400 Bad Request", "bad_content_length")
    return int(raw)


def _read_body(stream: Any, expected: int | None) -> bytes:
    """At most MAX_BODY_BYTES of the body, read within CLIENT_SECONDS."""
    deadline = time.monotonic() + CLIENT_SECONDS
    wanted = MAX_BODY_BYTES + 1 if expected is None else expected
    parts: list[bytes] = []
    received = 0
    while received < wanted:
        if time.monotonic() > deadline:
            raise _Refused("408 Request Timeout", "body_too_slow")
        try:
            part = stream.read(min(_READ_BYTES, wanted - received))
        except TimeoutError as exc:
            raise _Refused("408 Request Timeout", "body_too_slow") from exc
        if not part:
            break
        parts.append(part)
        received += len(part)
    if received > MAX_BODY_BYTES:
        raise _Refused("413 Content Too Large", "body_too_large")
    return b"".join(parts)


def bounded_body(app: WsgiApp) -> WsgiApp:
    """Wrap `app` so it sees a body only once the whole of it, at most MAX_BODY_BYTES, is read."""

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        chunked = "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower()
        try:
            expected = _declared_length(environ)
            if expected is not None and expected > MAX_BODY_BYTES:
                # Answered from the header alone: not a byte of such a body is read.
                raise _Refused("413 Content Too Large", "body_too_large")
            if expected is None and not chunked:
                return app(environ, start_response)
            body = _read_body(environ["wsgi.input"], expected)
        except _Refused as refused:
            log.warning("refused a request body (%s)", refused.error)
            return _refuse(start_response, refused)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return app(environ, start_response)

    return wsgi
