"""attendance

Revision ID: 0023
Revises: 0022
Create Date: 2027-01-18

Check-in at the front desk: each booking and appointment records Attended or No-show, by whom
and when. A studio chooses when a pass credit is used (`workspaces.credit_rule`: at booking, as
before, or at check-in); a booking made under the check-in rule says so, so its credit is taken
only while it is marked attended, whatever the rule becomes later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("bookings", "appointments")


def upgrade() -> None:
    # Plain ALTER TABLE on SQLite too: a batch copy would drop `workspaces`, and the rows of
    # every table referencing it with ON DELETE CASCADE with it.
    op.add_column(
        "workspaces",
        sa.Column(
            "credit_rule",
            sa.Enum("at_booking", "at_check_in", name="creditrule", native_enum=False, length=16),
            server_default="at_booking",
            nullable=False,
        ),
    )
    for table in TABLES:
        op.add_column(
            table,
            sa.Column(
                "attendance",
                sa.Enum("attended", "no_show", name="attendance", native_enum=False, length=16),
                nullable=True,
            ),
        )
        op.add_column(table, sa.Column("attendance_by", sa.String(length=32), nullable=True))
        op.add_column(table, sa.Column("attendance_at", sa.DateTime(timezone=True), nullable=True))
        op.add_column(
            table,
            sa.Column(
                "credits_at_check_in", sa.Boolean(), server_default=sa.false(), nullable=False
            ),
        )
        op.create_index(
            f"ix_{table}_team_attendance", table, ["team_id", "attendance", "customer_id"]
        )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_index(f"ix_{table}_team_attendance", table_name=table)
        for column in ("credits_at_check_in", "attendance_at", "attendance_by", "attendance"):
            op.drop_column(table, column)
    op.drop_column("workspaces", "credit_rule")
