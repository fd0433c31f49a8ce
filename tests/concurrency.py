"""Racing two requests on SQLite and PostgreSQL: one held open, the other seen waiting for it.

Use the `pool` fixture by importing it into a test module:

    from tests.concurrency import held_open, pool, wait_until_blocked  # noqa: F401
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from sqlalchemy import text

from core.db import Database

T = TypeVar("T")


def poll_until(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    """Return once `condition()` holds, checked every 20 ms; TimeoutError after `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.02)


def wait_until_blocked(db: Database) -> None:
    """Return once another PostgreSQL session waits for a lock (SQLite cannot be observed)."""
    if db.dialect != "postgresql":
        return  # SQLite: BEGIN IMMEDIATE makes every writer wait for the one holding the lock
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with db.engine.connect() as conn:
            waiting = conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        if waiting:
            return
    pytest.fail("the second transaction never waited for the first")


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    """Two threads, one per racing request."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="request") as executor:
        yield executor


def held_open(
    pool: ThreadPoolExecutor, db: Database, work: Callable[[Any], T]
) -> tuple[Future[T], threading.Event]:
    """Run `work` in a unit of work on another thread that commits only once released."""
    worked, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def request() -> T:
        try:
            with db.unit_of_work() as uow:
                result = work(uow)
                worked.set()
                assert release.wait(10), "never released"
            return result
        except BaseException as exc:
            failures.append(exc)
            raise
        finally:
            worked.set()

    future = pool.submit(request)
    assert worked.wait(10)
    if failures:
        raise failures[0]  # `work` itself failed: report that, not a later symptom
    return future, release
