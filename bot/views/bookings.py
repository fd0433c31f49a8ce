"""Book an Event, and a booking's Transfer, Refund and Cancel."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.views.blocks import Block, clip, context, escape, fields, form_modal, named_option, section
from bot.views.commerce.form_state import CommerceMeta, Method, PaymentForm
from bot.views.commerce.modals import confirmation, nothing_to_offer, problem_block
from bot.views.commerce.parsing import MONEY_MAX_CHARS, money_text
from bot.views.commerce.payment import PaymentOffer, payment_blocks
from bot.views.commerce.payment_text import cancelled_payment, how_paid
from bot.views.household import paid_by
from bot.views.inputs import TextField, external_select, input_block, static_select, text_input
from core.formatting import counted, format_credits, format_money, format_price, format_when
from core.models import PaymentMethod
from core.services.bookings import BookingRow, OccurrenceOption
from core.services.passes import PassRow

BOOK_CALLBACK = "book_event.submit"
TRANSFER_CALLBACK = "booking_transfer.submit"
REFUND_CALLBACK = "booking_refund.submit"
BOOK_PREFIX = "book_event"
# Both the booking form's and the transfer form's session pickers search the same way.
BOOK_OCCURRENCE_ACTION = "book_event.occurrence"
TRANSFER_OCCURRENCE_ACTION = "booking_transfer.occurrence"
OCCURRENCE_ACTIONS = (BOOK_OCCURRENCE_ACTION, TRANSFER_OCCURRENCE_ACTION)
OCCURRENCE_BLOCK = "occurrence_id"
AMOUNT_BLOCK = "amount"
AMOUNT_ACTION = "booking_refund.amount"
MAX_SUGGESTIONS = 50
# Up to this many sessions to come are listed in a static select, which Slack filters as you
# type on any part of the label (name, day, time); beyond it the picker asks the app instead.
SESSION_LIST_MAX = 99


def occurrence_option(o: OccurrenceOption) -> dict[str, Any]:
    """'Morning Yoga · 16 Mar 2026, 07:00 GMT · 4 places left · £12.00', value its id."""
    places = counted(o.places_left, "place", "places")
    left = "full" if o.places_left <= 0 else f"{places} left"
    suffix = (
        f" · {format_when(o.starts_at, o.timezone)} · {left} · "
        f"{format_money(o.price_minor, o.currency)}"
    )
    return named_option(o.event_name, suffix, str(o.id))


def occurrence_options(found: list[OccurrenceOption]) -> list[dict[str, Any]]:
    """The session picker's suggestions for what was typed, soonest first."""
    return [occurrence_option(o) for o in found[:MAX_SUGGESTIONS]]


def _occurrence_select(
    action_id: str, sessions: list[OccurrenceOption] | None, chosen: dict[str, Any] | None
) -> dict[str, Any]:
    """The sessions to come as a list, or (`sessions` None: too many) searched by event name."""
    if sessions is not None:
        return static_select(
            action_id,
            occurrence_options(sessions),
            placeholder="Choose or type to filter",
            chosen=chosen,
        )
    # Zero: the soonest sessions show as soon as the menu opens.
    return external_select(
        action_id, placeholder="Type an event name", min_query_length=0, chosen=chosen
    )


def _search_hint(sessions: list[OccurrenceOption] | None) -> str:
    if sessions is None:
        return "Type part of the event's name to find its sessions."
    return "Type part of the event's name, or the day, to narrow the list."


@dataclass(frozen=True)
class BookEventForm:
    """Book an Event as filled in so far, with what the chosen session offers."""

    # None: too many sessions to come to list, so the picker searches them by event name.
    sessions: list[OccurrenceOption] | None
    occurrence: dict[str, Any] | None = None
    payment: PaymentForm = field(default_factory=PaymentForm)
    methods: tuple[Method, ...] = ("manual", "package", "stripe")
    # The passes that can pay for the chosen session.
    passes: list[PassRow] | None = None
    problem: str = ""


def _payment_offer(form: BookEventForm, name: str) -> PaymentOffer:
    if form.occurrence is None:
        no_passes = "Choose the session first; the passes that can pay for it appear here."
    else:
        no_passes = (
            f"{name} has no pass that can pay for this session (valid on its day, with enough "
            "credits left). Assign one on the Passes tab, or choose another payment."
        )
    return PaymentOffer(
        form.methods,
        "Blank charges the session's price; 0 books it free.",
        passes=form.passes if form.occurrence is not None else None,
        passes_for=str((form.occurrence or {}).get("value") or ""),
        no_passes=no_passes,
    )


def book_event_form(meta: CommerceMeta, form: BookEventForm, *, currency: str) -> dict[str, Any]:
    """Pick a session, then the payment; choosing either redraws the form."""
    if form.sessions is not None and not form.sessions:
        return nothing_to_offer("Book an Event", "sessions to come to book")
    name = escape(clip(meta.name, 200))
    blocks: list[Block] = [
        *problem_block(form.problem),
        context(
            f"Booking for *{name}*.{paid_by(meta.payer)} Sessions still to come are listed "
            "soonest first."
        ),
        input_block(
            OCCURRENCE_BLOCK,
            "Session",
            _occurrence_select(BOOK_OCCURRENCE_ACTION, form.sessions, form.occurrence),
            hint=_search_hint(form.sessions),
            dispatch=True,
        ),
        *payment_blocks(BOOK_PREFIX, form.payment, _payment_offer(form, name), currency),
    ]
    return form_modal("Book an Event", blocks, meta, callback_id=BOOK_CALLBACK, submit="Book")


def _paid(row: BookingRow) -> str:
    """'paid with 1 CR', '£12.00, paid manually', 'free', '£12.00 through Stripe'."""
    if row.payment_method is PaymentMethod.PACKAGE:
        return f"paid with {format_credits(row.credits or 0)}"
    money = format_money(row.price_minor or 0, row.currency)
    if row.payment_method is PaymentMethod.STRIPE:
        return f"{money} through Stripe"
    if row.payment_method is PaymentMethod.UNPAID:
        return f"{money}, unpaid"
    return f"{money}, paid manually" if row.price_minor else "free"


def booking_title(row: BookingRow) -> str:
    """'Booking #12: Morning Yoga on 16 Mar 2026, 07:00 GMT'."""
    when = format_when(row.starts_at, row.timezone)
    return f"Booking #{row.id}: {row.event_name} on {when}"


def booked_notice(row: BookingRow, name: str, payment: PaymentForm) -> str:
    """'Booked Morning Yoga on 16 Mar 2026, 07:00 GMT for Zoë Adams (1 CR from 10-class pass #12).'"""
    when = format_when(row.starts_at, row.timezone)
    how = how_paid(row, payment)
    return f"Booked {row.event_name} on {when} for {name} ({how}), booking #{row.id}."


def transfer_form(
    meta: CommerceMeta,
    row: BookingRow,
    *,
    sessions: list[OccurrenceOption] | None,
    chosen: dict[str, Any] | None = None,
    problem: str = "",
) -> dict[str, Any]:
    """Move a booking to another session; its payment moves with it."""
    hint = "Its payment moves with it."
    if row.payment_method is PaymentMethod.PACKAGE:
        hint += " The credit stays taken, so its pass must be valid on the new day."
    blocks: list[Block] = [
        *problem_block(problem),
        section(f"*{escape(clip(booking_title(row), 400))}* ({escape(_paid(row))})"),
        input_block(
            OCCURRENCE_BLOCK,
            "Move it to",
            _occurrence_select(TRANSFER_OCCURRENCE_ACTION, sessions, chosen),
            hint=f"{_search_hint(sessions)} {hint}",
        ),
    ]
    return form_modal(
        f"Transfer #{row.id}", blocks, meta, callback_id=TRANSFER_CALLBACK, submit="Transfer"
    )


def transferred_notice(row: BookingRow) -> str:
    """'Moved booking #12 to Morning Yoga on 18 Mar 2026, 07:00 GMT.'"""
    return f"Moved booking #{row.id} to {row.event_name} on {format_when(row.starts_at, row.timezone)}."


def refund_form(
    meta: CommerceMeta, row: BookingRow, *, amount: str | None = None, problem: str = ""
) -> dict[str, Any]:
    """How much of a Stripe payment to give back: all that is left unless changed."""
    price = row.price_minor or 0
    remaining = max(0, price - row.refunded_minor)

    def money(minor: int) -> str:
        return format_money(minor, row.currency)

    amount_field = TextField(
        AMOUNT_BLOCK,
        "Amount to refund",
        AMOUNT_ACTION,
        hint=f"Up to {money(remaining)}. The money goes back to the customer's card through "
        "Stripe; this cannot be undone.",
        max_length=MONEY_MAX_CHARS,
    )
    blocks: list[Block] = [
        *problem_block(problem),
        section(f"*{escape(clip(booking_title(row), 400))}*"),
        fields(
            [
                (
                    "Paid through Stripe",
                    f"{money(price)} · {escape(row.stripe_payment_intent_id or '')}",
                ),
                ("Refunded so far", money(row.refunded_minor)),
                ("Can still be refunded", money(remaining)),
            ]
        ),
        text_input(amount_field, money_text(remaining, row.currency) if amount is None else amount),
    ]
    return form_modal(
        f"Refund booking #{row.id}", blocks, meta, callback_id=REFUND_CALLBACK, submit="Refund"
    )


def cancel_booking_confirmation(meta: CommerceMeta, row: BookingRow) -> dict[str, Any]:
    """Cancel a booking? Says what happens to its payment."""
    price = format_price(row.price_minor, row.credits, row.currency)
    kept = format_money((row.price_minor or 0) - row.refunded_minor, row.currency)
    stripe = (
        f"The Stripe payment ({kept} not refunded) is *not* refunded by cancelling; "
        "an admin can refund it with *Refund*."
    )
    return confirmation(
        meta,
        title="Cancel booking?",
        question=f"Cancel booking #{row.id}, *{escape(clip(row.event_name, 200))}* on "
        f"{format_when(row.starts_at, row.timezone)} ({escape(price)})? Its place is freed "
        "for someone else.",
        consequences=[cancelled_payment(row, stripe=stripe)],
        submit="Cancel booking",
    )
