"""The real server process bounds what clients can make it do, in one process (waitress, SQLite)
and with two workers (gunicorn, PostgreSQL): bodies over 1 MiB are refused without being read,
and hundreds of clients that send half a request neither stall a signed command nor stay."""

from __future__ import annotations

import http.client
import os
import select
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from bot.local import AppEndpoint, LocalSlackAPI, SlackDriver, SlackUser, SlackWorkspace
from bot.transport.limits import CLIENT_SECONDS, MAX_BODY_BYTES
from tests.conftest import PG_ENV, scratch_database
from tests.integration.server_process import free_port, server_env, serving
from tests.slack.conftest import TRIGGER_TTL

pytestmark = pytest.mark.xdist_group("http_limits")

TEAM = "T0001"
ADMIN = "UADMIN"
READY_SECONDS = 60.0
HUGE_BODY = 64 * 1024 * 1024
# A refusal is read from the head alone; seconds here are the loaded machine's, not the app's.
REFUSAL_SECONDS = 5.0
# The server may grow a little for a request; a body it buffered would show as 64 MiB.
RSS_GROWTH_LIMIT = 16 * 1024 * 1024
IDLE_CONNECTIONS = 500
HALF_A_HEAD = b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"
# The other half of the idle clients send a whole head and a tenth of the body it promises.
HALF_A_BODY = b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\ncommand=%2F"
# Slack's own limit for an acknowledgement: the requirement itself, not a tuning choice.
ACK_SECONDS = 3.0
# Dropped after CLIENT_SECONDS, noticed by a clean-up pass that runs every second or so.
DROP_SECONDS = CLIENT_SECONDS + 5.0


@dataclass
class Server:
    """A running `customer-bot serve --http`, a Slack user to drive it, and its log."""

    process: subprocess.Popen[bytes]
    port: int
    driver: SlackDriver
    log: Path

    def pids(self) -> list[int]:
        """The process and, with workers, the worker processes: whoever may hold a body."""
        master = psutil.Process(self.process.pid)
        return [master.pid, *(child.pid for child in master.children())]


def _healthy(port: int) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
            return int(reply.status) == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _wait_ready(process: subprocess.Popen[bytes], port: int, workers: int, log: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    master = psutil.Process(process.pid)
    # Every worker has built its app once it has its outbox thread besides the main one.
    while not (
        _healthy(port)
        and len(children := master.children()) == (workers if workers > 1 else 0)
        and all(child.num_threads() > 1 for child in children)
    ):
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)


@pytest.fixture(
    scope="module",
    params=["single", pytest.param("workers", marks=pytest.mark.postgres)],
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    workers = 2 if request.param == "workers" else 1
    tmp_path = tmp_path_factory.mktemp(request.param)
    with ExitStack() as stack:
        if workers > 1:
            base = os.environ.get(PG_ENV)
            if not base:
                pytest.skip(
                    f"needs PostgreSQL: set {PG_ENV} (several workers do not run on SQLite)"
                )
            database_url = stack.enter_context(
                scratch_database(base, f"crlimits_{uuid.uuid4().hex[:10]}")
            )
        else:
            database_url = f"sqlite:///{tmp_path / 'customers.db'}"
        api = stack.enter_context(
            LocalSlackAPI(SlackWorkspace(team_id=TEAM), trigger_ttl=TRIGGER_TTL)
        )
        api.add_user(SlackUser(ADMIN, "admin", team_id=TEAM))
        signing_secret = uuid.uuid4().hex
        port = free_port()
        env = server_env(api, database_url, signing_secret, ADMIN)
        log = tmp_path / "server.log"
        process = stack.enter_context(serving(env, port, workers, log))
        _wait_ready(process, port, workers, log)
        endpoint = AppEndpoint(f"http://127.0.0.1:{port}/slack/events", signing_secret)
        yield Server(process, port, SlackDriver(api, endpoint, user_id=ADMIN, team_id=TEAM), log)


def _peak_rss(pids: list[int]) -> dict[int, int]:
    """Each process's peak resident memory so far, in bytes (Linux's VmHWM)."""
    peaks = {}
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks[pid] = int(line.split()[1]) * 1024
    return peaks


def _status_of(sock: socket.socket) -> int:
    """The status code of the response on `sock` (0: the server closed without one)."""
    answer = b""
    while b"\r\n" not in answer:
        try:
            part = sock.recv(4096)
        except (ConnectionResetError, TimeoutError):
            break
        if not part:
            break
        answer += part
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.") else 0


def _push(port: int, head: bytes, chunks: Iterator[bytes]) -> tuple[int, int, float]:
    """Send `head`, then body chunks until the server answers or stops reading.

    Returns the status, the body bytes the server let us hand over, and the seconds until the
    answer began to arrive.
    """
    started = time.monotonic()
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=REFUSAL_SECONDS) as sock:
        sock.sendall(head)
        pending = b""
        while time.monotonic() - started < REFUSAL_SECONDS:
            readable, writable, _ = select.select([sock], [sock], [], 0.5)
            if readable:
                break
            if not writable:
                continue
            pending = pending or next(chunks, b"")
            if not pending:
                break
            try:
                written = sock.send(pending)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += written
            pending = pending[written:]
        status = _status_of(sock)
    return status, sent, time.monotonic() - started


def _zeros(total: int, size: int = 256 * 1024) -> Iterator[bytes]:
    for start in range(0, total, size):
        yield bytes(min(size, total - start))


def _chunked(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    for part in _zeros(total, size):
        yield f"{len(part):x}\r\n".encode() + part + b"\r\n"
    yield b"0\r\n\r\n"


def test_a_64_mib_body_is_refused_from_its_length_without_being_read(server: Server) -> None:
    before = _peak_rss(server.pids())
    head = (
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: %d\r\n\r\n" % HUGE_BODY
    )

    status, sent, seconds = _push(server.port, head, _zeros(HUGE_BODY))

    assert status == 413
    assert seconds < REFUSAL_SECONDS
    # What the kernel's buffers took before the answer, not the body.
    assert sent < HUGE_BODY // 4
    growth = {pid: peak - before[pid] for pid, peak in _peak_rss(server.pids()).items()}
    assert max(growth.values()) < RSS_GROWTH_LIMIT, growth
    print(f"413 after {seconds:.3f}s, {sent} bytes sent, peak RSS growth {growth}")


def test_a_chunked_body_over_the_limit_is_cut_off(server: Server) -> None:
    head = (
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )

    status, _sent, seconds = _push(server.port, head, _chunked(4 * MAX_BODY_BYTES))

    assert status == 413
    assert seconds < REFUSAL_SECONDS


def _half_open(port: int, count: int) -> list[socket.socket]:
    """`count` connections that sent half a request and wait (the caller closes them)."""
    opened: list[socket.socket] = []
    try:
        for n in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            opened.append(sock)
            sock.sendall(HALF_A_HEAD if n % 2 else HALF_A_BODY)
    except BaseException:
        for sock in opened:
            sock.close()
        raise
    return opened


def _accepted(server: Server, at_least: int) -> int:
    """How many connections the server holds, once it holds `at_least` (or 10 s have passed)."""
    deadline = time.monotonic() + 10.0
    while True:
        held = sum(
            1
            for pid in server.pids()
            for conn in psutil.Process(pid).net_connections(kind="tcp")
            if conn.status == psutil.CONN_ESTABLISHED and conn.laddr.port == server.port
        )
        if held >= at_least or time.monotonic() > deadline:
            return held
        time.sleep(0.1)


def _dropped(sock: socket.socket, deadline: float) -> bool:
    sock.settimeout(max(deadline - time.monotonic(), 0.01))
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_idle_clients_neither_stall_a_command_nor_stay(server: Server) -> None:
    idle = _half_open(server.port, IDLE_CONNECTIONS)
    try:
        held = _accepted(server, IDLE_CONNECTIONS)
        # A few of ours may still wait in the listen queue; most must be the server's problem.
        assert held >= IDLE_CONNECTIONS * 0.9, held

        answer = server.driver.slash("/customers")

        assert answer.status == 200
        assert answer.elapsed < ACK_SECONDS, answer.elapsed
        server.driver.api.wait_for("views.open", since=answer.mark)
        print(f"/customers acked in {answer.elapsed:.3f}s with {held} idle connections held")
        deadline = time.monotonic() + DROP_SECONDS
        assert all(_dropped(sock, deadline) for sock in idle)
    finally:
        for sock in idle:
            sock.close()


def test_a_kept_alive_connection_serves_its_next_requests(server: Server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        ends = set()
        for _ in range(3):
            conn.request("GET", "/healthz")
            reply = conn.getresponse()
            assert (reply.status, reply.read()) == (200, b'{"ok": true}')
            assert conn.sock is not None
            ends.add(conn.sock.getsockname())
        # http.client would quietly reconnect: one local address means one connection.
        assert len(ends) == 1
    finally:
        conn.close()
