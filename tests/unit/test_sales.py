"""The 12-month sales series on SQLite and PostgreSQL: local calendar months across DST, cancellations."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.actor import Actor
from core.db import Database
from core.errors import NotFound
from core.models import BookingState, PassState, Workspace
from core.services.sales import monthly_sales
from tests.conftest import MutableClock
from tests.unit import history_rows as rows


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _months(first: date, count: int) -> list[date]:
    return [
        date(first.year + (first.month - 1 + n) // 12, (first.month - 1 + n) % 12 + 1, 1)
        for n in range(count)
    ]


def test_twelve_calendar_months_up_to_the_current_one(
    db: Database, staff: Actor, clock: MutableClock
) -> None:
    clock.current = utc(2026, 1, 10, 12)
    with db.unit_of_work() as uow:
        owner = rows.customer(uow, staff)
    with db.unit_of_work(readonly=True) as uow:
        series = monthly_sales(uow, staff, owner.uid)
    assert series.months == _months(date(2025, 2, 1), 12)
    assert series.bookings == series.passes == series.videos == [0] * 12
    assert series.timezone == "Europe/London"
    with db.unit_of_work(readonly=True) as uow:
        assert monthly_sales(uow, staff, owner.uid, months=3).months == _months(
            date(2025, 11, 1), 3
        )
        with pytest.raises(ValueError, match="months"):
            monthly_sales(uow, staff, owner.uid, months=0)


def test_purchases_fall_in_their_local_month_across_dst(
    db: Database, staff: Actor, clock: MutableClock
) -> None:
    """Europe/London: BST (UTC+1) from 29 Mar 2026 and until 26 Oct 2025; GMT between."""
    clock.current = utc(2026, 4, 15, 12)
    with db.unit_of_work() as uow:
        shop = rows.shop(uow, staff.team_id, clock())
        owner = rows.customer(uow, staff)
        # The window opens at 1 May 2025 00:00 BST, which is 30 April 23:00 UTC.
        rows.booking(uow, shop, owner, utc(2025, 4, 30, 22, 59))  # 23:59 BST, 30 April: before
        rows.booking(uow, shop, owner, utc(2025, 4, 30, 23, 0))  # 00:00 BST, 1 May: first month
        rows.booking(uow, shop, owner, utc(2025, 10, 31, 23, 30))  # GMT: still October
        rows.booking(uow, shop, owner, utc(2026, 3, 31, 22, 59))  # 23:59 BST: March
        rows.booking(uow, shop, owner, utc(2026, 3, 31, 23, 30))  # 00:30 BST, 1 April
        rows.pass_(uow, shop, owner, utc(2026, 3, 31, 23, 30))  # April too
        rows.pass_(uow, shop, owner, utc(2025, 12, 31, 23, 30))  # GMT: December
        rows.video(uow, shop, owner, utc(2026, 2, 28, 23, 59))  # February
        rows.video(uow, shop, owner, utc(2026, 4, 30, 23, 0))  # 1 May BST: after the window
    with db.unit_of_work(readonly=True) as uow:
        series = monthly_sales(uow, staff, owner.uid)
    assert series.months == _months(date(2025, 5, 1), 12)
    by_month = {
        m: (b, p, v)
        for m, b, p, v in zip(
            series.months, series.bookings, series.passes, series.videos, strict=True
        )
        if b or p or v
    }
    assert by_month == {
        date(2025, 5, 1): (1, 0, 0),
        date(2025, 10, 1): (1, 0, 0),
        date(2025, 12, 1): (0, 1, 0),
        date(2026, 2, 1): (0, 0, 1),
        date(2026, 3, 1): (1, 0, 0),
        date(2026, 4, 1): (1, 1, 0),
    }


def test_the_workspace_time_zone_decides(db: Database, staff: Actor, clock: MutableClock) -> None:
    clock.current = utc(2026, 3, 20, 12)
    with db.unit_of_work() as uow:
        shop = rows.shop(uow, staff.team_id, clock())
        owner = rows.customer(uow, staff)
        workspace = uow.session.get(Workspace, staff.team_id)
        assert workspace is not None
        workspace.timezone = "America/New_York"
        rows.booking(uow, shop, owner, utc(2026, 3, 1, 3))  # 22:00 EST on 28 February
        rows.booking(uow, shop, owner, utc(2026, 3, 9, 4, 30))  # after the US change to EDT
        # Already 1 March in London, still 28 February in New York.
        rows.video(uow, shop, owner, utc(2026, 3, 1, 2))
    with db.unit_of_work(readonly=True) as uow:
        series = monthly_sales(uow, staff, owner.uid)
    assert series.timezone == "America/New_York"
    assert series.months[-2:] == [date(2026, 2, 1), date(2026, 3, 1)]
    assert series.bookings[-2:] == [1, 1]
    assert series.videos[-2:] == [1, 0]


def test_cancelled_purchases_and_other_customers_do_not_count(
    db: Database, staff: Actor, clock: MutableClock
) -> None:
    now = clock()
    with db.unit_of_work() as uow:
        shop = rows.shop(uow, staff.team_id, now)
        owner = rows.customer(uow, staff)
        other = rows.customer(uow, staff, "Grace", "Hopper")
        rows.booking(uow, shop, owner, now)
        rows.booking(uow, shop, owner, now, state=BookingState.CANCELLED, cancelled_at=now)
        rows.booking(
            uow,
            shop,
            owner,
            now,
            state=BookingState.PACKAGE,
            price_minor=None,
            credits=1,
            stripe_payment_intent_id=None,
        )
        rows.pass_(uow, shop, owner, now)
        rows.pass_(uow, shop, owner, now, state=PassState.CANCELLED)
        rows.pass_(uow, shop, owner, now, state=PassState.MANUAL, stripe_payment_intent_id=None)
        rows.video(uow, shop, owner, now)
        rows.video(uow, shop, owner, now, cancelled_at=now)
        rows.booking(uow, shop, other, now)
        rows.video(uow, shop, other, now)
    with db.unit_of_work(readonly=True) as uow:
        series = monthly_sales(uow, staff, owner.uid)
    assert (series.bookings[-1], series.passes[-1], series.videos[-1]) == (2, 2, 1)
    assert sum(series.bookings) + sum(series.passes) + sum(series.videos) == 5


def test_another_tenants_customer_is_not_found(
    db: Database, staff: Actor, other_tenant: Actor
) -> None:
    with db.unit_of_work() as uow:
        owner = rows.customer(uow, staff)
    with db.unit_of_work(readonly=True) as uow:
        with pytest.raises(NotFound, match=owner.uid):
            monthly_sales(uow, other_tenant, owner.uid)
        with pytest.raises(NotFound):
            monthly_sales(uow, staff, "NOSUCHUID000")
