"""Slack events the app has acted on, so a retried delivery is never acted on twice, and
conversations whose members changed, so every worker asks Slack again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, UTCDateTime


class SeenSlackEvent(Base):
    """One event id of one workspace, kept for an hour (Slack retries within minutes)."""

    __tablename__ = "seen_slack_events"

    # No foreign key: an event may come before its workspace has a row.
    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ConversationChange(Base):
    """When someone last joined or left a conversation, so every worker drops what it
    remembered of its members (the event reaches only one of them)."""

    __tablename__ = "conversation_changes"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
