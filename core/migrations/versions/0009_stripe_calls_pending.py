"""stripe calls pending

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10

A refund or subscription change is recorded as pending in one short transaction, sent to Stripe
with no transaction open, and its outcome recorded in a second: these columns hold what is
pending, so an attempt interrupted in between is completed by the next one, never repeated.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refund_pending_minor", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("refund_pending_since", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_change", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("pending_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("pending_since")
        batch_op.drop_column("pending_change")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_column("refund_pending_since")
        batch_op.drop_column("refund_pending_minor")
