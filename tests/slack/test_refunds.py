"""Refunds of Stripe-paid bookings end to end, against the Stripe stand-in: admins only, never twice."""

# ruff: noqa: F811 - tests take the imported fixtures as parameters

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.surfaces import commerce
from core.models import Booking, BookingState, Customer, PaymentMethod, RefundState
from tests.slack.commerce_helpers import (  # noqa: F401 - fixtures
    ZOE,
    Shop,
    refused,
    row_action,
    shop,
    stripe_booking,
    submitted,
    utc,
)
from tests.slack.conftest import TEAM, World
from tests.slack.details_helpers import (
    customer_id,
    details_after,
    notice_of,
    open_details,
    row_texts,
)
from tests.slack.helpers import (
    DETAILS,
    JSON,
    acked,
    forged_choice,
    interaction,
    is_view,
    offered,
    post_signed,
    seed,
    text_of,
)
from tests.stripe_server import stripe_process, stripe_server  # noqa: F401 - fixtures
from tests.unit import history_rows
from tests.views_check import assert_valid_view

REFUND = "booking_refund.submit"


def _menu(view: JSON, booking_id: int) -> list[str]:
    (block,) = [b for b in view["blocks"] if b.get("block_id") == f"booking_{booking_id}"]
    return [o["text"]["text"] for o in block["accessory"]["options"]]


def _amount_field(form: JSON) -> JSON:
    (block,) = [b for b in form["blocks"] if b.get("block_id") == "amount"]
    return dict(block["element"])


def test_refund_in_part_then_in_full(shop: Shop) -> None:
    booking_id, intent = stripe_booking(shop)
    driver = shop.world.admin
    open_details(driver, ZOE)
    form = row_action(driver, "booking_", booking_id, "Refund", REFUND, "Can still be refunded")
    assert_valid_view(form)
    assert _amount_field(form)["initial_value"] == "15.00"
    assert "£15.00 · " + intent in text_of(form)
    driver.type("5", into="Amount to refund")
    view = submitted(driver, "Refunded £5.00 via Stripe")
    assert "£10.00 of £15.00 can still be refunded" in notice_of(view)
    (row,) = row_texts(view, "booking_")
    assert "refunded £5.00 in part" in row
    assert [r["amount"] for r in shop.stripe.refunds(intent)] == [500]

    form = row_action(driver, "booking_", booking_id, "Refund", REFUND, "Refunded so far")
    assert _amount_field(form)["initial_value"] == "10.00"
    assert "£5.00" in text_of(form)
    view = submitted(driver, "The booking is now refunded in full")
    (row,) = row_texts(view, "booking_")
    assert "refunded £15.00 in full" in row
    assert _menu(view, booking_id) == ["Transfer", "Cancel"]
    assert sorted(r["amount"] for r in shop.stripe.refunds(intent)) == [500, 1000]
    booking = shop.booking(booking_id)
    assert (booking.refunded_minor, booking.refund_state) == (1500, RefundState.FULL)
    assert shop.history()[-2:] == ["booking refunded", "booking refunded"]


def test_more_than_was_paid_or_nonsense_is_refused_under_the_amount(shop: Shop) -> None:
    booking_id, intent = stripe_booking(shop)
    driver = shop.world.admin
    open_details(driver, ZOE)
    row_action(driver, "booking_", booking_id, "Refund", REFUND)
    driver.type("20.00", into="Amount to refund")
    assert "at most £15.00" in refused(driver)["amount"]
    driver.type("ten pounds", into="Amount to refund")
    assert "Enter an amount such as £12.50" in refused(driver)["amount"]
    driver.type("1.234", into="Amount to refund")
    assert "at most 2 decimal places" in refused(driver)["amount"]
    assert shop.stripe.refunds(intent) == []


def test_staff_are_told_only_admins_refund(shop: Shop) -> None:
    booking_id, intent = stripe_booking(shop)
    driver = shop.world.staff
    details = open_details(driver, ZOE)
    row = f"booking_{booking_id}"
    assert "Refund" not in offered(details, row), "only admins are offered Refund"
    value = f"bookings|refund|{booking_id}"
    response = forged_choice(driver, details, "customer_details.row", row, value)
    view = details_after(driver, response, "Only an admin can refund a payment")
    assert len(shop.world.api.stack(driver.user_id)) == 2
    assert view["callback_id"] == DETAILS
    assert shop.stripe.refunds(intent) == []


def test_a_double_submitted_refund_refunds_once(shop: Shop) -> None:
    booking_id, intent = stripe_booking(shop)
    driver = shop.world.admin
    open_details(driver, ZOE)
    form = row_action(driver, "booking_", booking_id, "Refund", REFUND)
    # Two clicks of the same modal arrive together: both carry what it showed as refunded.
    payloads = [interaction(driver, "view_submission", form) for _ in range(2)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(lambda p: post_signed(driver, p), payloads))
    for response in responses:
        acked(response)
    closed = [r for r in responses if not r.text.strip()]
    refused_ = [r for r in responses if r.data.get("response_action") == "errors"]
    assert len(closed) == 1 and len(refused_) == 1
    assert "nothing was refunded" in refused_[0].data["errors"]["amount"]
    assert [r["amount"] for r in shop.stripe.refunds(intent)] == [1500]
    assert shop.booking(booking_id).refunded_minor == 1500


def test_twenty_concurrent_refund_clicks_refund_once(shop: Shop) -> None:
    booking_id, intent = stripe_booking(shop)
    driver = shop.world.admin
    open_details(driver, ZOE)
    form = row_action(driver, "booking_", booking_id, "Refund", REFUND)
    driver.type("4.00", into="Amount to refund")
    typed = driver.current_view()
    assert typed is not None
    payloads = [interaction(driver, "view_submission", typed) for _ in range(20)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(lambda p: post_signed(driver, p), payloads))
    assert all(r.status == 200 for r in responses)
    assert sum(1 for r in responses if not r.text.strip()) == 1
    assert [r["amount"] for r in shop.stripe.refunds(intent)] == [400]
    booking = shop.booking(booking_id)
    assert (booking.refunded_minor, booking.refund_state) == (400, RefundState.PARTIAL)
    assert shop.history().count("booking refunded") == 1
    assert form["callback_id"] == REFUND


def test_a_stripe_refusal_is_shown_plainly_and_changes_nothing(shop: Shop) -> None:
    # A booking recording a payment Stripe has never heard of.
    with shop.db.unit_of_work() as uow:
        booking = Booking(
            team_id=TEAM,
            customer_id=_zoe_id(shop),
            occurrence_id=shop.sessions["18"],
            booked_at=utc("2026-03-12 10:00"),
            price_minor=1200,
            credits=None,
            currency="GBP",
            state=BookingState.COMPLETED,
            payment_method=PaymentMethod.STRIPE,
            stripe_payment_intent_id="pi_unknown123",
            refunded_minor=0,
            refund_state=RefundState.NONE,
        )
        uow.session.add(booking)
        uow.session.flush()
        booking_id = booking.id
    driver = shop.world.admin
    open_details(driver, ZOE)
    row_action(driver, "booking_", booking_id, "Refund", REFUND)
    message = refused(driver)["amount"]
    assert "Stripe" in message and "nothing was refunded" in message
    assert "Traceback" not in message
    assert shop.booking(booking_id).refunded_minor == 0


def test_a_slow_refund_answers_at_once_and_shows_its_result(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    booking_id, intent = stripe_booking(shop)
    driver = shop.world.admin
    open_details(driver, ZOE)
    row_action(driver, "booking_", booking_id, "Refund", REFUND)
    # No time to wait: the form turns into "working" and then into the result.
    monkeypatch.setattr(commerce, "ACK_BUDGET", 0.0)
    response = acked(driver.submit())
    assert response.data.get("response_action") == "update"
    done = driver.wait_for_view(is_view("commerce.result", "Refunded £15.00 via Stripe"))
    assert_valid_view(done)
    driver.close()
    view = driver.wait_for_view(is_view(DETAILS, "refunded £15.00 in full"))
    assert "Refunded £15.00 via Stripe" in notice_of(view)
    assert len(shop.stripe.refunds(intent)) == 1


def _zoe_id(shop: Shop) -> int:
    with shop.db.unit_of_work(readonly=True) as uow:
        return customer_id(uow, shop.uid)


def test_refund_says_up_front_when_stripe_is_not_set_up(world: World) -> None:
    (zoe,) = seed(world.db, [("Zoë", "Adams")])
    with world.db.unit_of_work() as uow:
        catalog = history_rows.shop(uow, TEAM, uow.now() + timedelta(days=2))
        owner = uow.session.scalars(select(Customer).where(Customer.uid == zoe.uid)).one()
        booking_id = history_rows.booking(uow, catalog, owner, uow.now()).id
    driver = world.admin
    open_details(driver, "Zoë Adams")
    response = driver.choose(
        "Refund", menu="customer_details.row", in_block=f"booking_{booking_id}"
    )
    details_after(driver, response, "Refunds are made through Stripe, which isn't set up")
    assert len(world.api.stack(driver.user_id)) == 2, "no amount to type first"
