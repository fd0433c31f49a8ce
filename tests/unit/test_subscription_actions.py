"""Pause, Resume and Suspend of subscriptions on SQLite and PostgreSQL.

Linked to Stripe, the change is made in Stripe first and recorded only when Stripe accepted it.
Cancelling runs against the Stripe stand-in through the real `stripe` client. The stand-in
(localstripe 1.15) does not implement `pause_collection`, so successful pauses and resumes of
Stripe-linked subscriptions use `RecordingGateway`, a fake labelled as such below.
"""

# ruff: noqa: F811 - tests take the imported stand-in fixtures as parameters

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.actor import Actor
from core.adapters.payments import PaymentError, PaymentGateway, PaymentIntentInfo, RefundInfo
from core.db import Database
from core.errors import DomainError, Forbidden, NotFound
from core.models import HistoryEntry, Subscription, SubscriptionState
from core.services.subscriptions import (
    SubscriptionRow,
    list_subscriptions,
    pause_subscription,
    resume_subscription,
    suspend_subscription,
)
from tests.stripe_server import (
    StripeStandIn,
    stripe_process,  # noqa: F401 - a fixture
    stripe_server,  # noqa: F401 - a fixture
)
from tests.unit import history_rows

ACTIVE, PAUSED, SUSPENDED = (
    SubscriptionState.ACTIVE,
    SubscriptionState.PAUSED,
    SubscriptionState.SUSPENDED,
)


@dataclass
class RecordingGateway:
    """FAKE gateway (not Stripe, not the stand-in): records subscription calls, may refuse them.

    Used where localstripe lacks the endpoint (pause_collection) or to count calls."""

    refuse: bool = False
    calls: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _call(self, name: str, subscription_id: str) -> None:
        with self._lock:
            if self.refuse:
                raise PaymentError(f"Stripe refused the request to {name} the subscription: no.")
            self.calls.append((name, subscription_id))

    def pause_subscription(self, subscription_id: str) -> None:
        self._call("pause", subscription_id)

    def resume_subscription(self, subscription_id: str) -> None:
        self._call("resume", subscription_id)

    def cancel_subscription(self, subscription_id: str) -> None:
        self._call("cancel", subscription_id)

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentInfo:
        raise AssertionError("subscriptions never look up payments")

    def refund(
        self, payment_intent_id: str, amount_minor: int, *, idempotency_key: str
    ) -> RefundInfo:
        raise AssertionError("subscriptions never refund")

    def list_refunds(self, payment_intent_id: str) -> list[RefundInfo]:
        raise AssertionError("subscriptions never refund")


@dataclass(frozen=True)
class Held:
    """A subscription and its customer's UID."""

    id: int
    uid: str


def subscription(db: Database, actor: Actor, **values: Any) -> Held:
    with db.unit_of_work() as uow:
        now = uow.now()
        shop = history_rows.shop(uow, actor.team_id, now + timedelta(days=3))
        owner = history_rows.customer(uow, actor)
        row = history_rows.subscription(uow, shop, owner, now, **values)
        return Held(row.id, owner.uid)


def act(
    db: Database,
    action: Any,
    actor: Actor,
    held: Held,
    gateway: PaymentGateway | None,
    **kwargs: Any,
) -> SubscriptionRow:
    row: SubscriptionRow = action(db, actor, held.id, gateway=gateway, **kwargs)
    return row


def stored(db: Database, held: Held) -> tuple[SubscriptionState, int]:
    """The subscription's state and version as stored."""
    with db.unit_of_work(readonly=True) as uow:
        row = uow.session.get_one(Subscription, held.id)
        return row.state, row.version


def history(db: Database) -> list[tuple[str, dict[str, Any], str]]:
    with db.unit_of_work(readonly=True) as uow:
        rows = uow.session.scalars(select(HistoryEntry).order_by(HistoryEntry.id)).all()
        return [(row.action, row.changes, row.detail) for row in rows]


# -- not linked to Stripe ------------------------------------------------------------------


def test_pause_resume_and_suspend_without_stripe(db: Database, admin: Actor) -> None:
    held = subscription(db, admin, stripe_subscription_id=None)

    paused = act(db, pause_subscription, admin, held, None)
    assert (paused.state, paused.plan_name, paused.interval) == (
        PAUSED,
        "Unlimited Monthly",
        "month",
    )
    assert act(db, resume_subscription, admin, held, None).state is ACTIVE
    suspended = act(db, suspend_subscription, admin, held, None)

    assert (suspended.state, suspended.next_payment_at) == (SUSPENDED, None)
    assert stored(db, held) == (SUSPENDED, 4)
    detail = f"Unlimited Monthly subscription #{held.id}, not linked to Stripe"
    assert history(db) == [
        ("subscription paused", {"state": ["active", "paused"]}, detail),
        ("subscription resumed", {"state": ["paused", "active"]}, detail),
        (
            "subscription suspended",
            {"state": ["active", "suspended"], "next_payment": ["13 Apr 2026", None]},
            detail,
        ),
    ]
    with db.unit_of_work(readonly=True) as uow:
        [listed] = list_subscriptions(uow, admin, held.uid).rows
    assert listed == suspended


def test_a_paused_subscription_can_be_suspended(db: Database, admin: Actor) -> None:
    held = subscription(db, admin, stripe_subscription_id=None, state=PAUSED)

    assert act(db, suspend_subscription, admin, held, None).state is SUSPENDED


@pytest.mark.parametrize(
    ("state", "action", "message"),
    [
        (PAUSED, pause_subscription, "is already paused"),
        (ACTIVE, resume_subscription, "is already active"),
        (SUSPENDED, suspend_subscription, "is already suspended"),
        (SUSPENDED, pause_subscription, "was suspended, which ends it for good"),
        (SUSPENDED, resume_subscription, "was suspended, which ends it for good"),
    ],
)
def test_invalid_transitions_are_refused_plainly(
    db: Database, admin: Actor, state: SubscriptionState, action: Any, message: str
) -> None:
    held = subscription(db, admin, state=state)
    gateway = RecordingGateway()

    with pytest.raises(DomainError, match=message):
        act(db, action, admin, held, gateway)

    assert gateway.calls == []
    assert (stored(db, held), history(db)) == ((state, 1), [])


def test_another_workspace_cannot_touch_it(db: Database, staff: Actor, other_tenant: Actor) -> None:
    held = subscription(db, staff)

    with pytest.raises(NotFound, match=f"Subscription #{held.id} no longer exists here"):
        act(db, pause_subscription, other_tenant, held, RecordingGateway())


def test_the_subscription_must_belong_to_the_named_customer(db: Database, staff: Actor) -> None:
    held = subscription(db, staff, stripe_subscription_id=None)

    with pytest.raises(NotFound):
        act(db, pause_subscription, staff, held, None, uid="NOTTHEOWNER1")
    assert act(db, pause_subscription, staff, held, None, uid=held.uid).state is PAUSED


# -- linked to Stripe: the stand-in --------------------------------------------------------


def test_suspend_cancels_in_stripe_first(
    db: Database, admin: Actor, stripe_server: StripeStandIn
) -> None:
    stripe_id = stripe_server.subscription()
    held = subscription(db, admin, stripe_subscription_id=stripe_id)

    row = act(db, suspend_subscription, admin, held, stripe_server.gateway())

    assert row.state is SUSPENDED
    assert stripe_server.subscription_status(stripe_id) == "canceled"
    [(action, _, detail)] = history(db)
    assert (action, detail) == (
        "subscription suspended",
        f"Unlimited Monthly subscription #{held.id}, suspended in Stripe ({stripe_id})",
    )


def test_a_subscription_stripe_does_not_know_is_not_suspended(
    db: Database, admin: Actor, stripe_server: StripeStandIn
) -> None:
    held = subscription(db, admin, stripe_subscription_id="sub_unknown")

    with pytest.raises(PaymentError, match="Stripe has no record of this subscription"):
        act(db, suspend_subscription, admin, held, stripe_server.gateway())

    assert (stored(db, held), history(db)) == ((ACTIVE, 1), [])


def test_a_pause_stripe_fails_is_not_recorded(
    db: Database, staff: Actor, stripe_server: StripeStandIn
) -> None:
    """Real failure path: the stand-in cannot pause (no pause_collection) and answers 500."""
    stripe_id = stripe_server.subscription()
    held = subscription(db, staff, stripe_subscription_id=stripe_id)

    with pytest.raises(PaymentError, match="Stripe had a problem with the request to pause"):
        act(db, pause_subscription, staff, held, stripe_server.gateway())

    assert (stored(db, held), history(db)) == ((ACTIVE, 1), [])
    assert stripe_server.subscription_status(stripe_id) == "active"


# -- linked to Stripe: the labelled fake ---------------------------------------------------


def test_pause_and_resume_go_to_stripe_first(db: Database, staff: Actor) -> None:
    held = subscription(db, staff, stripe_subscription_id="sub_123")
    gateway = RecordingGateway()

    act(db, pause_subscription, staff, held, gateway)
    act(db, resume_subscription, staff, held, gateway)

    assert gateway.calls == [("pause", "sub_123"), ("resume", "sub_123")]
    assert [detail for _, _, detail in history(db)] == [
        f"Unlimited Monthly subscription #{held.id}, paused in Stripe (sub_123)",
        f"Unlimited Monthly subscription #{held.id}, resumed in Stripe (sub_123)",
    ]


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (ACTIVE, pause_subscription),
        (PAUSED, resume_subscription),
        (ACTIVE, suspend_subscription),
    ],
)
def test_nothing_is_recorded_when_stripe_refuses(
    db: Database, admin: Actor, state: SubscriptionState, action: Any
) -> None:
    held = subscription(db, admin, stripe_subscription_id="sub_123", state=state)

    with pytest.raises(PaymentError, match="Stripe refused the request"):
        act(db, action, admin, held, RecordingGateway(refuse=True))

    assert (stored(db, held), history(db)) == ((state, 1), [])


def test_without_stripe_configured_a_linked_subscription_is_left_alone(
    db: Database, staff: Actor
) -> None:
    held = subscription(db, staff, stripe_subscription_id="sub_123")

    with pytest.raises(PaymentError, match="Stripe is not configured, so nothing was changed"):
        act(db, pause_subscription, staff, held, None)

    assert (stored(db, held), history(db)) == ((ACTIVE, 1), [])


def test_concurrent_pauses_reach_stripe_once(db: Database, staff: Actor) -> None:
    held = subscription(db, staff, stripe_subscription_id="sub_123")
    gateway = RecordingGateway()
    clicks = 10
    barrier = threading.Barrier(clicks)
    outcomes: list[object] = []

    def click() -> None:
        barrier.wait()
        try:
            outcomes.append(act(db, pause_subscription, staff, held, gateway).state)
        except DomainError as exc:
            outcomes.append(exc.message)

    threads = [threading.Thread(target=click) for _ in range(clicks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcomes.count(PAUSED) == 1, outcomes
    busy = f"Subscription #{held.id} is being changed (pause) right now"
    assert all(
        o == f"Subscription #{held.id} is already paused." or str(o).startswith(busy)
        for o in outcomes
        if o is not PAUSED
    ), outcomes
    assert gateway.calls == [("pause", "sub_123")]
    assert [action for action, _, _ in history(db)] == ["subscription paused"]


def test_no_database_lock_is_held_while_stripe_changes_it(db: Database, admin: Actor) -> None:
    """Another write completes while Stripe pauses; a second change meanwhile is refused."""
    held = subscription(db, admin, stripe_subscription_id="sub_123")
    calling, release = threading.Event(), threading.Event()

    class HeldGateway(RecordingGateway):
        def pause_subscription(self, subscription_id: str) -> None:
            calling.set()
            assert release.wait(30), "never released"
            super().pause_subscription(subscription_id)

    gateway = HeldGateway()
    worker = threading.Thread(target=act, args=(db, pause_subscription, admin, held, gateway))
    worker.start()
    try:
        assert calling.wait(30)
        started = time.monotonic()
        with db.unit_of_work() as uow:
            history_rows.customer(uow, admin, "Grace", "Hopper")
        assert time.monotonic() - started < 2
        with pytest.raises(DomainError, match="is being changed \\(pause\\) right now"):
            act(db, suspend_subscription, admin, held, gateway)
    finally:
        release.set()
        worker.join(timeout=30)
    assert gateway.calls == [("pause", "sub_123")]
    assert [action for action, _, _ in history(db)] == ["subscription paused"]


def test_only_an_admin_suspends_and_staff_change_nothing(
    db: Database, staff: Actor, admin: Actor
) -> None:
    held = subscription(db, admin, stripe_subscription_id="sub_123")
    gateway = RecordingGateway()
    with pytest.raises(Forbidden, match="Only an admin can suspend a subscription"):
        act(db, suspend_subscription, staff, held, gateway)
    assert gateway.calls == []
    assert act(db, pause_subscription, staff, held, gateway).state is PAUSED
