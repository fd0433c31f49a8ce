"""Refunding a Stripe-paid booking: admin only, never more than was paid, never twice.

No database lock is held while Stripe answers. Three steps:
1. A short transaction locks the booking (and its customer), checks what is refundable and
   records the refund as pending (amount, and when it was claimed). A refund pending on the
   booking refuses every other attempt for PENDING_CLAIM; after that (its attempt crashed)
   the next attempt takes it over and completes it instead of starting another.
2. With no transaction open, Stripe's list of refunds for the payment is compared with the
   booking: refunds Stripe holds beyond what is recorded (an interrupted attempt, the
   dashboard) are recorded and nothing more is refunded. Otherwise the refund is made with an
   idempotency key of the payment, the booking and the amount refunded before it, so real
   Stripe answers a retry with the refund it already made, even before it is listed.
3. A second short transaction records the outcome and clears the pending refund. If Stripe
   failed, the pending refund is forgotten, or kept for the next attempt to complete at once
   when Stripe may have made it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from core.actor import Actor
from core.adapters.payments import PaymentError, PaymentGateway, RefundInfo, require_gateway
from core.db import Transactions, UnitOfWork
from core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from core.formatting import format_money
from core.models import Booking, Customer, PaymentIntentUse, PaymentMethod, RefundState
from core.services import alerts, history
from core.services.checkout import RefundableRow, paid_kind
from core.services.customers import lock_owner

BOOKING_REFUNDED = "booking refunded"
REFUND_RECOVERED = "refund recorded from Stripe"
NOTHING_REFUNDED = "nothing was refunded"
# Longer than a refund's two Stripe calls with their retries take (about 25 s): a refund
# pending longer than this was interrupted, and the next attempt completes it.
PENDING_CLAIM = timedelta(seconds=60)


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
    who: str,
    customer: Customer,
    paid: RefundableRow,
    price: int,
    refunded: int,
    *,
    action: str,
    detail: str,
) -> None:
    before, state_before = paid.refunded_minor, paid.refund_state
    paid.refunded_minor = refunded
    paid.refund_state = _state(refunded, price)
    paid.version += 1
    amount = format_money(refunded - before, paid.currency)
    alerts.record(
        uow, alerts.REFUND, customer, f"Refund of {amount} on {paid_kind(paid)} #{paid.id}"
    )
    history.record(
        uow,
        who,
        customer,
        action,
        changes={
            "refunded": [
                format_money(before, paid.currency),
                format_money(refunded, paid.currency),
            ],
            "refund_state": [state_before.value, paid.refund_state.value],
        },
        detail=detail,
    )


def record_stripe_refunds(
    uow: UnitOfWork, who: str, customer: Customer, paid: RefundableRow, refunds: list[RefundInfo]
) -> int:
    """Record refunds Stripe holds for `paid`'s payment beyond what it shows (an interrupted
    attempt, the dashboard), in `who`'s name; return how much more that was."""
    price = paid.price_minor or 0
    held = min(sum(r.amount_minor for r in refunds if r.active), price)
    missing = held - paid.refunded_minor
    # Stripe holding less than recorded (a refund that later failed) is left for staff to
    # look into: lowering it here could let the next refund exceed what was paid.
    if missing <= 0:
        return 0
    ids = ", ".join(r.id for r in refunds if r.active)
    _set_refunded(
        uow,
        who,
        customer,
        paid,
        price,
        held,
        action=REFUND_RECOVERED,
        detail=(
            f"Stripe holds refunds of {format_money(held, paid.currency)} for payment "
            f"{paid.stripe_payment_intent_id} ({ids}), {format_money(missing, paid.currency)} "
            f"more than {paid_kind(paid)} #{paid.id} showed; recorded them, refunded nothing new"
        ),
    )
    return missing


def refund_under_way(booking: Booking, now: datetime) -> bool:
    """Whether a refund of `booking` made here is between asking Stripe and recording it."""
    since = booking.refund_pending_since
    return (
        booking.refund_pending_minor is not None
        and since is not None
        and now - since < PENDING_CLAIM
    )


def idempotency_key(payment_intent_id: str, booking_id: int, refunded_before: int) -> str:
    """The key of a refund of `booking_id` made when `refunded_before` had been refunded."""
    return f"booking-refund:{payment_intent_id}:{booking_id}:after:{refunded_before}"


@dataclass(frozen=True)
class _Pending:
    """A refund recorded as pending: what to ask Stripe for, with no transaction open."""

    booking_id: int
    intent_id: str
    price_minor: int
    amount_minor: int
    refunded_before: int

    @property
    def key(self) -> str:
        return idempotency_key(self.intent_id, self.booking_id, self.refunded_before)


def refund_booking(
    db: Transactions,
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
    with db.unit_of_work() as uow:
        pending = _begin(
            uow, actor, booking_id, amount_minor, expected_refunded_minor, uid, gateway
        )
    payments = require_gateway(gateway, NOTHING_REFUNDED)
    try:
        refunds = payments.list_refunds(pending.intent_id)
        refund = None if _held(refunds, pending) else _refund(payments, pending)
    except PaymentError as exc:
        with db.unit_of_work() as uow:
            _release(uow, actor, pending, interrupted=exc.maybe_done)
        raise
    with db.unit_of_work() as uow:
        return _finish(uow, actor, pending, refunds, refund)


def _begin(
    uow: UnitOfWork,
    actor: Actor,
    booking_id: int,
    requested: int | None,
    expected_refunded_minor: int | None,
    uid: str | None,
    gateway: PaymentGateway | None,
) -> _Pending:
    """Check the refund and record it as pending, or take over one that was interrupted."""
    booking, _customer = _lock(uow, actor, booking_id, uid)
    intent_id, price = _stripe_payment(booking)
    _refuse_unless_claimed(uow, booking, intent_id)
    now = uow.now()
    if booking.refund_pending_minor is not None:
        since = booking.refund_pending_since
        if since is not None and now - since < PENDING_CLAIM:
            money = format_money(booking.refund_pending_minor, booking.currency)
            raise Conflict(
                f"A refund of {money} for booking #{booking.id} is under way; "
                f"{NOTHING_REFUNDED} by this request. Check the booking again in a minute."
            )
        # Interrupted (a crash, or Stripe's answer lost): this attempt completes that refund.
        amount = booking.refund_pending_minor
    else:
        if (
            expected_refunded_minor is not None
            and booking.refunded_minor != expected_refunded_minor
        ):
            done = format_money(booking.refunded_minor, booking.currency)
            raise Conflict(
                f"Booking #{booking.id} has meanwhile had {done} refunded in all; "
                f"{NOTHING_REFUNDED}. Check the booking and refund again if more is due."
            )
        amount = _amount(booking, price, requested)
    require_gateway(gateway, NOTHING_REFUNDED)
    booking.refund_pending_minor, booking.refund_pending_since = amount, now
    return _Pending(booking.id, intent_id, price, amount, booking.refunded_minor)


def _held(refunds: list[RefundInfo], pending: _Pending) -> bool:
    """Whether Stripe already holds refunds beyond what the booking records (to record only)."""
    held = min(sum(r.amount_minor for r in refunds if r.active), pending.price_minor)
    return held > pending.refunded_before


def _refund(payments: PaymentGateway, pending: _Pending) -> RefundInfo:
    return payments.refund(pending.intent_id, pending.amount_minor, idempotency_key=pending.key)


def _lock_again(uow: UnitOfWork, actor: Actor, pending: _Pending) -> tuple[Booking, Customer]:
    """The booking and its owner, locked, if the refund pending on it is still this one."""
    booking, customer = _lock(uow, actor, pending.booking_id, None)
    if booking.refund_pending_minor is None or booking.refunded_minor != pending.refunded_before:
        # Another attempt took over after this one's claim ran out, and recorded the outcome.
        raise Conflict(
            f"Booking #{booking.id}'s refund was completed by another attempt; check the booking."
        )
    return booking, customer


def _release(uow: UnitOfWork, actor: Actor, pending: _Pending, *, interrupted: bool) -> None:
    """Stripe failed: forget the pending refund, or (if Stripe may have made it) leave it for
    the next attempt to complete at once."""
    booking, _customer = _lock_again(uow, actor, pending)
    booking.refund_pending_since = None
    if not interrupted:
        booking.refund_pending_minor = None


def _finish(
    uow: UnitOfWork,
    actor: Actor,
    pending: _Pending,
    refunds: list[RefundInfo],
    refund: RefundInfo | None,
) -> RefundOutcome:
    """Record what Stripe did for the pending refund, and clear it."""
    booking, customer = _lock_again(uow, actor, pending)
    price = pending.price_minor
    recovered = 0
    if refund is None:
        recovered = record_stripe_refunds(uow, actor.user_id, customer, booking, refunds)
    else:
        status = "" if refund.status == "succeeded" else f" ({refund.status} at Stripe)"
        _set_refunded(
            uow,
            actor.user_id,
            customer,
            booking,
            price,
            booking.refunded_minor + refund.amount_minor,
            action=BOOKING_REFUNDED,
            detail=(
                f"refunded {format_money(refund.amount_minor, booking.currency)} via Stripe, "
                f"refund {refund.id}{status}, booking #{booking.id}"
            ),
        )
    booking.refund_pending_minor = booking.refund_pending_since = None
    return RefundOutcome(
        booking_id=booking.id,
        currency=booking.currency,
        price_minor=price,
        refunded_minor=booking.refunded_minor,
        refund_state=booking.refund_state,
        refund=refund,
        recovered_minor=recovered,
    )
