"""Stripe's webhooks end to end: signed events posted over HTTP to the real app's
/stripe/webhook/<team id>, verified with that studio's signing secret, applied once each, in any
order, onto bookings, passes and subscriptions, each change in the account history as Stripe's."""

# ruff: noqa: F811 - tests take the imported fixtures as parameters

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from core.actor import Actor
from core.crypto import TokenCipher
from core.models import (
    AlertEvent,
    Booking,
    BookingState,
    HistoryEntry,
    Pass,
    RefundState,
    Role,
    StripeEvent,
    Subscription,
    SubscriptionState,
)
from core.services import alerts
from core.services.checkout import StripePayment
from core.services.passes import assign_pass
from core.services.workspaces import disable_workspace, ensure_workspace
from tests.conftest import MutableClock
from tests.slack.commerce_helpers import ZOE, Shop, link_booking, open_shop, stripe_booking
from tests.slack.conftest import ADMIN, TEAM
from tests.slack.details_helpers import go_to_tab, open_details, row_texts
from tests.slack.helpers import text_of
from tests.stripe_events import (
    T0,
    Delivery,
    charge,
    event,
    intent,
    invoice,
    post,
    sign,
    subscription,
)
from tests.stripe_server import StripeStandIn, stripe_process, stripe_server  # noqa: F401

SECRET = "whsec_studioOursTestSecret123"
OTHER_SECRET = "whsec_studioTheirsTestSecret987"
OTHER_TEAM = "T0002"
DAY = 86400


@dataclass
class Hooks:
    """The shop, and where each studio's Stripe endpoint is."""

    shop: Shop
    root: str

    def url(self, team_id: str = TEAM) -> str:
        return f"{self.root}/stripe/webhook/{team_id}"

    def send(
        self,
        kind: str,
        obj: dict[str, Any],
        *,
        team_id: str = TEAM,
        secret: str = SECRET,
        **kw: Any,
    ) -> Delivery:
        """Post a fresh event of `kind`, signed with `secret`, to `team_id`'s endpoint."""
        payload = event(kind, obj, **kw)
        return post(self.url(team_id), payload, sign(payload, secret))

    def subscription(self, key: str = "stripe") -> Subscription:
        with self.shop.db.unit_of_work(readonly=True) as uow:
            row = uow.session.get_one(Subscription, self.shop.subscriptions[key])
            uow.session.expunge(row)
            return row

    def stripe_history(self) -> list[tuple[str, str]]:
        """Zoë's account history entries written by Stripe: (action, detail)."""
        with self.shop.db.unit_of_work(readonly=True) as uow:
            rows = uow.session.execute(
                select(HistoryEntry.action, HistoryEntry.detail)
                .where(HistoryEntry.actor == "Stripe", HistoryEntry.customer_uid == self.shop.uid)
                .order_by(HistoryEntry.id)
            ).all()
        return [(action, detail) for action, detail in rows]

    def failure_alerts(self) -> list[str]:
        """The failed-payment alerts recorded for channels, oldest first."""
        with self.shop.db.unit_of_work(readonly=True) as uow:
            rows = uow.session.scalars(
                select(AlertEvent.text)
                .where(AlertEvent.kind == alerts.PAYMENT_FAILED)
                .order_by(AlertEvent.id)
            )
            return list(rows)

    def ledger(self, team_id: str = TEAM) -> list[tuple[str, str]]:
        """The events recorded for `team_id`: (type, outcome)."""
        with self.shop.db.unit_of_work(readonly=True) as uow:
            rows = uow.session.execute(
                select(StripeEvent.type, StripeEvent.outcome)
                .where(StripeEvent.team_id == team_id)
                .order_by(StripeEvent.id)
            ).all()
        return [(kind, outcome) for kind, outcome in rows]


def _set_secret(hooks_db: Any, team_id: str, secret: str) -> None:
    with hooks_db.unit_of_work() as uow:
        workspace = ensure_workspace(uow, team_id)
        workspace.stripe_webhook_secret = TokenCipher(uow.settings.token_keys).encrypt(secret)


@pytest.fixture
def hooks(database_url: str, clock: MutableClock, stripe_server: StripeStandIn) -> Iterator[Hooks]:
    key = Fernet.generate_key().decode()
    with open_shop(database_url, clock, stripe_server, token_encryption_key=key) as shop:
        _set_secret(shop.db, TEAM, SECRET)
        _set_secret(shop.db, OTHER_TEAM, OTHER_SECRET)
        yield Hooks(shop, shop.world.url.removesuffix("/slack/events"))


def _dashboard_refund(stripe: StripeStandIn, intent_id: str, amount: int) -> dict[str, Any]:
    """A refund made in Stripe's dashboard, not through the app."""
    return stripe.request(
        "POST", "/v1/refunds", [("payment_intent", intent_id), ("amount", str(amount))]
    )


def _day(stamp: int) -> datetime:
    return datetime.fromtimestamp(stamp, UTC)


def test_payments_that_succeed_or_fail_are_noted_on_the_customer_of_their_record(
    hooks: Hooks,
) -> None:
    booking_id, intent_id = stripe_booking(hooks.shop, 1500)
    done = hooks.send("payment_intent.succeeded", intent(intent_id, 1500))
    assert (done.status, done.reason) == (200, "applied")
    assert done.outcome == f"noted on booking #{booking_id}"
    failed = hooks.send(
        "payment_intent.payment_failed", intent(intent_id, 1500, failure="Your card was declined.")
    )
    assert failed.status == 200
    unknown = hooks.send("payment_intent.succeeded", intent("pi_unknown12345", 900))
    assert unknown.outcome == "no record here is paid by pi_unknown12345"
    assert hooks.stripe_history() == [
        ("Stripe payment succeeded", f"£15.00 for booking #{booking_id}, payment {intent_id}"),
        (
            "Stripe payment failed",
            f"an attempt to pay {intent_id} for booking #{booking_id} failed: "
            "Your card was declined.",
        ),
    ]
    # A failed attempt changes nothing the booking shows, and channels that asked hear of it.
    assert hooks.shop.booking(booking_id).refund_state is RefundState.NONE
    assert hooks.failure_alerts() == [
        f"Payment for booking #{booking_id} failed (Your card was declined.): "
        f"{ZOE} ({hooks.shop.uid})"
    ]
    assert [kind for kind, _ in hooks.ledger()] == [
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.succeeded",
    ]


def test_a_refund_made_in_stripes_dashboard_shows_on_the_booking_in_part_then_in_full(
    hooks: Hooks, stripe_server: StripeStandIn
) -> None:
    shop = hooks.shop
    booking_id, intent_id = stripe_booking(shop, 1500)
    first = _dashboard_refund(stripe_server, intent_id, 500)
    payload = event("charge.refunded", charge(intent_id, 1500, [first]))
    signature = sign(payload, SECRET)
    stripe_server.request("DELETE", "/_test/calls")
    answer = post(hooks.url(), payload, signature)
    assert answer.outcome == f"recorded £5.00 more refunded on booking #{booking_id}"
    booking = shop.booking(booking_id)
    assert (booking.refunded_minor, booking.refund_state) == (500, RefundState.PARTIAL)
    # The event listed its refunds: Stripe was not asked.
    assert stripe_server.calls() == []

    # Stripe delivers it again (a retry, or twice at once): it applies once.
    again = post(hooks.url(), payload, signature)
    assert (again.status, again.reason) == (200, "duplicate")
    assert shop.booking(booking_id).refunded_minor == 500

    _dashboard_refund(stripe_server, intent_id, 1000)
    # Newer API versions leave a charge's refunds out: the app asks Stripe for them.
    answer = hooks.send("charge.refunded", charge(intent_id, 1500, None), created=T0 + 5)
    assert answer.outcome == f"recorded £10.00 more refunded on booking #{booking_id}"
    assert ("GET", "/v1/refunds", "sk_test_standin", "") in stripe_server.calls()
    booking = shop.booking(booking_id)
    assert (booking.refunded_minor, booking.refund_state) == (1500, RefundState.FULL)
    assert [action for action, _ in hooks.stripe_history()] == ["refund recorded from Stripe"] * 2
    assert len(hooks.ledger()) == 2

    open_details(shop.world.admin, ZOE)
    view = go_to_tab(shop.world.admin, "Bookings")
    (row,) = [t for t in row_texts(view, "booking_") if f"#{booking_id} " in t]
    assert "refunded £15.00 in full" in row


def test_a_refund_made_in_stripe_shows_on_a_stripe_paid_pass(
    hooks: Hooks, stripe_server: StripeStandIn
) -> None:
    shop = hooks.shop
    intent_id = stripe_server.payment(9000)
    with shop.db.unit_of_work() as uow:
        held = assign_pass(
            uow,
            Actor(TEAM, ADMIN, Role.ADMIN),
            shop.uid,
            shop.pass_type_id,
            payment=StripePayment(intent_id),
            gateway=stripe_server.gateway(),
        )
    refund = _dashboard_refund(stripe_server, intent_id, 2000)
    answer = hooks.send("charge.refunded", charge(intent_id, 9000, [refund]))
    assert answer.outcome == f"recorded £20.00 more refunded on pass #{held.id}"
    with shop.db.unit_of_work(readonly=True) as uow:
        stored = uow.session.get_one(Pass, held.id)
        assert (stored.refunded_minor, stored.refund_state) == (2000, RefundState.PARTIAL)
    open_details(shop.world.admin, ZOE)
    view = go_to_tab(shop.world.admin, "Passes")
    (row,) = [t for t in row_texts(view, "pass_") if f"#{held.id} " in t]
    assert "refunded £20.00 in part" in row


def test_subscription_events_move_it_through_past_due_paused_active_and_ended(
    hooks: Hooks,
) -> None:
    shop = hooks.shop
    stripe_id = hooks.subscription().stripe_subscription_id
    assert stripe_id is not None
    retry, paid_until, later = T0 + 3 * DAY, T0 + 30 * DAY, T0 + 60 * DAY

    failed = hooks.send(
        "invoice.payment_failed", invoice(stripe_id, period_end=paid_until, next_attempt=retry)
    )
    assert failed.outcome.startswith(f"subscription #{shop.subscriptions['stripe']}: state")
    row = hooks.subscription()
    assert (row.state, row.next_payment_at) == (SubscriptionState.PAST_DUE, _day(retry))
    (past_due,) = hooks.failure_alerts()
    linked = shop.subscriptions["stripe"]
    assert past_due == (
        f"Payment failed; Unlimited monthly subscription #{linked} is past due: {ZOE} ({shop.uid})"
    )
    admin = shop.world.admin
    open_details(admin, ZOE)
    view = go_to_tab(admin, "Subscriptions")
    (text,) = [t for t in row_texts(view, "subscription_") if f"#{linked} " in t]
    assert "Payment failed · next retry 17 Mar 2026" in text and "Past due" in text

    hooks.send(
        "invoice.paid", invoice(stripe_id, period_end=paid_until, legacy=True), created=T0 + 10
    )
    row = hooks.subscription()
    assert (row.state, row.next_payment_at) == (SubscriptionState.ACTIVE, _day(paid_until))
    hooks.send(
        "customer.subscription.updated",
        subscription(stripe_id, "active", period_end=paid_until, paused=True),
        created=T0 + 20,
    )
    row = hooks.subscription()
    assert (row.state, row.next_payment_at) == (SubscriptionState.PAUSED, None)
    hooks.send(
        "customer.subscription.updated",
        subscription(stripe_id, "active", period_end=later, legacy=True),
        created=T0 + 30,
    )
    row = hooks.subscription()
    assert (row.state, row.next_payment_at) == (SubscriptionState.ACTIVE, _day(later))
    hooks.send(
        "customer.subscription.deleted",
        subscription(stripe_id, "canceled", period_end=later),
        created=T0 + 40,
    )
    row = hooks.subscription()
    assert (row.state, row.next_payment_at) == (SubscriptionState.SUSPENDED, None)
    # Stripe never reopens a cancelled subscription; nor does a later event here.
    reopened = hooks.send(
        "customer.subscription.updated",
        subscription(stripe_id, "active", period_end=later),
        created=T0 + 50,
    )
    assert reopened.outcome == f"subscription #{linked} is suspended; left as it is"
    assert hooks.subscription().state is SubscriptionState.SUSPENDED
    assert [action for action, _ in hooks.stripe_history()] == [
        "subscription payment failed",
        "subscription payment received",
        "subscription updated in Stripe",
        "subscription updated in Stripe",
        "subscription ended in Stripe",
    ]
    view = go_to_tab(admin, "Account", "Subscription ended in Stripe · 14 Mar 2026, 09:30 GMT")
    assert "by Stripe" in text_of(view) and "Status: active → past due" in text_of(view)


def test_events_arriving_out_of_order_never_roll_anything_back(
    hooks: Hooks, stripe_server: StripeStandIn
) -> None:
    stripe_id = hooks.subscription().stripe_subscription_id
    assert stripe_id is not None
    newer = subscription(stripe_id, "active", period_end=T0 + 30 * DAY)
    assert hooks.send("customer.subscription.updated", newer, created=T0 + 20).status == 200
    older = subscription(stripe_id, "past_due", period_end=T0)
    late = hooks.send("customer.subscription.updated", older, created=T0 + 10)
    assert "older than what" in late.outcome
    failed = invoice(stripe_id, period_end=T0, next_attempt=T0 + DAY)
    assert "older than what" in hooks.send("invoice.payment_failed", failed, created=T0).outcome
    row = hooks.subscription()
    assert (row.state, row.next_payment_at) == (SubscriptionState.ACTIVE, _day(T0 + 30 * DAY))

    # Two refunds, their events delivered newest first: the older one adds nothing.
    booking_id, intent_id = stripe_booking(hooks.shop, 1500)
    first = _dashboard_refund(stripe_server, intent_id, 500)
    second = _dashboard_refund(stripe_server, intent_id, 300)
    hooks.send("charge.refunded", charge(intent_id, 1500, [second, first]), created=T0 + 2)
    stale = hooks.send("charge.refunded", charge(intent_id, 1500, [first]), created=T0 + 1)
    assert stale.outcome == f"booking #{booking_id} already shows these refunds"
    assert hooks.shop.booking(booking_id).refunded_minor == 800


def test_a_delivery_posted_many_times_at_once_applies_once(
    hooks: Hooks, stripe_server: StripeStandIn
) -> None:
    booking_id, intent_id = stripe_booking(hooks.shop, 1500)
    refund = _dashboard_refund(stripe_server, intent_id, 700)
    payload = event("charge.refunded", charge(intent_id, 1500, [refund]))
    signature = sign(payload, SECRET)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: post(hooks.url(), payload, signature), range(4)))
    assert sorted(a.reason for a in answers) == ["applied"] + ["duplicate"] * 3
    assert all(a.status == 200 for a in answers)
    assert hooks.shop.booking(booking_id).refunded_minor == 700
    assert len(hooks.stripe_history()) == 1


def test_what_stripe_did_not_sign_for_this_studio_is_refused_and_changes_nothing(
    hooks: Hooks, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stripe_id = hooks.subscription().stripe_subscription_id
    assert stripe_id is not None
    payload = event(
        "customer.subscription.deleted", subscription(stripe_id, "canceled", period_end=T0)
    )
    url = hooks.url()
    assert post(url, payload, None).reason == "unsigned"
    assert post(url, payload, sign(payload, "whsec_notTheStudiosSecret1")).reason == "bad_signature"
    tampered = payload.replace("canceled", "cancelled")
    assert post(url, tampered, sign(payload, SECRET)).reason == "bad_signature"
    # Signed with the right secret, but longer ago than Stripe's 300 s tolerance: a replay.
    assert post(url, payload, sign(payload, SECRET, at=time.time() - 301)).reason == "stale"
    assert post(url, b"\xff\xfe", sign("x", SECRET)).reason == "malformed"
    not_json = "[1, 2]"
    assert post(url, not_json, sign(not_json, SECRET)).reason == "malformed"
    no_object = json.dumps({"id": "evt_1", "type": "invoice.paid", "created": T0, "data": {}})
    assert post(url, no_object, sign(no_object, SECRET)).reason == "malformed"
    for team in ("T0NOWHERE", "not%20a%20team", "t0001", ""):
        answer = post(hooks.url(team), payload, sign(payload, SECRET))
        assert (answer.status, answer.reason) == (400, "endpoint_not_configured")
    with hooks.shop.db.unit_of_work() as uow:
        disable_workspace(uow, TEAM)
    answer = post(url, payload, sign(payload, SECRET))
    assert (answer.status, answer.reason) == (400, "endpoint_not_configured")

    assert hooks.subscription().state is SubscriptionState.ACTIVE
    assert hooks.ledger() == [] and hooks.stripe_history() == []
    assert SECRET not in caplog.text and "canceled" not in caplog.text


def test_a_studio_without_a_signing_secret_takes_no_events(hooks: Hooks) -> None:
    with hooks.shop.db.unit_of_work() as uow:
        ensure_workspace(uow, TEAM).stripe_webhook_secret = None
    answer = hooks.send("invoice.paid", invoice("sub_x", period_end=T0))
    assert (answer.status, answer.reason) == (400, "endpoint_not_configured")


def test_each_studio_verifies_with_its_own_secret_and_reaches_only_its_own_records(
    hooks: Hooks,
) -> None:
    stripe_id = hooks.subscription().stripe_subscription_id
    assert stripe_id is not None
    booking_id, intent_id = stripe_booking(hooks.shop, 1500)
    ended = subscription(stripe_id, "canceled", period_end=T0)
    # Signed with ours, posted to theirs: refused.
    crossed = hooks.send("customer.subscription.deleted", ended, team_id=OTHER_TEAM)
    assert (crossed.status, crossed.reason) == (400, "bad_signature")
    # Signed with theirs, to theirs, naming our subscription and payment: nothing of ours.
    event_id = "evt_sameIdBothStudios"
    theirs = hooks.send(
        "customer.subscription.deleted",
        ended,
        team_id=OTHER_TEAM,
        secret=OTHER_SECRET,
        event_id=event_id,
    )
    assert (theirs.status, theirs.outcome) == (200, f"no subscription here is {stripe_id}")
    refunded = charge(intent_id, 1500, [{"id": "re_x1", "amount": 1500, "status": "succeeded"}])
    theirs = hooks.send("charge.refunded", refunded, team_id=OTHER_TEAM, secret=OTHER_SECRET)
    assert theirs.outcome == f"no record here is paid by {intent_id}"
    assert hooks.subscription().state is SubscriptionState.ACTIVE
    assert hooks.shop.booking(booking_id).refunded_minor == 0
    assert hooks.ledger() == []
    # Each studio's ledger is its own: the same event id still applies to ours.
    ours = hooks.send("customer.subscription.deleted", ended, event_id=event_id)
    assert ours.reason == "applied"
    assert hooks.subscription().state is SubscriptionState.SUSPENDED
    assert len(hooks.ledger(OTHER_TEAM)) == 2


def test_a_payment_link_paid_in_stripe_marks_its_booking_paid_once(hooks: Hooks) -> None:
    shop = hooks.shop
    _, session_id = link_booking(shop)
    paid = shop.stripe.pay_checkout(session_id)
    answer = hooks.send("checkout.session.completed", paid)
    assert (answer.status, answer.reason) == (200, "applied")
    assert answer.outcome.startswith("paid: booking #")
    booking = shop.latest(Booking)
    assert (booking.state, booking.stripe_payment_intent_id) == (
        BookingState.COMPLETED,
        paid["payment_intent"],
    )
    # Another event saying the same (Stripe sends at least once) changes nothing.
    again = hooks.send("checkout.session.completed", paid)
    assert again.outcome.startswith("already recorded")
    assert shop.latest(Booking).version == booking.version
    # A session made for another workspace is answered, so Stripe stops, and changes nothing.
    theirs = {**paid, "metadata": {**paid["metadata"], "team_id": "T0002"}}
    refused = hooks.send("checkout.session.completed", theirs)
    assert refused.status == 200 and refused.outcome.startswith("refused:")


def test_other_events_are_recorded_as_not_handled(hooks: Hooks, clock: MutableClock) -> None:
    answer = hooks.send("customer.created", {"id": "cus_123", "object": "customer"})
    assert (answer.status, answer.reason) == (200, "ignored")
    with hooks.shop.db.unit_of_work(readonly=True) as uow:
        stored = uow.session.scalars(select(StripeEvent).order_by(StripeEvent.id)).all()
        assert [(e.type, e.outcome) for e in stored] == [("customer.created", "not handled")]
        # Stripe's time of the event, and the app's of its delivery.
        assert (stored[0].created, stored[0].received_at) == (_day(T0), clock.current)
