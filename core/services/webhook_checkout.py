"""Stripe's webhooks about Checkout Sessions (the payment links staff send): a link paid or
expired, applied by core/services/payment_links.py."""

from __future__ import annotations

from dataclasses import replace

from core.adapters.payments import PaymentGateway, require_gateway
from core.db import UnitOfWork
from core.errors import Forbidden
from core.services.payment_links import apply_checkout_event
from core.services.webhook_events import WebhookEvent, text

EXPIRED = "checkout.session.expired"


def gather_session(event: WebhookEvent, gateway: PaymentGateway | None) -> WebhookEvent:
    """A paid subscription-mode session as Stripe holds it now, its subscription expanded (for
    the next payment date), asked with no transaction open; any other event as it came."""
    if event.type == EXPIRED or event.object.get("mode") != "subscription":
        return event
    payments = require_gateway(gateway, "the subscription was not recorded")
    return replace(event, object=payments.retrieve_checkout_session(text(event.object, "id")).data)


def checkout_event(uow: UnitOfWork, event: WebhookEvent) -> str:
    """checkout.session.completed, .async_payment_succeeded or .expired: the link's record."""
    try:
        return apply_checkout_event(uow, event.team_id, event.type, event.object)
    except Forbidden as exc:
        # Made for another workspace: nothing here changes, and Stripe need not send it again.
        return f"refused: {exc.message}"
