"""Bringing a studio's records in line with its Stripe account after webhooks were missed (the
server down, the endpoint not set up yet): Stripe's recent events applied through the webhooks'
ledger, then each open payment link, live subscription and recent payment compared with what
Stripe holds now, each difference fixed by the handler a webhook would have used."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.adapters.payments import PaymentError, PaymentGateway, RefundInfo, StripeAccess
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


@dataclass(frozen=True)
class _Drift:
    """A Stripe object that differs from its record: the handler to apply and the object, in
    the shape of the event that would have said so."""

    apply: Apply
    kind: str
    object: dict[str, Any]
    refunds: tuple[RefundInfo, ...] | None = None


# Looking one object up in Stripe: its drift, a finding for a person, or None (nothing to do).
Look = Callable[[PaymentGateway, str], _Drift | Finding | None]


def _link(gateway: PaymentGateway, session_id: str) -> _Drift | None:
    """An open payment link paid or expired in Stripe."""
    session = gateway.retrieve_checkout_session(session_id)
    if session.status == "open":
        return None
    kind = checkout.EXPIRED if session.status == "expired" else webhooks.CHECKOUT_EVENTS[0]
    return _Drift(checkout.checkout_event, kind, session.data)


def _subscription(gateway: PaymentGateway, stripe_id: str) -> _Drift | Finding:
    """A live subscription's state and next payment as Stripe holds them now."""
    found = gateway.retrieve_subscription(stripe_id)
    if found is None:
        return Finding(
            SUBSCRIPTIONS,
            stripe_id,
            "Stripe has no such subscription; check it in Stripe and end it here",
            unresolved=True,
        )
    if found.get("status") == "canceled":
        return _Drift(subscriptions.subscription_deleted, "customer.subscription.deleted", found)
    return _Drift(subscriptions.subscription_updated, "customer.subscription.updated", found)


def _refunds(gateway: PaymentGateway, intent_id: str) -> _Drift | None:
    """Refunds made in Stripe of a payment recorded here."""
    refunds = tuple(gateway.list_refunds(intent_id))
    if not refunds:
        return None
    charge = {"id": f"charge of {intent_id}", "payment_intent": intent_id}
    return _Drift(payments.charge_refunded, "charge.refunded", charge, refunds)


def _compare(
    db: Transactions,
    gateway: PaymentGateway,
    report: ReconcileReport,
    now: datetime,
    step: str,
    subjects: list[str],
    look: Look,
) -> None:
    """Each of `subjects` looked up in Stripe, and any drift fixed in its own transaction."""
    report.checked[step] = len(subjects)
    for subject in subjects:
        found = look(gateway, subject)
        if isinstance(found, _Drift):
            event = WebhookEvent(
                report.team_id, f"reconcile:{subject}", found.kind, now, found.object, found.refunds
            )
            found = _apply(db, step, subject, found.apply, event)
        if found is not None:
            report.findings.append(found)


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
        for step, subjects, look in (
            (LINKS, expected.links, _link),
            (SUBSCRIPTIONS, expected.subscriptions, _subscription),
            (REFUNDS, expected.payments, _refunds),
        ):
            _compare(db, gateway, report, expected.now, step, subjects, look)
    except PaymentError as exc:
        report.failure = exc.message
    return report
