"""The Appointments tab's commerce: Book Appointment, and an appointment's Reschedule and Cancel."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.deps import Deps, actor_of, deps_of
from bot.surfaces.commerce import (
    Done,
    Opening,
    Outcome,
    finish,
    payment_methods,
    redraw_form,
    refusal,
    refuse_now,
    row_of,
)
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
    BookAppointmentForm,
    RescheduleForm,
    book_appointment_form,
    booked_notice,
    cancel_appointment_confirmation,
    reschedule_form,
    rescheduled_notice,
)
from bot.views.commerce.form_state import (
    INTENT_BLOCK,
    CommerceMeta,
    FormValues,
    Method,
    PaymentForm,
)
from bot.views.commerce.payment import payment_choice
from bot.views.origin import Tab
from core.actor import Actor
from core.db import UnitOfWork
from core.errors import DomainError
from core.services import appointments
from core.services.appointments import AppointmentRow
from core.services.passes import usable_passes_on


def _methods(deps: Deps) -> tuple[Method, ...]:
    return payment_methods(deps, "manual", "package", "stripe")


def _appointment(uow: UnitOfWork, actor: Actor, uid: str, appointment_id: int) -> AppointmentRow:
    page = appointments.list_appointments(uow, actor, uid, query=f"#{appointment_id}", page_size=1)
    return row_of(page, "Appointment", appointment_id)


def _book_form(
    deps: Deps, actor: Actor, meta: CommerceMeta, values: FormValues, problem: str = ""
) -> dict[str, Any]:
    """The form as filled in: the chosen service's facilitators, and passes that can pay."""
    payment = PaymentForm.read(values, _methods(deps))
    service_id, day = values.row_id(SERVICE_BLOCK), values.day(DAY_BLOCK)
    with deps.db.unit_of_work(readonly=True) as uow:
        services = appointments.service_options(uow, actor)
        service = next((s for s in services if s.id == service_id), None)
        facilitators = None
        passes = None
        if service is not None:
            facilitators = appointments.facilitators_for(uow, actor, service.id)
            if payment.method == "package" and day is not None:
                passes = usable_passes_on(uow, actor, meta.details.uid, day, service.credit_price)
        now = uow.now()
    return book_appointment_form(
        meta,
        BookAppointmentForm(
            services=services,
            service=values.option(SERVICE_BLOCK) if service is not None else None,
            facilitators=facilitators,
            facilitator=values.option(FACILITATOR_BLOCK),
            day=day,
            at=values.clock_time(TIME_BLOCK),
            payment=payment,
            methods=_methods(deps),
            passes=passes,
            problem=problem,
        ),
        currency=deps.settings.currency,
        timezone=deps.settings.business_timezone,
        now=now,
    )


def open_book_appointment(opening: Opening) -> None:
    """Book Appointment: the form, empty."""
    customer = opening.customer_for("booking an appointment")
    if customer is None:
        return
    meta = opening.meta(name=customer.full_name)
    opening.push(_book_form(opening.deps, opening.actor, meta, FormValues()))


def _reschedule_form(
    deps: Deps, actor: Actor, meta: CommerceMeta, values: FormValues, problem: str = ""
) -> dict[str, Any]:
    assert meta.row_id is not None
    with deps.db.unit_of_work(readonly=True) as uow:
        row = _appointment(uow, actor, meta.details.uid, meta.row_id)
        now = uow.now()
    return reschedule_form(
        meta,
        row,
        RescheduleForm(
            day=values.day(DAY_BLOCK), at=values.clock_time(TIME_BLOCK), problem=problem
        ),
        timezone=deps.settings.business_timezone,
        now=now,
    )


def _open_reschedule(opening: Opening, appointment_id: int) -> None:
    meta = opening.meta(row_id=appointment_id)
    try:
        form = _reschedule_form(opening.deps, opening.actor, meta, FormValues())
    except DomainError as exc:
        opening.tell(exc.message)
        return
    opening.push(form)


def _open_cancel(opening: Opening, appointment_id: int) -> None:
    uid = opening.details.uid
    row = opening.read(lambda uow, actor: _appointment(uow, actor, uid, appointment_id))
    if row is not None:
        meta = opening.meta(row_id=row.id, tab=Tab.APPOINTMENTS, verb="cancel")
        timezone = opening.deps.settings.business_timezone
        opening.push(cancel_appointment_confirmation(meta, row, timezone))


def _cancel(deps: Deps, actor: Actor, appointment_id: int, uid: str) -> str:
    with deps.db.unit_of_work() as uow:
        row = appointments.cancel_appointment(uow, actor, appointment_id, uid=uid)
    return f"Cancelled appointment #{row.id} ({row.service_name} with {row.facilitator_name})."


ROW_ACTIONS = {
    (Tab.APPOINTMENTS, "reschedule"): _open_reschedule,
    (Tab.APPOINTMENTS, "cancel"): _open_cancel,
}
CONFIRMED = {(Tab.APPOINTMENTS, "cancel"): _cancel}


def _when(values: FormValues, errors: dict[str, str]) -> datetime | None:
    """The picked day and time as a naive business-time datetime; problems go into `errors`."""
    day, at = values.day(DAY_BLOCK), values.clock_time(TIME_BLOCK)
    if day is None:
        errors[DAY_BLOCK] = "Choose the day."
    if at is None:
        errors[TIME_BLOCK] = "Choose the time."
    return datetime.combine(day, at) if day is not None and at is not None else None


def register(app: App) -> None:
    """Wire the booking form (and its redraws) and the Reschedule form."""

    changes = (SERVICE_ACTION, BOOK_DAY_ACTION, f"{BOOK_PREFIX}.payment")

    @app.action(re.compile("^(" + "|".join(map(re.escape, changes)) + ")$"))
    def on_change(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        deps, actor = deps_of(context), actor_of(context)
        redraw_form(body, client, lambda meta, values: _book_form(deps, actor, meta, values))

    @app.view(BOOK_CALLBACK)
    def on_book(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        meta = CommerceMeta.parse(view.get("private_metadata"))
        if meta is None:
            ack()
            return
        deps, actor = deps_of(context), actor_of(context)
        values = FormValues.of(view)
        form = PaymentForm.read(values, _methods(deps))
        payment, errors = payment_choice(form, deps.settings.currency)
        service_id, facilitator_id = values.row_id(SERVICE_BLOCK), values.row_id(FACILITATOR_BLOCK)
        if service_id is None:
            errors[SERVICE_BLOCK] = "Choose the service."
        elif facilitator_id is None:
            errors[FACILITATOR_BLOCK] = "Choose who gives it."
        starts = _when(values, errors)

        def redraw(problem: str) -> dict[str, Any]:
            return _book_form(deps, actor, meta, values, problem)

        if payment is None or service_id is None or facilitator_id is None or starts is None:
            refuse_now(ack, view, errors, redraw)
            return
        service, facilitator, local, paid = service_id, facilitator_id, starts, payment
        timezone = deps.settings.business_timezone

        def work() -> Outcome:
            try:
                with deps.db.unit_of_work() as uow:
                    row = appointments.book_appointment(
                        uow,
                        actor,
                        meta.details.uid,
                        service,
                        facilitator,
                        local,
                        paid,
                        gateway=deps.gateway,
                    )
            except DomainError as exc:
                # Clashes and past times are about the time; so is anything without a field.
                return refusal(view, exc, fallback=TIME_BLOCK, payment_block=INTENT_BLOCK)
            return Done(booked_notice(row, meta.name, form, timezone), Tab.APPOINTMENTS)

        finish(ack, client, deps, actor, view, meta, work, redraw)

    @app.view(RESCHEDULE_CALLBACK)
    def on_reschedule(
        ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient
    ) -> None:
        meta = CommerceMeta.parse(view.get("private_metadata"))
        if meta is None or meta.row_id is None:
            ack()
            return
        deps, actor = deps_of(context), actor_of(context)
        values = FormValues.of(view)
        errors: dict[str, str] = {}
        starts = _when(values, errors)

        def redraw(problem: str) -> dict[str, Any]:
            return _reschedule_form(deps, actor, meta, values, problem)

        if starts is None:
            refuse_now(ack, view, errors, redraw)
            return
        appointment_id, local = meta.row_id, starts
        timezone = deps.settings.business_timezone

        def work() -> Outcome:
            try:
                with deps.db.unit_of_work() as uow:
                    row = appointments.reschedule_appointment(
                        uow, actor, appointment_id, local, uid=meta.details.uid
                    )
            except DomainError as exc:
                return refusal(view, exc, fallback=TIME_BLOCK)
            return Done(rescheduled_notice(row, timezone))

        finish(ack, client, deps, actor, view, meta, work, redraw)
