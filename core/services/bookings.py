"""A customer's event bookings (the Bookings tab): booking an event, transferring, cancelling."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ScalarSelect, case, func, select
from sqlalchemy.exc import IntegrityError

from core.actor import Actor
from core.adapters.payments import PaymentGateway
from core.db import UnitOfWork
from core.errors import DomainError, NotFound, ValidationFailed
from core.formatting import format_credits, format_date, format_money, format_when
from core.models import (
    Attendance,
    Booking,
    BookingState,
    CreditRule,
    Customer,
    Event,
    EventOccurrence,
    Pass,
    PaymentMethod,
    RefundState,
)
from core.services import alerts, history
from core.services.attendance import check_in_opens, said
from core.services.checkout import (
    ManualPayment,
    PackagePayment,
    PaymentChoice,
    StripePayment,
    business_date,
    check_pass_valid,
    lock_for_change,
    mark_awaiting,
    payment_in_use,
    record_payment,
    refuse_archived,
    return_paid_credits,
    settle,
    used_payment,
    verify_stripe_payment,
)
from core.services.customers import load_for_change
from core.services.paging import Page, fetch_page
from core.services.passes import PassRow, usable_passes_on
from core.services.tabs import NamedCatalog, tab_scope
from core.services.workspaces import ensure_workspace
from core.text import fold

_EVENTS = NamedCatalog(Event.id, Event.name, Event.team_id)


@dataclass(frozen=True)
class BookingRow:
    """One booking as the tab shows it; money in minor units of `currency`, or `credits`."""

    id: int
    booked_at: datetime
    event_name: str
    starts_at: datetime
    timezone: str
    duration_minutes: int
    price_minor: int | None
    credits: int | None
    currency: str
    state: BookingState
    payment_method: PaymentMethod
    stripe_payment_intent_id: str | None
    refunded_minor: int
    refund_state: RefundState
    # Unpaid, with a payment link the customer can still pay.
    awaiting_link: bool = False
    # Check-in: what was recorded, by whom and when; whether it can be recorded yet.
    attendance: Attendance | None = None
    attendance_by: str | None = None
    attendance_at: datetime | None = None
    version: int = 1
    check_in_open: bool = False


def list_bookings(
    uow: UnitOfWork, actor: Actor, uid: str, *, query: str = "", page: int = 1, page_size: int = 10
) -> Page[BookingRow]:
    """One page of customer `uid`'s bookings: sessions to come first, soonest first, then past
    ones, latest first (newest booking first within a session); `query` is an event name or '#id'."""
    scope = tab_scope(uow, actor, uid, query, [_EVENTS])
    to_come = EventOccurrence.starts_at >= uow.now()
    statement = (
        select(
            Booking,
            Event.name.label("event_name"),
            EventOccurrence.starts_at,
            EventOccurrence.timezone,
            EventOccurrence.duration_minutes,
        )
        .join(EventOccurrence, EventOccurrence.id == Booking.occurrence_id)
        .join(Event, Event.id == EventOccurrence.event_id)
        .where(
            Booking.team_id == actor.team_id,
            Booking.customer_id == scope.customer_id,
            scope.condition(Booking.id, [Event.id]),
        )
        .order_by(
            case((to_come, 0), else_=1),
            # Past sessions have no value here, so they keep their order from the next key.
            case((to_come, EventOccurrence.starts_at)).asc(),
            EventOccurrence.starts_at.desc(),
            Booking.booked_at.desc(),
            Booking.id.desc(),
        )
    )
    rows, total, page, page_size = fetch_page(uow, statement, page=page, page_size=page_size)
    now = uow.now()
    listed = [
        replace(
            _row(b, event_name, starts_at, timezone, duration),
            check_in_open=now >= check_in_opens(starts_at, timezone),
        )
        for b, event_name, starts_at, timezone, duration in rows
    ]
    return Page(
        mark_awaiting(uow, actor.team_id, "booking", listed),
        total,
        page,
        page_size,
    )


def _row(
    b: Booking, event_name: str, starts_at: datetime, timezone: str, duration: int
) -> BookingRow:
    return BookingRow(
        id=b.id,
        booked_at=b.booked_at,
        event_name=event_name,
        starts_at=starts_at,
        timezone=timezone,
        duration_minutes=duration,
        price_minor=b.price_minor,
        credits=b.credits,
        currency=b.currency,
        state=b.state,
        payment_method=b.payment_method,
        stripe_payment_intent_id=b.stripe_payment_intent_id,
        refunded_minor=b.refunded_minor,
        refund_state=b.refund_state,
        attendance=b.attendance,
        attendance_by=b.attendance_by,
        attendance_at=b.attendance_at,
        version=b.version,
    )


# -- actions --------------------------------------------------------------------------------

BOOKED = "event booked"
TRANSFERRED = "booking transferred"
CANCELLED = "booking cancelled"
MAX_OPTIONS = 100
_STATE_OF = {
    PaymentMethod.MANUAL: BookingState.MANUAL,
    PaymentMethod.STRIPE: BookingState.COMPLETED,
    PaymentMethod.PACKAGE: BookingState.PACKAGE,
    PaymentMethod.UNPAID: BookingState.UNPAID,
}


@dataclass(frozen=True)
class OccurrenceOption:
    """An upcoming session of an event, as the Book an Event picker shows it."""

    id: int
    event_name: str
    starts_at: datetime
    timezone: str
    duration_minutes: int
    capacity: int
    places_left: int
    price_minor: int
    credit_price: int
    currency: str


@dataclass(frozen=True)
class _Session:
    """An occurrence with its event."""

    occurrence: EventOccurrence
    event: Event

    @property
    def title(self) -> str:
        """'Morning Yoga on 14 Mar 2026, 07:00 GMT', in the session's own time zone."""
        when = format_when(self.occurrence.starts_at, self.occurrence.timezone)
        return f"{self.event.name} on {when}"


def _row_on(b: Booking, session: _Session) -> BookingRow:
    occurrence = session.occurrence
    return _row(
        b,
        session.event.name,
        occurrence.starts_at,
        occurrence.timezone,
        occurrence.duration_minutes,
    )


@dataclass(frozen=True)
class CancelledBooking:
    """The cancelled booking, and what happened to its payment in words for staff."""

    row: BookingRow
    message: str


def _taken(occurrence_id: Any) -> ScalarSelect[int]:
    return (
        select(func.count())
        .where(Booking.occurrence_id == occurrence_id, Booking.state != BookingState.CANCELLED)
        .scalar_subquery()
    )


def upcoming_occurrences(
    uow: UnitOfWork, actor: Actor, text: str = "", *, limit: int = 20
) -> list[OccurrenceOption]:
    """Sessions still to come, soonest first, of events whose name has every word of `text`.

    Case and accents are ignored ('cafe' finds 'Café Barre'); cancelled and archived sessions are left out."""
    words = fold(text).split()
    # Folded in Python: neither database strips accents, and a workspace has few events.
    events = {
        event_id: (name, credit_price)
        for event_id, name, credit_price in uow.session.execute(
            select(Event.id, Event.name, Event.credit_price).where(Event.team_id == actor.team_id)
        )
        if all(word in fold(name) for word in words)
    }
    if not events:
        return []
    currency = ensure_workspace(uow, actor.team_id).currency
    rows = uow.session.execute(
        select(EventOccurrence, _taken(EventOccurrence.id))
        .where(
            EventOccurrence.team_id == actor.team_id,
            EventOccurrence.event_id.in_(list(events)),
            EventOccurrence.cancelled.is_(False),
            EventOccurrence.archived.is_(False),
            EventOccurrence.starts_at > uow.now(),
        )
        .order_by(EventOccurrence.starts_at, EventOccurrence.id)
        .limit(min(max(1, limit), MAX_OPTIONS))
    )
    return [
        OccurrenceOption(
            id=o.id,
            event_name=events[o.event_id][0],
            starts_at=o.starts_at,
            timezone=o.timezone,
            duration_minutes=o.duration_minutes,
            capacity=o.capacity,
            places_left=max(0, o.capacity - taken),
            price_minor=o.price_minor,
            credit_price=events[o.event_id][1],
            currency=currency,
        )
        for o, taken in rows
    ]


def _session(uow: UnitOfWork, actor: Actor, occurrence_id: int, *, lock: bool) -> _Session:
    query = (
        select(EventOccurrence, Event)
        .join(Event, Event.id == EventOccurrence.event_id)
        .where(EventOccurrence.id == occurrence_id, EventOccurrence.team_id == actor.team_id)
        .execution_options(populate_existing=True)
    )
    if lock:
        # The session row is the gate every booking of it passes: places are counted under it.
        query = query.with_for_update(of=EventOccurrence)
    found = uow.session.execute(query).first()
    if found is None:
        raise NotFound("That session no longer exists; choose another.")
    return _Session(*found)


def _local(occurrence: EventOccurrence) -> datetime:
    return occurrence.starts_at.astimezone(ZoneInfo(occurrence.timezone))


@dataclass(frozen=True)
class NamedSession:
    """A session as people name it: its event's name, its day and, if need be, its time, both
    in the session's own time zone."""

    event_name: str
    day: date
    at: time | None = None


# How a booking made without a form is paid: at the session's price paid another way, free, or
# with credits from the customer's pass that runs out first.
PAYMENT_WORDS = ("manual", "free", "pass")


def session_on(uow: UnitOfWork, actor: Actor, named: NamedSession) -> int:
    """The id of the one session of the event named `named.event_name` (case and accents
    ignored) starting on `named.day`, at `named.at` when given."""
    event_name, day, at = named.event_name, named.day, named.at
    wanted = fold(event_name)
    if not wanted:
        raise ValidationFailed({"event": "Name the event as the catalog names it."})
    events = [
        event_id
        for event_id, name in uow.session.execute(
            select(Event.id, Event.name).where(Event.team_id == actor.team_id)
        )
        if fold(name) == wanted
    ]
    if not events:
        raise NotFound(f"No event in the catalog is named {event_name.strip()!r}.")
    # A day anywhere on Earth starts within a day either side of its UTC midnight.
    midnight = datetime.combine(day, time.min, tzinfo=UTC)
    nearby = uow.session.scalars(
        select(EventOccurrence)
        .where(
            EventOccurrence.team_id == actor.team_id,
            EventOccurrence.event_id.in_(events),
            EventOccurrence.starts_at >= midnight - timedelta(days=1),
            EventOccurrence.starts_at < midnight + timedelta(days=2),
        )
        .order_by(EventOccurrence.starts_at, EventOccurrence.id)
    ).all()
    on_day = [o for o in nearby if _local(o).date() == day]
    chosen = [o for o in on_day if at is None or _local(o).time() == at.replace(tzinfo=None)]
    if len(chosen) == 1:
        return chosen[0].id
    name, when = event_name.strip(), format_date(day)
    times = ", ".join(f"{_local(o):%H:%M}" for o in on_day)
    if not on_day:
        raise NotFound(f"{name} has no session on {when}.")
    if not chosen:
        raise NotFound(f"{name} has no session at {at:%H:%M} on {when}; it has {times}.")
    raise ValidationFailed(
        {"time": f"{name} has {len(chosen)} sessions on {when} ({times}); give the time too."}
    )


def usable_passes(uow: UnitOfWork, actor: Actor, uid: str, occurrence_id: int) -> list[PassRow]:
    """Customer `uid`'s passes valid on the session's day with enough credits for it."""
    session = _session(uow, actor, occurrence_id, lock=False)
    timezone = ensure_workspace(uow, actor.team_id).timezone
    on = business_date(session.occurrence.starts_at, timezone)
    return usable_passes_on(uow, actor, uid, on, session.event.credit_price)


def _check_open(uow: UnitOfWork, session: _Session, customer: Customer) -> None:
    """Refuse a cancelled, archived, past or full session, or one the customer already holds a place on."""
    occurrence = session.occurrence
    if occurrence.cancelled:
        raise DomainError(f"{session.title} is cancelled; choose another session.")
    if occurrence.archived:
        raise DomainError(
            f"{session.title} is archived and can't be booked; choose another session."
        )
    if occurrence.starts_at <= uow.now():
        raise ValidationFailed(
            {"occurrence_id": f"{session.title} has already started; choose a later one."}
        )
    already = uow.session.scalar(
        select(Booking.id).where(
            Booking.occurrence_id == occurrence.id,
            Booking.customer_id == customer.id,
            Booking.state != BookingState.CANCELLED,
        )
    )
    if already is not None:
        raise DomainError(
            f"{customer.full_name} is already booked on {session.title} (booking #{already})."
        )
    taken = uow.session.scalar(select(_taken(occurrence.id))) or 0
    if taken >= occurrence.capacity:
        raise DomainError(
            f"{session.title} is full ({taken} of {occurrence.capacity} places taken); "
            "choose another session."
        )


def book_event(
    uow: UnitOfWork,
    actor: Actor,
    uid: str,
    occurrence_id: int,
    payment: PaymentChoice,
    *,
    gateway: PaymentGateway | None = None,
) -> BookingRow:
    """Book customer `uid` a place on the session, paid as `payment` says.

    Manual: the session's price unless overridden (0: free). Package: the event's credit price
    from the pass, taken in this transaction. Stripe: a succeeded, unused payment intent in the
    workspace currency, whose amount becomes the price."""
    intent = verify_stripe_payment(gateway, payment) if isinstance(payment, StripePayment) else None
    customer = load_for_change(uow, actor, uid)
    refuse_archived(customer, "booking")
    session = _session(uow, actor, occurrence_id, lock=True)
    _check_open(uow, session, customer)
    workspace = ensure_workspace(uow, actor.team_id)
    settled, credit_changes = settle(
        uow,
        customer,
        payment,
        intent=intent,
        price_minor=session.occurrence.price_minor,
        credit_price=session.event.credit_price,
        on=business_date(session.occurrence.starts_at, workspace.timezone),
        currency=workspace.currency,
        what=session.event.name,
        credits_at_check_in=workspace.credit_rule is CreditRule.AT_CHECK_IN,
    )
    booking = Booking(
        team_id=actor.team_id,
        customer_id=customer.id,
        occurrence_id=session.occurrence.id,
        booked_at=uow.now(),
        price_minor=settled.price_minor,
        credits=settled.credits,
        currency=workspace.currency,
        state=_STATE_OF[settled.method],
        payment_method=settled.method,
        stripe_payment_intent_id=settled.payment_intent_id,
        pass_id=settled.pass_id,
        credits_at_check_in=settled.credits_at_check_in,
        refunded_minor=0,
        refund_state=RefundState.NONE,
        version=1,
    )
    try:
        with uow.session.begin_nested():
            uow.session.add(booking)
    except IntegrityError:
        # The unique payment intent per workspace: the last guard if a writer skipped the check.
        intent_id = settled.payment_intent_id or ""
        raise used_payment(
            intent_id, payment_in_use(uow, actor.team_id, intent_id) or "another booking"
        ) from None
    record_payment(uow, actor.team_id, settled, workspace.currency, booking)
    history.record(
        uow,
        actor.user_id,
        customer,
        BOOKED,
        changes=credit_changes,
        detail=f"booked {session.title} {settled.describe(workspace.currency)}, "
        f"booking #{booking.id}",
    )
    alerts.record(uow, alerts.BOOKING_MADE, customer, f"Booked {session.title}")
    return _row_on(booking, session)


def _payment_by_word(
    uow: UnitOfWork, actor: Actor, uid: str, occurrence_id: int, word: str
) -> PaymentChoice:
    choice = word.strip().lower() or "manual"
    if choice == "manual":
        return ManualPayment()
    if choice == "free":
        return ManualPayment(price_minor=0)
    if choice != "pass":
        raise ValidationFailed({"payment": "Payment must be manual, free or pass."})
    passes = usable_passes(uow, actor, uid, occurrence_id)
    if not passes:
        raise ValidationFailed(
            {"pass_id": "The customer has no pass with enough credits for that session."}
        )
    # Soonest to end first: the credits most at risk of expiring are used first.
    return PackagePayment(passes[0].id)


def book_named(
    uow: UnitOfWork, actor: Actor, uid: str, named: NamedSession, payment: str = "manual"
) -> BookingRow:
    """Book customer `uid` on the session `named`, paid as the word `payment` says (one of
    PAYMENT_WORDS); what book_event refuses is refused the same way."""
    occurrence_id = session_on(uow, actor, named)
    choice = _payment_by_word(uow, actor, uid, occurrence_id, payment)
    return book_event(uow, actor, uid, occurrence_id, choice)


@dataclass(frozen=True)
class TransferredBooking:
    """The moved booking, and how the new session's price differs from what was paid, in
    words for staff ('' when it is the same)."""

    row: BookingRow
    difference: str


def _difference(booking: Booking, target: _Session) -> str:
    """What staff should know when the new session costs other than what the booking paid."""
    if booking.payment_method is PaymentMethod.PACKAGE:
        paid, costs = booking.credits or 0, target.event.credit_price
        if costs == paid:
            return ""
        gap = format_credits(abs(costs - paid))
        more = costs > paid
        return (
            f"The new session costs {format_credits(costs)}, {gap} "
            f"{'more' if more else 'less'} than the {format_credits(paid)} taken from the pass; "
            + ("the pass is not charged the difference." if more else "no credit goes back.")
        )
    paid, costs = booking.price_minor or 0, target.occurrence.price_minor
    if costs == paid:
        return ""
    gap = format_money(abs(costs - paid), booking.currency)
    more = costs > paid
    return (
        f"The new session costs {format_money(costs, booking.currency)}, {gap} "
        f"{'more' if more else 'less'} than the {format_money(paid, booking.currency)} paid; "
        + ("collect the difference separately." if more else "refund the difference if due.")
    )


def transfer_booking(
    uow: UnitOfWork, actor: Actor, booking_id: int, occurrence_id: int, *, uid: str | None = None
) -> TransferredBooking:
    """Move the booking to another session that is still to come and has a place.

    Its payment moves with it: credits stay taken (the pass must be valid on the new day),
    and a different price is said, not charged or refunded."""
    booking, customer = lock_for_change(uow, actor, Booking, booking_id, "Booking", uid=uid)
    refuse_archived(customer, "moving their bookings")
    if booking.state is BookingState.CANCELLED:
        raise DomainError(f"Booking #{booking.id} is cancelled; book the session anew instead.")
    if booking.attendance is not None:
        raise DomainError(
            f"Booking #{booking.id} is checked in ({said(booking.attendance)}); "
            "undo that before moving it."
        )
    if booking.occurrence_id == occurrence_id:
        raise ValidationFailed(
            {"occurrence_id": "The booking is already on that session; choose another."}
        )
    source = _session(uow, actor, booking.occurrence_id, lock=False)
    target = _session(uow, actor, occurrence_id, lock=True)
    _check_open(uow, target, customer)
    if booking.payment_method is PaymentMethod.PACKAGE and booking.pass_id is not None:
        held = uow.session.get(Pass, booking.pass_id)
        if held is not None:
            timezone = ensure_workspace(uow, actor.team_id).timezone
            check_pass_valid(uow, held, business_date(target.occurrence.starts_at, timezone))
    booking.occurrence_id = target.occurrence.id
    booking.version += 1
    difference = _difference(booking, target)
    detail = f"transferred booking #{booking.id} from {source.title} to {target.title}"
    history.record(
        uow,
        actor.user_id,
        customer,
        TRANSFERRED,
        changes={"session": [source.title, target.title]},
        detail=f"{detail}. {difference}" if difference else detail,
    )
    uow.session.flush()
    return TransferredBooking(_row_on(booking, target), difference)


def cancel_booking(
    uow: UnitOfWork, actor: Actor, booking_id: int, *, uid: str | None = None
) -> CancelledBooking:
    """Cancel the booking and free its place; credits go back to their pass.

    A Stripe payment stays with the business: refunding it is a separate action."""
    booking, customer = lock_for_change(uow, actor, Booking, booking_id, "Booking", uid=uid)
    if booking.state is BookingState.CANCELLED:
        raise DomainError(f"Booking #{booking.id} is already cancelled.")
    session = _session(uow, actor, booking.occurrence_id, lock=False)
    before = booking.state
    booking.state = BookingState.CANCELLED
    booking.cancelled_at = uow.now()
    booking.version += 1
    outcome, credit_changes = return_paid_credits(uow, actor.team_id, booking)
    changes: dict[str, list[Any]] = {"state": [before.value, booking.state.value], **credit_changes}
    if booking.payment_method is PaymentMethod.STRIPE:
        kept = format_money((booking.price_minor or 0) - booking.refunded_minor, booking.currency)
        outcome = f"the Stripe payment ({kept}) is not refunded; refund it separately if due"
    detail = f"cancelled booking #{booking.id}, {session.title}" + (
        f"; {outcome}" if outcome else ""
    )
    history.record(uow, actor.user_id, customer, CANCELLED, changes=changes, detail=detail)
    alerts.record(uow, alerts.BOOKING_CANCELLED, customer, f"Cancelled {session.title}")
    uow.session.flush()
    message = f"Cancelled {session.title} for {customer.full_name}" + (
        f"; {outcome}." if outcome else "."
    )
    return CancelledBooking(_row_on(booking, session), message)
