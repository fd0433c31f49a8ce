"""The payment links' views: the notice with the link to copy, unpaid rows and their menu,
the forms' "Send a payment link", and Start subscription."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.views.bookings import BookEventForm, book_event_form
from bot.views.commerce.form_state import PaymentForm
from bot.views.origin import DetailsState, Tab
from bot.views.payment_links import link_notice
from bot.views.subscriptions import start_subscription_form
from bot.views.tabs import bookings_tab, passes_tab
from core.models import BookingState, PassState, PaymentMethod
from core.services.paging import Page
from core.services.payment_links import PlanOption, SentLink
from tests.unit.test_commerce_views import a_pass, booking, meta, session
from tests.views_check import assert_valid_view

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
URL = "https://checkout.stripe.com/c/pay/cs_test_a1b2#fidkdWxOYHwnPyd1blpxYHZxWjA0"
SENT = SentLink(
    title="booking #12 (Morning Yoga on 16 Mar 2026, 07:00 GMT)",
    session_id="cs_test_a1b2",
    url=URL,
    sent_to="zoe@example.com",
    amount_minor=1200,
    currency="GBP",
    expires_at=datetime(2026, 3, 15, 8, 30, tzinfo=UTC),
    new=True,
)


def test_the_notice_names_where_the_link_went_and_shows_it_to_copy() -> None:
    text = link_notice(SENT, "Europe/London")
    assert text.startswith(
        "Payment link for booking #12 (Morning Yoga on 16 Mar 2026, 07:00 GMT) (£12.00) mailed "
        "to zoe@example.com; it works until 15 Mar 2026, 08:30 GMT."
    )
    assert "Slack can't copy it for you" in text and text.endswith(f"`{URL}`")
    again = link_notice(replace(SENT, new=False), "Europe/London")
    assert "is still open, so it was not sent again" in again and URL in again
    paid = link_notice(replace(SENT, new=False, paid=True), "Europe/London")
    assert paid.startswith("Booking #12 (Morning Yoga") and "paid through Stripe" in paid
    assert URL not in paid
    plan = link_notice(replace(SENT, subscription=True, title="the Unlimited plan"), "UTC")
    assert plan.startswith("Subscription link for the Unlimited plan")
    assert "shows here once they have paid" in plan


def _rows(view_blocks: list[dict[str, Any]], prefix: str) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view_blocks if str(b.get("block_id")).startswith(prefix)}


def test_unpaid_rows_say_whether_a_link_is_open_and_offer_to_send_one() -> None:
    unpaid = replace(booking(PaymentMethod.UNPAID), id=1)
    awaiting = replace(unpaid, id=2, awaiting_link=True)
    cancelled = replace(unpaid, id=3, state=BookingState.CANCELLED)
    state = DetailsState(tab=Tab.BOOKINGS)
    rows = _rows(
        bookings_tab(state, Page([unpaid, awaiting, cancelled], 3, 1, 10), timezone="UTC"),
        "booking_",
    )
    assert "· Unpaid" in rows["booking_1"]["text"]["text"]
    assert "· Awaiting payment" in rows["booking_2"]["text"]["text"]
    menu = [o["text"]["text"] for o in rows["booking_1"]["accessory"]["options"]]
    assert menu == ["Send payment link", "Transfer", "Cancel"]
    assert rows["booking_1"]["accessory"]["options"][0]["value"] == "bookings|link|1"
    assert "Send payment link" not in str(rows["booking_3"].get("accessory"))
    held = replace(a_pass(4), payment_method=PaymentMethod.UNPAID, state=PassState.UNPAID)
    state = DetailsState(tab=Tab.PASSES)
    (row,) = _rows(
        passes_tab(state, Page([held], 1, 1, 10), timezone="UTC", now=NOW), "pass_"
    ).values()
    assert "Unpaid" in row["text"]["text"]
    assert row["accessory"]["options"][0]["text"]["text"] == "Send payment link"


def test_the_forms_offer_a_payment_link_with_what_happens_next() -> None:
    form = BookEventForm(
        sessions=[session("Morning Yoga")],
        payment=PaymentForm("link"),
        methods=("manual", "package", "stripe", "link"),
    )
    view = book_event_form(meta(mailable=True), form, currency="GBP")
    assert_valid_view(view)
    text = str(view["blocks"])
    assert "Send a payment link" in text and "Awaiting payment" in text


PLANS = [
    PlanOption(1, "Unlimited monthly", 6000, "GBP", "month"),
    PlanOption(
        2, "Drop-in", 1500, "GBP", "week", "no Stripe price id; an admin adds it in the catalog"
    ),
]


def test_start_subscription_lists_startable_plans_and_says_why_others_are_not() -> None:
    view = start_subscription_form(meta(mailable=True), PLANS, stripe=True)
    assert_valid_view(view)
    assert view["callback_id"] == "start_subscription.submit"
    (plan,) = [b for b in view["blocks"] if b.get("block_id") == "plan_id"]
    assert [o["value"] for o in plan["element"]["options"]] == ["1"]
    assert "*Drop-in*: no Stripe price id" in str(view["blocks"])
    for shown, needle in (
        (start_subscription_form(meta(mailable=True), PLANS, stripe=False), "isn't connected"),
        (start_subscription_form(meta(), PLANS, stripe=True), "has no email address"),
        (start_subscription_form(meta(mailable=True), PLANS[1:], stripe=True), "no plan to start"),
    ):
        assert_valid_view(shown)
        assert shown["callback_id"] == "commerce.result" and needle in str(shown["blocks"])
