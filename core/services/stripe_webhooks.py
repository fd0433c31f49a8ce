"""Stripe's webhooks to a workspace's endpoint: the signature checked with that workspace's
signing secret, each event recorded in a ledger so a redelivery applies once, and handed to the
handler of its type.

Three steps, as a refund's: a short read finds the secret (and whether the event was seen);
with no transaction open, what a handler must ask Stripe first is asked; one transaction then
claims the event's id in the ledger and applies it, so of two deliveries racing, one applies."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.adapters.payments import Gateways, PaymentError, PaymentGateway
from core.db import Transactions, UnitOfWork
from core.errors import DomainError
from core.models import StripeEvent, Workspace
from core.services import webhook_checkout as checkout
from core.services import webhook_payments as payments
from core.services import webhook_subscriptions as subscriptions
from core.services.stripe_account import stripe_access, webhook_secret
from core.services.webhook_events import Malformed, WebhookEvent, moment, text

if TYPE_CHECKING:
    import stripe
else:
    from core.adapters import stripe_sdk as stripe


# Where Stripe posts a workspace's events: WEBHOOK_PATH + its team id.
WEBHOOK_PATH = "/stripe/webhook/"
NOT_HANDLED = "not handled"
CHECKOUT_EVENTS = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.expired",
)
_TEAM_ID = re.compile(r"[A-Z0-9]{2,32}")

Apply = Callable[[UnitOfWork, WebhookEvent], str]
# A handler of the event's object alone: (uow, team_id, event type, data.object) → outcome.
ObjectApply = Callable[[UnitOfWork, str, str, dict[str, Any]], str]
Gather = Callable[[WebhookEvent, PaymentGateway | None], WebhookEvent]


@dataclass(frozen=True)
class Handler:
    """How one event type is applied; `gather` asks Stripe first, with no transaction open."""

    apply: Apply
    gather: Gather | None = None


def on_object(apply: ObjectApply) -> Handler:
    """A handler needing only the event's object, whatever the order events arrive in."""
    return Handler(lambda uow, event: apply(uow, event.team_id, event.type, event.object))


# Types not here are recorded in the ledger as NOT_HANDLED and answered 200, so Stripe stops
# resending them.
HANDLERS: dict[str, Handler] = {
    "payment_intent.succeeded": on_object(payments.payment_succeeded),
    "payment_intent.payment_failed": on_object(payments.payment_failed),
    "charge.refunded": Handler(payments.charge_refunded, payments.gather_refunds),
    "customer.subscription.updated": Handler(subscriptions.subscription_updated),
    "customer.subscription.deleted": Handler(subscriptions.subscription_deleted),
    "invoice.paid": Handler(subscriptions.invoice_paid),
    "invoice.payment_failed": Handler(subscriptions.invoice_payment_failed),
    **dict.fromkeys(CHECKOUT_EVENTS, Handler(checkout.checkout_event, checkout.gather_session)),
}


@dataclass(frozen=True)
class WebhookAnswer:
    """The HTTP status for Stripe and a short reason (never a secret or the payload)."""

    status: int
    reason: str
    outcome: str = ""


class _Refused(Exception):
    def __init__(self, answer: WebhookAnswer) -> None:
        super().__init__(answer.reason)
        self.answer = answer


def _bad(reason: str) -> _Refused:
    return _Refused(WebhookAnswer(400, reason))


def _secret(uow: UnitOfWork, team_id: str) -> str:
    """The signing secret of an enabled workspace's endpoint; refused when there is none."""
    workspace = uow.session.get(Workspace, team_id) if _TEAM_ID.fullmatch(team_id) else None
    secret = webhook_secret(uow, team_id) if workspace and not workspace.disabled_at else None
    if secret is None:
        # One reason for an unknown, uninstalled or unconfigured workspace: which ids exist
        # is not told to whoever asks.
        raise _bad("endpoint_not_configured")
    return secret


def _signed_long_ago(payload: str, header: str, secret: str) -> bool:
    """Whether the signature is right and only its time is past the tolerance."""
    try:
        # No tolerance: the signature alone.
        return bool(stripe.WebhookSignature.verify_header(payload, header, secret))
    except stripe.SignatureVerificationError:
        return False


def _verified(team_id: str, body: bytes, header: str | None, secret: str) -> WebhookEvent:
    """The event, if Stripe signed it with `secret` within the library's default tolerance."""
    if not header:
        raise _bad("unsigned")
    try:
        payload = body.decode()
    except UnicodeDecodeError:
        raise _bad("malformed") from None
    try:
        event = stripe.Webhook.construct_event(payload, header, secret)
    except stripe.SignatureVerificationError:
        raise _bad(
            "stale" if _signed_long_ago(payload, header, secret) else "bad_signature"
        ) from None
    except (ValueError, AttributeError):
        # Signed, but not a JSON object (the library reads it only once the signature holds).
        raise _bad("malformed") from None
    try:
        return event_of(team_id, event.to_dict())
    except Malformed:
        raise _bad("malformed") from None


def event_of(team_id: str, data: dict[str, Any]) -> WebhookEvent:
    """Stripe's event `data` (as delivered or listed) for workspace `team_id`; Malformed when
    it lacks what every event has."""
    found = data.get("data")
    obj = found.get("object") if isinstance(found, dict) else None
    if not isinstance(obj, dict):
        raise Malformed("data.object")
    return WebhookEvent(
        team_id,
        text(data, "id"),
        text(data, "type"),
        moment(data.get("created"), "created"),
        obj,
    )


def seen(uow: UnitOfWork, event: WebhookEvent) -> bool:
    return (
        uow.session.scalar(
            select(StripeEvent.id).where(
                StripeEvent.team_id == event.team_id, StripeEvent.event_id == event.id
            )
        )
        is not None
    )


def claim(uow: UnitOfWork, event: WebhookEvent) -> StripeEvent | None:
    """The event's ledger row, inserted now; None when another delivery recorded it first."""
    row = StripeEvent(
        team_id=event.team_id,
        event_id=event.id,
        type=event.type,
        created=event.created,
        received_at=uow.now(),
        outcome="",
    )
    try:
        # A savepoint: PostgreSQL makes a racing delivery wait for the first, then fail here.
        with uow.session.begin_nested():
            uow.session.add(row)
    except IntegrityError:
        return None
    return row


def _duplicate() -> WebhookAnswer:
    return WebhookAnswer(200, "duplicate")


def apply_once(db: Transactions, event: WebhookEvent, handler: Handler | None) -> WebhookAnswer:
    """Record `event` in the ledger and apply it, in one transaction; "duplicate" when it was
    recorded already."""
    with db.unit_of_work() as uow:
        row = claim(uow, event)
        if row is None:
            return _duplicate()
        # A handler's failure rolls the claim back with the rest: the redelivery applies it.
        row.outcome = handler.apply(uow, event) if handler else NOT_HANDLED
    return WebhookAnswer(200, "applied" if handler else "ignored", row.outcome)


def receive(
    db: Transactions, gateways: Gateways, team_id: str, body: bytes, signature: str | None
) -> WebhookAnswer:
    """Verify and apply one delivery of Stripe's to workspace `team_id`'s endpoint.

    400 for anything Stripe did not sign for this workspace (nothing changes); 200 once the
    event is recorded, a redelivery included; 409 or 503 when it should be sent again later."""
    try:
        with db.unit_of_work(readonly=True) as uow:
            secret = _secret(uow, team_id)
            event = _verified(team_id, body, signature, secret)
            if seen(uow, event):
                return _duplicate()
            access = stripe_access(uow, team_id)
        handler = HANDLERS.get(event.type)
        if handler is not None and handler.gather is not None:
            event = handler.gather(event, gateways.get(access))
        return apply_once(db, event, handler)
    except _Refused as refused:
        return refused.answer
    except Malformed:
        return _bad("malformed").answer
    except PaymentError:
        return WebhookAnswer(503, "stripe_unavailable")
    except DomainError:
        # A merge moved the record meanwhile, or the like: Stripe sends it again later.
        return WebhookAnswer(409, "busy")
