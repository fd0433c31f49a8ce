"""The catalog as a file describes it, and bringing a workspace's catalog in line with it by key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from core.db import UnitOfWork
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

# Weekly events get occurrences this far back and ahead of the time of syncing.
PAST_DAYS = 365
AHEAD_DAYS = 61


@dataclass(frozen=True)
class WeeklySlot:
    """A weekly start in the event's own time zone; `weekday` 0 is Monday."""

    weekday: int
    start: time


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


@dataclass(frozen=True)
class ServiceSpec:
    """An appointment service."""

    key: str
    name: str
    duration_minutes: int
    price_minor: int
    credit_price: int = 1


@dataclass(frozen=True)
class FacilitatorSpec:
    """A facilitator and the keys of the services they give."""

    key: str
    name: str
    services: tuple[str, ...]
    slack_user_id: str | None = None


@dataclass(frozen=True)
class PassTypeSpec:
    """A pass: `credits` uses, valid `validity_days` days from purchase."""

    key: str
    name: str
    credits: int
    validity_days: int
    price_minor: int


@dataclass(frozen=True)
class VideoSpec:
    """A video on demand; `credit_price` None: money only; `access_days` None: no expiry."""

    key: str
    title: str
    price_minor: int
    credit_price: int | None
    access_days: int | None


@dataclass(frozen=True)
class PlanSpec:
    """A subscription plan billed every `interval` ('week', 'month' or 'year')."""

    key: str
    name: str
    price_minor: int
    interval: str


@dataclass(frozen=True)
class QuestionnaireSpec:
    """A questionnaire template."""

    key: str
    name: str
    questions: tuple[str, ...]


@dataclass(frozen=True)
class CatalogSpec:
    """Everything that can be booked or assigned; prices in minor units of the workspace currency."""

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
        row = existing.get(key)
        if row is None:
            row = existing[key] = model(team_id=team_id, key=key, **columns)
            uow.session.add(row)
        else:
            for name, value in columns.items():
                setattr(row, name, value)
    uow.session.flush()
    return {key: row.id for key, row in existing.items()}


def weekly_starts(spec: EventSpec, first: date, last: date) -> Iterator[datetime]:
    """The UTC start of every session of `spec` on local days `first` to `last`, in order."""
    zone = ZoneInfo(spec.timezone)
    slots = sorted(spec.weekly, key=lambda slot: slot.start)
    day = first
    while day <= last:
        for slot in slots:
            if slot.weekday == day.weekday():
                # Wall-clock time in the event's zone, so a 07:00 class stays at 07:00 across DST.
                yield datetime.combine(day, slot.start, tzinfo=zone).astimezone(UTC)
        day += timedelta(days=1)


def _add_occurrences(
    uow: UnitOfWork, team_id: str, specs: tuple[EventSpec, ...], ids: dict[str, int]
) -> int:
    now = uow.now()
    known = {
        (event_id, starts_at)
        for event_id, starts_at in uow.session.execute(
            select(EventOccurrence.event_id, EventOccurrence.starts_at).where(
                EventOccurrence.team_id == team_id,
                EventOccurrence.starts_at >= now - timedelta(days=PAST_DAYS + 1),
            )
        )
    }
    rows: list[dict[str, Any]] = []
    for spec in specs:
        today = now.astimezone(ZoneInfo(spec.timezone)).date()
        first, last = today - timedelta(days=PAST_DAYS), today + timedelta(days=AHEAD_DAYS)
        event_id = ids[spec.key]
        rows.extend(
            {
                "team_id": team_id,
                "event_id": event_id,
                "starts_at": starts_at,
                "duration_minutes": spec.duration_minutes,
                "timezone": spec.timezone,
                "capacity": spec.capacity,
                "price_minor": spec.price_minor,
                "cancelled": False,
            }
            for starts_at in weekly_starts(spec, first, last)
            if (event_id, starts_at) not in known
        )
    if rows:
        uow.session.execute(insert(EventOccurrence), rows)
    return len(rows)


def sync_catalog(uow: UnitOfWork, team_id: str, catalog: CatalogSpec) -> CatalogIds:
    """Insert or update `catalog`'s rows in workspace `team_id` by key; safe to run again.

    Weekly events get their missing occurrences from a year ago to two months ahead.
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
            }
            for s in catalog.services
        },
    )
    ids.facilitators = _upsert(
        uow,
        team_id,
        Facilitator,
        {f.key: {"name": f.name, "slack_user_id": f.slack_user_id} for f in catalog.facilitators},
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
            }
            for v in catalog.videos
        },
    )
    ids.plans = _upsert(
        uow,
        team_id,
        SubscriptionPlan,
        {
            p.key: {"name": p.name, "price_minor": p.price_minor, "interval": p.interval}
            for p in catalog.plans
        },
    )
    ids.questionnaires = _upsert(
        uow,
        team_id,
        QuestionnaireTemplate,
        {q.key: {"name": q.name, "questions": list(q.questions)} for q in catalog.questionnaires},
    )
    _link_facilitators(uow, catalog, ids)
    ids.occurrences_added = _add_occurrences(uow, team_id, catalog.events, ids.events)
    return ids


def _link_facilitators(uow: UnitOfWork, catalog: CatalogSpec, ids: CatalogIds) -> None:
    """Add the facilitator–service pairs the catalog names and the database lacks."""
    wanted = {
        (ids.facilitators[f.key], ids.services[service])
        for f in catalog.facilitators
        for service in f.services
    }
    if not wanted:
        return
    table = facilitator_services
    have = {
        (facilitator_id, service_id)
        for facilitator_id, service_id in uow.session.execute(
            select(table.c.facilitator_id, table.c.service_id).where(
                table.c.facilitator_id.in_({facilitator for facilitator, _ in wanted})
            )
        )
    }
    missing = sorted(wanted - have)
    if missing:
        uow.session.execute(
            insert(table), [{"facilitator_id": f, "service_id": s} for f, s in missing]
        )
