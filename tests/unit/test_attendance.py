"""Check-in on SQLite and PostgreSQL: Attended, No-show and Undo, when check-in opens, both
pass-credit rules with undo, cancellation and races, counts and repeated no-shows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from core.actor import Actor
from core.db import Database, UnitOfWork
from core.errors import Conflict, DomainError, NotFound, ValidationFailed
from core.models import Appointment, Attendance, Booking, CreditRule, Pass, Workspace
from core.services.appointments import book_appointment, cancel_appointment
from core.services.attendance import (
    ATTENDANCE_UNDONE,
    MARKED_ATTENDED,
    MARKED_NO_SHOW,
    AttendanceKind,
    Recorded,
    check_in_list,
    no_shows_since,
    record_attendance,
)
from core.services.bookings import book_event, cancel_booking, list_bookings, transfer_booking
from core.services.checkout import ManualPayment, PackagePayment
from core.services.customers import archive_customer
from core.services.figures import customer_figures
from tests.conftest import MutableClock
from tests.unit.commerce_helpers import (
    Shop,
    assert_credits_conserved,
    history_of,
    london,
    manual_pass,
    new_customers,
    open_shop,
)
from tests.unit.test_capacity_races import race

MON = "2026-03-16 07:00"
WED = "2026-03-18 07:00"
MON_TITLE = "Morning Yoga on 16 Mar 2026, 07:00 GMT"


@pytest.fixture
def shop(db: Database, staff: Actor) -> Shop:
    return open_shop(db, staff)


def _rule(db: Database, actor: Actor, rule: CreditRule) -> None:
    with db.unit_of_work() as uow:
        uow.session.execute(
            update(Workspace).where(Workspace.team_id == actor.team_id).values(credit_rule=rule)
        )


def _book(db: Database, actor: Actor, uid: str, session: int, pass_id: int | None = None) -> int:
    payment = PackagePayment(pass_id) if pass_id else ManualPayment()
    with db.unit_of_work() as uow:
        return book_event(uow, actor, uid, session, payment).id


def _version(uow: UnitOfWork, kind: AttendanceKind, row_id: int) -> int:
    model = Booking if kind == "booking" else Appointment
    row = uow.session.get(model, row_id, populate_existing=True)
    assert row is not None
    return row.version


def _mark(
    db: Database,
    actor: Actor,
    row_id: int,
    mark: Attendance | None,
    kind: AttendanceKind = "booking",
) -> Recorded:
    with db.unit_of_work() as uow:
        version = _version(uow, kind, row_id)
        return record_attendance(uow, actor, kind, row_id, mark, expected_version=version)


def _left(db: Database, pass_id: int) -> int:
    return assert_credits_conserved(db, pass_id).credits_remaining


def test_attended_no_show_and_undo_are_recorded_with_who_when_and_history(
    db: Database, staff: Actor, admin: Actor, shop: Shop, clock: MutableClock
) -> None:
    (uid,) = new_customers(db, staff)
    booking = _book(db, staff, uid, shop.session("yoga", MON))
    clock.current = london("2026-03-16 06:50")

    done = _mark(db, staff, booking, Attendance.ATTENDED)
    assert (done.attendance, done.attendance_by, done.attendance_at) == (
        Attendance.ATTENDED,
        staff.user_id,
        clock.current,
    )
    assert done.message == f"Marked Person0 Test attended at {MON_TITLE}."
    clock.advance(minutes=5)
    assert _mark(db, admin, booking, Attendance.NO_SHOW).attendance_by == admin.user_id
    undone = _mark(db, staff, booking, None)
    assert (undone.attendance, undone.attendance_by, undone.attendance_at) == (None, None, None)
    with db.unit_of_work(readonly=True) as uow:
        entries = history_of(uow, uid)[1:]
        assert [(e.action, e.actor) for e in entries] == [
            (MARKED_ATTENDED, staff.user_id),
            (MARKED_NO_SHOW, admin.user_id),
            (ATTENDANCE_UNDONE, staff.user_id),
        ]
        assert entries[1].changes == {"attendance": ["attended", "no_show"]}
        assert entries[2].detail == (
            f"undid Person0 Test's attendance at {MON_TITLE} (was a no-show), booking #{booking}"
        )
        (row,) = list_bookings(uow, staff, uid).rows
        assert (row.attendance, row.check_in_open) == (None, True)


def test_check_in_opens_on_the_sessions_day_and_refuses_cancelled_bookings(
    db: Database, staff: Actor, shop: Shop, clock: MutableClock
) -> None:
    a, b = new_customers(db, staff, 2)
    monday = _book(db, staff, a, shop.session("yoga", MON))
    cancelled = _book(db, staff, b, shop.session("yoga", MON))
    with db.unit_of_work() as uow:
        cancel_booking(uow, staff, cancelled)
        assert list_bookings(uow, staff, a).rows[0].check_in_open is False
    clock.current = london("2026-03-15 23:59")
    with pytest.raises(DomainError, match="check-in opens on its day, 16 Mar 2026"):
        _mark(db, staff, monday, Attendance.ATTENDED)
    clock.current = london("2026-03-16 00:00")
    assert _mark(db, staff, monday, Attendance.ATTENDED).attendance is Attendance.ATTENDED
    with pytest.raises(DomainError, match="is cancelled; nobody attends it"):
        _mark(db, staff, cancelled, Attendance.ATTENDED)
    # A booking checked in stays on its session.
    with db.unit_of_work() as uow, pytest.raises(DomainError, match="undo that before moving"):
        transfer_booking(uow, staff, monday, shop.session("yoga", WED))


def test_a_stale_version_is_refused_but_the_same_mark_twice_changes_nothing(
    db: Database, staff: Actor, admin: Actor, shop: Shop, clock: MutableClock
) -> None:
    (uid,) = new_customers(db, staff)
    booking = _book(db, staff, uid, shop.session("yoga", MON))
    clock.current = london(MON)
    with db.unit_of_work(readonly=True) as uow:
        seen = _version(uow, "booking", booking)
    _mark(db, admin, booking, Attendance.NO_SHOW)
    with db.unit_of_work() as uow, pytest.raises(Conflict) as stale:
        record_attendance(
            uow, staff, "booking", booking, Attendance.ATTENDED, expected_version=seen
        )
    assert "changed by someone else meanwhile; it is now a no-show" in stale.value.message
    assert stale.value.changed_by == admin.user_id
    with db.unit_of_work() as uow:
        again = record_attendance(
            uow, staff, "booking", booking, Attendance.NO_SHOW, expected_version=seen
        )
    assert again.message == f"Booking #{booking} is already a no-show."
    with db.unit_of_work(readonly=True) as uow:
        assert [e.action for e in history_of(uow, uid)].count(MARKED_NO_SHOW) == 1


def test_other_workspaces_and_other_customers_rows_are_not_found(
    db: Database, staff: Actor, other_tenant: Actor, shop: Shop, clock: MutableClock
) -> None:
    a, b = new_customers(db, staff, 2)
    booking = _book(db, staff, a, shop.session("yoga", MON))
    clock.current = london(MON)
    with db.unit_of_work() as uow, pytest.raises(NotFound):
        record_attendance(
            uow, other_tenant, "booking", booking, Attendance.ATTENDED, expected_version=1
        )
    with db.unit_of_work() as uow, pytest.raises(NotFound):
        record_attendance(
            uow, staff, "booking", booking, Attendance.ATTENDED, expected_version=1, uid=b
        )


def test_credit_at_booking_is_unchanged_by_check_in(
    db: Database, staff: Actor, shop: Shop, clock: MutableClock
) -> None:
    (uid,) = new_customers(db, staff)
    pass_id = manual_pass(db, staff, shop, uid)
    booking = _book(db, staff, uid, shop.session("yoga", MON), pass_id)
    assert _left(db, pass_id) == 9
    clock.current = london(MON)
    for mark in (Attendance.ATTENDED, Attendance.NO_SHOW, None, Attendance.ATTENDED):
        _mark(db, staff, booking, mark)
        assert _left(db, pass_id) == 9
    with db.unit_of_work() as uow:
        cancel_booking(uow, staff, booking)
    assert _left(db, pass_id) == 10


def test_credit_at_check_in_is_taken_on_attended_and_given_back_on_undo(
    db: Database, staff: Actor, shop: Shop, clock: MutableClock
) -> None:
    (uid,) = new_customers(db, staff)
    pass_id = manual_pass(db, staff, shop, uid)
    _rule(db, staff, CreditRule.AT_CHECK_IN)
    booking = _book(db, staff, uid, shop.session("yoga", MON), pass_id)
    assert _left(db, pass_id) == 10
    # The rule a booking was made under stays with it.
    _rule(db, staff, CreditRule.AT_BOOKING)
    clock.current = london(MON)
    assert _mark(db, staff, booking, Attendance.NO_SHOW).message.endswith(
        "a no-show at " + MON_TITLE + "."
    )
    assert _left(db, pass_id) == 10
    done = _mark(db, staff, booking, Attendance.ATTENDED)
    assert done.message.endswith(f"; 1 CR taken from 10-class pass #{pass_id}.")
    assert _left(db, pass_id) == 9
    _mark(db, staff, booking, None)
    assert _left(db, pass_id) == 10
    _mark(db, staff, booking, Attendance.ATTENDED)
    with db.unit_of_work(readonly=True) as uow:
        entries = history_of(uow, uid)
        assert "(1 CR from 10-class pass" in entries[1].detail
        assert "taken at check-in" in entries[1].detail
        label = f"credits left on 10-class pass #{pass_id}"
        assert [e.changes.get(label) for e in entries[-3:]] == [[10, 9], [9, 10], [10, 9]]
    # Cancelling gives back only what was taken.
    with db.unit_of_work() as uow:
        assert "1 CR returned" in cancel_booking(uow, staff, booking).message
    assert _left(db, pass_id) == 10


def test_credit_at_check_in_a_cancelled_unattended_booking_returns_nothing(
    db: Database, staff: Actor, shop: Shop, clock: MutableClock
) -> None:
    (uid,) = new_customers(db, staff)
    pass_id = manual_pass(db, staff, shop, uid, "intro")
    _rule(db, staff, CreditRule.AT_CHECK_IN)
    booking = _book(db, staff, uid, shop.session("yoga", MON), pass_id)
    clock.current = london(MON)
    _mark(db, staff, booking, Attendance.NO_SHOW)
    with db.unit_of_work() as uow:
        assert "returned" not in cancel_booking(uow, staff, booking).message
    assert _left(db, pass_id) == 3


def test_credit_at_check_in_keeps_promised_credits_and_refuses_when_none_are_left(
    db: Database, staff: Actor, shop: Shop, clock: MutableClock
) -> None:
    (uid,) = new_customers(db, staff)
    pass_id = manual_pass(db, staff, shop, uid, "intro")
    _rule(db, staff, CreditRule.AT_CHECK_IN)
    # Café Barre costs 2 of the intro pass's 3 credits: a second session of 1 still fits…
    barre = _book(db, staff, uid, shop.session("barre", "2026-03-21 10:00"), pass_id)
    _book(db, staff, uid, shop.session("yoga", MON), pass_id)
    # …but a third doesn't: the 3 credits are promised to the two check-ins to come.
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        book_event(uow, staff, uid, shop.session("yoga", WED), PackagePayment(pass_id))
    assert "3 CR left, 3 CR of them kept for check-ins" in refused.value.errors["pass_id"]
    # Credits taken elsewhere meanwhile: Attended says why it can't take the credit.
    with db.unit_of_work() as uow:
        uow.session.execute(update(Pass).where(Pass.id == pass_id).values(credits_remaining=1))
    clock.current = london("2026-03-21 09:00")
    with pytest.raises(DomainError, match=r"has 1 CR left; this costs 2 CR\. The credit for"):
        _mark(db, staff, barre, Attendance.ATTENDED)


def test_two_simultaneous_attended_take_one_credit(
    db: Database, staff: Actor, admin: Actor, shop: Shop, clock: MutableClock
) -> None:
    (uid,) = new_customers(db, staff)
    pass_id = manual_pass(db, staff, shop, uid)
    _rule(db, staff, CreditRule.AT_CHECK_IN)
    booking = _book(db, staff, uid, shop.session("yoga", MON), pass_id)
    clock.current = london(MON)

    def attend(actor: Actor, uow: UnitOfWork) -> object:
        return record_attendance(
            uow, actor, "booking", booking, Attendance.ATTENDED, expected_version=1
        )

    assert race(db, [lambda uow: attend(staff, uow), lambda uow: attend(admin, uow)]) == [
        None,
        None,
    ]
    assert _left(db, pass_id) == 9
    with db.unit_of_work(readonly=True) as uow:
        assert [e.action for e in history_of(uow, uid)].count(MARKED_ATTENDED) == 1


def test_appointments_check_in_like_bookings(
    db: Database, staff: Actor, shop: Shop, clock: MutableClock
) -> None:
    (uid,) = new_customers(db, staff)
    pass_id = manual_pass(db, staff, shop, uid)
    _rule(db, staff, CreditRule.AT_CHECK_IN)
    with db.unit_of_work() as uow:
        appointment = book_appointment(
            uow,
            staff,
            uid,
            shop.services["massage"],
            shop.facilitators["tom"],
            london(MON).replace(tzinfo=None),
            PackagePayment(pass_id),
        ).id
    assert _left(db, pass_id) == 10
    clock.current = london(MON)
    done = _mark(db, staff, appointment, Attendance.ATTENDED, "appointment")
    assert done.message.startswith("Marked Person0 Test attended at Sports Massage on 16 Mar")
    assert _left(db, pass_id) == 7
    with db.unit_of_work() as uow:
        cancel_appointment(uow, staff, appointment)
    assert _left(db, pass_id) == 10
    with pytest.raises(DomainError, match="is cancelled"):
        _mark(db, staff, appointment, None, "appointment")


def test_counts_list_and_repeated_no_shows(
    db: Database, staff: Actor, shop: Shop, clock: MutableClock
) -> None:
    a, b, c = new_customers(db, staff, 3)
    monday = shop.session("yoga", MON)
    bookings = {uid: _book(db, staff, uid, monday) for uid in (a, b, c)}
    clock.current = london(MON)
    _mark(db, staff, bookings[a], Attendance.NO_SHOW)
    _mark(db, staff, bookings[b], Attendance.ATTENDED)
    with db.unit_of_work(readonly=True) as uow:
        counts = customer_figures(uow, staff, a)
        assert (counts.visits, counts.no_shows) == (0, 1)
        counts = customer_figures(uow, staff, b)
        assert (counts.visits, counts.no_shows) == (1, 0)
        listed = check_in_list(uow, staff, monday)
        assert (listed.event_name, listed.open, listed.capacity) == ("Morning Yoga", True, 3)
        assert [(r.name, r.attendance) for r in listed.rows] == [
            ("Person0 Test", Attendance.NO_SHOW),
            ("Person1 Test", Attendance.ATTENDED),
            ("Person2 Test", None),
        ]
        since = london(MON) - timedelta(days=30)
        (found,) = no_shows_since(uow, staff, since, at_least=1)
        assert (found.uid, found.name, found.no_shows) == (a, "Person0 Test", 1)
        assert no_shows_since(uow, staff, since, at_least=2) == []
        assert no_shows_since(uow, staff, london(MON) + timedelta(minutes=1), at_least=1) == []
    with db.unit_of_work() as uow:
        archive_customer(uow, staff, a)
    with db.unit_of_work(readonly=True) as uow:
        assert no_shows_since(uow, staff, since, at_least=1) == []
        with pytest.raises(NotFound):
            check_in_list(uow, staff, 10**9)
