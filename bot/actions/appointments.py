"""The Appointments tab's listeners: the Book Appointment form (and its redraws), Reschedule."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.surfaces import appointments as surface
from bot.surfaces.commerce import Change, Done, commerce_form, redraws
from bot.surfaces.payment_links import finish_with_link
from bot.views.appointments import (
    BOOK_CALLBACK,
    BOOK_DAY_ACTION,
    BOOK_PREFIX,
    DAY_BLOCK,
    FACILITATOR_BLOCK,
    RESCHEDULE_CALLBACK,
    SERVICE_ACTION,
    SERVICE_BLOCK,
    TIME_BLOCK,
    booked_notice,
    rescheduled_notice,
)
from bot.views.commerce.form_state import INTENT_BLOCK, FormValues, PaymentForm
from bot.views.commerce.payment import payment_choice
from bot.views.origin import Tab
from core.actor import Actor
from core.db import UnitOfWork
from core.services import appointments
from core.services.checkout import LinkPayment

CHANGES = (SERVICE_ACTION, BOOK_DAY_ACTION, f"{BOOK_PREFIX}.payment")


on_change = redraws(surface.book_form)


def _when(values: FormValues, errors: dict[str, str]) -> datetime | None:
    """The picked day and time as a naive business-time datetime; problems go into `errors`."""
    day, at = values.day(DAY_BLOCK), values.clock_time(TIME_BLOCK)
    if day is None:
        errors[DAY_BLOCK] = "Choose the day."
    if at is None:
        errors[TIME_BLOCK] = "Choose the time."
    return datetime.combine(day, at) if day is not None and at is not None else None


def on_book(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Book Appointment submitted: book it, or say what to fix."""
    form = commerce_form(ack, view, context, client, surface.book_form)
    if form is None:
        return
    meta, values, request = form.meta, form.values, form.request
    filled = PaymentForm.read(values, surface.methods(request, meta))
    payment, errors = payment_choice(filled, request.currency)
    service_id, facilitator_id = values.row_id(SERVICE_BLOCK), values.row_id(FACILITATOR_BLOCK)
    if service_id is None:
        errors[SERVICE_BLOCK] = "Choose the service."
    elif facilitator_id is None:
        errors[FACILITATOR_BLOCK] = "Choose who gives it."
    starts = _when(values, errors)
    if payment is None or service_id is None or facilitator_id is None or starts is None:
        form.refuse(errors)
        return
    service, facilitator, local, paid = service_id, facilitator_id, starts, payment
    uid = meta.details.uid
    if isinstance(paid, LinkPayment):
        finish_with_link(
            form,
            "appointment",
            lambda uow, actor: (
                appointments.book_appointment(uow, actor, uid, service, facilitator, local, paid).id
            ),
            TIME_BLOCK,
            Tab.APPOINTMENTS,
        )
        return

    def book(uow: UnitOfWork, actor: Actor) -> Done:
        row = appointments.book_appointment(
            uow,
            actor,
            uid,
            service,
            facilitator,
            local,
            paid,
            gateway=request.gateway,
        )
        notice = booked_notice(row, meta.name, filled, request.timezone)
        return Done(notice, Tab.APPOINTMENTS)

    # Clashes and past times are about the time; so is anything without a field.
    form.finish(Change(book, TIME_BLOCK, INTENT_BLOCK))


def on_reschedule(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Reschedule submitted: move the appointment, or say what to fix."""
    form = commerce_form(ack, view, context, client, surface.reschedule, row=True)
    if form is None:
        return
    errors: dict[str, str] = {}
    starts = _when(form.values, errors)
    if starts is None:
        form.refuse(errors)
        return
    local, appointment_id = starts, form.row_id
    timezone, uid = form.request.timezone, form.meta.details.uid

    def move(uow: UnitOfWork, actor: Actor) -> Done:
        row = appointments.reschedule_appointment(uow, actor, appointment_id, local, uid=uid)
        return Done(rescheduled_notice(row, timezone))

    form.finish(Change(move, TIME_BLOCK))


def register(app: App) -> None:
    """Wire the booking form (and its redraws) and the Reschedule form."""
    app.action(re.compile("^(" + "|".join(map(re.escape, CHANGES)) + ")$"))(on_change)
    app.view(BOOK_CALLBACK)(on_book)
    app.view(RESCHEDULE_CALLBACK)(on_reschedule)
