"""catalog items archived

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-21

Services, facilitators, pass types, videos, plans and questionnaires can be archived by admins:
an archived item stays on what already uses it and is offered for nothing new.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "appointment_services",
    "facilitators",
    "pass_types",
    "videos",
    "subscription_plans",
    "questionnaire_templates",
)


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table, sa.Column("archived", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "archived")
