"""seen slack events

Revision ID: 0021
Revises: 0020
Create Date: 2027-01-14

Slack retries an event it thinks was missed (`X-Slack-Retry-Num`), and any worker may get the
retry: `seen_slack_events` remembers each event id the app acted on (unfurls, the flexpane) for
an hour, so a retry never unfurls twice.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seen_slack_events",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "event_id", name=op.f("pk_seen_slack_events")),
    )
    op.create_index("ix_seen_slack_events_seen_at", "seen_slack_events", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_seen_slack_events_seen_at", table_name="seen_slack_events")
    op.drop_table("seen_slack_events")
