"""A pass: credits a customer bought (or was given), valid between two dates."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, TeamId, UTCDateTime, enum_type, team_fk
from core.models.booking import RefundState
from core.models.commerce import PaymentMethod


class PassState(StrEnum):
    """Completed: paid through Stripe; Manual: assigned by staff; Cancelled: withdrawn;
    Unpaid: waiting for a payment link to be paid (its credits can't be used yet)."""

    COMPLETED = "completed"
    MANUAL = "manual"
    CANCELLED = "cancelled"
    UNPAID = "unpaid"


class Pass(Base):
    """Credits that bookings, appointments and videos can be paid with."""

    __tablename__ = "passes"
    __table_args__ = (
        Index("ix_passes_customer_purchased", "customer_id", "purchased_at", "id"),
        # Today's passes ending soon or on their last credit: read from the passes still valid.
        Index("ix_passes_team_valid_to", "team_id", "valid_to"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    pass_type_id: Mapped[int] = mapped_column(BigId, ForeignKey("pass_types.id"))
    purchased_at: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    credits_total: Mapped[int] = mapped_column(Integer)
    credits_remaining: Mapped[int] = mapped_column(Integer)
    price_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    payment_method: Mapped[PaymentMethod] = mapped_column(enum_type(PaymentMethod))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[PassState] = mapped_column(enum_type(PassState))
    # Refunds of its Stripe payment (made in Stripe's dashboard, recorded from its webhook).
    refunded_minor: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    refund_state: Mapped[RefundState] = mapped_column(
        enum_type(RefundState), default=RefundState.NONE, server_default=RefundState.NONE.value
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
