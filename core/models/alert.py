"""Channel alerts: happenings recorded with the change that caused them, the channels that
asked for them, and what was posted where (so a flood folds into one digest)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, TeamId, UTCDateTime, team_fk


class AlertEvent(Base):
    """One alert-worthy happening, waiting for the alert worker until `delivered_at` is set."""

    __tablename__ = "alert_events"
    __table_args__ = (Index("ix_alert_events_due", "delivered_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    kind: Mapped[str] = mapped_column(String(32))
    # Deleting the customer deletes their alerts: the text names them.
    customer_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    # The customer's name and UID and what happened; no contact details.
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class AlertSubscription(Base):
    """Which kinds of alert one channel gets, who set them up, and whether they are paused."""

    __tablename__ = "alert_subscriptions"
    __table_args__ = (UniqueConstraint("team_id", "channel_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    channel_id: Mapped[str] = mapped_column(String(32))
    # Comma-separated kinds (core.services.alerts.KINDS).
    kinds: Mapped[str] = mapped_column(String(300))
    enabled_by: Mapped[str] = mapped_column(String(32))
    enabled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    pause_reason: Mapped[str] = mapped_column(String(300), default="")


class AlertPost(Base):
    """One message posted for alerts in a channel: a single alert (folded 0) or a digest
    folding `folded` alerts, whose ts is kept so every worker updates the same message."""

    __tablename__ = "alert_posts"
    __table_args__ = (Index("ix_alert_posts_recent", "team_id", "channel_id", "kind", "posted_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    channel_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    folded: Mapped[int] = mapped_column(Integer, default=0)
    # A digest's lines, newest last, as the message shows them.
    text: Mapped[str] = mapped_column(Text, default="")
