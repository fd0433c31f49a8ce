"""Book an Event, Transfer and Cancel end to end: pass credits, Stripe payments, full sessions."""

# ruff: noqa: F811 - tests take the imported fixtures as parameters

from __future__ import annotations

import pytest

from bot.local import SlackDriver
from bot.surfaces import bookings
from core.models import Booking, BookingState, PaymentIntentUse, PaymentMethod
from tests.slack.commerce_helpers import (  # noqa: F401 - fixtures
    ZOE,
    Shop,
    open_form,
    redrawn,
    refused,
    row_action,
    shop,
    submitted,
)
from tests.slack.details_helpers import details_after, go_to_tab, notice_of, open_details, row_texts
from tests.slack.helpers import DETAILS, JSON, text_of
from tests.stripe_server import stripe_process, stripe_server  # noqa: F401 - fixtures
from tests.views_check import assert_valid_view

BOOK = "book_event.submit"
TRANSFER = "booking_transfer.submit"
CONFIRM = "commerce_confirm.submit"


def _book_with_credit(shop: Shop, driver: SlackDriver) -> int:
    """Book Zoë on Monday's Morning Yoga with a credit of her pass; the booking's id."""
    open_details(driver, ZOE)
    form = open_form(driver, "Book an Event", BOOK, "Booking for Zoë Adams")
    assert_valid_view(form)
    form = redrawn(driver, driver.choose("16 Mar", menu="Session"), "Blank charges")
    form = redrawn(driver, driver.choose("Pass credit", menu="Payment"), "10-class pass #")
    assert_valid_view(form)
    # Her usable pass that ends soonest (here the only one) is chosen for her.
    (select,) = [b for b in form["blocks"] if b.get("block_id") == "pass_id"]
    assert select["element"]["initial_option"]["value"] == str(shop.pass_id)
    view = submitted(driver, "Booked Morning Yoga on 16 Mar 2026, 07:00 GMT for Zoë Adams")
    assert_valid_view(view)
    assert f"(1 CR from 10-class pass #{shop.pass_id})" in notice_of(view)
    return int(shop.latest(Booking).id)


def test_book_with_a_pass_credit_transfer_and_cancel_returns_it(shop: Shop) -> None:
    driver = shop.world.staff
    booking_id = _book_with_credit(shop, driver)
    booked = shop.booking(booking_id)
    assert booked.state is BookingState.PACKAGE and booked.credits == 1
    assert shop.credits_left() == 9
    view = driver.wait_for_view(lambda v: v["callback_id"] == DETAILS)
    (row,) = row_texts(view, "booking_")
    assert "1 CR" in row and "Package" in row

    form = row_action(driver, "booking_", booking_id, "Transfer", TRANSFER, "Move it to")
    assert_valid_view(form)
    driver.choose("18 Mar", menu="Move it to")
    view = submitted(driver, f"Moved booking #{booking_id} to Morning Yoga on 18 Mar 2026")
    assert shop.booking(booking_id).occurrence_id == shop.sessions["18"]
    assert shop.credits_left() == 9

    form = row_action(driver, "booking_", booking_id, "Cancel", CONFIRM, "1 CR goes back")
    assert_valid_view(form)
    view = submitted(driver, "Cancelled Morning Yoga on 18 Mar 2026, 07:00 GMT for Zoë Adams")
    assert "1 CR returned to 10-class pass" in notice_of(view)
    assert shop.booking(booking_id).state is BookingState.CANCELLED
    assert shop.credits_left() == 10
    assert shop.history()[1:] == ["event booked", "booking transferred", "booking cancelled"]
    view = go_to_tab(driver, "Account", "Event booked")
    assert "Booking cancelled" in text_of(view) and "Booking transferred" in text_of(view)


def test_record_a_stripe_payment(shop: Shop) -> None:
    driver = shop.world.staff
    intent, wrong = shop.stripe.payment(1200), shop.stripe.payment(1500)
    open_details(driver, ZOE)
    open_form(driver, "Book an Event", BOOK)
    redrawn(driver, driver.choose("18 Mar", menu="Session"), "Blank charges")
    redrawn(driver, driver.choose("Record a Stripe payment", menu="Payment"), "pi_")
    # A payment of another amount is refused under the field.
    driver.type(wrong, into="Stripe payment intent id")
    assert refused(driver)["payment_intent_id"] == f"{wrong} is for £15.00 but this costs £12.00."
    driver.type(intent, into="Stripe payment intent id")
    view = submitted(driver, "£12.00 paid through Stripe")
    (row,) = row_texts(view, "booking_")
    assert "Completed :credit_card: Stripe" in row and "£12.00" in row
    booked = shop.latest(Booking)
    assert booked.payment_method is PaymentMethod.STRIPE
    assert booked.stripe_payment_intent_id == intent

    # The same payment can't pay for a second booking.
    open_form(driver, "Book an Event", BOOK)
    redrawn(driver, driver.choose("16 Mar", menu="Session"), "Blank charges")
    redrawn(driver, driver.choose("Record a Stripe payment", menu="Payment"), "pi_")
    driver.type(intent, into="Stripe payment intent id")
    errors = refused(driver)
    assert f"{intent} already pays for booking #{booked.id}" in errors["payment_intent_id"]


def test_full_and_past_sessions_are_refused_under_the_session(shop: Shop) -> None:
    driver = shop.world.staff
    open_details(driver, ZOE)
    form = open_form(driver, "Book an Event", BOOK)
    labels = [o["text"]["text"] for o in _session_options(form)]
    assert "Tiny Workshop · 17 Mar 2026, 18:00 GMT · full · £30.00" in labels
    assert not any("13 Mar" in label for label in labels), "past sessions are not offered"
    redrawn(driver, driver.choose("Tiny Workshop", menu="Session"), "Blank charges")
    errors = refused(driver)
    assert "is full (1 of 1 places taken)" in errors["occurrence_id"]
    assert shop.count(Booking, occurrence_id=shop.sessions["tiny"]) == 1


def test_past_many_sessions_the_picker_searches_by_event_name(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bookings, "SESSION_LIST_MAX", 2)
    driver = shop.world.staff
    open_details(driver, ZOE)
    form = open_form(driver, "Book an Event", BOOK, "to find its sessions")
    assert_valid_view(form)
    offered = driver.block_suggestion("yoga", action_id="book_event.occurrence")
    assert [o["text"]["text"] for o in offered] == [
        "Morning Yoga · 16 Mar 2026, 07:00 GMT · 20 places left · £12.00",
        "Morning Yoga · 18 Mar 2026, 07:00 GMT · 20 places left · £12.00",
    ]
    assert driver.block_suggestion("pilates", action_id="book_event.occurrence") == []
    redrawn(driver, driver.choose("Tiny Workshop", menu="Session"), "Blank charges")
    assert "is full" in refused(driver)["occurrence_id"]


def test_an_archived_customer_is_activated_before_booking(shop: Shop) -> None:
    driver = shop.world.staff
    open_details(driver, ZOE)
    go_to_tab(driver, "Account")
    details_after(driver, driver.click("Archive Customer"), "Activate Customer")
    go_to_tab(driver, "Bookings", "Book an Event")
    view = details_after(
        driver, driver.click("Book an Event"), "Zoë Adams is archived; activate them"
    )
    assert len(shop.world.api.stack(driver.user_id)) == 2
    assert notice_of(view).startswith(":warning:")


def test_the_chart_and_the_tab_count_a_new_booking(shop: Shop) -> None:
    driver = shop.world.staff
    before = open_details(driver, ZOE)
    assert "no bookings yet" in text_of(before)
    sales_before = _sales(before)
    _book_with_credit(shop, driver)
    view = driver.wait_for_view(lambda v: v["callback_id"] == DETAILS)
    assert "1 booking" in text_of(view)
    assert _sales(view) != sales_before
    assert "Mar 26  B ██████ 1" in _sales(view)
    assert "Mar 26  B        0" in sales_before


def _session_options(form: JSON) -> list[JSON]:
    (block,) = [b for b in form["blocks"] if b.get("block_id") == "occurrence_id"]
    return list(block["element"]["options"])


def _sales(view: JSON) -> str:
    (block,) = [b for b in view["blocks"] if b.get("block_id") == "details_sales"]
    return str(block["text"]["text"])


def test_a_payment_another_workspace_recorded_is_refused_naming_no_one(shop: Shop) -> None:
    intent = shop.stripe.payment(1200)
    # Another studio's booking holds it (as recording it there would have left it).
    with shop.db.unit_of_work() as uow:
        uow.session.add(
            PaymentIntentUse(
                payment_intent_id=intent,
                team_id="T0OTHER",
                kind="booking",
                row_id=99,
                amount_minor=1200,
                currency="GBP",
                recorded_at=uow.now(),
            )
        )
    driver = shop.world.staff
    open_details(driver, ZOE)
    open_form(driver, "Book an Event", BOOK)
    redrawn(driver, driver.choose("18 Mar", menu="Session"), "Blank charges")
    redrawn(driver, driver.choose("Record a Stripe payment", menu="Payment"), "pi_")
    driver.type(intent, into="Stripe payment intent id")
    message = refused(driver)["payment_intent_id"]
    assert f"{intent} already pays for a booking in another workspace" in message
    assert "#99" not in message
    assert shop.count(Booking, stripe_payment_intent_id=intent) == 0
