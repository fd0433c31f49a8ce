"""payment intents pay once

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10

`payment_intent_uses` is keyed by the Stripe payment intent id, so an intent pays for at most
one booking, appointment or pass across all workspaces, and a second recording fails in the
database itself, even when two requests race. It is filled from the rows that already record an
intent; where several rows share one, the earliest keeps it and the others can no longer be
refunded through it (core/services/refunds.py checks the claim).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Filled in this order; within a table the first row (lowest id) keeps a shared intent.
PAID = (
    ("bookings", "booking", "booked_at"),
    ("appointments", "appointment", "booked_at"),
    ("passes", "pass", "purchased_at"),
)


def upgrade() -> None:
    op.create_table(
        "payment_intent_uses",
        sa.Column("payment_intent_id", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("row_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("payment_intent_id", name=op.f("pk_payment_intent_uses")),
    )
    for table, kind, bought_at in PAID:
        op.execute(
            "INSERT INTO payment_intent_uses (payment_intent_id, team_id, kind, row_id, "  # noqa: S608 - names from PAID
            "amount_minor, currency, recorded_at) "
            f"SELECT p.stripe_payment_intent_id, p.team_id, '{kind}', p.id, "
            f"COALESCE(p.price_minor, 0), p.currency, p.{bought_at} FROM {table} p "
            "WHERE p.stripe_payment_intent_id IS NOT NULL "
            f"AND p.id = (SELECT min(q.id) FROM {table} q "
            "WHERE q.stripe_payment_intent_id = p.stripe_payment_intent_id) "
            "AND NOT EXISTS (SELECT 1 FROM payment_intent_uses u "
            "WHERE u.payment_intent_id = p.stripe_payment_intent_id)"
        )


def downgrade() -> None:
    op.drop_table("payment_intent_uses")
