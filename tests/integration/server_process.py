"""`customer-bot …` as its own process: the real server (`serve --http`), or a mail worker."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.local import LocalSlackAPI
from core.config import Settings

CLI = Path(sys.executable).with_name("customer-bot")
STOP_SECONDS = 30.0


def free_port() -> int:
    """A loopback port nobody listens on just now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(
    api: LocalSlackAPI, database_url: str, signing_secret: str, admin: str, **extra: str
) -> dict[str, str]:
    """This environment without any of the app's settings, then the server's own."""
    return app_env(
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN=api.bot_token,
        SLACK_SIGNING_SECRET=signing_secret,
        SLACK_API_URL=api.base_url,
        ADMIN_SLACK_USER_IDS=admin,
        LOG_LEVEL="INFO",
        **extra,
    )


def app_env(**settings: str) -> dict[str, str]:
    """This environment without any of the app's settings, then `settings`."""
    names = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in names}
    env.update(settings)
    return env


@contextmanager
def serving(
    env: dict[str, str], port: int, workers: int, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """The server on `port` with `workers`, its output in `log`; stopped on the way out."""
    command = ["serve", "--http", "--host", "127.0.0.1", "--port", str(port)]
    with running([*command, "--workers", str(workers)], env, log) as process:
        yield process


@contextmanager
def running(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`customer-bot ARGS`, its output in `log`; stopped (SIGTERM) on the way out if still running."""
    command = [str(CLI), *args]
    with log.open("wb") as sink:
        # cwd: no developer's .env is read.
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            command, env=env, cwd=log.parent, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
