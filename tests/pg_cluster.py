"""A private, throwaway PostgreSQL 15 cluster on loopback that tests may stop and start at will."""

from __future__ import annotations

import fcntl
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
import weakref
from pathlib import Path
from types import TracebackType
from typing import IO

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"
_NEEDED = ("initdb", "pg_ctl")
_PORT_LOCKS = Path(tempfile.gettempdir()) / "pgcluster-ports"

# Speed over durability against power loss: the cluster lives for one test module. Commits
# stay synchronous, so a committed transaction survives `stop("immediate")` (a crash) as it
# would in production; fsync off only risks data if the machine itself goes down.
_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "full_page_writes": "off",
    "shared_buffers": "16MB",
    "max_connections": "60",
    "log_min_messages": "warning",
}


def unavailable_reason(bin_dir: Path = PG_BIN) -> str | None:
    """Why a private cluster cannot run here, or None when it can."""
    missing = [name for name in _NEEDED if not (bin_dir / name).is_file()]
    if missing:
        return f"PostgreSQL binaries missing in {bin_dir}: {', '.join(missing)}"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "runuser is needed to run PostgreSQL as the postgres user (initdb refuses root)"
    return None


def _ephemeral_floor() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _reserve_port() -> tuple[int, IO[str]]:
    """A loopback port no other private cluster uses, held by an flock until the cluster closes.

    While a cluster is stopped its port is free, so a port from bind(0) could be handed to
    another cluster (another xdist worker) and the stopped one would restart on a stranger's
    port. Ports below the ephemeral range are never handed out by bind(0), and the lock file
    keeps them apart from each other's clusters; the kernel drops the lock if we die.
    """
    _PORT_LOCKS.mkdir(exist_ok=True)
    floor = _ephemeral_floor()
    candidates = range(max(1024, floor - 12000), floor)
    for port in random.sample(candidates, min(200, len(candidates))):
        handle = (_PORT_LOCKS / f"{port}.lock").open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.bind(("127.0.0.1", port))
        except OSError:
            handle.close()
            continue
        return port, handle
    raise ClusterError("no free loopback port below the ephemeral range for PostgreSQL")


def _as_owner(argv: list[str]) -> list[str]:
    """Run as the postgres OS user when we are root; as ourselves otherwise."""
    if os.geteuid() == 0:
        return ["runuser", "-u", PG_USER, "--", *argv]
    return argv


def _chown_to_owner(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, user=PG_USER, group=PG_USER)


def _cleanup(root: Path, bin_dir: Path, port_lock: IO[str]) -> None:
    """Stop a still-running postmaster, delete the cluster and free its port; safe to call twice."""
    data = root / "data"
    if (data / "postmaster.pid").exists():
        subprocess.run(  # noqa: S603 - fixed PostgreSQL binaries, arguments we built
            _as_owner([str(bin_dir / "pg_ctl"), "stop", "-D", str(data), "-m", "immediate", "-w"]),
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
            timeout=30,
        )
    shutil.rmtree(root, ignore_errors=True)
    port_lock.close()


class ClusterError(RuntimeError):
    """initdb or pg_ctl failed; the message carries the tail of the server log."""


class PrivateCluster:
    """One PostgreSQL cluster in a temp dir on a free 127.0.0.1 port; the port survives restarts."""

    def __init__(self, *, bin_dir: Path = PG_BIN, database: str = "postgres") -> None:
        reason = unavailable_reason(bin_dir)
        if reason:
            raise ClusterError(reason)
        self.bin_dir = bin_dir
        self.database = database
        self.port, port_lock = _reserve_port()
        self.root = Path(tempfile.mkdtemp(prefix="pgcluster-"))
        self._finalizer = weakref.finalize(self, _cleanup, self.root, bin_dir, port_lock)
        self.data_dir = self.root / "data"
        self.log_file = self.root / "server.log"
        self._initialised = False
        try:
            _chown_to_owner(self.root)
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        """SQLAlchemy URL (psycopg 3) of the cluster's database."""
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/{database}"

    @property
    def running(self) -> bool:
        return (self.data_dir / "postmaster.pid").exists()

    def start(self) -> PrivateCluster:
        """Initialise on first use, then start and wait until connections are accepted."""
        try:
            if not self._initialised:
                self._initdb()
            if not self.running:
                self._start_server()
        except BaseException:
            self.close()
            raise
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`fast` rolls back open transactions; `immediate` is a crash)."""
        if self.running:
            self._pg_ctl("stop", "-m", mode, "-w")

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self._start_server()

    def create_database(self, name: str) -> str:
        """Create a database in the running cluster and return its URL."""
        self._run(
            [
                str(self.bin_dir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                PG_USER,
                name,
            ]
        )
        return self.url_for(name)

    def close(self) -> None:
        """Stop the server if running and delete every file of the cluster."""
        self._finalizer()

    def __enter__(self) -> PrivateCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _initdb(self) -> None:
        self._run(
            [
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                PG_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ]
        )
        settings = {
            **_SETTINGS,
            "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'",
        }
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        self._initialised = True

    def _start_server(self) -> None:
        self._pg_ctl("start", "-w", "-t", "30", "-l", str(self.log_file))

    def _pg_ctl(self, *args: str) -> None:
        self._run([str(self.bin_dir / "pg_ctl"), args[0], "-D", str(self.data_dir), *args[1:]])

    def _run(self, argv: list[str]) -> None:
        started = time.monotonic()
        result = subprocess.run(  # noqa: S603 - fixed PostgreSQL binaries, arguments we built
            _as_owner(argv),
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if result.returncode != 0:
            elapsed = time.monotonic() - started
            raise ClusterError(
                f"{Path(argv[0]).name} failed after {elapsed:.1f}s (exit {result.returncode}): "
                f"{result.stderr.strip()[-800:]}\n{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-1500:]
        except OSError:
            return ""
