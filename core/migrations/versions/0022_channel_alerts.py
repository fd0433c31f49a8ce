"""channel alerts

Revision ID: 0022
Revises: 0021
Create Date: 2027-01-14

Admins choose, per channel, which happenings post there. `alert_events` is an outbox: a
happening is recorded in the same transaction as the change, and the alert worker posts it to
the channels subscribed to its kind (`alert_subscriptions`, paused when someone who isn't staff
joins). `alert_posts` remembers what was posted where, so a flood folds into one digest
message updated in place, whichever worker delivers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _team_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["team_id"],
        ["workspaces.team_id"],
        name=op.f(f"fk_{table}_team_id_workspaces"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "alert_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("customer_id", ID, nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_alert_events_customer_id_customers"),
            ondelete="CASCADE",
        ),
        _team_fk("alert_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_events")),
    )
    op.create_index("ix_alert_events_due", "alert_events", ["delivered_at", "id"])
    op.create_index(op.f("ix_alert_events_customer_id"), "alert_events", ["customer_id"])
    op.create_table(
        "alert_subscriptions",
        sa.Column("id", ID, nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("kinds", sa.String(length=300), nullable=False),
        sa.Column("enabled_by", sa.String(length=32), nullable=False),
        sa.Column("enabled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pause_reason", sa.String(length=300), nullable=False),
        _team_fk("alert_subscriptions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_subscriptions")),
        sa.UniqueConstraint(
            "team_id", "channel_id", name=op.f("uq_alert_subscriptions_team_id_channel_id")
        ),
    )
    op.create_table(
        "alert_posts",
        sa.Column("id", ID, nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("folded", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _team_fk("alert_posts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_posts")),
    )
    op.create_index(
        "ix_alert_posts_recent", "alert_posts", ["team_id", "channel_id", "kind", "posted_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_alert_posts_recent", table_name="alert_posts")
    op.drop_table("alert_posts")
    op.drop_table("alert_subscriptions")
    op.drop_index(op.f("ix_alert_events_customer_id"), table_name="alert_events")
    op.drop_index("ix_alert_events_due", table_name="alert_events")
    op.drop_table("alert_events")
