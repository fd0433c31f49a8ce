"""customer date of birth

Revision ID: 0017
Revises: 0016
Create Date: 2027-01-11

Studios moving in from other systems bring each customer's date of birth; it is kept, exported
and imported with the customer (unknown: NULL).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("date_of_birth", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("customers", "date_of_birth")
