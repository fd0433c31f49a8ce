"""workspace audit: installs and re-installs

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10

`workspace_audit` keeps what happened to a workspace as a whole, with who did it: each OAuth
install and re-install, and whether it made the installer an admin (only of a workspace that
had none). A customer's own trail stays in `account_history`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workspace_audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["workspaces.team_id"],
            name=op.f("fk_workspace_audit_team_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_audit")),
    )
    op.create_index("ix_workspace_audit_team", "workspace_audit", ["team_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_workspace_audit_team", table_name="workspace_audit")
    op.drop_table("workspace_audit")
