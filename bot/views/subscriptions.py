"""A subscription's Suspend confirmation and the notices of its Pause, Resume and Suspend."""

from __future__ import annotations

from typing import Any

from bot.views.blocks import clip, escape
from bot.views.commerce.form_state import CommerceMeta
from bot.views.commerce.modals import confirmation
from core.formatting import format_money
from core.services.subscriptions import SubscriptionRow


def suspend_confirmation(meta: CommerceMeta, row: SubscriptionRow) -> dict[str, Any]:
    """Suspend a subscription? It ends for good (Pause stops payments for a while)."""
    stripe = (
        f"It is cancelled in Stripe ({escape(row.stripe_subscription_id)}) first, so no further "
        "payments are taken."
        if row.stripe_subscription_id
        else "It is not linked to Stripe; no payment provider is changed."
    )
    plan = escape(clip(row.plan_name, 200))
    price = format_money(row.price_minor, row.currency)
    return confirmation(
        meta,
        title="Suspend subscription?",
        question=f"Suspend *{plan}* subscription #{row.id} ({price} per "
        f"{escape(clip(row.interval, 20))})? *This ends it for good*: it can't be resumed; "
        "they would need a new subscription. To stop payments for a while, use *Pause*.",
        consequences=[stripe],
        submit="Suspend for good",
    )


def changed_notice(row: SubscriptionRow, done: str) -> str:
    """'Paused Unlimited monthly subscription #4 (in Stripe too).'"""
    where = " (in Stripe too)" if row.stripe_subscription_id else ""
    return f"{done} {row.plan_name} subscription #{row.id}{where}."
