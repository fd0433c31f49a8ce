"""A customer's one-to-one appointment with a facilitator."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, TeamId, UTCDateTime, enum_type, team_fk
from core.models.booking import Attendance, RefundState
from core.models.commerce import PaymentMethod


class AppointmentState(StrEnum):
    """Scheduled or Cancelled, as the spec's Status column."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Appointment(Base):
    """A service given by a facilitator at a time, for a price or credits."""

    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_customer_booked", "customer_id", "booked_at", "id"),
        Index("ix_appointments_facilitator_start", "facilitator_id", "starts_at"),
        Index("ix_appointments_team_attendance", "team_id", "attendance", "customer_id"),
        Index("ix_appointments_team_start", "team_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(BigId, ForeignKey("appointment_services.id"))
    facilitator_id: Mapped[int] = mapped_column(BigId, ForeignKey("facilitators.id"))
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_minutes: Mapped[int] = mapped_column(Integer)
    price_minor: Mapped[int | None] = mapped_column(Integer)
    credits: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    payment_method: Mapped[PaymentMethod] = mapped_column(enum_type(PaymentMethod))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(64))
    pass_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("passes.id", ondelete="SET NULL"))
    state: Mapped[AppointmentState] = mapped_column(enum_type(AppointmentState))
    # Refunds of its Stripe payment (made in Stripe's dashboard, recorded from its webhook).
    refunded_minor: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    refund_state: Mapped[RefundState] = mapped_column(
        enum_type(RefundState), default=RefundState.NONE, server_default=RefundState.NONE.value
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Check-in, as on bookings: what was recorded, by whom (a Slack user id) and when.
    attendance: Mapped[Attendance | None] = mapped_column(enum_type(Attendance), default=None)
    attendance_by: Mapped[str | None] = mapped_column(String(32), default=None)
    attendance_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Booked under the "credit used at check-in" rule: credits taken only while attended.
    credits_at_check_in: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
