"""A customer's appointments (the Appointments tab): booking, rescheduling, cancelling one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from core.actor import Actor
from core.adapters.payments import PaymentGateway
from core.db import UnitOfWork
from core.errors import DomainError, NotFound, ValidationFailed
from core.formatting import format_duration, format_when
from core.models import (
    Appointment,
    AppointmentService,
    AppointmentState,
    Attendance,
    CreditRule,
    Customer,
    Facilitator,
    Pass,
    PaymentMethod,
    RefundState,
    facilitator_services,
)
from core.services import history
from core.services.attendance import said
from core.services.checkout import (
    PaymentChoice,
    StripePayment,
    business_instant,
    check_pass_valid,
    lock_for_change,
    mark_awaiting,
    record_payment,
    refuse_archived,
    return_paid_credits,
    settle,
    verify_stripe_payment,
)
from core.services.customers import load_for_change
from core.services.paging import Page, fetch_page
from core.services.tabs import NamedCatalog, tab_scope
from core.services.workspaces import ensure_workspace

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
    # Refunds of its Stripe payment made in Stripe's dashboard (recorded from the webhook).
    refunded_minor: int = 0
    refund_state: RefundState = RefundState.NONE
    # Unpaid, with a payment link the customer can still pay.
    awaiting_link: bool = False
    # Check-in: what was recorded, by whom and when.
    attendance: Attendance | None = None
    attendance_by: str | None = None
    attendance_at: datetime | None = None
    version: int = 1


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
    listed = [_row(a, service, facilitator) for a, service, facilitator in rows]
    return Page(
        mark_awaiting(uow, actor.team_id, "appointment", listed),
        total,
        page,
        page_size,
    )


def _row(a: Appointment, service_name: str, facilitator_name: str) -> AppointmentRow:
    return AppointmentRow(
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
        refunded_minor=a.refunded_minor,
        refund_state=a.refund_state,
        attendance=a.attendance,
        attendance_by=a.attendance_by,
        attendance_at=a.attendance_at,
        version=a.version,
    )


# -- actions --------------------------------------------------------------------------------

BOOKED = "appointment booked"
RESCHEDULED = "appointment rescheduled"
CANCELLED = "appointment cancelled"
# Services last at most a day, so an appointment clashing with a new one started within a day.
_LONGEST = timedelta(days=1)


@dataclass(frozen=True)
class ServiceOption:
    """An appointment service staff can book (archived ones are not offered)."""

    id: int
    name: str
    duration_minutes: int
    price_minor: int
    credit_price: int
    currency: str


@dataclass(frozen=True)
class FacilitatorOption:
    """A facilitator who gives the chosen service and is not archived."""

    id: int
    name: str


def service_options(uow: UnitOfWork, actor: Actor) -> list[ServiceOption]:
    """The workspace's appointment services that are not archived, by name."""
    currency = ensure_workspace(uow, actor.team_id).currency
    services = uow.session.scalars(
        select(AppointmentService)
        .where(AppointmentService.team_id == actor.team_id, AppointmentService.archived.is_(False))
        .order_by(AppointmentService.name, AppointmentService.id)
    )
    return [
        ServiceOption(s.id, s.name, s.duration_minutes, s.price_minor, s.credit_price, currency)
        for s in services
    ]


def _service(uow: UnitOfWork, actor: Actor, service_id: int) -> AppointmentService:
    service = uow.session.scalars(
        select(AppointmentService).where(
            AppointmentService.id == service_id, AppointmentService.team_id == actor.team_id
        )
    ).first()
    if service is None:
        raise NotFound("That appointment service no longer exists; choose another.")
    return service


def _service_for_new(uow: UnitOfWork, actor: Actor, service_id: int) -> AppointmentService:
    """The service, for a new appointment: an archived one is refused."""
    service = _service(uow, actor, service_id)
    if service.archived:
        raise ValidationFailed(
            {"service_id": f"{service.name} is archived; choose another service."}
        )
    return service


def facilitators_for(uow: UnitOfWork, actor: Actor, service_id: int) -> list[FacilitatorOption]:
    """The facilitators who give the service and are not archived, by name."""
    service = _service(uow, actor, service_id)
    rows = uow.session.execute(
        select(Facilitator.id, Facilitator.name)
        .join(facilitator_services, facilitator_services.c.facilitator_id == Facilitator.id)
        .where(facilitator_services.c.service_id == service.id, Facilitator.archived.is_(False))
        .order_by(Facilitator.name, Facilitator.id)
    )
    return [FacilitatorOption(facilitator_id, name) for facilitator_id, name in rows]


def _lock_facilitator(
    uow: UnitOfWork, actor: Actor, facilitator_id: int, service: AppointmentService
) -> Facilitator:
    # The facilitator row is the gate of their diary: clashes are checked under its lock.
    facilitator = uow.session.scalars(
        select(Facilitator)
        .where(Facilitator.id == facilitator_id, Facilitator.team_id == actor.team_id)
        .with_for_update()
    ).first()
    if facilitator is None:
        raise NotFound("That facilitator no longer exists; choose another.")
    if facilitator.archived:
        raise ValidationFailed(
            {"facilitator_id": f"{facilitator.name} is archived; choose another facilitator."}
        )
    gives = uow.session.scalar(
        select(facilitator_services.c.service_id).where(
            facilitator_services.c.facilitator_id == facilitator.id,
            facilitator_services.c.service_id == service.id,
        )
    )
    if gives is None:
        raise ValidationFailed(
            {"facilitator_id": f"{facilitator.name} does not give {service.name}; choose another."}
        )
    return facilitator


def _check_free(
    uow: UnitOfWork,
    facilitator: Facilitator,
    starts_at: datetime,
    minutes: int,
    timezone: str,
    *,
    moving: int | None = None,
) -> None:
    """Refuse a time that is past or overlaps another scheduled appointment of the facilitator."""
    if starts_at <= uow.now():
        raise ValidationFailed(
            {
                "starts_at": f"{format_when(starts_at, timezone)} is in the past; "
                "choose a later time."
            }
        )
    ends_at = starts_at + timedelta(minutes=minutes)
    query = select(Appointment).where(
        Appointment.facilitator_id == facilitator.id,
        Appointment.state == AppointmentState.SCHEDULED,
        Appointment.starts_at < ends_at,
        Appointment.starts_at > starts_at - _LONGEST,
    )
    if moving is not None:
        query = query.where(Appointment.id != moving)
    for other in uow.session.scalars(query):
        other_end = other.starts_at + timedelta(minutes=other.duration_minutes)
        if other_end > starts_at:
            raise DomainError(
                f"{facilitator.name} already has an appointment on "
                f"{format_when(other.starts_at, timezone)} for "
                f"{format_duration(other.duration_minutes)}; choose another time or facilitator."
            )


def _title(
    service: AppointmentService,
    facilitator: Facilitator,
    starts_at: datetime,
    minutes: int,
    timezone: str,
) -> str:
    return (
        f"{service.name} with {facilitator.name} on {format_when(starts_at, timezone)} "
        f"for {format_duration(minutes)}"
    )


def book_appointment(
    uow: UnitOfWork,
    actor: Actor,
    uid: str,
    service_id: int,
    facilitator_id: int,
    starts_local: datetime,
    payment: PaymentChoice,
    *,
    gateway: PaymentGateway | None = None,
) -> AppointmentRow:
    """Book the service with the facilitator at naive `starts_local` in the business time zone.

    The length comes from the service; neither may be archived, and the facilitator must give
    it and be free then. A time the clocks skip or repeat at a daylight-saving change is
    refused. Payment as for events."""
    intent = verify_stripe_payment(gateway, payment) if isinstance(payment, StripePayment) else None
    workspace = ensure_workspace(uow, actor.team_id)
    starts_at = business_instant(starts_local, workspace.timezone, "starts_at")
    customer = load_for_change(uow, actor, uid)
    refuse_archived(customer, "booking an appointment")
    service = _service_for_new(uow, actor, service_id)
    facilitator = _lock_facilitator(uow, actor, facilitator_id, service)
    minutes = service.duration_minutes
    _check_free(uow, facilitator, starts_at, minutes, workspace.timezone)
    settled, credit_changes = settle(
        uow,
        customer,
        payment,
        intent=intent,
        price_minor=service.price_minor,
        credit_price=service.credit_price,
        on=starts_local.date(),
        currency=workspace.currency,
        what=service.name,
        credits_at_check_in=workspace.credit_rule is CreditRule.AT_CHECK_IN,
    )
    appointment = Appointment(
        team_id=actor.team_id,
        customer_id=customer.id,
        service_id=service.id,
        facilitator_id=facilitator.id,
        booked_at=uow.now(),
        starts_at=starts_at,
        duration_minutes=minutes,
        price_minor=settled.price_minor,
        credits=settled.credits,
        currency=workspace.currency,
        payment_method=settled.method,
        stripe_payment_intent_id=settled.payment_intent_id,
        pass_id=settled.pass_id,
        credits_at_check_in=settled.credits_at_check_in,
        state=AppointmentState.SCHEDULED,
        version=1,
    )
    uow.session.add(appointment)
    uow.session.flush()
    record_payment(uow, actor.team_id, settled, workspace.currency, appointment)
    title = _title(service, facilitator, starts_at, minutes, workspace.timezone)
    history.record(
        uow,
        actor.user_id,
        customer,
        BOOKED,
        changes=credit_changes,
        detail=f"booked {title} {settled.describe(workspace.currency)}, appointment "
        f"#{appointment.id}",
    )
    return _row(appointment, service.name, facilitator.name)


def _for_change(
    uow: UnitOfWork, actor: Actor, appointment_id: int, uid: str | None
) -> tuple[Appointment, Customer, AppointmentService]:
    appointment, customer = lock_for_change(
        uow, actor, Appointment, appointment_id, "Appointment", uid=uid
    )
    if appointment.state is AppointmentState.CANCELLED:
        raise DomainError(f"Appointment #{appointment.id} is cancelled; book a new one instead.")
    return appointment, customer, _service(uow, actor, appointment.service_id)


def reschedule_appointment(
    uow: UnitOfWork,
    actor: Actor,
    appointment_id: int,
    starts_local: datetime,
    *,
    uid: str | None = None,
) -> AppointmentRow:
    """Move the appointment to naive `starts_local` (business time zone), same facilitator.

    The facilitator must be free then; a pass that paid must be valid on the new day. An archived
    service or facilitator does not stop it: the appointment was booked before the archiving."""
    timezone = ensure_workspace(uow, actor.team_id).timezone
    starts_at = business_instant(starts_local, timezone, "starts_at")
    appointment, customer, service = _for_change(uow, actor, appointment_id, uid)
    if appointment.attendance is not None:
        raise DomainError(
            f"Appointment #{appointment.id} is checked in ({said(appointment.attendance)}); "
            "undo that before moving it."
        )
    if starts_at == appointment.starts_at:
        raise ValidationFailed({"starts_at": "That is its current time; choose another."})
    facilitator = uow.session.scalars(
        select(Facilitator).where(Facilitator.id == appointment.facilitator_id).with_for_update()
    ).one()
    minutes = appointment.duration_minutes
    _check_free(uow, facilitator, starts_at, minutes, timezone, moving=appointment.id)
    if appointment.payment_method is PaymentMethod.PACKAGE and appointment.pass_id is not None:
        held = uow.session.get(Pass, appointment.pass_id)
        if held is not None:
            check_pass_valid(uow, held, starts_local.date())
    before = _title(service, facilitator, appointment.starts_at, minutes, timezone)
    after = _title(service, facilitator, starts_at, minutes, timezone)
    appointment.starts_at = starts_at
    appointment.version += 1
    history.record(
        uow,
        actor.user_id,
        customer,
        RESCHEDULED,
        changes={"when": [before, after]},
        detail=f"rescheduled appointment #{appointment.id} from {before} to {after}",
    )
    uow.session.flush()
    return _row(appointment, service.name, facilitator.name)


def cancel_appointment(
    uow: UnitOfWork, actor: Actor, appointment_id: int, *, uid: str | None = None
) -> AppointmentRow:
    """Cancel the appointment, freeing the facilitator's time; credits go back to their pass."""
    appointment, customer, service = _for_change(uow, actor, appointment_id, uid)
    facilitator = uow.session.get(Facilitator, appointment.facilitator_id)
    name = facilitator.name if facilitator is not None else ""
    timezone = ensure_workspace(uow, actor.team_id).timezone
    appointment.state = AppointmentState.CANCELLED
    appointment.cancelled_at = uow.now()
    appointment.version += 1
    returned, credit_changes = return_paid_credits(uow, actor.team_id, appointment)
    changes: dict[str, list[Any]] = {
        "state": [AppointmentState.SCHEDULED.value, AppointmentState.CANCELLED.value],
        **credit_changes,
    }
    outcome = f"; {returned}" if returned else ""
    if appointment.payment_method is PaymentMethod.STRIPE:
        outcome = "; the Stripe payment is not refunded"
    history.record(
        uow,
        actor.user_id,
        customer,
        CANCELLED,
        changes=changes,
        detail=f"cancelled appointment #{appointment.id}, {service.name} with {name} on "
        f"{format_when(appointment.starts_at, timezone)}{outcome}",
    )
    uow.session.flush()
    return _row(appointment, service.name, name)
