"""Bringing a studio's records in line with its Stripe account after webhooks were missed (the
server down, the endpoint not set up yet): Stripe's recent events applied through the webhooks'
ledger, then each open payment link, live subscription and recent payment compared with what
Stripe holds now, each difference fixed by the handler a webhook would have used."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.adapters.payments import PaymentError, PaymentGateway, StripeAccess
from core.db import Transactions, UnitOfWork
from core.errors import DomainError
from core.models import (
    HistoryEntry,
    LinkStatus,
    PaymentIntentUse,
    PaymentLink,
    Subscription,
    SubscriptionState,
)
from core.services import stripe_webhooks as webhooks
from core.services import webhook_checkout as checkout
from core.services import webhook_payments as payments
from core.services import webhook_subscriptions as subscriptions
from core.services.checkout import PAID_MODELS
from core.services.stripe_account import stripe_access
from core.services.webhook_events import Malformed, WebhookEvent

# How far back Stripe lists events: the default start, and as far as replaying can reach.
EVENT_RETENTION = timedelta(days=30)
EVENTS, LINKS, SUBSCRIPTIONS, REFUNDS = "event", "payment link", "subscription", "refunds"
# Kinds of record whose refunds the records keep (a video purchase keeps none).
_REFUNDABLE = frozenset(PAID_MODELS) - {"video"}


@dataclass(frozen=True)
class Finding:
    """What reconciling one Stripe object did: `changed` when it wrote to an account history,
    `unresolved` when it could not be checked and a later run should try again."""

    step: str
    subject: str
    outcome: str
    changed: bool = False
    unresolved: bool = False


@dataclass
class ReconcileReport:
    """One workspace's run: what was compared, what changed, and what stopped it, if anything."""

    team_id: str
    since: datetime
    findings: list[Finding] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    # Why the run stopped early (Stripe unreachable, no account): None when it ran to the end.
    failure: str | None = None

    @property
    def changes(self) -> list[Finding]:
        return [f for f in self.findings if f.changed]

    @property
    def unresolved(self) -> list[Finding]:
        return [f for f in self.findings if f.unresolved]

    @property
    def ok(self) -> bool:
        """Whether everything was compared and every difference fixed."""
        return self.failure is None and not self.unresolved


@dataclass(frozen=True)
class _Compared:
    """What this workspace expects of Stripe, read in one short transaction."""

    now: datetime
    links: list[str]
    subscriptions: list[str]
    payments: list[str]


@contextmanager
def _history_written(session: Session) -> Iterator[list[HistoryEntry]]:
    """The account history entries added to `session` inside the block."""
    written: list[HistoryEntry] = []

    def added(_session: Session, instance: object) -> None:
        if isinstance(instance, HistoryEntry):
            written.append(instance)

    orm_event.listen(session, "transient_to_pending", added)
    try:
        yield written
    finally:
        orm_event.remove(session, "transient_to_pending", added)


Apply = Callable[[UnitOfWork, WebhookEvent], str]


def _apply(db: Transactions, step: str, subject: str, apply: Apply, event: WebhookEvent) -> Finding:
    """`event` applied by `apply` in its own transaction (a record moved meanwhile: unresolved)."""
    try:
        with db.unit_of_work() as uow, _history_written(uow.session) as written:
            outcome = apply(uow, event)
    except Malformed as exc:
        return Finding(step, subject, f"Stripe's answer lacks {exc}; not applied", unresolved=True)
    except DomainError as exc:
        return Finding(step, subject, f"{exc.message}; run again", unresolved=True)
    return Finding(step, subject, outcome, changed=bool(written))


def _expected(uow: UnitOfWork, team_id: str, since: datetime) -> _Compared:
    open_links = select(PaymentLink.session_id).where(
        PaymentLink.team_id == team_id,
        PaymentLink.status == LinkStatus.OPEN,
        PaymentLink.session_id.is_not(None),
    )
    live = select(Subscription.stripe_subscription_id).where(
        Subscription.team_id == team_id,
        Subscription.stripe_subscription_id.is_not(None),
        Subscription.state != SubscriptionState.SUSPENDED,
    )
    paid = select(PaymentIntentUse.payment_intent_id).where(
        PaymentIntentUse.team_id == team_id,
        PaymentIntentUse.kind.in_(_REFUNDABLE),
        PaymentIntentUse.recorded_at >= since,
    )
    return _Compared(
        uow.now(),
        [s for s in uow.session.scalars(open_links.order_by(PaymentLink.id)) if s],
        sorted({s for s in uow.session.scalars(live) if s}),
        list(uow.session.scalars(paid.order_by(PaymentIntentUse.recorded_at))),
    )


def _replay(db: Transactions, gateway: PaymentGateway, report: ReconcileReport) -> None:
    """Stripe's events since `report.since` that the ledger lacks, applied as their webhooks."""
    listed = gateway.list_events(report.since, frozenset(webhooks.HANDLERS))
    report.checked[EVENTS] = len(listed)
    for data in listed:
        subject = str(data.get("id", "?"))
        try:
            event = webhooks.event_of(report.team_id, data)
        except Malformed as exc:
            report.findings.append(
                Finding(EVENTS, subject, f"lacks {exc}; not applied", unresolved=True)
            )
            continue
        with db.unit_of_work(readonly=True) as uow:
            if webhooks.seen(uow, event):
                continue
        handler = webhooks.HANDLERS[event.type]
        if handler.gather is not None:
            event = handler.gather(event, gateway)
        report.findings.append(
            _apply(db, EVENTS, f"{event.id} {event.type}", _ledgered(handler), event)
        )


def _ledgered(handler: webhooks.Handler) -> Apply:
    """`handler` applied once, its event recorded in the ledger as a webhook's would be."""

    def apply(uow: UnitOfWork, event: WebhookEvent) -> str:
        row = webhooks.claim(uow, event)
        if row is None:
            return "recorded meanwhile by its webhook"
        row.outcome = handler.apply(uow, event)
        return row.outcome

    return apply


def _as_of(
    report: ReconcileReport, now: datetime, kind: str, subject: str, obj: Any
) -> WebhookEvent:
    """Stripe's object as it is `now`, in the shape of an event about it."""
    return WebhookEvent(report.team_id, f"reconcile:{subject}", kind, now, obj)


def _links(
    db: Transactions, gateway: PaymentGateway, report: ReconcileReport, expected: _Compared
) -> None:
    """Open payment links paid or expired in Stripe."""
    report.checked[LINKS] = len(expected.links)
    for session_id in expected.links:
        session = gateway.retrieve_checkout_session(session_id)
        if session.status == "open":
            continue
        kind = checkout.EXPIRED if session.status == "expired" else webhooks.CHECKOUT_EVENTS[0]
        event = _as_of(report, expected.now, kind, session_id, session.data)
        report.findings.append(_apply(db, LINKS, session_id, checkout.checkout_event, event))


def _subscriptions(
    db: Transactions, gateway: PaymentGateway, report: ReconcileReport, expected: _Compared
) -> None:
    """Live subscriptions' state and next payment as Stripe holds them now."""
    report.checked[SUBSCRIPTIONS] = len(expected.subscriptions)
    for stripe_id in expected.subscriptions:
        found = gateway.retrieve_subscription(stripe_id)
        if found is None:
            report.findings.append(
                Finding(
                    SUBSCRIPTIONS,
                    stripe_id,
                    "Stripe has no such subscription; check it in Stripe and end it here",
                    unresolved=True,
                )
            )
            continue
        ended = found.get("status") == "canceled"
        apply = subscriptions.subscription_deleted if ended else subscriptions.subscription_updated
        kind = "customer.subscription." + ("deleted" if ended else "updated")
        event = _as_of(report, expected.now, kind, stripe_id, found)
        report.findings.append(_apply(db, SUBSCRIPTIONS, stripe_id, apply, event))


def _refunds(
    db: Transactions, gateway: PaymentGateway, report: ReconcileReport, expected: _Compared
) -> None:
    """Refunds made in Stripe of payments recorded since `report.since`."""
    report.checked[REFUNDS] = len(expected.payments)
    for intent_id in expected.payments:
        refunds = tuple(gateway.list_refunds(intent_id))
        if not refunds:
            continue
        charge = {"id": f"charge of {intent_id}", "payment_intent": intent_id}
        event = replace(
            _as_of(report, expected.now, "charge.refunded", intent_id, charge), refunds=refunds
        )
        report.findings.append(_apply(db, REFUNDS, intent_id, payments.charge_refunded, event))


def reconcile(
    db: Transactions,
    gateway_for: Callable[[StripeAccess | None], PaymentGateway | None],
    team_id: str,
    since: datetime,
) -> ReconcileReport:
    """Compare workspace `team_id`'s records with its Stripe account and fix what differs.

    `gateway_for` turns the studio's Stripe access into a gateway (`Gateways.get`). Stops at
    the first Stripe failure, saying so in `failure`; what was fixed before it stays fixed."""
    report = ReconcileReport(team_id, since)
    with db.unit_of_work(readonly=True) as uow:
        gateway = gateway_for(stripe_access(uow, team_id))
        expected = _expected(uow, team_id, since)
    if gateway is None:
        report.failure = "this workspace has no Stripe account; nothing was compared"
        return report
    try:
        _replay(db, gateway, report)
        _links(db, gateway, report, expected)
        _subscriptions(db, gateway, report, expected)
        _refunds(db, gateway, report, expected)
    except PaymentError as exc:
        report.failure = exc.message
    return report
