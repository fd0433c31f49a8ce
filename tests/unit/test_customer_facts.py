"""Customer facts on SQLite and PostgreSQL: visits as sessions pass, no-shows, cancellations,
money kept less refunds, other currencies, bulk inserts, merges and a currency change."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from core.actor import Actor
from core.db import Database
from core.models import Attendance, Booking, CustomerFacts, EventOccurrence, FactsReady, Workspace
from core.services import customer_facts as facts
from core.services.account import merge_customers
from core.services.appointments import book_appointment
from core.services.attendance import record_attendance
from core.services.bookings import book_event, cancel_booking
from core.services.checkout import ManualPayment
from core.services.customers import find_customer
from core.services.videos import assign_video
from tests.conftest import MutableClock
from tests.unit.commerce_helpers import Shop, london, manual_pass, new_customers, open_shop

BOOKED = "2026-03-12 09:00"
PAST = "2026-03-13 07:00"  # the day before the test clock's Saturday 14 Mar 2026, 09:30
MON = "2026-03-16 07:00"
WED = "2026-03-18 07:00"


@pytest.fixture
def shop(db: Database, staff: Actor) -> Shop:
    return open_shop(db, staff)


def _book(db: Database, actor: Actor, uid: str, session: int, price: int | None = None) -> int:
    """Booked on the Thursday before the test clock's day, when every session was ahead."""
    clock = db.clock
    assert isinstance(clock, MutableClock)
    now, clock.current = clock.current, london(BOOKED)
    try:
        with db.unit_of_work() as uow:
            return book_event(uow, actor, uid, session, ManualPayment(price)).id
    finally:
        clock.current = now


def _facts(db: Database, actor: Actor, uid: str) -> CustomerFacts | None:
    with db.unit_of_work() as uow:
        facts.ready(uow, actor.team_id)
        customer_id = find_customer(uow, actor, uid).id
        return uow.session.get(CustomerFacts, customer_id)


def _summary(row: CustomerFacts | None) -> tuple[int, int, int]:
    assert row is not None
    return row.visits, row.no_shows, row.spend_minor


def test_a_booked_session_becomes_a_visit_once_it_has_started(
    db: Database, staff: Actor, shop: Shop, clock: MutableClock
) -> None:
    (uid,) = new_customers(db, staff)
    _book(db, staff, uid, shop.session("yoga", PAST))
    _book(db, staff, uid, shop.session("yoga", MON))
    row = _facts(db, staff, uid)
    assert _summary(row) == (1, 0, 2400)
    assert row is not None
    assert row.first_visit_at == row.last_visit_at == london(PAST)
    assert row.next_visit_at == london(MON)

    clock.current = london(MON)  # the very minute it starts counts
    row = _facts(db, staff, uid)
    assert row is not None
    assert (row.visits, row.last_visit_at, row.next_visit_at) == (2, london(MON), None)


def test_cancelled_and_no_show_bookings_are_no_visits(
    db: Database, staff: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    cancelled = _book(db, staff, uid, shop.session("yoga", PAST))
    with db.unit_of_work() as uow:
        cancel_booking(uow, staff, cancelled)
    missed = _book(db, staff, uid, shop.session("yoga", PAST), price=0)
    with db.unit_of_work() as uow:
        version = uow.session.get_one(Booking, missed).version
        record_attendance(
            uow, staff, "booking", missed, Attendance.NO_SHOW, expected_version=version
        )
    row = _facts(db, staff, uid)
    # A manual booking cancelled keeps no money: nothing says it was ever taken.
    assert _summary(row) == (0, 1, 0)
    assert row is not None and row.last_visit_at is None


def test_money_kept_adds_passes_videos_and_appointments_less_refunds(
    db: Database, staff: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    manual_pass(db, staff, shop, uid, "ten")
    with db.unit_of_work() as uow:
        assign_video(uow, staff, uid, shop.videos["pilates"], payment=ManualPayment())
        book_appointment(
            uow,
            staff,
            uid,
            shop.services["physio"],
            shop.facilitators["tom"],
            london("2026-03-20 10:00").replace(tzinfo=None),
            ManualPayment(),
        )
    booking = _book(db, staff, uid, shop.session("yoga", PAST))
    with db.unit_of_work() as uow:
        uow.session.execute(update(Booking).where(Booking.id == booking).values(refunded_minor=500))
        facts.refresh(uow.session, [find_customer(uow, staff, uid).id], uow.now())
    assert _summary(_facts(db, staff, uid)) == (1, 0, 10000 + 1500 + 3500 + 1200 - 500)


def test_money_in_another_currency_is_not_added_to_the_workspaces(
    db: Database, staff: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    booking = _book(db, staff, uid, shop.session("yoga", PAST))
    with db.unit_of_work() as uow:
        uow.session.execute(update(Booking).where(Booking.id == booking).values(currency="EUR"))
        facts.refresh(uow.session, [find_customer(uow, staff, uid).id], uow.now())
    assert _summary(_facts(db, staff, uid)) == (1, 0, 0)


def test_a_workspaces_first_read_adds_up_every_customer_even_bulk_inserted_history(
    db: Database, staff: Actor, shop: Shop
) -> None:
    with_history, without = new_customers(db, staff, 2)
    booking = _book(db, staff, with_history, shop.session("yoga", PAST))
    with db.unit_of_work() as uow:
        # As a bulk load would: no ORM change for the commit hook to see.
        uow.session.execute(update(Booking).where(Booking.id == booking).values(price_minor=999))
        uow.session.execute(delete(FactsReady).where(FactsReady.team_id == staff.team_id))
    assert _summary(_facts(db, staff, with_history)) == (1, 0, 999)
    assert _summary(_facts(db, staff, without)) == (0, 0, 0)
    with db.unit_of_work() as uow:
        assert uow.session.get(FactsReady, staff.team_id) is not None


def test_a_merge_moves_the_sources_facts_to_the_kept_customer(
    db: Database, admin: Actor, shop: Shop
) -> None:
    source, target = new_customers(db, admin, 2)
    _book(db, admin, source, shop.session("yoga", PAST))
    _book(db, admin, target, shop.session("yoga", MON))
    with db.unit_of_work() as uow:
        merge_customers(uow, admin, source, target, reason="same person")
    assert _summary(_facts(db, admin, source)) == (0, 0, 0)
    row = _facts(db, admin, target)
    assert _summary(row) == (1, 0, 2400)
    assert row is not None and row.next_visit_at == london(MON)


def test_a_rolled_back_change_leaves_the_facts_as_they_were(
    db: Database, staff: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    _book(db, staff, uid, shop.session("yoga", PAST))

    def book_then_fail() -> None:
        with db.unit_of_work() as uow:
            book_event(uow, staff, uid, shop.session("yoga", WED), ManualPayment())
            raise RuntimeError("staff closed the form")

    with pytest.raises(RuntimeError):
        book_then_fail()
    assert _summary(_facts(db, staff, uid)) == (1, 0, 1200)


def test_changing_the_currency_adds_everyone_up_again(
    db: Database, staff: Actor, shop: Shop, clock: MutableClock
) -> None:
    (uid,) = new_customers(db, staff)
    _book(db, staff, uid, shop.session("yoga", PAST))
    assert _summary(_facts(db, staff, uid)) == (1, 0, 1200)
    with db.unit_of_work() as uow:
        uow.session.get_one(Workspace, staff.team_id).currency = "EUR"
    clock.advance(minutes=1)
    assert _summary(_facts(db, staff, uid)) == (1, 0, 0)
    with db.unit_of_work() as uow:
        refreshed = uow.session.scalars(select(CustomerFacts.refreshed_at)).all()
    assert refreshed == [clock.current]


def test_a_cancelled_session_takes_its_visits_away(db: Database, staff: Actor, shop: Shop) -> None:
    (uid,) = new_customers(db, staff)
    session = shop.session("yoga", PAST)
    _book(db, staff, uid, session)
    assert _summary(_facts(db, staff, uid)) == (1, 0, 1200)
    with db.unit_of_work() as uow:
        uow.session.get_one(EventOccurrence, session).cancelled = True
    assert _summary(_facts(db, staff, uid)) == (0, 0, 1200)


def test_checked_in_at_the_door_is_a_visit_before_the_session_starts(
    db: Database, staff: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    booking = _book(db, staff, uid, shop.session("yoga", MON))
    assert _summary(_facts(db, staff, uid)) == (0, 0, 1200)
    with db.unit_of_work() as uow:
        uow.session.get_one(Booking, booking).attendance = Attendance.ATTENDED
    row = _facts(db, staff, uid)
    assert row is not None
    assert (row.visits, row.last_visit_at, row.next_visit_at) == (1, london(MON), None)
