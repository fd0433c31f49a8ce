"""App workers: `customer-bot serve --http` processes on loopback, killed and restarted at will."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.stripe_server import HOST, free_port

START_DEADLINE = 60.0
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class LogRecord:
    """One JSON log line a worker wrote."""

    worker: str
    time: datetime
    level: str
    logger: str
    message: str
    exception_type: str | None
    has_traceback: bool


class Worker:
    """One `customer-bot serve --http --port P` process; its port survives restarts."""

    def __init__(self, name: str, env: Mapping[str, str], directory: Path) -> None:
        self.name = name
        self.port = free_port()
        self.env = dict(env)
        self.directory = directory
        self.log_path = directory / f"{name}.log"
        self.starts = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Where Slack posts events and interactions."""
        return f"http://{HOST}:{self.port}/slack/events"

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start serving and wait until /healthz answers."""
        command = Path(sys.executable).with_name("customer-bot")
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - our own console script
                [str(command), "serve", "--http", "--host", HOST, "--port", str(self.port)],
                env=self.env,
                # An empty working directory: no developer .env is read by the worker.
                cwd=self.directory,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            if self.healthy():
                return
            time.sleep(0.1)
        tail = self.log_path.read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"worker {self.name} did not start; its log ends:\n{tail}")

    def healthy(self) -> bool:
        """GET /healthz answers 200."""
        try:
            with _OPENER.open(f"http://{HOST}:{self.port}/healthz", timeout=2) as reply:
                return bool(reply.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def kill(self) -> None:
        """SIGKILL: the process dies mid-request, as on an out-of-memory kill or a lost host."""
        if self._process is not None and self.running:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM (the graceful stop), SIGKILL if it does not end promptly."""
        if self._process is None:
            return
        if self.running:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        self._process = None

    def records(self) -> Iterator[LogRecord]:
        """Every JSON log line the worker wrote across its lives (other lines are skipped)."""
        if not self.log_path.exists():
            return
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                entry: Any = json.loads(line)
            except ValueError:
                continue
            if not isinstance(entry, dict) or "level" not in entry:
                continue
            exception = entry.get("exception") or {}
            yield LogRecord(
                worker=self.name,
                time=datetime.fromisoformat(str(entry.get("time"))),
                level=str(entry["level"]),
                logger=str(entry.get("logger", "")),
                message=str(entry.get("message", "")),
                exception_type=exception.get("type"),
                has_traceback=bool(exception.get("stack")),
            )


def worker_env(settings: Mapping[str, str]) -> dict[str, str]:
    """The environment of a worker: this one's PATH and locale, and exactly the settings given."""
    kept = {k: v for k, v in os.environ.items() if k in {"PATH", "LANG", "LC_ALL", "HOME", "TZ"}}
    return {**kept, **settings, "PYTHONUNBUFFERED": "1"}
