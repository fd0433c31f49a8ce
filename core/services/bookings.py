"""A customer's event bookings (the Bookings tab)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from core.actor import Actor
from core.db import UnitOfWork
from core.models import Booking, BookingState, Event, EventOccurrence, PaymentMethod, RefundState
from core.services.paging import Page, fetch_page
from core.services.tabs import NamedCatalog, tab_scope

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


def list_bookings(
    uow: UnitOfWork, actor: Actor, uid: str, *, query: str = "", page: int = 1, page_size: int = 10
) -> Page[BookingRow]:
    """One page of customer `uid`'s bookings, newest first; `query` is an event name or '#id'."""
    scope = tab_scope(uow, actor, uid, query, [_EVENTS])
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
        .order_by(Booking.booked_at.desc(), Booking.id.desc())
    )
    rows, total, page, page_size = fetch_page(uow, statement, page=page, page_size=page_size)
    return Page(
        [
            BookingRow(
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
            )
            for b, event_name, starts_at, timezone, duration in rows
        ],
        total,
        page,
        page_size,
    )
