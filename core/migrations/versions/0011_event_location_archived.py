"""event location and archived

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-14

Each dated event keeps where it happens, and whether admins archived it: an archived event stays
on the bookings it has and can't be booked again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "event_occurrences",
        sa.Column("location", sa.String(length=200), nullable=False, server_default=""),
    )
    op.add_column(
        "event_occurrences",
        sa.Column("archived", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("event_occurrences", "archived")
    op.drop_column("event_occurrences", "location")
