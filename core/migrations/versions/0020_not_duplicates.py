"""not duplicates

Revision ID: 0020
Revises: 0019
Create Date: 2027-01-12

The duplicates report suggests pairs of customers who may be one person; `not_duplicates`
remembers each pair an admin said are two people (per workspace, low customer id first, who
and when), so it is never suggested again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "not_duplicates",
        sa.Column("id", ID, nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("low_id", ID, nullable=False),
        sa.Column("high_id", ID, nullable=False),
        sa.Column("decided_by", sa.String(length=32), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("low_id < high_id", name=op.f("ck_not_duplicates_ordered")),
        sa.ForeignKeyConstraint(
            ["low_id"],
            ["customers.id"],
            name=op.f("fk_not_duplicates_low_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["high_id"],
            ["customers.id"],
            name=op.f("fk_not_duplicates_high_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["workspaces.team_id"],
            name=op.f("fk_not_duplicates_team_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_not_duplicates")),
        sa.UniqueConstraint(
            "team_id", "low_id", "high_id", name=op.f("uq_not_duplicates_team_id_low_id_high_id")
        ),
    )
    op.create_index("ix_not_duplicates_high_id", "not_duplicates", ["high_id"])


def downgrade() -> None:
    op.drop_index("ix_not_duplicates_high_id", table_name="not_duplicates")
    op.drop_table("not_duplicates")
