"""While Stripe takes its time over a refund, the rest of the app goes on writing: no database
lock is held across the call (on SQLite one would stop every other write)."""

# ruff: noqa: F811 - tests take the imported fixtures as parameters

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.models import Customer
from tests.faults.stripe_proxy import StripeProxy, app_through_proxy
from tests.slack.commerce_helpers import (  # noqa: F401 - fixtures
    ZOE,
    Shop,
    row_action,
    shop,
    stripe_booking,
)
from tests.slack.details_helpers import open_details
from tests.slack.helpers import acked, after, fill_form, is_view, open_hub, text_of, updated
from tests.stripe_server import (  # noqa: F401 - fixtures
    API_KEY,
    StripeStandIn,
    stripe_process,
    stripe_server,
)

# Long enough that the held refund is still waiting while the other writes are made.
TIMEOUT = 30.0


@pytest.fixture
def slow(stripe_server: StripeStandIn, monkeypatch: pytest.MonkeyPatch) -> Iterator[StripeProxy]:
    """The app reaches Stripe through a proxy that can hold a refund unanswered."""
    with app_through_proxy(stripe_server.url, monkeypatch, timeout=TIMEOUT) as running:
        yield running


@pytest.fixture
def held(slow: StripeProxy, shop: Shop) -> tuple[Shop, StripeProxy]:
    """The shop, built after the proxy so that its app uses it."""
    return shop, slow


def test_other_writes_go_on_while_stripe_holds_a_refund(held: tuple[Shop, StripeProxy]) -> None:
    shop, proxy = held
    booking_id, _ = stripe_booking(shop)
    admin = shop.world.admin
    open_details(admin, ZOE)
    row_action(admin, "booking_", booking_id, "Refund", "booking_refund.submit")
    proxy.fault = "stall"
    acked(admin.submit())
    assert proxy.faulted.wait(10), "the refund never reached Stripe"

    # Meanwhile a colleague creates a customer and edits a booking's customer record.
    staff = shop.world.staff
    open_hub(staff)
    after(staff, staff.click("+ Create Customer"), "views.push")
    staff.wait_for_view(is_view("customer_form.submit"))
    fill_form(
        staff,
        {
            "first_name": "Quinn",
            "last_name": "Meanwhile",
            "email": "quinn.meanwhile@example.com",
            "mobile": "+44 7700 900555",
        },
    )
    view = updated(staff, staff.submit())
    assert "Created Quinn Meanwhile." in text_of(view)
    assert not proxy.release.is_set(), "the refund is still waiting on Stripe"
    assert shop.count(Customer, email="quinn.meanwhile@example.com") == 1
    assert shop.booking(booking_id).refund_pending_minor == 1500

    # Let the refund end (its answer is lost: it stays pending for the next try to settle).
    proxy.heal()
    admin.wait_for_view(lambda v: v.get("callback_id") != "commerce.working", timeout=TIMEOUT)
