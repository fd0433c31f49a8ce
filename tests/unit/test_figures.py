"""A customer's figures on SQLite and PostgreSQL: visits (a visit exactly 90 days ago counts),
no-shows, spend by currency net of refunds, the monthly average, and a customer with none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from core.actor import Actor
from core.db import Database
from core.models import (
    Appointment,
    AppointmentState,
    Attendance,
    Booking,
    BookingState,
    Customer,
    Pass,
    PassState,
    PaymentMethod,
    RefundState,
    VideoPurchase,
)
from core.services.bookings import book_event
from core.services.checkout import ManualPayment
from core.services.figures import Figures, customer_figures, months_since, per_month
from core.services.workspaces import ensure_workspace
from tests.conftest import MutableClock
from tests.unit.commerce_helpers import Shop, new_customers, open_shop

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
MON = "2026-03-16 07:00"


@pytest.fixture
def shop(db: Database, staff: Actor) -> Shop:
    return open_shop(db, staff)


def _owner(db: Database, uid: str) -> int:
    with db.unit_of_work(readonly=True) as uow:
        return int(uow.session.scalars(select(Customer.id).where(Customer.uid == uid)).one())


def _book(db: Database, actor: Actor, uid: str, session: int) -> int:
    with db.unit_of_work() as uow:
        return book_event(uow, actor, uid, session, ManualPayment()).id


def _appointment(db: Database, shop: Shop, uid: str, **values: Any) -> None:
    row: dict[str, Any] = {
        "team_id": "T0001",
        "customer_id": _owner(db, uid),
        "service_id": next(iter(shop.services.values())),
        "facilitator_id": next(iter(shop.facilitators.values())),
        "booked_at": NOW - timedelta(days=200),
        "starts_at": NOW,
        "duration_minutes": 45,
        "price_minor": None,
        "credits": None,
        "currency": "GBP",
        "payment_method": PaymentMethod.MANUAL,
        "state": AppointmentState.SCHEDULED,
        **values,
    }
    with db.unit_of_work() as uow:
        uow.session.add(Appointment(**row))


def _figures(db: Database, actor: Actor, uid: str) -> Figures:
    with db.unit_of_work(readonly=True) as uow:
        return customer_figures(uow, actor, uid)


def test_a_customer_with_no_records_has_no_visits_and_no_spend(db: Database, staff: Actor) -> None:
    (uid,) = new_customers(db, staff)
    figures = _figures(db, staff, uid)
    assert figures == Figures(None, None, 0, 0, 0, [])


def test_visits_no_shows_and_the_90_day_boundary(
    db: Database, staff: Actor, shop: Shop, clock: MutableClock
) -> None:
    (uid,) = new_customers(db, staff)
    exactly, just_before = NOW - timedelta(days=90), NOW - timedelta(days=90, seconds=1)
    attended = Attendance.ATTENDED
    _appointment(db, shop, uid, starts_at=exactly, attendance=attended)
    _appointment(db, shop, uid, starts_at=just_before, attendance=attended)
    _appointment(db, shop, uid, starts_at=NOW - timedelta(days=400), attendance=attended)
    _appointment(db, shop, uid, starts_at=NOW - timedelta(days=5), attendance=Attendance.NO_SHOW)
    # A cancelled row is no visit; an unmarked one that has started is (studios that never
    # check in still have visits).
    _appointment(
        db,
        shop,
        uid,
        starts_at=NOW - timedelta(days=1),
        attendance=attended,
        state=AppointmentState.CANCELLED,
    )
    _appointment(db, shop, uid, starts_at=NOW - timedelta(days=2))
    # A session still to come is a visit once checked in (at the door, before it starts).
    booking = _book(db, staff, uid, shop.session("yoga", MON))
    with db.unit_of_work() as uow:
        uow.session.execute(
            update(Booking).where(Booking.id == booking).values(attendance=attended)
        )
    clock.current = NOW
    figures = _figures(db, staff, uid)
    assert figures.visits == 5
    assert figures.recent_visits == 3  # exactly 90 days ago, the unmarked one, the session
    assert figures.no_shows == 1
    assert figures.first_visit == NOW - timedelta(days=400)
    assert figures.last_visit is not None and figures.last_visit > NOW


def test_spend_by_currency_net_of_refunds(
    db: Database, staff: Actor, shop: Shop, clock: MutableClock
) -> None:
    (uid, other) = new_customers(db, staff, 2)
    owner = _owner(db, uid)
    clock.current = NOW
    with db.unit_of_work() as uow:
        ensure_workspace(uow, "T0001")
        common: dict[str, Any] = {"team_id": "T0001", "customer_id": owner}
        uow.session.add_all(
            [
                # £90 pass bought manually 3 months ago: the first purchase in GBP.
                Pass(
                    **common,
                    pass_type_id=next(iter(shop.pass_types.values())),
                    purchased_at=NOW - timedelta(days=92),
                    valid_from=NOW.date(),
                    valid_to=NOW.date(),
                    credits_total=10,
                    credits_remaining=10,
                    price_minor=9000,
                    currency="GBP",
                    payment_method=PaymentMethod.MANUAL,
                    state=PassState.MANUAL,
                ),
                # €30 by Stripe, €10 of it refunded; cancelled, the €20 is still kept.
                Booking(
                    **common,
                    occurrence_id=shop.session("yoga", MON),
                    booked_at=NOW - timedelta(days=10),
                    price_minor=3000,
                    credits=None,
                    currency="EUR",
                    state=BookingState.CANCELLED,
                    payment_method=PaymentMethod.STRIPE,
                    stripe_payment_intent_id="pi_figures",
                    refunded_minor=1000,
                    refund_state=RefundState.PARTIAL,
                ),
                # A fully refunded one spent nothing.
                Booking(
                    **common,
                    occurrence_id=shop.session("yoga", MON),
                    booked_at=NOW - timedelta(days=400),
                    price_minor=5000,
                    credits=None,
                    currency="EUR",
                    state=BookingState.COMPLETED,
                    payment_method=PaymentMethod.STRIPE,
                    stripe_payment_intent_id="pi_refunded",
                    refunded_minor=5000,
                    refund_state=RefundState.FULL,
                ),
                # A cancelled manual payment, credits and unpaid rows are no spend.
                Booking(
                    **common,
                    occurrence_id=shop.session("yoga", MON),
                    booked_at=NOW - timedelta(days=500),
                    price_minor=1200,
                    credits=None,
                    currency="GBP",
                    state=BookingState.CANCELLED,
                    payment_method=PaymentMethod.MANUAL,
                ),
                VideoPurchase(
                    **common,
                    video_id=next(iter(shop.videos.values())),
                    purchased_at=NOW - timedelta(days=1),
                    expires_at=None,
                    price_minor=None,
                    credits=2,
                    currency="GBP",
                    payment_method=PaymentMethod.PACKAGE,
                ),
                VideoPurchase(
                    **common,
                    video_id=next(iter(shop.videos.values())),
                    purchased_at=NOW - timedelta(days=1),
                    expires_at=None,
                    price_minor=600,
                    credits=None,
                    currency="GBP",
                    payment_method=PaymentMethod.UNPAID,
                ),
                VideoPurchase(
                    **common,
                    video_id=next(iter(shop.videos.values())),
                    purchased_at=NOW - timedelta(days=1),
                    expires_at=None,
                    price_minor=500,
                    credits=None,
                    currency="GBP",
                    payment_method=PaymentMethod.MANUAL,
                ),
            ]
        )
    _appointment(db, shop, uid, price_minor=4000, payment_method=PaymentMethod.MANUAL)
    spend = {s.currency: s for s in _figures(db, staff, uid).spend}
    assert [*spend] == ["EUR", "GBP"]
    assert spend["EUR"].total_minor == 2000
    assert spend["EUR"].per_month_minor == 2000  # within the first month
    assert spend["GBP"].total_minor == 9000 + 4000 + 500
    assert spend["GBP"].first_at == NOW - timedelta(days=200)
    # The appointment booked 200 days ago is the first GBP purchase: 6 whole months.
    assert spend["GBP"].per_month_minor == per_month(13500, 6) == 2250
    assert _figures(db, staff, other).spend == []


def test_another_workspace_sees_nothing(
    db: Database, staff: Actor, shop: Shop, other_tenant: Actor
) -> None:
    (uid,) = new_customers(db, staff)
    _appointment(db, shop, uid, attendance=Attendance.ATTENDED, price_minor=100)
    assert _figures(db, other_tenant, uid) == Figures(None, None, 0, 0, 0, [])


@pytest.mark.parametrize(
    ("first", "now", "months"),
    [
        (datetime(2026, 3, 14, tzinfo=UTC), datetime(2026, 3, 14, tzinfo=UTC), 1),
        (datetime(2026, 1, 31, tzinfo=UTC), datetime(2026, 2, 28, tzinfo=UTC), 1),
        (datetime(2026, 1, 14, tzinfo=UTC), datetime(2026, 3, 14, tzinfo=UTC), 2),
        (datetime(2026, 1, 14, 10, tzinfo=UTC), datetime(2026, 3, 14, 9, tzinfo=UTC), 1),
        (datetime(2024, 3, 14, tzinfo=UTC), datetime(2026, 3, 15, tzinfo=UTC), 24),
    ],
)
def test_months_since_counts_whole_months_and_at_least_one(
    first: datetime, now: datetime, months: int
) -> None:
    assert months_since(first, now) == months


def test_per_month_rounds_half_up() -> None:
    assert per_month(1000, 3) == 333
    assert per_month(1001, 2) == 501
    assert per_month(0, 4) == 0
