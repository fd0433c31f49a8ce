"""Payment links end to end through signed Slack requests: "Send a payment link" in the four
commerce forms and *Send payment link* on unpaid rows (never a second session while one is open,
a new one once it expired), the mail queued with the URL, Stripe's completion recorded through
`apply_checkout_event`, Stripe down or no email refused plainly, and Start subscription."""

# ruff: noqa: F811 - tests take the imported fixtures as parameters

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.local import SlackDriver
from core.models import (
    Appointment,
    Booking,
    BookingState,
    Customer,
    LinkStatus,
    OutboxMail,
    Pass,
    PassState,
    PaymentLink,
    PaymentMethod,
    Subscription,
    SubscriptionPlan,
    SubscriptionState,
    VideoPurchase,
)
from core.services.catalog_import import import_catalog
from core.services.payment_links import COMPLETED, EXPIRED, apply_checkout_event
from tests.conftest import MutableClock
from tests.slack.commerce_helpers import (  # noqa: F401 - fixtures
    ZOE,
    Shop,
    _seed_catalog,
    open_form,
    redrawn,
    refused,
    row_action,
    shop,
    submitted,
)
from tests.slack.conftest import TEAM, World, running_world
from tests.slack.details_helpers import details_after, go_to_tab, notice_of, open_details, row_texts
from tests.slack.helpers import JSON, seed, text_of
from tests.slack.test_stripe_account import OURS, PASSES, _connect, stripe_world  # noqa: F401
from tests.stripe_server import (
    API_KEY,
    HOST,
    StripeStandIn,
    free_port,
    stripe_process,  # noqa: F401 - fixtures
    stripe_server,  # noqa: F401 - fixtures
)
from tests.views_check import assert_valid_view

BOOK = "book_event.submit"
START = "start_subscription.submit"
SEND = "Send payment link"


def _email(shop: Shop) -> str:
    with shop.db.unit_of_work(readonly=True) as uow:
        return uow.session.scalars(select(Customer.email).where(Customer.uid == shop.uid)).one()


def _mails(shop: Shop) -> list[tuple[str, str]]:
    with shop.db.unit_of_work(readonly=True) as uow:
        return [
            (m.to_address, m.body)
            for m in uow.session.scalars(
                select(OutboxMail).where(OutboxMail.kind == "payment_link").order_by(OutboxMail.id)
            )
        ]


def _sessions_made(stripe: StripeStandIn) -> int:
    return sum(1 for m, p, _, _ in stripe.calls() if (m, p) == ("POST", "/v1/checkout/sessions"))


def _latest_link(shop: Shop) -> PaymentLink:
    link: PaymentLink = shop.latest(PaymentLink)
    return link


def _stripe_says(shop: Shop, event: str, session: dict[str, Any]) -> str:
    with shop.db.unit_of_work() as uow:
        return apply_checkout_event(uow, TEAM, event, session)


def _send_from_row(driver: SlackDriver, prefix: str, row_id: int, *needles: str) -> JSON:
    response = driver.choose(SEND, menu="customer_details.row", in_block=f"{prefix}{row_id}")
    return details_after(driver, response, *needles)


def _book_by_link(driver: SlackDriver) -> JSON:
    open_details(driver, ZOE)
    open_form(driver, "Book an Event", BOOK)
    redrawn(driver, driver.choose("16 Mar", menu="Session"), "Blank charges")
    form = redrawn(driver, driver.choose("Send a payment link", menu="Payment"), "mailed to them")
    assert_valid_view(form)
    assert "Awaiting payment" in text_of(form)
    return submitted(driver, "Payment link for booking #")


def test_book_by_link_then_its_row_shows_resends_and_is_paid(shop: Shop) -> None:
    driver, email = shop.world.staff, _email(shop)
    view = _book_by_link(driver)
    booking = shop.latest(Booking)
    link = _latest_link(shop)
    notice = notice_of(view)
    assert (
        f"Payment link for booking #{booking.id} (Morning Yoga on 16 Mar 2026, 07:00 GMT) "
        f"(£12.00) mailed to {email}; it works until 15 Mar 2026, 08:30 GMT."
    ) in notice
    # Slack can't copy for them: the link is there to select, and the notice says so.
    assert "Slack can't copy it for you" in notice and f"`{link.url}`" in notice
    assert (booking.state, booking.payment_method) == (BookingState.UNPAID, PaymentMethod.UNPAID)
    assert link.status is LinkStatus.OPEN and link.url.startswith("https://checkout.stripe.com/")
    ((to, body),) = _mails(shop)
    assert to == email and link.url in body and "Morning Yoga on 16 Mar 2026" in body
    (row,) = row_texts(view, "booking_")
    assert "£12.00 · Awaiting payment" in row
    assert _sessions_made(shop.stripe) == 1

    # A second click shows the open link again: no second session, no second mail.
    view = _send_from_row(driver, "booking_", booking.id, "is still open, so it was not sent again")
    assert link.url in notice_of(view)
    assert _sessions_made(shop.stripe) == 1 and len(_mails(shop)) == 1

    # Stripe expires it: unpaid again, and the next click sends a new link.
    _stripe_says(shop, EXPIRED, shop.stripe.expire_checkout(link.session_id or ""))
    view = go_to_tab(driver, "Bookings")
    (row,) = row_texts(view, "booking_")
    assert "£12.00 · Unpaid" in row
    view = _send_from_row(driver, "booking_", booking.id, "Payment link for booking #")
    fresh = _latest_link(shop)
    assert fresh.attempt == 2 and fresh.session_id != link.session_id
    assert fresh.url in notice_of(view) and len(_mails(shop)) == 2

    # The customer pays; Stripe's completed event marks the booking paid, once.
    paid = shop.stripe.pay_checkout(fresh.session_id or "")
    assert _stripe_says(shop, COMPLETED, paid) == f"paid: booking #{booking.id}"
    assert _stripe_says(shop, COMPLETED, paid).startswith("already recorded")
    stored = shop.booking(booking.id)
    assert (stored.state, stored.stripe_payment_intent_id) == (
        BookingState.COMPLETED,
        paid["payment_intent"],
    )
    view = go_to_tab(driver, "Bookings")
    (row,) = row_texts(view, "booking_")
    assert "Completed :credit_card: Stripe" in row
    assert SEND not in str(view["blocks"])
    view = go_to_tab(driver, "Account", "Payment received")
    assert "Stripe" in text_of(view) and "Payment link sent" in text_of(view)


def test_a_link_from_book_appointment_assign_pass_and_assign_video(shop: Shop) -> None:
    driver = shop.world.admin
    open_details(driver, ZOE)
    go_to_tab(driver, "Appointments")
    open_form(driver, "Book Appointment", "book_appointment.submit")
    redrawn(driver, driver.choose("Sports massage", menu="Service"), "Alex Kim")
    driver.choose("Priya Nair", menu="Facilitator")
    redrawn(driver, driver.pick("2026-03-20", into="Day"), "Blank charges")
    driver.pick("10:00", into="Starts at")
    redrawn(driver, driver.choose("Send a payment link", menu="Payment"), "mailed to them")
    view = submitted(driver, "Payment link for appointment #", "(£40.00) mailed to")
    (row,) = row_texts(view, "appointment_")
    assert "Scheduled · Awaiting payment" in row

    go_to_tab(driver, "Passes")
    open_form(driver, "Assign Pass", "assign_pass.submit")
    driver.choose("10-class pass", menu="Pass")
    redrawn(driver, driver.choose("Send a payment link", menu="Payment"), "mailed to them")
    view = submitted(driver, "Payment link for pass #", "(£90.00) mailed to")
    assert any("Awaiting payment" in r for r in row_texts(view, "pass_"))

    go_to_tab(driver, "Videos")
    open_form(driver, "Assign Video", "assign_video.submit")
    redrawn(driver, driver.choose("Yin basics", menu="Video"), "Blank charges")
    redrawn(driver, driver.choose("Send a payment link", menu="Payment"), "mailed to them")
    view = submitted(driver, "Payment link for video purchase #", "Yin basics (video)")
    (row,) = row_texts(view, "video_")
    assert "Awaiting payment" in row

    for model in (Appointment, Pass, VideoPurchase):
        assert shop.latest(model).payment_method is PaymentMethod.UNPAID
    assert shop.latest(Pass).state is PassState.UNPAID
    assert len(_mails(shop)) == 3 and _sessions_made(shop.stripe) == 3
    video = shop.latest(VideoPurchase)
    paid = shop.stripe.pay_checkout(_latest_link(shop).session_id or "")
    assert _stripe_says(shop, COMPLETED, paid) == f"paid: video #{video.id}"
    assert shop.latest(VideoPurchase).stripe_payment_intent_id == paid["payment_intent"]


def _unpaid_booking(shop: Shop) -> int:
    with shop.db.unit_of_work() as uow:
        row = Booking(
            team_id=TEAM,
            customer_id=uow.session.scalars(
                select(Customer.id).where(Customer.uid == shop.uid)
            ).one(),
            occurrence_id=shop.sessions["18"],
            booked_at=uow.now(),
            price_minor=1200,
            credits=None,
            currency="GBP",
            state=BookingState.UNPAID,
            payment_method=PaymentMethod.UNPAID,
            refunded_minor=0,
        )
        uow.session.add(row)
        uow.session.flush()
        return row.id


def test_no_email_address_means_no_link_offered_and_a_plain_refusal(shop: Shop) -> None:
    driver = shop.world.staff
    booking_id = _unpaid_booking(shop)
    with shop.db.unit_of_work() as uow:
        zoe = uow.session.scalars(select(Customer).where(Customer.uid == shop.uid)).one()
        zoe.email = ""
    open_details(driver, ZOE)
    form = open_form(driver, "Book an Event", BOOK)
    assert "Send a payment link" not in text_of(form)
    driver.close()
    view = _send_from_row(driver, "booking_", booking_id, "has no email address")
    assert notice_of(view).startswith(":warning: Zoë Adams has no email address")
    assert shop.count(PaymentLink) == 0 and _mails(shop) == []
    go_to_tab(driver, "Subscriptions")
    form = open_form(driver, "Start subscription", "commerce.result", "has no email address")
    assert_valid_view(form)


@pytest.fixture
def dead_stripe_shop(
    database_url: str, clock: MutableClock, stripe_server: StripeStandIn
) -> Iterator[Shop]:
    """A shop whose Stripe can't be reached: nothing listens where the app looks for it."""
    stripe = {"stripe_api_key": API_KEY, "stripe_api_base": f"http://{HOST}:{free_port()}"}
    with running_world(database_url, clock, **stripe) as world:
        zoe, other = seed(world.db, [("Zoë", "Adams"), ("Sam", "Other")])
        built = Shop(world, stripe_server, zoe.uid, other.uid)
        _seed_catalog(built)
        yield built


def test_stripe_down_says_so_and_leaves_nothing_half_done(dead_stripe_shop: Shop) -> None:
    shop, driver = dead_stripe_shop, dead_stripe_shop.world.staff
    before = shop.count(Booking)
    open_details(driver, ZOE)
    open_form(driver, "Book an Event", BOOK)
    redrawn(driver, driver.choose("16 Mar", menu="Session"), "Blank charges")
    redrawn(driver, driver.choose("Send a payment link", menu="Payment"), "mailed to them")
    errors = refused(driver)
    assert errors == {
        "payment": "Stripe couldn't be reached; no payment link was made. Try again in a "
        "minute. So nothing was booked."
    }
    assert shop.count(Booking) == before and shop.count(PaymentLink) == 0
    assert _mails(shop) == []

    booking_id = _unpaid_booking(shop)
    driver.close()
    go_to_tab(driver, "Appointments")
    go_to_tab(driver, "Bookings", "Unpaid")
    view = _send_from_row(driver, "booking_", booking_id, "Stripe couldn't be reached")
    assert notice_of(view).startswith(":warning:")
    assert shop.booking(booking_id).state is BookingState.UNPAID
    assert shop.count(PaymentLink) == 0 and _mails(shop) == []


def test_start_subscription_mails_a_link_and_the_payment_starts_it(shop: Shop) -> None:
    driver = shop.world.staff
    price = shop.stripe.price(4500)
    with shop.db.unit_of_work() as uow:
        uow.session.add_all(
            [
                SubscriptionPlan(
                    team_id=TEAM,
                    key="yoga",
                    name="Yoga unlimited",
                    price_minor=4500,
                    interval="month",
                    stripe_price_id=price,
                ),
                SubscriptionPlan(
                    team_id=TEAM, key="drop", name="Drop-in", price_minor=1500, interval="week"
                ),
            ]
        )
    open_details(driver, "Sam Other")
    go_to_tab(driver, "Subscriptions", "use Start subscription to mail them a Stripe link")
    form = open_form(driver, "Start subscription", START, "Yoga unlimited")
    assert_valid_view(form)
    assert "Drop-in: no Stripe price id" in text_of(form)
    driver.choose("Yoga unlimited", menu="Plan")
    view = submitted(
        driver, "Subscription link for the Yoga unlimited (£45.00 per month) plan mailed"
    )
    link = _latest_link(shop)
    assert link.mode == "subscription" and link.url in notice_of(view)
    assert "no subscriptions yet" in text_of(view)
    session = shop.stripe.checkout(link.session_id or "")
    assert session["mode"] == "subscription" and session["amount_total"] == 4500

    shop.stripe.pay_checkout(link.session_id or "")
    paid = shop.stripe.checkout(link.session_id or "", expand=True)
    assert _stripe_says(shop, COMPLETED, paid).startswith("subscribed: subscription #")
    assert _stripe_says(shop, COMPLETED, paid).startswith("already recorded")
    started = shop.latest(Subscription)
    assert (started.state, started.price_minor) == (SubscriptionState.ACTIVE, 4500)
    assert started.stripe_subscription_id == paid["subscription"]["id"]
    view = go_to_tab(driver, "Subscriptions", "Yoga unlimited")
    (row,) = row_texts(view, "subscription_")
    assert "Active :credit_card: Stripe" in row and "£45.00 per month" in row


def test_a_studio_sends_links_through_its_own_stripe_account(
    stripe_world: World, stripe_server: StripeStandIn
) -> None:
    world = stripe_world
    seed(world.db, [("Zoë", "Adams")])
    with world.db.unit_of_work() as uow:
        import_catalog(uow, TEAM, PASSES, source="catalog.yaml")
    driver = world.staff
    open_details(driver, ZOE)
    go_to_tab(driver, "Passes")
    form = open_form(driver, "Assign Pass", "assign_pass.submit")
    # Without a Stripe account there is nothing to send a link with.
    assert "Send a payment link" not in text_of(form)
    driver.close()
    _connect(world.admin, OURS)
    stripe_server.request("DELETE", "/_test/calls")
    open_form(driver, "Assign Pass", "assign_pass.submit")
    driver.choose("10-class pass", menu="Pass")
    redrawn(driver, driver.choose("Send a payment link", menu="Payment"), "mailed to them")
    submitted(driver, "Payment link for pass #", "(£100.00) mailed to")
    keys = {key for _, path, key, _ in stripe_server.calls() if "checkout" in path}
    assert keys == {OURS}
