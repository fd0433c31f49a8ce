"""Payment links at service level on SQLite and PostgreSQL, through the real `stripe` client and
the stand-in's Checkout Sessions: sending (never twice while open), expiry and resending,
Stripe failing, and `apply_checkout_event` with the session dicts Stripe's events carry."""

# ruff: noqa: F811 - tests take the imported stand-in fixtures as parameters

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from core.actor import Actor
from core.adapters.payments import (
    CheckoutRequest,
    CheckoutSessionInfo,
    PaymentError,
    StripeGateway,
)
from core.db import Database, UnitOfWork
from core.errors import Conflict, DomainError, Forbidden, ValidationFailed
from core.models import (
    Appointment,
    Booking,
    BookingState,
    Customer,
    EventOccurrence,
    LinkStatus,
    MailStatus,
    OutboxMail,
    Pass,
    PassState,
    PaymentIntentUse,
    PaymentLink,
    PaymentMethod,
    Subscription,
    SubscriptionPlan,
    SubscriptionState,
    VideoPurchase,
)
from core.services import payment_links
from core.services.appointments import book_appointment
from core.services.bookings import book_event, cancel_booking
from core.services.checkout import LinkPayment, ManualPayment
from core.services.passes import assign_pass, usable_passes_on
from core.services.payment_links import (
    COMPLETED,
    EXPIRED,
    LINK_LIFETIME,
    apply_checkout_event,
    create_and_send,
    send_link,
    start_subscription,
)
from core.services.videos import assign_video
from tests.conftest import MutableClock
from tests.stripe_server import (
    HOST,
    StripeStandIn,
    free_port,
    stripe_process,  # noqa: F401 - a fixture
    stripe_server,  # noqa: F401 - a fixture
)
from tests.unit.commerce_helpers import Shop, history_of, london, new_customers, open_shop


def _book_by_link(db: Database, actor: Actor, shop: Shop, uid: str, gateway: Any) -> Any:
    session = shop.session("yoga", "2026-03-16 07:00")
    return create_and_send(
        db,
        actor,
        "booking",
        lambda uow, who: book_event(uow, who, uid, session, LinkPayment()).id,
        gateway=gateway,
    )


def _link(db: Database, **where: Any) -> PaymentLink:
    with db.unit_of_work(readonly=True) as uow:
        query = select(PaymentLink).order_by(PaymentLink.id.desc())
        for column, value in where.items():
            query = query.where(getattr(PaymentLink, column) == value)
        row = uow.session.scalars(query.limit(1)).one()
        uow.session.expunge(row)
        return row


def _get(db: Database, model: Any, row_id: int) -> Any:
    with db.unit_of_work(readonly=True) as uow:
        row = uow.session.get(model, row_id)
        if row is not None:
            uow.session.expunge(row)
        return row


def _count(db: Database, model: Any) -> int:
    with db.unit_of_work(readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


def _mails(db: Database) -> list[OutboxMail]:
    with db.unit_of_work(readonly=True) as uow:
        rows = list(uow.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))
        for row in rows:
            uow.session.expunge(row)
        return rows


def _actions(db: Database, uid: str) -> list[tuple[str, str]]:
    with db.unit_of_work(readonly=True) as uow:
        return [(h.actor, h.action) for h in history_of(uow, uid)]


def _apply(db: Database, team_id: str, event: str, session: dict[str, Any]) -> str:
    with db.unit_of_work() as uow:
        return apply_checkout_event(uow, team_id, event, session)


@pytest.fixture
def shop(db: Database, admin: Actor) -> Shop:
    return open_shop(db, admin)


def test_a_booking_made_to_be_paid_by_link_is_unpaid_and_its_link_mailed_once(
    db: Database, admin: Actor, shop: Shop, stripe_server: StripeStandIn
) -> None:
    (uid,) = new_customers(db, admin)
    gateway = stripe_server.gateway()
    sent = _book_by_link(db, admin, shop, uid, gateway)

    assert sent.new and sent.amount_minor == 1200 and sent.currency == "GBP"
    assert sent.url.startswith("https://checkout.stripe.com/c/pay/cs_test_")
    assert sent.title.startswith("booking #") and "Morning Yoga on 16 Mar 2026" in sent.title
    booking = _get(db, Booking, int(sent.title.split("#")[1].split(" ")[0]))
    assert (booking.state, booking.payment_method) == (BookingState.UNPAID, PaymentMethod.UNPAID)
    session = stripe_server.checkout(sent.session_id)
    assert session["mode"] == "payment" and session["amount_total"] == 1200
    assert session["currency"] == "gbp" and session["customer_email"] == sent.sent_to
    assert session["metadata"]["team_id"] == admin.team_id
    assert session["metadata"]["kind"] == "booking"
    assert session["metadata"]["target_id"] == str(booking.id)
    assert session["client_reference_id"] == f"{admin.team_id}:booking:{booking.id}"
    assert session["success_url"].startswith("https://portal.test/login?checkout=paid")
    assert session["expires_at"] == int((london("2026-03-14 09:30") + LINK_LIFETIME).timestamp())
    (mail,) = _mails(db)
    assert mail.kind == "payment_link" and mail.to_address == sent.sent_to
    assert sent.url in mail.body and "Morning Yoga" in mail.body and mail.secret is None
    assert _actions(db, uid) == [("UADMIN", "event booked"), ("UADMIN", "payment link sent")]

    # A second click shows the open link again: no second session, no second mail.
    again = send_link(db, admin, "booking", booking.id, gateway=gateway, uid=uid)
    assert (again.new, again.url, again.session_id) == (False, sent.url, sent.session_id)
    assert len(_mails(db)) == 1 and _count(db, PaymentLink) == 1
    assert [p for m, p, _, _ in stripe_server.calls() if m == "POST"] == ["/v1/checkout/sessions"]


def test_completion_marks_the_record_paid_once_by_stripe(
    db: Database, admin: Actor, shop: Shop, stripe_server: StripeStandIn
) -> None:
    (uid,) = new_customers(db, admin)
    sent = _book_by_link(db, admin, shop, uid, stripe_server.gateway())
    paid = stripe_server.pay_checkout(sent.session_id)

    assert _apply(db, admin.team_id, COMPLETED, paid).startswith("paid: booking #")
    booking = _link(db)
    row = _get(db, Booking, booking.target_id)
    assert (row.state, row.payment_method) == (BookingState.COMPLETED, PaymentMethod.STRIPE)
    assert row.stripe_payment_intent_id == paid["payment_intent"] and row.price_minor == 1200
    assert (booking.status, booking.paid_with) == (LinkStatus.COMPLETE, paid["payment_intent"])
    claim = _get(db, PaymentIntentUse, paid["payment_intent"])
    assert (claim.kind, claim.row_id) == ("booking", row.id)
    assert _actions(db, uid)[-1] == ("Stripe", "payment received")
    # Stripe delivers events at least once: the second changes nothing.
    assert _apply(db, admin.team_id, COMPLETED, paid).startswith("already recorded")
    assert _get(db, Booking, row.id).version == row.version
    assert _actions(db, uid)[-1] == ("Stripe", "payment received")
    assert len(_actions(db, uid)) == 3
    # An expiry arriving late does not undo the payment.
    assert _apply(db, admin.team_id, EXPIRED, {**paid, "status": "expired"}).startswith("already")


def test_expiry_makes_it_unpaid_again_and_a_new_link_can_be_sent(
    db: Database, admin: Actor, shop: Shop, stripe_server: StripeStandIn, clock: MutableClock
) -> None:
    (uid,) = new_customers(db, admin)
    gateway = stripe_server.gateway()
    first = _book_by_link(db, admin, shop, uid, gateway)
    booking_id = _link(db).target_id

    expired = stripe_server.expire_checkout(first.session_id)
    assert _apply(db, admin.team_id, EXPIRED, expired) == f"expired: link {_link(db).id}"
    assert _link(db).status is LinkStatus.EXPIRED
    assert _get(db, Booking, booking_id).state is BookingState.UNPAID
    assert _actions(db, uid)[-1] == ("Stripe", "payment link expired")

    second = send_link(db, admin, "booking", booking_id, gateway=gateway)
    assert second.new and second.session_id != first.session_id
    assert _link(db).attempt == 2 and len(_mails(db)) == 2

    # Past Stripe's expires_at the link is expired even before the event arrives.
    clock.advance(hours=23, minutes=1)
    third = send_link(db, admin, "booking", booking_id, gateway=gateway)
    assert third.new and third.session_id not in (first.session_id, second.session_id)
    assert [link.status for link in _links(db)] == [
        LinkStatus.EXPIRED,
        LinkStatus.EXPIRED,
        LinkStatus.OPEN,
    ]


def _links(db: Database) -> list[PaymentLink]:
    with db.unit_of_work(readonly=True) as uow:
        rows = list(uow.session.scalars(select(PaymentLink).order_by(PaymentLink.id)))
        for row in rows:
            uow.session.expunge(row)
        return rows


def test_a_second_click_finds_the_payment_or_expiry_stripe_already_knows(
    db: Database, admin: Actor, shop: Shop, stripe_server: StripeStandIn
) -> None:
    (uid,) = new_customers(db, admin)
    gateway = stripe_server.gateway()
    first = _book_by_link(db, admin, shop, uid, gateway)
    booking_id = _link(db).target_id
    stripe_server.pay_checkout(first.session_id)

    shown = send_link(db, admin, "booking", booking_id, gateway=gateway)
    assert shown.paid and not shown.new
    assert _get(db, Booking, booking_id).state is BookingState.COMPLETED
    with pytest.raises(DomainError, match="already paid through Stripe"):
        send_link(db, admin, "booking", booking_id, gateway=gateway)


def test_stripe_unreachable_leaves_nothing_half_done(
    db: Database, admin: Actor, shop: Shop, stripe_server: StripeStandIn
) -> None:
    (uid,) = new_customers(db, admin)
    gone = StripeGateway("sk_test_x", f"http://{HOST}:{free_port()}", max_network_retries=0)

    with pytest.raises(PaymentError) as caught:
        _book_by_link(db, admin, shop, uid, gone)

    assert caught.value.message == (
        "Stripe couldn't be reached; no payment link was made. Try again in a minute. "
        "So nothing was booked."
    )
    assert (_count(db, Booking), _count(db, PaymentLink)) == (0, 0)
    assert _mails(db) == []
    assert [a for _, a in _actions(db, uid)] == [
        "event booked",
        "booking withdrawn, no payment link",
    ]

    # On a record kept unpaid, the row's Send payment link changes nothing either.
    with db.unit_of_work() as uow:
        booking = book_event(
            uow, admin, uid, shop.session("yoga", "2026-03-16 07:00"), LinkPayment()
        )
    with pytest.raises(PaymentError, match="couldn't be reached"):
        send_link(db, admin, "booking", booking.id, gateway=gone)
    assert _count(db, PaymentLink) == 0 and _mails(db) == []
    assert _get(db, Booking, booking.id).state is BookingState.UNPAID


class LostAnswer(StripeGateway):
    """Stripe makes the session, but its answer never arrives (the first time)."""

    lost = 0

    def create_checkout_session(
        self, request: CheckoutRequest, *, idempotency_key: str
    ) -> CheckoutSessionInfo:
        made = super().create_checkout_session(request, idempotency_key=idempotency_key)
        if not self.lost:
            self.lost = 1
            raise PaymentError("The connection to Stripe broke off.", maybe_done=True)
        return made


def test_a_lost_answer_keeps_the_record_and_the_retry_gets_the_same_session(
    db: Database, admin: Actor, shop: Shop, stripe_server: StripeStandIn
) -> None:
    (uid,) = new_customers(db, admin)
    gateway = LostAnswer("sk_test_standin", stripe_server.url, max_network_retries=0)

    with pytest.raises(PaymentError, match="is kept, unpaid: use Send payment link"):
        _book_by_link(db, admin, shop, uid, gateway)
    pending = _link(db)
    assert pending.status is LinkStatus.PENDING and pending.pending_since is None
    assert _mails(db) == []

    sent = send_link(db, admin, "booking", pending.target_id, gateway=gateway)
    assert sent.new and _link(db).attempt == 1
    # The idempotency key named the same record and attempt: Stripe made one session only.
    assert stripe_server.checkout(sent.session_id)["status"] == "open"
    assert len(_mails(db)) == 1


def test_a_retried_click_while_the_first_is_being_made_is_refused(
    db: Database, admin: Actor, shop: Shop, stripe_server: StripeStandIn
) -> None:
    (uid,) = new_customers(db, admin)
    with db.unit_of_work() as uow:
        booking = book_event(
            uow, admin, uid, shop.session("yoga", "2026-03-16 07:00"), LinkPayment()
        )
    gateway = stripe_server.gateway()

    class Overlapping(StripeGateway):
        def create_checkout_session(
            self, request: CheckoutRequest, *, idempotency_key: str
        ) -> CheckoutSessionInfo:
            with pytest.raises(Conflict, match="is being made right now"):
                send_link(db, admin, "booking", booking.id, gateway=gateway)
            return super().create_checkout_session(request, idempotency_key=idempotency_key)

    slow = Overlapping("sk_test_standin", stripe_server.url, max_network_retries=0)
    assert send_link(db, admin, "booking", booking.id, gateway=slow).new
    assert _count(db, PaymentLink) == 1 and len(_mails(db)) == 1


def test_no_email_no_stripe_nothing_to_pay_and_paid_records_are_refused(
    db: Database, admin: Actor, shop: Shop, stripe_server: StripeStandIn
) -> None:
    (uid,) = new_customers(db, admin)
    with db.unit_of_work() as uow:
        customer = uow.session.scalars(select(Customer).where(Customer.uid == uid)).one()
        customer.email = ""
    with pytest.raises(DomainError, match="has no email address"):
        _book_by_link(db, admin, shop, uid, stripe_server.gateway())
    assert _count(db, Booking) == 0
    with pytest.raises(PaymentError, match="Stripe is not configured"):
        _book_by_link(db, admin, shop, uid, None)
    with db.unit_of_work() as uow:
        session = uow.session.get_one(EventOccurrence, shop.session("yoga", "2026-03-18 07:00"))
        session.price_minor = 0
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed, match="costs nothing"):
        book_event(uow, admin, uid, session.id, LinkPayment())
    with db.unit_of_work() as uow:
        paid = book_event(uow, admin, uid, session.id, ManualPayment())
    with pytest.raises(DomainError, match="already marked paid"):
        send_link(db, admin, "booking", paid.id, gateway=stripe_server.gateway())


def test_appointments_passes_and_videos_are_paid_by_link_too(
    db: Database, admin: Actor, shop: Shop, stripe_server: StripeStandIn
) -> None:
    (uid,) = new_customers(db, admin)
    gateway = stripe_server.gateway()

    def appointment(uow: UnitOfWork, actor: Actor) -> int:
        starts = london("2026-03-20 10:00").replace(tzinfo=None)
        return book_appointment(
            uow,
            actor,
            uid,
            shop.services["massage"],
            shop.facilitators["tom"],
            starts,
            LinkPayment(),
        ).id

    def pass_(uow: UnitOfWork, actor: Actor) -> int:
        return assign_pass(uow, actor, uid, shop.pass_types["ten"], payment=LinkPayment()).id

    def video(uow: UnitOfWork, actor: Actor) -> int:
        return assign_video(uow, actor, uid, shop.videos["runners"], payment=LinkPayment()).id

    for kind, create, model, price in (
        ("appointment", appointment, Appointment, 5500),
        ("pass", pass_, Pass, 10000),
        ("video", video, VideoPurchase, 800),
    ):
        sent = create_and_send(db, admin, kind, create, gateway=gateway)  # type: ignore[arg-type]
        link = _link(db, kind=kind)
        assert sent.amount_minor == price and _get(db, model, link.target_id).payment_method is (
            PaymentMethod.UNPAID
        )
        if kind == "pass":
            # An unpaid pass's credits can't pay for anything yet.
            with db.unit_of_work(readonly=True) as uow:
                assert usable_passes_on(uow, admin, uid, london("2026-03-16 07:00").date(), 1) == []
        paid = stripe_server.pay_checkout(sent.session_id)
        assert _apply(db, admin.team_id, COMPLETED, paid) == f"paid: {kind} #{link.target_id}"
        row = _get(db, model, link.target_id)
        assert row.payment_method is PaymentMethod.STRIPE
        assert row.stripe_payment_intent_id == paid["payment_intent"]
    assert _get(db, Pass, _link(db, kind="pass").target_id).state is PassState.COMPLETED
    assert len(_mails(db)) == 3


def test_a_record_cancelled_before_it_is_paid_keeps_the_payment_for_a_refund(
    db: Database, admin: Actor, shop: Shop, stripe_server: StripeStandIn
) -> None:
    (uid,) = new_customers(db, admin)
    sent = _book_by_link(db, admin, shop, uid, stripe_server.gateway())
    booking_id = _link(db).target_id
    with db.unit_of_work() as uow:
        cancel_booking(uow, admin, booking_id)
    paid = stripe_server.pay_checkout(sent.session_id)
    _apply(db, admin.team_id, COMPLETED, paid)
    row = _get(db, Booking, booking_id)
    assert (row.state, row.payment_method) == (BookingState.CANCELLED, PaymentMethod.STRIPE)
    with db.unit_of_work(readonly=True) as uow:
        assert "refund it if due" in history_of(uow, uid)[-1].detail


def test_sessions_of_another_workspace_or_not_ours_are_refused_or_ignored(
    db: Database, admin: Actor, other_tenant: Actor, shop: Shop, stripe_server: StripeStandIn
) -> None:
    (uid,) = new_customers(db, admin)
    sent = _book_by_link(db, admin, shop, uid, stripe_server.gateway())
    paid = stripe_server.pay_checkout(sent.session_id)

    with pytest.raises(Forbidden, match="another workspace"):
        _apply(db, other_tenant.team_id, COMPLETED, paid)
    forged = {**paid, "metadata": {**paid["metadata"], "team_id": other_tenant.team_id}}
    with pytest.raises(Forbidden):
        _apply(db, admin.team_id, COMPLETED, forged)
    elsewhere = {**paid, "id": "cs_test_someoneelses", "metadata": {}}
    assert _apply(db, admin.team_id, COMPLETED, elsewhere).startswith("ignored: not a payment link")
    swapped = {**paid, "id": "cs_test_notthisone"}
    assert _apply(db, admin.team_id, COMPLETED, swapped).startswith("ignored: no payment link")
    assert _apply(db, admin.team_id, "checkout.session.async_payment_failed", paid).startswith(
        "ignored"
    )
    assert _get(db, Booking, _link(db).target_id).state is BookingState.UNPAID
    assert _apply(db, admin.team_id, COMPLETED, {**paid, "payment_status": "unpaid"}).startswith(
        "not paid yet"
    )


def _plan(db: Database, actor: Actor, price_id: str | None, name: str = "Unlimited") -> int:
    with db.unit_of_work() as uow:
        plan = SubscriptionPlan(
            team_id=actor.team_id,
            key=name.lower(),
            name=name,
            price_minor=6000,
            interval="month",
            stripe_price_id=price_id,
        )
        uow.session.add(plan)
        uow.session.flush()
        return plan.id


def test_a_subscription_starts_when_its_checkout_is_paid_once(
    db: Database, admin: Actor, shop: Shop, stripe_server: StripeStandIn
) -> None:
    (uid,) = new_customers(db, admin)
    gateway = stripe_server.gateway()
    plan_id = _plan(db, admin, stripe_server.price(6000))
    sent = start_subscription(db, admin, uid, plan_id, gateway=gateway)
    assert sent.subscription and sent.new and sent.title == "the Unlimited (£60.00 per month) plan"
    session = stripe_server.checkout(sent.session_id)
    assert session["mode"] == "subscription" and session["amount_total"] == 6000
    assert "start your subscription to Unlimited" in _mails(db)[0].body
    assert start_subscription(db, admin, uid, plan_id, gateway=gateway).new is False

    stripe_server.pay_checkout(sent.session_id)
    paid = stripe_server.checkout(sent.session_id, expand=True)
    outcome = _apply(db, admin.team_id, COMPLETED, paid)
    assert outcome.startswith("subscribed: subscription #")
    with db.unit_of_work(readonly=True) as uow:
        row = uow.session.scalars(select(Subscription)).one()
        assert (row.state, row.price_minor, row.plan_id) == (
            SubscriptionState.ACTIVE,
            6000,
            plan_id,
        )
        assert row.stripe_subscription_id == paid["subscription"]["id"]
        assert row.next_payment_at is not None
        assert int(row.next_payment_at.timestamp()) == paid["subscription"]["current_period_end"]
    assert _apply(db, admin.team_id, COMPLETED, paid).startswith("already recorded")
    unexpanded = {**paid, "subscription": paid["subscription"]["id"]}
    assert _apply(db, admin.team_id, COMPLETED, unexpanded).startswith("already recorded")
    assert _count(db, Subscription) == 1
    assert _actions(db, uid)[-1] == ("Stripe", "subscription started")
    with pytest.raises(ValidationFailed, match="already has Unlimited"):
        start_subscription(db, admin, uid, plan_id, gateway=gateway)


def test_only_plans_with_a_stripe_price_can_be_started(
    db: Database, admin: Actor, stripe_server: StripeStandIn
) -> None:
    (uid,) = new_customers(db, admin)
    plan_id = _plan(db, admin, None, "Drop-in")
    with db.unit_of_work(readonly=True) as uow:
        (option,) = payment_links.plan_options(uow, admin)
    assert option.name == "Drop-in" and "no Stripe price id" in option.why_not
    with pytest.raises(ValidationFailed, match="has no Stripe price id"):
        start_subscription(db, admin, uid, plan_id, gateway=stripe_server.gateway())
    assert _count(db, PaymentLink) == 0


def test_a_subscription_event_without_the_expanded_subscription_still_has_a_next_payment(
    db: Database, admin: Actor, stripe_server: StripeStandIn
) -> None:
    (uid,) = new_customers(db, admin)
    plan_id = _plan(db, admin, stripe_server.price(6000))
    sent = start_subscription(db, admin, uid, plan_id, gateway=stripe_server.gateway())
    paid = stripe_server.pay_checkout(sent.session_id)
    _apply(db, admin.team_id, COMPLETED, paid)
    with db.unit_of_work(readonly=True) as uow:
        row = uow.session.scalars(select(Subscription)).one()
        uow.session.expunge(row)
    assert row.next_payment_at == london("2026-04-14 10:30")
    assert MailStatus.PENDING in {m.status for m in _mails(db)}
