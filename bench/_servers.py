"""Serving processes the benchmarks drive: started on a free loopback port, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from core.config import Settings

CLI = str(Path(sys.executable).with_name("customer-bot"))
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 40.0


def free_port() -> int:
    """A loopback port nothing listens on just now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def healthy(root: str) -> bool:
    """Whether `root` answers GET /healthz with 200."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(root + "/healthz", timeout=2) as reply:
            return int(reply.status) == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def server_env(**settings: str) -> dict[str, str]:
    """This process's environment without any of the app's settings, then `settings` (by name)."""
    names = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in names}
    env.update({key.upper(): value for key, value in settings.items()})
    return env


@contextmanager
def serving(command: list[str], env: dict[str, str], log_path: Path) -> Iterator[psutil.Process]:
    """Run `command` until the block ends, then SIGTERM it (killed if it hangs).

    The caller waits for it to be ready with `wait_ready`."""
    with log_path.open("wb") as log:
        # cwd is the log's directory, so no .env file of the developer's is read.
        process = subprocess.Popen(  # noqa: S603
            command, env=env, cwd=log_path.parent, stdout=log, stderr=log
        )
    try:
        yield psutil.Process(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise


def wait_ready(process: psutil.Process, root: str, log_path: Path, *, children: int = 0) -> None:
    """Wait until `root` is healthy and `process` has `children` worker processes."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not (healthy(root) and len(process.children()) >= children):
        if not process.is_running() or process.status() == psutil.STATUS_ZOMBIE:
            raise RuntimeError(f"the server stopped:\n{log_path.read_text()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start:\n{log_path.read_text()}")
        time.sleep(0.05)


def rss_mb(process: psutil.Process) -> dict[str, float | list[float]]:
    """RSS of the serving processes: the single process, or each worker and the master."""
    workers = process.children() or [process]
    sizes = [round(p.memory_info().rss / 1e6, 1) for p in workers]
    result: dict[str, float | list[float]] = {
        "worker_rss_mb_max": max(sizes),
        "worker_rss_mb_each": sizes,
    }
    if workers != [process]:
        result["master_rss_mb"] = round(process.memory_info().rss / 1e6, 1)
    return result


def postgres_cpu_seconds() -> float:
    """User and system CPU seconds so far of this machine's live PostgreSQL processes (a
    backend that exits in between takes its share with it)."""
    total = 0.0
    for each in psutil.process_iter(["name", "cpu_times"]):
        times = each.info["cpu_times"]
        if (each.info["name"] or "").startswith("postgres") and times is not None:
            total += times.user + times.system
    return total


def cpu_seconds(process: psutil.Process) -> float:
    """User and system CPU seconds of `process` and its live children so far."""
    total = 0.0
    for each in [process, *process.children(recursive=True)]:
        try:
            times = each.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total
