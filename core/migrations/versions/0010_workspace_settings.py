"""workspace settings

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-11

Each workspace keeps its own portal login URL and mail sender name and reply-to beside its time
zone, currency and phone region; existing workspaces get the deployment's values (PORTAL_URL,
MAIL_FROM's name), which from now on only seed new workspaces.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from core.config import Settings

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (("portal_url", 500), ("mail_sender_name", 100), ("mail_reply_to", 254))


def _defaults() -> dict[str, str]:
    given = context.config.attributes.get("workspace_defaults") or {}
    # Run without the app's settings (alembic's own CLI): the built-in defaults.
    built_in = Settings.model_construct().workspace_defaults()
    return {name: str(given.get(name, built_in[name])) for name, _ in COLUMNS}


def upgrade() -> None:
    # Plain ADD/DROP COLUMN, not batch mode: rebuilding `workspaces`, which every table refers
    # to, fails on SQLite; the empty server default only serves rows added before the app knew.
    for name, length in COLUMNS:
        op.add_column(
            "workspaces",
            sa.Column(name, sa.String(length=length), nullable=False, server_default=""),
        )
    workspaces = sa.table("workspaces", *(sa.column(name, sa.String) for name, _ in COLUMNS))
    op.execute(workspaces.update().values(**_defaults()))


def downgrade() -> None:
    for name, _ in reversed(COLUMNS):
        op.drop_column("workspaces", name)
