"""Stripe's subscription and invoice events on the subscription they concern (found by its
Stripe id): active, past due, paused or ended, and the next payment date. An event older than
what the subscription already shows is not applied, so events may arrive in any order."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.db import UnitOfWork
from core.errors import NotFound
from core.formatting import NOTHING, format_date
from core.models import Customer, Subscription, SubscriptionPlan, SubscriptionState
from core.services import alerts, history
from core.services.subscriptions import PENDING_CLAIM
from core.services.webhook_events import (
    STRIPE_ACTOR,
    Malformed,
    WebhookEvent,
    held,
    items,
    mapping,
    moment,
    optional_moment,
    optional_text,
    text,
)
from core.services.workspaces import ensure_workspace

SUBSCRIPTION_UPDATED = "subscription updated in Stripe"
SUBSCRIPTION_ENDED = "subscription ended in Stripe"
INVOICE_PAID = "subscription payment received"
INVOICE_FAILED = "subscription payment failed"
# Stripe's statuses as this app's states; `incomplete` (a first payment still being taken)
# is none of them and changes nothing.
_STATES = {
    "active": SubscriptionState.ACTIVE,
    "trialing": SubscriptionState.ACTIVE,
    "past_due": SubscriptionState.PAST_DUE,
    "unpaid": SubscriptionState.PAST_DUE,
    "paused": SubscriptionState.PAUSED,
    "canceled": SubscriptionState.SUSPENDED,
    "incomplete_expired": SubscriptionState.SUSPENDED,
}
_PAYING = frozenset({SubscriptionState.ACTIVE, SubscriptionState.PAST_DUE})


@dataclass(frozen=True)
class _Change:
    """What an event says of a subscription: its state (None: as it is) and, when
    `sets_next_payment`, its next payment (or retry) date."""

    action: str
    state: SubscriptionState | None
    next_payment: datetime | None = None
    sets_next_payment: bool = False
    # The states it applies to; a subscription in any other is left as it is.
    applies_to: frozenset[SubscriptionState] = field(
        default_factory=lambda: frozenset(SubscriptionState) - {SubscriptionState.SUSPENDED}
    )


def _locked(uow: UnitOfWork, team_id: str, stripe_id: str) -> tuple[Subscription, Customer] | None:
    query = (
        select(Subscription)
        .where(Subscription.team_id == team_id, Subscription.stripe_subscription_id == stripe_id)
        .order_by(Subscription.id)
        .limit(1)
        .execution_options(populate_existing=True)
    )

    def load() -> Subscription:
        found = uow.session.scalars(query).first()
        if found is None:
            raise NotFound(stripe_id)
        return found

    return held(uow, load)


def _day(uow: UnitOfWork, team_id: str, when: datetime | None) -> str:
    if when is None:
        return NOTHING
    zone = ZoneInfo(ensure_workspace(uow, team_id).timezone)
    return format_date(when.astimezone(zone).date())


def _left_as_it_is(uow: UnitOfWork, subscription: Subscription, change: _Change) -> str | None:
    """Why the change does not apply to `subscription` now, if it does not."""
    name = f"subscription #{subscription.id}"
    since = subscription.pending_since
    if subscription.pending_change and since is not None and uow.now() - since < PENDING_CLAIM:
        return f"left to the change ({subscription.pending_change}) of {name} under way here"
    if subscription.state not in change.applies_to:
        return f"{name} is {subscription.state.value}; left as it is"
    return None


def _apply(uow: UnitOfWork, event: WebhookEvent, stripe_id: str, change: _Change) -> str:
    found = _locked(uow, event.team_id, stripe_id)
    if found is None:
        return f"no subscription here is {stripe_id}"
    subscription, customer = found
    name = f"subscription #{subscription.id}"
    known = subscription.stripe_state_at
    if known is not None and event.created < known:
        return f"older than what {name} already shows; not applied"
    refused = _left_as_it_is(uow, subscription, change)
    if refused is not None:
        return refused
    changes: dict[str, list[str | None]] = {}
    if change.state is not None and change.state is not subscription.state:
        changes["state"] = [subscription.state.value, change.state.value]
        subscription.state = change.state
    if change.sets_next_payment and change.next_payment != subscription.next_payment_at:
        before = _day(uow, event.team_id, subscription.next_payment_at)
        changes["next_payment"] = [before, _day(uow, event.team_id, change.next_payment)]
        subscription.next_payment_at = change.next_payment
    subscription.stripe_state_at = event.created
    if not changes:
        return f"{name} already shows this"
    subscription.version += 1
    plan = uow.session.scalar(
        select(SubscriptionPlan.name).where(SubscriptionPlan.id == subscription.plan_id)
    )
    history.record(
        uow,
        STRIPE_ACTOR,
        customer,
        change.action,
        changes=changes,
        detail=f"{plan} {name}, {event.type} ({stripe_id})",
    )
    _alert(uow, customer, changes, f"{plan} {name}")
    return f"{name}: " + "; ".join(f"{key} {a} → {b}" for key, (a, b) in changes.items())


def _alert(
    uow: UnitOfWork, customer: Customer, changes: dict[str, list[str | None]], name: str
) -> None:
    """Past due, paused or ended by Stripe: an alert for channels that asked."""
    state = changes.get("state", [None, None])[1]
    if state == SubscriptionState.PAST_DUE.value:
        alerts.record(uow, alerts.PAYMENT_FAILED, customer, f"Payment failed; {name} is past due")
    elif state in {SubscriptionState.PAUSED.value, SubscriptionState.SUSPENDED.value}:
        alerts.record(uow, alerts.SUBSCRIPTION_ENDED, customer, f"{name} {state} by Stripe")


def _period_end(subscription: dict[str, Any]) -> datetime | None:
    """When the current period ends: on the subscription, or (newer API versions) its items."""
    if subscription.get("current_period_end") is not None:
        return optional_moment(subscription, "current_period_end")
    ends = [moment(i.get("current_period_end"), "items") for i in items(subscription, "items")]
    return max(ends, default=None)


def subscription_updated(uow: UnitOfWork, event: WebhookEvent) -> str:
    """customer.subscription.updated: its state, and the next payment date while active."""
    stripe_subscription = event.object
    status = text(stripe_subscription, "status")
    state = _STATES.get(status)
    if state is SubscriptionState.ACTIVE and mapping(stripe_subscription, "pause_collection"):
        state = SubscriptionState.PAUSED
    if state is None:
        return f"Stripe's status {status!r} changes nothing here"
    paying = state is SubscriptionState.ACTIVE
    change = _Change(
        SUBSCRIPTION_UPDATED,
        state,
        _period_end(stripe_subscription) if paying else None,
        # While past due, the next date is the retry's, which the failed invoice gives.
        sets_next_payment=state is not SubscriptionState.PAST_DUE,
    )
    return _apply(uow, event, text(stripe_subscription, "id"), change)


def subscription_deleted(uow: UnitOfWork, event: WebhookEvent) -> str:
    """customer.subscription.deleted: it has ended for good (Stripe never reopens one)."""
    change = _Change(SUBSCRIPTION_ENDED, SubscriptionState.SUSPENDED, None, sets_next_payment=True)
    return _apply(uow, event, text(event.object, "id"), change)


def _invoice_subscription(invoice: dict[str, Any]) -> str | None:
    """The subscription an invoice bills, in older API versions' shape or newer ones'."""
    billed = invoice.get("subscription")
    if isinstance(billed, dict):
        return text(billed, "id")
    if billed is not None:
        return optional_text(invoice, "subscription")
    details = mapping(mapping(invoice, "parent") or {}, "subscription_details") or {}
    return optional_text(details, "subscription")


def _paid_until(invoice: dict[str, Any]) -> datetime | None:
    periods = [mapping(line, "period") or {} for line in items(invoice, "lines")]
    ends = [moment(p.get("end"), "lines.period") for p in periods if p.get("end") is not None]
    return max(ends, default=None)


def invoice_paid(uow: UnitOfWork, event: WebhookEvent) -> str:
    """invoice.paid: the subscription is active again, paid until the invoice's period end."""
    stripe_id = _invoice_subscription(event.object)
    if stripe_id is None:
        return "not a subscription's invoice"
    change = _Change(
        INVOICE_PAID,
        SubscriptionState.ACTIVE,
        _paid_until(event.object),
        sets_next_payment=True,
        applies_to=_PAYING,
    )
    return _apply(uow, event, stripe_id, change)


def invoice_payment_failed(uow: UnitOfWork, event: WebhookEvent) -> str:
    """invoice.payment_failed: the subscription is past due until Stripe's next retry (none:
    Stripe will not retry)."""
    stripe_id = _invoice_subscription(event.object)
    if stripe_id is None:
        return "not a subscription's invoice"
    if "next_payment_attempt" not in event.object:
        raise Malformed("next_payment_attempt")
    change = _Change(
        INVOICE_FAILED,
        SubscriptionState.PAST_DUE,
        optional_moment(event.object, "next_payment_attempt"),
        sets_next_payment=True,
        applies_to=_PAYING,
    )
    return _apply(uow, event, stripe_id, change)
