"""`customer-bot serve --http` as a real process: it becomes healthy and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from core.config import Settings

CLI = Path(sys.executable).with_name("customer-bot")
READY_TIMEOUT_SECONDS = 60.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _health(url: str) -> tuple[int, dict[str, object]] | None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2) as reply:
            return int(reply.status), json.loads(reply.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def test_serve_http_becomes_healthy_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    settings = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in settings}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'customers.db'}",
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="test-signing-secret",
        # Never called: nothing reaches Slack while only /healthz is asked.
        SLACK_API_URL="http://127.0.0.1:9/api/",
        LOG_LEVEL="INFO",
    )
    command = [str(CLI), "serve", "--http", "--host", "127.0.0.1", "--port", str(port)]
    # cwd: no developer's .env is read.
    server = subprocess.Popen(  # noqa: S603 - our own CLI
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        answer = None
        while answer is None and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
            answer = _health(f"http://127.0.0.1:{port}/healthz")
        assert answer == (200, {"ok": True})
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    log = output.decode()
    assert server.returncode == 0, log
    # The clean-up after waitress returned ran: the listeners, outbox and pool were closed.
    assert "stopped" in log, log
