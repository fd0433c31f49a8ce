"""The catalog's dated events as admins edit them in Slack: add (once or weekly), edit, archive.

Each change is validated field by field and audited in the workspace's audit log."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from core.actor import Actor
from core.db import UnitOfWork
from core.errors import DomainError, NotFound, ValidationFailed
from core.formatting import format_money, format_when, plain_amount
from core.models import (
    Booking,
    BookingState,
    Event,
    EventOccurrence,
    Workspace,
)
from core.services.catalog import LocalTimeError, local_to_utc
from core.services.catalog_fields import (
    CREDITS_MAX,
    money_amount,
    require_admin,
    whole_number,
)
from core.services.workspaces import audit_workspace, ensure_workspace
from core.text import squeeze

EVENT_ADDED = "event added"
EVENT_CHANGED = "event changed"
EVENT_ARCHIVED = "event archived"
NAME_MAX = 200
LOCATION_MAX = 200
CAPACITY_MAX = 10_000
MAX_REPEATS = 200
UPCOMING_MAX = 15


@dataclass(frozen=True)
class EventDraft:
    """What an admin typed for an event: text as typed, dates and times as picked."""

    name: str = ""
    day: date | None = None
    start: time | None = None
    end: time | None = None
    capacity: str = ""
    price: str = ""
    credits: str = ""
    location: str = ""
    # Weekdays (0 is Monday) it repeats on, weekly until `repeat_until`; none: once.
    repeat_days: tuple[int, ...] = ()
    repeat_until: date | None = None


@dataclass(frozen=True)
class UpcomingEvent:
    """A dated event still to come, as the catalog lists it."""

    id: int
    name: str
    starts_at: datetime
    timezone: str
    duration_minutes: int
    capacity: int
    booked: int
    price_minor: int
    credit_price: int
    location: str


@dataclass(frozen=True)
class _Clean:
    name: str
    starts: tuple[datetime, ...]
    minutes: int
    capacity: int
    price_minor: int
    credits: int
    location: str


def _days(draft: EventDraft, errors: dict[str, str]) -> list[date]:
    """The local days the event happens on: its day, then weekly on the ticked weekdays."""
    if draft.day is None:
        errors["day"] = "Choose the day of the event."
        return []
    if not draft.repeat_days:
        return [draft.day]
    if draft.repeat_until is None:
        errors["repeat_until"] = "Choose the last day it repeats on."
        return []
    if draft.repeat_until < draft.day:
        errors["repeat_until"] = "The last day can't be before the first event's day."
        return []
    # The first day always, then each ticked weekday up to the last day.
    span = (draft.repeat_until - draft.day).days
    later = (draft.day + timedelta(n) for n in range(1, span + 1))
    found = [draft.day, *(day for day in later if day.weekday() in draft.repeat_days)]
    if len(found) > MAX_REPEATS:
        errors["repeat_until"] = (
            f"That makes {len(found)} events; at most {MAX_REPEATS} are made at once. "
            "Choose an earlier last day."
        )
        return []
    return found


def _starts(draft: EventDraft, timezone: str, errors: dict[str, str]) -> tuple[datetime, ...]:
    days = _days(draft, errors)
    if draft.start is None:
        errors["start"] = "Choose the time it starts."
        return ()
    starts = []
    for day in days:
        try:
            starts.append(local_to_utc(datetime.combine(day, draft.start), timezone))
        except LocalTimeError as exc:
            errors["start"] = str(exc)
            return ()
    return tuple(starts)


def _minutes(draft: EventDraft, errors: dict[str, str]) -> int:
    if draft.end is None:
        errors["end"] = "Choose the time it ends."
        return 0
    if draft.start is None:
        return 0
    minutes = (draft.end.hour * 60 + draft.end.minute) - (
        draft.start.hour * 60 + draft.start.minute
    )
    if minutes <= 0:
        errors["end"] = "The end must be after the start (on the same day)."
    return minutes


def clean_event(draft: EventDraft, timezone: str, currency: str, *, booked: int = 0) -> _Clean:
    """`draft` checked and normalised; ValidationFailed names each field that is wrong."""
    errors: dict[str, str] = {}
    name, location = squeeze(draft.name), squeeze(draft.location)
    if not name:
        errors["name"] = "Enter the event's name."
    elif len(name) > NAME_MAX:
        errors["name"] = f"The name can be at most {NAME_MAX} characters (this has {len(name)})."
    if len(location) > LOCATION_MAX:
        errors["location"] = f"The location can be at most {LOCATION_MAX} characters."
    starts = _starts(draft, timezone, errors)
    minutes = _minutes(draft, errors)
    capacity, problem = whole_number(draft.capacity, "the capacity", 1, CAPACITY_MAX)
    if problem is None and capacity < booked:
        problem = f"{booked} places are already booked; the capacity can't be less than that."
    credits, credit_problem = (
        whole_number(draft.credits, "the credits", 1, CREDITS_MAX)
        if draft.credits.strip()
        else (1, None)
    )
    price, price_problem = money_amount(draft.price, currency)
    found = {"capacity": problem, "credits": credit_problem, "price": price_problem}
    errors.update({field: message for field, message in found.items() if message})
    if errors:
        raise ValidationFailed(errors)
    return _Clean(name, starts, minutes, capacity, price, credits, location)


def _when(clean: _Clean, timezone: str) -> str:
    first = format_when(clean.starts[0], timezone)
    if len(clean.starts) == 1:
        return first
    return f"{len(clean.starts)} dates from {first} to {format_when(clean.starts[-1], timezone)}"


def add_event(uow: UnitOfWork, actor: Actor, draft: EventDraft) -> str:
    """Add the event of `draft`, once or on each weekly date; what was added, in words."""
    require_admin(actor)
    workspace = ensure_workspace(uow, actor.team_id)
    clean = clean_event(draft, workspace.timezone, workspace.currency)
    event = Event(
        team_id=actor.team_id,
        key=f"event-{secrets.token_hex(6)}",
        name=clean.name,
        description="",
        timezone=workspace.timezone,
        price_minor=clean.price_minor,
        credit_price=clean.credits,
        capacity=clean.capacity,
    )
    uow.session.add(event)
    uow.session.flush()
    for starts_at in clean.starts:
        uow.session.add(_occurrence(event, starts_at, clean))
    added = f"{clean.name}, {_when(clean, workspace.timezone)}"
    audit_workspace(
        uow, actor.team_id, actor.user_id, EVENT_ADDED, f"{added}; {_terms(clean, workspace)}"
    )
    return added


def _occurrence(event: Event, starts_at: datetime, clean: _Clean) -> EventOccurrence:
    return EventOccurrence(
        team_id=event.team_id,
        event_id=event.id,
        starts_at=starts_at,
        duration_minutes=clean.minutes,
        timezone=event.timezone,
        capacity=clean.capacity,
        price_minor=clean.price_minor,
        location=clean.location,
        cancelled=False,
        archived=False,
    )


def _terms(clean: _Clean, workspace: Workspace) -> str:
    where = f", at {clean.location}" if clean.location else ""
    price = format_money(clean.price_minor, workspace.currency)
    return f"{clean.capacity} places, {price} or {clean.credits} CR{where}"


def _booked(uow: UnitOfWork, occurrence_id: int) -> int:
    return (
        uow.session.scalar(
            select(func.count()).where(
                Booking.occurrence_id == occurrence_id, Booking.state != BookingState.CANCELLED
            )
        )
        or 0
    )


def _found(
    uow: UnitOfWork, actor: Actor, occurrence_id: int, *, lock: bool = True
) -> tuple[EventOccurrence, Event]:
    query = (
        select(EventOccurrence, Event)
        .join(Event, Event.id == EventOccurrence.event_id)
        .where(EventOccurrence.id == occurrence_id, EventOccurrence.team_id == actor.team_id)
    )
    if lock:
        # Bookings count places under this row's lock, so a new capacity can't undercut one.
        query = query.with_for_update(of=EventOccurrence)
    row = uow.session.execute(query).first()
    if row is None:
        raise NotFound("That event no longer exists; it may have been removed by an import.")
    return row[0], row[1]


def event_draft(uow: UnitOfWork, actor: Actor, occurrence_id: int) -> EventDraft:
    """The event `occurrence_id` as its edit form starts: its values in the workspace's zone."""
    require_admin(actor)
    occurrence, event = _found(uow, actor, occurrence_id, lock=False)
    zone = ZoneInfo(occurrence.timezone)
    start = occurrence.starts_at.astimezone(zone)
    end = start + timedelta(minutes=occurrence.duration_minutes)
    currency = ensure_workspace(uow, actor.team_id).currency
    return EventDraft(
        name=event.name,
        day=start.date(),
        start=start.time().replace(tzinfo=None),
        end=end.time().replace(tzinfo=None),
        capacity=str(occurrence.capacity),
        price=plain_amount(occurrence.price_minor, currency),
        credits=str(event.credit_price),
        location=occurrence.location,
    )


def edit_event(uow: UnitOfWork, actor: Actor, occurrence_id: int, draft: EventDraft) -> str:
    """Change the one dated event `occurrence_id` (its name and credits are its series'); what
    changed, in words."""
    require_admin(actor)
    occurrence, event = _found(uow, actor, occurrence_id)
    if occurrence.archived:
        raise DomainError(f"{event.name} is archived; it can't be changed.")
    workspace = ensure_workspace(uow, actor.team_id)
    once = EventDraft(**{**draft.__dict__, "repeat_days": (), "repeat_until": None})
    clean = clean_event(
        once, occurrence.timezone, workspace.currency, booked=_booked(uow, occurrence.id)
    )
    clash = uow.session.scalar(
        select(EventOccurrence.id).where(
            EventOccurrence.event_id == event.id,
            EventOccurrence.starts_at == clean.starts[0],
            EventOccurrence.id != occurrence.id,
        )
    )
    if clash is not None:
        raise ValidationFailed({"start": "Another date of this event starts then; choose another."})
    before = _describe(event, occurrence, workspace.currency)
    event.name, event.credit_price = clean.name, clean.credits
    occurrence.starts_at, occurrence.duration_minutes = clean.starts[0], clean.minutes
    occurrence.capacity, occurrence.price_minor = clean.capacity, clean.price_minor
    occurrence.location = clean.location
    after = _describe(event, occurrence, workspace.currency)
    if before == after:
        return ""
    audit_workspace(
        uow, actor.team_id, actor.user_id, EVENT_CHANGED, f"#{occurrence.id}: {before} → {after}"
    )
    return after


def _describe(event: Event, occurrence: EventOccurrence, currency: str) -> str:
    when = format_when(occurrence.starts_at, occurrence.timezone)
    where = f", at {occurrence.location}" if occurrence.location else ""
    price = format_money(occurrence.price_minor, currency)
    return (
        f"{event.name}, {when} for {occurrence.duration_minutes} min, "
        f"{occurrence.capacity} places, {price} or {event.credit_price} CR{where}"
    )


def archive_event(uow: UnitOfWork, actor: Actor, occurrence_id: int) -> str:
    """Archive dated event `occurrence_id`: its bookings stay, no new one is taken; its title."""
    require_admin(actor)
    occurrence, event = _found(uow, actor, occurrence_id)
    title = f"{event.name} on {format_when(occurrence.starts_at, occurrence.timezone)}"
    if occurrence.archived:
        return title
    occurrence.archived = True
    audit_workspace(uow, actor.team_id, actor.user_id, EVENT_ARCHIVED, f"#{occurrence.id}: {title}")
    return title


def upcoming_events(
    uow: UnitOfWork, actor: Actor, *, limit: int = UPCOMING_MAX
) -> tuple[list[UpcomingEvent], int]:
    """The first `limit` dated events still to come and not archived, soonest first; and how
    many there are in all."""
    booked = (
        select(func.count())
        .where(Booking.occurrence_id == EventOccurrence.id, Booking.state != BookingState.CANCELLED)
        .scalar_subquery()
    )
    where = (
        EventOccurrence.team_id == actor.team_id,
        EventOccurrence.archived.is_(False),
        EventOccurrence.cancelled.is_(False),
        EventOccurrence.starts_at > uow.now(),
    )
    rows = uow.session.execute(
        select(EventOccurrence, Event.name, Event.credit_price, booked, func.count().over())
        .join(Event, Event.id == EventOccurrence.event_id)
        .where(*where)
        .order_by(EventOccurrence.starts_at, EventOccurrence.id)
        .limit(limit)
    ).all()
    found = [
        UpcomingEvent(
            id=o.id,
            name=name,
            starts_at=o.starts_at,
            timezone=o.timezone,
            duration_minutes=o.duration_minutes,
            capacity=o.capacity,
            booked=taken,
            price_minor=o.price_minor,
            credit_price=credit_price,
            location=o.location,
        )
        for o, name, credit_price, taken, _ in rows
    ]
    # Counted over every matching row before the limit, in the same statement.
    total = rows[0][-1] if rows else 0
    return found, total
