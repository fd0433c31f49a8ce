"""A workspace's retention: active, new, returning and lapsed customers per calendar month.

Months are the last 12 calendar months up to the current one, in the workspace's time zone
(each starts at local midnight on its first day), and a visit is as `customer_facts` defines
it (`visit_times`), counted by now.

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

from sqlalchemy import and_, case, func, literal, select, type_coerce

from core.actor import Actor
from core.db import UnitOfWork
from core.models import Workspace
from core.models.base import UTCDateTime
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


def _at(value: Any) -> Any:
    # SQLite hands back an aggregate's datetime as text unless told its type.
    return type_coerce(value, UTCDateTime())


def _counts(team_id: str, now: datetime, starts: list[datetime], lapse: list[datetime]) -> Any:
    """One row: active, first-ever, and lapsed counts per month, in three grouped passes.

    `starts` holds the months' first instants and the next month's; `lapse` the instants a
    last visit must fall between (month k: lapse[k] to lapse[k + 1]) to lapse in month k."""
    months = len(starts) - 1
    rows = visit_times(team_id, now).subquery()
    # -1 before the first month, `months` after the current one (a session checked in early).
    bucket = case(
        *((rows.c.at < start, literal(n - 1)) for n, start in enumerate(starts)),
        else_=literal(months),
    )
    visits = select(rows.c.customer_id, rows.c.at, bucket.label("bucket")).subquery()
    # Per customer and month: at most 14 rows each, whatever their number of visits.
    monthly = (
        select(
            visits.c.customer_id,
            visits.c.bucket,
            _at(func.min(visits.c.at)).label("first"),
            _at(func.max(visits.c.at)).label("last"),
        )
        .group_by(visits.c.customer_id, visits.c.bucket)
        .subquery()
    )
    per_customer = (
        select(
            _at(func.min(monthly.c.first)).label("first"),
            *(
                func.max(case((monthly.c.bucket == n, 1), else_=0)).label(f"active_{n}")
                for n in range(months)
            ),
            *(
                _at(func.max(case((monthly.c.bucket <= n, monthly.c.last)))).label(f"last_{n}")
                for n in range(months - 1)
            ),
            _at(func.max(monthly.c.last)).label(f"last_{months - 1}"),
        )
        .group_by(monthly.c.customer_id)
        .subquery()
    )
    c = per_customer.c

    def total(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return select(
        *(total(c[f"active_{n}"] == 1) for n in range(months)),
        *(total(and_(c[f"active_{n}"] == 1, c.first >= starts[n])) for n in range(months)),
        *(
            total(and_(c[f"last_{n}"] >= lapse[n], c[f"last_{n}"] < lapse[n + 1]))
            for n in range(months)
        ),
    )


def retention_report(uow: UnitOfWork, actor: Actor, *, months: int = MONTHS) -> RetentionReport:
    """Workspace `actor.team_id`'s active, new, returning and lapsed customers per month."""
    if months < 1:
        raise ValueError("months must be at least 1")
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
    values = uow.session.execute(_counts(actor.team_id, now, starts, lapse)).one()
    active = list(values[:months])
    new = list(values[months : 2 * months])
    return RetentionReport(
        months=firsts[:months],
        active=active,
        new=new,
        returning=[a - n for a, n in zip(active, new, strict=True)],
        lapsed=list(values[2 * months :]),
        timezone=timezone,
    )
