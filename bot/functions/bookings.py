"""The *Book customer on event* workflow step: the session is named by its event's name, its
day and, when the event has several sessions that day, its time (docs/slack-setup.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from slack_bolt import App, BoltContext, Complete, Fail
from slack_sdk import WebClient

from bot.surfaces.workflow_steps import Outputs, Step
from core.errors import ValidationFailed
from core.formatting import format_when
from core.services.bookings import BookingRow, NamedSession, book_named

BOOK = "book_customer_on_event"


def named_session(step: Step) -> NamedSession:
    """The session the inputs name; ValidationFailed when the date or time can't be read."""
    try:
        day = date.fromisoformat(step.text("date"))
    except ValueError:
        raise ValidationFailed({"date": "Give the session's date, like 2026-03-14."}) from None
    at = None
    if step.text("time"):
        try:
            at = datetime.strptime(step.text("time"), "%H:%M").time()
        except ValueError:
            message = "Give the session's start time as 24-hour HH:MM, like 07:30."
            raise ValidationFailed({"time": message}) from None
    return NamedSession(step.text("event"), day, at)


def booked(booking: BookingRow) -> Outputs:
    """The booking's number and its session in words, for later steps."""
    when = format_when(booking.starts_at, booking.timezone)
    return {"booking_id": booking.id, "session": f"{booking.event_name} on {when}"}


def on_book_customer(
    context: BoltContext, client: WebClient, body: dict[str, Any], complete: Complete, fail: Fail
) -> None:
    """Book customer on event: paid manually (the default), free, or with the customer's pass."""
    step = Step.of(context, client, body, complete, fail)
    uid, payment = step.text("customer_id").upper(), step.text("payment")
    step.run(lambda uow, actor: book_named(uow, actor, uid, named_session(step), payment), booked)


def register(app: App) -> None:
    """Wire Book customer on event."""
    app.function(BOOK)(on_book_customer)
