"""Stripe down, timing out, failing or losing its answer during a refund: told plainly, never twice."""

# ruff: noqa: F811 - tests take the imported fixtures as parameters

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.models import RefundState
from tests.faults.stripe_proxy import StripeProxy, app_through_proxy
from tests.slack.commerce_helpers import (  # noqa: F401 - fixtures
    ZOE,
    Shop,
    refused,
    row_action,
    shop,
    stripe_booking,
    submitted,
)
from tests.slack.details_helpers import open_details
from tests.stripe_server import (  # noqa: F401 - fixtures
    API_KEY,
    StripeStandIn,
    stripe_process,
    stripe_server,
)

REFUND = "booking_refund.submit"
# Short enough to keep the tests quick, and under the 2 s the form waits before "working…".
TIMEOUT = 0.5


@pytest.fixture
def proxy(stripe_server: StripeStandIn, monkeypatch: pytest.MonkeyPatch) -> Iterator[StripeProxy]:
    """The app reaches Stripe only through the proxy, with a short timeout and no silent retry."""
    with app_through_proxy(stripe_server.url, monkeypatch, timeout=TIMEOUT) as running:
        yield running


@pytest.fixture
def faulty(proxy: StripeProxy, shop: Shop) -> tuple[Shop, StripeProxy]:
    """The shop, built after the proxy so that its app uses it."""
    return shop, proxy


def _refund_form(shop: Shop, booking_id: int) -> None:
    driver = shop.world.admin
    open_details(driver, ZOE)
    row_action(driver, "booking_", booking_id, "Refund", REFUND)


def _nothing_recorded(shop: Shop, booking_id: int) -> None:
    booking = shop.booking(booking_id)
    assert (booking.refunded_minor, booking.refund_state) == (0, RefundState.NONE)
    assert "booking refunded" not in shop.history()


def _plain(message: str) -> None:
    assert "Traceback" not in message and API_KEY not in message and "Error" not in message


def test_stripe_unreachable_tells_the_admin_then_the_retry_refunds_once(
    faulty: tuple[Shop, StripeProxy],
) -> None:
    shop, proxy = faulty
    booking_id, intent = stripe_booking(shop)
    _refund_form(shop, booking_id)
    proxy.down()
    message = refused(shop.world.admin)["amount"]
    assert "Stripe couldn't be reached; nothing was refunded" in message
    _plain(message)
    _nothing_recorded(shop, booking_id)
    assert shop.stripe.refunds(intent) == []

    proxy.up()
    submitted(shop.world.admin, "Refunded £15.00 via Stripe")
    assert [r["amount"] for r in shop.stripe.refunds(intent)] == [1500]
    assert shop.booking(booking_id).refunded_minor == 1500


def test_a_stripe_timeout_records_nothing_and_the_retry_refunds_once(
    faulty: tuple[Shop, StripeProxy],
) -> None:
    shop, proxy = faulty
    booking_id, intent = stripe_booking(shop)
    _refund_form(shop, booking_id)
    proxy.fault = "stall"
    message = refused(shop.world.admin)["amount"]
    assert proxy.faulted.is_set()
    assert "broke off before it answered" in message and "may have gone through" in message
    _plain(message)
    _nothing_recorded(shop, booking_id)

    proxy.heal()
    submitted(shop.world.admin, "Refunded £15.00 via Stripe")
    assert [r["amount"] for r in shop.stripe.refunds(intent)] == [1500]
    assert shop.history().count("booking refunded") == 1


def test_a_stripe_server_error_records_nothing_and_the_retry_refunds_once(
    faulty: tuple[Shop, StripeProxy],
) -> None:
    shop, proxy = faulty
    booking_id, intent = stripe_booking(shop)
    _refund_form(shop, booking_id)
    proxy.fault = "fail"
    message = refused(shop.world.admin)["amount"]
    assert "Stripe had a problem with the refund" in message
    _plain(message)
    _nothing_recorded(shop, booking_id)
    assert shop.stripe.refunds(intent) == []

    proxy.heal()
    submitted(shop.world.admin, "Refunded £15.00 via Stripe")
    assert [r["amount"] for r in shop.stripe.refunds(intent)] == [1500]


def test_a_refund_whose_answer_was_lost_is_recorded_not_repeated(
    faulty: tuple[Shop, StripeProxy],
) -> None:
    shop, proxy = faulty
    booking_id, intent = stripe_booking(shop)
    _refund_form(shop, booking_id)
    proxy.fault = "lose_answer"
    message = refused(shop.world.admin)["amount"]
    assert "may have gone through" in message and "found and recorded, not repeated" in message
    _nothing_recorded(shop, booking_id)
    # Stripe did refund: only its answer was lost.
    assert [r["amount"] for r in shop.stripe.refunds(intent)] == [1500]

    proxy.heal()
    view = submitted(shop.world.admin, "Stripe had already refunded £15.00")
    assert "nothing more was refunded" in str(view)
    assert [r["amount"] for r in shop.stripe.refunds(intent)] == [1500]
    booking = shop.booking(booking_id)
    assert (booking.refunded_minor, booking.refund_state) == (1500, RefundState.FULL)
    assert shop.history().count("refund recorded from Stripe") == 1
    assert "booking refunded" not in shop.history()
