"""The commerce forms and confirmations: valid Block Kit for any data, fields read back, money parsed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.actions.commerce import ROW_ACTIONS, decode_row_value
from bot.surfaces.commerce import Refused, refusal
from bot.views.appointments import (
    BookAppointmentForm,
    RescheduleForm,
    book_appointment_form,
    cancel_appointment_confirmation,
    reschedule_form,
)
from bot.views.bookings import (
    BookEventForm,
    book_event_form,
    booked_notice,
    cancel_booking_confirmation,
    occurrence_option,
    refund_form,
    transfer_form,
)
from bot.views.commerce.form_state import CommerceMeta, FormValues, Method, PaymentForm
from bot.views.commerce.modals import nothing_to_offer, result_view, working_view
from bot.views.commerce.parsing import money_text, parse_money, whole_number
from bot.views.commerce.payment import payment_choice
from bot.views.hub import SEARCH_MAX, HubState
from bot.views.origin import DetailsState, Origin, Tab
from bot.views.passes import (
    AssignPassForm,
    adjust_form,
    assign_pass_form,
    cancel_pass_confirmation,
    extend_pass_form,
)
from bot.views.subscriptions import suspend_confirmation
from bot.views.tabs import DetailsMeta, subscriptions_tab, videos_tab
from bot.views.videos import (
    AssignVideoForm,
    assign_video_form,
    cancel_video_confirmation,
    extend_video_form,
)
from core.adapters.payments import PaymentError
from core.errors import Conflict, DomainError, ValidationFailed
from core.models import (
    AppointmentState,
    BookingState,
    PassState,
    PaymentMethod,
    RefundState,
    SubscriptionState,
    VideoState,
)
from core.services.appointments import AppointmentRow, FacilitatorOption, ServiceOption
from core.services.bookings import BookingRow, OccurrenceOption
from core.services.checkout import ManualPayment, PackagePayment, StripePayment
from core.services.paging import Page
from core.services.passes import PassRow, PassTypeOption
from core.services.subscriptions import SubscriptionRow
from core.services.videos import VideoOption, VideoRow
from tests.views_check import assert_valid_view

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
TZ = "Europe/London"
ALL_METHODS: tuple[Method, ...] = ("manual", "package", "stripe")
NAMES = ["W" * 200, "Yin Yoga für Anfänger", "田中の瞑想クラス", "<script>&amp; *bold*", "مريم 🙂"]


def meta(name: str = "Zoë Adams", **fields: Any) -> CommerceMeta:
    """Metadata as large as it gets: a long search on the hub and on the details."""
    hub = HubState(q="q" * SEARCH_MAX)
    details = DetailsMeta(
        uid="ABCDEFGH2345",
        state=DetailsState(tab=Tab.BOOKINGS, q="x" * SEARCH_MAX, page=999),
        origin=Origin(surface="modal", view_id="V" * 20, hub=hub),
    )
    return CommerceMeta(view_id="V12345678", details=details, name=name[:300], **fields)


def session(name: str, left: int = 4, i: int = 1) -> OccurrenceOption:
    return OccurrenceOption(
        id=i,
        event_name=name,
        starts_at=datetime(2026, 3, 16, 7, 0, tzinfo=UTC),
        timezone=TZ,
        duration_minutes=60,
        capacity=20,
        places_left=left,
        price_minor=1200,
        credit_price=1,
        currency="GBP",
    )


def a_pass(i: int, name: str = "10-class pass") -> PassRow:
    return PassRow(
        id=i,
        purchased_at=NOW,
        name=name,
        valid_from=date(2026, 3, 1),
        valid_to=date(2026, 5, 29),
        credits_total=10,
        credits_remaining=7,
        price_minor=9000,
        currency="GBP",
        payment_method=PaymentMethod.MANUAL,
        state=PassState.MANUAL,
    )


def booking(method: PaymentMethod, name: str = "Morning Yoga", **kw: Any) -> BookingRow:
    values: dict[str, Any] = {
        "id": 12,
        "booked_at": NOW,
        "event_name": name,
        "starts_at": datetime(2026, 3, 16, 7, 0, tzinfo=UTC),
        "timezone": TZ,
        "duration_minutes": 60,
        "price_minor": None if method is PaymentMethod.PACKAGE else 1500,
        "credits": 1 if method is PaymentMethod.PACKAGE else None,
        "currency": "GBP",
        "state": {
            PaymentMethod.MANUAL: BookingState.MANUAL,
            PaymentMethod.STRIPE: BookingState.COMPLETED,
            PaymentMethod.PACKAGE: BookingState.PACKAGE,
            PaymentMethod.UNPAID: BookingState.UNPAID,
        }[method],
        "payment_method": method,
        "stripe_payment_intent_id": "pi_123" if method is PaymentMethod.STRIPE else None,
        "refunded_minor": 0,
        "refund_state": RefundState.NONE,
    }
    values.update(kw)
    return BookingRow(**values)


def appointment(method: PaymentMethod, name: str = "Sports massage") -> AppointmentRow:
    return AppointmentRow(
        id=5,
        booked_at=NOW,
        service_name=name,
        facilitator_name=name,
        starts_at=datetime(2026, 3, 20, 10, 0, tzinfo=UTC),
        duration_minutes=45,
        price_minor=None if method is PaymentMethod.PACKAGE else 4000,
        credits=1 if method is PaymentMethod.PACKAGE else None,
        currency="GBP",
        payment_method=method,
        state=AppointmentState.SCHEDULED,
    )


def video(method: PaymentMethod, expires: datetime | None, name: str = "Yoga") -> VideoRow:
    return VideoRow(
        id=3,
        purchased_at=NOW,
        title=name,
        expires_at=expires,
        price_minor=None if method is PaymentMethod.PACKAGE else 800,
        credits=1 if method is PaymentMethod.PACKAGE else None,
        currency="GBP",
        payment_method=method,
        state=VideoState.ACTIVE,
    )


def subscription(stripe_id: str | None, name: str = "Unlimited monthly") -> SubscriptionRow:
    return SubscriptionRow(
        id=4,
        created_at=NOW,
        plan_name=name,
        interval="month",
        next_payment_at=NOW,
        price_minor=6000,
        currency="GBP",
        state=SubscriptionState.ACTIVE,
        stripe_subscription_id=stripe_id,
    )


def blocks_by_id(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if "block_id" in b}


def shown(view: dict[str, Any]) -> str:
    return str(view["blocks"])


# ------------------------------------------------------------------ money and fields


@given(st.integers(min_value=0, max_value=2**31 - 1))
def test_money_typed_back_reads_as_the_same_amount(minor: int) -> None:
    assert parse_money(money_text(minor, "GBP"), "GBP") == minor
    assert parse_money(money_text(minor, "JPY"), "JPY") == minor


@pytest.mark.parametrize(
    ("typed", "minor"),
    [("12", 1200), ("12.5", 1250), ("£1,234.50", 123450), (" 0 ", 0), ("GBP 3", 300)],
)
def test_money_as_people_type_it(typed: str, minor: int) -> None:
    assert parse_money(typed, "GBP") == minor


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("ten", "Enter an amount such as £12.50."),
        ("", "Enter an amount such as £12.50."),
        ("-1", "Enter zero or more."),
        ("1.234", "Use at most 2 decimal places."),
        ("NaN", "Enter an amount such as £12.50."),
        ("99999999999", "That is more than £21,474,836.47."),
    ],
)
def test_money_that_is_not(typed: str, problem: str) -> None:
    with pytest.raises(ValueError, match="^" + problem.replace(".", r"\.") + "$"):
        parse_money(typed, "GBP")


def test_whole_numbers() -> None:
    assert [whole_number(t) for t in ["+2", "-1", "30", " 4 ", "1.5", "", "two"]] == [
        2,
        -1,
        30,
        4,
        None,
        None,
        None,
    ]


def test_form_values_read_what_slack_sends() -> None:
    values = FormValues(
        {
            "price": {"book_event.price": {"type": "plain_text_input", "value": " 12.00 "}},
            "pass_id": {
                "book_event.pass_7": {
                    "type": "static_select",
                    "selected_option": {
                        "text": {"type": "plain_text", "text": "10-class pass #12 · 7 CR left"},
                        "value": "12",
                    },
                }
            },
            "payment": {"x": {"type": "radio_buttons", "selected_option": {"value": "package"}}},
            "day": {"d": {"type": "datepicker", "selected_date": "2026-03-20"}},
            "starts_at": {"t": {"type": "timepicker", "selected_time": "10:30"}},
            "bad_day": {"d": {"type": "datepicker", "selected_date": "20/03/2026"}},
            "empty": {"t": {"type": "timepicker", "selected_time": None}},
        }
    )
    assert values.text("price") == "12.00" and values.text("missing") == ""
    assert values.row_id("pass_id") == 12 and values.row_id("payment") is None
    assert values.day("day") == date(2026, 3, 20) and values.day("bad_day") is None
    assert values.clock_time("starts_at") == time(10, 30) and values.clock_time("empty") is None
    form = PaymentForm.read(values, ("manual", "package"))
    assert (form.method, form.pass_id, form.pass_label) == ("package", 12, "10-class pass #12")
    # A method the form doesn't offer (a forged payload) reads as Manual.
    assert PaymentForm.read(values, ("manual", "stripe")).method == "manual"
    assert FormValues.of({}).text("price") == ""


def test_payment_choices() -> None:
    assert payment_choice(PaymentForm(), "GBP") == (ManualPayment(None), {})
    assert payment_choice(PaymentForm(price="0"), "GBP") == (ManualPayment(0), {})
    assert payment_choice(PaymentForm(price="x"), "GBP")[1] == {
        "price": "Enter an amount such as £12.50."
    }
    chosen = {"text": {"type": "plain_text", "text": "p"}, "value": "9"}
    assert payment_choice(PaymentForm("package", pass_option=chosen), "GBP") == (
        PackagePayment(9),
        {},
    )
    assert "pass_id" in payment_choice(PaymentForm("package"), "GBP")[1]
    assert payment_choice(PaymentForm("stripe", intent="pi_1"), "GBP") == (
        StripePayment("pi_1"),
        {},
    )
    assert "payment_intent_id" in payment_choice(PaymentForm("stripe"), "GBP")[1]


# ------------------------------------------------------------------ events


def test_a_session_reads_as_the_spec_shows_it() -> None:
    assert occurrence_option(session("Morning Yoga"))["text"]["text"] == (
        "Morning Yoga · 16 Mar 2026, 07:00 GMT · 4 places left · £12.00"
    )
    assert "· 1 place left ·" in occurrence_option(session("Yoga", 1))["text"]["text"]
    label = occurrence_option(session("W" * 200, 0))["text"]["text"]
    assert len(label) == 75 and label.endswith("· 16 Mar 2026, 07:00 GMT · full · £12.00")


@pytest.mark.parametrize("name", NAMES)
def test_book_an_event_is_valid_in_every_state(name: str) -> None:
    sessions = [session(n, i % 3, i) for i, n in enumerate(NAMES * 20)][:99]
    chosen = occurrence_option(sessions[5])
    passes = [a_pass(i, n) for i, n in enumerate(NAMES, 1)]
    for listed in (sessions, None):
        for occurrence in (None, chosen):
            for method in ALL_METHODS:
                for offered in (passes, [], None):
                    view = book_event_form(
                        meta(name),
                        BookEventForm(
                            sessions=listed,
                            occurrence=occurrence,
                            payment=PaymentForm(method),
                            passes=offered,
                            problem="Something " + name,
                        ),
                        currency="GBP",
                    )
                    assert_valid_view(view)
    assert (
        book_event_form(meta(), BookEventForm(sessions=[]), currency="GBP")["callback_id"]
        == "commerce.result"
    )


def test_the_pass_select_belongs_to_the_chosen_session() -> None:
    chosen = occurrence_option(session("Yoga", i=7))
    one = book_event_form(
        meta(),
        BookEventForm(
            sessions=[session("Yoga", i=7)],
            occurrence=chosen,
            payment=PaymentForm("package"),
            passes=[a_pass(12)],
        ),
        currency="GBP",
    )
    select = blocks_by_id(one)["pass_id"]["element"]
    # Another session's choice is dropped (a new action_id); the soonest to end is chosen.
    assert select["action_id"] == "book_event.pass_7"
    assert select["initial_option"]["value"] == "12"
    two = book_event_form(
        meta(),
        BookEventForm(
            sessions=None,
            occurrence=chosen,
            payment=PaymentForm("package"),
            passes=[a_pass(12), a_pass(13)],
        ),
        currency="GBP",
    )
    assert blocks_by_id(two)["pass_id"]["element"]["initial_option"]["value"] == "12"
    kept = {"text": {"type": "plain_text", "text": "x"}, "value": "13"}
    again = book_event_form(
        meta(),
        BookEventForm(
            sessions=None,
            occurrence=chosen,
            payment=PaymentForm("package", pass_option=kept),
            passes=[a_pass(12), a_pass(13)],
        ),
        currency="GBP",
    )
    assert blocks_by_id(again)["pass_id"]["element"]["initial_option"]["value"] == "13"
    assert blocks_by_id(two)["occurrence_id"]["element"]["type"] == "external_select"
    none = book_event_form(
        meta(),
        BookEventForm(
            sessions=None,
            occurrence=chosen,
            payment=PaymentForm("package"),
            passes=[],
        ),
        currency="GBP",
    )
    assert "has no pass that can pay for this session" in shown(none)
    assert "pass_id" not in blocks_by_id(none)


def test_only_offered_payment_methods_show() -> None:
    view = book_event_form(
        meta(), BookEventForm(sessions=None, methods=("manual", "package")), currency="GBP"
    )
    radio = blocks_by_id(view)["payment"]["element"]
    assert [o["value"] for o in radio["options"]] == ["manual", "package"]
    assert radio["initial_option"]["value"] == "manual"
    assert blocks_by_id(view)["payment"]["dispatch_action"] is True


@pytest.mark.parametrize("method", list(PaymentMethod))
def test_booking_row_forms(method: PaymentMethod) -> None:
    for name in NAMES:
        row = booking(method, name)
        assert_valid_view(transfer_form(meta(row_id=12), row, sessions=[session(name)]))
        assert_valid_view(transfer_form(meta(row_id=12), row, sessions=None, problem="x"))
        assert_valid_view(cancel_booking_confirmation(meta(row_id=12), row))
        assert_valid_view(refund_form(meta(row_id=12, refunded_minor=0), row, problem="x"))
    confirm = shown(cancel_booking_confirmation(meta(), booking(method)))
    expected = {
        PaymentMethod.PACKAGE: "The 1 CR goes back to the pass it came from.",
        PaymentMethod.STRIPE: "is *not* refunded by cancelling",
        PaymentMethod.MANUAL: "It was marked paid (£15.00)",
        PaymentMethod.UNPAID: "It is not paid; a payment link still open",
    }[method]
    assert expected in confirm


def test_refund_form_shows_what_was_paid_and_refunded() -> None:
    row = booking(PaymentMethod.STRIPE, refunded_minor=500, refund_state=RefundState.PARTIAL)
    view = refund_form(meta(row_id=12, refunded_minor=500), row)
    amount = blocks_by_id(view)["amount"]
    assert amount["element"]["initial_value"] == "10.00"
    assert "Up to £10.00" in amount["hint"]["text"]
    text = shown(view)
    assert "£15.00 · pi_123" in text and "£5.00" in text
    kept = refund_form(meta(row_id=12), row, amount="3")
    assert blocks_by_id(kept)["amount"]["element"]["initial_value"] == "3"


def test_booked_notices() -> None:
    chosen = {
        "text": {"type": "plain_text", "text": "10-class pass #12 · 7 CR left"},
        "value": "12",
    }
    package = booked_notice(
        booking(PaymentMethod.PACKAGE), "Zoë Adams", PaymentForm("package", pass_option=chosen)
    )
    assert package == (
        "Booked Morning Yoga on 16 Mar 2026, 07:00 GMT for Zoë Adams "
        "(1 CR from 10-class pass #12), booking #12."
    )
    free = booking(PaymentMethod.MANUAL, price_minor=0)
    assert "(free)" in booked_notice(free, "Zoë", PaymentForm())
    assert "(£15.00 paid through Stripe)" in booked_notice(
        booking(PaymentMethod.STRIPE), "Zoë", PaymentForm("stripe")
    )


# ------------------------------------------------------------------ appointments


@pytest.mark.parametrize("name", NAMES)
def test_book_appointment_is_valid_in_every_state(name: str) -> None:
    services = [ServiceOption(i, n, 45, 4000, 1, "GBP") for i, n in enumerate(NAMES, 1)]
    facilitators = [FacilitatorOption(i, n) for i, n in enumerate(NAMES, 1)]
    chosen = {"text": {"type": "plain_text", "text": "x"}, "value": "1"}
    for service in (None, chosen):
        for offered in (None, [], facilitators):
            for method in ALL_METHODS:
                view = book_appointment_form(
                    meta(name),
                    BookAppointmentForm(
                        services=services,
                        service=service,
                        facilitators=offered,
                        day=date(2026, 3, 20),
                        at=time(10, 0),
                        payment=PaymentForm(method),
                        passes=[a_pass(1, name)],
                        problem=name,
                    ),
                    currency="GBP",
                    timezone=TZ,
                    now=NOW,
                )
                assert_valid_view(view)
    empty = book_appointment_form(
        meta(), BookAppointmentForm(services=[]), currency="GBP", timezone=TZ, now=NOW
    )
    assert "no appointment services to book yet" in shown(empty)
    assert "submit" not in empty


def test_appointment_times_are_in_the_business_time_zone() -> None:
    view = book_appointment_form(
        meta(),
        BookAppointmentForm(services=[ServiceOption(1, "Massage", 45, 4000, 1, "GBP")]),
        currency="GBP",
        timezone=TZ,
        now=NOW,
    )
    picker = blocks_by_id(view)["starts_at"]
    assert picker["element"]["timezone"] == TZ
    assert "Europe/London time (GMT now)" in picker["hint"]["text"]
    assert blocks_by_id(view)["day"]["dispatch_action"] is True
    row = appointment(PaymentMethod.MANUAL)
    moved = reschedule_form(
        meta(row_id=5), row, RescheduleForm(), timezone="America/New_York", now=NOW
    )
    # 10:00 UTC on 20 March is 06:00 in New York (EDT).
    assert blocks_by_id(moved)["starts_at"]["element"]["initial_time"] == "06:00"
    assert blocks_by_id(moved)["day"]["element"]["initial_date"] == "2026-03-20"


@pytest.mark.parametrize("method", list(PaymentMethod))
def test_appointment_row_forms(method: PaymentMethod) -> None:
    for name in NAMES:
        row = appointment(method, name)
        assert_valid_view(
            reschedule_form(meta(row_id=5), row, RescheduleForm(problem="x"), timezone=TZ, now=NOW)
        )
        assert_valid_view(cancel_appointment_confirmation(meta(row_id=5), row, TZ))


# ------------------------------------------------------------------ passes and videos


@pytest.mark.parametrize("name", NAMES)
def test_pass_forms(name: str) -> None:
    kinds = [PassTypeOption(i, n, 10, 90, 9000, "GBP") for i, n in enumerate(NAMES, 1)]
    for method in ALL_METHODS[::2]:
        view = assign_pass_form(
            meta(name),
            AssignPassForm(
                kinds=kinds,
                valid_from=date(2026, 4, 1),
                payment=PaymentForm(method),
                problem=name,
            ),
            currency="GBP",
        )
        assert_valid_view(view)
    row = a_pass(12, name)
    assert_valid_view(adjust_form(meta(row_id=12), row, delta="-2", reason=name[:200]))
    assert_valid_view(extend_pass_form(meta(row_id=12), row, problem=name))
    assert_valid_view(cancel_pass_confirmation(meta(row_id=12), row))
    empty = assign_pass_form(meta(), AssignPassForm(kinds=[]), currency="GBP")
    assert "no pass types to assign yet" in shown(empty)
    delta = blocks_by_id(adjust_form(meta(), row))["delta"]["element"]
    assert (delta["type"], delta["min_value"], delta["is_decimal_allowed"]) == (
        "number_input",
        "-1000",
        False,
    )


@pytest.mark.parametrize("name", NAMES)
def test_video_forms(name: str) -> None:
    offered = [
        VideoOption(1, name, 800, 1, 30, "GBP"),
        VideoOption(2, "Yin", 500, None, None, "GBP"),
    ]
    for video_chosen in (None, offered[0], offered[1]):
        for method in ALL_METHODS[:2]:
            view = assign_video_form(
                meta(name),
                AssignVideoForm(
                    videos=offered,
                    video=video_chosen,
                    payment=PaymentForm(method),
                    passes=[a_pass(1)],
                ),
                currency="GBP",
            )
            assert_valid_view(view)
    no_credits = assign_video_form(
        meta(),
        AssignVideoForm(videos=offered, video=offered[1], payment=PaymentForm("package")),
        currency="GBP",
    )
    assert "can't be paid with pass credits" in shown(no_credits)
    for paid in PaymentMethod:
        row = video(paid, NOW, name)
        assert_valid_view(extend_video_form(meta(row_id=3), row, timezone=TZ, days="30"))
        assert_valid_view(cancel_video_confirmation(meta(row_id=3), row, TZ))


def test_video_and_subscription_menus_offer_only_what_can_be_done() -> None:
    rows = [video(PaymentMethod.MANUAL, NOW), video(PaymentMethod.MANUAL, None)]
    body = videos_tab(DetailsState(tab=Tab.VIDEOS), Page([rows[0]], 1, 1, 10), timezone=TZ)
    menus = [b["accessory"]["options"] for b in body if b.get("block_id") == "video_3"]
    assert [o["text"]["text"] for o in menus[0]] == ["Extend", "Cancel"]
    body = videos_tab(DetailsState(tab=Tab.VIDEOS), Page([rows[1]], 1, 1, 10), timezone=TZ)
    menus = [b["accessory"]["options"] for b in body if b.get("block_id") == "video_3"]
    assert [o["text"]["text"] for o in menus[0]] == ["Cancel"]
    suspended = SubscriptionRow(
        **{**subscription(None).__dict__, "state": SubscriptionState.SUSPENDED}
    )
    body = subscriptions_tab(
        DetailsState(tab=Tab.SUBSCRIPTIONS), Page([suspended], 1, 1, 10), timezone=TZ
    )
    (row,) = [b for b in body if b.get("block_id") == "subscription_4"]
    assert "accessory" not in row


@pytest.mark.parametrize("stripe_id", [None, "sub_123"])
def test_suspend_says_it_is_final(stripe_id: str | None) -> None:
    for name in NAMES:
        view = suspend_confirmation(meta(row_id=4), subscription(stripe_id, name))
        assert_valid_view(view)
    text = shown(suspend_confirmation(meta(), subscription(stripe_id)))
    assert "*This ends it for good*" in text
    assert ("cancelled in Stripe (sub_123)" in text) is (stripe_id is not None)


def test_working_result_and_empty_views() -> None:
    for view in (
        working_view("W" * 300),
        result_view("<b>" * 2000, ok=True),
        result_view("", ok=False),
        nothing_to_offer("Assign Video", "videos to assign"),
    ):
        assert_valid_view(view)


# ------------------------------------------------------------------ dispatch and errors


def test_row_menu_values_decode_to_their_actions() -> None:
    decoded = decode_row_value("bookings|refund|42")
    assert decoded is not None and decoded == (ROW_ACTIONS[(Tab.BOOKINGS, "refund")], 42)
    for forged in [
        "",
        "bookings|refund",
        "bookings|explode|1",
        "notes|cancel|1",
        "nope|x|1",
        "bookings|cancel|1e3",
        "bookings|cancel|²",
        "bookings|cancel|" + "9" * 19,
    ]:
        assert decode_row_value(forged) is None
    verbs = {verb for _, verb in ROW_ACTIONS}
    assert verbs == {
        "link",
        "transfer",
        "cancel",
        "refund",
        "reschedule",
        "adjust",
        "extend",
        "pause",
        "resume",
        "suspend",
    }


def test_refusals_land_under_the_right_field() -> None:
    form = {"blocks": [{"type": "input", "block_id": b} for b in ("occurrence_id", "price")]}
    with_intent = {"blocks": [*form["blocks"], {"type": "input", "block_id": "payment_intent_id"}]}
    assert refusal(form, ValidationFailed({"price": "p"}), fallback="occurrence_id") == Refused(
        {"price": "p"}
    )
    # A field the form doesn't show joins the fallback's message.
    assert refusal(
        form, ValidationFailed({"pass_id": "a", "occurrence_id": "b"}), fallback="occurrence_id"
    ) == Refused({"occurrence_id": "a b"})
    assert refusal(form, DomainError("full"), fallback="occurrence_id").errors == {
        "occurrence_id": "full"
    }
    for exc in (PaymentError("stripe says no"), Conflict("used")):
        assert refusal(
            with_intent, exc, fallback="occurrence_id", payment_block="payment_intent_id"
        ).errors == {"payment_intent_id": exc.message}
        assert refusal(form, exc, fallback="occurrence_id", payment_block="payment_intent_id") == (
            Refused({"occurrence_id": exc.message})
        )
    long = refusal(form, DomainError("x" * 5000), fallback="price")
    assert len(long.errors["price"]) == 1000
