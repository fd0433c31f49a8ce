"""`customer-bot stripe reconcile`'s service: what happened in Stripe while the webhooks were
missed (refunds in the dashboard, links paid or expired, subscriptions cancelled or paused)
found from Stripe's events and by comparing records, applied once, per studio's own account."""

# ruff: noqa: F811 - tests take the imported fixtures as parameters

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from core.adapters.payments import Gateways
from core.crypto import TokenCipher
from core.models import (
    BookingState,
    HistoryEntry,
    LinkStatus,
    PaymentLink,
    RefundState,
    StripeEvent,
    Subscription,
    SubscriptionState,
)
from core.services.stripe_reconcile import (
    EVENTS,
    LINKS,
    REFUNDS,
    SUBSCRIPTIONS,
    ReconcileReport,
    reconcile,
)
from core.services.stripe_webhooks import receive
from core.services.workspaces import ensure_workspace
from tests.conftest import MutableClock
from tests.slack.commerce_helpers import Shop, link_booking, open_shop, stripe_booking
from tests.slack.conftest import TEAM
from tests.stripe_events import sign
from tests.stripe_server import StandInError, StripeStandIn, stripe_process, stripe_server  # noqa: F401

OTHER_TEAM = "T0002"
OTHER_KEY = "sk_test_theirOwnStudioKey"
SECRET = "whsec_reconcileTestSecret42"


@pytest.fixture
def shop(database_url: str, clock: MutableClock, stripe_server: StripeStandIn) -> Iterator[Shop]:
    key = Fernet.generate_key().decode()
    with open_shop(database_url, clock, stripe_server, token_encryption_key=key) as built:
        with built.db.unit_of_work() as uow:
            cipher = TokenCipher(uow.settings.token_keys)
            ensure_workspace(uow, TEAM).stripe_webhook_secret = cipher.encrypt(SECRET)
            ensure_workspace(uow, OTHER_TEAM).stripe_key = cipher.encrypt(OTHER_KEY)
        yield built


def _run(shop: Shop, team_id: str = TEAM, api_base: str | None = None) -> ReconcileReport:
    # The test clock is months before the stand-in's wall clock: every event is in range.
    with shop.db.unit_of_work(readonly=True) as uow:
        since = uow.now() - timedelta(days=30)
    gateways = Gateways(api_base or shop.stripe.url)
    return reconcile(shop.db, gateways.get, team_id, since)


def _subscription(shop: Shop) -> Subscription:
    with shop.db.unit_of_work(readonly=True) as uow:
        row = uow.session.get_one(Subscription, shop.subscriptions["stripe"])
        uow.session.expunge(row)
        return row


def _ledger(shop: Shop, team_id: str = TEAM) -> list[str]:
    with shop.db.unit_of_work(readonly=True) as uow:
        return list(
            uow.session.scalars(
                select(StripeEvent.event_id)
                .where(StripeEvent.team_id == team_id)
                .order_by(StripeEvent.id)
            )
        )


def _stripe_history(shop: Shop) -> list[str]:
    with shop.db.unit_of_work(readonly=True) as uow:
        return list(
            uow.session.scalars(
                select(HistoryEntry.action)
                .where(HistoryEntry.actor == "Stripe")
                .order_by(HistoryEntry.id)
            )
        )


@dataclass(frozen=True)
class Records:
    """A booking paid through Stripe, one awaiting a payment link, and a Stripe subscription."""

    booking_id: int
    intent_id: str
    link_booking: int
    session_id: str
    subscription_id: str


def _records(shop: Shop) -> Records:
    booking_id, intent_id = stripe_booking(shop, 1500)
    link_booking_id, session_id = link_booking(shop, "18")
    stripe_id = _subscription(shop).stripe_subscription_id
    assert stripe_id is not None
    return Records(booking_id, intent_id, link_booking_id, session_id, stripe_id)


def _meanwhile_in_stripe(
    stripe: StripeStandIn, r: Records, *, refund: int, link_paid: bool
) -> None:
    """While nobody listens: a refund in Stripe's dashboard, the link paid (or expired), and
    the subscription cancelled."""
    stripe.request(
        "POST", "/v1/refunds", [("payment_intent", r.intent_id), ("amount", str(refund))]
    )
    if link_paid:
        stripe.pay_checkout(r.session_id)
    else:
        stripe.expire_checkout(r.session_id)
    stripe.request("DELETE", f"/v1/subscriptions/{r.subscription_id}")


def _changed(report: ReconcileReport) -> list[tuple[str, str]]:
    return [(f.step, f.subject.split()[-1]) for f in report.changes]


def test_events_missed_while_down_are_applied_once_and_their_webhooks_then_answer_duplicate(
    shop: Shop, stripe_server: StripeStandIn
) -> None:
    r = _records(shop)
    _meanwhile_in_stripe(stripe_server, r, refund=500, link_paid=True)

    report = _run(shop)
    assert report.ok, report
    assert report.checked[EVENTS] >= 4
    applied = {f.subject.split()[-1]: f.outcome for f in report.findings if f.step == EVENTS}
    assert applied["charge.refunded"] == f"recorded £5.00 more refunded on booking #{r.booking_id}"
    assert applied["checkout.session.completed"].startswith(f"paid: booking #{r.link_booking}")
    assert applied["customer.subscription.deleted"].startswith(
        f"subscription #{shop.subscriptions['stripe']}: state"
    )
    booking = shop.booking(r.booking_id)
    assert (booking.refunded_minor, booking.refund_state) == (500, RefundState.PARTIAL)
    assert shop.booking(r.link_booking).state is BookingState.COMPLETED
    assert _subscription(shop).state is SubscriptionState.SUSPENDED
    # The comparisons then found nothing more to fix.
    assert {f.step for f in report.changes} == {EVENTS}
    history, ledger = _stripe_history(shop), _ledger(shop)

    again = _run(shop)
    assert again.ok and again.changes == []
    assert [f for f in again.findings if f.step == EVENTS] == []
    assert (_stripe_history(shop), _ledger(shop)) == (history, ledger)

    # Stripe's own retry of one of those events, arriving later, is a duplicate.
    (refunded,) = [e for e in stripe_server.events() if e["type"] == "charge.refunded"]
    body = json.dumps(refunded)
    answer = receive(shop.db, Gateways(stripe_server.url), TEAM, body.encode(), sign(body, SECRET))
    assert (answer.status, answer.reason) == (200, "duplicate")
    assert shop.booking(r.booking_id).refunded_minor == 500


def test_drift_older_than_stripes_events_is_found_by_comparing_records(
    shop: Shop, stripe_server: StripeStandIn
) -> None:
    r = _records(shop)
    _meanwhile_in_stripe(stripe_server, r, refund=1500, link_paid=False)
    # Their events are past Stripe's 30 days: only the records compared tell.
    stripe_server.forget_events()

    report = _run(shop)
    assert report.ok, report
    assert report.checked == {EVENTS: 0, LINKS: 1, SUBSCRIPTIONS: 1, REFUNDS: 1}
    assert sorted(_changed(report)) == sorted(
        [(LINKS, r.session_id), (SUBSCRIPTIONS, r.subscription_id), (REFUNDS, r.intent_id)]
    )
    booking = shop.booking(r.booking_id)
    assert (booking.refunded_minor, booking.refund_state) == (1500, RefundState.FULL)
    assert _subscription(shop).state is SubscriptionState.SUSPENDED
    link = shop.latest(PaymentLink)
    assert (link.target_id, link.status) == (r.link_booking, LinkStatus.EXPIRED)
    assert _ledger(shop) == []
    # Comparing again finds each record as Stripe holds it (an ended subscription is no longer
    # compared).
    again = _run(shop)
    assert again.changes == [] and again.checked[SUBSCRIPTIONS] == 0


def test_each_studio_is_compared_with_its_own_account_only(
    shop: Shop, stripe_server: StripeStandIn
) -> None:
    booking_id, intent_id = stripe_booking(shop, 1500)
    stripe_server.request("POST", "/v1/refunds", [("payment_intent", intent_id), ("amount", "500")])
    stripe_server.request("DELETE", "/_test/calls")
    # The stand-in is one account for both keys; real Stripe lists each account's own events.
    theirs = _run(shop, OTHER_TEAM)
    assert theirs.ok and theirs.changes == []
    assert {key for _, _, key, _ in stripe_server.calls()} == {OTHER_KEY}
    assert shop.booking(booking_id).refunded_minor == 0
    assert _ledger(shop) == []
    assert _ledger(shop, OTHER_TEAM) != []

    ours = _run(shop)
    assert (REFUNDS, intent_id) not in _changed(ours)
    assert shop.booking(booking_id).refunded_minor == 500


def test_stripe_unreachable_stops_the_run_and_says_so_changing_nothing(
    shop: Shop, stripe_server: StripeStandIn
) -> None:
    booking_id, intent_id = stripe_booking(shop, 1500)
    stripe_server.request("POST", "/v1/refunds", [("payment_intent", intent_id), ("amount", "500")])
    closed = "http://127.0.0.1:9"
    report = _run(shop, api_base=closed)
    assert not report.ok
    assert report.failure is not None and "couldn't be reached" in report.failure
    assert "sk_test" not in report.failure
    assert shop.booking(booking_id).refunded_minor == 0
    assert _run(shop).ok and shop.booking(booking_id).refunded_minor == 500


def test_a_studio_whose_key_cannot_be_read_is_told_it_has_no_stripe_account(shop: Shop) -> None:
    with shop.db.unit_of_work() as uow:
        # Encrypted under a key this deployment no longer has.
        lost = TokenCipher((Fernet.generate_key().decode(),)).encrypt(OTHER_KEY)
        ensure_workspace(uow, OTHER_TEAM).stripe_key = lost
    report = _run(shop, OTHER_TEAM)
    assert report.failure == "this workspace has no Stripe account; nothing was compared"
    assert report.findings == [] and report.checked == {}


def test_a_subscription_stripe_no_longer_has_is_reported_for_a_person_to_check(
    shop: Shop, stripe_server: StripeStandIn
) -> None:
    with shop.db.unit_of_work() as uow:
        row = uow.session.get_one(Subscription, shop.subscriptions["stripe"])
        row.stripe_subscription_id = "sub_goneFromStripe1"
    report = _run(shop)
    assert not report.ok and report.failure is None
    (finding,) = report.unresolved
    assert (finding.step, finding.subject) == (SUBSCRIPTIONS, "sub_goneFromStripe1")
    assert "Stripe has no such subscription" in finding.outcome
    with pytest.raises(StandInError):
        stripe_server.request("GET", "/v1/subscriptions/sub_goneFromStripe1")
