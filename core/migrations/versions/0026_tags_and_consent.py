"""tags and consent

Revision ID: 0026
Revises: 0025
Create Date: 2027-01-22

Free tags per workspace (`tags`, unique per workspace by their case-folded `key`) held by
customers (`customer_tags`), and each customer's marketing consent: granted, withdrawn or
unknown (every existing customer starts unknown), when it was given and how.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "tags",
        sa.Column("id", ID, nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["workspaces.team_id"],
            name=op.f("fk_tags_team_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("team_id", "key", name=op.f("uq_tags_team_id_key")),
    )
    op.create_table(
        "customer_tags",
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("tag_id", ID, nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_tags_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_customer_tags_tag_id_tags"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["workspaces.team_id"],
            name=op.f("fk_customer_tags_team_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", "tag_id", name=op.f("pk_customer_tags")),
    )
    op.create_index("ix_customer_tags_tag_id", "customer_tags", ["tag_id"])
    # Plain ALTER TABLE on SQLite too: a batch copy would drop `customers` and every row that
    # references it with ON DELETE CASCADE.
    op.add_column(
        "customers",
        sa.Column(
            "marketing_consent",
            sa.Enum(
                "granted", "withdrawn", "unknown", name="consentstate", native_enum=False, length=16
            ),
            server_default="unknown",
            nullable=False,
        ),
    )
    op.add_column("customers", sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "customers",
        sa.Column(
            "consent_source",
            sa.Enum(
                "form",
                "import",
                "phone",
                "slack",
                name="consentsource",
                native_enum=False,
                length=16,
            ),
            nullable=True,
        ),
    )


def downgrade() -> None:
    op.drop_column("customers", "consent_source")
    op.drop_column("customers", "consent_at")
    op.drop_column("customers", "marketing_consent")
    op.drop_index("ix_customer_tags_tag_id", table_name="customer_tags")
    op.drop_table("customer_tags")
    op.drop_table("tags")
