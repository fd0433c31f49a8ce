"""Stripe's payment events on the records they paid for: a payment that succeeded or failed is
noted in the customer's account history, and a refund made in Stripe's dashboard is recorded on
the booking, appointment or pass, partial refunds included."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from core.adapters.payments import PaymentGateway, RefundInfo, require_gateway
from core.db import UnitOfWork
from core.errors import NotFound
from core.formatting import format_money
from core.models import Booking, Customer, PaymentIntentUse, VideoPurchase
from core.services import alerts, history
from core.services.checkout import PAID_MODELS, PaidRow, paid_kind
from core.services.refunds import record_stripe_refunds, refund_under_way
from core.services.webhook_events import (
    STRIPE_ACTOR,
    Malformed,
    WebhookEvent,
    held,
    items,
    mapping,
    optional_text,
    text,
)

PAYMENT_SUCCEEDED = "Stripe payment succeeded"
PAYMENT_FAILED = "Stripe payment failed"
# Stripe's reason for a failed payment is kept in the history up to this length.
REASON_MAX = 200
ALERT_REASON_MAX = 80


def _paid_row(uow: UnitOfWork, team_id: str, intent_id: str) -> tuple[PaidRow, Customer] | None:
    """The record of workspace `team_id` that payment `intent_id` pays for, and its owner, both
    locked (owner first, as a merge takes them); None when nothing here records it."""
    use = uow.session.get(PaymentIntentUse, intent_id)
    if use is None or use.team_id != team_id or use.kind not in PAID_MODELS:
        return None
    model = PAID_MODELS[use.kind]

    def load() -> PaidRow:
        # A union of models is one of them: the session returns that model's row.
        found = cast(PaidRow | None, uow.session.get(model, use.row_id, populate_existing=True))
        if found is None or found.team_id != team_id:
            raise NotFound(f"{use.kind} #{use.row_id} no longer exists")
        return found

    return held(uow, load)


def _nothing_pays(intent_id: str) -> str:
    return f"no record here is paid by {intent_id}"


def _named(paid: PaidRow) -> str:
    return f"{paid_kind(paid)} #{paid.id}"


def payment_succeeded(uow: UnitOfWork, team_id: str, _type: str, intent: dict[str, Any]) -> str:
    """payment_intent.succeeded: noted on the customer of the record it pays for, if any."""
    intent_id = text(intent, "id")
    found = _paid_row(uow, team_id, intent_id)
    if found is None:
        return _nothing_pays(intent_id)
    paid, customer = found
    amount = intent.get("amount_received", intent.get("amount"))
    money = f"{format_money(amount, paid.currency)} " if isinstance(amount, int) else ""
    history.record(
        uow,
        STRIPE_ACTOR,
        customer,
        PAYMENT_SUCCEEDED,
        detail=f"{money}for {_named(paid)}, payment {intent_id}",
    )
    return f"noted on {_named(paid)}"


def payment_failed(uow: UnitOfWork, team_id: str, _type: str, intent: dict[str, Any]) -> str:
    """payment_intent.payment_failed: noted, with Stripe's reason, on the customer of the record
    it pays for, if any, and alerted; a failed attempt changes nothing the record shows."""
    intent_id = text(intent, "id")
    found = _paid_row(uow, team_id, intent_id)
    if found is None:
        return _nothing_pays(intent_id)
    paid, customer = found
    error = mapping(intent, "last_payment_error") or {}
    reason = optional_text(error, "message") or optional_text(error, "code") or "no reason given"
    history.record(
        uow,
        STRIPE_ACTOR,
        customer,
        PAYMENT_FAILED,
        detail=f"an attempt to pay {intent_id} for {_named(paid)} failed: "
        + history.clip(reason, REASON_MAX),
    )
    # Stripe's reason ("Your card was declined.") says nothing of the card itself.
    what = f"Payment for {_named(paid)} failed ({history.clip(reason, ALERT_REASON_MAX)})"
    alerts.record(uow, alerts.PAYMENT_FAILED, customer, what)
    return f"noted on {_named(paid)}"


def _refund(data: dict[str, Any]) -> RefundInfo:
    amount = data.get("amount")
    if not isinstance(amount, int):
        raise Malformed("refunds.amount")
    return RefundInfo(text(data, "id"), amount, optional_text(data, "status") or "pending")


def gather_refunds(event: WebhookEvent, gateway: PaymentGateway | None) -> WebhookEvent:
    """charge.refunded: the charge's refunds, from the event when it lists them all, otherwise
    asked of Stripe (with no transaction open)."""
    charge = event.object
    listing = mapping(charge, "refunds")
    if listing is not None and listing.get("has_more") is False:
        return replace(event, refunds=tuple(_refund(r) for r in items(charge, "refunds")))
    intent_id = optional_text(charge, "payment_intent")
    if intent_id is None:
        return replace(event, refunds=())
    payments = require_gateway(gateway, "the refund was not recorded")
    return replace(event, refunds=tuple(payments.list_refunds(intent_id)))


def charge_refunded(uow: UnitOfWork, event: WebhookEvent) -> str:
    """charge.refunded: refunds Stripe holds beyond what the record shows are recorded on it.

    Only ever raised to what Stripe holds in all, so events in any order, or a refund made in
    the app, are recorded once."""
    intent_id = optional_text(event.object, "payment_intent")
    if intent_id is None:
        return "a charge without a payment intent; nothing here records it"
    found = _paid_row(uow, event.team_id, intent_id)
    if found is None:
        return _nothing_pays(intent_id)
    paid, customer = found
    if isinstance(paid, VideoPurchase):
        return f"{_named(paid)} keeps no refunded amount; its refunds are in Stripe only"
    if isinstance(paid, Booking) and refund_under_way(paid, uow.now()):
        return f"left to the refund of {_named(paid)} under way here, which records it"
    more = record_stripe_refunds(uow, STRIPE_ACTOR, customer, paid, list(event.refunds or ()))
    if not more:
        return f"{_named(paid)} already shows these refunds"
    return f"recorded {format_money(more, paid.currency)} more refunded on {_named(paid)}"
