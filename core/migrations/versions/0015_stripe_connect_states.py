"""stripe connect states

Revision ID: 0015
Revises: 0014
Create Date: 2027-01-05

A Stripe Connect authorization an admin started from Home: a hash of its state (never the state
itself), the workspace and the admin it binds, and when it expires. The callback deletes the
row it uses, so each state works once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stripe_connect_states",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["workspaces.team_id"],
            name=op.f("fk_stripe_connect_states_team_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_connect_states")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_stripe_connect_states_state_hash")),
    )
    op.create_index("ix_stripe_connect_states_expires_at", "stripe_connect_states", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_stripe_connect_states_expires_at", table_name="stripe_connect_states")
    op.drop_table("stripe_connect_states")
