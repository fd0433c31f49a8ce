"""Demo history: a year of bookings, appointments, passes, videos, subscriptions, questionnaires, notes.

The generator works one customer at a time, in time order, so pass credits are spent
as a real customer would spend them; rows are written in bulk per batch of customers.
"""

from __future__ import annotations

import calendar
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from core.db import UnitOfWork
from core.models import (
    Appointment,
    AppointmentState,
    Booking,
    BookingState,
    EventOccurrence,
    Note,
    Pass,
    PassState,
    PaymentMethod,
    QuestionnaireResponse,
    QuestionnaireStatus,
    RefundState,
    Subscription,
    SubscriptionState,
    VideoPurchase,
)
from core.services import customer_facts as facts
from core.services.catalog import CatalogIds, CatalogSpec, PassTypeSpec
from core.services.questions import stored

# Fictional Slack user ids, used as note authors when the workspace has too few real staff.
DEMO_STAFF = ("U0DEMOAMY01", "U0DEMOBEN02", "U0DEMOCLO03")
MIN_AUTHORS = 3
YEAR = timedelta(days=365)
BOOK_AHEAD = timedelta(days=30)
# Sessions still to come keep places free for whoever tries the app, except one in
# FULL_EVERY, which may fill up so the capacity rule can be seen.
UPCOMING_SHARE = 0.6
FULL_EVERY = 8
# Appointments start on the half hour; a facilitator's diary is kept in these slots.
SLOT_MINUTES = 30
SLOT = timedelta(minutes=SLOT_MINUTES)

_NOTES = (
    "Prefers the front row; has a weak left knee, offer modifications in lunges.",
    "Called to move their Saturday booking to next week. Done.",
    "Asked about a refund for a class missed through illness; explained the 12-hour policy.",
    "Pregnant (second trimester): cleared by GP for gentle classes only.",
    "Brought a friend for the intro offer; friend may sign up.",
    "Allergic to lavender: no scented oils in relaxation.",
    "Interested in teacher training next spring. Send details when dates are set.",
    "Pays by bank transfer; mark passes as Manual.",
    "Lost a water bottle in studio 2 (blue, steel). In lost property.",
    "Recovering from a shoulder operation; physio says no weight-bearing on the right arm until June.",
    "Wants invoices addressed to their company for expenses.",
    "Prefers evening classes; works shifts at the hospital.",
    "Gave great feedback on Sunset Pilates; happy to be quoted on the website.",
    "Late cancellation twice this month. Reminded them of the policy, kindly.",
    "Hard of hearing: please face them when cueing.",
)
_STATE_WEIGHTS = {
    SubscriptionState.ACTIVE: 6,
    SubscriptionState.PAST_DUE: 1,
    SubscriptionState.PAUSED: 2,
    SubscriptionState.SUSPENDED: 2,
}

_PAYING = (SubscriptionState.ACTIVE, SubscriptionState.PAST_DUE)


@dataclass(frozen=True)
class HistorySummary:
    """What one demo history load inserted."""

    team_id: str
    customers: int
    occurrences: int
    bookings: int
    appointments: int
    passes: int
    videos: int
    subscriptions: int
    questionnaires: int
    notes: int


@dataclass(frozen=True)
class DemoCustomer:
    """The customer facts history is drawn from; history lies between `start` and `end`."""

    id: int
    uid: str
    start: datetime
    end: datetime
    active: bool


@dataclass(frozen=True)
class _Occurrence:
    id: int
    starts_at: datetime
    price_minor: int
    capacity: int
    credit_price: int


@dataclass
class _Pass:
    spec: PassTypeSpec
    type_id: int
    purchased_at: datetime
    valid_from: date
    valid_to: date
    remaining: int
    price_minor: int
    method: PaymentMethod
    state: PassState
    payment_intent: str | None
    id: int = 0


@dataclass
class _Spend:
    """Something bought at `at` for use at `use_at`, waiting to be paid for."""

    at: datetime
    use_at: datetime
    price_minor: int
    credit_price: int | None
    cancelled: bool
    rows: list[dict[str, Any]]
    row: dict[str, Any]
    # Bookings record Stripe and Manual payments as states; videos have no state column.
    has_state: bool = False
    has_intent: bool = True


@dataclass
class _Batch:
    passes: list[_Pass] = field(default_factory=list)
    pass_owners: list[int] = field(default_factory=list)
    bookings: list[dict[str, Any]] = field(default_factory=list)
    appointments: list[dict[str, Any]] = field(default_factory=list)
    videos: list[dict[str, Any]] = field(default_factory=list)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    # Rows paid with a pass, and the pass, whose id is known only once it is inserted.
    paid_by_pass: list[tuple[dict[str, Any], _Pass]] = field(default_factory=list)


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


class HistoryGenerator:
    """Draws the history of demo customers from the demo catalog, within one workspace."""

    def __init__(
        self,
        uow: UnitOfWork,
        rng: random.Random,
        *,
        team_id: str,
        currency: str,
        timezone: str,
        catalog: CatalogSpec,
        ids: CatalogIds,
        answers: dict[str, tuple[tuple[str, ...], ...]],
        authors: list[str],
    ) -> None:
        self.uow = uow
        self.rng = rng
        self.team_id = team_id
        self.currency = currency
        self.zone = ZoneInfo(timezone)
        self.now = uow.now().astimezone(UTC).replace(microsecond=0)
        self.catalog = catalog
        self.ids = ids
        self.answers = answers
        self.authors = authors
        self.counts: dict[str, int] = defaultdict(int)
        self.occurrences = self._load_occurrences()
        self.event_ids = sorted(self.occurrences)
        self.booked = self._load_booked()
        self.busy = self._load_busy()
        self.givers = {
            service: [
                ids.facilitators[f.key] for f in catalog.facilitators if service in f.services
            ]
            for service in (s.key for s in catalog.services)
        }

    def _load_occurrences(self) -> dict[int, list[_Occurrence]]:
        credit_price = {self.ids.events[e.key]: e.credit_price for e in self.catalog.events}
        found: dict[int, list[_Occurrence]] = defaultdict(list)
        rows = self.uow.session.execute(
            select(
                EventOccurrence.id,
                EventOccurrence.event_id,
                EventOccurrence.starts_at,
                EventOccurrence.price_minor,
                EventOccurrence.capacity,
            )
            .where(
                EventOccurrence.team_id == self.team_id,
                EventOccurrence.event_id.in_(list(credit_price)),
                EventOccurrence.cancelled.is_(False),
                EventOccurrence.starts_at >= self.now - YEAR - timedelta(days=1),
                EventOccurrence.starts_at <= self.now + BOOK_AHEAD,
            )
            .order_by(EventOccurrence.starts_at)
        )
        for occurrence_id, event_id, starts_at, price, capacity in rows:
            found[event_id].append(
                _Occurrence(occurrence_id, starts_at, price, capacity, credit_price[event_id])
            )
        return found

    def _load_booked(self) -> dict[int, int]:
        rows = self.uow.session.execute(
            select(Booking.occurrence_id, func.count())
            .where(Booking.team_id == self.team_id, Booking.state != BookingState.CANCELLED)
            .group_by(Booking.occurrence_id)
        )
        return dict(rows.all())

    def _load_busy(self) -> set[tuple[int, datetime]]:
        busy: set[tuple[int, datetime]] = set()
        rows = self.uow.session.execute(
            select(
                Appointment.facilitator_id, Appointment.starts_at, Appointment.duration_minutes
            ).where(
                Appointment.team_id == self.team_id,
                Appointment.state == AppointmentState.SCHEDULED,
                Appointment.starts_at >= self.now - YEAR - timedelta(days=1),
            )
        )
        for facilitator_id, starts_at, minutes in rows:
            busy.update(self.slots(facilitator_id, starts_at, minutes))
        return busy

    @staticmethod
    def slots(facilitator_id: int, starts_at: datetime, minutes: int) -> list[tuple[int, datetime]]:
        """The diary slots an appointment of `minutes` starting at `starts_at` occupies."""
        return [
            (facilitator_id, starts_at + n * SLOT) for n in range(math.ceil(minutes / SLOT_MINUTES))
        ]

    def between(self, first: datetime, last: datetime) -> datetime:
        """A random whole second from `first` to `last` (`first` if the range is empty)."""
        if last <= first:
            return first
        return (first + (last - first) * self.rng.random()).replace(microsecond=0)

    def local_date(self, moment: datetime) -> date:
        """The calendar date of `moment` in the workspace's time zone."""
        return moment.astimezone(self.zone).date()

    def places(self, occurrence: _Occurrence) -> int:
        """How many demo customers may book `occurrence`."""
        if occurrence.starts_at <= self.now or occurrence.id % FULL_EVERY == 0:
            return occurrence.capacity
        return math.floor(occurrence.capacity * UPCOMING_SHARE)

    def booking_time(self, customer: DemoCustomer, wanted: datetime, latest: datetime) -> datetime:
        """`wanted`, or a recent moment if that is still to come, never before the customer joined."""
        if wanted > latest:
            wanted = self.between(latest - timedelta(days=14), latest)
        return max(customer.start, wanted.replace(microsecond=0))

    def add_batch(self, customers: list[DemoCustomer]) -> None:
        """Generate and insert the history of `customers`."""
        batch = _Batch()
        for customer in customers:
            _CustomerHistory(self, batch, customer).generate()
        self._write(batch)
        # Inserted in bulk, past the commit hook that keeps facts for ORM changes.
        facts.refresh(self.uow.session, (customer.id for customer in customers), self.now)

    def _write(self, batch: _Batch) -> None:
        session = self.uow.session
        if batch.passes:
            rows = [
                {
                    "team_id": self.team_id,
                    "customer_id": owner,
                    "pass_type_id": p.type_id,
                    "purchased_at": p.purchased_at,
                    "valid_from": p.valid_from,
                    "valid_to": p.valid_to,
                    "credits_total": p.spec.credits,
                    "credits_remaining": p.remaining,
                    "price_minor": p.price_minor,
                    "currency": self.currency,
                    "payment_method": p.method,
                    "stripe_payment_intent_id": p.payment_intent,
                    "state": p.state,
                    "version": 1,
                }
                for p, owner in zip(batch.passes, batch.pass_owners, strict=True)
            ]
            new_ids = session.scalars(
                insert(Pass)
                .returning(Pass.id, sort_by_parameter_order=True)
                .execution_options(render_nulls=True),
                rows,
            ).all()
            for p, new_id in zip(batch.passes, new_ids, strict=True):
                p.id = new_id
        for row, paid_with in batch.paid_by_pass:
            row["pass_id"] = paid_with.id
        for model, rows in (
            (Booking, batch.bookings),
            (Appointment, batch.appointments),
            (VideoPurchase, batch.videos),
            (Subscription, batch.subscriptions),
            (QuestionnaireResponse, batch.responses),
            (Note, batch.notes),
        ):
            if rows:
                # render_nulls: one batch per table; otherwise each pattern of NULLs is its own.
                session.execute(insert(model).execution_options(render_nulls=True), rows)
        for name, written in (
            ("passes", batch.passes),
            ("bookings", batch.bookings),
            ("appointments", batch.appointments),
            ("videos", batch.videos),
            ("subscriptions", batch.subscriptions),
            ("questionnaires", batch.responses),
            ("notes", batch.notes),
        ):
            self.counts[name] += len(written)


class _CustomerHistory:
    """One customer's year: what they bought, in time order, and how they paid."""

    def __init__(self, gen: HistoryGenerator, batch: _Batch, customer: DemoCustomer) -> None:
        self.gen = gen
        self.rng = gen.rng
        self.batch = batch
        self.customer = customer
        self.wallet: list[_Pass] = []
        self.payments = 0
        self.spends: list[_Spend] = []
        self.pass_user = self.rng.random() < 0.5
        self.stripe_share = self.rng.choice((0.5, 0.8, 0.95))

    def generate(self) -> None:
        """Draw everything, then pay for purchases in time order so passes run down as they would."""
        rng = self.rng
        self._bookings()
        if rng.random() < 0.35:
            self._appointments()
        if rng.random() < 0.4:
            self._videos()
        for spend in sorted(self.spends, key=lambda s: s.at):
            self._pay(spend)
        if self.pass_user and rng.random() < 0.05:
            self._extra_pass(PassState.CANCELLED)
        if self.pass_user and rng.random() < 0.03:
            self._extra_pass(PassState.UNPAID)
        if rng.random() < 0.3:
            self._subscriptions()
        if rng.random() < 0.55:
            self._questionnaires()
        if rng.random() < 0.4:
            self._notes()

    # -- what the customer bought ------------------------------------------------------------

    def _row(self, **values: Any) -> dict[str, Any]:
        return {"team_id": self.gen.team_id, "customer_id": self.customer.id, **values}

    def _bookings(self) -> None:
        gen, rng, customer = self.gen, self.rng, self.customer
        horizon = customer.end + BOOK_AHEAD if customer.active else customer.end
        earliest = customer.start + timedelta(hours=1)
        favourites = rng.sample(gen.event_ids, k=min(len(gen.event_ids), rng.choice((1, 2, 2, 3))))
        candidates = [
            o
            for event_id in favourites
            for o in gen.occurrences[event_id]
            if earliest < o.starts_at <= horizon
        ]
        months = max((customer.end - customer.start).days, 1) / 30.4
        kind = rng.random()
        rate = 0.3 if kind < 0.2 else rng.uniform(1, 3) if kind < 0.75 else rng.uniform(4, 9)
        wanted = min(len(candidates), max(1, round(rate * months)))
        for occurrence in rng.sample(candidates, wanted):
            taken = gen.booked.get(occurrence.id, 0)
            if taken >= gen.places(occurrence):
                continue
            cancelled = rng.random() < 0.08
            if not cancelled:
                gen.booked[occurrence.id] = taken + 1
            latest = min(customer.end, occurrence.starts_at - timedelta(minutes=10))
            lead = timedelta(hours=rng.uniform(1, 14 * 24))
            booked_at = gen.booking_time(customer, occurrence.starts_at - lead, latest)
            row = self._row(
                occurrence_id=occurrence.id,
                booked_at=booked_at,
                currency=gen.currency,
                pass_id=None,
                refunded_minor=0,
                refund_state=RefundState.NONE,
                cancelled_at=(
                    gen.between(booked_at, min(occurrence.starts_at, customer.end))
                    if cancelled
                    else None
                ),
                version=1,
            )
            self.spends.append(
                _Spend(
                    booked_at,
                    occurrence.starts_at,
                    occurrence.price_minor,
                    occurrence.credit_price,
                    cancelled,
                    self.batch.bookings,
                    row,
                    has_state=True,
                )
            )

    def _appointments(self) -> None:
        gen, rng, customer = self.gen, self.rng, self.customer
        horizon = customer.end + BOOK_AHEAD if customer.active else customer.end
        span_days = max((horizon - customer.start).days, 1)
        for _ in range(rng.randint(1, min(8, 2 + span_days // 90))):
            service = rng.choice(gen.catalog.services)
            facilitator_id = rng.choice(gen.givers[service.key])
            day = gen.local_date(customer.start) + timedelta(days=rng.randrange(span_days))
            if day.weekday() >= 5:
                day += timedelta(days=7 - day.weekday())
            local_start = (
                time(9) if rng.random() < 0.2 else time(rng.randint(9, 16), rng.choice((0, 30)))
            )
            starts_at = datetime.combine(day, local_start, tzinfo=gen.zone).astimezone(UTC)
            if not customer.start + timedelta(hours=2) <= starts_at <= horizon:
                continue
            slots = gen.slots(facilitator_id, starts_at, service.duration_minutes)
            if any(slot in gen.busy for slot in slots):
                continue
            cancelled = rng.random() < 0.12
            if not cancelled:
                gen.busy.update(slots)
            latest = min(customer.end, starts_at - timedelta(hours=1))
            lead = timedelta(days=rng.uniform(1, 21))
            booked_at = gen.booking_time(customer, starts_at - lead, latest)
            row = self._row(
                service_id=gen.ids.services[service.key],
                facilitator_id=facilitator_id,
                booked_at=booked_at,
                starts_at=starts_at,
                duration_minutes=service.duration_minutes,
                currency=gen.currency,
                pass_id=None,
                state=AppointmentState.CANCELLED if cancelled else AppointmentState.SCHEDULED,
                cancelled_at=gen.between(booked_at, min(starts_at, customer.end))
                if cancelled
                else None,
                version=1,
            )
            self.spends.append(
                _Spend(
                    booked_at,
                    starts_at,
                    service.price_minor,
                    service.credit_price,
                    cancelled,
                    self.batch.appointments,
                    row,
                )
            )

    def _videos(self) -> None:
        gen, rng, customer = self.gen, self.rng, self.customer
        for video in rng.sample(gen.catalog.videos, k=rng.randint(1, 4)):
            purchased_at = gen.between(customer.start, customer.end)
            cancelled = rng.random() < 0.06
            row = self._row(
                video_id=gen.ids.videos[video.key],
                purchased_at=purchased_at,
                expires_at=(
                    purchased_at + timedelta(days=video.access_days)
                    if video.access_days is not None
                    else None
                ),
                currency=gen.currency,
                pass_id=None,
                cancelled_at=(
                    gen.between(purchased_at, min(purchased_at + timedelta(days=2), customer.end))
                    if cancelled
                    else None
                ),
                version=1,
            )
            self.spends.append(
                _Spend(
                    purchased_at,
                    purchased_at,
                    video.price_minor,
                    video.credit_price,
                    cancelled,
                    self.batch.videos,
                    row,
                    has_intent=False,
                )
            )

    # -- paying --------------------------------------------------------------------------------

    def _payment_intent(self) -> str:
        # Derived from the UID, which is unique, so payment intents never collide in a workspace.
        self.payments += 1
        return f"pi_demo{self.customer.uid}{self.payments:04d}"

    def _usable(self, at: datetime, use_at: datetime, cost: int) -> _Pass | None:
        gen = self.gen
        bought_on, used_on = gen.local_date(at), gen.local_date(use_at)
        usable = [
            p
            for p in self.wallet
            if p.remaining >= cost and p.valid_from <= bought_on and used_on <= p.valid_to
        ]
        return min(usable, key=lambda p: p.valid_to) if usable else None

    def _buy_pass(self, at: datetime, cost: int) -> _Pass:
        gen, rng = self.gen, self.rng
        choices = [p for p in gen.catalog.pass_types if p.credits >= cost]
        if self.wallet or rng.random() < 0.5:
            choices = [p for p in choices if p.credits > 3] or choices
        spec = rng.choices(choices, [p.credits**0.5 for p in choices])[0]
        purchased_at = max(self.customer.start, at - timedelta(minutes=rng.uniform(1, 30)))
        purchased_at = purchased_at.replace(microsecond=0)
        valid_from = gen.local_date(purchased_at)
        manual = rng.random() < 0.2
        bought = _Pass(
            spec=spec,
            type_id=gen.ids.pass_types[spec.key],
            purchased_at=purchased_at,
            valid_from=valid_from,
            valid_to=valid_from + timedelta(days=spec.validity_days - 1),
            remaining=spec.credits,
            price_minor=spec.price_minor if not manual or rng.random() < 0.7 else 0,
            method=PaymentMethod.MANUAL if manual else PaymentMethod.STRIPE,
            state=PassState.MANUAL if manual else PassState.COMPLETED,
            payment_intent=None if manual else self._payment_intent(),
        )
        self.wallet.append(bought)
        self.batch.passes.append(bought)
        self.batch.pass_owners.append(self.customer.id)
        return bought

    def _extra_pass(self, state: PassState) -> None:
        """A pass no purchase is paid with: cancelled, or still waiting to be paid by link."""
        gen = self.gen
        spec = self.rng.choice(gen.catalog.pass_types)
        purchased_at = gen.between(self.customer.start, self.customer.end)
        valid_from = gen.local_date(purchased_at)
        unpaid = state is PassState.UNPAID
        self.batch.passes.append(
            _Pass(
                spec=spec,
                type_id=gen.ids.pass_types[spec.key],
                purchased_at=purchased_at,
                valid_from=valid_from,
                valid_to=valid_from + timedelta(days=spec.validity_days - 1),
                remaining=spec.credits,
                price_minor=spec.price_minor,
                method=PaymentMethod.UNPAID if unpaid else PaymentMethod.STRIPE,
                state=state,
                payment_intent=None if unpaid else self._payment_intent(),
            )
        )
        self.batch.pass_owners.append(self.customer.id)

    def _pay(self, spend: _Spend) -> None:
        rng, row = self.rng, spend.row
        cost = spend.credit_price
        if cost is not None and self.pass_user:
            paid_with = self._usable(spend.at, spend.use_at, cost)
            if paid_with is None and rng.random() < 0.85:
                self._buy_pass(spend.at, cost)
                paid_with = self._usable(spend.at, spend.use_at, cost)
            if paid_with is not None:
                # A cancelled booking gives its credits back, so only kept ones use them up.
                if not spend.cancelled:
                    paid_with.remaining -= cost
                row.update(price_minor=None, credits=cost, payment_method=PaymentMethod.PACKAGE)
                if spend.has_intent:
                    row["stripe_payment_intent_id"] = None
                if spend.has_state:
                    row["state"] = (
                        BookingState.CANCELLED if spend.cancelled else BookingState.PACKAGE
                    )
                self.batch.paid_by_pass.append((row, paid_with))
                spend.rows.append(row)
                return
        # A few purchases still to come wait for the customer to pay a payment link.
        later = spend.use_at > self.gen.now and not spend.cancelled
        unpaid = later and rng.random() < 0.15
        stripe = not unpaid and rng.random() < self.stripe_share
        price = spend.price_minor if stripe or unpaid or rng.random() < 0.85 else 0
        method = PaymentMethod.UNPAID if unpaid else PaymentMethod.MANUAL
        row.update(
            price_minor=price,
            credits=None,
            payment_method=PaymentMethod.STRIPE if stripe else method,
        )
        if spend.has_intent:
            row["stripe_payment_intent_id"] = self._payment_intent() if stripe else None
        if spend.has_state:
            if spend.cancelled:
                row["state"] = BookingState.CANCELLED
            else:
                row["state"] = (
                    BookingState.COMPLETED
                    if stripe
                    else BookingState.UNPAID
                    if unpaid
                    else BookingState.MANUAL
                )
            # Most Stripe cancellations are refunded in full; a few kept bookings in part.
            if stripe and price and spend.cancelled and rng.random() < 0.7:
                row.update(refunded_minor=price, refund_state=RefundState.FULL)
            elif stripe and price and not spend.cancelled and rng.random() < 0.03:
                row.update(refunded_minor=price // 2, refund_state=RefundState.PARTIAL)
        spend.rows.append(row)

    # -- the rest of the record ----------------------------------------------------------------

    def _subscriptions(self) -> None:
        gen, rng, customer = self.gen, self.rng, self.customer
        for plan in rng.sample(gen.catalog.plans, k=rng.choice((1, 1, 1, 2))):
            created_at = gen.between(customer.start, customer.end)
            state = rng.choices(list(_STATE_WEIGHTS), list(_STATE_WEIGHTS.values()))[0]
            if not customer.active and state in _PAYING:
                state = SubscriptionState.SUSPENDED
            next_payment = None
            if state is SubscriptionState.PAST_DUE:
                # A failed payment Stripe tries again within days.
                next_payment = gen.now + timedelta(days=rng.randint(1, 5))
            if state is SubscriptionState.ACTIVE:
                next_payment = created_at
                step = 0
                while next_payment <= gen.now:
                    step += 1
                    if plan.interval == "week":
                        next_payment = created_at + timedelta(weeks=step)
                    else:
                        next_payment = _add_months(
                            created_at, step * (12 if plan.interval == "year" else 1)
                        )
            row = self._row(
                plan_id=gen.ids.plans[plan.key],
                created_at=created_at,
                next_payment_at=next_payment,
                price_minor=plan.price_minor,
                currency=gen.currency,
                state=state,
                # Not linked to Stripe: made-up Stripe ids would make every Pause, Resume and
                # Suspend in the demo fail, as Stripe (or its absence) refuses them.
                stripe_subscription_id=None,
                version=1,
            )
            self.batch.subscriptions.append(row)

    def _questionnaires(self) -> None:
        gen, rng, customer = self.gen, self.rng, self.customer
        for template in rng.sample(gen.catalog.questionnaires, k=rng.choice((1, 1, 2))):
            pool = gen.answers[template.key]
            answers: list[str | None] = [rng.choice(options) for options in pool]
            created_at = gen.between(customer.start, customer.end)
            updated_at = gen.between(created_at, min(created_at + timedelta(days=5), customer.end))
            completed = rng.random() < 0.6
            if not completed:
                if rng.random() < 0.5:
                    answers = [None] * len(answers)
                    updated_at = created_at
                else:
                    answered = rng.randrange(1, len(answers))
                    answers = answers[:answered] + [None] * (len(answers) - answered)
            self.batch.responses.append(
                self._row(
                    template_id=gen.ids.questionnaires[template.key],
                    name=template.name,
                    questions=[stored(question) for question in template.questions],
                    answers=answers,
                    status=QuestionnaireStatus.COMPLETED
                    if completed
                    else QuestionnaireStatus.PENDING,
                    assigned_by=rng.choice(gen.authors),
                    created_at=created_at,
                    updated_at=updated_at,
                )
            )

    def _notes(self) -> None:
        gen, rng, customer = self.gen, self.rng, self.customer
        for content in rng.sample(_NOTES, k=rng.randint(1, 4)):
            author = rng.choice(gen.authors)
            created_at = gen.between(customer.start, customer.end)
            edited = rng.random() < 0.2
            self.batch.notes.append(
                self._row(
                    author=author,
                    content=content,
                    created_at=created_at,
                    updated_at=gen.between(created_at, customer.end) if edited else created_at,
                    updated_by=rng.choice(gen.authors) if edited else author,
                )
            )
