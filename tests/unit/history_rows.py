"""Explicit history rows for tests: a tiny catalog and one-line builders for each history table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from core.actor import Actor
from core.db import UnitOfWork
from core.models import (
    Appointment,
    AppointmentState,
    Booking,
    BookingState,
    Customer,
    EventOccurrence,
    Pass,
    PassState,
    PaymentMethod,
    Subscription,
    SubscriptionState,
    VideoPurchase,
)
from core.services.catalog import (
    CatalogIds,
    CatalogSpec,
    EventSpec,
    FacilitatorSpec,
    PassTypeSpec,
    PlanSpec,
    ServiceSpec,
    VideoSpec,
    sync_catalog,
)
from core.services.customers import name_key, new_uid
from core.services.workspaces import ensure_workspace

CATALOG = CatalogSpec(
    events=(
        EventSpec("yoga", "Morning Yoga", "Europe/London", 1200, 20, 60, ()),
        EventSpec("barre", "Café Barre", "Europe/Paris", 1300, 12, 55, ()),
    ),
    services=(
        ServiceSpec("massage", "Sports Massage", 60, 5500),
        ServiceSpec("nutrition", "Nutrition Consultation", 90, 7000),
    ),
    facilitators=(
        FacilitatorSpec("tom", "Tom Baker", ("massage",)),
        FacilitatorSpec("jorg", "Jörg Weiß", ("massage", "nutrition")),
    ),
    pass_types=(
        PassTypeSpec("ten", "10-class pass", 10, 90, 10000),
        PassTypeSpec("intro", "Intro pass", 3, 14, 2500),
    ),
    videos=(
        VideoSpec("runners", "Yoga for Runners", 800, 1, 30),
        VideoSpec("etirements", "Étirements du soir", 600, None, None),
    ),
    plans=(
        PlanSpec("monthly", "Unlimited Monthly", 8900, "month"),
        PlanSpec("weekly", "Online Weekly", 900, "week"),
    ),
)


@dataclass(frozen=True)
class Shop:
    """A workspace's test catalog, and one occurrence of each event."""

    team_id: str
    ids: CatalogIds
    occurrences: dict[str, int]


def shop(uow: UnitOfWork, team_id: str, starts_at: datetime) -> Shop:
    """The test catalog in `team_id`, each event with one occurrence at `starts_at`."""
    ensure_workspace(uow, team_id)
    ids = sync_catalog(uow, team_id, CATALOG)
    occurrences = {}
    for spec in CATALOG.events:
        occurrence = EventOccurrence(
            team_id=team_id,
            event_id=ids.events[spec.key],
            starts_at=starts_at,
            duration_minutes=spec.duration_minutes,
            timezone=spec.timezone,
            capacity=spec.capacity,
            price_minor=spec.price_minor,
        )
        uow.session.add(occurrence)
        uow.session.flush()
        occurrences[spec.key] = occurrence.id
    return Shop(team_id, ids, occurrences)


def customer(uow: UnitOfWork, actor: Actor, first: str = "Ada", last: str = "Lovelace") -> Customer:
    """A bare active customer in the actor's workspace."""
    ensure_workspace(uow, actor.team_id)
    now = uow.now()
    row = Customer(
        team_id=actor.team_id,
        uid=new_uid(),
        first_name=first,
        last_name=last,
        name_key=name_key(first, last),
        email=f"{new_uid().lower()}@example.com",
        mobile="+447700900123",
        created_at=now,
        updated_at=now,
        updated_by=actor.user_id,
    )
    uow.session.add(row)
    uow.session.flush()
    return row


Row = TypeVar("Row")


def _add(uow: UnitOfWork, row: Row) -> Row:
    uow.session.add(row)
    uow.session.flush()
    return row


def booking(
    uow: UnitOfWork, shop: Shop, owner: Customer, at: datetime, event: str = "yoga", **values: Any
) -> Booking:
    """A Stripe-paid booking of `event`'s occurrence made at `at`."""
    fields: dict[str, Any] = {
        "price_minor": 1200,
        "credits": None,
        "currency": "GBP",
        "state": BookingState.COMPLETED,
        "payment_method": PaymentMethod.STRIPE,
        "stripe_payment_intent_id": f"pi_{new_uid()}",
    }
    fields.update(values)
    return _add(
        uow,
        Booking(
            team_id=shop.team_id,
            customer_id=owner.id,
            occurrence_id=shop.occurrences[event],
            booked_at=at,
            **fields,
        ),
    )


def appointment(
    uow: UnitOfWork,
    shop: Shop,
    owner: Customer,
    at: datetime,
    service: str = "massage",
    facilitator: str = "tom",
    **values: Any,
) -> Appointment:
    """A scheduled, manually paid appointment booked at `at` for a week later."""
    fields: dict[str, Any] = {
        "starts_at": at + timedelta(days=7),
        "duration_minutes": 60,
        "price_minor": 5500,
        "credits": None,
        "currency": "GBP",
        "payment_method": PaymentMethod.MANUAL,
        "state": AppointmentState.SCHEDULED,
    }
    fields.update(values)
    return _add(
        uow,
        Appointment(
            team_id=shop.team_id,
            customer_id=owner.id,
            service_id=shop.ids.services[service],
            facilitator_id=shop.ids.facilitators[facilitator],
            booked_at=at,
            **fields,
        ),
    )


def pass_(
    uow: UnitOfWork, shop: Shop, owner: Customer, at: datetime, kind: str = "ten", **values: Any
) -> Pass:
    """A Stripe-paid pass bought at `at`, valid 90 days."""
    fields: dict[str, Any] = {
        "valid_from": at.date(),
        "valid_to": at.date() + timedelta(days=89),
        "credits_total": 10,
        "credits_remaining": 10,
        "price_minor": 10000,
        "currency": "GBP",
        "payment_method": PaymentMethod.STRIPE,
        "stripe_payment_intent_id": f"pi_{new_uid()}",
        "state": PassState.COMPLETED,
    }
    fields.update(values)
    return _add(
        uow,
        Pass(
            team_id=shop.team_id,
            customer_id=owner.id,
            pass_type_id=shop.ids.pass_types[kind],
            purchased_at=at,
            **fields,
        ),
    )


def video(
    uow: UnitOfWork,
    shop: Shop,
    owner: Customer,
    at: datetime,
    title: str = "runners",
    **values: Any,
) -> VideoPurchase:
    """A video bought at `at` for £8.00, with no expiry unless given."""
    fields: dict[str, Any] = {
        "expires_at": None,
        "price_minor": 800,
        "credits": None,
        "currency": "GBP",
        "payment_method": PaymentMethod.STRIPE,
    }
    fields.update(values)
    return _add(
        uow,
        VideoPurchase(
            team_id=shop.team_id,
            customer_id=owner.id,
            video_id=shop.ids.videos[title],
            purchased_at=at,
            **fields,
        ),
    )


def subscription(
    uow: UnitOfWork, shop: Shop, owner: Customer, at: datetime, plan: str = "monthly", **values: Any
) -> Subscription:
    """An active subscription created at `at`, next paid a month later."""
    fields: dict[str, Any] = {
        "next_payment_at": at + timedelta(days=30),
        "price_minor": 8900,
        "currency": "GBP",
        "state": SubscriptionState.ACTIVE,
        "stripe_subscription_id": f"sub_{new_uid()}",
    }
    fields.update(values)
    return _add(
        uow,
        Subscription(
            team_id=shop.team_id,
            customer_id=owner.id,
            plan_id=shop.ids.plans[plan],
            created_at=at,
            **fields,
        ),
    )
