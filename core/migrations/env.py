"""Alembic environment: reuses the app's engine when called from `Database.upgrade`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from core.db import create_db_engine
from core.models import Base
from core.models.customer import described_by_models

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    """Run online against the app's engine, or one built from the configured URL."""
    engine = config.attributes.get("engine")
    if not isinstance(engine, Engine):
        engine = create_db_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=described_by_models,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
