"""payment links

Revision ID: 0016
Revises: 0015
Create Date: 2027-01-04

Staff send customers Stripe Checkout links: `payment_links` keeps each session sent (for a
booking, appointment, pass, video purchase, or a plan to subscribe to), its attempt number (the
idempotency key's), its state and URL. A video purchase paid through one records its payment
intent like the other purchases do. Records waiting for a link to be paid are "unpaid" in their
existing payment method and state columns (plain strings, so no column changes for that).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_links",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column(
            "target_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "open",
                "complete",
                "expired",
                name="linkstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("session_id", sa.String(length=255), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_to", sa.String(length=320), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pending_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_with", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_payment_links_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["workspaces.team_id"],
            name=op.f("fk_payment_links_team_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_links")),
        sa.UniqueConstraint("session_id", name=op.f("uq_payment_links_session_id")),
    )
    op.create_index("ix_payment_links_target", "payment_links", ["team_id", "kind", "target_id"])
    op.create_index("ix_payment_links_customer", "payment_links", ["customer_id"])
    op.add_column(
        "video_purchases",
        sa.Column("stripe_payment_intent_id", sa.String(length=64), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("video_purchases", "stripe_payment_intent_id")
    op.drop_index("ix_payment_links_customer", table_name="payment_links")
    op.drop_index("ix_payment_links_target", table_name="payment_links")
    op.drop_table("payment_links")
