"""A customer's appointments (the Appointments tab)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from core.actor import Actor
from core.db import UnitOfWork
from core.models import (
    Appointment,
    AppointmentService,
    AppointmentState,
    Facilitator,
    PaymentMethod,
)
from core.services.paging import Page, fetch_page
from core.services.tabs import NamedCatalog, tab_scope

_SERVICES = NamedCatalog(AppointmentService.id, AppointmentService.name, AppointmentService.team_id)
_FACILITATORS = NamedCatalog(Facilitator.id, Facilitator.name, Facilitator.team_id)


@dataclass(frozen=True)
class AppointmentRow:
    """One appointment as the tab shows it."""

    id: int
    booked_at: datetime
    service_name: str
    facilitator_name: str
    starts_at: datetime
    duration_minutes: int
    price_minor: int | None
    credits: int | None
    currency: str
    payment_method: PaymentMethod
    state: AppointmentState


def list_appointments(
    uow: UnitOfWork, actor: Actor, uid: str, *, query: str = "", page: int = 1, page_size: int = 10
) -> Page[AppointmentRow]:
    """One page of customer `uid`'s appointments, newest first; `query`: service, facilitator or '#id'."""
    scope = tab_scope(uow, actor, uid, query, [_SERVICES, _FACILITATORS])
    statement = (
        select(
            Appointment,
            AppointmentService.name.label("service_name"),
            Facilitator.name.label("facilitator_name"),
        )
        .join(AppointmentService, AppointmentService.id == Appointment.service_id)
        .join(Facilitator, Facilitator.id == Appointment.facilitator_id)
        .where(
            Appointment.team_id == actor.team_id,
            Appointment.customer_id == scope.customer_id,
            scope.condition(Appointment.id, [Appointment.service_id, Appointment.facilitator_id]),
        )
        .order_by(Appointment.booked_at.desc(), Appointment.id.desc())
    )
    rows, total, page, page_size = fetch_page(uow, statement, page=page, page_size=page_size)
    return Page(
        [
            AppointmentRow(
                id=a.id,
                booked_at=a.booked_at,
                service_name=service_name,
                facilitator_name=facilitator_name,
                starts_at=a.starts_at,
                duration_minutes=a.duration_minutes,
                price_minor=a.price_minor,
                credits=a.credits,
                currency=a.currency,
                payment_method=a.payment_method,
                state=a.state,
            )
            for a, service_name, facilitator_name in rows
        ],
        total,
        page,
        page_size,
    )
