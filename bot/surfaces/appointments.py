"""The Appointments tab's forms over a customer's details: Book Appointment, Reschedule, Cancel."""

from __future__ import annotations

from typing import Any

from bot.context.request import Request
from bot.surfaces.commerce import Opening, payment_methods, row_of
from bot.surfaces.payment_links import send_link_action
from bot.views.appointments import (
    DAY_BLOCK,
    FACILITATOR_BLOCK,
    SERVICE_BLOCK,
    TIME_BLOCK,
    BookAppointmentForm,
    RescheduleForm,
    book_appointment_form,
    cancel_appointment_confirmation,
    reschedule_form,
)
from bot.views.commerce.form_state import CommerceMeta, FormValues, Method, PaymentForm
from bot.views.origin import Tab
from core.actor import Actor
from core.db import UnitOfWork
from core.services import appointments
from core.services.appointments import AppointmentRow
from core.services.passes import usable_passes_on


def methods(request: Request, meta: CommerceMeta) -> tuple[Method, ...]:
    """How an appointment can be paid here."""
    return payment_methods(request, meta, "manual", "package", "stripe", "link")


def appointment(uow: UnitOfWork, actor: Actor, uid: str, appointment_id: int) -> AppointmentRow:
    """Appointment `appointment_id` of customer `uid`, as its tab shows it."""
    page = appointments.list_appointments(uow, actor, uid, query=f"#{appointment_id}", page_size=1)
    return row_of(page, "Appointment", appointment_id)


def book_form(
    request: Request, meta: CommerceMeta, values: FormValues, problem: str = ""
) -> dict[str, Any]:
    """The form as filled in: the chosen service's facilitators, and passes that can pay."""
    payment = PaymentForm.read(values, methods(request, meta))
    service_id, day = values.row_id(SERVICE_BLOCK), values.day(DAY_BLOCK)
    actor = request.actor
    with request.deps.db.unit_of_work(readonly=True) as uow:
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
            methods=methods(request, meta),
            passes=passes,
            problem=problem,
        ),
        currency=request.currency,
        timezone=request.timezone,
        now=now,
    )


def reschedule(
    request: Request, meta: CommerceMeta, values: FormValues, problem: str = ""
) -> dict[str, Any]:
    """The Reschedule form for the appointment in `meta`, as filled in."""
    assert meta.row_id is not None
    with request.deps.db.unit_of_work(readonly=True) as uow:
        row = appointment(uow, request.actor, meta.details.uid, meta.row_id)
        now = uow.now()
    return reschedule_form(
        meta,
        row,
        RescheduleForm(
            day=values.day(DAY_BLOCK), at=values.clock_time(TIME_BLOCK), problem=problem
        ),
        timezone=request.timezone,
        now=now,
    )


def _open_reschedule(opening: Opening, appointment_id: int) -> None:
    opening.open_row_form(appointment_id, reschedule)


def _open_cancel(opening: Opening, appointment_id: int) -> None:
    uid = opening.details.uid
    row = opening.read(lambda uow, actor: appointment(uow, actor, uid, appointment_id))
    if row is not None:
        meta = opening.meta(row_id=row.id, tab=Tab.APPOINTMENTS, verb="cancel")
        opening.push(cancel_appointment_confirmation(meta, row, opening.request.timezone))


def _cancel(request: Request, appointment_id: int, uid: str) -> str:
    row = request.write(
        lambda uow, actor: appointments.cancel_appointment(uow, actor, appointment_id, uid=uid)
    )
    return f"Cancelled appointment #{row.id} ({row.service_name} with {row.facilitator_name})."


ROW_ACTIONS = {
    (Tab.APPOINTMENTS, "link"): send_link_action("appointment"),
    (Tab.APPOINTMENTS, "reschedule"): _open_reschedule,
    (Tab.APPOINTMENTS, "cancel"): _open_cancel,
}
CONFIRMED = {(Tab.APPOINTMENTS, "cancel"): _cancel}
