"""The catalog as a file describes it, and bringing a workspace's catalog in line with it by key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select

from core.db import UnitOfWork
from core.formatting import format_date
from core.models import (
    AppointmentService,
    Event,
    EventOccurrence,
    Facilitator,
    PassType,
    QuestionnaireTemplate,
    SubscriptionPlan,
    Video,
    facilitator_services,
)
from core.services.questions import Question, stored

# Weekly events get occurrences this far back and ahead of the time of syncing.
PAST_DAYS = 365
AHEAD_DAYS = 61


@dataclass(frozen=True)
class WeeklySlot:
    """A weekly start in the event's own time zone; `weekday` 0 is Monday.

    Without `first`/`last` the slot rolls: each sync covers a year back to two months ahead."""

    weekday: int
    start: time
    first: date | None = None
    last: date | None = None


@dataclass(frozen=True)
class OccurrenceSpec:
    """One dated session at local wall-clock time `start`; None takes the event's value, or for
    `location` and `archived` leaves the stored session's as it is."""

    start: datetime
    capacity: int | None = None
    price_minor: int | None = None
    duration_minutes: int | None = None
    location: str | None = None
    archived: bool | None = None


@dataclass(frozen=True)
class EventSpec:
    """An event and its weekly timetable."""

    key: str
    name: str
    timezone: str
    price_minor: int
    capacity: int
    duration_minutes: int
    weekly: tuple[WeeklySlot, ...]
    credit_price: int = 1
    description: str = ""
    occurrences: tuple[OccurrenceSpec, ...] = ()


@dataclass(frozen=True)
class ServiceSpec:
    """An appointment service."""

    key: str
    name: str
    duration_minutes: int
    price_minor: int
    credit_price: int = 1
    archived: bool | None = None


@dataclass(frozen=True)
class FacilitatorSpec:
    """A facilitator and the keys of the services they give (none is allowed)."""

    key: str
    name: str
    services: tuple[str, ...]
    slack_user_id: str | None = None
    archived: bool | None = None


@dataclass(frozen=True)
class PassTypeSpec:
    """A pass: `credits` uses, valid `validity_days` days from purchase."""

    key: str
    name: str
    credits: int
    validity_days: int
    price_minor: int
    archived: bool | None = None


@dataclass(frozen=True)
class VideoSpec:
    """A video on demand; `credit_price` None: money only; `access_days` None: no expiry."""

    key: str
    title: str
    price_minor: int
    credit_price: int | None
    access_days: int | None
    archived: bool | None = None


@dataclass(frozen=True)
class PlanSpec:
    """A subscription plan billed every `interval` ('week', 'month' or 'year')."""

    key: str
    name: str
    price_minor: int
    interval: str
    stripe_price_id: str | None = None
    archived: bool | None = None


@dataclass(frozen=True)
class QuestionnaireSpec:
    """A questionnaire template; archived ones are kept but not offered to assign."""

    key: str
    name: str
    questions: tuple[Question, ...]
    archived: bool | None = None


@dataclass(frozen=True)
class CatalogSpec:
    """Everything that can be booked or assigned; prices in minor units of the workspace currency.

    An item marked `archived` stays on what already uses it and is offered for nothing new;
    `archived` None leaves a stored item's flag as it is."""

    events: tuple[EventSpec, ...] = ()
    services: tuple[ServiceSpec, ...] = ()
    facilitators: tuple[FacilitatorSpec, ...] = ()
    pass_types: tuple[PassTypeSpec, ...] = ()
    videos: tuple[VideoSpec, ...] = ()
    plans: tuple[PlanSpec, ...] = ()
    questionnaires: tuple[QuestionnaireSpec, ...] = ()


@dataclass
class CatalogIds:
    """Database ids of a workspace's catalog rows, by key."""

    events: dict[str, int] = field(default_factory=dict)
    services: dict[str, int] = field(default_factory=dict)
    facilitators: dict[str, int] = field(default_factory=dict)
    pass_types: dict[str, int] = field(default_factory=dict)
    videos: dict[str, int] = field(default_factory=dict)
    plans: dict[str, int] = field(default_factory=dict)
    questionnaires: dict[str, int] = field(default_factory=dict)
    occurrences_added: int = 0
    occurrences_updated: int = 0


CatalogRow = TypeVar(
    "CatalogRow",
    Event,
    AppointmentService,
    Facilitator,
    PassType,
    Video,
    SubscriptionPlan,
    QuestionnaireTemplate,
)


def _upsert(
    uow: UnitOfWork, team_id: str, model: type[CatalogRow], values: dict[str, dict[str, Any]]
) -> dict[str, int]:
    """Update the rows whose key is in `values` and insert the missing ones; ids by key."""
    existing = {
        row.key: row
        for row in uow.session.scalars(
            select(model).where(model.team_id == team_id, model.key.in_(list(values)))
        )
    }
    for key, columns in values.items():
        if columns.get("archived", False) is None:
            # Not named in the file: a new row starts current, a stored one keeps its flag.
            columns = {name: value for name, value in columns.items() if name != "archived"}
        row = existing.get(key)
        if row is None:
            row = existing[key] = model(team_id=team_id, key=key, **columns)
            uow.session.add(row)
        else:
            for name, value in columns.items():
                setattr(row, name, value)
    uow.session.flush()
    return {key: row.id for key, row in existing.items()}


class LocalTimeError(ValueError):
    """A wall-clock time that a time zone skips or repeats at a daylight-saving change."""


def local_to_utc(local: datetime, timezone: str) -> datetime:
    """The UTC instant of naive wall-clock `local` in `timezone`; LocalTimeError if none or two."""
    zone = ZoneInfo(timezone)
    early = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    late = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if early == late:
        return early
    when = f"{local:%H:%M} on {format_date(local.date())}"
    if early.astimezone(zone).replace(tzinfo=None) != local:
        raise LocalTimeError(
            f"{when} does not exist in {timezone}: the clocks go forward then. "
            "Choose a time outside the skipped hour."
        )
    raise LocalTimeError(
        f"{when} happens twice in {timezone}: the clocks go back then. "
        "Choose a time outside the repeated hour."
    )


def weekly_starts(spec: EventSpec, first: date, last: date) -> Iterator[datetime]:
    """The UTC start of every weekly session of `spec` on local days `first` to `last`, in order.

    A slot's own `first`/`last` narrow the range further."""
    zone = ZoneInfo(spec.timezone)
    slots = sorted(spec.weekly, key=lambda slot: slot.start)
    start = min((slot.first or first for slot in slots), default=first)
    end = max((slot.last or last for slot in slots), default=last)
    day = start
    while day <= end:
        for slot in slots:
            if slot.weekday == day.weekday() and (slot.first or first) <= day <= (
                slot.last or last
            ):
                # Wall-clock time in the event's zone, so a 07:00 class stays at 07:00 across DST.
                yield datetime.combine(day, slot.start, tzinfo=zone).astimezone(UTC)
        day += timedelta(days=1)


def _wanted_occurrences(spec: EventSpec, now: datetime) -> dict[datetime, dict[str, Any]]:
    """The event's sessions by UTC start, with the values each should have."""
    today = now.astimezone(ZoneInfo(spec.timezone)).date()
    first, last = today - timedelta(days=PAST_DAYS), today + timedelta(days=AHEAD_DAYS)

    def values(one: OccurrenceSpec | None = None) -> dict[str, Any]:
        found = {
            "capacity": spec.capacity,
            "price_minor": spec.price_minor,
            "duration_minutes": spec.duration_minutes,
            "timezone": spec.timezone,
        }
        if one is not None:
            given = {
                "capacity": one.capacity,
                "price_minor": one.price_minor,
                "duration_minutes": one.duration_minutes,
                "location": one.location,
                "archived": one.archived,
            }
            found.update({name: value for name, value in given.items() if value is not None})
        return found

    wanted = {starts_at: values() for starts_at in weekly_starts(spec, first, last)}
    for one in spec.occurrences:
        # An explicit session overrides a weekly one at the same time.
        wanted[local_to_utc(one.start, spec.timezone)] = values(one)
    return wanted


def _sync_occurrences(
    uow: UnitOfWork, team_id: str, specs: tuple[EventSpec, ...], ids: dict[str, int]
) -> tuple[int, int]:
    """Insert missing sessions and bring future ones in line with the catalog; (added, updated).

    Past sessions are history and stay as they were; cancelled ones stay cancelled."""
    now = uow.now()
    existing = {
        (row.event_id, row.starts_at): row
        for row in uow.session.scalars(
            select(EventOccurrence).where(
                EventOccurrence.team_id == team_id,
                EventOccurrence.event_id.in_([ids[spec.key] for spec in specs]),
            )
        )
    }
    rows: list[dict[str, Any]] = []
    updated = 0
    for spec in specs:
        event_id = ids[spec.key]
        for starts_at, values in _wanted_occurrences(spec, now).items():
            row = existing.get((event_id, starts_at))
            if row is None:
                rows.append(
                    {
                        "team_id": team_id,
                        "event_id": event_id,
                        "starts_at": starts_at,
                        "cancelled": False,
                        **values,
                    }
                )
            elif starts_at > now and any(getattr(row, k) != v for k, v in values.items()):
                for name, value in values.items():
                    setattr(row, name, value)
                updated += 1
    if rows:
        uow.session.execute(insert(EventOccurrence), rows)
    uow.session.flush()
    return len(rows), updated


def sync_catalog(uow: UnitOfWork, team_id: str, catalog: CatalogSpec) -> CatalogIds:
    """Insert or update `catalog`'s rows in workspace `team_id` by key; safe to run again.

    Sessions are matched by (event, start): missing ones are added, future ones updated. Rolling
    weekly slots cover a year ago to two months ahead. Nothing absent from `catalog` is removed.
    """
    ids = CatalogIds()
    ids.events = _upsert(
        uow,
        team_id,
        Event,
        {
            e.key: {
                "name": e.name,
                "description": e.description,
                "timezone": e.timezone,
                "price_minor": e.price_minor,
                "credit_price": e.credit_price,
                "capacity": e.capacity,
            }
            for e in catalog.events
        },
    )
    ids.services = _upsert(
        uow,
        team_id,
        AppointmentService,
        {
            s.key: {
                "name": s.name,
                "duration_minutes": s.duration_minutes,
                "price_minor": s.price_minor,
                "credit_price": s.credit_price,
                "archived": s.archived,
            }
            for s in catalog.services
        },
    )
    ids.facilitators = _upsert(
        uow,
        team_id,
        Facilitator,
        {
            f.key: {"name": f.name, "slack_user_id": f.slack_user_id, "archived": f.archived}
            for f in catalog.facilitators
        },
    )
    ids.pass_types = _upsert(
        uow,
        team_id,
        PassType,
        {
            p.key: {
                "name": p.name,
                "credits": p.credits,
                "validity_days": p.validity_days,
                "price_minor": p.price_minor,
                "archived": p.archived,
            }
            for p in catalog.pass_types
        },
    )
    ids.videos = _upsert(
        uow,
        team_id,
        Video,
        {
            v.key: {
                "title": v.title,
                "price_minor": v.price_minor,
                "credit_price": v.credit_price,
                "access_days": v.access_days,
                "archived": v.archived,
            }
            for v in catalog.videos
        },
    )
    ids.plans = _upsert(
        uow,
        team_id,
        SubscriptionPlan,
        {
            p.key: {
                "name": p.name,
                "price_minor": p.price_minor,
                "interval": p.interval,
                "stripe_price_id": p.stripe_price_id,
                "archived": p.archived,
            }
            for p in catalog.plans
        },
    )
    ids.questionnaires = _upsert(
        uow,
        team_id,
        QuestionnaireTemplate,
        {
            q.key: {
                "name": q.name,
                "questions": [stored(question) for question in q.questions],
                "archived": q.archived,
            }
            for q in catalog.questionnaires
        },
    )
    _link_facilitators(uow, catalog, ids)
    ids.occurrences_added, ids.occurrences_updated = _sync_occurrences(
        uow, team_id, catalog.events, ids.events
    )
    return ids


def _link_facilitators(uow: UnitOfWork, catalog: CatalogSpec, ids: CatalogIds) -> None:
    """Make the services of each facilitator in the catalog exactly the ones it names."""
    listed = [ids.facilitators[f.key] for f in catalog.facilitators]
    if not listed:
        return
    wanted = {
        (ids.facilitators[f.key], ids.services[service])
        for f in catalog.facilitators
        for service in f.services
    }
    table = facilitator_services
    have = {
        (facilitator_id, service_id)
        for facilitator_id, service_id in uow.session.execute(
            select(table.c.facilitator_id, table.c.service_id).where(
                table.c.facilitator_id.in_(listed)
            )
        )
    }
    missing = sorted(wanted - have)
    if missing:
        uow.session.execute(
            insert(table), [{"facilitator_id": f, "service_id": s} for f, s in missing]
        )
    # Existing appointments keep their facilitator; only new bookings follow the new list.
    for facilitator_id, service_id in sorted(have - wanted):
        uow.session.execute(
            delete(table).where(
                table.c.facilitator_id == facilitator_id, table.c.service_id == service_id
            )
        )
