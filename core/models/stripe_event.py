"""The ledger of Stripe webhook events a workspace received: each applies once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, TeamId, UTCDateTime, team_fk


class StripeEvent(Base):
    """One event Stripe sent to a workspace's endpoint, and what it did to the records."""

    __tablename__ = "stripe_events"
    # A retried or duplicated delivery finds its id taken, in the database itself.
    __table_args__ = (UniqueConstraint("team_id", "event_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    event_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(100))
    # Stripe's time of the event, not of its delivery.
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(Text, default="")
