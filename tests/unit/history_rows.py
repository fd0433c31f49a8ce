"""Explicit history rows for tests: a tiny catalog and one-line builders for each history table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select

from core.actor import Actor
from core.db import Database, UnitOfWork
from core.models import (
    Appointment,
    AppointmentState,
    Booking,
    BookingState,
    ConsentSource,
    ConsentState,
    Customer,
    EventOccurrence,
    LinkStatus,
    Pass,
    PassState,
    PaymentLink,
    PaymentMethod,
    Subscription,
    SubscriptionState,
    VideoPurchase,
)
from core.services.account import merge_customers
from core.services.catalog import (
    CatalogIds,
    CatalogSpec,
    EventSpec,
    FacilitatorSpec,
    PassTypeSpec,
    PlanSpec,
    QuestionnaireSpec,
    ServiceSpec,
    VideoSpec,
    sync_catalog,
)
from core.services.consent import set_consent
from core.services.customers import CustomerInput, create_customer, name_key, new_uid
from core.services.notes import add_note
from core.services.questionnaires import assign_questionnaire, record_answers
from core.services.questions import Question, QuestionKind
from core.services.saved_segments import save_segment
from core.services.segment_digests import claim_due, set_digest
from core.services.segments import SegmentFilters, StatusFilter
from core.services.tags import set_customer_tags
from core.services.workspaces import ensure_workspace
from tests.conftest import MutableClock

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


# A purchase made at no charge, and a plan at none: no payment the accounts must keep.
FREE: dict[str, Any] = {
    "payment_method": PaymentMethod.MANUAL,
    "price_minor": 0,
    "stripe_payment_intent_id": None,
}
FREE_PLAN: dict[str, Any] = {"price_minor": 0, "stripe_subscription_id": None}
PASSWORD = "Export-Me-N0t!"
SHELL_PASSWORD = "Old-Login-99?"


@dataclass(frozen=True)
class Person:
    """A customer with a row in every history table, and a record merged into them."""

    uid: str
    shell_uid: str
    ids: tuple[int, int]
    email: str
    shell_email: str


def create_person(
    db: Database,
    actor: Actor,
    first: str,
    email: str,
    password: str,
    last: str = "Okonkwo",
    mobile: str = "+44 7700 900456",
) -> str:
    with db.unit_of_work() as uow:
        form = CustomerInput(
            first_name=first, last_name=last, email=email, mobile=mobile, password=password
        )
        return create_customer(uow, actor, form).uid


def everything_about_one_person(
    db: Database, admin: Actor, clock: MutableClock, *, paid: bool = True
) -> Person:
    """Everything the app can hold about one person, through the services where they exist:
    a Stripe-paid pass and booking, an unpaid booking with an open payment link, a booking paid
    with credits, an appointment, a video, a subscription, a note, answers, and a record merged
    into them. With `paid=False` every purchase is free and no payment is held.
    """
    uid = create_person(db, admin, "Chiamaka", "chiamaka@example.com", PASSWORD)
    shell_uid = create_person(db, admin, "Chi", "chi.old@example.com", SHELL_PASSWORD)
    at = clock.current
    with db.unit_of_work() as uow:
        catalog = shop(uow, admin.team_id, at + timedelta(days=3))
        asked = (Question("Any injuries?"), Question("Your goals?", QuestionKind.LONG))
        questions = QuestionnaireSpec("intake", "Health intake", asked)
        template = sync_catalog(uow, admin.team_id, CatalogSpec(questionnaires=(questions,)))
        owner = uow.session.scalars(select(Customer).where(Customer.uid == uid)).one()
        free: dict[str, Any] = {} if paid else FREE
        held = pass_(uow, catalog, owner, at, **free)
        unpaid = booking(uow, catalog, owner, at, event="barre", **free)
        booking(
            uow,
            catalog,
            owner,
            at,
            credits=1,
            price_minor=None,
            pass_id=held.id,
            payment_method=PaymentMethod.PACKAGE,
            stripe_payment_intent_id=None,
        )
        appointment(uow, catalog, owner, at, facilitator="jorg", **free)
        video(uow, catalog, owner, at, **free)
        subscription(uow, catalog, owner, at, **({} if paid else FREE_PLAN))
        uow.session.add(
            PaymentLink(
                team_id=admin.team_id,
                customer_id=owner.id,
                kind="booking",
                target_id=unpaid.id,
                attempt=1,
                mode="payment",
                status=LinkStatus.OPEN,
                amount_minor=1300,
                currency="GBP",
                session_id="cs_test_export",
                url="https://checkout.stripe.com/c/pay/cs_test_export",
                expires_at=at + timedelta(hours=23),
                sent_to=owner.email,
                created_by=admin.user_id,
                created_at=at,
            )
        )
        add_note(uow, admin, uid, "Prefers evening classes; knee injury in 2024.")
        set_customer_tags(uow, admin, uid, ["Evening regular"])
        set_consent(uow, admin, uid, ConsentState.GRANTED, ConsentSource.FORM)
        row = assign_questionnaire(uow, admin, uid, template.questionnaires["intake"])
        record_answers(uow, admin, row.id, ["Left knee", "Run 10k"], uid=uid)
        ids = (
            owner.id,
            uow.session.scalars(select(Customer.id).where(Customer.uid == shell_uid)).one(),
        )
    with db.unit_of_work() as uow:
        merge_customers(uow, admin, shell_uid, uid, reason="Same person")
        # A segment's weekly digest remembers whom it named.
        saved = save_segment(uow, admin, "Everyone", SegmentFilters(status=StatusFilter.ANY))
        set_digest(uow, admin, saved.id, "CSTAFF")
    with db.unit_of_work() as uow:
        claim_due(uow)
    return Person(uid, shell_uid, ids, "chiamaka@example.com", "chi.old@example.com")
