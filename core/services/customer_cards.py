"""What a customer's link shows: a card (name, status, next booking, pass credits left, last
note) and the fuller record staff see beside it. Read for the app itself, not for an acting
person: who may see it is decided at the edge, per conversation and per viewer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import func, select

from core.db import UnitOfWork
from core.models import Customer, CustomerStatus
from core.models.booking import Booking, BookingState
from core.models.catalog import Event, EventOccurrence, PassType
from core.models.note import Note
from core.models.passes import Pass, PassState

# The flexpane lists a few of each; the details view has the rest.
SHOWN = 3
NOTE_PREVIEW = 200
_LIVE_PASSES = (PassState.COMPLETED, PassState.MANUAL)


class Found(StrEnum):
    """What a link's UID names, as seen from one workspace."""

    CUSTOMER = "customer"
    # Deleted, anonymised or merged away: the link unfurls as "no longer available".
    GONE = "gone"
    # Another workspace's customer: its link never unfurls here.
    ELSEWHERE = "elsewhere"


@dataclass(frozen=True)
class Upcoming:
    """A booked, not cancelled, occurrence still ahead."""

    name: str
    starts_at: datetime


@dataclass(frozen=True)
class PassLine:
    """A usable pass: its type, credits left and last valid day."""

    name: str
    credits_remaining: int
    valid_to: date


@dataclass(frozen=True)
class NoteLine:
    """A note's date and the start of its text."""

    created_at: datetime
    text: str


@dataclass(frozen=True)
class CustomerCard:
    """Everything a customer's link may show, for staff eyes only."""

    uid: str
    full_name: str
    status: CustomerStatus
    email: str
    mobile: str
    upcoming: tuple[Upcoming, ...]
    passes: tuple[PassLine, ...]
    notes: tuple[NoteLine, ...]

    @property
    def next_booking(self) -> Upcoming | None:
        """The soonest upcoming booking."""
        return self.upcoming[0] if self.upcoming else None

    @property
    def credits_left(self) -> int:
        """Credits left on every usable pass."""
        return sum(line.credits_remaining for line in self.passes)

    @property
    def last_note_at(self) -> datetime | None:
        """When the newest note was written."""
        return self.notes[0].created_at if self.notes else None


def find_linked(uow: UnitOfWork, team_id: str, uid: str) -> Found:
    """Whether `uid` is a customer `team_id` can show, one it no longer can, or another's."""
    customer = uow.session.scalars(select(Customer).where(Customer.uid == uid)).first()
    if customer is None:
        return Found.GONE
    if customer.team_id != team_id:
        return Found.ELSEWHERE
    if customer.anonymised_at is not None or customer.merged_into_id is not None:
        return Found.GONE
    return Found.CUSTOMER


def customer_card(uow: UnitOfWork, team_id: str, uid: str) -> CustomerCard | None:
    """The card of `team_id`'s customer `uid`; None unless `find_linked` says CUSTOMER."""
    if find_linked(uow, team_id, uid) is not Found.CUSTOMER:
        return None
    customer = uow.session.scalars(
        select(Customer).where(Customer.team_id == team_id, Customer.uid == uid)
    ).one()
    now = uow.now()
    return CustomerCard(
        uid=customer.uid,
        full_name=customer.full_name,
        status=customer.status,
        email=customer.email,
        mobile=customer.mobile,
        upcoming=_upcoming(uow, customer, now),
        passes=_passes(uow, customer, now),
        notes=_notes(uow, customer),
    )


def _upcoming(uow: UnitOfWork, customer: Customer, now: datetime) -> tuple[Upcoming, ...]:
    rows = uow.session.execute(
        select(Event.name, EventOccurrence.starts_at)
        .select_from(Booking)
        .join(EventOccurrence, EventOccurrence.id == Booking.occurrence_id)
        .join(Event, Event.id == EventOccurrence.event_id)
        .where(
            Booking.customer_id == customer.id,
            Booking.state != BookingState.CANCELLED,
            EventOccurrence.starts_at >= now,
        )
        .order_by(EventOccurrence.starts_at, Booking.id)
        .limit(SHOWN)
    ).all()
    return tuple(Upcoming(name, starts_at) for name, starts_at in rows)


def _passes(uow: UnitOfWork, customer: Customer, now: datetime) -> tuple[PassLine, ...]:
    rows = uow.session.execute(
        select(PassType.name, Pass.credits_remaining, Pass.valid_to)
        .select_from(Pass)
        .join(PassType, PassType.id == Pass.pass_type_id)
        .where(
            Pass.customer_id == customer.id,
            Pass.state.in_(_LIVE_PASSES),
            Pass.credits_remaining > 0,
            Pass.valid_to >= now.date(),
        )
        .order_by(Pass.valid_to, Pass.id)
    ).all()
    return tuple(PassLine(name, credits, valid_to) for name, credits, valid_to in rows)


def _notes(uow: UnitOfWork, customer: Customer) -> tuple[NoteLine, ...]:
    rows = uow.session.execute(
        select(Note.created_at, func.substr(Note.content, 1, NOTE_PREVIEW))
        .where(Note.customer_id == customer.id)
        .order_by(Note.created_at.desc(), Note.id.desc())
        .limit(SHOWN)
    ).all()
    return tuple(NoteLine(created_at, str(text)) for created_at, text in rows)
