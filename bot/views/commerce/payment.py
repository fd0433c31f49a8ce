"""How a commerce form is paid: the method, then its price, pass or Stripe payment."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.views.blocks import Block, clip, context, option, plain
from bot.views.commerce.form_state import (
    INTENT_BLOCK,
    PASS_BLOCK,
    PAYMENT_BLOCK,
    PRICE_BLOCK,
    Method,
    PaymentForm,
)
from bot.views.commerce.parsing import MONEY_MAX_CHARS, money_text, parse_money
from bot.views.inputs import TextField, input_block, static_select, text_input
from core.formatting import format_credits, format_date
from core.services.checkout import ManualPayment, PackagePayment, PaymentChoice, StripePayment
from core.services.passes import PassRow

INTENT_MAX_CHARS = 66
METHOD_LABELS: dict[Method, tuple[str, str]] = {
    "manual": ("Manual", "Paid another way (cash, card machine), or free"),
    "package": ("Pass credit", "Taken from one of their passes"),
    "stripe": ("Record a Stripe payment", "A payment already made through Stripe"),
}


def payment_choice(form: PaymentForm, currency: str) -> tuple[PaymentChoice | None, dict[str, str]]:
    """The service's payment for what was filled in, or the problems by block_id."""
    if form.method == "package":
        if form.pass_id is None:
            return None, {PASS_BLOCK: "Choose the pass to take the credits from."}
        return PackagePayment(form.pass_id), {}
    if form.method == "stripe":
        if not form.intent:
            return None, {INTENT_BLOCK: "Paste the payment intent id from Stripe (pi_…)."}
        return StripePayment(form.intent), {}
    if not form.price:
        return ManualPayment(), {}
    try:
        return ManualPayment(parse_money(form.price, currency)), {}
    except ValueError as exc:
        return None, {PRICE_BLOCK: str(exc)}


def pass_option(row: PassRow) -> dict[str, Any]:
    """'10-class pass #12 · 7 CR left · to 3 May 2026', value the pass id."""
    suffix = f" #{row.id} · {format_credits(row.credits_remaining)} left · to "
    suffix += format_date(row.valid_to)
    return option(clip(row.name, max(8, 75 - len(suffix))) + suffix, str(row.id))


def payment_blocks(
    prefix: str,
    form: PaymentForm,
    *,
    methods: Sequence[Method],
    currency: str,
    passes: list[PassRow] | None = None,
    passes_for: str = "",
    no_passes: str = "",
    price_hint: str,
) -> list[Block]:
    """How it is paid: the method (changing it redraws the form), then that method's field.

    `passes` None: what the credits pay for is not chosen yet (`no_passes` says so)."""
    # The pass select's action_id carries `passes_for`, so Slack drops a choice made for
    # another session; until one is made, the pass that ends soonest is chosen.
    radio: dict[str, Any] = {
        "type": "radio_buttons",
        "action_id": f"{prefix}.payment",
        "options": [
            {
                "text": plain(METHOD_LABELS[m][0], 75),
                "value": m,
                "description": plain(METHOD_LABELS[m][1], 75),
            }
            for m in methods
        ],
    }
    radio["initial_option"] = next(
        (o for o in radio["options"] if o["value"] == form.method), radio["options"][0]
    )
    blocks: list[Block] = [input_block(PAYMENT_BLOCK, "Payment", radio, dispatch=True)]
    if form.method == "manual":
        price = TextField(
            PRICE_BLOCK,
            "Price",
            f"{prefix}.price",
            placeholder=f"e.g. {money_text(1250, currency)}",
            hint=price_hint,
            optional=True,
            max_length=MONEY_MAX_CHARS,
        )
        blocks.append(text_input(price, form.price))
    elif form.method == "package":
        if passes:
            select = static_select(
                f"{prefix}.pass_{passes_for}",
                [pass_option(p) for p in passes],
                placeholder="Choose a pass",
                chosen=form.pass_option or pass_option(passes[0]),
            )
            blocks.append(
                input_block(
                    PASS_BLOCK,
                    "Pass",
                    select,
                    hint="Passes valid on the day with enough credits left, soonest to end first.",
                )
            )
        else:
            blocks.append(context(f":information_source: {no_passes}"))
    else:
        intent = TextField(
            INTENT_BLOCK,
            "Stripe payment intent id",
            f"{prefix}.intent",
            placeholder="pi_…",
            hint="From the payment in Stripe's dashboard. It must have succeeded and not pay "
            "for anything else yet; its amount becomes the price.",
            max_length=INTENT_MAX_CHARS,
        )
        blocks.append(text_input(intent, form.intent))
    return blocks
