"""Who has the App Home's Today page on screen, so a change to the day can refresh it for them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, TeamId, UTCDateTime, team_fk


class TodayViewer(Base):
    """A staff member whose Home tab was last published on Today, and when."""

    __tablename__ = "today_viewers"
    __table_args__ = (Index("ix_today_viewers_team_shown", "team_id", "shown_at"),)

    team_id: Mapped[str] = mapped_column(TeamId, team_fk(), primary_key=True)
    slack_user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shown_at: Mapped[datetime] = mapped_column(UTCDateTime())
