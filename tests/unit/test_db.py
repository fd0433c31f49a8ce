"""The database layer: first start, SQLite pragmas, migrations, the unit of work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from core.db import Database
from core.migrations.head import at_head, newest_revision
from core.migrations.runner import MIGRATIONS_DIR, alembic_config
from core.models import Base, Customer, CustomerStatus, Workspace
from core.models.customer import described_by_models
from tests.conftest import MutableClock, make_settings


def _head(db: Database) -> str | None:
    return ScriptDirectory.from_config(alembic_config(db.engine)).get_current_head()


def _workspace(team_id: str, clock: MutableClock) -> Workspace:
    return Workspace(
        team_id=team_id, name="", timezone="UTC", currency="GBP", default_region="GB",
        created_at=clock(),
    )  # fmt: skip


def _customer(team_id: str, uid: str, clock: MutableClock) -> Customer:
    return Customer(
        team_id=team_id, uid=uid, first_name="Ada", last_name="Lovelace",
        name_key="ada lovelace", email=f"{uid.lower()}@example.com", mobile="+447700900123",
        password_hash=None, status=CustomerStatus.ACTIVE, created_at=clock(),
        updated_at=clock(), updated_by="UADMIN",
    )  # fmt: skip


def test_sqlite_file_in_a_new_directory_is_created_and_migrated(tmp_path: Path) -> None:
    path = tmp_path / "var" / "nested" / "customers.db"
    db = Database(make_settings(f"sqlite:///{path}"))
    try:
        db.upgrade()
        assert path.is_file()
        tables = set(inspect(db.engine).get_table_names())
        assert {table.name for table in Base.metadata.sorted_tables} <= tables
    finally:
        db.dispose()


def test_sqlite_connections_use_wal_and_enforce_foreign_keys(
    tmp_path: Path, clock: MutableClock
) -> None:
    db = Database(make_settings(f"sqlite:///{tmp_path / 'c.db'}"), clock=clock)
    try:
        db.upgrade()
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        # A customer of a workspace that does not exist is refused by the database itself.
        with pytest.raises(IntegrityError), db.unit_of_work() as uow:
            uow.session.add(_customer("TNOWHERE", "UIDORPHAN", clock))
    finally:
        db.dispose()


def test_upgrade_is_idempotent(db: Database) -> None:
    db.upgrade()
    db.upgrade()
    with db.engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert versions == [_head(db)]


def test_start_up_tells_a_database_at_the_newest_migration_without_alembic(
    db: Database, tmp_path: Path
) -> None:
    assert newest_revision() == _head(db)
    assert at_head(db.engine)
    config = alembic_config(db.engine)
    command.stamp(config, "0001", purge=True)
    assert not at_head(db.engine)
    command.stamp(config, "head", purge=True)
    assert at_head(db.engine)
    empty = Database(make_settings(f"sqlite:///{tmp_path / 'empty.db'}"))
    try:
        assert not at_head(empty.engine)
    finally:
        empty.dispose()


def test_migrations_create_exactly_what_the_models_describe(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": described_by_models}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_migrations_ship_inside_the_package() -> None:
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert any((MIGRATIONS_DIR / "versions").glob("0001_*.py"))


def test_unit_of_work_commits_when_the_block_succeeds(db: Database, clock: MutableClock) -> None:
    with db.unit_of_work() as uow:
        uow.session.add(_workspace("TCOMMIT", clock))
    with db.unit_of_work(readonly=True) as uow:
        assert uow.session.get(Workspace, "TCOMMIT") is not None


def test_unit_of_work_rolls_back_when_the_block_raises(db: Database, clock: MutableClock) -> None:
    class Boom(Exception):
        pass

    def write_then_fail() -> None:
        with db.unit_of_work() as uow:
            uow.session.add(_workspace("TROLLBACK", clock))
            uow.session.flush()
            uow.session.add(_customer("TROLLBACK", "UIDROLLBACK1", clock))
            uow.session.flush()  # both rows really reached the database before the failure
            raise Boom

    with pytest.raises(Boom):
        write_then_fail()
    with db.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Workspace)) == 0
        assert conn.scalar(select(func.count()).select_from(Customer)) == 0


def test_readonly_unit_of_work_never_writes(db: Database, clock: MutableClock) -> None:
    with db.unit_of_work(readonly=True) as uow:
        uow.session.add(_workspace("TREAD", clock))
        uow.session.flush()
    with db.unit_of_work(readonly=True) as uow:
        assert uow.session.get(Workspace, "TREAD") is None


def test_unit_of_work_reads_the_databases_clock(db: Database, clock: MutableClock) -> None:
    with db.unit_of_work() as uow:
        assert uow.now() == clock.current
        clock.advance(minutes=5)
        assert uow.now() == clock.current


def test_timestamps_are_stored_in_utc_and_come_back_timezone_aware(
    db: Database, clock: MutableClock
) -> None:
    paris_noon = datetime(2026, 7, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    clock.current = paris_noon
    with db.unit_of_work() as uow:
        uow.session.add(_workspace("TTIME", clock))
    with db.unit_of_work(readonly=True) as uow:
        stored = uow.session.get(Workspace, "TTIME")
        assert stored is not None
        assert stored.created_at == paris_noon
        assert stored.created_at.tzinfo is not None
        assert stored.created_at.utcoffset() == timedelta(0)
        assert stored.created_at.astimezone(UTC).hour == 10


def test_naive_timestamps_are_refused(db: Database, clock: MutableClock) -> None:
    clock.current = datetime(2026, 7, 1, 12, 0)  # naive on purpose
    with pytest.raises(StatementError, match="naive datetime"), db.unit_of_work() as uow:
        uow.session.add(_workspace("TNAIVE", clock))


def test_0010_gives_existing_workspaces_the_deployments_portal_and_mail_sender(
    db: Database, clock: MutableClock
) -> None:
    with db.unit_of_work() as uow:
        uow.session.add(_workspace("T0OLD", clock))
    command.downgrade(alembic_config(db.engine), "0009")
    defaults = db.settings.workspace_defaults() | {"portal_url": "https://old.example/login"}
    command.upgrade(alembic_config(db.engine, workspace_defaults=defaults), "head")

    with db.unit_of_work(readonly=True) as uow:
        old = uow.session.get(Workspace, "T0OLD")
        assert old is not None
        assert (old.portal_url, old.mail_sender_name, old.mail_reply_to) == (
            "https://old.example/login",
            "Studio",
            "",
        )
        # Its time zone, currency and region were set when it was created; they stay.
        assert (old.timezone, old.currency, old.default_region) == ("UTC", "GBP", "GB")
