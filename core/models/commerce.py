"""How something was paid for, shared by bookings, appointments, passes and videos."""

from __future__ import annotations

from enum import StrEnum


class PaymentMethod(StrEnum):
    """Manual: staff marked it paid or free; Stripe: a payment intent; Package: pass credits."""

    MANUAL = "manual"
    STRIPE = "stripe"
    PACKAGE = "package"
