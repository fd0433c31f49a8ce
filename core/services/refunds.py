"""Refunding a Stripe-paid booking: admin only, never more than was paid, never twice.

Three guards, each enough for its own failure:
- The booking (and its customer) stay locked from the check of what is refundable until the
  refund is recorded, Stripe call included, so concurrent clicks take turns and each one sees
  what the previous one refunded (PostgreSQL: SELECT … FOR UPDATE; SQLite: the unit of work's
  BEGIN IMMEDIATE holds the database's write lock).
- Before refunding, Stripe's own list of refunds for the payment is compared with the booking.
  This closes the crash window — Stripe refunded, then the commit failed — whatever the delay:
  the retry finds the refund Stripe made, records it and refunds nothing more.
- The idempotency key is the payment, the booking and the amount refunded before this refund.
  A retry of the same click uses the same key, so real Stripe answers it with the refund it
  already made (for 24 hours), even while that refund is still too fresh to be listed; a
  genuine further partial refund starts from a new refunded amount and so gets a new key.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from core.actor import Actor
from core.adapters.payments import PaymentGateway, RefundInfo, require_gateway
from core.db import UnitOfWork
from core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from core.formatting import format_money
from core.models import Booking, Customer, PaymentIntentUse, PaymentMethod, RefundState
from core.services import history
from core.services.customers import lock_owner

BOOKING_REFUNDED = "booking refunded"
REFUND_RECOVERED = "refund recorded from Stripe"
NOTHING_REFUNDED = "nothing was refunded"


@dataclass(frozen=True)
class RefundOutcome:
    """The booking's refund position after a refund request, and what Stripe did for it."""

    booking_id: int
    currency: str
    price_minor: int
    refunded_minor: int
    refund_state: RefundState
    # The refund this request made; None when it only recorded refunds Stripe already held.
    refund: RefundInfo | None
    recovered_minor: int

    @property
    def remaining_minor(self) -> int:
        """How much can still be refunded."""
        return self.price_minor - self.refunded_minor

    @property
    def summary(self) -> str:
        """One plain sentence for staff saying what happened."""
        money = self._money
        if self.refund is None:
            return (
                f"Stripe had already refunded {money(self.recovered_minor)} of this payment "
                "without it being recorded here (an interrupted earlier attempt, or a refund "
                "made in Stripe's dashboard). It is recorded now and nothing more was refunded; "
                "check the amount and refund again if more is due."
            )
        pending = " It is pending at Stripe." if self.refund.status != "succeeded" else ""
        left = (
            f"{money(self.remaining_minor)} of {money(self.price_minor)} can still be refunded."
            if self.remaining_minor
            else "The booking is now refunded in full."
        )
        return (
            f"Refunded {money(self.refund.amount_minor)} via Stripe "
            f"(refund {self.refund.id}).{pending} {left}"
        )

    def _money(self, minor: int) -> str:
        return format_money(minor, self.currency)


def _find(uow: UnitOfWork, actor: Actor, booking_id: int, uid: str | None) -> Booking:
    query = select(Booking).where(Booking.id == booking_id, Booking.team_id == actor.team_id)
    if uid is not None:
        query = query.join(Customer, Customer.id == Booking.customer_id).where(Customer.uid == uid)
    booking = uow.session.scalars(query.execution_options(populate_existing=True)).first()
    if booking is None:
        raise NotFound(f"Booking #{booking_id} no longer exists here; it may have been deleted.")
    return booking


def _lock(
    uow: UnitOfWork, actor: Actor, booking_id: int, uid: str | None
) -> tuple[Booking, Customer]:
    """The booking and its customer, both locked for this transaction, as they are now."""
    # Owner first, then the booking: the order a merge takes them in, so neither waits on
    # the other forever.
    booking, customer = lock_owner(uow, lambda: _find(uow, actor, booking_id, uid))
    locked = uow.session.scalars(
        select(Booking)
        .where(Booking.id == booking.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return locked, customer


def _stripe_payment(booking: Booking) -> tuple[str, int]:
    """The booking's payment intent id and price, or why it cannot be refunded through Stripe."""
    if booking.payment_method is PaymentMethod.PACKAGE:
        raise DomainError(
            f"Booking #{booking.id} was paid with pass credits, not through Stripe, so there is "
            "no money to refund; cancelling it returns the credit to the pass."
        )
    if booking.payment_method is PaymentMethod.MANUAL:
        raise DomainError(
            f"Booking #{booking.id} was marked paid by staff, not paid through Stripe, so it "
            "can't be refunded from here; refund it the way it was paid."
        )
    if not booking.stripe_payment_intent_id:
        raise DomainError(
            f"Booking #{booking.id} has no Stripe payment recorded, so there is nothing to "
            "refund through Stripe."
        )
    if not booking.price_minor:
        raise DomainError(f"Booking #{booking.id} cost nothing, so there is nothing to refund.")
    return booking.stripe_payment_intent_id, booking.price_minor


def _refuse_unless_claimed(uow: UnitOfWork, booking: Booking, intent_id: str) -> None:
    """Refuse when the payment pays for another purchase (rows that shared it before 0007)."""
    use = uow.session.get(PaymentIntentUse, intent_id)
    if use is not None and (use.team_id, use.kind, use.row_id) != (
        booking.team_id,
        "booking",
        booking.id,
    ):
        raise DomainError(
            f"{intent_id} pays for another purchase, not booking #{booking.id}, so it can't be "
            "refunded from here; nothing was refunded."
        )


def _amount(booking: Booking, price: int, requested: int | None) -> int:
    """The amount to refund: `requested`, or all that is left; refused beyond what is left."""
    remaining = price - booking.refunded_minor
    if remaining <= 0:
        raise DomainError(
            f"Booking #{booking.id} was already refunded in full "
            f"({format_money(price, booking.currency)})."
        )
    if requested is None:
        return remaining
    if requested <= 0:
        raise ValidationFailed(
            {"amount": f"Enter an amount above {format_money(0, booking.currency)}."}
        )
    if requested > remaining:
        most = format_money(remaining, booking.currency)
        if booking.refunded_minor:
            done = format_money(booking.refunded_minor, booking.currency)
            problem = f"You can refund at most {most} ({done} was refunded already)."
        else:
            problem = f"You can refund at most {most}, the amount paid."
        raise ValidationFailed({"amount": problem})
    return requested


def _state(refunded: int, price: int) -> RefundState:
    if refunded <= 0:
        return RefundState.NONE
    return RefundState.FULL if refunded >= price else RefundState.PARTIAL


def _set_refunded(
    uow: UnitOfWork,
    actor: Actor,
    customer: Customer,
    booking: Booking,
    price: int,
    refunded: int,
    *,
    action: str,
    detail: str,
) -> None:
    before, state_before = booking.refunded_minor, booking.refund_state
    booking.refunded_minor = refunded
    booking.refund_state = _state(refunded, price)
    booking.version += 1
    history.record(
        uow,
        actor.user_id,
        customer,
        action,
        changes={
            "refunded": [
                format_money(before, booking.currency),
                format_money(refunded, booking.currency),
            ],
            "refund_state": [state_before.value, booking.refund_state.value],
        },
        detail=detail,
    )


def _catch_up(
    uow: UnitOfWork,
    actor: Actor,
    customer: Customer,
    booking: Booking,
    price: int,
    refunds: list[RefundInfo],
) -> int:
    """Record refunds Stripe holds beyond what the booking shows; return how much that was."""
    held = min(sum(r.amount_minor for r in refunds if r.active), price)
    missing = held - booking.refunded_minor
    # Stripe holding less than recorded (a refund that later failed) is left for staff to
    # look into: lowering it here could let the next refund exceed what was paid.
    if missing <= 0:
        return 0
    ids = ", ".join(r.id for r in refunds if r.active)
    _set_refunded(
        uow,
        actor,
        customer,
        booking,
        price,
        held,
        action=REFUND_RECOVERED,
        detail=(
            f"Stripe holds refunds of {format_money(held, booking.currency)} for payment "
            f"{booking.stripe_payment_intent_id} ({ids}), {format_money(missing, booking.currency)} "
            f"more than booking #{booking.id} showed; recorded them, refunded nothing new"
        ),
    )
    return missing


def idempotency_key(payment_intent_id: str, booking_id: int, refunded_before: int) -> str:
    """The key of a refund of `booking_id` made when `refunded_before` had been refunded."""
    return f"booking-refund:{payment_intent_id}:{booking_id}:after:{refunded_before}"


def refund_booking(
    uow: UnitOfWork,
    actor: Actor,
    booking_id: int,
    *,
    amount_minor: int | None,
    gateway: PaymentGateway | None,
    expected_refunded_minor: int | None = None,
    uid: str | None = None,
) -> RefundOutcome:
    """Refund `amount_minor` (None: all that is left) of a Stripe-paid booking through Stripe.

    `expected_refunded_minor` is what the person saw as refunded already: a refund made
    meanwhile turns the request into a Conflict instead of a second refund."""
    if not actor.is_admin:
        raise Forbidden("Only an admin can refund a payment; ask one of the workspace's admins.")
    booking, customer = _lock(uow, actor, booking_id, uid)
    intent_id, price = _stripe_payment(booking)
    _refuse_unless_claimed(uow, booking, intent_id)
    if expected_refunded_minor is not None and booking.refunded_minor != expected_refunded_minor:
        done = format_money(booking.refunded_minor, booking.currency)
        raise Conflict(
            f"Booking #{booking.id} has meanwhile had {done} refunded in all; "
            f"{NOTHING_REFUNDED}. Check the booking and refund again if more is due."
        )
    amount = _amount(booking, price, amount_minor)
    payments = require_gateway(gateway, NOTHING_REFUNDED)
    recovered = _catch_up(uow, actor, customer, booking, price, payments.list_refunds(intent_id))
    refund: RefundInfo | None = None
    if not recovered:
        key = idempotency_key(intent_id, booking.id, booking.refunded_minor)
        # The lock is held across this call on purpose: see the module docstring.
        refund = payments.refund(intent_id, amount, idempotency_key=key)
        pending = "" if refund.status == "succeeded" else f" ({refund.status} at Stripe)"
        _set_refunded(
            uow,
            actor,
            customer,
            booking,
            price,
            booking.refunded_minor + refund.amount_minor,
            action=BOOKING_REFUNDED,
            detail=(
                f"refunded {format_money(refund.amount_minor, booking.currency)} via Stripe, "
                f"refund {refund.id}{pending}, booking #{booking.id}"
            ),
        )
    return RefundOutcome(
        booking_id=booking.id,
        currency=booking.currency,
        price_minor=price,
        refunded_minor=booking.refunded_minor,
        refund_state=booking.refund_state,
        refund=refund,
        recovered_minor=recovered,
    )
