"""view redraws

Revision ID: 0029
Revises: 0028
Create Date: 2027-02-02

`view_redraws`: one row per view the app redraws, locked (PostgreSQL) while a redraw reads the
state and sends it, and holding the hash Slack gave the last redraw and the newest action it
showed, so two interactions redrawing one view at once, in any worker, end on the latest state.
Bookkeeping: each serving process removes, hourly, the rows not redrawn for a day.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "view_redraws",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("view_key", sa.String(length=64), nullable=False),
        sa.Column("view_hash", sa.String(length=128), nullable=True),
        sa.Column("action_ts", sa.String(length=32), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["workspaces.team_id"],
            name=op.f("fk_view_redraws_team_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", "view_key", name=op.f("pk_view_redraws")),
    )


def downgrade() -> None:
    op.drop_table("view_redraws")
