"""Start subscription (a Stripe link mailed to subscribe to a plan), a subscription's Suspend
confirmation, and the notices of its Pause, Resume and Suspend."""

from __future__ import annotations

from typing import Any

from bot.views.blocks import Block, clip, context, escape, form_modal, modal, named_option, section
from bot.views.commerce.form_state import CommerceMeta
from bot.views.commerce.modals import RESULT_CALLBACK, confirmation, problem_block
from bot.views.inputs import input_block, static_select
from core.formatting import format_money
from core.services.payment_links import PlanOption
from core.services.subscriptions import SubscriptionRow

START_CALLBACK = "start_subscription.submit"
PLAN_BLOCK = "plan_id"
PLAN_ACTION = "start_subscription.plan"
START_TITLE = "Start subscription"
NO_STRIPE = (
    "Subscriptions are paid through Stripe, which isn't connected for this studio yet; an "
    "admin connects it in Home's *Stripe* section."
)


def _price(plan: PlanOption) -> str:
    return f"{format_money(plan.price_minor, plan.currency)} per {plan.interval}"


def start_subscription_form(
    meta: CommerceMeta,
    plans: list[PlanOption],
    *,
    stripe: bool,
    chosen: dict[str, Any] | None = None,
    problem: str = "",
) -> dict[str, Any]:
    """Choose a plan; a Stripe link to subscribe is mailed. Plans that can't be started say why."""
    name = escape(clip(meta.name, 200)) or "The customer"
    startable = [p for p in plans if not p.why_not]
    blocked = "; ".join(
        f"*{escape(clip(p.name, 100))}*: {escape(p.why_not)}" for p in plans if p.why_not
    )
    why_not = [context(f"Can't be started here: {blocked}.")] if blocked else []
    if not stripe or not meta.mailable or not startable:
        if not stripe:
            text = NO_STRIPE
        elif not meta.mailable:
            text = (
                f"{name} has no email address, so a subscription link can't be sent; add one "
                "with *Edit* on their details first."
            )
        else:
            text = "There is no plan to start yet. An admin adds plans in Home's *Catalog*."
        return modal(START_TITLE, [section(text), *why_not], callback_id=RESULT_CALLBACK)
    options = [named_option(p.name, f" · {_price(p)}", str(p.id)) for p in startable]
    blocks: list[Block] = [
        *problem_block(problem),
        context(
            f"A Stripe link to subscribe is mailed to *{name}*; the subscription shows on "
            "this tab once they have paid."
        ),
        input_block(
            PLAN_BLOCK,
            "Plan",
            static_select(PLAN_ACTION, options, placeholder="Choose a plan", chosen=chosen),
        ),
        *why_not,
    ]
    return form_modal(START_TITLE, blocks, meta, callback_id=START_CALLBACK, submit="Send link")


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
