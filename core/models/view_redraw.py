"""The last redraw of each view on screen, so the next one, in any worker, follows it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, TeamId, UTCDateTime, team_fk

# Slack's view ids are 11 characters and hashes about 20; a Home is keyed by its user.
VIEW_KEY_MAX = 64
VIEW_HASH_MAX = 128
ACTION_TS_MAX = 32


class ViewRedraw(Base):
    """A view's row: locked while it is redrawn, holding the hash Slack gave the last redraw."""

    __tablename__ = "view_redraws"

    team_id: Mapped[str] = mapped_column(TeamId, team_fk(), primary_key=True)
    view_key: Mapped[str] = mapped_column(String(VIEW_KEY_MAX), primary_key=True)
    view_hash: Mapped[str | None] = mapped_column(String(VIEW_HASH_MAX))
    # The newest action whose redraw was drawn ('' for none): an older one's comes too late.
    action_ts: Mapped[str] = mapped_column(String(ACTION_TS_MAX), default="")
    # Not indexed, so that each redraw's update stays a heap-only one; pruning scans.
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime())
