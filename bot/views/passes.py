"""Assign Pass, and a pass's Adjust credits, Extend and Cancel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.views.blocks import Block, clip, context, escape, form_modal, named_option, section
from bot.views.commerce.form_state import CommerceMeta, Method, PaymentForm
from bot.views.commerce.modals import confirmation, nothing_to_offer, problem_block
from bot.views.commerce.payment import PaymentOffer, payment_blocks
from bot.views.commerce.payment_text import STRIPE_NOT_REFUNDED
from bot.views.inputs import (
    TextField,
    date_picker,
    input_block,
    number_input,
    static_select,
    text_input,
)
from core.formatting import format_credits, format_date, format_money
from core.models import PaymentMethod
from core.services.passes import MAX_ADJUSTMENT, REASON_MAX, PassRow, PassTypeOption

ASSIGN_CALLBACK = "assign_pass.submit"
ADJUST_CALLBACK = "pass_adjust.submit"
EXTEND_CALLBACK = "pass_extend.submit"
ASSIGN_PREFIX = "assign_pass"
TYPE_BLOCK = "pass_type_id"
TYPE_ACTION = "assign_pass.type"
VALID_FROM_BLOCK = "valid_from"
VALID_FROM_ACTION = "assign_pass.valid_from"
DELTA_BLOCK = "delta"
DELTA_ACTION = "pass_adjust.delta"
REASON_BLOCK = "reason"
REASON_ACTION = "pass_adjust.reason"
VALID_TO_BLOCK = "valid_to"
VALID_TO_ACTION = "pass_extend.valid_to"
REASON_FIELD = TextField(
    REASON_BLOCK,
    "Reason",
    REASON_ACTION,
    placeholder="e.g. Goodwill for the class we cancelled on 3 Mar",
    hint="Kept in the account history.",
    max_length=REASON_MAX,
)


def pass_type_option(kind: PassTypeOption) -> dict[str, Any]:
    """'10-class pass · 10 CR · 90 days · £90.00', value its id."""
    suffix = (
        f" · {format_credits(kind.credits)} · {kind.validity_days} days · "
        f"{format_money(kind.price_minor, kind.currency)}"
    )
    return named_option(kind.name, suffix, str(kind.id))


@dataclass(frozen=True)
class AssignPassForm:
    """Assign Pass as filled in so far."""

    kinds: list[PassTypeOption]
    kind: dict[str, Any] | None = None
    valid_from: date | None = None
    payment: PaymentForm = field(default_factory=PaymentForm)
    methods: tuple[Method, ...] = ("manual", "stripe")
    problem: str = ""


def assign_pass_form(meta: CommerceMeta, form: AssignPassForm, *, currency: str) -> dict[str, Any]:
    """Pass type, first day (blank: today) and payment; changing the payment redraws the form."""
    if not form.kinds:
        return nothing_to_offer("Assign Pass", "pass types to assign")
    blocks: list[Block] = [
        *problem_block(form.problem),
        context(f"Assigning a pass to *{escape(clip(meta.name, 200))}*."),
        input_block(
            TYPE_BLOCK,
            "Pass",
            static_select(
                TYPE_ACTION,
                [pass_type_option(k) for k in form.kinds],
                placeholder="Choose a pass type",
                chosen=form.kind,
            ),
        ),
        input_block(
            VALID_FROM_BLOCK,
            "First day",
            date_picker(VALID_FROM_ACTION, initial=form.valid_from, placeholder="Today"),
            hint="Blank starts it today; it lasts the pass type's days from then.",
            optional=True,
        ),
        *payment_blocks(
            ASSIGN_PREFIX,
            form.payment,
            PaymentOffer(form.methods, "Blank charges the pass type's price; 0 gives it free."),
            currency,
        ),
    ]
    return form_modal("Assign Pass", blocks, meta, callback_id=ASSIGN_CALLBACK, submit="Assign")


def pass_title(row: PassRow) -> str:
    """'10-class pass #12 (7 of 10 credits left, valid 2 Feb 2026 – 3 May 2026)'."""
    return (
        f"{row.name} #{row.id} ({row.credits_remaining} of {row.credits_total} credits left, "
        f"valid {format_date(row.valid_from)} – {format_date(row.valid_to)})"
    )


def assigned_notice(row: PassRow, name: str) -> str:
    """'Assigned 10-class pass #13 to Zoë Adams: 10 CR, valid … (£90.00, paid manually).'"""
    money = format_money(row.price_minor, row.currency)
    if row.payment_method is PaymentMethod.STRIPE:
        how = f"{money} paid through Stripe"
    else:
        how = f"{money}, paid manually" if row.price_minor else "free"
    return (
        f"Assigned {row.name} #{row.id} to {name}: {format_credits(row.credits_total)}, valid "
        f"{format_date(row.valid_from)} – {format_date(row.valid_to)} ({how})."
    )


def adjust_form(
    meta: CommerceMeta, row: PassRow, *, delta: str = "", reason: str = "", problem: str = ""
) -> dict[str, Any]:
    """Add or remove credits, with the reason the account history keeps."""
    blocks: list[Block] = [
        *problem_block(problem),
        section(f"*{escape(clip(pass_title(row), 600))}*"),
        input_block(
            DELTA_BLOCK,
            "Credits to add or remove",
            number_input(
                DELTA_ACTION,
                initial=delta,
                placeholder="e.g. 2, or -1",
                low=-MAX_ADJUSTMENT,
                high=MAX_ADJUSTMENT,
            ),
            hint="A positive number adds credits, a negative one removes them.",
        ),
        text_input(REASON_FIELD, reason),
    ]
    return form_modal(
        f"Adjust pass #{row.id}", blocks, meta, callback_id=ADJUST_CALLBACK, submit="Save"
    )


def adjusted_notice(row: PassRow) -> str:
    """'10-class pass #12 now has 9 of 12 credits left.'"""
    return (
        f"{row.name} #{row.id} now has {row.credits_remaining} of {row.credits_total} credits left."
    )


def extend_pass_form(
    meta: CommerceMeta, row: PassRow, *, valid_to: date | None = None, problem: str = ""
) -> dict[str, Any]:
    """A later last valid day."""
    blocks: list[Block] = [
        *problem_block(problem),
        section(f"*{escape(clip(pass_title(row), 600))}*"),
        input_block(
            VALID_TO_BLOCK,
            "Valid to",
            date_picker(VALID_TO_ACTION, initial=valid_to or row.valid_to, placeholder="Last day"),
            hint=f"Now valid to {format_date(row.valid_to)}; choose a later day.",
        ),
    ]
    return form_modal(
        f"Extend pass #{row.id}", blocks, meta, callback_id=EXTEND_CALLBACK, submit="Extend"
    )


def extended_notice(row: PassRow) -> str:
    """'10-class pass #12 is now valid to 1 Jun 2026.'"""
    return f"{row.name} #{row.id} is now valid to {format_date(row.valid_to)}."


def cancel_pass_confirmation(meta: CommerceMeta, row: PassRow) -> dict[str, Any]:
    """Cancel a pass? No more credits can be taken from it."""
    paid = STRIPE_NOT_REFUNDED if row.payment_method is PaymentMethod.STRIPE else ""
    return confirmation(
        meta,
        title="Cancel pass?",
        question=f"Cancel *{escape(clip(pass_title(row), 600))}*? No more credits can be taken "
        f"from it ({format_credits(row.credits_remaining)} unused); what it already paid for "
        "stays booked.",
        consequences=[paid],
        submit="Cancel pass",
    )
