"""Monthly purchase counts behind the 12-month sales chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import CompoundSelect, literal_column, select, union_all

from core.actor import Actor
from core.db import UnitOfWork
from core.errors import NotFound
from core.models import (
    Booking,
    BookingState,
    Customer,
    Pass,
    PassState,
    VideoPurchase,
    Workspace,
)

MONTHS = 12


@dataclass(frozen=True)
class SalesSeries:
    """Counts per calendar month (oldest first); `months` holds each month's first day."""

    months: list[date]
    bookings: list[int]
    passes: list[int]
    videos: list[int]
    timezone: str


def _add_months(first: date, count: int) -> date:
    index = first.year * 12 + first.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def monthly_sales(uow: UnitOfWork, actor: Actor, uid: str, *, months: int = MONTHS) -> SalesSeries:
    """Bookings, passes and videos customer `uid` bought per month, cancelled ones excluded.

    The months are the last `months` calendar months up to the current one, in the business time zone.
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    found = uow.session.execute(
        select(Customer.id, Workspace.timezone)
        .join(Workspace, Workspace.team_id == Customer.team_id)
        .where(Customer.team_id == actor.team_id, Customer.uid == uid)
    ).first()
    if found is None:
        raise NotFound(f"No customer with UID {uid} exists; they may have been deleted.")
    customer_id, timezone = found
    zone = ZoneInfo(timezone)
    current = uow.now().astimezone(zone).date().replace(day=1)
    firsts = [_add_months(current, offset) for offset in range(1 - months, 1)]
    # Month boundaries are local midnights, so the UTC window shifts with the zone and DST.
    since = _local_midnight(firsts[0], zone)
    until = _local_midnight(_add_months(current, 1), zone)
    moments: CompoundSelect[Any, Any] = union_all(
        select(literal_column("0").label("kind"), Booking.booked_at.label("at")).where(
            Booking.team_id == actor.team_id,
            Booking.customer_id == customer_id,
            Booking.state != BookingState.CANCELLED,
            Booking.booked_at >= since,
            Booking.booked_at < until,
        ),
        select(literal_column("1"), Pass.purchased_at).where(
            Pass.team_id == actor.team_id,
            Pass.customer_id == customer_id,
            Pass.state != PassState.CANCELLED,
            Pass.purchased_at >= since,
            Pass.purchased_at < until,
        ),
        select(literal_column("2"), VideoPurchase.purchased_at).where(
            VideoPurchase.team_id == actor.team_id,
            VideoPurchase.customer_id == customer_id,
            VideoPurchase.cancelled_at.is_(None),
            VideoPurchase.purchased_at >= since,
            VideoPurchase.purchased_at < until,
        ),
    )
    index = {(first.year, first.month): position for position, first in enumerate(firsts)}
    # Indexed by the `kind` each part of the union tags its rows with.
    counts = ([0] * months, [0] * months, [0] * months)
    for kind, moment in uow.session.execute(moments).all():
        local = moment.astimezone(zone)
        counts[kind][index[local.year, local.month]] += 1
    return SalesSeries(firsts, counts[0], counts[1], counts[2], timezone)
