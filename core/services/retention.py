"""A workspace's retention: active, new, returning and lapsed customers per calendar month.

Months are the last 12 calendar months up to the current one, in the workspace's time zone
(each starts at local midnight on its first day), and a visit is as `customer_facts` defines
it (`visit_times`), counted by now; a customer's first visit ever is read from their facts.

- Active in month M: customers with at least one visit in M.
- New in M: active in M whose first visit ever is in M.
- Returning in M: active in M who had a visit before M (active = new + returning).
- Lapsed in M: customers whose last visit by the end of M (by today, for the current month)
  was on a local day X with day X + 61 in M: from that day they had had no visit in the last
  60 days (as the segment filter "no visit in 60 days" counts), and they had not come back by
  the end of M. A visit exactly 60 days before M's last day lapses in the next month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal, or_, select

from core.actor import Actor
from core.db import UnitOfWork
from core.models import CustomerFacts, Workspace
from core.services import customer_facts
from core.services.customer_facts import visit_times
from core.services.sales import MONTHS, add_months, local_midnight, month_label
from core.services.today import local_day

LAPSE_DAYS = 60
DEFINITIONS = (
    "Active: customers with at least one visit in the month. New: active whose first visit "
    "ever was that month. Returning: active who had visited before. Lapsed: customers who "
    f"reached {LAPSE_DAYS} days without a visit during the month and had not come back by its "
    "end. A visit is a booking or appointment checked in, or started and not a no-show."
)
# One month of the report: its label, then active, new, returning and lapsed.
RetentionRow = tuple[str, int, int, int, int]


@dataclass(frozen=True)
class RetentionReport:
    """Counts per calendar month (oldest first); `months` holds each month's first day."""

    months: list[date]
    active: list[int]
    new: list[int]
    returning: list[int]
    lapsed: list[int]
    timezone: str

    def rows(self) -> list[RetentionRow]:
        """One (month label, active, new, returning, lapsed) row per month, oldest first."""
        return [
            (month_label(month), active, new, returning, lapsed)
            for month, active, new, returning, lapsed in zip(
                self.months, self.active, self.new, self.returning, self.lapsed, strict=True
            )
        ]


def _bucket(at: Any, bounds: list[datetime], first: int = -1) -> Any:
    """Which of the intervals `bounds` cut `at` into (-1 before the first bound, len - 1 from
    the last), by halving: a few comparisons per visit rather than one per bound."""
    if not bounds:
        return literal(first)
    middle = len(bounds) // 2
    return case(
        (at < bounds[middle], _bucket(at, bounds[:middle], first)),
        else_=_bucket(at, bounds[middle + 1 :], first + middle + 1),
    )


def _counts(team_id: str, now: datetime, starts: list[datetime], lapse: list[datetime]) -> Any:
    """Visits counted by (month, lapse month, and three flags), in one pass over the visits
    since `lapse[0]`.

    Each visit knows its month, the month it would lapse in (`lapse[k]` to `lapse[k + 1]`: in
    month k), and through its neighbours in the customer's own order whether it is their first
    that month, their first ever (their facts' first visit is that month), and their last
    before the end of its lapse month. Grouped by those, the rows are a few hundred whatever
    the number of customers."""
    rows = visit_times(team_id, lapse[0], now).subquery()
    visits = select(
        rows.c.customer_id,
        _bucket(rows.c.at, starts).label("month"),
        _bucket(rows.c.at, lapse).label("lapse"),
    ).subquery()
    # Both buckets grow with the visit's start, so ordering by them is the visits' own order
    # (ties only between visits the flags cannot tell apart) and sorts small integers.
    order = (visits.c.lapse, visits.c.month)
    ordered = select(
        visits.c.customer_id,
        visits.c.month,
        visits.c.lapse,
        func.lag(visits.c.month)
        .over(partition_by=visits.c.customer_id, order_by=order)
        .label("before"),
        func.lead(visits.c.month)
        .over(partition_by=visits.c.customer_id, order_by=order)
        .label("after"),
    ).subquery()
    o = ordered.c

    def flag(condition: Any) -> Any:
        return case((condition, 1), else_=0)

    # Asked only of a customer's first visit since lapse[0]: few lookups, no older history.
    first_month = (
        select(_bucket(CustomerFacts.first_visit_at, starts))
        .where(CustomerFacts.customer_id == o.customer_id)
        .scalar_subquery()
    )
    first_in_month = flag(or_(o.before.is_(None), o.before < o.month))
    first_ever = flag(and_(o.before.is_(None), first_month == o.month))
    # Not back by the end of the month it lapses in.
    lapses = flag(or_(o.after.is_(None), o.after > o.lapse))
    return select(o.month, o.lapse, first_in_month, first_ever, lapses, func.count()).group_by(
        o.month, o.lapse, first_in_month, first_ever, lapses
    )


def retention_report(uow: UnitOfWork, actor: Actor, *, months: int = MONTHS) -> RetentionReport:
    """Workspace `actor.team_id`'s active, new, returning and lapsed customers per month.

    Writes: the workspace's facts (each customer's first visit) are brought up to date first
    (see `customer_facts.ready`)."""
    if months < 1:
        raise ValueError("months must be at least 1")
    customer_facts.ready(uow, actor.team_id)
    workspace = uow.session.get(Workspace, actor.team_id)
    # A workspace not yet stored has no visits; its months are still the configured zone's.
    timezone = workspace.timezone if workspace else uow.settings.workspace_defaults()["timezone"]
    zone = ZoneInfo(timezone)
    now = uow.now()
    today = local_day(now, timezone)
    current = today.replace(day=1)
    firsts = [add_months(current, offset) for offset in range(1 - months, 2)]
    starts = [local_midnight(first, zone) for first in firsts]
    # A last visit on day X lapses on day X + 61: in month k when X + 61 is from its first day
    # to its last (to today, in the current month).
    gap = timedelta(days=LAPSE_DAYS + 1)
    lapse = [local_midnight(first - gap, zone) for first in firsts[:-1]]
    lapse.append(local_midnight(today + timedelta(days=1) - gap, zone))
    active, new, lapsed = [0] * months, [0] * months, [0] * months
    statement = _counts(actor.team_id, now, starts, lapse)
    for month, lapses_in, first_in_month, first_ever, lapses, count in uow.session.execute(
        statement
    ):
        if 0 <= month < months:
            active[month] += count * first_in_month
            new[month] += count * first_ever
        if 0 <= lapses_in < months:
            lapsed[lapses_in] += count * lapses
    return RetentionReport(
        months=firsts[:months],
        active=active,
        new=new,
        returning=[a - n for a, n in zip(active, new, strict=True)],
        lapsed=lapsed,
        timezone=timezone,
    )
