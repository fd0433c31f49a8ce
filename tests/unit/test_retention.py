"""The retention report on SQLite and PostgreSQL: months in the workspace's time zone, new and
returning, and lapsing at its boundary (a last visit exactly 60 days before a month's end)."""

from __future__ import annotations

import pytest

from core.actor import Actor
from core.db import Database
from core.models import Attendance, BookingState
from core.services.retention import RetentionReport, retention_report
from tests.unit.commerce_helpers import Shop, london, new_customers, open_shop, visit

# The test clock: Saturday 14 Mar 2026, 09:30 GMT; the months run from Apr 25 to Mar 26.
Counts = tuple[int, int, int, int]


@pytest.fixture
def shop(db: Database, staff: Actor) -> Shop:
    return open_shop(db, staff)


def _report(db: Database, actor: Actor) -> RetentionReport:
    with db.unit_of_work() as uow:
        return retention_report(uow, actor)


def _by_month(report: RetentionReport) -> dict[str, Counts]:
    """(active, new, returning, lapsed) per month label, only the months with any."""
    return {label: tuple(counts) for label, *counts in report.rows() if any(counts)}


def test_the_months_are_the_last_twelve_to_this_one(db: Database, staff: Actor) -> None:
    report = _report(db, staff)
    assert [row[0] for row in report.rows()][0::11] == ["Apr 25", "Mar 26"]
    assert report.timezone == "Europe/London"


def test_a_customer_with_no_visits_counts_nowhere(db: Database, staff: Actor, shop: Shop) -> None:
    (ann,) = new_customers(db, staff, 1)
    # Cancelled, a no-show, and booked ahead: none of them is a visit.
    visit(db, staff, shop, ann, london("2026-01-10 10:00"), state=BookingState.CANCELLED)
    visit(db, staff, shop, ann, london("2026-02-10 10:00"), attendance=Attendance.NO_SHOW)
    visit(db, staff, shop, ann, london("2026-03-20 10:00"))
    assert _by_month(_report(db, staff)) == {}


def test_new_then_returning_and_visits_before_the_twelve_months(
    db: Database, staff: Actor, shop: Shop
) -> None:
    ann, ben = new_customers(db, staff, 2)
    visit(db, staff, shop, ann, london("2026-01-10 10:00"))
    visit(db, staff, shop, ann, london("2026-01-20 10:00"))
    visit(db, staff, shop, ann, london("2026-02-05 10:00"))
    # Ben's first visit is older than the report: returning, not new, when he comes back.
    visit(db, staff, shop, ben, london("2025-01-15 10:00"))
    visit(db, staff, shop, ben, london("2026-02-06 10:00"))
    # Checked in this morning, at the door: a visit today.
    visit(db, staff, shop, ben, london("2026-03-14 09:45"), attendance=Attendance.ATTENDED)
    assert _by_month(_report(db, staff)) == {
        "Jan 26": (1, 1, 0, 0),
        "Feb 26": (2, 0, 2, 0),
        "Mar 26": (1, 0, 1, 0),
    }


def test_month_edges_are_local_midnights(db: Database, staff: Actor, shop: Shop) -> None:
    ann, ben = new_customers(db, staff, 2)
    # 00:30 BST on 1 August is still 31 July in UTC: it is August's.
    visit(db, staff, shop, ann, london("2025-08-01 00:30"))
    visit(db, staff, shop, ben, london("2025-07-31 23:59"))
    counts = _by_month(_report(db, staff))
    assert counts["Aug 25"][:3] == (1, 1, 0)
    assert counts["Jul 25"][:3] == (1, 1, 0)


def test_a_last_visit_exactly_sixty_days_before_a_months_end_lapses_the_next_month(
    db: Database, staff: Actor, shop: Shop
) -> None:
    ann, ben, cat = new_customers(db, staff, 3)
    # 1 Dec + 61 days is 31 Jan: Ann lapses in January. Ben's visit is 60 days before
    # 31 Jan, so he is still within 60 days then and lapses on 1 Feb.
    visit(db, staff, shop, ann, london("2025-12-01 23:59"))
    visit(db, staff, shop, ben, london("2025-12-02 00:00"))
    # Cat would lapse on 1 Jan but comes back on 20 Jan: not lapsed in January.
    visit(db, staff, shop, cat, london("2025-11-01 10:00"))
    visit(db, staff, shop, cat, london("2026-01-20 10:00"))
    lapsed = {label: lapsed for label, *_, lapsed in _report(db, staff).rows() if lapsed}
    # Cat's return on 20 Jan lapses only on 22 Mar, after today.
    assert lapsed == {"Jan 26": 1, "Feb 26": 1}


def test_this_month_counts_lapses_up_to_today(db: Database, staff: Actor, shop: Shop) -> None:
    ann, ben = new_customers(db, staff, 2)
    # Today is 14 Mar: 60 days ago is 13 Jan, the day a visit still counts as recent.
    visit(db, staff, shop, ann, london("2026-01-12 23:59"))
    visit(db, staff, shop, ben, london("2026-01-13 00:00"))
    assert _by_month(_report(db, staff))["Mar 26"] == (0, 0, 0, 1)
    assert _by_month(_report(db, staff))["Jan 26"] == (2, 2, 0, 0)
