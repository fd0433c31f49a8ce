"""conversation changes

Revision ID: 0025
Revises: 0024
Create Date: 2027-01-21

A member_joined_channel / member_left_channel event reaches one worker; `conversation_changes`
records when each conversation's members last changed, so every worker drops the members it
remembered and asks Slack again before posting about a customer there.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_changes",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "channel_id", name=op.f("pk_conversation_changes")),
    )
    op.create_index("ix_conversation_changes_changed_at", "conversation_changes", ["changed_at"])


def downgrade() -> None:
    op.drop_index("ix_conversation_changes_changed_at", table_name="conversation_changes")
    op.drop_table("conversation_changes")
