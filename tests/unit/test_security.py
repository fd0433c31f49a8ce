"""Password hashing: at most AT_ONCE argon2 runs at once in a process, each still correct."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from argon2 import PasswordHasher

from core import security


class _Watched:
    """The real hasher, counting how many of its runs overlap."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self.hasher = hasher
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0

    def _run(self, work: object) -> object:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.02)  # long enough for the other threads to arrive meanwhile
            return work
        finally:
            with self.lock:
                self.running -= 1

    def hash(self, password: str) -> str:
        return str(self._run(self.hasher.hash(password)))

    def verify(self, password_hash: str, password: str) -> bool:
        return bool(self._run(self.hasher.verify(password_hash, password)))


def test_a_burst_of_hashes_and_checks_runs_at_most_at_once_as_allowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    watched = _Watched(security._hasher)
    monkeypatch.setattr(security, "_hasher", watched)
    passwords = [security.generate_password() for _ in range(12)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        made = list(pool.map(security.hashed, passwords))
        checked = list(pool.map(lambda pair: security.verify_password(pair.hash, pair.plain), made))
    assert watched.most == security.AT_ONCE
    assert [pair.plain for pair in made] == passwords
    assert all(checked)
    assert not security.verify_password(made[0].hash, passwords[1])


def test_a_hashing_thread_hands_its_memory_back() -> None:
    # A fresh process, so no earlier test's allocations hide or add to the growth.
    script = (
        "import psutil\n"
        "from core.security import generate_password, hash_password\n"
        "hash_password(generate_password())\n"
        "before = psutil.Process().memory_info().rss\n"
        "for _ in range(10):\n"
        "    hash_password(generate_password())\n"
        "print(psutil.Process().memory_info().rss - before)\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    grown = int(done.stdout.strip())
    assert grown < security.MEMORY_COST_KIB * 1024 / 2, f"RSS grew {grown / 1e6:.1f} MB"
