"""A customer's figures, computed from their records: visits, no-shows and what they spent.

A visit is as customer_facts defines it, so the details and segments agree: a booking or
appointment not cancelled that was checked in, or has started and was not marked no-show.
Spend is money taken: a Stripe payment less what was refunded of it (kept when the row was
cancelled, as cancelling refunds nothing), or a manual payment of a row still standing; pass
credits are not money (the pass was the purchase). Subscriptions' invoices are not recorded
here, so they are not counted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    select,
    union_all,
)

from core.actor import Actor
from core.db import UnitOfWork
from core.models import (
    Appointment,
    AppointmentState,
    Attendance,
    Booking,
    BookingState,
    Customer,
    EventOccurrence,
    Pass,
    PassState,
    VideoPurchase,
)
from core.services import customer_facts

# Visits in this many days up to now count as recent; a visit exactly this long ago does.
RECENT_DAYS = 90
_VISIT, _NO_SHOW, _SPEND = 0, 1, 2


@dataclass(frozen=True)
class Spend:
    """Lifetime spend in one currency, since the first purchase, and its monthly average."""

    currency: str
    total_minor: int
    first_at: datetime
    per_month_minor: int


@dataclass(frozen=True)
class Figures:
    """What the details view sums up about a customer."""

    first_visit: datetime | None
    last_visit: datetime | None
    visits: int
    recent_visits: int
    no_shows: int
    spend: list[Spend]


def months_since(first: datetime, now: datetime) -> int:
    """Whole months from `first` to `now`, at least 1 (a first purchase today is a month)."""
    months = (now.year - first.year) * 12 + now.month - first.month
    if (now.day, now.time()) < (first.day, first.time()):
        months -= 1
    return max(1, months)


def per_month(total_minor: int, months: int) -> int:
    """`total_minor` spread over `months`, rounded half up, in whole minor units."""
    return (2 * total_minor + months) // (2 * months)


def customer_figures(uow: UnitOfWork, actor: Actor, uid: str) -> Figures:
    """Customer `uid`'s figures as of now (one statement; zeros for a UID not ours)."""
    now = uow.now()
    values = {
        "team_id": actor.team_id,
        "uid": uid,
        "since": now - timedelta(days=RECENT_DAYS),
        "now": now,
    }
    first_visit = last_visit = None
    visits = recent = no_shows = 0
    spend: list[Spend] = []
    for kind, currency, count, first, last, total, recent_count in uow.session.execute(
        _query(), values
    ):
        if kind == _VISIT:
            first_visit, last_visit, visits, recent = first, last, count, recent_count
        elif kind == _NO_SHOW:
            no_shows = count
        else:
            months = months_since(first, now)
            spend.append(Spend(currency, total, first, per_month(total, months)))
    spend.sort(key=lambda s: s.currency)
    return Figures(first_visit, last_visit, visits, recent, no_shows, spend)


def _param(name: str) -> BindParameter[Any]:
    # Untyped: each comparison gives it its column's type (UTCDateTime stores UTC on SQLite).
    return bindparam(name)


@lru_cache(maxsize=1)
def _query() -> Select[Any]:
    """Visits, no-shows and spend per currency, grouped in the database; built once."""
    team_id, since, now = _param("team_id"), _param("since"), _param("now")
    owner = (
        select(Customer.id)
        .where(Customer.team_id == team_id, Customer.uid == _param("uid"))
        .scalar_subquery()
    )

    def marked(kind: int, visit: bool) -> tuple[Select[Any], Select[Any]]:
        # Constants as SQL text, not parameters: PostgreSQL must type each column of the union.
        head: tuple[ColumnElement[Any], ...] = (
            literal_column(str(kind)).label("kind"),
            literal_column("''").label("currency"),
            literal_column("0").label("amount"),
        )
        booked_as = (
            and_(
                customer_facts.booking_visit(),
                customer_facts.counts_as_visit(EventOccurrence.starts_at, Booking.attendance, now),
            )
            if visit
            else Booking.attendance == Attendance.NO_SHOW
        )
        booked = (
            select(*head, EventOccurrence.starts_at.label("moment"))
            .select_from(Booking)
            .join(EventOccurrence, EventOccurrence.id == Booking.occurrence_id)
            .where(Booking.team_id == team_id, Booking.customer_id == owner, booked_as)
        )
        appointed_as = (
            and_(
                customer_facts.appointment_visit(),
                customer_facts.counts_as_visit(Appointment.starts_at, Appointment.attendance, now),
            )
            if visit
            else Appointment.attendance == Attendance.NO_SHOW
        )
        appointed = select(*head, Appointment.starts_at).where(
            Appointment.team_id == team_id, Appointment.customer_id == owner, appointed_as
        )
        return booked, appointed

    def spent(model: Any, moment: Any, refunded: Any, standing: ColumnElement[bool]) -> Select[Any]:
        amount = func.coalesce(model.price_minor, 0) - refunded
        return select(literal_column(str(_SPEND)), model.currency, amount, moment).where(
            model.team_id == team_id,
            model.customer_id == owner,
            customer_facts.money_taken(model, standing),
            amount > 0,
        )

    rows = union_all(
        *marked(_VISIT, visit=True),
        *marked(_NO_SHOW, visit=False),
        spent(
            Booking,
            Booking.booked_at,
            Booking.refunded_minor,
            Booking.state != BookingState.CANCELLED,
        ),
        spent(
            Appointment,
            Appointment.booked_at,
            Appointment.refunded_minor,
            Appointment.state != AppointmentState.CANCELLED,
        ),
        spent(Pass, Pass.purchased_at, Pass.refunded_minor, Pass.state != PassState.CANCELLED),
        spent(
            VideoPurchase,
            VideoPurchase.purchased_at,
            literal_column("0"),
            VideoPurchase.cancelled_at.is_(None),
        ),
    ).subquery()
    recent = func.sum(case((rows.c.moment >= since, 1), else_=0))
    return select(
        rows.c.kind,
        rows.c.currency,
        func.count(),
        func.min(rows.c.moment),
        func.max(rows.c.moment),
        func.sum(rows.c.amount),
        recent,
    ).group_by(rows.c.kind, rows.c.currency)
