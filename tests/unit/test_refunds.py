"""Refunds of Stripe-paid bookings on SQLite and PostgreSQL, through the real `stripe` client.

The stand-in accepts a second refund of a payment and refunds beyond what was paid, and it
ignores idempotency keys: every "exactly once" below is our own guards at work.
"""

# ruff: noqa: F811 - tests take the imported stand-in fixtures as parameters

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.actor import Actor
from core.adapters.payments import PaymentError, PaymentGateway, StripeGateway
from core.db import Database
from core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from core.models import Booking, HistoryEntry, PaymentMethod, RefundState
from core.services.refunds import (
    BOOKING_REFUNDED,
    PENDING_CLAIM,
    REFUND_RECOVERED,
    RefundOutcome,
    idempotency_key,
    refund_booking,
)
from tests.conftest import MutableClock
from tests.stripe_server import (
    API_KEY,
    HOST,
    StripeStandIn,
    free_port,
    stripe_process,  # noqa: F401 - a fixture
    stripe_server,  # noqa: F401 - a fixture
)
from tests.unit import history_rows

CLICKS = 20


@dataclass(frozen=True)
class Paid:
    """A booking and the payment intent that paid for it."""

    booking_id: int
    intent_id: str


def paid_booking(
    db: Database, actor: Actor, stand_in: StripeStandIn, price: int = 1200, **values: Any
) -> Paid:
    """A booking paid through the stand-in (or as `values` say, e.g. paid manually)."""
    intent_id = stand_in.payment(price)
    fields: dict[str, Any] = {"price_minor": price, "stripe_payment_intent_id": intent_id}
    fields.update(values)
    with db.unit_of_work() as uow:
        now = uow.now()
        shop = history_rows.shop(uow, actor.team_id, now + timedelta(days=3))
        owner = history_rows.customer(uow, actor)
        booking = history_rows.booking(uow, shop, owner, now, **fields)
        return Paid(booking.id, intent_id)


def refund(
    db: Database,
    actor: Actor,
    paid: Paid,
    gateway: PaymentGateway | None,
    amount: int | None = None,
    **kwargs: Any,
) -> RefundOutcome:
    return refund_booking(
        db, actor, paid.booking_id, amount_minor=amount, gateway=gateway, **kwargs
    )


def booking_state(db: Database, paid: Paid) -> tuple[int, RefundState, int]:
    with db.unit_of_work(readonly=True) as uow:
        booking = uow.session.get_one(Booking, paid.booking_id)
        return booking.refunded_minor, booking.refund_state, booking.version


def history(db: Database) -> list[tuple[str, dict[str, Any], str]]:
    with db.unit_of_work(readonly=True) as uow:
        rows = uow.session.scalars(select(HistoryEntry).order_by(HistoryEntry.id)).all()
        return [(row.action, row.changes, row.detail) for row in rows]


def refunded_amounts(stand_in: StripeStandIn, paid: Paid) -> list[int]:
    return sorted(int(r["amount"]) for r in stand_in.refunds(paid.intent_id))


# -- what a refund does ------------------------------------------------------------------


def test_full_refund_by_default(db: Database, admin: Actor, stripe_server: StripeStandIn) -> None:
    paid = paid_booking(db, admin, stripe_server)

    outcome = refund(db, admin, paid, stripe_server.gateway())

    assert outcome.refund is not None
    assert (outcome.refunded_minor, outcome.refund_state, outcome.remaining_minor) == (
        1200,
        RefundState.FULL,
        0,
    )
    assert outcome.summary == (
        f"Refunded £12.00 via Stripe (refund {outcome.refund.id}). "
        "The booking is now refunded in full."
    )
    assert booking_state(db, paid) == (1200, RefundState.FULL, 2)
    assert refunded_amounts(stripe_server, paid) == [1200]
    assert history(db) == [
        (
            BOOKING_REFUNDED,
            {"refunded": ["£0.00", "£12.00"], "refund_state": ["none", "full"]},
            f"refunded £12.00 via Stripe, refund {outcome.refund.id}, booking #{paid.booking_id}",
        )
    ]


def test_partial_refunds_add_up_to_the_price(
    db: Database, admin: Actor, stripe_server: StripeStandIn
) -> None:
    paid = paid_booking(db, admin, stripe_server, price=1000)
    gateway = stripe_server.gateway()

    first = refund(db, admin, paid, gateway, 250)
    assert (first.refunded_minor, first.refund_state) == (250, RefundState.PARTIAL)
    assert first.summary.endswith("£7.50 of £10.00 can still be refunded.")

    with pytest.raises(ValidationFailed) as caught:
        refund(db, admin, paid, gateway, 751)
    assert caught.value.errors == {
        "amount": "You can refund at most £7.50 (£2.50 was refunded already)."
    }

    rest = refund(db, admin, paid, gateway)
    assert rest.refund is not None
    assert (rest.refund.amount_minor, rest.refunded_minor, rest.refund_state) == (
        750,
        1000,
        RefundState.FULL,
    )
    assert booking_state(db, paid) == (1000, RefundState.FULL, 3)
    assert refunded_amounts(stripe_server, paid) == [250, 750]


def test_the_idempotency_key_changes_only_with_what_was_refunded_before() -> None:
    # A retry of one click (same refunded amount before it) reuses the key; a further
    # partial refund starts from a new refunded amount and so gets its own.
    assert idempotency_key("pi_1", 7, 0) == idempotency_key("pi_1", 7, 0)
    assert idempotency_key("pi_1", 7, 0) != idempotency_key("pi_1", 7, 250)
    assert idempotency_key("pi_1", 7, 0) != idempotency_key("pi_1", 8, 0)
    assert idempotency_key("pi_1", 7, 0) != idempotency_key("pi_2", 7, 0)


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (1201, "You can refund at most £12.00, the amount paid."),
        (0, "Enter an amount above £0.00."),
        (-5, "Enter an amount above £0.00."),
    ],
)
def test_amounts_outside_what_was_paid_are_refused(
    db: Database, admin: Actor, stripe_server: StripeStandIn, amount: int, message: str
) -> None:
    paid = paid_booking(db, admin, stripe_server)

    with pytest.raises(ValidationFailed) as caught:
        refund(db, admin, paid, stripe_server.gateway(), amount)

    assert caught.value.errors == {"amount": message}
    assert stripe_server.refunds(paid.intent_id) == []
    assert booking_state(db, paid) == (0, RefundState.NONE, 1)


def test_a_fully_refunded_booking_is_refused(
    db: Database, admin: Actor, stripe_server: StripeStandIn
) -> None:
    paid = paid_booking(db, admin, stripe_server)
    refund(db, admin, paid, stripe_server.gateway())

    with pytest.raises(DomainError, match=r"already refunded in full \(£12\.00\)"):
        refund(db, admin, paid, stripe_server.gateway())

    assert refunded_amounts(stripe_server, paid) == [1200]


# -- who and what may be refunded ----------------------------------------------------------


def test_staff_who_are_not_admins_are_refused(
    db: Database, admin: Actor, staff: Actor, stripe_server: StripeStandIn
) -> None:
    paid = paid_booking(db, admin, stripe_server)

    with pytest.raises(Forbidden, match="Only an admin can refund"):
        refund(db, staff, paid, stripe_server.gateway())

    assert stripe_server.refunds(paid.intent_id) == []
    assert history(db) == []


def test_another_workspace_cannot_see_the_booking(
    db: Database, admin: Actor, other_tenant: Actor, stripe_server: StripeStandIn
) -> None:
    paid = paid_booking(db, admin, stripe_server)

    with pytest.raises(NotFound, match=f"Booking #{paid.booking_id} no longer exists here"):
        refund(db, other_tenant, paid, stripe_server.gateway())

    assert stripe_server.refunds(paid.intent_id) == []


def test_the_booking_must_belong_to_the_named_customer(
    db: Database, admin: Actor, stripe_server: StripeStandIn
) -> None:
    paid = paid_booking(db, admin, stripe_server)

    with pytest.raises(NotFound):
        refund(db, admin, paid, stripe_server.gateway(), uid="NOTTHEOWNER1")


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        (
            {"payment_method": PaymentMethod.MANUAL, "stripe_payment_intent_id": None},
            "was marked paid by staff, not paid through Stripe",
        ),
        (
            {"payment_method": PaymentMethod.PACKAGE, "price_minor": None, "credits": 1},
            "was paid with pass credits, not through Stripe",
        ),
        ({"stripe_payment_intent_id": None}, "has no Stripe payment recorded"),
        ({"price_minor": 0}, "cost nothing"),
    ],
)
def test_bookings_not_paid_through_stripe_are_refused(
    db: Database,
    admin: Actor,
    stripe_server: StripeStandIn,
    values: dict[str, Any],
    reason: str,
) -> None:
    paid = paid_booking(db, admin, stripe_server, **values)

    with pytest.raises(DomainError, match=reason):
        refund(db, admin, paid, stripe_server.gateway())

    assert stripe_server.refunds(paid.intent_id) == []


def test_without_stripe_configured_nothing_is_refunded(
    db: Database, admin: Actor, stripe_server: StripeStandIn
) -> None:
    paid = paid_booking(db, admin, stripe_server)

    with pytest.raises(PaymentError, match="Stripe is not configured, so nothing was refunded"):
        refund(db, admin, paid, None)

    assert booking_state(db, paid) == (0, RefundState.NONE, 1)


# -- Stripe failing ------------------------------------------------------------------------


def test_a_payment_stripe_does_not_know_leaves_the_booking_unchanged(
    db: Database, admin: Actor, stripe_server: StripeStandIn
) -> None:
    paid = paid_booking(db, admin, stripe_server, stripe_payment_intent_id="pi_unknown")

    with pytest.raises(PaymentError, match="Stripe has no record of this payment"):
        refund(db, admin, paid, stripe_server.gateway())

    assert booking_state(db, paid) == (0, RefundState.NONE, 1)
    assert history(db) == []


def test_stripe_unreachable_leaves_the_booking_unchanged(
    db: Database, admin: Actor, stripe_server: StripeStandIn
) -> None:
    paid = paid_booking(db, admin, stripe_server)
    # Nothing listens on this port any more: connections are refused.
    gone = StripeGateway("sk_test_x", f"http://{HOST}:{free_port()}", max_network_retries=0)

    with pytest.raises(PaymentError) as caught:
        refund(db, admin, paid, gone)

    assert caught.value.message == (
        "Stripe couldn't be reached; nothing was refunded. Try again in a minute."
    )
    assert booking_state(db, paid) == (0, RefundState.NONE, 1)
    assert history(db) == []
    assert stripe_server.refunds(paid.intent_id) == []


def test_stripe_refusing_the_refund_itself_leaves_the_booking_unchanged(
    db: Database, admin: Actor, stripe_server: StripeStandIn
) -> None:
    """Listing refunds works, creating one fails: the error propagates and nothing is recorded."""
    paid = paid_booking(db, admin, stripe_server)

    class RefusingRefunds(StripeGateway):
        """The real gateway, except that Stripe refuses the refund itself."""

        def refund(self, payment_intent_id: str, amount_minor: int, *, idempotency_key: str) -> Any:
            raise PaymentError("Stripe refused the refund: the charge is disputed.")

    with pytest.raises(PaymentError, match="the charge is disputed"):
        refund(db, admin, paid, RefusingRefunds(API_KEY, stripe_server.url))

    assert booking_state(db, paid) == (0, RefundState.NONE, 1)
    assert history(db) == []


# -- never twice ---------------------------------------------------------------------------


class CrashAfterRefund(StripeGateway):
    """The real gateway, but the process "dies" once Stripe has refunded: nothing records it."""

    def refund(self, payment_intent_id: str, amount_minor: int, *, idempotency_key: str) -> Any:
        super().refund(payment_intent_id, amount_minor, idempotency_key=idempotency_key)
        raise SystemExit("killed between the Stripe call and recording its outcome")


def test_a_crash_after_stripe_refunded_is_completed_by_the_retry_not_repeated(
    db: Database, admin: Actor, stripe_server: StripeStandIn, clock: MutableClock
) -> None:
    paid = paid_booking(db, admin, stripe_server)
    gateway = stripe_server.gateway()

    with pytest.raises(SystemExit):
        refund(db, admin, paid, CrashAfterRefund(API_KEY, stripe_server.url))
    assert booking_state(db, paid) == (0, RefundState.NONE, 1)
    assert refunded_amounts(stripe_server, paid) == [1200]

    # While the crashed attempt's claim lasts, a retry refunds nothing (it may still be running).
    with pytest.raises(Conflict, match=r"A refund of £12\.00 for booking #\d+ is under way"):
        refund(db, admin, paid, gateway, expected_refunded_minor=0)
    clock.advance(seconds=PENDING_CLAIM.total_seconds() + 1)
    retry = refund(db, admin, paid, gateway, expected_refunded_minor=0)

    assert retry.refund is None
    assert (retry.recovered_minor, retry.refunded_minor, retry.refund_state) == (
        1200,
        1200,
        RefundState.FULL,
    )
    assert retry.summary.startswith("Stripe had already refunded £12.00 of this payment")
    assert refunded_amounts(stripe_server, paid) == [1200]
    assert booking_state(db, paid) == (1200, RefundState.FULL, 2)
    [(action, changes, detail)] = history(db)
    assert action == REFUND_RECOVERED
    assert changes["refunded"] == ["£0.00", "£12.00"]
    assert "refunded nothing new" in detail
    with pytest.raises(DomainError, match="already refunded in full"):
        refund(db, admin, paid, gateway)
    assert refunded_amounts(stripe_server, paid) == [1200]


def test_a_crash_before_stripe_refunded_is_refunded_once_by_the_retry(
    db: Database, admin: Actor, stripe_server: StripeStandIn, clock: MutableClock
) -> None:
    paid = paid_booking(db, admin, stripe_server)

    class CrashBeforeRefund(StripeGateway):
        def refund(self, payment_intent_id: str, amount_minor: int, *, idempotency_key: str) -> Any:
            raise SystemExit("killed before Stripe was asked")

    with pytest.raises(SystemExit):
        refund(db, admin, paid, CrashBeforeRefund(API_KEY, stripe_server.url), 500)
    clock.advance(seconds=PENDING_CLAIM.total_seconds() + 1)
    # The retry completes the pending £5.00, whatever this click asked for.
    retry = refund(db, admin, paid, stripe_server.gateway(), 300, expected_refunded_minor=0)

    assert retry.refund is not None and retry.refund.amount_minor == 500
    assert refunded_amounts(stripe_server, paid) == [500]
    assert booking_state(db, paid) == (500, RefundState.PARTIAL, 2)
    assert [action for action, _, _ in history(db)] == [BOOKING_REFUNDED]


def test_no_database_lock_is_held_while_stripe_refunds(
    db: Database, admin: Actor, stripe_server: StripeStandIn
) -> None:
    """Another write (a new customer) completes while the refund waits on Stripe."""
    paid = paid_booking(db, admin, stripe_server)
    calling, release = threading.Event(), threading.Event()

    class HeldRefund(StripeGateway):
        def refund(self, payment_intent_id: str, amount_minor: int, *, idempotency_key: str) -> Any:
            calling.set()
            assert release.wait(30), "never released"
            return super().refund(payment_intent_id, amount_minor, idempotency_key=idempotency_key)

    with ThreadPoolExecutor(max_workers=1) as pool:
        refunding = pool.submit(refund, db, admin, paid, HeldRefund(API_KEY, stripe_server.url))
        try:
            assert calling.wait(30)
            started = time.monotonic()
            with db.unit_of_work() as uow:
                history_rows.customer(uow, admin, "Grace", "Hopper")
            # SQLite waits up to 30 s for a held write lock; PostgreSQL would wait on a row lock.
            assert time.monotonic() - started < 2
            # The booking itself is not locked either: its refund is marked pending instead.
            with db.unit_of_work() as uow:
                assert uow.session.get_one(Booking, paid.booking_id).refund_pending_minor == 1200
        finally:
            release.set()
        outcome = refunding.result(timeout=30)
    assert outcome.refunded_minor == 1200
    assert booking_state(db, paid) == (1200, RefundState.FULL, 2)


def test_a_refund_made_meanwhile_turns_a_stale_click_into_a_conflict(
    db: Database, admin: Actor, stripe_server: StripeStandIn
) -> None:
    paid = paid_booking(db, admin, stripe_server)
    gateway = stripe_server.gateway()
    # Two admins look at the same booking (nothing refunded); one refunds £5.00.
    refund(db, admin, paid, gateway, 500, expected_refunded_minor=0)
    other = replace(admin, user_id="UADMIN2")

    with pytest.raises(Conflict, match=r"meanwhile had £5\.00 refunded in all"):
        refund(db, other, paid, gateway, 500, expected_refunded_minor=0)

    assert refunded_amounts(stripe_server, paid) == [500]


def concurrently(count: int, action: Callable[[], RefundOutcome]) -> list[object]:
    """Run `action` in `count` threads released together; each result or exception."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def click(index: int) -> None:
        barrier.wait()
        try:
            results[index] = action()
        except Exception as exc:  # collected for the test to inspect
            results[index] = exc

    threads = [threading.Thread(target=click, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a refund click hung"
    return results


def test_twenty_concurrent_clicks_refund_exactly_once(
    db: Database, admin: Actor, stripe_server: StripeStandIn
) -> None:
    paid = paid_booking(db, admin, stripe_server)
    gateway = stripe_server.gateway()

    results = concurrently(CLICKS, lambda: refund(db, admin, paid, gateway))

    done = [r for r in results if isinstance(r, RefundOutcome)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(done) == 1, results
    assert len(refused) == CLICKS - 1, results
    assert all(
        "already refunded in full" in r.message or "is under way" in r.message for r in refused
    ), refused
    assert refunded_amounts(stripe_server, paid) == [1200]
    assert booking_state(db, paid) == (1200, RefundState.FULL, 2)
    assert [action for action, _, _ in history(db)] == [BOOKING_REFUNDED]


def test_concurrent_partial_refunds_never_exceed_the_price(
    db: Database, admin: Actor, stripe_server: StripeStandIn
) -> None:
    paid = paid_booking(db, admin, stripe_server)
    gateway = stripe_server.gateway()

    results = concurrently(2, lambda: refund(db, admin, paid, gateway, 700))

    done = [r for r in results if isinstance(r, RefundOutcome)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert (len(done), len(refused)) == (1, 1), results
    assert refused[0].message in (
        "amount: You can refund at most £5.00 (£7.00 was refunded already).",
        f"A refund of £7.00 for booking #{paid.booking_id} is under way; nothing was "
        "refunded by this request. Check the booking again in a minute.",
    )
    assert refunded_amounts(stripe_server, paid) == [700]
    assert booking_state(db, paid) == (700, RefundState.PARTIAL, 2)
