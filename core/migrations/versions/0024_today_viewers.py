"""today viewers

Revision ID: 0024
Revises: 0023
Create Date: 2027-01-19

The App Home opens on Today for staff: `today_viewers` notes whose Home was last published on
Today and when, so a booking or check-in can republish it for the staff watching (a hint,
kept per workspace and removed with it). Today's other reads get indexes: appointments and
passes by workspace and date, customers' birthdays by month and day (PostgreSQL).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIRTHDAY_INDEX = "ix_customers_birthday"


def upgrade() -> None:
    op.create_table(
        "today_viewers",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("slack_user_id", sa.String(length=32), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["workspaces.team_id"],
            name=op.f("fk_today_viewers_team_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", "slack_user_id", name=op.f("pk_today_viewers")),
    )
    op.create_index("ix_today_viewers_team_shown", "today_viewers", ["team_id", "shown_at"])
    op.create_index("ix_appointments_team_start", "appointments", ["team_id", "starts_at"])
    op.create_index("ix_passes_team_valid_to", "passes", ["team_id", "valid_to"])
    if op.get_bind().dialect.name == "postgresql":
        # The expressions as Today's birthday query writes them, only over customers with a
        # date of birth: no other query of a workspace's customers can be drawn to it.
        # SQLite's small studios read their customers' birthdays in a scan.
        op.execute(
            f"CREATE INDEX {BIRTHDAY_INDEX} ON customers ((EXTRACT(month FROM date_of_birth)), "
            "(EXTRACT(day FROM date_of_birth)), team_id) WHERE date_of_birth IS NOT NULL"
        )


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {BIRTHDAY_INDEX}")
    op.drop_index("ix_passes_team_valid_to", table_name="passes")
    op.drop_index("ix_appointments_team_start", table_name="appointments")
    op.drop_index("ix_today_viewers_team_shown", table_name="today_viewers")
    op.drop_table("today_viewers")
