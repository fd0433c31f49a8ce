"""The front desk's day: today's events and appointments, and the customers who need someone.

"Today" is the local calendar day in the studio's time zone (23 or 25 hours on the days the
clocks change). Every list is read in one statement with its total counted alongside, so a
day of any size costs the same few statements.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, extract, func, or_, select

from core.actor import Actor
from core.db import UnitOfWork
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
    Facilitator,
    Pass,
    PassState,
    PassType,
    Subscription,
    SubscriptionPlan,
    SubscriptionState,
)
from core.services.attendance import no_shows_since

# How many of each list a day shows; the totals say how many more there are.
EVENTS_MAX = 36
APPOINTMENTS_MAX = 16
ALERTS_MAX = 6
# A pass ending within this many days (today counting as 0) needs someone.
EXPIRY_DAYS = 7
# This many no-shows within NO_SHOW_DAYS needs someone.
NO_SHOWS = 3
NO_SHOW_DAYS = 30
_USABLE_PASS = (PassState.COMPLETED, PassState.MANUAL)

T = TypeVar("T")


@dataclass(frozen=True)
class Listed(Generic[T]):
    """The first rows of a list, and how many there are in all."""

    rows: list[T]
    total: int

    @property
    def more(self) -> int:
        """How many were left out."""
        return self.total - len(self.rows)


@dataclass(frozen=True)
class TodayEvent:
    """One session of an event today, with its places taken."""

    occurrence_id: int
    name: str
    starts_at: datetime
    duration_minutes: int
    location: str
    capacity: int
    booked: int
    checked_in: int
    cancelled: bool


@dataclass(frozen=True)
class TodayAppointment:
    """One appointment today, with its customer."""

    id: int
    starts_at: datetime
    duration_minutes: int
    service: str
    facilitator: str
    customer_uid: str
    customer_name: str


@dataclass(frozen=True)
class PassAlert:
    """A pass ending within EXPIRY_DAYS, or down to its last credit."""

    customer_uid: str
    customer_name: str
    pass_name: str
    valid_to: date
    credits_remaining: int


@dataclass(frozen=True)
class PaymentAlert:
    """A subscription whose payment failed and is past due."""

    customer_uid: str
    customer_name: str
    plan_name: str
    next_payment_at: datetime | None


@dataclass(frozen=True)
class NoShowAlert:
    """A customer who missed NO_SHOWS or more bookings or appointments in NO_SHOW_DAYS."""

    customer_uid: str
    customer_name: str
    no_shows: int


@dataclass(frozen=True)
class BirthdayAlert:
    """A customer whose birthday it is today."""

    customer_uid: str
    customer_name: str
    date_of_birth: date


@dataclass(frozen=True)
class Today:
    """Everything the Today view shows, for one studio's local day."""

    day: date
    timezone: str
    events: Listed[TodayEvent]
    appointments: Listed[TodayAppointment]
    passes: Listed[PassAlert]
    payments: Listed[PaymentAlert]
    no_shows: Listed[NoShowAlert]
    birthdays: Listed[BirthdayAlert]


def local_day(now: datetime, timezone: str) -> date:
    """The calendar date at instant `now` in `timezone`."""
    return now.astimezone(ZoneInfo(timezone)).date()


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The UTC instants at which local day `day` starts and the next one starts."""
    zone = ZoneInfo(timezone)

    def midnight(of: date) -> datetime:
        return datetime.combine(of, time(0), tzinfo=zone).astimezone(UTC)

    return midnight(day), midnight(day + timedelta(days=1))


def birthday_days(day: date) -> tuple[int, tuple[int, ...]]:
    """The month and days of the month whose birthdays are celebrated on `day`: 29 February's
    fall on 28 February in a year without one, so they are greeted before their month ends."""
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        return 2, (28, 29)
    return day.month, (day.day,)


def _listed(rows: Sequence[Any], make: Any) -> Listed[Any]:
    """Rows whose last column is `count() over ()`, as a Listed of `make(*row[:-1])`."""
    return Listed([make(*row[:-1]) for row in rows], rows[0][-1] if rows else 0)


def _customer_columns() -> tuple[Any, ...]:
    return (Customer.uid, (Customer.first_name + " " + Customer.last_name).label("name"))


def _alerting(statement: Select[Any], team_id: str, limit: int) -> Select[Any]:
    """`statement` for active customers of `team_id`, counted in all, first `limit` rows."""
    return (
        statement.add_columns(func.count().over())
        .where(Customer.team_id == team_id, Customer.status == CustomerStatus.ACTIVE)
        .limit(limit)
    )


def _events(uow: UnitOfWork, team_id: str, start: datetime, end: datetime) -> Listed[TodayEvent]:
    kept = (Booking.occurrence_id == EventOccurrence.id, Booking.state != BookingState.CANCELLED)
    booked = select(func.count()).where(*kept).scalar_subquery()
    attended = Booking.attendance == Attendance.ATTENDED
    checked_in = select(func.count()).where(*kept, attended).scalar_subquery()
    rows = uow.session.execute(
        select(
            EventOccurrence.id,
            Event.name,
            EventOccurrence.starts_at,
            EventOccurrence.duration_minutes,
            EventOccurrence.location,
            EventOccurrence.capacity,
            booked,
            checked_in,
            EventOccurrence.cancelled,
            func.count().over(),
        )
        .join(Event, Event.id == EventOccurrence.event_id)
        .where(
            EventOccurrence.team_id == team_id,
            EventOccurrence.starts_at >= start,
            EventOccurrence.starts_at < end,
        )
        .order_by(EventOccurrence.starts_at, Event.name, EventOccurrence.id)
        .limit(EVENTS_MAX)
    ).all()
    return _listed(rows, TodayEvent)


def _appointments(
    uow: UnitOfWork, team_id: str, start: datetime, end: datetime
) -> Listed[TodayAppointment]:
    rows = uow.session.execute(
        select(
            Appointment.id,
            Appointment.starts_at,
            Appointment.duration_minutes,
            AppointmentService.name,
            Facilitator.name,
            *_customer_columns(),
            func.count().over(),
        )
        .join(AppointmentService, AppointmentService.id == Appointment.service_id)
        .join(Facilitator, Facilitator.id == Appointment.facilitator_id)
        .join(Customer, Customer.id == Appointment.customer_id)
        .where(
            Appointment.team_id == team_id,
            Appointment.state == AppointmentState.SCHEDULED,
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
        )
        .order_by(Appointment.starts_at, Appointment.id)
        .limit(APPOINTMENTS_MAX)
    ).all()
    return _listed(rows, TodayAppointment)


def _passes(uow: UnitOfWork, team_id: str, day: date) -> Listed[PassAlert]:
    ending = Pass.valid_to <= day + timedelta(days=EXPIRY_DAYS)
    statement = (
        select(*_customer_columns(), PassType.name, Pass.valid_to, Pass.credits_remaining)
        .join(Customer, Customer.id == Pass.customer_id)
        .join(PassType, PassType.id == Pass.pass_type_id)
        .where(
            Pass.team_id == team_id,
            Pass.state.in_(_USABLE_PASS),
            Pass.valid_from <= day,
            Pass.valid_to >= day,
            Pass.credits_remaining > 0,
            or_(ending, Pass.credits_remaining == 1),
        )
        .order_by(Pass.valid_to, Pass.id)
    )
    rows = uow.session.execute(_alerting(statement, team_id, ALERTS_MAX)).all()
    return _listed(rows, PassAlert)


def _payments(uow: UnitOfWork, team_id: str) -> Listed[PaymentAlert]:
    statement = (
        select(*_customer_columns(), SubscriptionPlan.name, Subscription.next_payment_at)
        .join(Customer, Customer.id == Subscription.customer_id)
        .join(SubscriptionPlan, SubscriptionPlan.id == Subscription.plan_id)
        .where(Subscription.team_id == team_id, Subscription.state == SubscriptionState.PAST_DUE)
        .order_by(Subscription.stripe_state_at, Subscription.id)
    )
    rows = uow.session.execute(_alerting(statement, team_id, ALERTS_MAX)).all()
    return _listed(rows, PaymentAlert)


def _no_shows(uow: UnitOfWork, actor: Actor, now: datetime) -> Listed[NoShowAlert]:
    since = now - timedelta(days=NO_SHOW_DAYS)
    found = no_shows_since(uow, actor, since, at_least=NO_SHOWS)
    alerts = [NoShowAlert(row.uid, row.name, row.no_shows) for row in found[:ALERTS_MAX]]
    return Listed(alerts, len(found))


def _birthdays(uow: UnitOfWork, team_id: str, day: date) -> Listed[BirthdayAlert]:
    month, days = birthday_days(day)
    # As migration 0024's ix_customers_birthday indexes them on PostgreSQL.
    statement = (
        select(*_customer_columns(), Customer.date_of_birth)
        .where(
            Customer.date_of_birth.is_not(None),
            extract("month", Customer.date_of_birth) == month,
            extract("day", Customer.date_of_birth).in_(days),
        )
        .order_by(Customer.name_key, Customer.id)
    )
    rows = uow.session.execute(_alerting(statement, team_id, ALERTS_MAX)).all()
    return _listed(rows, BirthdayAlert)


def today(uow: UnitOfWork, actor: Actor, timezone: str) -> Today:
    """The studio's day as it stands now in `timezone`: six statements, whatever the data."""
    now = uow.now()
    day = local_day(now, timezone)
    start, end = day_bounds(day, timezone)
    team_id = actor.team_id
    return Today(
        day=day,
        timezone=timezone,
        events=_events(uow, team_id, start, end),
        appointments=_appointments(uow, team_id, start, end),
        passes=_passes(uow, team_id, day),
        payments=_payments(uow, team_id),
        no_shows=_no_shows(uow, actor, now),
        birthdays=_birthdays(uow, team_id, day),
    )
