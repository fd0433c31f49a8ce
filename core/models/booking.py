"""A customer's booking of one event occurrence."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, TeamId, UTCDateTime, enum_type, team_fk
from core.models.commerce import PaymentMethod


class BookingState(StrEnum):
    """The spec's payment states: Manual, Completed (paid via Stripe), Cancelled, Package (credits),
    and Unpaid (waiting for a payment link to be paid)."""

    MANUAL = "manual"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    PACKAGE = "package"
    UNPAID = "unpaid"


class Attendance(StrEnum):
    """What check-in recorded for a booking or appointment; NULL while nothing is recorded."""

    ATTENDED = "attended"
    NO_SHOW = "no_show"


class RefundState(StrEnum):
    """How much of a Stripe payment has gone back to the customer."""

    NONE = "none"
    PARTIAL = "partial"
    FULL = "full"


class Booking(Base):
    """A place at an event occurrence; paid in money (minor units) or in pass credits."""

    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint("team_id", "stripe_payment_intent_id"),
        Index("ix_bookings_customer_booked", "customer_id", "booked_at", "id"),
        # Covers a session's visitors too: segments count visits in a period from the sessions
        # in it without reading the bookings table.
        Index(
            "ix_bookings_occurrence_visits", "occurrence_id", "state", "attendance", "customer_id"
        ),
        Index("ix_bookings_team_attendance", "team_id", "attendance", "customer_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    occurrence_id: Mapped[int] = mapped_column(BigId, ForeignKey("event_occurrences.id"))
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    price_minor: Mapped[int | None] = mapped_column(Integer)
    credits: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[BookingState] = mapped_column(enum_type(BookingState))
    payment_method: Mapped[PaymentMethod] = mapped_column(enum_type(PaymentMethod))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(64))
    pass_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("passes.id", ondelete="SET NULL"))
    refunded_minor: Mapped[int] = mapped_column(Integer, default=0)
    refund_state: Mapped[RefundState] = mapped_column(
        enum_type(RefundState), default=RefundState.NONE
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A refund asked of Stripe and not yet recorded: its amount and when it was claimed.
    refund_pending_minor: Mapped[int | None] = mapped_column(Integer)
    refund_pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Check-in: what was recorded, by whom (a Slack user id) and when.
    attendance: Mapped[Attendance | None] = mapped_column(enum_type(Attendance), default=None)
    attendance_by: Mapped[str | None] = mapped_column(String(32), default=None)
    attendance_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Booked under the studio's "credit used at check-in" rule: its pass credits are taken only
    # while it is marked attended (otherwise they were taken when it was booked).
    credits_at_check_in: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
