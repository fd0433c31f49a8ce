"""Demo history on SQLite and PostgreSQL: consistent, varied, tenant-bound and loadable again."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from core.actor import Actor
from core.db import Database
from core.demo.catalog import DEMO_ANSWERS, DEMO_CATALOG
from core.demo.customers import HISTORY_MODELS, load_demo_customers, load_demo_history
from core.demo.history import DEMO_STAFF, HistorySummary
from core.models import (
    Appointment,
    AppointmentService,
    AppointmentState,
    Booking,
    BookingState,
    Customer,
    CustomerStatus,
    Event,
    EventOccurrence,
    Facilitator,
    Note,
    Pass,
    PassState,
    PassType,
    PaymentMethod,
    QuestionnaireResponse,
    QuestionnaireStatus,
    QuestionnaireTemplate,
    RefundState,
    Role,
    StaffMember,
    Subscription,
    SubscriptionPlan,
    SubscriptionState,
    Video,
    VideoPurchase,
    VideoState,
    Workspace,
    facilitator_services,
)
from core.services.catalog import sync_catalog
from core.services.customers import CustomerInput, create_customer
from core.services.questions import clean_answer
from core.services.sales import monthly_sales
from core.services.workspaces import ensure_workspace
from tests.conftest import MutableClock

CUSTOMERS = 150
CATALOG_MODELS = (
    Event,
    AppointmentService,
    Facilitator,
    PassType,
    Video,
    SubscriptionPlan,
    QuestionnaireTemplate,
)


def _load(db: Database, team_id: str, customers: int = CUSTOMERS, seed: int = 5) -> HistorySummary:
    with db.unit_of_work() as uow:
        load_demo_customers(uow, team_id, customers, seed=seed)
    with db.unit_of_work() as uow:
        return load_demo_history(uow, team_id, customers_limit=customers, seed=seed)


def test_every_tab_gets_rows_in_every_state(
    db: Database, admin: Actor, clock: MutableClock
) -> None:
    calls: list[tuple[int, int]] = []
    with db.unit_of_work() as uow:
        load_demo_customers(uow, admin.team_id, CUSTOMERS, seed=5)
    with db.unit_of_work() as uow:
        summary = load_demo_history(
            uow,
            admin.team_id,
            customers_limit=CUSTOMERS,
            seed=5,
            batch_size=60,
            progress=lambda done, total: calls.append((done, total)),
        )
    assert calls == [(60, CUSTOMERS), (120, CUSTOMERS), (CUSTOMERS, CUSTOMERS)]
    assert summary.customers == CUSTOMERS
    assert (
        min(
            summary.bookings,
            summary.appointments,
            summary.passes,
            summary.videos,
            summary.subscriptions,
            summary.questionnaires,
            summary.notes,
        )
        > 0
    )
    now = clock()
    with db.unit_of_work(readonly=True) as uow:
        session = uow.session
        assert session.scalar(select(func.count()).select_from(Booking)) == summary.bookings
        bookings = session.scalars(select(Booking)).all()
        assert {b.state for b in bookings} == set(BookingState)
        assert {b.refund_state for b in bookings} == set(RefundState)
        appointments = session.scalars(select(Appointment)).all()
        assert {a.state for a in appointments} == set(AppointmentState)
        assert {a.payment_method for a in appointments} == set(PaymentMethod)
        assert {p.state for p in session.scalars(select(Pass))} == set(PassState)
        videos = session.scalars(select(VideoPurchase)).all()
        assert {v.state_at(now) for v in videos} == set(VideoState)
        assert any(v.expires_at is None for v in videos)
        assert {s.state for s in session.scalars(select(Subscription))} == set(SubscriptionState)
        responses = session.scalars(select(QuestionnaireResponse)).all()
        assert {r.status for r in responses} == set(QuestionnaireStatus)
        for r in responses:
            assert len(r.answers) == len(r.questions) in range(3, 7)
            unanswered = sum(a is None for a in r.answers)
            assert (unanswered == 0) == (r.status is QuestionnaireStatus.COMPLETED)
        assert any(0 < sum(a is None for a in r.answers) < len(r.answers) for r in responses)
        authors = Counter(session.scalars(select(Note.author)))
        assert len(authors) >= 3
        events = session.scalars(select(Event)).all()
        assert len({e.timezone for e in events}) >= 4


def test_pass_credits_are_conserved_and_spent_within_validity(db: Database, admin: Actor) -> None:
    _load(db, admin.team_id)
    with db.unit_of_work(readonly=True) as uow:
        session = uow.session
        zone = ZoneInfo(session.get_one(Workspace, admin.team_id).timezone)
        passes = {p.id: p for p in session.scalars(select(Pass))}
        used: Counter[int] = Counter()
        spenders = [
            *(
                (b.pass_id, b.credits, b.booked_at, o.starts_at, b.state is BookingState.CANCELLED)
                for b, o in session.execute(
                    select(Booking, EventOccurrence).join(
                        EventOccurrence, EventOccurrence.id == Booking.occurrence_id
                    )
                )
                if b.payment_method is PaymentMethod.PACKAGE
            ),
            *(
                (
                    a.pass_id,
                    a.credits,
                    a.booked_at,
                    a.starts_at,
                    a.state is AppointmentState.CANCELLED,
                )
                for a in session.scalars(select(Appointment))
                if a.payment_method is PaymentMethod.PACKAGE
            ),
            *(
                (v.pass_id, v.credits, v.purchased_at, v.purchased_at, v.cancelled_at is not None)
                for v in session.scalars(select(VideoPurchase))
                if v.payment_method is PaymentMethod.PACKAGE
            ),
        ]
        assert spenders
        for pass_id, credits, bought_at, used_at, cancelled in spenders:
            assert pass_id is not None and credits is not None and credits > 0
            paid_with = passes[pass_id]
            assert paid_with.state is not PassState.CANCELLED
            assert paid_with.purchased_at <= bought_at
            assert paid_with.valid_from <= bought_at.astimezone(zone).date()
            assert used_at.astimezone(zone).date() <= paid_with.valid_to
            if not cancelled:
                used[pass_id] += credits
        for p in passes.values():
            assert p.credits_total == p.credits_remaining + used[p.id], p.id
            assert 0 <= p.credits_remaining <= p.credits_total
            assert (p.valid_to - p.valid_from).days + 1 == session.get_one(
                PassType, p.pass_type_id
            ).validity_days
        assert any(p.credits_remaining == 0 for p in passes.values())


def test_payments_match_their_state(db: Database, admin: Actor) -> None:
    _load(db, admin.team_id)
    with db.unit_of_work(readonly=True) as uow:
        session = uow.session
        intents: list[str] = []
        for b in session.scalars(select(Booking)):
            if b.payment_method is PaymentMethod.STRIPE:
                assert b.stripe_payment_intent_id is not None
                intents.append(b.stripe_payment_intent_id)
                assert b.state in (BookingState.COMPLETED, BookingState.CANCELLED)
                assert b.price_minor is not None and b.price_minor > 0
            else:
                assert b.stripe_payment_intent_id is None
                assert b.refund_state is RefundState.NONE and b.refunded_minor == 0
            if b.payment_method is PaymentMethod.PACKAGE:
                assert b.price_minor is None and b.credits is not None and b.pass_id is not None
                assert b.state in (BookingState.PACKAGE, BookingState.CANCELLED)
            else:
                assert b.credits is None and b.pass_id is None
            if b.payment_method is PaymentMethod.MANUAL:
                assert b.state in (BookingState.MANUAL, BookingState.CANCELLED)
            assert (b.state is BookingState.CANCELLED) == (b.cancelled_at is not None)
            if b.refund_state is RefundState.FULL:
                assert b.refunded_minor == b.price_minor
            elif b.refund_state is RefundState.PARTIAL:
                assert b.price_minor is not None and 0 < b.refunded_minor < b.price_minor
        intents.extend(
            p.stripe_payment_intent_id
            for p in session.scalars(select(Pass))
            if p.stripe_payment_intent_id is not None
        )
        intents.extend(
            a.stripe_payment_intent_id
            for a in session.scalars(select(Appointment))
            if a.stripe_payment_intent_id is not None
        )
        assert intents and len(set(intents)) == len(intents)
        assert all(i.startswith("pi_") for i in intents)
        for p in session.scalars(select(Pass)):
            assert (p.payment_method is PaymentMethod.STRIPE) == (
                p.stripe_payment_intent_id is not None
            )
            assert (p.state is PassState.MANUAL) == (p.payment_method is PaymentMethod.MANUAL)


def test_history_is_in_the_customers_time_and_the_workspaces_catalog(
    db: Database, admin: Actor, clock: MutableClock
) -> None:
    _load(db, admin.team_id)
    now = clock()
    with db.unit_of_work(readonly=True) as uow:
        session = uow.session
        customers = {c.id: c for c in session.scalars(select(Customer))}
        seats: Counter[int] = Counter()
        for b, o in session.execute(
            select(Booking, EventOccurrence).join(
                EventOccurrence, EventOccurrence.id == Booking.occurrence_id
            )
        ):
            owner = customers[b.customer_id]
            assert b.team_id == o.team_id == owner.team_id == admin.team_id
            assert owner.created_at <= b.booked_at <= now
            assert b.booked_at < o.starts_at
            assert b.booked_at > now - timedelta(days=366)
            if owner.status is CustomerStatus.ARCHIVED:
                assert b.booked_at <= owner.updated_at
            if b.cancelled_at is not None:
                assert b.booked_at <= b.cancelled_at <= min(o.starts_at, now)
            else:
                seats[o.id] += 1
        capacity = dict(session.execute(select(EventOccurrence.id, EventOccurrence.capacity)).all())
        assert all(seats[o] <= capacity[o] for o in seats)
        gives = set(
            session.execute(
                select(facilitator_services.c.facilitator_id, facilitator_services.c.service_id)
            ).all()
        )
        busy: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
        for a in session.scalars(select(Appointment)):
            assert (a.facilitator_id, a.service_id) in gives
            assert customers[a.customer_id].created_at <= a.booked_at < a.starts_at
            assert a.booked_at <= now
            if a.state is AppointmentState.SCHEDULED:
                end = a.starts_at + timedelta(minutes=a.duration_minutes)
                for start, other_end in busy[a.facilitator_id]:
                    assert end <= start or other_end <= a.starts_at
                busy[a.facilitator_id].append((a.starts_at, end))
        for model in (Appointment, Pass, VideoPurchase, Subscription, QuestionnaireResponse, Note):
            teams = set(session.scalars(select(model.team_id)))
            assert teams == {admin.team_id}
        for s in session.scalars(select(Subscription)):
            # Past due: the next date is when Stripe tries the failed payment again.
            if s.state in (SubscriptionState.ACTIVE, SubscriptionState.PAST_DUE):
                assert s.next_payment_at is not None and s.next_payment_at > now
            else:
                assert s.next_payment_at is None


def test_weekly_classes_keep_their_local_time_across_dst(db: Database, admin: Actor) -> None:
    _load(db, admin.team_id, customers=5)
    with db.unit_of_work(readonly=True) as uow:
        for spec in DEMO_CATALOG.events:
            zone = ZoneInfo(spec.timezone)
            starts = uow.session.scalars(
                select(EventOccurrence.starts_at)
                .join(Event, Event.id == EventOccurrence.event_id)
                .where(Event.team_id == admin.team_id, Event.key == spec.key)
                .order_by(EventOccurrence.starts_at)
            ).all()
            slots = {(slot.weekday, slot.start) for slot in spec.weekly}
            assert {
                (s.astimezone(zone).weekday(), s.astimezone(zone).time()) for s in starts
            } == slots
            # From a year back to 61 days ahead is 427 days: 61 of each weekday.
            assert len(starts) == len(slots) * 61
            if spec.timezone in ("Europe/London", "America/New_York"):
                # A year of one local time is two UTC times: summer and winter.
                assert len({s.hour for s in starts}) == 2


def test_loading_again_adds_history_only_to_customers_without_any(
    db: Database, admin: Actor, staff: Actor
) -> None:
    first = _load(db, admin.team_id, customers=40)
    assert first.customers == 40

    def snapshot() -> tuple[dict[str, int], int, list[tuple[int, int]]]:
        with db.unit_of_work(readonly=True) as uow:
            session = uow.session
            catalog = {
                model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in CATALOG_MODELS
            }
            occurrences = session.scalar(select(func.count()).select_from(EventOccurrence)) or 0
            bookings = session.execute(
                select(Booking.customer_id, func.count()).group_by(Booking.customer_id)
            ).all()
            return catalog, occurrences, sorted((c, n) for c, n in bookings)

    before = snapshot()
    assert before[0] == {
        "events": len(DEMO_CATALOG.events),
        "appointment_services": len(DEMO_CATALOG.services),
        "facilitators": len(DEMO_CATALOG.facilitators),
        "pass_types": len(DEMO_CATALOG.pass_types),
        "videos": len(DEMO_CATALOG.videos),
        "subscription_plans": len(DEMO_CATALOG.plans),
        "questionnaire_templates": len(DEMO_CATALOG.questionnaires),
    }
    with db.unit_of_work() as uow:
        real = create_customer(
            uow,
            staff,
            CustomerInput(
                first_name="Real",
                last_name="Person",
                email="real.person@example.com",
                mobile="+447700900999",
            ),
            send_welcome=False,
        )
    with db.unit_of_work() as uow:
        again = load_demo_history(uow, admin.team_id, customers_limit=40, seed=5)
    after = snapshot()
    assert after[0] == before[0] and after[1] == before[1]
    assert again.occurrences == 0
    # Customers who already had history keep exactly what they had.
    had = dict(before[2])
    assert {c: n for c, n in after[2] if c in had} == had
    assert again.customers <= 40 - len(had)
    with db.unit_of_work(readonly=True) as uow:
        real_id = uow.session.scalar(select(Customer.id).where(Customer.uid == real.uid))
        assert uow.session.scalar(select(func.count()).where(Booking.customer_id == real_id)) == 0
        assert sync_catalog(uow, admin.team_id, DEMO_CATALOG).occurrences_added == 0


def test_each_workspace_gets_its_own_catalog_and_history(
    db: Database, admin: Actor, other_tenant: Actor
) -> None:
    _load(db, admin.team_id, customers=30)
    _load(db, other_tenant.team_id, customers=30, seed=5)
    with db.unit_of_work(readonly=True) as uow:
        session = uow.session
        for team in (admin.team_id, other_tenant.team_id):
            assert session.scalar(select(func.count()).where(Event.team_id == team)) == len(
                DEMO_CATALOG.events
            )
        mixed = session.execute(
            select(func.count())
            .select_from(Booking)
            .join(EventOccurrence, EventOccurrence.id == Booking.occurrence_id)
            .join(Customer, Customer.id == Booking.customer_id)
            .where(
                (Booking.team_id != EventOccurrence.team_id) | (Booking.team_id != Customer.team_id)
            )
        ).scalar_one()
        assert mixed == 0


def test_monthly_sales_of_demo_customers_match_their_rows(
    db: Database, admin: Actor, clock: MutableClock
) -> None:
    _load(db, admin.team_id, customers=30)
    with db.unit_of_work(readonly=True) as uow:
        uids = uow.session.execute(
            select(Customer.uid, Customer.id)
            .join(Booking, Booking.customer_id == Customer.id)
            .distinct()
            .limit(5)
        ).all()
        assert uids
        for uid, customer_id in uids:
            series = monthly_sales(uow, admin, uid)
            since = series.months[0]
            kept = [
                b.booked_at
                for b in uow.session.scalars(
                    select(Booking).where(Booking.customer_id == customer_id)
                )
                if b.state is not BookingState.CANCELLED
            ]
            zone = ZoneInfo(series.timezone)
            assert sum(series.bookings) == sum(
                1 for at in kept if at.astimezone(zone).date() >= since
            )


def test_demo_answers_fit_the_demo_questionnaires() -> None:
    for template in DEMO_CATALOG.questionnaires:
        assert 3 <= len(template.questions) <= 6
        options = DEMO_ANSWERS[template.key]
        assert len(options) == len(template.questions)
        assert all(options)
        for question, offered in zip(template.questions, options, strict=True):
            assert [clean_answer(question, answer) for answer in offered] == list(offered)
    keys = [
        spec.key
        for group in (
            DEMO_CATALOG.events,
            DEMO_CATALOG.services,
            DEMO_CATALOG.facilitators,
            DEMO_CATALOG.pass_types,
            DEMO_CATALOG.videos,
            DEMO_CATALOG.plans,
            DEMO_CATALOG.questionnaires,
        )
        for spec in group
    ]
    assert all(len(key) <= 64 for key in keys)
    services = {s.key for s in DEMO_CATALOG.services}
    assert all(set(f.services) <= services for f in DEMO_CATALOG.facilitators)


def test_notes_are_written_by_the_workspaces_staff_first(
    db: Database, admin: Actor, clock: MutableClock
) -> None:
    with db.unit_of_work() as uow:
        ensure_workspace(uow, admin.team_id)
        for user, role in (("USTAFF1", Role.STAFF), ("UADMIN1", Role.ADMIN)):
            uow.session.add(
                StaffMember(
                    team_id=admin.team_id,
                    slack_user_id=user,
                    role=role,
                    added_by="UADMIN",
                    created_at=clock(),
                )
            )
    _load(db, admin.team_id, customers=40)
    with db.unit_of_work(readonly=True) as uow:
        authors = set(uow.session.scalars(select(Note.author)))
        assigners = set(uow.session.scalars(select(QuestionnaireResponse.assigned_by)))
    assert {"USTAFF1", "UADMIN1"} <= authors <= {"USTAFF1", "UADMIN1", DEMO_STAFF[0]}
    assert assigners <= {"USTAFF1", "UADMIN1", DEMO_STAFF[0]}


def _rows_per_customer(db: Database) -> dict[str, Counter[int]]:
    with db.unit_of_work(readonly=True) as uow:
        return {
            model.__tablename__: Counter(
                dict(
                    uow.session.execute(
                        select(model.customer_id, func.count()).group_by(model.customer_id)
                    ).all()
                )
            )
            for model in HISTORY_MODELS
        }


def _demo_load(db: Database, team_id: str, customers: int, seed: int) -> None:
    """What `customer-bot demo-data` does: customers, then their history, in one transaction."""
    with db.unit_of_work() as uow:
        made = load_demo_customers(uow, team_id, customers, seed=seed)
        load_demo_history(uow, team_id, made=made, seed=seed)


def test_loading_demo_data_again_leaves_every_earlier_customer_as_they_were(
    db: Database, admin: Actor
) -> None:
    _demo_load(db, admin.team_id, 500, seed=1)
    with db.unit_of_work(readonly=True) as uow:
        first = set(uow.session.scalars(select(Customer.id)))
    before = _rows_per_customer(db)
    drew_nothing = first - {c for rows in before.values() for c in rows}
    # Some customers' year holds nothing; a later load must not give them one either.
    assert drew_nothing

    _demo_load(db, admin.team_id, 100, seed=2)

    after = _rows_per_customer(db)
    for table, rows in after.items():
        assert {c: n for c, n in rows.items() if c in first} == dict(before[table]), table
    assert any(c not in first for rows in after.values() for c in rows), "the new ones had none"


def test_most_upcoming_demo_sessions_have_places_left_and_a_few_are_full(
    db: Database, admin: Actor
) -> None:
    _demo_load(db, admin.team_id, 1000, seed=1)
    with db.unit_of_work(readonly=True) as uow:
        booked = (
            select(func.count())
            .where(
                Booking.occurrence_id == EventOccurrence.id, Booking.state != BookingState.CANCELLED
            )
            .scalar_subquery()
        )
        upcoming = uow.session.execute(
            select(EventOccurrence.capacity, booked)
            .where(
                EventOccurrence.team_id == admin.team_id,
                EventOccurrence.starts_at > uow.now(),
                EventOccurrence.cancelled.is_(False),
            )
            .order_by(EventOccurrence.starts_at)
            .limit(50)
        ).all()
    full = sum(1 for capacity, taken in upcoming if taken >= capacity)
    assert len(upcoming) == 50
    assert 1 <= full <= 10, f"{full} of the next 50 sessions are full"
