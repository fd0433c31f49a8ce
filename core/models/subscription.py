"""A customer's recurring subscription mandate."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, TeamId, UTCDateTime, enum_type, team_fk


class SubscriptionState(StrEnum):
    """Active; Past due (a payment failed, Stripe retries it); Paused (by staff or customer);
    Suspended (ended for good)."""

    ACTIVE = "active"
    PAST_DUE = "past_due"
    PAUSED = "paused"
    SUSPENDED = "suspended"


class Subscription(Base):
    """A plan the customer pays for every interval; may mirror a Stripe subscription."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        Index("ix_subscriptions_customer_created", "customer_id", "created_at", "id"),
        Index("ix_subscriptions_stripe", "team_id", "stripe_subscription_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("subscription_plans.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_payment_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    price_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[SubscriptionState] = mapped_column(enum_type(SubscriptionState))
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(64))
    # As of when the state is known: the `created` time of the last Stripe event applied, or
    # when staff last changed it here. An older event arriving late is not applied.
    stripe_state_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A change asked of Stripe and not yet recorded ("pause", …), and when it was claimed.
    pending_change: Mapped[str | None] = mapped_column(String(16))
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)
