"""The App Home's Today page: the day's events and appointments, then who needs someone.

At most 95 blocks whatever the day holds (the Home tab takes 100): the service caps each list
and says how many more there are, which the page says too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date

from bot.views.blocks import Block, button, clip, context, divider, escape, header, section
from bot.views.home import home_metadata, home_switch
from bot.views.hub import HubState
from bot.views.notice import Notice, notice_block
from core.formatting import LOCALE, counted, format_date
from core.services.today import (
    EXPIRY_DAYS,
    NO_SHOW_DAYS,
    NO_SHOWS,
    BirthdayAlert,
    Listed,
    PassAlert,
    PaymentAlert,
    Today,
    TodayAppointment,
    TodayEvent,
)

CALLBACK_ID = "today.view"
CHECKIN_ACTION = "open_checkin"
OPEN_CUSTOMER_ACTION = "today.open_customer"
NAME_MAX = 80

T = TypeVar("T")


class _Alert(Protocol):
    @property
    def customer_uid(self) -> str: ...

    @property
    def customer_name(self) -> str: ...


A = TypeVar("A", bound=_Alert)


def _clock(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%H:%M")


def _span(starts_at: datetime, minutes: int, timezone: str) -> str:
    ends_at = starts_at + timedelta(minutes=minutes)
    return f"{_clock(starts_at, timezone)}–{_clock(ends_at, timezone)}"


def _event(event: TodayEvent, timezone: str) -> Block:
    when = _span(event.starts_at, event.duration_minutes, timezone)
    where = f"  ·  {escape(clip(event.location, NAME_MAX))}" if event.location else ""
    title = f"*{when}  {escape(clip(event.name, NAME_MAX))}*{where}"
    if event.cancelled:
        return section(f"~{title}~\nCancelled", block_id=f"today_event_{event.occurrence_id}")
    full = "  ·  full" if event.booked >= event.capacity else ""
    checked = f"  ·  {event.checked_in} checked in" if event.checked_in else ""
    return section(
        f"{title}\n{event.booked} / {event.capacity} booked{full}{checked}",
        accessory=button("Check in", CHECKIN_ACTION, value=str(event.occurrence_id)),
        block_id=f"today_event_{event.occurrence_id}",
    )


def _appointment(appointment: TodayAppointment, timezone: str) -> Block:
    when = _span(appointment.starts_at, appointment.duration_minutes, timezone)
    service = escape(clip(appointment.service, NAME_MAX))
    with_whom = escape(clip(appointment.facilitator, NAME_MAX))
    return section(
        f"*{when}  {service}* with {with_whom}\n{escape(appointment.customer_name)}",
        accessory=_open(appointment.customer_uid, appointment.customer_name),
        block_id=f"today_appointment_{appointment.id}",
    )


def _open(uid: str, name: str) -> dict[str, Any]:
    return button(clip(name, 40), OPEN_CUSTOMER_ACTION, value=uid)


def _weekday(day: date) -> str:
    return babel_format_date(day, "EEE d MMM", locale=LOCALE)


def _pass_line(alert: PassAlert, day: date) -> str:
    left = counted(alert.credits_remaining, "credit", "credits")
    ends = "ends today" if alert.valid_to == day else f"ends {_weekday(alert.valid_to)}"
    last = "last credit" if alert.credits_remaining == 1 else f"{left} left"
    return f"{escape(clip(alert.pass_name, NAME_MAX))}: {last}, {ends}"


def _payment_line(alert: PaymentAlert, timezone: str) -> str:
    plan = escape(clip(alert.plan_name, NAME_MAX))
    if alert.next_payment_at is None:
        return f"{plan}: payment failed, no retry scheduled"
    retry = alert.next_payment_at.astimezone(ZoneInfo(timezone)).date()
    return f"{plan}: payment failed, past due; next attempt {_weekday(retry)}"


def _birthday_line(alert: BirthdayAlert, day: date) -> str:
    born = alert.date_of_birth
    if (born.month, born.day) != (day.month, day.day):
        return f"Birthday (29 Feb, marked on 28 Feb this year): turns {day.year - born.year}"
    return f"Birthday: turns {day.year - born.year}"


def _alert_rows(
    kind: str, heading: str, listed: Listed[A], line: Callable[[A], str]
) -> list[Block]:
    if not listed.rows:
        return []
    blocks: list[Block] = [context(heading)]
    for n, alert in enumerate(listed.rows):
        name = alert.customer_name
        text = f"*{escape(name)}*  ·  {line(alert)}"
        opens = _open(alert.customer_uid, name)
        blocks.append(section(text, accessory=opens, block_id=f"today_{kind}_{n}"))
    if listed.more:
        blocks.append(context(f"…and {counted(listed.more, 'more', 'more')}."))
    return blocks


def _alerts(data: Today) -> list[Block]:
    day, zone = data.day, data.timezone
    found = [
        *_alert_rows(
            "pass",
            f":hourglass: Passes ending within {EXPIRY_DAYS} days or on their last credit",
            data.passes,
            lambda a: _pass_line(a, day),
        ),
        *_alert_rows(
            "payment",
            ":warning: Failed or past-due subscription payments",
            data.payments,
            lambda a: _payment_line(a, zone),
        ),
        *_alert_rows(
            "no_show",
            f":no_entry_sign: {NO_SHOWS} or more no-shows in {NO_SHOW_DAYS} days",
            data.no_shows,
            lambda a: f"{a.no_shows} no-shows",
        ),
        *_alert_rows(
            "birthday",
            ":birthday: Birthdays today",
            data.birthdays,
            lambda a: _birthday_line(a, day),
        ),
    ]
    return found or [context("Nothing needs anyone today.")]


def _listing(
    title: str, listed: Listed[T], row: Callable[[T], Block], empty: str, more: tuple[str, str]
) -> list[Block]:
    blocks: list[Block] = [header(title)]
    blocks.extend(row(item) for item in listed.rows)
    if not listed.rows:
        blocks.append(context(empty))
    elif listed.more:
        blocks.append(context(f"…and {counted(listed.more, *more)} later today."))
    return blocks


def today_blocks(data: Today) -> list[Block]:
    """Today's page below the switch: the schedule, then the alerts."""
    zone = data.timezone
    blocks: list[Block] = [
        header(f"Today, {babel_format_date(data.day, 'EEEE d MMMM', locale=LOCALE)}"),
        context(f"{format_date(data.day)} in {escape(zone)}."),
    ]
    blocks += _listing(
        "Events",
        data.events,
        lambda e: _event(e, zone),
        "No events today.",
        ("more event", "more events"),
    )
    blocks += _listing(
        "Appointments",
        data.appointments,
        lambda a: _appointment(a, zone),
        "No appointments today.",
        ("more appointment", "more appointments"),
    )
    return [*blocks, divider(), header("Needs attention"), *_alerts(data)]


def today_home(data: Today, hub: HubState, notice: Notice | None = None) -> dict[str, Any]:
    """The Home tab on Today, with `notice` under the switch; `hub` is the Customers page to go
    back to."""
    top = [home_switch("today"), *([notice_block(notice)] if notice is not None else [])]
    return {
        "type": "home",
        "callback_id": CALLBACK_ID,
        "private_metadata": home_metadata("today", hub.model_dump(mode="json")),
        "blocks": [*top, *today_blocks(data)],
    }
