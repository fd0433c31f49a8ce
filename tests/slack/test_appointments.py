"""Book Appointment, Reschedule and Cancel end to end: facilitators, business time, clashes."""

# ruff: noqa: F811 - tests take the imported fixtures as parameters

from __future__ import annotations

from bot.local import SlackDriver
from core.models import Appointment, AppointmentState, PaymentMethod
from tests.slack.commerce_helpers import (  # noqa: F401 - fixtures
    ZOE,
    Shop,
    open_form,
    redrawn,
    refused,
    row_action,
    shop,
    submitted,
    utc,
)
from tests.slack.details_helpers import go_to_tab, notice_of, open_details, row_texts
from tests.slack.helpers import JSON, text_of
from tests.stripe_server import stripe_process, stripe_server  # noqa: F401 - fixtures
from tests.views_check import assert_valid_view

BOOK = "book_appointment.submit"
RESCHEDULE = "appointment_reschedule.submit"
CONFIRM = "commerce_confirm.submit"


def _fill(driver: SlackDriver, facilitator: str, day: str, at: str) -> JSON:
    """Choose the massage with `facilitator` on `day` at `at` (business time)."""
    form = redrawn(driver, driver.choose("Sports massage", menu="Service"), "Alex Kim")
    assert_valid_view(form)
    driver.choose(facilitator, menu="Facilitator")
    redrawn(driver, driver.pick(day, into="Day"), "Blank charges")
    driver.pick(at, into="Starts at")
    view = driver.current_view()
    assert view is not None
    return view


def _appointments_tab(driver: SlackDriver) -> None:
    open_details(driver, ZOE)
    go_to_tab(driver, "Appointments", "no appointments yet")


def test_book_reschedule_and_cancel_an_appointment(shop: Shop) -> None:
    driver = shop.world.staff
    _appointments_tab(driver)
    form = open_form(driver, "Book Appointment", BOOK, "Choose the service first")
    assert_valid_view(form)
    form = _fill(driver, "Priya Nair", "2026-03-20", "10:00")
    assert_valid_view(form)
    view = submitted(
        driver,
        "Booked Sports massage with Priya Nair on 20 Mar 2026, 10:00 GMT for Zoë Adams "
        "(£40.00, paid manually)",
    )
    (row,) = row_texts(view, "appointment_")
    assert "Sports massage* with Priya Nair" in row and "45 min" in row and "Scheduled" in row
    booked = shop.latest(Appointment)
    assert booked.starts_at == utc("2026-03-20 10:00")
    assert booked.payment_method is PaymentMethod.MANUAL and booked.price_minor == 4000

    form = row_action(driver, "appointment_", booked.id, "Reschedule", RESCHEDULE, "Priya Nair")
    assert_valid_view(form)
    day = next(b for b in form["blocks"] if b.get("block_id") == "day")
    assert day["element"]["initial_date"] == "2026-03-20"
    # After the clocks go forward, business time is BST: 11:00 BST is 10:00 UTC.
    driver.pick("2026-04-02", into="Day")
    driver.pick("11:00", into="Starts at")
    view = submitted(driver, f"Moved appointment #{booked.id} to 2 Apr 2026, 11:00 BST")
    assert shop.latest(Appointment).starts_at == utc("2026-04-02 10:00")

    form = row_action(driver, "appointment_", booked.id, "Cancel", CONFIRM, "Cancel appointment")
    assert_valid_view(form)
    assert "marked paid (£40.00)" in text_of(form)
    view = submitted(driver, f"Cancelled appointment #{booked.id}")
    assert shop.latest(Appointment).state is AppointmentState.CANCELLED
    (row,) = row_texts(view, "appointment_")
    assert "Cancelled" in row and "customer_details.row" not in str(view["blocks"])
    assert shop.history()[-3:] == [
        "appointment booked",
        "appointment rescheduled",
        "appointment cancelled",
    ]


def test_a_facilitator_is_never_double_booked(shop: Shop) -> None:
    driver = shop.world.staff
    _appointments_tab(driver)
    open_form(driver, "Book Appointment", BOOK)
    # Alex has someone else from 10:00 to 10:45 that day.
    _fill(driver, "Alex Kim", "2026-03-20", "10:30")
    errors = refused(driver)
    assert "Alex Kim already has an appointment on 20 Mar 2026, 10:00 GMT" in errors["starts_at"]
    assert shop.count(Appointment, facilitator_id=shop.facilitators["Alex Kim"]) == 1
    # What was filled in stays: the time can be changed and the form sent again.
    driver.pick("10:45", into="Starts at")
    view = submitted(driver, "Booked Sports massage with Alex Kim on 20 Mar 2026, 10:45 GMT")
    assert "appointment #" in notice_of(view)


def test_a_past_time_is_refused_under_the_time(shop: Shop) -> None:
    driver = shop.world.staff
    _appointments_tab(driver)
    open_form(driver, "Book Appointment", BOOK)
    _fill(driver, "Priya Nair", "2026-03-14", "08:00")
    errors = refused(driver)
    assert "14 Mar 2026, 08:00 GMT is in the past" in errors["starts_at"]


def test_pay_for_an_appointment_with_a_pass_credit(shop: Shop) -> None:
    driver = shop.world.staff
    _appointments_tab(driver)
    open_form(driver, "Book Appointment", BOOK)
    _fill(driver, "Priya Nair", "2026-03-21", "09:00")
    form = redrawn(driver, driver.choose("Pass credit", menu="Payment"), "10-class pass #")
    assert_valid_view(form)
    view = submitted(driver, f"(1 CR from 10-class pass #{shop.pass_id})")
    assert "Sports massage* with Priya Nair" in row_texts(view, "appointment_")[0]
    assert shop.credits_left() == 9
