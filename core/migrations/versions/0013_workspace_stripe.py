"""workspace stripe account

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-28

Each workspace reaches its own Stripe account: its secret or restricted key (encrypted with
TOKEN_ENCRYPTION_KEY, like bot tokens) or the account it connected through Stripe Connect, and
the signing secret of its webhook endpoint (encrypted too). Only a masked hint is kept in clear.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN, not batch mode: rebuilding `workspaces`, which every table refers to,
    # fails on SQLite.
    op.add_column("workspaces", sa.Column("stripe_key", sa.Text(), nullable=True))
    op.add_column(
        "workspaces",
        sa.Column("stripe_key_hint", sa.String(length=40), nullable=False, server_default=""),
    )
    op.add_column(
        "workspaces",
        sa.Column("stripe_account_id", sa.String(length=64), nullable=False, server_default=""),
    )
    op.add_column("workspaces", sa.Column("stripe_webhook_secret", sa.Text(), nullable=True))
    op.add_column(
        "workspaces", sa.Column("stripe_connected_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    for name in (
        "stripe_connected_at",
        "stripe_webhook_secret",
        "stripe_account_id",
        "stripe_key_hint",
        "stripe_key",
    ):
        op.drop_column("workspaces", name)
