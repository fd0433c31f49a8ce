"""Running the app against real Slack: Socket Mode, or HTTP behind a load balancer."""

from __future__ import annotations

import gc
import logging
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from types import FrameType
from typing import Any

import waitress
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.app import create_app
from bot.web import create_wsgi_app
from core.config import RunMode, Settings
from core.db import Database
from core.mail import OutboxWorker, transport_from_settings

log = logging.getLogger(__name__)

# Bolt runs each listener on this pool after the ack; most of their time is spent waiting
# on Slack's Web API, so more threads than cores pays off.
LISTENER_THREADS = 8
# Room for a thread that briefly holds a second connection, without opening one per burst.
POOL_OVERFLOW = 4


def pool_options(request_threads: int) -> dict[str, Any]:
    """Engine pool size for one process: a kept connection for each thread that may query."""
    # Request threads (access check, health, charts), listener threads and the outbox worker;
    # connections open lazily, so an idle worker holds only what it has needed at once.
    return {
        "pool_size": request_threads + LISTENER_THREADS + 1,
        "max_overflow": POOL_OVERFLOW,
    }


def _stop_on_sigterm() -> None:
    def stop(_signum: int, _frame: FrameType | None) -> None:
        # waitress and Socket Mode stop on SystemExit, so the `finally` clean-up runs.
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)


def _freeze_startup_heap() -> None:
    # What start-up allocated (modules, SQLAlchemy metadata, Bolt, pydantic models; ~130,000
    # objects) lives as long as the process, yet every full collection walks it: 30 ms or
    # more, stalling whichever request triggers one. Frozen, collections skip it (measured in
    # bench/startup.py).
    gc.collect()
    gc.freeze()


@contextmanager
def _running(settings: Settings, request_threads: int) -> Iterator[tuple[App, Database]]:
    """The app, its database and the outbox worker, stopped in order when the block ends."""
    _stop_on_sigterm()
    db = Database(settings, **pool_options(request_threads))
    listeners = ThreadPoolExecutor(LISTENER_THREADS, thread_name_prefix="listener")
    worker: OutboxWorker | None = None
    try:
        db.upgrade()
        app = create_app(settings, db, listener_executor=listeners)
        worker = OutboxWorker(db, transport_from_settings(settings))
        worker.start()
        _freeze_startup_heap()
        yield app, db
    finally:
        # Listeners still running finish their work before the database goes away.
        listeners.shutdown(wait=True)
        if worker is not None:
            worker.stop()
        db.dispose()


def serve_http(settings: Settings, *, host: str, port: int, threads: int = 8) -> None:
    """Serve POST /slack/events and GET /healthz until interrupted or sent SIGTERM."""
    settings.require_for(RunMode.HTTP)
    with _running(settings, request_threads=threads) as (app, db):
        log.info("serving Slack over HTTP on %s:%s", host, port)
        waitress.serve(create_wsgi_app(app, db), host=host, port=port, threads=threads)
    log.info("stopped")


def serve_socket_mode(settings: Settings) -> None:
    """Connect to Slack over Socket Mode (no public URL needed) until interrupted or sent SIGTERM."""
    settings.require_for(RunMode.SOCKET)
    assert settings.slack_app_token is not None
    # No request threads: only the listeners and the outbox use the database.
    with _running(settings, request_threads=0) as (app, _db):
        log.info("connecting to Slack in Socket Mode")
        handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value())
        try:
            handler.start()  # type: ignore[no-untyped-call]
        finally:
            handler.close()  # type: ignore[no-untyped-call]
