"""stripe events

Revision ID: 0014
Revises: 0013
Create Date: 2027-01-04

Stripe's webhooks reach each workspace's endpoint: `stripe_events` records every event id a
workspace received (unique per workspace), so a retried or duplicated delivery applies once.
Appointments and passes record refunds of their Stripe payment as bookings do, and a
subscription keeps as of when its state is known, so an event arriving late never rolls it
back. A subscription may now be past due: its state column is a plain string, so that needs no
change here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUNDABLE = ("appointments", "passes")


def upgrade() -> None:
    op.create_table(
        "stripe_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["workspaces.team_id"],
            name=op.f("fk_stripe_events_team_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_events")),
        sa.UniqueConstraint("team_id", "event_id", name=op.f("uq_stripe_events_team_id_event_id")),
    )
    for table in REFUNDABLE:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("refunded_minor", sa.Integer(), nullable=False, server_default="0")
            )
            batch_op.add_column(
                sa.Column(
                    "refund_state",
                    sa.Enum(
                        "none", "partial", "full", name="refundstate", native_enum=False, length=16
                    ),
                    nullable=False,
                    server_default="none",
                )
            )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stripe_state_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_subscriptions_stripe", ["team_id", "stripe_subscription_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_subscriptions_stripe")
        batch_op.drop_column("stripe_state_at")
    for table in REFUNDABLE:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("refund_state")
            batch_op.drop_column("refunded_minor")
    op.drop_table("stripe_events")
