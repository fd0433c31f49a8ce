"""Subscriptions' Pause, Resume and Suspend end to end; Stripe-linked ones change in Stripe first."""

# ruff: noqa: F811 - tests take the imported fixtures as parameters

from __future__ import annotations

from bot.local import SlackDriver
from core.models import Subscription, SubscriptionState
from tests.slack.commerce_helpers import (  # noqa: F401 - fixtures
    ZOE,
    Shop,
    row_action,
    shop,
    submitted,
)
from tests.slack.details_helpers import details_after, go_to_tab, notice_of, open_details
from tests.slack.helpers import DETAILS, JSON, text_of
from tests.stripe_server import stripe_process, stripe_server  # noqa: F401 - fixtures
from tests.views_check import assert_valid_view

CONFIRM = "commerce_confirm.submit"


def _state(shop: Shop, key: str) -> SubscriptionState:
    with shop.db.unit_of_work(readonly=True) as uow:
        row = uow.session.get(Subscription, shop.subscriptions[key])
        assert row is not None
        return row.state


def _menu(view: JSON, subscription_id: int) -> list[str]:
    (block,) = [b for b in view["blocks"] if b.get("block_id") == f"subscription_{subscription_id}"]
    accessory = block.get("accessory")
    return [o["text"]["text"] for o in accessory["options"]] if accessory else []


def _choose(driver: SlackDriver, subscription_id: int, verb: str, *needles: str) -> JSON:
    response = driver.choose(
        verb, menu="customer_details.row", in_block=f"subscription_{subscription_id}"
    )
    return details_after(driver, response, *needles)


def test_pause_and_resume_at_once(shop: Shop) -> None:
    driver = shop.world.staff
    open_details(driver, ZOE)
    local = shop.subscriptions["local"]
    view = go_to_tab(driver, "Subscriptions", "Unlimited monthly")
    # Suspending cancels at Stripe for good: it is offered to admins only.
    assert _menu(view, local) == ["Pause"]
    view = _choose(driver, local, "Pause", f"Paused Unlimited monthly subscription #{local}.")
    assert _state(shop, "local") is SubscriptionState.PAUSED
    assert _menu(view, local) == ["Resume"]
    assert_valid_view(view)
    view = _choose(driver, local, "Resume", f"Resumed Unlimited monthly subscription #{local}.")
    assert _state(shop, "local") is SubscriptionState.ACTIVE
    assert shop.history()[-2:] == ["subscription paused", "subscription resumed"]
    view = go_to_tab(driver, "Account", "Subscription paused")
    assert "not linked to Stripe" in text_of(view)


def test_suspend_asks_first_and_cancels_in_stripe_first(shop: Shop) -> None:
    driver = shop.world.admin
    open_details(driver, ZOE)
    linked = shop.subscriptions["stripe"]
    go_to_tab(driver, "Subscriptions")
    form = row_action(driver, "subscription_", linked, "Suspend", CONFIRM, "ends it for good")
    assert_valid_view(form)
    assert "cancelled in Stripe" in text_of(form) and form["close"]["text"] == "Keep it"
    view = submitted(driver, f"Suspended Unlimited monthly subscription #{linked} (in Stripe too)")
    assert "It has ended for good." in notice_of(view)
    assert _state(shop, "stripe") is SubscriptionState.SUSPENDED
    with shop.db.unit_of_work(readonly=True) as uow:
        row = uow.session.get(Subscription, linked)
        assert row is not None and row.stripe_subscription_id is not None
        stripe_id = row.stripe_subscription_id
    assert shop.stripe.subscription_status(stripe_id) == "canceled"
    # Suspended is final: no actions are offered any more.
    assert _menu(view, linked) == []


def test_when_stripe_refuses_nothing_changes_and_it_says_so(shop: Shop) -> None:
    driver = shop.world.admin
    open_details(driver, ZOE)
    go_to_tab(driver, "Subscriptions")
    linked = shop.subscriptions["stripe"]
    # The stand-in has no pause_collection: Stripe answers with an error.
    view = _choose(driver, linked, "Pause", "Stripe had a problem with the request to pause")
    assert notice_of(view).startswith(":warning:")
    assert _state(shop, "stripe") is SubscriptionState.ACTIVE
    with shop.db.unit_of_work() as uow:
        row = uow.session.get(Subscription, linked)
        assert row is not None
        row.stripe_subscription_id = "sub_unknown123"
    form = row_action(driver, "subscription_", linked, "Suspend", CONFIRM)
    view = submitted(driver, "Stripe has no record of this subscription, so nothing was changed")
    assert _state(shop, "stripe") is SubscriptionState.ACTIVE
    assert view["callback_id"] == DETAILS and form["callback_id"] == CONFIRM
    assert shop.history()[-1] == "created"
