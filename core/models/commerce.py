"""How something was paid for, shared by bookings, appointments, passes and videos."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, TeamId, UTCDateTime


class PaymentMethod(StrEnum):
    """Manual: staff marked it paid or free; Stripe: a payment intent; Package: pass credits."""

    MANUAL = "manual"
    STRIPE = "stripe"
    PACKAGE = "package"


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
