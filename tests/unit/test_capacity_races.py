"""Concurrent requests, each in its own unit of work on its own thread, released together.

No place is sold twice, no facilitator double-booked, no payment or credit spent twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time
from functools import partial

from sqlalchemy import func, select, update

from core.actor import Actor
from core.db import Database, UnitOfWork
from core.errors import DomainError
from core.models import Appointment, Booking, BookingState, EventOccurrence, PaymentIntentUse
from core.services.appointments import book_appointment
from core.services.bookings import book_event, transfer_booking
from core.services.checkout import ManualPayment, PackagePayment, StripePayment
from core.services.events import EventDraft, add_event
from core.services.passes import adjust_pass_credits, assign_pass
from core.services.videos import assign_video
from tests.unit.commerce_helpers import (
    FakeStripeGateway,
    assert_credits_conserved,
    new_customers,
    open_shop,
)

MON = "2026-03-16 07:00"


def race(db: Database, requests: list[Callable[[UnitOfWork], object]]) -> list[str | None]:
    """Run each request in its own unit of work at once; None for success, else the refusal."""
    connected = threading.Barrier(len(requests))
    start = threading.Barrier(len(requests))

    def run(request: Callable[[UnitOfWork], object]) -> str | None:
        # Every thread holds a connection at once first, so the pool has one ready for each
        # and no request is held back by connecting while the others race.
        with db.unit_of_work(readonly=True) as uow:
            uow.session.execute(select(1))
            connected.wait(timeout=10)
        start.wait(timeout=10)
        try:
            with db.unit_of_work() as uow:
                request(uow)
        except DomainError as exc:
            return exc.message
        return None

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(run, requests))


def _places(db: Database, occurrence_id: int, capacity: int) -> None:
    with db.unit_of_work() as uow:
        uow.session.execute(
            update(EventOccurrence)
            .where(EventOccurrence.id == occurrence_id)
            .values(capacity=capacity)
        )


def _bookings(db: Database, occurrence_id: int) -> int:
    with db.unit_of_work(readonly=True) as uow:
        query = select(func.count()).where(
            Booking.occurrence_id == occurrence_id, Booking.state != BookingState.CANCELLED
        )
        return uow.session.scalar(query) or 0


def test_n_plus_one_concurrent_bookings_for_n_places_sell_exactly_n(
    db: Database, staff: Actor
) -> None:
    places = 4
    shop = open_shop(db, staff)
    monday = shop.session("yoga", MON)
    _places(db, monday, places)
    uids = new_customers(db, staff, places + 1)

    def book(uid: str, uow: UnitOfWork) -> object:
        return book_event(uow, staff, uid, monday, ManualPayment())

    outcomes = race(db, [partial(book, uid) for uid in uids])
    assert outcomes.count(None) == places
    assert [o for o in outcomes if o is not None] == [
        "Morning Yoga on 16 Mar 2026, 07:00 GMT is full (4 of 4 places taken); "
        "choose another session."
    ]
    assert _bookings(db, monday) == places


def test_a_transfer_and_a_booking_racing_for_the_last_place_get_one_place(
    db: Database, staff: Actor
) -> None:
    shop = open_shop(db, staff)
    monday, wednesday = shop.session("yoga", MON), shop.session("yoga", "2026-03-18 07:00")
    _places(db, wednesday, 1)
    mover, newcomer = new_customers(db, staff, 2)
    with db.unit_of_work() as uow:
        booking = book_event(uow, staff, mover, monday, ManualPayment()).id
    outcomes = race(
        db,
        [
            lambda uow: transfer_booking(uow, staff, booking, wednesday),
            lambda uow: book_event(uow, staff, newcomer, wednesday, ManualPayment()),
        ],
    )
    assert outcomes.count(None) == 1
    assert "is full (1 of 1 places taken)" in next(o for o in outcomes if o)
    assert _bookings(db, wednesday) == 1


def test_two_overlapping_appointments_with_one_facilitator_only_one_is_booked(
    db: Database, staff: Actor
) -> None:
    shop = open_shop(db, staff)
    a, b = new_customers(db, staff, 2)
    tom, massage, physio = (
        shop.facilitators["tom"],
        shop.services["massage"],
        shop.services["physio"],
    )
    outcomes = race(
        db,
        [
            lambda uow: book_appointment(
                uow, staff, a, massage, tom, datetime(2026, 3, 16, 10, 0), ManualPayment()
            ),
            lambda uow: book_appointment(
                uow, staff, b, physio, tom, datetime(2026, 3, 16, 10, 30), ManualPayment()
            ),
        ],
    )
    assert outcomes.count(None) == 1
    assert "Tom Baker already has an appointment on 16 Mar 2026" in next(o for o in outcomes if o)
    with db.unit_of_work(readonly=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Appointment)) == 1


def test_one_stripe_payment_recorded_twice_at_once_pays_for_one_booking(
    db: Database, staff: Actor
) -> None:
    shop = open_shop(db, staff)
    a, b = new_customers(db, staff, 2)
    stripe = FakeStripeGateway()
    intent = stripe.add("pi_Twice", 1200)
    sessions = (shop.session("yoga", MON), shop.session("yoga", "2026-03-18 07:00"))
    outcomes = race(
        db,
        [
            lambda uow: book_event(
                uow, staff, a, sessions[0], StripePayment(intent), gateway=stripe
            ),
            lambda uow: book_event(
                uow, staff, b, sessions[1], StripePayment(intent), gateway=stripe
            ),
        ],
    )
    assert outcomes.count(None) == 1
    assert f"{intent} already pays for booking #" in next(o for o in outcomes if o)
    with db.unit_of_work(readonly=True) as uow:
        paid = select(func.count()).where(Booking.stripe_payment_intent_id == intent)
        assert uow.session.scalar(paid) == 1


def test_one_stripe_payment_recorded_in_two_workspaces_at_once_pays_once(
    db: Database, staff: Actor, other_tenant: Actor
) -> None:
    stripe = FakeStripeGateway()
    paid = StripePayment(stripe.add("pi_Crossed", 1200))
    bookers = [
        (actor, open_shop(db, actor), *new_customers(db, actor)) for actor in (staff, other_tenant)
    ]
    outcomes = race(
        db,
        [
            partial(
                lambda actor, shop, uid, uow: book_event(
                    uow, actor, uid, shop.session("yoga", MON), paid, gateway=stripe
                ),
                actor,
                shop,
                uid,
            )
            for actor, shop, uid in bookers
        ],
    )
    assert outcomes.count(None) == 1, outcomes
    # The workspace that lost is not told whose booking the payment is on.
    assert [o for o in outcomes if o] == [
        "pi_Crossed already pays for a booking in another workspace; "
        "one payment pays for one purchase."
    ]
    with db.unit_of_work(readonly=True) as uow:
        paid_rows = select(func.count()).where(Booking.stripe_payment_intent_id == "pi_Crossed")
        assert uow.session.scalar(paid_rows) == 1
        assert uow.session.scalar(select(func.count()).select_from(PaymentIntentUse)) == 1


def test_the_last_credit_of_a_pass_pays_for_only_one_of_two_purchases_at_once(
    db: Database, staff: Actor
) -> None:
    shop = open_shop(db, staff)
    (uid,) = new_customers(db, staff)
    with db.unit_of_work() as uow:
        pass_id = assign_pass(uow, staff, uid, shop.pass_types["intro"], payment=ManualPayment()).id
        book_event(uow, staff, uid, shop.session("yoga", MON), PackagePayment(pass_id))
        adjust_pass_credits(uow, staff, pass_id, -1, "one class taken before the app")
    last = PackagePayment(pass_id)
    outcomes = race(
        db,
        [
            lambda uow: book_event(uow, staff, uid, shop.session("yoga", "2026-03-18 07:00"), last),
            lambda uow: assign_video(uow, staff, uid, shop.videos["runners"], payment=last),
        ],
    )
    assert outcomes.count(None) == 1
    assert f"pass_id: Intro pass #{pass_id} has 0 CR left; this costs 1 CR." in outcomes
    assert assert_credits_conserved(db, pass_id).credits_remaining == 0


def _book_manually(actor: Actor, occurrence_id: int, uid: str, uow: UnitOfWork) -> object:
    return book_event(uow, actor, uid, occurrence_id, ManualPayment())


def test_twenty_concurrent_bookings_for_the_last_places_of_an_event_added_in_slack(
    db: Database, admin: Actor
) -> None:
    draft = EventDraft(
        name="Sunrise Yoga",
        day=date(2026, 3, 20),
        start=time(7, 0),
        end=time(8, 0),
        capacity="10",
        price="12",
    )
    with db.unit_of_work() as uow:
        add_event(uow, admin, draft)
        occurrence = uow.session.scalar(select(EventOccurrence.id))
    assert occurrence is not None
    early, racers = new_customers(db, admin, 7), new_customers(db, admin, 20)
    with db.unit_of_work() as uow:
        for uid in early:
            book_event(uow, admin, uid, occurrence, ManualPayment())
    # Twenty requests at once need twenty connections; the default pool holds fifteen.
    wide = Database(db.settings, clock=db.clock, pool_size=len(racers), max_overflow=0)
    try:
        outcomes = race(
            wide,
            [partial(_book_manually, admin, occurrence, uid) for uid in racers],
        )
    finally:
        wide.dispose()
    assert outcomes.count(None) == 3
    refusals = {o for o in outcomes if o is not None}
    assert refusals == {
        "Sunrise Yoga on 20 Mar 2026, 07:00 GMT is full (10 of 10 places taken); "
        "choose another session."
    }
    assert _bookings(db, occurrence) == 10
