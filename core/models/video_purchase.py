"""A customer's access to a video on demand."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, TeamId, UTCDateTime, enum_type, team_fk
from core.models.commerce import PaymentMethod


class VideoState(StrEnum):
    """Derived, never stored: Cancelled if cancelled, else Expired once past expiry, else Active."""

    ACTIVE = "active"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class VideoPurchase(Base):
    """Access to one video until `expires_at` (None: no expiry)."""

    __tablename__ = "video_purchases"
    __table_args__ = (
        Index("ix_video_purchases_customer_purchased", "customer_id", "purchased_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    video_id: Mapped[int] = mapped_column(BigId, ForeignKey("videos.id"))
    purchased_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    price_minor: Mapped[int | None] = mapped_column(Integer)
    credits: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    payment_method: Mapped[PaymentMethod] = mapped_column(enum_type(PaymentMethod))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(64))
    pass_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("passes.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    def state_at(self, now: datetime) -> VideoState:
        """The state as of `now`, so Expired can never be stale."""
        if self.cancelled_at is not None:
            return VideoState.CANCELLED
        if self.expires_at is not None and self.expires_at <= now:
            return VideoState.EXPIRED
        return VideoState.ACTIVE
