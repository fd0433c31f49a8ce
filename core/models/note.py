"""Internal notes staff keep about a customer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, TeamId, UTCDateTime, team_fk

NOTE_MAX = 3000


class Note(Base):
    """A note's author is a Slack user id; only the author or an admin may change it."""

    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_customer_created", "customer_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(32))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(32))
    # Set when the note was taken from a Slack message: "channel/ts" names the message (a
    # retried shortcut finds the note already there), with who wrote it and a link to it.
    source_message: Mapped[str | None] = mapped_column(String(64), default=None)
    source_author: Mapped[str | None] = mapped_column(String(32), default=None)
    source_permalink: Mapped[str | None] = mapped_column(String(500), default=None)
