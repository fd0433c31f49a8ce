"""The commerce end-to-end tests' world: the app with Stripe (the local stand-in), a shop, a customer.

Import `shop` with the Stripe fixtures (`stripe_process`, `stripe_server`) into the test module."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from bot.local import AppResponse, SlackDriver
from bot.views.commerce.modals import RESULT_CALLBACK, WORKING_CALLBACK
from core.actor import Actor
from core.db import Database
from core.models import (
    Appointment,
    AppointmentService,
    AppointmentState,
    Booking,
    BookingState,
    Event,
    EventOccurrence,
    Facilitator,
    HistoryEntry,
    Pass,
    PassState,
    PassType,
    PaymentMethod,
    RefundState,
    Role,
    Subscription,
    SubscriptionPlan,
    SubscriptionState,
    Video,
    facilitator_services,
)
from core.services.bookings import book_event
from core.services.checkout import LinkPayment, StripePayment
from core.services.payment_links import create_and_send
from tests.conftest import MutableClock
from tests.slack.conftest import ADMIN, TEAM, World, running_world
from tests.slack.details_helpers import customer_id
from tests.slack.helpers import DETAILS, JSON, acked, after, is_view, seed, text_of
from tests.stripe_server import API_KEY, StripeStandIn

ZOE = "Zoë Adams"


def utc(text: str) -> datetime:
    """'2026-03-16 07:00' as a UTC instant (London is on GMT until 29 March)."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Shop:
    """The app, the Stripe stand-in, and what was seeded (ids by a short name)."""

    world: World
    stripe: StripeStandIn
    uid: str
    other_uid: str
    sessions: dict[str, int] = field(default_factory=dict)
    pass_id: int = 0
    pass_type_id: int = 0
    service_id: int = 0
    facilitators: dict[str, int] = field(default_factory=dict)
    videos: dict[str, int] = field(default_factory=dict)
    subscriptions: dict[str, int] = field(default_factory=dict)

    @property
    def db(self) -> Database:
        """The app's database."""
        return self.world.db

    def credits_left(self, pass_id: int | None = None) -> int:
        """Credits left on a pass (the seeded one by default)."""
        with self.db.unit_of_work(readonly=True) as uow:
            held = uow.session.get(Pass, pass_id or self.pass_id)
            assert held is not None
            return held.credits_remaining

    def booking(self, booking_id: int) -> Booking:
        """A booking as stored now."""
        with self.db.unit_of_work(readonly=True) as uow:
            row = uow.session.get(Booking, booking_id)
            assert row is not None
            uow.session.expunge(row)
            return row

    def latest(self, model: Any) -> Any:
        """The newest row of `model` (Booking, Appointment, Pass, VideoPurchase)."""
        with self.db.unit_of_work(readonly=True) as uow:
            row = uow.session.scalars(select(model).order_by(model.id.desc()).limit(1)).one()
            uow.session.expunge(row)
            return row

    def count(self, model: Any, **where: Any) -> int:
        """How many rows of `model` match the column values."""
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        with self.db.unit_of_work(readonly=True) as uow:
            return uow.session.scalar(query) or 0

    def history(self) -> list[str]:
        """Zoë's account history actions, oldest first."""
        with self.db.unit_of_work(readonly=True) as uow:
            owner = customer_id(uow, self.uid)
            return list(
                uow.session.scalars(
                    select(HistoryEntry.action)
                    .where(HistoryEntry.customer_id == owner)
                    .order_by(HistoryEntry.id)
                )
            )


def _seed_catalog(shop: Shop) -> None:
    with shop.db.unit_of_work() as uow:
        zoe, other = customer_id(uow, shop.uid), customer_id(uow, shop.other_uid)
        yoga = Event(
            team_id=TEAM,
            key="yoga",
            name="Morning Yoga",
            timezone="Europe/London",
            price_minor=1200,
            credit_price=1,
            capacity=20,
        )
        tiny = Event(
            team_id=TEAM,
            key="tiny",
            name="Tiny Workshop",
            timezone="Europe/London",
            price_minor=3000,
            credit_price=2,
            capacity=1,
        )
        uow.session.add_all([yoga, tiny])
        uow.session.flush()
        for key, event, starts in [
            ("past", yoga, "2026-03-13 07:00"),
            ("16", yoga, "2026-03-16 07:00"),
            ("18", yoga, "2026-03-18 07:00"),
            ("tiny", tiny, "2026-03-17 18:00"),
        ]:
            occurrence = EventOccurrence(
                team_id=TEAM,
                event_id=event.id,
                starts_at=utc(starts),
                duration_minutes=60,
                timezone=event.timezone,
                capacity=event.capacity,
                price_minor=event.price_minor,
            )
            uow.session.add(occurrence)
            uow.session.flush()
            shop.sessions[key] = occurrence.id
        # Someone else holds the workshop's only place.
        uow.session.add(
            Booking(
                team_id=TEAM,
                customer_id=other,
                occurrence_id=shop.sessions["tiny"],
                booked_at=utc("2026-03-10 12:00"),
                price_minor=3000,
                credits=None,
                currency="GBP",
                state=BookingState.MANUAL,
                payment_method=PaymentMethod.MANUAL,
                refunded_minor=0,
                refund_state=RefundState.NONE,
            )
        )
        kind = PassType(
            team_id=TEAM,
            key="ten",
            name="10-class pass",
            credits=10,
            validity_days=90,
            price_minor=9000,
        )
        service = AppointmentService(
            team_id=TEAM,
            key="massage",
            name="Sports massage",
            duration_minutes=45,
            price_minor=4000,
        )
        alex = Facilitator(team_id=TEAM, key="alex", name="Alex Kim")
        priya = Facilitator(team_id=TEAM, key="priya", name="Priya Nair")
        runners = Video(
            team_id=TEAM,
            key="runners",
            title="Yoga for Runners",
            price_minor=800,
            credit_price=1,
            access_days=30,
        )
        yin = Video(team_id=TEAM, key="yin", title="Yin basics", price_minor=500, credit_price=None)
        plan = SubscriptionPlan(
            team_id=TEAM,
            key="monthly",
            name="Unlimited monthly",
            price_minor=6000,
            interval="month",
        )
        uow.session.add_all([kind, service, alex, priya, runners, yin, plan])
        uow.session.flush()
        uow.session.execute(
            insert(facilitator_services),
            [
                {"facilitator_id": alex.id, "service_id": service.id},
                {"facilitator_id": priya.id, "service_id": service.id},
            ],
        )
        held = Pass(
            team_id=TEAM,
            customer_id=zoe,
            pass_type_id=kind.id,
            purchased_at=utc("2026-03-01 10:00"),
            valid_from=date(2026, 3, 1),
            valid_to=date(2026, 5, 29),
            credits_total=10,
            credits_remaining=10,
            price_minor=9000,
            currency="GBP",
            payment_method=PaymentMethod.MANUAL,
            state=PassState.MANUAL,
        )
        # Alex is busy on Friday 20 March, 10:00–10:45, with someone else.
        busy = Appointment(
            team_id=TEAM,
            customer_id=other,
            service_id=service.id,
            facilitator_id=alex.id,
            booked_at=utc("2026-03-10 12:00"),
            starts_at=utc("2026-03-20 10:00"),
            duration_minutes=45,
            price_minor=4000,
            credits=None,
            currency="GBP",
            payment_method=PaymentMethod.MANUAL,
            state=AppointmentState.SCHEDULED,
        )
        local = Subscription(
            team_id=TEAM,
            customer_id=zoe,
            plan_id=plan.id,
            created_at=utc("2026-01-05 10:00"),
            next_payment_at=utc("2026-04-05 10:00"),
            price_minor=6000,
            currency="GBP",
            state=SubscriptionState.ACTIVE,
        )
        linked = Subscription(
            team_id=TEAM,
            customer_id=zoe,
            plan_id=plan.id,
            created_at=utc("2026-01-04 10:00"),
            next_payment_at=utc("2026-04-04 10:00"),
            price_minor=8900,
            currency="GBP",
            state=SubscriptionState.ACTIVE,
            stripe_subscription_id=shop.stripe.subscription(),
        )
        uow.session.add_all([held, busy, local, linked])
        uow.session.flush()
        shop.pass_id, shop.pass_type_id, shop.service_id = held.id, kind.id, service.id
        shop.facilitators = {"Alex Kim": alex.id, "Priya Nair": priya.id}
        shop.videos = {"runners": runners.id, "yin": yin.id}
        shop.subscriptions = {"local": local.id, "stripe": linked.id}


@contextmanager
def open_shop(
    database_url: str, clock: MutableClock, stripe_server: StripeStandIn, **settings: Any
) -> Iterator[Shop]:
    """The `world` of the Slack tests with Stripe configured (and `settings`), and a seeded
    shop and customer."""
    stripe = {"stripe_api_key": API_KEY, "stripe_api_base": stripe_server.url}
    with running_world(database_url, clock, **stripe, **settings) as world:
        zoe, other = seed(world.db, [("Zoë", "Adams"), ("Sam", "Other")])
        built = Shop(world, stripe_server, zoe.uid, other.uid)
        _seed_catalog(built)
        yield built


@pytest.fixture
def shop(database_url: str, clock: MutableClock, stripe_server: StripeStandIn) -> Iterator[Shop]:
    """The `world` of the Slack tests with Stripe configured, and a seeded shop and customer."""
    with open_shop(database_url, clock, stripe_server) as built:
        yield built


# ----------------------------------------------------------------- driving the forms


def stripe_booking(shop: Shop, amount: int = 1500) -> tuple[int, str]:
    """A booking of Zoë's paid through Stripe (a real payment in the stand-in): id and intent."""
    intent = shop.stripe.payment(amount)
    with shop.db.unit_of_work() as uow:
        # The payment must be the session's price.
        session = uow.session.get_one(EventOccurrence, shop.sessions["16"])
        session.price_minor = amount
        row = book_event(
            uow,
            Actor(TEAM, ADMIN, Role.ADMIN),
            shop.uid,
            shop.sessions["16"],
            StripePayment(intent),
            gateway=shop.stripe.gateway(),
        )
    return row.id, intent


def link_booking(shop: Shop, session: str = "16") -> tuple[int, str]:
    """A booking of Zoë's awaiting payment through a payment link sent by an admin: the
    booking's id and the link's Checkout Session."""
    zoe, occurrence = shop.uid, shop.sessions[session]
    sent = create_and_send(
        shop.db,
        Actor(TEAM, ADMIN, Role.ADMIN),
        "booking",
        lambda uow, who: book_event(uow, who, zoe, occurrence, LinkPayment()).id,
        gateway=shop.stripe.gateway(),
    )
    return shop.latest(Booking).id, sent.session_id


def open_form(driver: SlackDriver, button: str, callback_id: str, *needles: str) -> JSON:
    """Press a Book/Assign button (or anything pushing a form) and wait for the form."""
    after(driver, driver.click(button), "views.push")
    return driver.wait_for_view(is_view(callback_id, *needles))


def row_action(
    driver: SlackDriver, prefix: str, row_id: int, verb: str, callback_id: str, *needles: str
) -> JSON:
    """Choose `verb` in a row's ⋯ menu and wait for the form or confirmation it pushes."""
    response = driver.choose(verb, menu="customer_details.row", in_block=f"{prefix}{row_id}")
    after(driver, response, "views.push")
    return driver.wait_for_view(is_view(callback_id, *needles))


def redrawn(driver: SlackDriver, response: AppResponse | None, *needles: str) -> JSON:
    """The form as redrawn (views.update) after a choice that shapes it."""
    after(driver, response, "views.update")
    view = driver.wait_for_view(lambda v: all(n in text_of(v) for n in needles))
    assert view["callback_id"] != DETAILS
    return view


def submitted(driver: SlackDriver, *needles: str) -> JSON:
    """Submit the top form; it closes and the details show every needle (in the notice)."""
    response = acked(driver.submit())
    if response.text.strip():
        # A change that outlasts the ack's budget under load (bot/surfaces/commerce.py) answers
        # "Working…", then shows its result there over the refreshed details: closed, as a
        # person would.
        assert json.loads(response.text)["view"]["callback_id"] == WORKING_CALLBACK, response.text
        driver.wait_for_view(lambda view: view.get("callback_id") == RESULT_CALLBACK)
        driver.close()
    return driver.wait_for_view(is_view(DETAILS, *needles))


def refused(driver: SlackDriver) -> dict[str, str]:
    """Submit the top form expecting errors under its fields; those errors."""
    response = acked(driver.submit())
    assert response.data.get("response_action") == "errors", response.text
    return driver.errors()
