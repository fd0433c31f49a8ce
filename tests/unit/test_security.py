"""Password hashing: at most AT_ONCE argon2 runs at once in a process, each still correct."""

from __future__ import annotations

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
