"""customer facts and segments

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07

`customer_facts`: per customer, the visits, no-shows and lifetime spend their records add up
to, so a segment filters 100,000 customers by index instead of adding up their history.
Rewritten by the app as records change; `customer_facts_ready` has no row for a workspace
until its customers were first added up, which the app does on first use (so the sums are made
by the same code that keeps them). `segments`: segments saved by name for the workspace, with
`segment_counts` keeping each one's last count for Home, and an opt-in weekly digest into a
channel with `segment_digest_members`, whom it matched last time. The facts, their readiness and the
counts are caches: dropping them loses nothing the records don't hold.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "customer_facts",
        sa.Column("customer_id", big_id, nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("no_shows", sa.Integer(), nullable=False),
        sa.Column("first_visit_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_visit_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_visit_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("spend_minor", sa.BigInteger(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_facts_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["workspaces.team_id"],
            name=op.f("fk_customer_facts_team_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_facts")),
    )
    op.create_index(
        "ix_customer_facts_team_last_visit", "customer_facts", ["team_id", "last_visit_at"]
    )
    op.create_index("ix_customer_facts_team_spend", "customer_facts", ["team_id", "spend_minor"])
    op.create_index(
        "ix_customer_facts_team_next_visit", "customer_facts", ["team_id", "next_visit_at"]
    )
    op.create_table(
        "segments",
        sa.Column("id", big_id, nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("name_key", sa.String(length=80), nullable=False),
        sa.Column("filters", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest_channel_id", sa.String(length=32), nullable=True),
        sa.Column("digest_by", sa.String(length=32), nullable=True),
        sa.Column("digest_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("digest_paused", sa.String(length=300), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["workspaces.team_id"],
            name=op.f("fk_segments_team_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("team_id", "name_key", name=op.f("uq_segments_team_id_name_key")),
    )
    # The sessions' visitors without reading the bookings: the old index is its prefix.
    op.create_index(
        "ix_bookings_occurrence_visits",
        "bookings",
        ["occurrence_id", "state", "attendance", "customer_id"],
    )
    op.drop_index("ix_bookings_occurrence_state", table_name="bookings")
    op.create_table(
        "customer_facts_ready",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["workspaces.team_id"],
            name=op.f("fk_customer_facts_ready_team_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_customer_facts_ready")),
    )
    op.create_table(
        "segment_digest_members",
        sa.Column("segment_id", big_id, nullable=False),
        sa.Column("customer_id", big_id, nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_segment_digest_members_segment_id_segments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_segment_digest_members_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "segment_id", "customer_id", name=op.f("pk_segment_digest_members")
        ),
    )
    op.create_table(
        "segment_counts",
        sa.Column("segment_id", big_id, nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name=op.f("fk_segment_counts_segment_id_segments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["workspaces.team_id"],
            name=op.f("fk_segment_counts_team_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("segment_id", name=op.f("pk_segment_counts")),
    )


def downgrade() -> None:
    op.create_index("ix_bookings_occurrence_state", "bookings", ["occurrence_id", "state"])
    op.drop_index("ix_bookings_occurrence_visits", table_name="bookings")
    op.drop_table("segment_counts")
    op.drop_table("segment_digest_members")
    op.drop_table("customer_facts_ready")
    op.drop_table("segments")
    op.drop_index("ix_customer_facts_team_next_visit", table_name="customer_facts")
    op.drop_index("ix_customer_facts_team_spend", table_name="customer_facts")
    op.drop_index("ix_customer_facts_team_last_visit", table_name="customer_facts")
    op.drop_table("customer_facts")
