"""Shared fixtures: every database test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.logging_setup import HANDLER_NAME
from core.actor import Actor
from core.config import Settings
from core.db import Database
from core.models import Base, Role
from core.security import configure_hasher

# Production keeps argon2's strong defaults; tests only need the algorithm, not the cost.
configure_hasher(time_cost=1, memory_cost=1024)

# Every record the suite logs is scanned for passwords, secrets and mail bodies.
pytest_plugins = ("tests.log_scan",)

PG_ENV = "TEST_DATABASE_URL"


@pytest.fixture(autouse=True)
def _app_log_handler_removed() -> Iterator[None]:
    """Drop the handler a CLI command installs: its stream (a CliRunner's) closes with the
    test, and threads still running (SMTP stand-ins) would log into it afterwards."""
    yield
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)


@dataclass
class MutableClock:
    """A clock tests can move."""

    current: datetime

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(datetime(2026, 3, 14, 9, 30, tzinfo=UTC))


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Settings isolated from the developer's environment and .env file."""
    values: dict[str, object] = {
        "database_url": database_url,
        "business_timezone": "Europe/London",
        "currency": "GBP",
        "default_region": "GB",
        "portal_url": "https://portal.test/login",
        "mail_from": "Studio <studio@example.test>",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file copied for each test (migrating per test is slow)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(make_settings(f"sqlite:///{path}"))
    db.upgrade()
    db.dispose()
    return path


def _pg_admin_url(url: str) -> str:
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


@contextmanager
def scratch_database(base_url: str, name: str, *, owner: str | None = None) -> Iterator[str]:
    """A new, empty database `name` on the server of `base_url`, dropped afterwards; its URL."""
    admin = create_engine(_pg_admin_url(base_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' OWNER "{owner}"' if owner else "")))
        try:
            yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run (and xdist worker) only."""
    base = os.environ.get(PG_ENV)
    if not base:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_ENV} must be set in CI so the PostgreSQL tests run")
        pytest.skip(
            f"PostgreSQL tests skipped: set {PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        )
    name = f"crtest_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack:
        try:
            url = stack.enter_context(scratch_database(base, name))
        except Exception as exc:
            if os.environ.get("CI"):
                pytest.fail(f"PostgreSQL at {PG_ENV} is unreachable in CI: {type(exc).__name__}")
            pytest.skip(f"PostgreSQL tests skipped: cannot reach {PG_ENV} ({type(exc).__name__})")
        db = Database(make_settings(url))
        db.upgrade()
        db.dispose()
        yield url


def reset_postgres(db: Database) -> None:
    """Empty every table; DELETE children first is far quicker than TRUNCATE on small tables."""
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def db(database_url: str, clock: MutableClock) -> Iterator[Database]:
    """A Database on an empty schema, with the test's clock."""
    database = Database(make_settings(database_url), clock=clock)
    if database.dialect == "postgresql":
        reset_postgres(database)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def admin() -> Actor:
    return Actor(team_id="T0001", user_id="UADMIN", role=Role.ADMIN)


@pytest.fixture
def staff() -> Actor:
    return Actor(team_id="T0001", user_id="USTAFF", role=Role.STAFF)


@pytest.fixture
def other_tenant() -> Actor:
    return Actor(team_id="T0002", user_id="UOTHER", role=Role.ADMIN)
