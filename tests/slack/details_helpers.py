"""Seeding a customer's history and driving the details view, for the end-to-end details tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.local import AppResponse, SlackDriver
from core.db import Database, UnitOfWork
from core.models import (
    Appointment,
    AppointmentService,
    AppointmentState,
    Booking,
    BookingState,
    Customer,
    Event,
    EventOccurrence,
    Facilitator,
    Pass,
    PassState,
    PassType,
    PaymentMethod,
    QuestionnaireTemplate,
    RefundState,
    Subscription,
    SubscriptionPlan,
    SubscriptionState,
    Video,
    VideoPurchase,
)
from tests.slack.conftest import TEAM
from tests.slack.helpers import DETAILS, JSON, after, is_view, open_hub, text_of

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


@dataclass
class History:
    """Ids of what was seeded for one customer."""

    bookings: list[int] = field(default_factory=list)
    stripe_booking: int = 0
    manual_booking: int = 0
    templates: dict[str, int] = field(default_factory=dict)


def customer_id(uow: UnitOfWork, uid: str) -> int:
    """The internal id behind a UID."""
    return int(uow.session.scalars(select(Customer.id).where(Customer.uid == uid)).one())


def seed_history(
    db: Database, uid: str, *, bookings: int = 25, team_id: str = TEAM, key: str = "t"
) -> History:
    """A catalog and a year of history: bookings of two events, and one of everything else.

    Every third booking is of 'Pilates Core', the rest of 'Vinyasa Flow'; booking 0 is paid
    through Stripe, booking 1 manually, booking 2 with a pass credit.
    """
    seeded = History()
    with db.unit_of_work() as uow:
        owner = customer_id(uow, uid)
        events = [
            Event(
                team_id=team_id,
                key=f"{key}-{name}",
                name=name,
                timezone=zone,
                price_minor=1000,
                credit_price=1,
                capacity=20,
            )
            for name, zone in (
                ("Vinyasa Flow", "Europe/London"),
                ("Pilates Core", "America/New_York"),
            )
        ]
        uow.session.add_all(events)
        uow.session.flush()
        pass_type = PassType(
            team_id=team_id,
            key=f"{key}-ten",
            name="10-class pass",
            credits=10,
            validity_days=90,
            price_minor=9000,
        )
        uow.session.add(pass_type)
        uow.session.flush()
        a_pass = Pass(
            team_id=team_id,
            customer_id=owner,
            pass_type_id=pass_type.id,
            purchased_at=NOW - timedelta(days=40),
            valid_from=date(2026, 2, 2),
            valid_to=date(2026, 5, 3),
            credits_total=10,
            credits_remaining=9,
            price_minor=9000,
            currency="GBP",
            payment_method=PaymentMethod.STRIPE,
            stripe_payment_intent_id=f"pi_{key}_pass",
            state=PassState.COMPLETED,
        )
        uow.session.add(a_pass)
        uow.session.flush()
        for i in range(bookings):
            event = events[1] if i % 3 == 0 and i else events[0]
            occurrence = EventOccurrence(
                team_id=team_id,
                event_id=event.id,
                starts_at=NOW + timedelta(days=i, hours=1),
                duration_minutes=60,
                timezone=event.timezone,
                capacity=20,
                price_minor=1000,
            )
            uow.session.add(occurrence)
            uow.session.flush()
            stripe, credit = i == 0, i == 2
            booking = Booking(
                team_id=team_id,
                customer_id=owner,
                occurrence_id=occurrence.id,
                booked_at=NOW - timedelta(days=i * 10 + 1),
                price_minor=None if credit else 1000,
                credits=1 if credit else None,
                currency="GBP",
                state=BookingState.COMPLETED
                if stripe
                else BookingState.PACKAGE
                if credit
                else BookingState.MANUAL,
                payment_method=PaymentMethod.STRIPE
                if stripe
                else PaymentMethod.PACKAGE
                if credit
                else PaymentMethod.MANUAL,
                stripe_payment_intent_id=f"pi_{key}_{i}" if stripe else None,
                pass_id=a_pass.id if credit else None,
                refunded_minor=0,
                refund_state=RefundState.NONE,
            )
            uow.session.add(booking)
            uow.session.flush()
            seeded.bookings.append(booking.id)
        if bookings:
            seeded.stripe_booking = seeded.bookings[0]
        if bookings > 1:
            seeded.manual_booking = seeded.bookings[1]
        service = AppointmentService(
            team_id=team_id,
            key=f"{key}-massage",
            name="Sports massage",
            duration_minutes=45,
            price_minor=4000,
        )
        facilitator = Facilitator(team_id=team_id, key=f"{key}-alex", name="Alex Kim")
        video = Video(
            team_id=team_id,
            key=f"{key}-yin",
            title="Yin basics",
            price_minor=500,
            credit_price=1,
            access_days=None,
        )
        plan = SubscriptionPlan(
            team_id=team_id,
            key=f"{key}-monthly",
            name="Unlimited monthly",
            price_minor=6000,
            interval="month",
            stripe_price_id=f"price_{key}monthly",
        )
        templates = [
            QuestionnaireTemplate(
                team_id=team_id,
                key=f"{key}-health",
                name="Health check",
                questions=["Any injuries?", "Are you pregnant?"],
            ),
            QuestionnaireTemplate(
                team_id=team_id, key=f"{key}-empty", name="Blank form", questions=[]
            ),
        ]
        uow.session.add_all([service, facilitator, video, plan, *templates])
        uow.session.flush()
        uow.session.add_all(
            [
                Appointment(
                    team_id=team_id,
                    customer_id=owner,
                    service_id=service.id,
                    facilitator_id=facilitator.id,
                    booked_at=NOW - timedelta(days=3),
                    starts_at=NOW + timedelta(days=2),
                    duration_minutes=45,
                    price_minor=4000,
                    credits=None,
                    currency="GBP",
                    payment_method=PaymentMethod.MANUAL,
                    state=AppointmentState.SCHEDULED,
                ),
                VideoPurchase(
                    team_id=team_id,
                    customer_id=owner,
                    video_id=video.id,
                    purchased_at=NOW - timedelta(days=5),
                    expires_at=None,
                    price_minor=None,
                    credits=1,
                    currency="GBP",
                    payment_method=PaymentMethod.PACKAGE,
                ),
                Subscription(
                    team_id=team_id,
                    customer_id=owner,
                    plan_id=plan.id,
                    created_at=NOW - timedelta(days=60),
                    next_payment_at=NOW + timedelta(days=5),
                    price_minor=6000,
                    currency="GBP",
                    state=SubscriptionState.PAUSED,
                ),
            ]
        )
        seeded.templates = {t.name: t.id for t in templates}
    return seeded


def open_details(driver: SlackDriver, name: str, *, text: str = "") -> JSON:
    """`/customers [text]`, then the customer's name button: their details, pushed on the hub."""
    open_hub(driver, text)
    after(driver, driver.click(name), "views.push")
    return driver.wait_for_view(is_view(DETAILS, name))


def details_after(driver: SlackDriver, response: AppResponse | None, *needles: str) -> JSON:
    """The details as updated after an action (views.update), showing every needle."""
    after(driver, response, "views.update")
    return driver.wait_for_view(is_view(DETAILS, *needles))


def go_to_tab(driver: SlackDriver, label: str, *needles: str) -> JSON:
    """Click one of the eight tab buttons and wait for it to show."""
    view = details_after(driver, driver.click(label, in_block="details_tabs"), *needles)
    tabs = next(b for b in view["blocks"] if b.get("block_id") == "details_tabs")
    current = [e["text"]["text"] for e in tabs["elements"] if e.get("style") == "primary"]
    assert current == [label]
    return view


def state_of(view: JSON) -> Any:
    """The details state (tab, q, page) kept in private_metadata."""
    return json.loads(view["private_metadata"])["state"]


def notice_of(view: JSON) -> str:
    """The notice line at the top of the tab ('' when none)."""
    for block in view["blocks"]:
        if block.get("block_id") == "notice":
            return text_of({"blocks": [block]})
    return ""


def row_texts(view: JSON, prefix: str) -> list[str]:
    """The text of every row whose block_id starts with `prefix` ('booking_', 'note_' …)."""
    return [
        block["text"]["text"]
        for block in view["blocks"]
        if str(block.get("block_id", "")).startswith(prefix) and block.get("type") == "section"
    ]
