"""What the commerce forms share: their metadata, reading what was filled in, payment, confirmations.

Input block_ids are the services' field names (price, pass_id, …): errors land under their field."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from zoneinfo import ZoneInfo

from babel.numbers import get_currency_precision, get_currency_symbol
from pydantic import Field

from bot.views.blocks import (
    Block,
    clip,
    context,
    escape,
    modal,
    option,
    plain,
    section,
    text_input,
)
from bot.views.origin import Tab
from bot.views.payload import as_row_id, read_metadata
from bot.views.tabs import ReturnTo
from core.formatting import format_credits, format_date, format_money
from core.services.checkout import (
    MAX_PRICE_MINOR,
    ManualPayment,
    PackagePayment,
    PaymentChoice,
    StripePayment,
)
from core.services.passes import PassRow

CONFIRM_CALLBACK = "commerce_confirm.submit"
WORKING_CALLBACK = "commerce.working"
RESULT_CALLBACK = "commerce.result"
PAYMENT_BLOCK = "payment"
PRICE_BLOCK = "price"
PASS_BLOCK = "pass_id"  # noqa: S105 - a block_id, not a secret
INTENT_BLOCK = "payment_intent_id"
MAX_OPTIONS = 100
_WHOLE = re.compile(r"[+-]?\d{1,9}")
MONEY_MAX_CHARS = 20
INTENT_MAX_CHARS = 66

Method = Literal["manual", "package", "stripe"]
METHOD_LABELS: dict[Method, tuple[str, str]] = {
    "manual": ("Manual", "Paid another way (cash, card machine), or free"),
    "package": ("Pass credit", "Taken from one of their passes"),
    "stripe": ("Record a Stripe payment", "A payment already made through Stripe"),
}


class CommerceMeta(ReturnTo):
    """A commerce form or confirmation pushed over a customer's details."""

    # The customer's full name, for the form's text and the notice afterwards.
    name: str = Field(default="", max_length=300)
    # The row a row action is about; `tab` and `verb` say which confirmation this is.
    row_id: int | None = Field(default=None, ge=1)
    tab: Tab | None = None
    verb: str = Field(default="", max_length=16)
    # Refund: what the person saw as refunded already, so a stale modal can't refund again.
    refunded_minor: int | None = Field(default=None, ge=0)

    @classmethod
    def parse(cls, raw: object) -> CommerceMeta | None:
        """None when the metadata is missing or not ours."""
        return read_metadata(cls, raw)


class FormValues:
    """What was typed and chosen in a form (`view.state.values`), read by block_id."""

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self._values = values if isinstance(values, dict) else {}

    @classmethod
    def of(cls, view: dict[str, Any]) -> FormValues:
        """The values of a view as Slack sends it with an interaction."""
        state = view.get("state")
        return cls(state.get("values") if isinstance(state, dict) else None)

    def _element(self, block_id: str) -> dict[str, Any]:
        block = self._values.get(block_id)
        if not isinstance(block, dict):
            return {}
        # Each input block holds one element; its action_id may vary (the pass select's does).
        for element in block.values():
            if isinstance(element, dict):
                return element
        return {}

    def text(self, block_id: str) -> str:
        """The typed text, stripped ('' when empty)."""
        value = self._element(block_id).get("value")
        return value.strip() if isinstance(value, str) else ""

    def option(self, block_id: str) -> dict[str, Any] | None:
        """The chosen option (text and value), or None."""
        chosen = self._element(block_id).get("selected_option")
        return chosen if isinstance(chosen, dict) and isinstance(chosen.get("value"), str) else None

    def choice(self, block_id: str) -> str | None:
        """The chosen option's value, or None."""
        chosen = self.option(block_id)
        return chosen["value"] if chosen else None

    def row_id(self, block_id: str) -> int | None:
        """The chosen option's value as a row id, or None."""
        return as_row_id(self.choice(block_id) or "")

    def day(self, block_id: str) -> date | None:
        """The picked date, or None."""
        value = self._element(block_id).get("selected_date")
        try:
            return date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            return None

    def clock_time(self, block_id: str) -> time | None:
        """The picked time of day (HH:MM), or None."""
        value = self._element(block_id).get("selected_time")
        try:
            return time.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            return None


@dataclass(frozen=True)
class PaymentForm:
    """The payment part of a form as filled in so far."""

    method: Method = "manual"
    price: str = ""
    pass_option: dict[str, Any] | None = None
    intent: str = ""

    @classmethod
    def read(cls, values: FormValues, methods: Sequence[Method]) -> PaymentForm:
        """The payment fields of `values`; an unknown or unoffered method reads as Manual."""
        chosen = values.choice(PAYMENT_BLOCK)
        method: Method = next((m for m in methods if m == chosen), "manual")
        return cls(
            method=method,
            price=values.text(PRICE_BLOCK),
            pass_option=values.option(PASS_BLOCK),
            intent=values.text(INTENT_BLOCK),
        )

    @property
    def pass_id(self) -> int | None:
        """The chosen pass's id, or None."""
        return as_row_id(str((self.pass_option or {}).get("value") or ""))

    @property
    def pass_label(self) -> str:
        """'10-class pass #12', as the chosen option names it ('' when none)."""
        text = str(((self.pass_option or {}).get("text") or {}).get("text") or "")
        return text.split(" · ")[0]


def parse_money(text: str, currency: str) -> int:
    """'12', '12.5', '£1,200.00' → minor units of `currency`; ValueError says what is wrong."""
    symbol = get_currency_symbol(currency, locale="en_GB")
    cleaned = text.strip().replace(",", "").replace(symbol, "").replace(currency, "").strip()
    places = get_currency_precision(currency)
    example = format_money(1250 if places == 2 else 12 * 10**places, currency)
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"Enter an amount such as {example}.") from None
    if not amount.is_finite():
        raise ValueError(f"Enter an amount such as {example}.")
    if amount < 0:
        raise ValueError("Enter zero or more.")
    minor = amount.scaleb(places)
    if minor != minor.to_integral_value():
        raise ValueError(f"Use at most {places} decimal places.")
    if minor > MAX_PRICE_MINOR:
        raise ValueError(f"That is more than {format_money(MAX_PRICE_MINOR, currency)}.")
    return int(minor)


def money_text(minor: int, currency: str) -> str:
    """Minor units as the plain number a person would type: 1250 → '12.50'."""
    return str(Decimal(minor).scaleb(-get_currency_precision(currency)))


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


def input_block(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    hint: str = "",
    optional: bool = False,
    dispatch: bool = False,
) -> Block:
    """An input block around any element; `dispatch` sends block_actions when it changes."""
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, 2000),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, 2000)
    if dispatch:
        block["dispatch_action"] = True
    return block


def static_select(
    action_id: str,
    options: list[dict[str, Any]],
    *,
    placeholder: str,
    chosen: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A static select; `chosen` stays selected when it is still among the options."""
    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": action_id,
        "placeholder": plain(placeholder, 150),
        "options": options[:MAX_OPTIONS],
    }
    values = {o["value"]: o for o in element["options"]}
    if chosen is not None and chosen.get("value") in values:
        element["initial_option"] = values[chosen["value"]]
    return element


def date_picker(action_id: str, *, initial: date | None = None, placeholder: str) -> dict[str, Any]:
    """A date picker, optionally with a date already chosen."""
    element: dict[str, Any] = {
        "type": "datepicker",
        "action_id": action_id,
        "placeholder": plain(placeholder, 150),
    }
    if initial is not None:
        element["initial_date"] = initial.isoformat()
    return element


def time_picker(
    action_id: str, *, timezone: str, initial: time | None = None, placeholder: str
) -> dict[str, Any]:
    """A time picker in the business time zone."""
    element: dict[str, Any] = {
        "type": "timepicker",
        "action_id": action_id,
        "placeholder": plain(placeholder, 150),
        "timezone": timezone,
    }
    if initial is not None:
        element["initial_time"] = initial.strftime("%H:%M")
    return element


def number_input(
    action_id: str, *, initial: str = "", placeholder: str, low: int, high: int
) -> dict[str, Any]:
    """A whole-number input between `low` and `high`."""
    element: dict[str, Any] = {
        "type": "number_input",
        "action_id": action_id,
        "is_decimal_allowed": False,
        "min_value": str(low),
        "max_value": str(high),
        "placeholder": plain(placeholder, 150),
    }
    if initial:
        element["initial_value"] = initial
    return element


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
        blocks.append(
            text_input(
                PRICE_BLOCK,
                "Price",
                f"{prefix}.price",
                initial=form.price,
                placeholder=f"e.g. {money_text(1250, currency)}",
                hint=price_hint,
                optional=True,
                max_length=MONEY_MAX_CHARS,
            )
        )
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
        blocks.append(
            text_input(
                INTENT_BLOCK,
                "Stripe payment intent id",
                f"{prefix}.intent",
                initial=form.intent,
                placeholder="pi_…",
                hint="From the payment in Stripe's dashboard. It must have succeeded and not pay "
                "for anything else yet; its amount becomes the price.",
                max_length=INTENT_MAX_CHARS,
            )
        )
    return blocks


def problem_block(problem: str) -> list[Block]:
    """A warning at the top of a form (none when there is no problem)."""
    return [section(f":warning: {escape(problem)}", block_id="problem")] if problem else []


def form_modal(
    title: str,
    blocks: list[Block],
    meta: CommerceMeta,
    *,
    callback_id: str,
    submit: str,
) -> dict[str, Any]:
    """A commerce form: Cancel closes it and leaves the details as they were."""
    return modal(
        title,
        blocks,
        callback_id=callback_id,
        private_metadata=meta.model_dump_json(),
        submit=submit,
        close="Cancel",
    )


def nothing_to_offer(title: str, what: str) -> dict[str, Any]:
    """In place of a form whose catalog is empty: what is missing and who adds it."""
    return modal(
        title,
        [
            section(
                f"There are no {what} yet. An admin adds them with "
                "`customer-bot catalog import FILE` (see the README)."
            )
        ],
        callback_id=RESULT_CALLBACK,
    )


def confirmation(
    meta: CommerceMeta, *, title: str, question: str, consequences: list[str], submit: str
) -> dict[str, Any]:
    """Asks before a change that is hard to take back; the close button keeps things as they are."""
    blocks: list[Block] = [section(question, block_id="question")]
    blocks.extend(section(line) for line in consequences if line)
    return modal(
        title,
        blocks,
        callback_id=CONFIRM_CALLBACK,
        private_metadata=meta.model_dump_json(),
        submit=submit,
        close="Keep it",
    )


def working_view(name: str) -> dict[str, Any]:
    """Shown in place of a form whose change takes longer than Slack waits for an answer."""
    return modal(
        "Working…",
        [
            section(
                ":hourglass_flowing_sand: Still working on it — Stripe or the database is slow "
                "to answer. The result shows here in a moment; "
                f"{escape(clip(name, 200)) or 'the customer'}'s details update by themselves."
            )
        ],
        callback_id=WORKING_CALLBACK,
    )


def result_view(text: str, *, ok: bool) -> dict[str, Any]:
    """The outcome of a slow change, in the modal that waited for it."""
    icon = ":white_check_mark:" if ok else ":warning:"
    return modal(
        "Done" if ok else "Not done",
        [section(f"{icon} {escape(text)}", block_id="result")],
        callback_id=RESULT_CALLBACK,
    )


def end_of_day(day: date, timezone: str) -> datetime:
    """The last minute of `day` in `timezone`, as an aware instant (an expiry chosen by date)."""
    return datetime.combine(day, time(23, 59), tzinfo=ZoneInfo(timezone))


def whole_number(text: str) -> int | None:
    """'+2', '-1', '30' → the number; None for anything else."""
    cleaned = text.replace(" ", "")
    return int(cleaned) if _WHOLE.fullmatch(cleaned) else None
