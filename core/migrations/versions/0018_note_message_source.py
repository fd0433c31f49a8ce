"""notes taken from a Slack message

Revision ID: 0018
Revises: 0017
Create Date: 2027-01-18

A note added with the *Add to customer notes* message shortcut keeps which message it came
from (channel and ts, so a retried shortcut adds it once), the message's author and its
permalink. Notes written in the Notes tab leave all three NULL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("notes", sa.Column("source_message", sa.String(64), nullable=True))
    op.add_column("notes", sa.Column("source_author", sa.String(32), nullable=True))
    op.add_column("notes", sa.Column("source_permalink", sa.String(500), nullable=True))


def downgrade() -> None:
    for name in ("source_permalink", "source_author", "source_message"):
        op.drop_column("notes", name)
