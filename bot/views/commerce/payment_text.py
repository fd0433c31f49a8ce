"""How a row was paid, and what cancelling it does to that payment, in words."""

from __future__ import annotations

from typing import Protocol

from bot.views.commerce.form_state import PaymentForm
from core.formatting import format_credits, format_money, format_price
from core.models import PaymentMethod

STRIPE_NOT_REFUNDED = (
    "Its Stripe payment is *not* refunded by cancelling; refund it in Stripe if due."
)


class Paid(Protocol):
    """A booking, appointment or video purchase: paid in money or in a pass's credits."""

    @property
    def payment_method(self) -> PaymentMethod: ...

    @property
    def price_minor(self) -> int | None: ...

    @property
    def credits(self) -> int | None: ...

    @property
    def currency(self) -> str: ...


def how_paid(row: Paid, payment: PaymentForm) -> str:
    """How it was paid, for a notice: '1 CR from 10-class pass #12', '£12.00 paid through Stripe',
    '£12.00, paid manually' or 'free'."""
    if row.payment_method is PaymentMethod.PACKAGE:
        return f"{format_credits(row.credits or 0)} from {payment.pass_label or 'their pass'}"
    if row.payment_method is PaymentMethod.STRIPE:
        return f"{format_money(row.price_minor or 0, row.currency)} paid through Stripe"
    if row.payment_method is PaymentMethod.UNPAID:
        return f"{format_money(row.price_minor or 0, row.currency)}, unpaid"
    if row.price_minor:
        return f"{format_money(row.price_minor, row.currency)}, paid manually"
    return "free"


def cancelled_payment(row: Paid, *, stripe: str | None = None) -> str:
    """What cancelling does to the payment: credits go back, money is for staff to refund.

    `stripe` says what becomes of a Stripe payment (None: the same as of money paid otherwise)."""
    if row.payment_method is PaymentMethod.PACKAGE:
        return f"The {format_credits(row.credits or 0)} goes back to the pass it came from."
    if row.payment_method is PaymentMethod.STRIPE and stripe is not None:
        return stripe
    if row.payment_method is PaymentMethod.UNPAID:
        return (
            "It is not paid; a payment link still open can be paid all the same (Stripe then "
            "records the payment, for you to refund if due)."
        )
    if row.price_minor:
        price = format_price(row.price_minor, row.credits, row.currency)
        return f"It was marked paid ({price}); refund that the way it was paid, if due."
    return ""
