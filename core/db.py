"""Engine, sessions and the unit of work: one transaction per request."""

from __future__ import annotations

import select
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from core.clock import Clock, utc_now
from core.config import Settings

_READONLY = "customer_records_readonly"


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the per-database settings the app relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, **kwargs)
    _configure_postgresql(engine)
    return engine


def _closed_by_server(dbapi_connection: Any) -> bool:
    """Whether the server closed this idle connection (a restart, a terminated backend).

    An idle connection has nothing to read: anything readable (end of file, or the server's
    goodbye) means it is gone. A local check, where pool_pre_ping's SELECT 1 costs a round trip
    on every checkout (three per search keystroke)."""
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True  # no socket left to look at
    return bool(readable)


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: ConnectionPoolEntry, _proxy: Any) -> None:
        if _closed_by_server(dbapi_connection):
            # The pool discards it and checks out another (or connects anew).
            raise DisconnectionError("the server closed this pooled connection")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # psycopg prepares a statement run five times on a connection, and PostgreSQL may
        # then plan it once for any parameters: a search for "@exam" (every row) and one for
        # "j.mu" (none) need different plans, and EXPLAIN estimates need the real values.
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_custom_plan")
            # Every request is a few short statements; parallel workers take longer to start
            # than they save there (a search keystroke's p95 at 1M customers: 21 ms with them,
            # 17 ms without) and take the cores other requests are waiting for.
            cursor.execute("SET max_parallel_workers_per_gather = 0")
        dbapi_connection.commit()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take transaction control from pysqlite so BEGIN is ours (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA mmap_size=268435456")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that later
        # upgrades to writing can fail with SQLITE_BUSY instead of waiting.
        readonly = conn.get_execution_options().get(_READONLY, False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


class Transactions(Protocol):
    """What opens units of work (a Database), for a service that must commit between steps."""

    def unit_of_work(self, *, readonly: bool = False) -> AbstractContextManager[UnitOfWork]:
        """A unit of work that commits when its block succeeds."""


@dataclass
class UnitOfWork:
    """What a service needs for one request: a session inside one transaction, and the time."""

    session: Session
    settings: Settings
    clock: Clock = field(default=utc_now)

    def now(self) -> Any:
        """The request's clock reading (timezone-aware UTC)."""
        return self.clock()


class Database:
    """Owns the engine; hands out units of work."""

    def __init__(self, settings: Settings, *, clock: Clock = utc_now, **engine_kwargs: Any) -> None:
        self.settings = settings
        self.clock = clock
        self.url = settings.database_url.get_secret_value()
        self.engine = create_db_engine(self.url, **engine_kwargs)
        self._sessions = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._readonly_sessions = sessionmaker(
            bind=self.engine.execution_options(**{_READONLY: True}), expire_on_commit=False
        )
        # Derived rows every writer must keep true, whichever process or entry point it is.
        from core.services.customer_facts import keep_facts

        keep_facts(self)

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @contextmanager
    def unit_of_work(self, *, readonly: bool = False) -> Iterator[UnitOfWork]:
        """Commit when the block succeeds, roll back when it raises."""
        factory = self._readonly_sessions if readonly else self._sessions
        with factory() as session:
            uow = UnitOfWork(session=session, settings=self.settings, clock=self.clock)
            try:
                yield uow
                if readonly:
                    session.rollback()
                else:
                    session.commit()
            except BaseException:
                session.rollback()
                raise

    def listen(self, name: str, fn: Callable[..., Any]) -> None:
        """Call `fn` on session event `name` of the units of work that may write."""
        event.listen(self._sessions, name, fn)

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (creating it on first start)."""
        from core.migrations.head import at_head

        if at_head(self.engine):
            return
        from core.migrations.runner import upgrade_to_head

        upgrade_to_head(self.engine, self.settings.token_keys, self.settings.workspace_defaults())

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
