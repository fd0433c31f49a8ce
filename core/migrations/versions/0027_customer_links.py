"""customer links

Revision ID: 0027
Revises: 0026
Create Date: 2027-02-02

Customers linked to others of their workspace (a parent and their child, or partners):
`customer_links` holds each pair once, low customer id first, with what the first is to the
second, who linked them and when.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "customer_links",
        sa.Column("id", ID, nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("low_id", ID, nullable=False),
        sa.Column("high_id", ID, nullable=False),
        sa.Column(
            "relation",
            sa.Enum("parent", "child", "partner", name="relation", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("low_id < high_id", name=op.f("ck_customer_links_ordered")),
        sa.ForeignKeyConstraint(
            ["low_id"],
            ["customers.id"],
            name=op.f("fk_customer_links_low_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["high_id"],
            ["customers.id"],
            name=op.f("fk_customer_links_high_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["workspaces.team_id"],
            name=op.f("fk_customer_links_team_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_links")),
        sa.UniqueConstraint("low_id", "high_id", name=op.f("uq_customer_links_low_id_high_id")),
    )
    op.create_index("ix_customer_links_high_id", "customer_links", ["high_id"])


def downgrade() -> None:
    op.drop_index("ix_customer_links_high_id", table_name="customer_links")
    op.drop_table("customer_links")
