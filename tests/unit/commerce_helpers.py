"""Shared set-up for the commerce action tests: a small catalog file, customers, a fake gateway."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, or_, select

from core.actor import Actor
from core.adapters.payments import PaymentError, PaymentIntentInfo, RefundInfo
from core.db import Database, UnitOfWork
from core.models import (
    Appointment,
    AppointmentService,
    AppointmentState,
    Attendance,
    Booking,
    BookingState,
    Customer,
    Event,
    EventOccurrence,
    Facilitator,
    HistoryEntry,
    Pass,
    PassType,
    PaymentMethod,
    Video,
    VideoPurchase,
)
from core.services.catalog import local_to_utc
from core.services.catalog_import import import_catalog
from core.services.checkout import ManualPayment
from core.services.customers import find_customer
from core.services.passes import assign_pass
from tests.unit.history_rows import customer

# The test clock stands at Saturday 14 Mar 2026, 09:30 UTC (GMT in London).
CATALOG_YAML = """\
currency: GBP
events:
  - key: yoga
    name: Morning Yoga
    timezone: Europe/London
    duration_minutes: 60
    capacity: 3
    price: "12.00"
    occurrences:
      - "2026-03-13 07:00"
      - "2026-03-16 07:00"
      - "2026-03-18 07:00"
      - "2026-06-15 07:00"
  - key: barre
    name: Café Barre
    timezone: Europe/Paris
    duration_minutes: 55
    capacity: 12
    price: "13.00"
    credit_price: 2
    occurrences:
      - "2026-03-21 10:00"
appointment_services:
  - key: massage
    name: Sports Massage
    duration_minutes: 60
    price: "55.00"
    credit_price: 3
  - key: physio
    name: Physiotherapy Assessment
    duration_minutes: 30
    price: "35.00"
    credit_price: 2
facilitators:
  - key: tom
    name: Tom Baker
    services: [massage, physio]
  - key: priya
    name: Priya Nair
    services: [massage]
pass_types:
  - key: ten
    name: 10-class pass
    credits: 10
    validity_days: 90
    price: "100.00"
  - key: intro
    name: Intro pass
    credits: 3
    validity_days: 14
    price: "25.00"
videos:
  - key: runners
    title: Yoga for Runners
    price: "8.00"
    credit_price: 1
    access_days: 30
  - key: pilates
    title: Pilates Fundamentals
    price: "15.00"
"""


@dataclass(frozen=True)
class Shop:
    """Ids of the test catalog's rows by key; sessions by (event key, local start text)."""

    events: dict[str, int]
    services: dict[str, int]
    facilitators: dict[str, int]
    pass_types: dict[str, int]
    videos: dict[str, int]
    sessions: dict[tuple[str, str], int] = field(default_factory=dict)

    def session(self, event: str, local_start: str) -> int:
        """The id of `event`'s session starting at `local_start` ('2026-03-16 07:00')."""
        return self.sessions[(event, local_start)]


def open_shop(db: Database, actor: Actor) -> Shop:
    """The test catalog imported into the actor's workspace."""
    with db.unit_of_work() as uow:
        import_catalog(uow, actor.team_id, CATALOG_YAML, source="test.yaml")
        ids = {
            model.__tablename__: dict(
                uow.session.execute(
                    select(model.key, model.id).where(model.team_id == actor.team_id)
                ).all()
            )
            for model in (Event, AppointmentService, Facilitator, PassType, Video)
        }
        sessions: dict[tuple[str, str], int] = {}
        for event_key, zone, starts_at, occurrence_id in uow.session.execute(
            select(Event.key, Event.timezone, EventOccurrence.starts_at, EventOccurrence.id)
            .join(Event, Event.id == EventOccurrence.event_id)
            .where(Event.team_id == actor.team_id)
        ):
            local = starts_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
            sessions[(event_key, local)] = occurrence_id
    return Shop(
        ids["events"],
        ids["appointment_services"],
        ids["facilitators"],
        ids["pass_types"],
        ids["videos"],
        sessions,
    )


def new_customers(db: Database, actor: Actor, count: int = 1) -> list[str]:
    """UIDs of `count` new active customers."""
    with db.unit_of_work() as uow:
        return [customer(uow, actor, f"Person{n}", "Test").uid for n in range(count)]


def manual_pass(
    db: Database,
    actor: Actor,
    shop: Shop,
    uid: str,
    kind: str = "ten",
    *,
    valid_from: date | None = None,
) -> int:
    """The id of a new pass of `kind` for customer `uid`, paid manually."""
    with db.unit_of_work() as uow:
        pass_type = shop.pass_types[kind]
        return assign_pass(
            uow, actor, uid, pass_type, valid_from=valid_from, payment=ManualPayment()
        ).id


def visit(
    db: Database,
    actor: Actor,
    shop: Shop,
    uid: str,
    at: datetime,
    *,
    price: int = 1200,
    state: BookingState = BookingState.MANUAL,
    attendance: Attendance | None = None,
) -> None:
    """A booking on a session of its own starting at `at`, as an import would bring it."""
    with db.unit_of_work() as uow:
        found = find_customer(uow, actor, uid)
        occurrence = EventOccurrence(
            team_id=actor.team_id,
            event_id=shop.events["yoga"],
            starts_at=at,
            duration_minutes=60,
            timezone="Europe/London",
            capacity=10,
            price_minor=price,
        )
        uow.session.add(occurrence)
        uow.session.flush()
        uow.session.add(
            Booking(
                team_id=actor.team_id,
                customer_id=found.id,
                occurrence_id=occurrence.id,
                booked_at=at - timedelta(days=1),
                price_minor=price,
                currency="GBP",
                state=state,
                payment_method=PaymentMethod.MANUAL,
                attendance=attendance,
            )
        )


def london(text: str) -> datetime:
    """The UTC instant of London wall-clock `text` ('2026-03-16 07:00')."""
    return local_to_utc(datetime.fromisoformat(text), "Europe/London")


def history_of(uow: UnitOfWork, uid: str) -> list[HistoryEntry]:
    """The customer's account history, oldest first."""
    return list(
        uow.session.scalars(
            select(HistoryEntry)
            .join(Customer, Customer.id == HistoryEntry.customer_id)
            .where(Customer.uid == uid)
            .order_by(HistoryEntry.id)
        )
    )


def _taken(model: type[Booking] | type[Appointment]) -> ColumnElement[bool]:
    """Its credits came off the pass: at booking, or under the check-in rule when attended."""
    return or_(model.credits_at_check_in.is_(False), model.attendance == Attendance.ATTENDED)


def credits_used(uow: UnitOfWork, pass_id: int) -> int:
    """Credits of the pass spent on bookings, appointments and videos that stand."""
    spent = 0
    for query in (
        select(func.coalesce(func.sum(Booking.credits), 0)).where(
            Booking.pass_id == pass_id,
            Booking.payment_method == PaymentMethod.PACKAGE,
            Booking.state != BookingState.CANCELLED,
            _taken(Booking),
        ),
        select(func.coalesce(func.sum(Appointment.credits), 0)).where(
            Appointment.pass_id == pass_id,
            Appointment.payment_method == PaymentMethod.PACKAGE,
            Appointment.state != AppointmentState.CANCELLED,
            _taken(Appointment),
        ),
        select(func.coalesce(func.sum(VideoPurchase.credits), 0)).where(
            VideoPurchase.pass_id == pass_id,
            VideoPurchase.payment_method == PaymentMethod.PACKAGE,
            VideoPurchase.cancelled_at.is_(None),
        ),
    ):
        spent += uow.session.scalar(query) or 0
    return spent


def assert_credits_conserved(db: Database, pass_id: int) -> Pass:
    """Used + left = granted for the pass; the pass as it now is."""
    with db.unit_of_work(readonly=True) as uow:
        held = uow.session.get(Pass, pass_id)
        assert held is not None
        assert credits_used(uow, pass_id) + held.credits_remaining == held.credits_total
        # Detached with its values loaded: the read-only unit of work ends in a rollback.
        uow.session.expunge(held)
        return held


class FakeStripeGateway:
    """A test double of `PaymentGateway`: payment intents in a dict; nothing leaves the process."""

    def __init__(self) -> None:
        self.intents: dict[str, PaymentIntentInfo] = {}
        self.lookups = 0

    def add(
        self, intent_id: str, amount_minor: int, *, status: str = "succeeded", currency: str = "gbp"
    ) -> str:
        """Make payment intent `intent_id` known; returns its id."""
        self.intents[intent_id] = PaymentIntentInfo(intent_id, status, amount_minor, currency)
        return intent_id

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentInfo:
        self.lookups += 1
        try:
            return self.intents[payment_intent_id]
        except KeyError:
            raise PaymentError(f"Stripe has no payment {payment_intent_id}.") from None

    def refund(
        self, payment_intent_id: str, amount_minor: int, *, idempotency_key: str
    ) -> RefundInfo:
        raise AssertionError("refunds are not part of these tests")

    def pause_subscription(self, subscription_id: str) -> None:
        raise AssertionError("subscriptions are not part of these tests")

    def resume_subscription(self, subscription_id: str) -> None:
        raise AssertionError("subscriptions are not part of these tests")

    def cancel_subscription(self, subscription_id: str) -> None:
        raise AssertionError("subscriptions are not part of these tests")
