"""Slack resending a request (X-Slack-Retry-Num) and double submissions: one customer, booking, refund."""

# ruff: noqa: F811 - tests take the imported fixtures as parameters

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

from bot.local import AppResponse, SlackDriver
from bot.local.signing import signed_headers
from core.models import Booking, OutboxMail
from tests.slack.commerce_helpers import (  # noqa: F401 - fixtures
    ZOE,
    Shop,
    open_form,
    redrawn,
    row_action,
    shop,
    stripe_booking,
)
from tests.slack.details_helpers import open_details
from tests.slack.helpers import (
    FORM,
    JSON,
    acked,
    after,
    customer_count,
    fill_form,
    interaction,
    is_view,
    open_hub,
    post_raw,
)
from tests.stripe_server import stripe_process, stripe_server  # noqa: F401 - fixtures

BOOK = "book_event.submit"
REFUND = "booking_refund.submit"


def _send(driver: SlackDriver, payload: JSON, *, retry: int = 0) -> AppResponse:
    """Post an interaction as Slack does; a retry carries the same payload and the retry headers."""
    body = urlencode({"payload": json.dumps(payload)}).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        **signed_headers(driver.app.signing_secret, int(time.time()), body),
    }
    if retry:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    mark = driver.api.mark()
    started = time.perf_counter()
    status, raw = post_raw(driver.app.url, body, headers)
    text = raw.decode()
    data = json.loads(text) if text.strip().startswith("{") else {}
    return AppResponse(status, text, data, mark, time.perf_counter() - started)


def _original_and_retry(driver: SlackDriver, view: JSON) -> list[AppResponse]:
    """The submission and Slack's retry of it, arriving together."""
    payload = interaction(driver, "view_submission", view)
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda n: _send(driver, payload, retry=n), [0, 1]))


def test_a_create_submission_and_its_retry_make_one_customer(shop: Shop) -> None:
    driver = shop.world.staff
    open_hub(driver)
    after(driver, driver.click("+ Create Customer"), "views.push")
    driver.wait_for_view(is_view(FORM, "Create Customer"))
    fill_form(driver, {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"})
    fill_form(driver, {"mobile": "07700 900456"})
    form = driver.current_view()
    assert form is not None
    responses = [acked(r) for r in _original_and_retry(driver, form)]
    assert customer_count(shop.db, email="ada@example.com") == 1
    with shop.db.unit_of_work(readonly=True) as uow:
        assert uow.session.query(OutboxMail).count() == 1, "one welcome mail, not two"
    refused = [r for r in responses if r.data.get("response_action") == "errors"]
    assert len(refused) == 1
    assert "already" in json.dumps(refused[0].data["errors"])
    assert customer_count(shop.db) == 3  # Zoë, Sam and Ada


def test_a_booking_submission_and_its_retry_book_once(shop: Shop) -> None:
    driver = shop.world.staff
    open_details(driver, ZOE)
    open_form(driver, "Book an Event", BOOK, "Booking for Zoë Adams")
    redrawn(driver, driver.choose("16 Mar", menu="Session"), "Blank charges")
    form = redrawn(driver, driver.choose("Pass credit", menu="Payment"), "10-class pass #")
    responses = [acked(r) for r in _original_and_retry(driver, form)]
    assert sum(1 for r in responses if not r.text.strip()) == 1
    assert shop.count(Booking, occurrence_id=shop.sessions["16"]) == 1
    assert shop.credits_left() == 9
    assert shop.history().count("event booked") == 1


def test_a_refund_retried_after_it_was_done_refunds_nothing_more(shop: Shop) -> None:
    booking_id, intent = stripe_booking(shop)
    driver = shop.world.admin
    open_details(driver, ZOE)
    form = row_action(driver, "booking_", booking_id, "Refund", REFUND)
    payload = interaction(driver, "view_submission", form)
    first = acked(_send(driver, payload))
    assert not first.text.strip(), first.text
    # Slack thought the first answer was late and sends the same submission again.
    again = acked(_send(driver, payload, retry=1))
    assert again.data.get("response_action") == "errors", again.text
    assert "nothing was refunded" in json.dumps(again.data["errors"])
    assert [r["amount"] for r in shop.stripe.refunds(intent)] == [1500]
    assert shop.booking(booking_id).refunded_minor == 1500
    assert shop.history().count("booking refunded") == 1
