"""How a commerce form is paid: the method, then its price, pass or Stripe payment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.views.blocks import Block, context, named_option, plain
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
from core.services.checkout import (
    LinkPayment,
    ManualPayment,
    PackagePayment,
    PaymentChoice,
    StripePayment,
)
from core.services.passes import PassRow
from core.services.payment_links import LINK_LIFETIME

INTENT_MAX_CHARS = 66
METHOD_LABELS: dict[Method, tuple[str, str]] = {
    "manual": ("Manual", "Paid another way (cash, card machine), or free"),
    "package": ("Pass credit", "Taken from one of their passes"),
    "stripe": ("Record a Stripe payment", "A payment already made through Stripe"),
    "link": ("Send a payment link", "Stripe's payment page, mailed to them to pay"),
}
LINK_HINT = (
    ":email: A Stripe payment link for the price is mailed to them and shown to you here. "
    "Until they pay it shows *Awaiting payment*; the link works for "
    f"{LINK_LIFETIME.total_seconds() / 3600:.0f} hours, and *Send payment link* on its row "
    "shows it again or sends a new one."
)


def payment_choice(form: PaymentForm, currency: str) -> tuple[PaymentChoice | None, dict[str, str]]:
    """The service's payment for what was filled in, or the problems by block_id."""
    if form.method == "package":
        if form.pass_id is None:
            return None, {PASS_BLOCK: "Choose the pass to take the credits from."}
        return PackagePayment(form.pass_id), {}
    if form.method == "link":
        return LinkPayment(), {}
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
    return named_option(row.name, suffix, str(row.id))


@dataclass(frozen=True)
class PaymentOffer:
    """What a form's payment part offers: its methods and, for Pass credit, the passes that can pay.

    `passes` None: what the credits pay for is not chosen yet (`no_passes` says so)."""

    methods: Sequence[Method]
    price_hint: str
    passes: list[PassRow] | None = None
    # Goes into the pass select's action_id, so Slack drops a choice made for another session.
    passes_for: str = ""
    no_passes: str = ""


def _method_block(prefix: str, method: Method, methods: Sequence[Method]) -> Block:
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
        (o for o in radio["options"] if o["value"] == method), radio["options"][0]
    )
    return input_block(PAYMENT_BLOCK, "Payment", radio, dispatch=True)


def _price_block(prefix: str, price: str, hint: str, currency: str) -> Block:
    field = TextField(
        PRICE_BLOCK,
        "Price",
        f"{prefix}.price",
        placeholder=f"e.g. {money_text(1250, currency)}",
        hint=hint,
        optional=True,
        max_length=MONEY_MAX_CHARS,
    )
    return text_input(field, price)


def _pass_block(prefix: str, chosen: dict[str, Any] | None, offer: PaymentOffer) -> Block:
    if not offer.passes:
        return context(f":information_source: {offer.no_passes}")
    # Until a pass is chosen, the one that ends soonest is.
    select = static_select(
        f"{prefix}.pass_{offer.passes_for}",
        [pass_option(p) for p in offer.passes],
        placeholder="Choose a pass",
        chosen=chosen or pass_option(offer.passes[0]),
    )
    return input_block(
        PASS_BLOCK,
        "Pass",
        select,
        hint="Passes valid on the day with enough credits left, soonest to end first.",
    )


def _intent_block(prefix: str, intent: str) -> Block:
    field = TextField(
        INTENT_BLOCK,
        "Stripe payment intent id",
        f"{prefix}.intent",
        placeholder="pi_…",
        hint="From the payment in Stripe's dashboard. It must have succeeded and not pay "
        "for anything else yet; its amount becomes the price.",
        max_length=INTENT_MAX_CHARS,
    )
    return text_input(field, intent)


def payment_blocks(
    prefix: str, form: PaymentForm, offer: PaymentOffer, currency: str
) -> list[Block]:
    """How it is paid: the method (changing it redraws the form), then that method's field."""
    if form.method == "manual":
        field = _price_block(prefix, form.price, offer.price_hint, currency)
    elif form.method == "package":
        field = _pass_block(prefix, form.pass_option, offer)
    elif form.method == "link":
        field = context(LINK_HINT)
    else:
        field = _intent_block(prefix, form.intent)
    return [_method_block(prefix, form.method, offer.methods), field]
