"""Book an Event, Transfer and Cancel on SQLite and PostgreSQL: every rule, credits and history."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from core.actor import Actor
from core.adapters.payments import PaymentError
from core.db import Database
from core.errors import Conflict, DomainError, NotFound, ValidationFailed
from core.models import Booking, BookingState, EventOccurrence, Pass, PassState, PaymentMethod
from core.services.account import merge_customers
from core.services.bookings import (
    book_event,
    cancel_booking,
    list_bookings,
    transfer_booking,
    upcoming_occurrences,
    usable_passes,
)
from core.services.checkout import ManualPayment, PackagePayment, PaymentChoice, StripePayment
from core.services.customers import archive_customer
from core.services.passes import assign_pass, cancel_pass
from tests.unit.commerce_helpers import (
    FakeStripeGateway,
    Shop,
    assert_credits_conserved,
    history_of,
    london,
    manual_pass,
    new_customers,
    open_shop,
)

MON = "2026-03-16 07:00"
WED = "2026-03-18 07:00"
JUNE = "2026-06-15 07:00"
PAST = "2026-03-13 07:00"
MON_TITLE = "Morning Yoga on 16 Mar 2026, 07:00 GMT"
WED_TITLE = "Morning Yoga on 18 Mar 2026, 07:00 GMT"


@pytest.fixture
def shop(db: Database, staff: Actor) -> Shop:
    return open_shop(db, staff)


def _book(
    db: Database, actor: Actor, uid: str, session: int, payment: PaymentChoice | None = None
) -> int:
    with db.unit_of_work() as uow:
        return book_event(uow, actor, uid, session, payment or ManualPayment()).id


def test_upcoming_sessions_are_future_open_ones_with_places_left(
    db: Database, staff: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    _book(db, staff, uid, shop.session("yoga", MON))
    with db.unit_of_work() as uow:
        uow.session.execute(
            update(EventOccurrence)
            .where(EventOccurrence.id == shop.session("yoga", WED))
            .values(cancelled=True)
        )
    with db.unit_of_work(readonly=True) as uow:
        every = upcoming_occurrences(uow, staff)
        assert [(o.event_name, o.starts_at) for o in every] == [
            ("Morning Yoga", london(MON)),
            ("Café Barre", london("2026-03-21 09:00")),
            ("Morning Yoga", london(JUNE)),
        ]
        monday = every[0]
        assert (monday.capacity, monday.places_left, monday.price_minor) == (3, 2, 1200)
        assert (monday.credit_price, monday.currency, monday.timezone) == (
            1,
            "GBP",
            "Europe/London",
        )
        assert every[1].credit_price == 2
        assert [o.event_name for o in upcoming_occurrences(uow, staff, "CAFE")] == ["Café Barre"]
        assert len(upcoming_occurrences(uow, staff, "yoga morn")) == 2
        assert upcoming_occurrences(uow, staff, "pilates") == []
        assert len(upcoming_occurrences(uow, staff, limit=1)) == 1


def test_manual_booking_charges_the_session_price_an_override_or_nothing(
    db: Database, staff: Actor, shop: Shop
) -> None:
    a, b, c = new_customers(db, staff, 3)
    monday = shop.session("yoga", MON)
    with db.unit_of_work() as uow:
        row = book_event(uow, staff, a, monday, ManualPayment())
        assert (row.price_minor, row.credits, row.state) == (1200, None, BookingState.MANUAL)
        assert (row.event_name, row.starts_at, row.payment_method) == (
            "Morning Yoga",
            london(MON),
            PaymentMethod.MANUAL,
        )
        assert book_event(uow, staff, b, monday, ManualPayment(500)).price_minor == 500
        assert book_event(uow, staff, c, monday, ManualPayment(0)).price_minor == 0
    with db.unit_of_work(readonly=True) as uow:
        assert [e.detail for e in history_of(uow, a)] == [
            f"booked {MON_TITLE} (£12.00, paid manually), booking #{row.id}"
        ]
        assert history_of(uow, c)[0].detail.startswith(f"booked {MON_TITLE} (free)")
        assert history_of(uow, c)[0].actor == staff.user_id
        assert list_bookings(uow, staff, a).rows == [row]
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        book_event(uow, staff, a, shop.session("yoga", WED), ManualPayment(-1))
    assert "price" in refused.value.errors


def test_a_pass_credit_is_taken_in_the_same_transaction_as_the_booking(
    db: Database, staff: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    pass_id = manual_pass(db, staff, shop, uid)
    with db.unit_of_work() as uow:
        row = book_event(uow, staff, uid, shop.session("yoga", MON), PackagePayment(pass_id))
    assert (row.credits, row.price_minor, row.state, row.payment_method) == (
        1,
        None,
        BookingState.PACKAGE,
        PaymentMethod.PACKAGE,
    )
    held = assert_credits_conserved(db, pass_id)
    assert held.credits_remaining == 9
    with db.unit_of_work(readonly=True) as uow:
        entry = history_of(uow, uid)[-1]
        assert entry.action == "event booked"
        assert entry.detail == (
            f"booked {MON_TITLE} (1 CR from 10-class pass #{pass_id}), booking #{row.id}"
        )
        assert entry.changes == {f"credits left on 10-class pass #{pass_id}": [10, 9]}

    def failing_request() -> None:
        with db.unit_of_work() as uow:
            book_event(uow, staff, uid, shop.session("yoga", WED), PackagePayment(pass_id))
            raise RuntimeError("the request fails after booking")

    # A failure after the credit was taken rolls both back: the credit stays on the pass.
    with pytest.raises(RuntimeError):
        failing_request()
    assert assert_credits_conserved(db, pass_id).credits_remaining == 9


def test_usable_passes_are_valid_that_day_with_enough_credits(
    db: Database, staff: Actor, shop: Shop
) -> None:
    uid, other = new_customers(db, staff, 2)
    ten = manual_pass(db, staff, shop, uid)
    intro = manual_pass(db, staff, shop, uid, "intro")
    manual_pass(db, staff, shop, uid, valid_from=date(2025, 1, 1))
    cancelled = manual_pass(db, staff, shop, uid)
    manual_pass(db, staff, shop, other)
    with db.unit_of_work() as uow:
        cancel_pass(uow, staff, cancelled)
        uow.session.execute(update(Pass).where(Pass.id == intro).values(credits_remaining=1))
    with db.unit_of_work(readonly=True) as uow:
        # Soonest to end first: the intro pass ends on 27 Mar.
        assert [p.id for p in usable_passes(uow, staff, uid, shop.session("yoga", MON))] == [
            intro,
            ten,
        ]
        # Café Barre costs 2 CR: the intro pass has 1 left.
        assert [
            p.id for p in usable_passes(uow, staff, uid, shop.session("barre", "2026-03-21 10:00"))
        ] == [ten]
        assert usable_passes(uow, staff, uid, shop.session("yoga", JUNE)) == []


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("expired on the day", "is valid from 14 Mar 2026 to 27 Mar 2026, not on 15 Jun 2026"),
        ("too few credits", "has 1 CR left; this costs 2 CR"),
        ("cancelled", "is cancelled"),
        ("someone else's", "belongs to another customer"),
    ],
)
def test_a_pass_that_cannot_pay_is_refused_and_keeps_its_credits(
    db: Database, staff: Actor, shop: Shop, case: str, expected: str
) -> None:
    uid, other = new_customers(db, staff, 2)
    intro = manual_pass(db, staff, shop, other if case == "someone else's" else uid, "intro")
    session = shop.session("yoga", MON)
    with db.unit_of_work() as uow:
        if case == "expired on the day":
            session = shop.session("yoga", JUNE)
        elif case == "too few credits":
            session = shop.session("barre", "2026-03-21 10:00")
            uow.session.execute(update(Pass).where(Pass.id == intro).values(credits_remaining=1))
        elif case == "cancelled":
            cancel_pass(uow, staff, intro)
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        book_event(uow, staff, uid, session, PackagePayment(intro))
    assert expected in refused.value.errors["pass_id"]
    with db.unit_of_work(readonly=True) as uow:
        assert uow.session.scalars(select(Booking)).all() == []
        held = uow.session.get(Pass, intro)
        assert held is not None and held.credits_remaining == (
            1 if case == "too few credits" else 3
        )


def test_a_stripe_payment_is_verified_and_must_pay_the_price(
    db: Database, staff: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    stripe = FakeStripeGateway()
    intent = stripe.add("pi_Paid1200", 1200)
    stripe.add("pi_Paid1500", 1500)
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        book_event(
            uow, staff, uid, shop.session("yoga", MON), StripePayment("pi_Paid1500"), gateway=stripe
        )
    assert refused.value.errors == {
        "payment_intent_id": "pi_Paid1500 is for £15.00 but this costs £12.00."
    }
    with db.unit_of_work() as uow:
        row = book_event(
            uow, staff, uid, shop.session("yoga", MON), StripePayment(f" {intent} "), gateway=stripe
        )
    assert (row.price_minor, row.state, row.payment_method, row.stripe_payment_intent_id) == (
        1200,
        BookingState.COMPLETED,
        PaymentMethod.STRIPE,
        intent,
    )
    with db.unit_of_work(readonly=True) as uow:
        assert history_of(uow, uid)[-1].detail == (
            f"booked {MON_TITLE} (£12.00 paid through Stripe, {intent}), booking #{row.id}"
        )


def test_a_stripe_payment_is_refused_unless_succeeded_in_our_currency_and_unused(
    db: Database, staff: Actor, shop: Shop
) -> None:
    a, b = new_customers(db, staff, 2)
    stripe = FakeStripeGateway()
    stripe.add("pi_Pending", 1200, status="requires_payment_method")
    stripe.add("pi_Euros", 1200, currency="eur")
    used = stripe.add("pi_Used", 1200)
    stripe.add("pi_OnPass", 10000)
    stripe.add("pi_Short", 1100)
    monday, wednesday = shop.session("yoga", MON), shop.session("yoga", WED)
    with db.unit_of_work() as uow:
        first = book_event(uow, staff, a, monday, StripePayment(used), gateway=stripe)
        assign_pass(
            uow,
            staff,
            a,
            shop.pass_types["ten"],
            payment=StripePayment("pi_OnPass"),
            gateway=stripe,
        )
    refusals: list[tuple[str, type[Exception], str]] = [
        ("pi_Pending", ValidationFailed, "is 'requires_payment_method', not succeeded"),
        ("pi_Euros", ValidationFailed, "is in EUR, but this workspace takes GBP"),
        ("pi_Unknown", PaymentError, "Stripe has no payment pi_Unknown"),
        ("ch_NotAnIntent", ValidationFailed, "starts with pi_"),
        (used, Conflict, f"pi_Used already pays for booking #{first.id} ({MON_TITLE}) of Person0"),
        ("pi_OnPass", Conflict, "pi_OnPass already pays for pass #"),
        ("pi_Short", ValidationFailed, "pi_Short is for £11.00 but this costs £12.00."),
    ]
    for intent, error, text in refusals:
        with db.unit_of_work() as uow, pytest.raises(error) as refused:
            book_event(uow, staff, b, wednesday, StripePayment(intent), gateway=stripe)
        assert text in refused.value.message, intent
    with db.unit_of_work() as uow, pytest.raises(DomainError, match="STRIPE_API_KEY"):
        book_event(uow, staff, b, wednesday, StripePayment("pi_Used"), gateway=None)
    with db.unit_of_work(readonly=True) as uow:
        assert len(uow.session.scalars(select(Booking)).all()) == 1


def test_past_cancelled_full_and_unknown_sessions_are_refused_with_a_reason(
    db: Database, staff: Actor, other_tenant: Actor, shop: Shop
) -> None:
    uids = new_customers(db, staff, 4)
    monday = shop.session("yoga", MON)
    for uid in uids[:3]:
        _book(db, staff, uid, monday)
    with db.unit_of_work() as uow:
        uow.session.execute(
            update(EventOccurrence)
            .where(EventOccurrence.id == shop.session("yoga", WED))
            .values(cancelled=True)
        )
    cases: list[tuple[int, type[DomainError], str]] = [
        (
            monday,
            DomainError,
            f"{MON_TITLE} is full (3 of 3 places taken); choose another session.",
        ),
        (shop.session("yoga", PAST), ValidationFailed, "has already started"),
        (shop.session("yoga", WED), DomainError, f"{WED_TITLE} is cancelled"),
        (999_999, NotFound, "no longer exists"),
    ]
    for session, error, text in cases:
        with db.unit_of_work() as uow, pytest.raises(error) as refused:
            book_event(uow, staff, uids[3], session, ManualPayment())
        assert text in refused.value.message
    other_shop = open_shop(db, other_tenant)
    with db.unit_of_work() as uow, pytest.raises(NotFound):
        book_event(uow, staff, uids[3], other_shop.session("yoga", MON), ManualPayment())


def test_archived_merged_and_already_booked_customers_are_refused(
    db: Database, staff: Actor, admin: Actor, shop: Shop
) -> None:
    kept, merged, archived = new_customers(db, staff, 3)
    monday = shop.session("yoga", MON)
    _book(db, staff, kept, monday)
    with db.unit_of_work() as uow:
        merge_customers(uow, admin, merged, kept, reason="Same person")
        archive_customer(uow, staff, archived)
    with db.unit_of_work() as uow, pytest.raises(DomainError, match="already booked on"):
        book_event(uow, staff, kept, monday, ManualPayment())
    with db.unit_of_work() as uow, pytest.raises(Conflict, match="was merged into"):
        book_event(uow, staff, merged, monday, ManualPayment())
    with db.unit_of_work() as uow, pytest.raises(DomainError, match="is archived; activate them"):
        book_event(uow, staff, archived, monday, ManualPayment())


def test_transfer_moves_the_booking_and_its_payment_and_frees_the_place(
    db: Database, staff: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    pass_id = manual_pass(db, staff, shop, uid)
    monday, wednesday = shop.session("yoga", MON), shop.session("yoga", WED)
    booking = _book(db, staff, uid, monday, PackagePayment(pass_id))
    with db.unit_of_work() as uow:
        row = transfer_booking(uow, staff, booking, wednesday).row
    assert (row.id, row.starts_at, row.credits, row.state) == (
        booking,
        london(WED),
        1,
        BookingState.PACKAGE,
    )
    assert assert_credits_conserved(db, pass_id).credits_remaining == 9
    with db.unit_of_work(readonly=True) as uow:
        places = {o.id: o.places_left for o in upcoming_occurrences(uow, staff, "yoga")}
        assert (places[monday], places[wednesday]) == (3, 2)
        entry = history_of(uow, uid)[-1]
        assert (entry.action, entry.detail) == (
            "booking transferred",
            f"transferred booking #{booking} from {MON_TITLE} to {WED_TITLE}",
        )
        assert entry.changes == {"session": [MON_TITLE, WED_TITLE]}


def test_transfer_refuses_the_same_past_full_or_already_booked_session_and_expired_passes(
    db: Database, staff: Actor, shop: Shop
) -> None:
    uid, *others = new_customers(db, staff, 4)
    intro = manual_pass(db, staff, shop, uid, "intro")
    monday, wednesday = shop.session("yoga", MON), shop.session("yoga", WED)
    booking = _book(db, staff, uid, monday, PackagePayment(intro))
    for other in others:
        _book(db, staff, other, wednesday)
    cases: list[tuple[int, type[DomainError], str]] = [
        (monday, ValidationFailed, "already on that session"),
        (shop.session("yoga", PAST), ValidationFailed, "has already started"),
        (wednesday, DomainError, f"{WED_TITLE} is full (3 of 3 places taken)"),
        (shop.session("yoga", JUNE), ValidationFailed, "not on 15 Jun 2026"),
    ]
    for target, error, text in cases:
        with db.unit_of_work() as uow, pytest.raises(error) as refused:
            transfer_booking(uow, staff, booking, target)
        assert text in refused.value.message
    other_booking = _book(db, staff, others[0], monday)
    with db.unit_of_work() as uow:
        transfer_booking(uow, staff, other_booking, shop.session("yoga", JUNE))
    second = _book(db, staff, uid, shop.session("yoga", JUNE))
    with db.unit_of_work() as uow, pytest.raises(DomainError, match="already booked on"):
        transfer_booking(uow, staff, booking, shop.session("yoga", JUNE))
    with db.unit_of_work() as uow:
        cancel_booking(uow, staff, second)
    with db.unit_of_work() as uow, pytest.raises(DomainError, match="is cancelled; book"):
        transfer_booking(uow, staff, second, wednesday)


def test_cancel_frees_the_place_and_returns_credits_to_the_pass(
    db: Database, staff: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    pass_id = manual_pass(db, staff, shop, uid)
    monday = shop.session("yoga", MON)
    booking = _book(db, staff, uid, monday, PackagePayment(pass_id))
    with db.unit_of_work() as uow:
        done = cancel_booking(uow, staff, booking)
    assert done.row.state is BookingState.CANCELLED and done.row.credits == 1
    assert done.message == (
        f"Cancelled {MON_TITLE} for Person0 Test; 1 CR returned to 10-class pass #{pass_id}."
    )
    assert assert_credits_conserved(db, pass_id).credits_remaining == 10
    with db.unit_of_work(readonly=True) as uow:
        assert upcoming_occurrences(uow, staff, "yoga")[0].places_left == 3
        entry = history_of(uow, uid)[-1]
        assert entry.action == "booking cancelled"
        assert entry.detail == (
            f"cancelled booking #{booking}, {MON_TITLE}; 1 CR returned to 10-class pass #{pass_id}"
        )
        assert entry.changes == {
            "state": ["package", "cancelled"],
            f"credits left on 10-class pass #{pass_id}": [9, 10],
        }
    with db.unit_of_work() as uow, pytest.raises(DomainError, match="already cancelled"):
        cancel_booking(uow, staff, booking)
    # The freed place can be booked again, by the same customer too.
    _book(db, staff, uid, monday)


def test_cancelling_a_stripe_booking_keeps_the_payment_and_says_refunds_are_separate(
    db: Database, staff: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    stripe = FakeStripeGateway()
    with db.unit_of_work() as uow:
        booking = book_event(
            uow,
            staff,
            uid,
            shop.session("yoga", MON),
            StripePayment(stripe.add("pi_A", 1200)),
            gateway=stripe,
        ).id
    with db.unit_of_work() as uow:
        done = cancel_booking(uow, staff, booking)
    assert "the Stripe payment (£12.00) is not refunded; refund it separately" in done.message
    assert (done.row.price_minor, done.row.stripe_payment_intent_id) == (1200, "pi_A")
    with db.unit_of_work(readonly=True) as uow:
        assert "not refunded" in history_of(uow, uid)[-1].detail


def test_credits_are_conserved_through_booking_transfer_and_cancel(
    db: Database, staff: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    pass_id = manual_pass(db, staff, shop, uid)
    sessions = [shop.session("yoga", MON), shop.session("barre", "2026-03-21 10:00")]
    booked = [_book(db, staff, uid, s, PackagePayment(pass_id)) for s in sessions]
    assert assert_credits_conserved(db, pass_id).credits_remaining == 7
    with db.unit_of_work() as uow:
        transfer_booking(uow, staff, booked[0], shop.session("yoga", WED))
    assert assert_credits_conserved(db, pass_id).credits_remaining == 7
    with db.unit_of_work() as uow:
        cancel_booking(uow, staff, booked[1])
    assert assert_credits_conserved(db, pass_id).credits_remaining == 9
    with db.unit_of_work() as uow:
        cancel_booking(uow, staff, booked[0])
    held = assert_credits_conserved(db, pass_id)
    assert (held.credits_remaining, held.credits_total, held.state) == (10, 10, PassState.MANUAL)


def test_another_workspace_cannot_touch_a_booking(
    db: Database, staff: Actor, other_tenant: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    booking = _book(db, staff, uid, shop.session("yoga", MON))
    other_shop = open_shop(db, other_tenant)
    with db.unit_of_work() as uow, pytest.raises(NotFound):
        cancel_booking(uow, other_tenant, booking)
    with db.unit_of_work() as uow, pytest.raises(NotFound):
        transfer_booking(uow, other_tenant, booking, other_shop.session("yoga", WED))
    with db.unit_of_work() as uow, pytest.raises(NotFound):
        transfer_booking(uow, staff, booking, other_shop.session("yoga", WED))


BARRE = "2026-03-21 10:00"


@pytest.mark.parametrize(
    ("start", "to", "package", "said"),
    [
        (
            ("yoga", MON),
            ("barre", BARRE),
            False,
            "The new session costs £13.00, £1.00 more than the £12.00 paid; "
            "collect the difference separately.",
        ),
        (
            ("barre", BARRE),
            ("yoga", WED),
            False,
            "The new session costs £12.00, £1.00 less than the £13.00 paid; "
            "refund the difference if due.",
        ),
        (
            ("yoga", MON),
            ("barre", BARRE),
            True,
            "The new session costs 2 CR, 1 CR more than the 1 CR taken from the pass; "
            "the pass is not charged the difference.",
        ),
        (("yoga", MON), ("yoga", WED), False, ""),
    ],
    ids=["dearer", "cheaper", "more credits", "same price"],
)
def test_a_transfer_to_a_session_at_another_price_says_the_difference(
    db: Database,
    staff: Actor,
    shop: Shop,
    start: tuple[str, str],
    to: tuple[str, str],
    package: bool,
    said: str,
) -> None:
    (uid,) = new_customers(db, staff)
    payment = PackagePayment(manual_pass(db, staff, shop, uid)) if package else None
    booking = _book(db, staff, uid, shop.session(*start), payment)
    with db.unit_of_work() as uow:
        moved = transfer_booking(uow, staff, booking, shop.session(*to))
    assert moved.difference == said
    with db.unit_of_work(readonly=True) as uow:
        detail = history_of(uow, uid)[-1].detail
    assert detail.endswith(f". {said}") if said else "costs" not in detail


def test_an_archived_customers_booking_is_not_transferred(
    db: Database, staff: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    booking = _book(db, staff, uid, shop.session("yoga", MON))
    with db.unit_of_work() as uow:
        archive_customer(uow, staff, uid)
    with db.unit_of_work() as uow, pytest.raises(DomainError, match="is archived; activate them"):
        transfer_booking(uow, staff, booking, shop.session("yoga", WED))
    with db.unit_of_work(readonly=True) as uow:
        assert uow.session.get(Booking, booking).occurrence_id == shop.session("yoga", MON)
