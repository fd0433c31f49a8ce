"""customer anonymised

Revision ID: 0019
Revises: 0018
Create Date: 2027-01-18

An admin may anonymise a customer whose bookings and payments the studio must keep for its
accounts: their personal details are erased, the record stays, and this says when (NULL:
never anonymised).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "customers", sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("customers", "anonymised_at")
