"""Book Appointment, and an appointment's Reschedule and Cancel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.views.blocks import Block, clip, context, escape, form_modal, named_option, option, section
from bot.views.commerce.form_state import CommerceMeta, Method, PaymentForm
from bot.views.commerce.modals import confirmation, nothing_to_offer, problem_block
from bot.views.commerce.payment import PaymentOffer, payment_blocks
from bot.views.commerce.payment_text import STRIPE_NOT_REFUNDED, cancelled_payment, how_paid
from bot.views.household import paid_by
from bot.views.inputs import date_picker, input_block, static_select, time_picker
from core.formatting import format_credits, format_duration, format_money, format_when
from core.services.appointments import AppointmentRow, FacilitatorOption, ServiceOption
from core.services.passes import PassRow

BOOK_CALLBACK = "book_appointment.submit"
RESCHEDULE_CALLBACK = "appointment_reschedule.submit"
BOOK_PREFIX = "book_appointment"
SERVICE_BLOCK = "service_id"
SERVICE_ACTION = "book_appointment.service"
FACILITATOR_BLOCK = "facilitator_id"
DAY_BLOCK = "day"
TIME_BLOCK = "starts_at"
BOOK_DAY_ACTION = "book_appointment.day"
BOOK_TIME_ACTION = "book_appointment.time"
RESCHEDULE_DAY_ACTION = "appointment_reschedule.day"
RESCHEDULE_TIME_ACTION = "appointment_reschedule.time"


def service_option(s: ServiceOption) -> dict[str, Any]:
    """'Sports massage · 45 min · £40.00 or 3 CR', value its id."""
    suffix = (
        f" · {format_duration(s.duration_minutes)} · {format_money(s.price_minor, s.currency)}"
        f" or {format_credits(s.credit_price)}"
    )
    return named_option(s.name, suffix, str(s.id))


@dataclass(frozen=True)
class BookAppointmentForm:
    """Book Appointment as filled in so far, with what the choices made offer."""

    services: list[ServiceOption]
    service: dict[str, Any] | None = None
    # None until a service is chosen; then the facilitators who give it.
    facilitators: list[FacilitatorOption] | None = None
    facilitator: dict[str, Any] | None = None
    day: date | None = None
    at: time | None = None
    payment: PaymentForm = field(default_factory=PaymentForm)
    methods: tuple[Method, ...] = ("manual", "package", "stripe")
    # The passes that can pay for the chosen service on the chosen day.
    passes: list[PassRow] | None = None
    problem: str = ""

    @property
    def service_id(self) -> str:
        """The chosen service's id as its option carries it ('' when none)."""
        return str((self.service or {}).get("value") or "")


@dataclass(frozen=True)
class RescheduleForm:
    """Reschedule as filled in so far; a day or time not chosen yet is the appointment's own."""

    day: date | None = None
    at: time | None = None
    problem: str = ""


def _zone_note(timezone: str, now: datetime) -> str:
    return f"{timezone} time ({now.astimezone(ZoneInfo(timezone)).tzname()} now)"


def _day_block(action_id: str, day: date | None, *, dispatch: bool) -> Block:
    return input_block(
        DAY_BLOCK,
        "Day",
        date_picker(action_id, initial=day, placeholder="Choose a day"),
        dispatch=dispatch,
    )


def _time_block(action_id: str, at: time | None, *, timezone: str, now: datetime) -> Block:
    return input_block(
        TIME_BLOCK,
        "Starts at",
        time_picker(action_id, timezone=timezone, initial=at, placeholder="Choose a time"),
        hint=f"In the business's {_zone_note(timezone, now)}.",
    )


def _service_block(form: BookAppointmentForm) -> Block:
    return input_block(
        SERVICE_BLOCK,
        "Service",
        static_select(
            SERVICE_ACTION,
            [service_option(s) for s in form.services],
            placeholder="Choose a service",
            chosen=form.service,
        ),
        dispatch=True,
    )


def _facilitator_block(form: BookAppointmentForm) -> Block:
    facilitators = form.facilitators
    if facilitators is None:
        return context("Choose the service first; the facilitators who give it appear here.")
    if not facilitators:
        return context(":information_source: Nobody gives this service yet; choose another.")
    only = option(facilitators[0].name, str(facilitators[0].id))
    return input_block(
        FACILITATOR_BLOCK,
        "Facilitator",
        # The action_id names the service, so a facilitator chosen for another is dropped.
        static_select(
            f"{BOOK_PREFIX}.facilitator_{form.service_id}",
            [option(f.name, str(f.id)) for f in facilitators],
            placeholder="Choose who gives it",
            chosen=form.facilitator or (only if len(facilitators) == 1 else None),
        ),
    )


def _payment_offer(form: BookAppointmentForm, name: str) -> PaymentOffer:
    chosen = form.service is not None and form.day is not None
    if not chosen:
        no_passes = "Choose the service and the day first; the passes that can pay appear here."
    else:
        no_passes = (
            f"{name} has no pass that can pay for this (valid on that day, with enough credits "
            "left). Assign one on the Passes tab, or choose another payment."
        )
    return PaymentOffer(
        form.methods,
        "Blank charges the service's price; 0 books it free.",
        passes=form.passes if chosen else None,
        passes_for=f"{form.service_id}_{form.day.isoformat() if form.day else ''}",
        no_passes=no_passes,
    )


def book_appointment_form(
    meta: CommerceMeta, form: BookAppointmentForm, *, currency: str, timezone: str, now: datetime
) -> dict[str, Any]:
    """Service, one of the facilitators who give it, day and time, and payment.

    Choosing the service, the day or the payment redraws it (facilitators and passes depend on them)."""
    if not form.services:
        return nothing_to_offer("Book Appointment", "appointment services to book")
    name = escape(clip(meta.name, 200))
    blocks: list[Block] = [
        *problem_block(form.problem),
        context(
            f"Booking an appointment for *{name}*.{paid_by(meta.payer)} Its length comes from "
            "the service."
        ),
        _service_block(form),
        _facilitator_block(form),
        _day_block(BOOK_DAY_ACTION, form.day, dispatch=True),
        _time_block(BOOK_TIME_ACTION, form.at, timezone=timezone, now=now),
        *payment_blocks(BOOK_PREFIX, form.payment, _payment_offer(form, name), currency),
    ]
    return form_modal("Book Appointment", blocks, meta, callback_id=BOOK_CALLBACK, submit="Book")


def appointment_title(row: AppointmentRow, timezone: str) -> str:
    """'Appointment #5: Sports massage with Alex Kim on 16 Mar 2026, 10:00 GMT for 45 min'."""
    return (
        f"Appointment #{row.id}: {row.service_name} with {row.facilitator_name} on "
        f"{format_when(row.starts_at, timezone)} for {format_duration(row.duration_minutes)}"
    )


def booked_notice(row: AppointmentRow, name: str, payment: PaymentForm, timezone: str) -> str:
    """'Booked Sports massage with Alex Kim on … for Zoë Adams (£40.00, paid manually).'"""
    return (
        f"Booked {row.service_name} with {row.facilitator_name} on "
        f"{format_when(row.starts_at, timezone)} for {name} ({how_paid(row, payment)}), "
        f"appointment #{row.id}."
    )


def reschedule_form(
    meta: CommerceMeta, row: AppointmentRow, form: RescheduleForm, *, timezone: str, now: datetime
) -> dict[str, Any]:
    """A new day and time for the appointment, with the same facilitator; its current ones preset."""
    local = row.starts_at.astimezone(ZoneInfo(timezone))
    blocks: list[Block] = [
        *problem_block(form.problem),
        section(f"*{escape(clip(appointment_title(row, timezone), 600))}*"),
        _day_block(RESCHEDULE_DAY_ACTION, form.day or local.date(), dispatch=False),
        _time_block(RESCHEDULE_TIME_ACTION, form.at or local.time(), timezone=timezone, now=now),
    ]
    return form_modal(
        f"Reschedule #{row.id}", blocks, meta, callback_id=RESCHEDULE_CALLBACK, submit="Reschedule"
    )


def rescheduled_notice(row: AppointmentRow, timezone: str) -> str:
    """'Moved appointment #5 to 20 Mar 2026, 11:00 GMT (Sports massage with Alex Kim).'"""
    return (
        f"Moved appointment #{row.id} to {format_when(row.starts_at, timezone)} "
        f"({row.service_name} with {row.facilitator_name})."
    )


def cancel_appointment_confirmation(
    meta: CommerceMeta, row: AppointmentRow, timezone: str
) -> dict[str, Any]:
    """Cancel an appointment? Says what happens to its payment."""
    return confirmation(
        meta,
        title="Cancel appointment?",
        question=f"Cancel *{escape(clip(appointment_title(row, timezone), 600))}*? "
        "The facilitator's time is freed.",
        consequences=[cancelled_payment(row, stripe=STRIPE_NOT_REFUNDED)],
        submit="Cancel appointment",
    )
