"""Check-in: recording that a customer attended a booked session or appointment, or did not
show, with who recorded it and when; the credit it takes under the studio's check-in rule;
attendance counts and repeated no-shows.

Check-in opens at midnight at the start of the session's day (in the session's own time zone;
an appointment's is the studio's) and stays open afterwards, so a desk can check people in
as they arrive and correct the record later; a cancelled booking or session takes none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from core.actor import Actor
from core.db import UnitOfWork
from core.errors import Conflict, DomainError, NotFound, ValidationFailed
from core.formatting import format_credits, format_date, format_when
from core.models import (
    Appointment,
    AppointmentService,
    AppointmentState,
    Attendance,
    Booking,
    BookingState,
    Customer,
    CustomerStatus,
    Event,
    EventOccurrence,
    PaymentMethod,
)
from core.services import history
from core.services.checkout import (
    business_date,
    credits_taken,
    lock_for_change,
    pass_label,
    return_credits,
    take_credits,
)
from core.services.workspaces import ensure_workspace

AttendanceKind = Literal["booking", "appointment"]
# The account history's actions.
MARKED_ATTENDED = "marked attended"
MARKED_NO_SHOW = "marked no-show"
ATTENDANCE_UNDONE = "attendance undone"
_ACTION = {Attendance.ATTENDED: MARKED_ATTENDED, Attendance.NO_SHOW: MARKED_NO_SHOW}
_SAID = {Attendance.ATTENDED: "attended", Attendance.NO_SHOW: "a no-show", None: "not recorded"}


def check_in_opens(starts_at: datetime, timezone: str) -> datetime:
    """When check-in opens for a session starting at `starts_at`: its day's midnight, there."""
    zone = ZoneInfo(timezone)
    return datetime.combine(business_date(starts_at, timezone), time(), tzinfo=zone)


def said(mark: Attendance | None) -> str:
    """'attended', 'a no-show' or 'not recorded', as staff read it."""
    return _SAID[mark]


@dataclass(frozen=True)
class Recorded:
    """A booking's or appointment's attendance as it now stands, and what happened in words."""

    kind: AttendanceKind
    id: int
    attendance: Attendance | None
    attendance_by: str | None
    attendance_at: datetime | None
    version: int
    message: str


@dataclass(frozen=True)
class _Target:
    """The row being checked in, its customer, what it is called and when check-in opens."""

    row: Booking | Appointment
    customer: Customer
    title: str
    starts_at: datetime
    timezone: str


def _booking(uow: UnitOfWork, actor: Actor, row_id: int, uid: str | None) -> _Target:
    booking, customer = lock_for_change(uow, actor, Booking, row_id, "Booking", uid=uid)
    occurrence, name = uow.session.execute(
        select(EventOccurrence, Event.name)
        .join(Event, Event.id == EventOccurrence.event_id)
        .where(EventOccurrence.id == booking.occurrence_id)
    ).one()
    title = f"{name} on {format_when(occurrence.starts_at, occurrence.timezone)}"
    if booking.state is BookingState.CANCELLED:
        raise DomainError(f"Booking #{booking.id} ({title}) is cancelled; nobody attends it.")
    if occurrence.cancelled:
        raise DomainError(f"{title} is cancelled; its bookings can't be checked in.")
    return _Target(booking, customer, title, occurrence.starts_at, occurrence.timezone)


def _appointment(uow: UnitOfWork, actor: Actor, row_id: int, uid: str | None) -> _Target:
    appointment, customer = lock_for_change(uow, actor, Appointment, row_id, "Appointment", uid=uid)
    name = uow.session.scalar(
        select(AppointmentService.name).where(AppointmentService.id == appointment.service_id)
    )
    timezone = ensure_workspace(uow, actor.team_id).timezone
    title = f"{name} on {format_when(appointment.starts_at, timezone)}"
    if appointment.state is AppointmentState.CANCELLED:
        raise DomainError(f"Appointment #{appointment.id} ({title}) is cancelled.")
    return _Target(appointment, customer, title, appointment.starts_at, timezone)


def _noun(kind: AttendanceKind, row_id: int) -> str:
    return f"{kind.title()} #{row_id}"


def _result(kind: AttendanceKind, row: Booking | Appointment, message: str) -> Recorded:
    return Recorded(
        kind,
        row.id,
        row.attendance,
        row.attendance_by,
        row.attendance_at,
        row.version,
        message,
    )


def _credits(
    uow: UnitOfWork, target: _Target, mark: Attendance | None
) -> tuple[str, dict[str, list[int]]]:
    """Take or give back the credit a check-in-rule booking pays with; words and the change."""
    row = target.row
    if not (row.credits_at_check_in and row.payment_method is PaymentMethod.PACKAGE):
        return "", {}
    if not (row.pass_id and row.credits):
        return "", {}
    was_taken, now_taken = credits_taken(row), mark is Attendance.ATTENDED
    if was_taken == now_taken:
        return "", {}
    if now_taken:
        on = business_date(target.starts_at, target.timezone)
        try:
            held, before = take_credits(uow, target.customer, row.pass_id, row.credits, on)
        except ValidationFailed as exc:
            reason = " ".join(exc.errors.values())
            raise DomainError(
                f"{reason} The credit for {target.title} is taken when it is marked attended; "
                "give the pass more credits or change how the booking is paid first."
            ) from None
        words = f"{format_credits(row.credits)} taken from {pass_label(uow, held)}"
    else:
        held, before = return_credits(uow, target.customer.team_id, row.pass_id, row.credits)
        words = f"{format_credits(row.credits)} returned to {pass_label(uow, held)}"
    label = pass_label(uow, held)
    return words, {f"credits left on {label}": [before, held.credits_remaining]}


def record_attendance(
    uow: UnitOfWork,
    actor: Actor,
    kind: AttendanceKind,
    row_id: int,
    mark: Attendance | None,
    *,
    expected_version: int,
    uid: str | None = None,
) -> Recorded:
    """Mark booking or appointment `row_id` attended or a no-show, or undo that (`mark` None).

    Any staff member may. Asking for what is already recorded changes nothing, so two desks
    checking one person in count once; otherwise a row changed since `expected_version` is
    refused. Under the check-in rule, Attended takes the pass credit and leaving it gives the
    credit back. With `uid`, the row must be that customer's."""
    target = (_booking if kind == "booking" else _appointment)(uow, actor, row_id, uid)
    row = target.row
    if row.attendance is mark:
        return _result(kind, row, f"{_noun(kind, row.id)} is already {said(mark)}.")
    if row.version != expected_version:
        raise Conflict(
            f"{_noun(kind, row.id)} ({target.title}) was changed by someone else meanwhile; "
            f"it is now {said(row.attendance)}. Look again before changing it.",
            changed_by=row.attendance_by,
            changed_at=row.attendance_at,
        )
    opens = check_in_opens(target.starts_at, target.timezone)
    if uow.now() < opens:
        raise DomainError(
            f"{target.title} hasn't started; check-in opens on its day, "
            f"{format_date(opens.date())}."
        )
    before = row.attendance
    credit_words, changes = _credits(uow, target, mark)
    row.attendance = mark
    row.attendance_by = actor.user_id if mark is not None else None
    row.attendance_at = uow.now() if mark is not None else None
    row.version += 1
    name = target.customer.full_name
    done = (
        f"marked {name} {said(mark)} at {target.title}"
        if mark is not None
        else f"undid {name}'s attendance at {target.title} (was {said(before)})"
    )
    detail = f"{done}, {kind} #{row.id}" + (f"; {credit_words}" if credit_words else "")
    history.record(
        uow,
        actor.user_id,
        target.customer,
        _ACTION[mark] if mark is not None else ATTENDANCE_UNDONE,
        changes={"attendance": [_value(before), _value(mark)], **changes},
        detail=detail,
    )
    uow.session.flush()
    message = done[0].upper() + done[1:] + (f"; {credit_words}." if credit_words else ".")
    return _result(kind, row, message)


def _value(mark: Attendance | None) -> str | None:
    return mark.value if mark is not None else None


# -- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckInRow:
    """One booking on a session's check-in list."""

    booking_id: int
    uid: str
    name: str
    payment_method: PaymentMethod
    price_minor: int | None
    credits: int | None
    currency: str
    attendance: Attendance | None
    attendance_by: str | None
    attendance_at: datetime | None
    version: int


@dataclass(frozen=True)
class CheckInList:
    """A session and its bookings (cancelled ones left out), by customer name."""

    occurrence_id: int
    event_name: str
    starts_at: datetime
    timezone: str
    capacity: int
    cancelled: bool
    # Check-in has opened (the session's day has come).
    open: bool
    rows: list[CheckInRow]


def check_in_list(uow: UnitOfWork, actor: Actor, occurrence_id: int) -> CheckInList:
    """Session `occurrence_id` of the actor's workspace with its bookings to check in."""
    found = uow.session.execute(
        select(EventOccurrence, Event.name)
        .join(Event, Event.id == EventOccurrence.event_id)
        .where(EventOccurrence.id == occurrence_id, EventOccurrence.team_id == actor.team_id)
    ).first()
    if found is None:
        raise NotFound("That session no longer exists; it may have been deleted.")
    occurrence, event_name = found
    bookings = uow.session.execute(
        select(Booking, Customer.uid, Customer.first_name, Customer.last_name)
        .join(Customer, Customer.id == Booking.customer_id)
        .where(
            Booking.occurrence_id == occurrence.id,
            Booking.team_id == actor.team_id,
            Booking.state != BookingState.CANCELLED,
        )
        .order_by(Customer.first_name, Customer.last_name, Booking.id)
    ).all()
    rows = [
        CheckInRow(
            b.id,
            uid,
            f"{first} {last}".strip(),
            b.payment_method,
            b.price_minor,
            b.credits,
            b.currency,
            b.attendance,
            b.attendance_by,
            b.attendance_at,
            b.version,
        )
        for b, uid, first, last in bookings
    ]
    opens = check_in_opens(occurrence.starts_at, occurrence.timezone)
    return CheckInList(
        occurrence.id,
        event_name,
        occurrence.starts_at,
        occurrence.timezone,
        occurrence.capacity,
        occurrence.cancelled,
        uow.now() >= opens,
        rows,
    )


@dataclass(frozen=True)
class NoShows:
    """A customer who did not show at least so often in a period, and how often."""

    customer_id: int
    uid: str
    name: str
    no_shows: int


def no_shows_since(
    uow: UnitOfWork, actor: Actor, since: datetime, *, at_least: int = 3
) -> list[NoShows]:
    """Active customers with `at_least` no-shows at sessions and appointments starting at or
    after `since`, most no-shows first, then by name."""
    booked = (
        select(Booking.customer_id.label("customer_id"))
        .join(EventOccurrence, EventOccurrence.id == Booking.occurrence_id)
        .where(
            Booking.team_id == actor.team_id,
            Booking.attendance == Attendance.NO_SHOW,
            Booking.state != BookingState.CANCELLED,
            EventOccurrence.starts_at >= since,
        )
    )
    appointed = select(Appointment.customer_id.label("customer_id")).where(
        Appointment.team_id == actor.team_id,
        Appointment.attendance == Attendance.NO_SHOW,
        Appointment.state != AppointmentState.CANCELLED,
        Appointment.starts_at >= since,
    )
    missed = booked.union_all(appointed).subquery()
    count = func.count().label("no_shows")
    rows = uow.session.execute(
        select(Customer.id, Customer.uid, Customer.first_name, Customer.last_name, count)
        .join(missed, missed.c.customer_id == Customer.id)
        .where(Customer.team_id == actor.team_id, Customer.status == CustomerStatus.ACTIVE)
        .group_by(Customer.id, Customer.uid, Customer.first_name, Customer.last_name)
        .having(count >= at_least)
        .order_by(count.desc(), Customer.last_name, Customer.first_name, Customer.id)
    )
    return [
        NoShows(customer_id, uid, f"{first} {last}".strip(), no_shows)
        for customer_id, uid, first, last, no_shows in rows
    ]
