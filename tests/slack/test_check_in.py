"""Check-in end to end: Attended / No-show / Undo on the Bookings tab and in a session's
check-in list, both pass-credit rules, a stale list, two desks at once, and the counts."""

# ruff: noqa: F811 - tests take the imported fixtures as parameters

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from sqlalchemy import update

from bot.local import SlackDriver
from core.actor import Actor
from core.models import Attendance, CreditRule, Role, Workspace
from core.services.appointments import book_appointment
from core.services.attendance import record_attendance
from core.services.bookings import book_event, cancel_booking
from core.services.checkout import ManualPayment, PackagePayment, PaymentChoice
from tests.conftest import MutableClock
from tests.slack.commerce_helpers import (  # noqa: F401 - fixtures
    ZOE,
    Shop,
    shop,
    utc,
)
from tests.slack.conftest import ADMIN, STAFF, TEAM
from tests.slack.details_helpers import details_after, go_to_tab, notice_of, open_details
from tests.slack.helpers import JSON, after, forged_action, interaction, post_signed, text_of
from tests.stripe_server import stripe_process, stripe_server  # noqa: F401 - fixtures
from tests.views_check import assert_valid_view

CHECKIN = "checkin.view"
STAFF_ACTOR = Actor(TEAM, STAFF, Role.STAFF)


def _rule(shop: Shop, rule: CreditRule) -> None:
    with shop.db.unit_of_work() as uow:
        uow.session.execute(
            update(Workspace).where(Workspace.team_id == TEAM).values(credit_rule=rule)
        )


def _book(shop: Shop, uid: str, payment: PaymentChoice, session: str = "16") -> int:
    with shop.db.unit_of_work() as uow:
        return book_event(uow, STAFF_ACTOR, uid, shop.sessions[session], payment).id


def _open_checkin(driver: SlackDriver, occurrence_id: int) -> JSON:
    """Press a session's Check in button (as Home's Today shows it): its check-in list."""
    after(driver, driver.open_home(), "views.publish")
    home = driver.wait_for_view(surface="home")
    press = {
        "type": "button",
        "action_id": "open_checkin",
        "block_id": "today",
        "value": str(occurrence_id),
    }
    after(driver, forged_action(driver, home, press), "views.open")
    modal = driver.wait_for_view(lambda v: v["callback_id"] == CHECKIN)
    assert_valid_view(modal)
    return modal


def _pressed(driver: SlackDriver, label: str, booking_id: int, *needles: str) -> JSON:
    """Press a button beside a booking in the check-in list; the list as redrawn in place."""
    after(driver, driver.click(label, in_block=f"checkin_{booking_id}"), "views.update")
    view = driver.wait_for_view(
        lambda v: v["callback_id"] == CHECKIN and all(n in text_of(v) for n in needles)
    )
    assert_valid_view(view)
    return view


def test_check_in_and_undo_from_the_bookings_tab_with_the_credit_taken_at_check_in(
    shop: Shop, clock: MutableClock
) -> None:
    _rule(shop, CreditRule.AT_CHECK_IN)
    booking = _book(shop, shop.uid, PackagePayment(shop.pass_id))
    assert shop.credits_left() == 10
    driver = shop.world.staff
    # Before the session's day the row offers nothing to record.
    details = open_details(driver, ZOE)
    assert f"attendance_{booking}" not in str(details)
    assert "Attended 0 · No-shows 0" in text_of(details)

    clock.current = utc("2026-03-16 06:55")
    open_details(driver, ZOE)
    view = details_after(
        driver,
        driver.click("Attended", in_block=f"attendance_{booking}"),
        "Marked Zoë Adams attended",
    )
    assert_valid_view(view)
    assert "1 CR taken from 10-class pass" in notice_of(view)
    assert "Attended · recorded by <@USTAFF> · 16 Mar 2026, 06:55 GMT" in text_of(view)
    assert "Attended 1 · No-shows 0" in text_of(view)
    assert shop.credits_left() == 9

    view = details_after(driver, driver.click("Undo", in_block=f"attendance_{booking}"), "Undid")
    assert "1 CR returned to 10-class pass" in notice_of(view)
    assert shop.credits_left() == 10
    view = details_after(
        driver, driver.click("No-show", in_block=f"attendance_{booking}"), "a no-show at"
    )
    assert "Attended 0 · No-shows 1" in text_of(view)
    assert shop.credits_left() == 10
    assert shop.history()[1:] == [
        "event booked",
        "marked attended",
        "attendance undone",
        "marked no-show",
    ]
    # Cancelling a no-show gives back nothing: nothing was taken.
    with shop.db.unit_of_work() as uow:
        assert "returned" not in cancel_booking(uow, STAFF_ACTOR, booking).message
    assert shop.credits_left() == 10


def test_credit_at_booking_stays_taken_whatever_check_in_records(
    shop: Shop, clock: MutableClock
) -> None:
    booking = _book(shop, shop.uid, PackagePayment(shop.pass_id))
    assert shop.credits_left() == 9
    clock.current = utc("2026-03-16 07:10")
    driver = shop.world.staff
    open_details(driver, ZOE)
    view = details_after(
        driver, driver.click("Attended", in_block=f"attendance_{booking}"), "attended at"
    )
    assert "taken" not in notice_of(view)
    details_after(driver, driver.click("Undo", in_block=f"attendance_{booking}"), "Undid")
    assert shop.credits_left() == 9
    with shop.db.unit_of_work() as uow:
        assert "1 CR returned" in cancel_booking(uow, STAFF_ACTOR, booking).message
    assert shop.credits_left() == 10


def test_the_check_in_list_records_in_place_and_refuses_a_stale_press(
    shop: Shop, clock: MutableClock
) -> None:
    _rule(shop, CreditRule.AT_CHECK_IN)
    zoe = _book(shop, shop.uid, PackagePayment(shop.pass_id))
    sam = _book(shop, shop.other_uid, ManualPayment())
    clock.current = utc("2026-03-16 07:02")
    driver = shop.world.staff
    modal = _open_checkin(driver, shop.sessions["16"])
    shown = text_of(modal)
    assert "Morning Yoga" in shown and "2 of 20 booked · 0 checked in" in shown
    assert "Zoë Adams · pass (1 CR)" in shown and "Sam Other · paid" in shown

    view = _pressed(driver, "Attended", zoe, "Marked Zoë Adams attended", "1 checked in")
    assert view["id"] == modal["id"]
    assert shop.credits_left() == 9
    view = _pressed(driver, "No-show", sam, "Marked Sam Other a no-show")
    assert "2 checked in" in text_of(view)

    # Someone else undoes Zoë's check-in at another desk; this list still shows Attended.
    with shop.db.unit_of_work() as uow:
        record_attendance(
            uow, Actor(TEAM, ADMIN, Role.ADMIN), "booking", zoe, None, expected_version=2
        )
    assert shop.credits_left() == 10
    view = _pressed(driver, "No-show", zoe, "changed by someone else meanwhile")
    assert "it is now not recorded" in text_of(view)
    assert shop.booking(zoe).attendance is None
    view = _pressed(driver, "Attended", zoe, "Marked Zoë Adams attended")
    assert shop.credits_left() == 9

    view = _pressed(driver, "Undo", sam, "Undid Sam Other's attendance")
    assert shop.booking(sam).attendance is None


def test_two_desks_pressing_attended_at_once_take_one_credit(
    shop: Shop, clock: MutableClock
) -> None:
    _rule(shop, CreditRule.AT_CHECK_IN)
    zoe = _book(shop, shop.uid, PackagePayment(shop.pass_id))
    clock.current = utc("2026-03-16 07:00")
    desks = [shop.world.staff, shop.world.admin]
    lists = [_open_checkin(desk, shop.sessions["16"]) for desk in desks]
    press = {
        "type": "button",
        "action_id": "checkin.attended",
        "block_id": f"checkin_{zoe}",
        "value": f"booking|{zoe}|1",
    }
    payloads = [
        {**interaction(desk, "block_actions", view), "actions": [press]}
        for desk, view in zip(desks, lists, strict=True)
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(post_signed, desks, payloads))
    assert [a.status for a in answers] == [200, 200]
    # Each desk's list is redrawn once its request is done.
    since, api = min(a.mark for a in answers), desks[0].api
    api.wait_until(lambda: len(api.calls("views.update", since=since)) == 2)
    assert shop.credits_left() == 9
    assert shop.booking(zoe).attendance is Attendance.ATTENDED
    assert shop.history().count("marked attended") == 1


def test_a_session_not_yet_started_or_gone_says_so(shop: Shop, clock: MutableClock) -> None:
    booking = _book(shop, shop.uid, ManualPayment())
    driver = shop.world.staff
    modal = _open_checkin(driver, shop.sessions["16"])
    assert "Check-in opens on the session's day." in text_of(modal)
    assert f"checkin_{booking}" not in str(modal)
    # A forged press before the day is refused in the list's place.
    press = {
        "type": "button",
        "action_id": "checkin.attended",
        "block_id": f"checkin_{booking}",
        "value": f"booking|{booking}|1",
    }
    after(driver, forged_action(driver, modal, press), "views.update")
    view = driver.wait_for_view(lambda v: "hasn't started" in text_of(v))
    assert "check-in opens on its day, 16 Mar 2026" in text_of(view)
    assert shop.booking(booking).attendance is None

    gone = _open_checkin_any(driver, 10**9)
    assert "no longer exists" in text_of(gone)


def _open_checkin_any(driver: SlackDriver, occurrence_id: int) -> JSON:
    home = driver.wait_for_view(surface="home")
    press = {
        "type": "button",
        "action_id": "open_checkin",
        "block_id": "today",
        "value": str(occurrence_id),
    }
    after(driver, forged_action(driver, home, press), "views.open")
    return driver.wait_for_view(lambda v: v["callback_id"] == CHECKIN and "no longer" in text_of(v))


def test_an_appointment_is_checked_in_from_the_appointments_tab(
    shop: Shop, clock: MutableClock
) -> None:
    with shop.db.unit_of_work() as uow:
        appointment = book_appointment(
            uow,
            STAFF_ACTOR,
            shop.uid,
            shop.service_id,
            shop.facilitators["Priya Nair"],
            datetime(2026, 3, 16, 10, 0),
            ManualPayment(),
        ).id
    clock.current = utc("2026-03-16 09:58")
    driver = shop.world.staff
    open_details(driver, ZOE)
    go_to_tab(driver, "Appointments", "Sports massage")
    view = details_after(
        driver,
        driver.click("Attended", in_block=f"attendance_{appointment}"),
        "Marked Zoë Adams attended at Sports massage on 16 Mar 2026, 10:00 GMT",
    )
    assert_valid_view(view)
    assert "Attended · recorded by <@USTAFF>" in text_of(view)
    assert "Attended 1 · No-shows 0" in text_of(view)
    details_after(driver, driver.click("Undo", in_block=f"attendance_{appointment}"), "Undid")
    assert shop.history()[-2:] == ["marked attended", "attendance undone"]
