"""bounded_body at its edges: exactly 1 MiB passes whole, one byte more is refused, a body that
stops arriving is timed out, and requests without a body pass untouched."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

import pytest

from bot.transport.limits import MAX_BODY_BYTES, StartResponse, bounded_body


def _echo(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    start_response("200 OK", [])
    return [body]


class _Stalled(io.RawIOBase):
    """A socket's stream whose client has stopped sending: the read times out."""

    def read(self, size: int = -1) -> bytes:
        raise TimeoutError("timed out")


def _call(environ: dict[str, Any]) -> tuple[str, bytes]:
    statuses: list[str] = []
    body = b"".join(bounded_body(_echo)(environ, lambda status, _h: statuses.append(status)))
    return statuses[0], body


def _post(body: bytes, **environ: Any) -> dict[str, Any]:
    return {"REQUEST_METHOD": "POST", "wsgi.input": io.BytesIO(body), **environ}


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_of_exactly_the_limit_passes_whole(chunked: bool) -> None:
    body = b"x" * MAX_BODY_BYTES
    headers = (
        {"HTTP_TRANSFER_ENCODING": "chunked"} if chunked else {"CONTENT_LENGTH": str(len(body))}
    )

    assert _call(_post(body, **headers)) == ("200 OK", body)


@pytest.mark.parametrize("chunked", [False, True])
def test_one_byte_over_the_limit_is_refused(chunked: bool) -> None:
    body = b"x" * (MAX_BODY_BYTES + 1)
    headers = (
        {"HTTP_TRANSFER_ENCODING": "chunked"} if chunked else {"CONTENT_LENGTH": str(len(body))}
    )

    status, answer = _call(_post(body, **headers))

    assert status.startswith("413 ")
    assert answer == b'{"ok": false, "error": "body_too_large"}'


def test_a_declared_length_over_the_limit_is_refused_without_a_read() -> None:
    environ = {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(64 << 20), "wsgi.input": _Stalled()}

    assert _call(environ)[0].startswith("413 ")


def test_a_body_that_stops_arriving_is_timed_out() -> None:
    environ = {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": "10", "wsgi.input": _Stalled()}

    assert _call(environ)[0].startswith("408 ")


@pytest.mark.parametrize("length", ["-1", "1e3", "ten"])
def test_a_content_length_that_is_not_a_number_is_refused(length: str) -> None:
    assert _call(_post(b"", CONTENT_LENGTH=length))[0].startswith("400 ")


def test_a_request_without_a_body_passes_untouched() -> None:
    assert _call({"REQUEST_METHOD": "GET", "wsgi.input": _Stalled()}) == ("200 OK", b"")
