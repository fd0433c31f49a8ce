"""How something was paid for, shared by bookings, appointments, passes and videos."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, TeamId, UTCDateTime, enum_type, team_fk


class PaymentMethod(StrEnum):
    """Manual: staff marked it paid or free; Stripe: a payment intent; Package: pass credits;
    Unpaid: to be paid through a payment link (Stripe once the customer pays)."""

    MANUAL = "manual"
    STRIPE = "stripe"
    PACKAGE = "package"
    UNPAID = "unpaid"


class LinkStatus(StrEnum):
    """Pending: asked of Stripe, its answer not recorded yet; then as Stripe's session is."""

    PENDING = "pending"
    OPEN = "open"
    COMPLETE = "complete"
    EXPIRED = "expired"


class PaymentIntentUse(Base):
    """The one purchase a Stripe payment intent pays for, whichever workspace recorded it.

    Keyed by the intent id, so a second recording fails in the database itself, and kept when
    the purchase or its workspace goes: a payment once used is never free to pay again."""

    __tablename__ = "payment_intent_uses"

    payment_intent_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # No foreign keys: the claim must outlive the row and the workspace it names.
    team_id: Mapped[str] = mapped_column(TeamId)
    kind: Mapped[str] = mapped_column(String(16))  # "booking", "appointment" or "pass"
    row_id: Mapped[int] = mapped_column(BigId)
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PaymentLink(Base):
    """One Stripe Checkout Session sent to a customer: for a record (booking, appointment, pass,
    video) or, with mode subscription, for a plan. Each new session of a target is an attempt."""

    __tablename__ = "payment_links"
    __table_args__ = (
        UniqueConstraint("session_id"),
        Index("ix_payment_links_target", "team_id", "kind", "target_id"),
        Index("ix_payment_links_customer", "customer_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    # "booking", "appointment", "pass" or "video" with the record's id; "subscription" with the plan's.
    kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int] = mapped_column(BigId)
    attempt: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[LinkStatus] = mapped_column(enum_type(LinkStatus))
    amount_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    session_id: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_to: Mapped[str] = mapped_column(String(320), default="")
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # While Stripe is asked for the session: when this attempt claimed it.
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Once paid: the payment intent (pi_…) or Stripe subscription (sub_…) it made.
    paid_with: Mapped[str | None] = mapped_column(String(64))
