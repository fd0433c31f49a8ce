"""Monthly purchase counts behind the 12-month sales chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    bindparam,
    case,
    func,
    literal_column,
    select,
    union_all,
)

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
MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# One month of the chart: its label, then bookings, passes and videos.
ChartRow = tuple[str, int, int, int]
# The business time zone, found with the customer (none for a UID not the workspace's).
# Built once, as _monthly_counts is: every details view runs it.
_CUSTOMERS_ZONE = (
    select(Workspace.timezone)
    .join(Customer, Customer.team_id == Workspace.team_id)
    .where(Customer.team_id == bindparam("team_id"), Customer.uid == bindparam("uid"))
)


@dataclass(frozen=True)
class SalesSeries:
    """Counts per calendar month (oldest first); `months` holds each month's first day."""

    months: list[date]
    bookings: list[int]
    passes: list[int]
    videos: list[int]
    timezone: str


def month_label(month: date) -> str:
    """A month as the chart labels it, e.g. "Jan 26" (English, whatever the process locale)."""
    return f"{MONTH_ABBR[month.month - 1]} {month.year % 100:02d}"


def chart_data(series: SalesSeries) -> list[ChartRow]:
    """One (month label, bookings, passes, videos) row per month, oldest first."""
    lengths = {len(series.months), len(series.bookings), len(series.passes), len(series.videos)}
    if len(lengths) != 1:
        raise ValueError("a sales series needs one count of each kind per month")
    return [
        (month_label(month), bookings, passes, videos)
        for month, bookings, passes, videos in zip(
            series.months, series.bookings, series.passes, series.videos, strict=True
        )
    ]


def add_months(first: date, count: int) -> date:
    """The first day of the month `count` months after the month starting `first`."""
    index = first.year * 12 + first.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant local day `day` starts in `zone`."""
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def monthly_sales(
    uow: UnitOfWork, actor: Actor, uid: str, *, months: int = MONTHS, timezone: str | None = None
) -> SalesSeries:
    """Bookings, passes and videos customer `uid` bought per month, cancelled ones excluded.

    The months are the last `months` calendar months up to the current one, in the business time
    zone: `timezone`, when the caller has read it and found the customer (one statement, and an
    unknown UID bought nothing), else read here with the customer (NotFound if not the actor's).
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    if timezone is None:
        found = uow.session.execute(_CUSTOMERS_ZONE, {"team_id": actor.team_id, "uid": uid}).first()
        if found is None:
            raise NotFound(f"No customer with UID {uid} exists; they may have been deleted.")
        timezone = found.timezone
    zone = ZoneInfo(timezone)
    current = uow.now().astimezone(zone).date().replace(day=1)
    firsts = [add_months(current, offset) for offset in range(1 - months, 1)]
    values: dict[str, Any] = {
        "team_id": actor.team_id,
        "uid": uid,
        # Month boundaries are local midnights, so the UTC window shifts with the zone and DST.
        "since": local_midnight(firsts[0], zone),
        "until": local_midnight(add_months(current, 1), zone),
        **{f"start_{n}": local_midnight(first, zone) for n, first in enumerate(firsts[1:])},
    }
    # Indexed by the `kind` each part of the union tags its rows with.
    counts = ([0] * months, [0] * months, [0] * months)
    for kind, month, count in uow.session.execute(_monthly_counts(months), values).all():
        counts[kind][month] = count
    return SalesSeries(firsts, counts[0], counts[1], counts[2], timezone)


def _param(name: str) -> BindParameter[Any]:
    # Untyped: each comparison gives it its column's type (UTCDateTime stores UTC on SQLite).
    return bindparam(name)


@lru_cache(maxsize=8)
def _monthly_counts(months: int) -> Select[int, int, int]:
    """Purchases per (kind, month index), grouped in the database so the cost stays flat.

    Each purchase's month is found by comparing it with the months' first instants, computed
    in Python from zoneinfo: SQLite has no time zones, and both databases then agree exactly.
    Built once per `months` with named parameters; constructing it per call costs more than
    running it for a small customer.
    """
    starts = [_param(f"start_{n}") for n in range(months - 1)]
    team_id = _param("team_id")
    # A scalar subquery, so each table is still read through its customer_id index.
    customer_id = (
        select(Customer.id)
        .where(Customer.team_id == team_id, Customer.uid == _param("uid"))
        .scalar_subquery()
    )
    since, until = _param("since"), _param("until")

    def monthly(kind: int, moment: Any, *where: ColumnElement[bool]) -> Select[Any]:
        month = case(
            *((moment < start, literal_column(str(n))) for n, start in enumerate(starts)),
            else_=literal_column(str(months - 1)),
        )
        return select(literal_column(str(kind)).label("kind"), month.label("month")).where(
            *where, moment >= since, moment < until
        )

    moments = union_all(
        monthly(
            0,
            Booking.booked_at,
            Booking.team_id == team_id,
            Booking.customer_id == customer_id,
            Booking.state != BookingState.CANCELLED,
        ),
        monthly(
            1,
            Pass.purchased_at,
            Pass.team_id == team_id,
            Pass.customer_id == customer_id,
            Pass.state != PassState.CANCELLED,
        ),
        monthly(
            2,
            VideoPurchase.purchased_at,
            VideoPurchase.team_id == team_id,
            VideoPurchase.customer_id == customer_id,
            VideoPurchase.cancelled_at.is_(None),
        ),
    ).subquery()
    return select(moments.c.kind, moments.c.month, func.count()).group_by(
        moments.c.kind, moments.c.month
    )
