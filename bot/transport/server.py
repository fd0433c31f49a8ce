"""Running the app against real Slack: Socket Mode, or HTTP in one process or several workers."""

from __future__ import annotations

import gc
import logging
import os
import resource
import signal
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from types import FrameType
from typing import Any, cast

import waitress
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.glogging import Logger as GunicornLogger
from gunicorn.workers.base import Worker
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from sqlalchemy import text

from bot.app import AlertWorker, alert_worker, create_app
from bot.transport.limits import (
    CLIENT_SECONDS,
    MAX_BODY_BYTES,
    MAX_HEAD_BYTES,
    SERVER_BODY_MARGIN,
    StartResponse,
)
from bot.transport.slow_clients import BufferingWorker
from bot.transport.wsgi import create_wsgi_app
from core.adapters.mail import OutboxWorker, transport_from_settings
from core.config import RunMode, Settings
from core.db import Database
from core.errors import ConfigError

log = logging.getLogger(__name__)

# Bolt runs each listener on this pool after the ack; most of their time is spent waiting
# on Slack's Web API, so more threads than cores pays off.
LISTENER_THREADS = 8
# Room for a thread that briefly holds a second connection, without opening one per burst.
POOL_OVERFLOW = 4
# Request threads of the single waitress process, and of each gunicorn worker: a worker is
# one of several, so fewer threads keep 4 workers' pools (17 connections each) well inside
# PostgreSQL's default of 100.
SERVER_THREADS = 8
WORKER_THREADS = 4
# Seconds a worker may take to finish its requests and listeners after SIGTERM.
GRACEFUL_SECONDS = 30
# Open connections one process keeps (idle ones included) before it stops accepting; each is
# a file descriptor, so start-up raises the process's descriptor limit to fit.
CONNECTION_LIMIT = 1000
# A reverse proxy or load balancer reuses its connections; one idle longer is closed.
KEEPALIVE_SECONDS = 5


def waitress_options() -> dict[str, Any]:
    """How the single process bounds its clients; the app's own limits are in bot/transport/limits."""
    return {
        "threads": SERVER_THREADS,
        # Half-open connections cost waitress no thread, only a place among these; poll()
        # rather than select(), whose descriptors stop at 1024.
        "connection_limit": CONNECTION_LIMIT,
        "asyncore_use_poll": True,
        # Silent this long: closed, checked every second rather than every 30.
        "channel_timeout": CLIENT_SECONDS,
        "cleanup_interval": 1,
        "max_request_header_size": MAX_HEAD_BYTES,
        # Refused from Content-Length before waitress buffers the body; bounded_body is exact.
        "max_request_body_size": MAX_BODY_BYTES + SERVER_BODY_MARGIN,
    }


def _raise_descriptor_limit() -> None:
    # Many systems start processes with 1024 descriptors, fewer than CONNECTION_LIMIT plus
    # the pool, logs and listener; the hard limit is ours to use.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * CONNECTION_LIMIT
    if soft != resource.RLIM_INFINITY and soft < wanted:
        ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))


def pool_options(request_threads: int) -> dict[str, Any]:
    """Engine pool size for one process: a kept connection for each thread that may query."""
    # Request threads (access check, health, charts), listener threads and the outbox worker;
    # connections open lazily, so an idle worker holds only what it has needed at once.
    return {
        "pool_size": request_threads + LISTENER_THREADS + 1,
        "max_overflow": POOL_OVERFLOW,
    }


def connections_per_process(request_threads: int) -> int:
    """The most database connections one serving process can hold."""
    options = pool_options(request_threads)
    return int(options["pool_size"] + options["max_overflow"])


def _stop_on_sigterm() -> None:
    def stop(_signum: int, _frame: FrameType | None) -> None:
        # waitress and Socket Mode stop on SystemExit, so the `finally` clean-up runs.
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)


def _freeze_startup_heap() -> None:
    # What start-up allocated (modules, SQLAlchemy metadata, Bolt, pydantic models; ~130,000
    # objects) lives as long as the process, yet every full collection walks it: 30 ms or
    # more, stalling whichever request triggers one. Frozen, collections skip it (measured in
    # bench/startup.py); in a forked worker they also leave those pages shared with the master.
    # `serve` starts with collection off (its imports would run dozens of collections over
    # that heap as it grows): this one collection and the freeze stand for them.
    gc.collect()
    gc.freeze()
    gc.enable()


@contextmanager
def _running(
    settings: Settings, request_threads: int, *, upgrade: bool = True
) -> Iterator[tuple[App, Database]]:
    """The app, its database and the outbox worker, stopped in order when the block ends."""
    db = Database(settings, **pool_options(request_threads))
    listeners = ThreadPoolExecutor(LISTENER_THREADS, thread_name_prefix="listener")
    worker: OutboxWorker | None = None
    alerts: AlertWorker | None = None
    try:
        if upgrade:
            db.upgrade()
        app = create_app(settings, db, listener_executor=listeners)
        worker = OutboxWorker(db, transport_from_settings(settings))
        worker.start()
        alerts = alert_worker(app)
        alerts.start()
        _freeze_startup_heap()
        yield app, db
    finally:
        # Listeners still running finish their work before the database goes away.
        listeners.shutdown(wait=True)
        if alerts is not None:
            alerts.stop()
        if worker is not None:
            worker.stop()
        db.dispose()


def serve_http(settings: Settings, *, host: str, port: int, workers: int = 1) -> None:
    """Serve POST /slack/events and GET /healthz until interrupted or sent SIGTERM.

    One worker is a single waitress process (any database); several are gunicorn worker
    processes sharing the port, which needs PostgreSQL.
    """
    settings.require_for(RunMode.HTTP)
    if workers < 1:
        raise ConfigError("--workers must be 1 or more")
    _raise_descriptor_limit()
    if workers > 1:
        _serve_workers(settings, host=host, port=port, workers=workers)
        return
    _stop_on_sigterm()
    with _running(settings, request_threads=SERVER_THREADS) as (app, db):
        log.info("serving Slack over HTTP on %s:%s", host, port)
        waitress.serve(create_wsgi_app(app, db), host=host, port=port, **waitress_options())
    log.info("stopped")


def serve_socket_mode(settings: Settings) -> None:
    """Connect to Slack over Socket Mode (no public URL needed) until interrupted or sent SIGTERM."""
    settings.require_for(RunMode.SOCKET)
    assert settings.slack_app_token is not None
    _stop_on_sigterm()
    # No request threads: only the listeners and the outbox use the database.
    with _running(settings, request_threads=0) as (app, _db):
        log.info("connecting to Slack in Socket Mode")
        handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value())
        try:
            handler.start()  # type: ignore[no-untyped-call]
        finally:
            handler.close()  # type: ignore[no-untyped-call]


# -- several worker processes (gunicorn) ------------------------------------------------------

GunicornWsgi = Callable[[MutableMapping[str, Any], StartResponse], Iterable[bytes]]


def _prepare_database(settings: Settings, workers: int) -> None:
    """Migrate once, before any worker starts, and warn when the pools could exhaust the server."""
    db = Database(settings)
    try:
        if db.dialect != "postgresql":
            # Every worker would write the same file, each waiting on the others' write lock.
            raise ConfigError(
                "--workers above 1 needs PostgreSQL: set DATABASE_URL to a "
                "postgresql+psycopg:// URL, or serve SQLite with one worker"
            )
        db.upgrade()
        with db.engine.connect() as conn:
            limit = int(conn.scalar(text("SHOW max_connections")) or 0)
        needed = workers * connections_per_process(WORKER_THREADS)
        if needed > limit * 0.8:
            log.warning(
                "%d workers may open up to %d database connections; the server allows %d",
                workers,
                needed,
                limit,
            )
    finally:
        # Nothing pooled may cross the fork: each worker opens its own connections.
        db.dispose()


class _LogThroughRoot(GunicornLogger):
    """gunicorn's messages through the app's own handler: JSON lines, secrets scrubbed."""

    def setup(self, cfg: Any) -> None:
        """Apply gunicorn's levels, then hand its records to the root logger's handler."""
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
            logger.propagate = True


class _Workers(BaseApplication):
    """gunicorn driven from code: head-first `gthread` workers, each building its own app after the fork."""

    def __init__(self, settings: Settings, *, host: str, port: int, workers: int) -> None:
        self.settings = settings
        self.options: dict[str, Any] = {
            "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
            "workers": workers,
            # gthread would give a connection a thread as its first bytes arrive, so a few
            # clients sending half a request stop a worker; this one waits for the whole request.
            "worker_class": BufferingWorker,
            "threads": WORKER_THREADS,
            "worker_connections": CONNECTION_LIMIT,
            "keepalive": KEEPALIVE_SECONDS,
            "limit_request_line": 4094,
            "limit_request_fields": 100,
            "limit_request_field_size": 8190,
            "graceful_timeout": GRACEFUL_SECONDS,
            "proc_name": "customer-bot",
            "logger_class": _LogThroughRoot,
            "loglevel": settings.log_level.lower(),
            # gunicorn would otherwise create one fixed control socket per user, shared (and
            # fought over) by every instance on the machine; nothing here uses it.
            "control_socket_disable": True,
            "worker_exit": self._worker_exit,
        }
        # Entered in the worker process only: the master never holds an engine or a thread.
        self._resources = ExitStack()
        super().__init__()

    def load_config(self) -> None:
        """Apply our options; gunicorn reads no config file or command line of its own here."""
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> GunicornWsgi:
        """Called in each worker after the fork: its own database pool, app and outbox loop."""
        app, db = self._resources.enter_context(
            _running(self.settings, WORKER_THREADS, upgrade=False)
        )
        # gunicorn's environ is a dict, as the app's signature has it; its stubs say Mapping.
        return cast(GunicornWsgi, create_wsgi_app(app, db))

    def _worker_exit(self, _arbiter: Arbiter, _worker: Worker) -> None:
        # After the worker stopped taking requests: listeners finish, the outbox stops after
        # the mail in hand, and the pool closes.
        self._resources.close()


def _serve_workers(settings: Settings, *, host: str, port: int, workers: int) -> None:
    _prepare_database(settings, workers)
    log.info("serving Slack over HTTP on %s:%s with %d worker processes", host, port, workers)
    # Imports and start-up objects are shared with the workers page for page until written.
    _freeze_startup_heap()
    master = os.getpid()
    try:
        # gunicorn stops on SIGTERM (graceful) or SIGINT, and ends the process with SystemExit.
        _Workers(settings, host=host, port=port, workers=workers).run()
    finally:
        # A worker leaves through this frame too (it was forked inside run()); only the
        # master's end is the server's.
        if os.getpid() == master:
            log.info("stopped")
