"""Assign Pass and Assign Video end to end, with each row's Adjust credits, Extend and Cancel."""

# ruff: noqa: F811 - tests take the imported fixtures as parameters

from __future__ import annotations

from datetime import date

from bot.local import SlackDriver
from core.models import Pass, PassState, PaymentMethod, VideoPurchase
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

ASSIGN_PASS = "assign_pass.submit"
ADJUST = "pass_adjust.submit"
EXTEND_PASS = "pass_extend.submit"
ASSIGN_VIDEO = "assign_video.submit"
EXTEND_VIDEO = "video_extend.submit"
CONFIRM = "commerce_confirm.submit"


def _tab(driver: SlackDriver, label: str) -> JSON:
    open_details(driver, ZOE)
    return go_to_tab(driver, label)


def test_assign_a_pass_then_adjust_extend_and_cancel_it(shop: Shop) -> None:
    driver = shop.world.staff
    before = _tab(driver, "Passes")
    form = open_form(driver, "Assign Pass", ASSIGN_PASS, "Assigning a pass to Zoë Adams")
    assert_valid_view(form)
    driver.choose("10-class pass", menu="Pass")
    view = submitted(
        driver,
        "Assigned 10-class pass #",
        "to Zoë Adams: 10 CR, valid 14 Mar 2026 – 11 Jun 2026 (£90.00, paid manually)",
    )
    assert "1–2 of 2 passes" in text_of(view) and "1 pass" in text_of(before)
    assert "P ██████ 1" in text_of(before) and "P ██████ 2" in text_of(view)
    held = shop.latest(Pass)
    assert (held.state, held.credits_remaining, held.price_minor) == (PassState.MANUAL, 10, 9000)

    form = row_action(driver, "pass_", held.id, "Adjust credits", ADJUST, "10 of 10 credits left")
    assert_valid_view(form)
    driver.type("-11", into="Credits to add or remove")
    driver.type("Mistake", into="Reason")
    assert "at most 10 can be removed" in refused(driver)["delta"]
    driver.type("+2", into="Credits to add or remove")
    driver.type("   ", into="Reason")
    assert "Say why the credits change" in refused(driver)["reason"]
    driver.type("Goodwill for the cancelled class", into="Reason")
    view = submitted(driver, f"10-class pass #{held.id} now has 12 of 12 credits left.")
    assert "12 of 12 credits left" in row_texts(view, f"pass_{held.id}")[0]

    form = row_action(driver, "pass_", held.id, "Extend", EXTEND_PASS, "Now valid to 11 Jun 2026")
    assert_valid_view(form)
    driver.pick("2026-06-01", into="Valid to")
    assert "choose a later day" in refused(driver)["valid_to"]
    driver.pick("2026-07-01", into="Valid to")
    submitted(driver, f"10-class pass #{held.id} is now valid to 1 Jul 2026.")
    assert shop.latest(Pass).valid_to == date(2026, 7, 1)

    form = row_action(driver, "pass_", held.id, "Cancel", CONFIRM, "12 CR unused")
    assert_valid_view(form)
    view = submitted(driver, f"Cancelled 10-class pass #{held.id}")
    assert shop.latest(Pass).state is PassState.CANCELLED
    assert shop.history()[-4:] == [
        "pass assigned",
        "pass credits adjusted",
        "pass extended",
        "pass cancelled",
    ]
    view = go_to_tab(driver, "Account", "Pass credits adjusted")
    assert "Goodwill for the cancelled class" in text_of(view)


def test_assign_a_pass_paid_through_stripe(shop: Shop) -> None:
    driver = shop.world.staff
    intent = shop.stripe.payment(9000)
    _tab(driver, "Passes")
    open_form(driver, "Assign Pass", ASSIGN_PASS)
    driver.choose("10-class pass", menu="Pass")
    driver.pick("2026-04-01", into="First day")
    redrawn(driver, driver.choose("Record a Stripe payment", menu="Payment"), "pi_")
    driver.type(intent, into="Stripe payment intent id")
    view = submitted(driver, "valid 1 Apr 2026 – 29 Jun 2026 (£90.00 paid through Stripe)")
    held = shop.latest(Pass)
    assert held.state is PassState.COMPLETED and held.stripe_payment_intent_id == intent
    assert "Completed :credit_card: Stripe" in row_texts(view, f"pass_{held.id}")[0]


def test_assign_a_video_with_a_pass_credit_extend_and_cancel_it(shop: Shop) -> None:
    driver = shop.world.staff
    _tab(driver, "Videos")
    form = open_form(driver, "Assign Video", ASSIGN_VIDEO, "Giving Zoë Adams access")
    assert_valid_view(form)
    redrawn(driver, driver.choose("Yoga for Runners", menu="Video"), "Blank charges")
    form = redrawn(driver, driver.choose("Pass credit", menu="Payment"), "10-class pass #")
    assert_valid_view(form)
    view = submitted(
        driver,
        f"Gave Zoë Adams Yoga for Runners until 13 Apr 2026 (1 CR from 10-class pass #{shop.pass_id})",
    )
    bought = shop.latest(VideoPurchase)
    assert bought.payment_method is PaymentMethod.PACKAGE and shop.credits_left() == 9
    assert "V ██████ 1" in text_of(view)

    form = row_action(driver, "video_", bought.id, "Extend", EXTEND_VIDEO, "expires 13 Apr 2026")
    assert_valid_view(form)
    driver.type("30", into="Extra days")
    driver.pick("2026-06-30", into="…or a new end date")
    assert "not both" in refused(driver)["extra_days"]
    driver.type("", into="Extra days")
    submitted(driver, "Yoga for Runners (purchase #", "now expires 30 Jun 2026")
    assert shop.latest(VideoPurchase).expires_at == utc("2026-06-30 22:59")

    form = row_action(driver, "video_", bought.id, "Extend", EXTEND_VIDEO)
    driver.type("10", into="Extra days")
    submitted(driver, "now expires 10 Jul 2026")

    form = row_action(driver, "video_", bought.id, "Cancel", CONFIRM, "1 CR goes back")
    assert_valid_view(form)
    view = submitted(driver, "Cancelled Yoga for Runners", "1 CR went back to its pass")
    assert shop.credits_left() == 10
    assert "Cancelled" in row_texts(view, f"video_{bought.id}")[0]


def test_a_video_without_credits_or_expiry(shop: Shop) -> None:
    driver = shop.world.staff
    _tab(driver, "Videos")
    open_form(driver, "Assign Video", ASSIGN_VIDEO)
    redrawn(driver, driver.choose("Yin basics", menu="Video"), "Blank charges")
    form = redrawn(driver, driver.choose("Pass credit", menu="Payment"), "can't be paid with")
    assert "pass_id" not in {b.get("block_id") for b in form["blocks"]}
    assert "can't be paid with pass credits" in refused_text(driver)
    redrawn(driver, driver.choose("Manual", menu="Payment"), "Blank charges")
    driver.type("0", into="Price")
    view = submitted(driver, "Gave Zoë Adams Yin basics for good (free)")
    bought = shop.latest(VideoPurchase)
    (row,) = row_texts(view, f"video_{bought.id}")
    assert "Expires —" in row
    # Nothing to extend on a video that never expires: its menu offers Cancel only.
    (block,) = [b for b in view["blocks"] if b.get("block_id") == f"video_{bought.id}"]
    assert [o["text"]["text"] for o in block["accessory"]["options"]] == ["Cancel"]
    assert notice_of(view).startswith(":white_check_mark:") or "Gave" in notice_of(view)


def refused_text(driver: SlackDriver) -> str:
    """Submit a form whose problem is about a field it doesn't show: it comes back redrawn."""
    response = driver.submit()
    assert response is not None and response.data.get("response_action") == "update"
    view = driver.current_view()
    assert view is not None
    return text_of(view)
