"""Run the packaged Alembic migrations programmatically."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent


def alembic_config(
    engine: Engine,
    token_keys: Sequence[str] = (),
    workspace_defaults: Mapping[str, str] | None = None,
) -> Config:
    """An Alembic config pointing at the migrations shipped inside the package.

    `token_keys` (TOKEN_ENCRYPTION_KEY's) let a migration encrypt or decrypt stored tokens;
    `workspace_defaults` (Settings.workspace_defaults) fill new workspace columns."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    config.attributes["engine"] = engine
    config.attributes["token_keys"] = list(token_keys)
    config.attributes["workspace_defaults"] = dict(workspace_defaults or {})
    return config


def upgrade_to_head(
    engine: Engine,
    token_keys: Sequence[str] = (),
    workspace_defaults: Mapping[str, str] | None = None,
) -> None:
    """Apply every migration not yet applied."""
    command.upgrade(alembic_config(engine, token_keys, workspace_defaults), "head")


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None before the first migration."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
