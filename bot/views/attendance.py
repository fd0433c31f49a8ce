"""Check-in: Attended / No-show / Undo under a booking or an appointment on its tab, a session's
check-in modal, and a customer's attendance counts on the details view."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from bot.views.blocks import (
    Block,
    actions,
    button,
    clip,
    context,
    divider,
    escape,
    header,
    modal,
    section,
)
from bot.views.notice import Notice, notice_block
from bot.views.payload import as_row_id
from core.formatting import format_price, format_when
from core.models import AppointmentState, Attendance, BookingState, PaymentMethod
from core.services.appointments import AppointmentRow
from core.services.attendance import (
    AttendanceKind,
    CheckInList,
    CheckInRow,
    check_in_opens,
)
from core.services.bookings import BookingRow

# The buttons under a booking or an appointment on its tab (value `booking|<id>|<version>` or
# `appointment|<id>|<version>`).
ATTENDED_ACTION = "attendance.attended"
NO_SHOW_ACTION = "attendance.no_show"
UNDO_ACTION = "attendance.undo"
DETAILS_ACTIONS = (ATTENDED_ACTION, NO_SHOW_ACTION, UNDO_ACTION)
# Opens a session's check-in list (value: the occurrence id), wherever the button is.
OPEN_CHECKIN_ACTION = "open_checkin"
CHECKIN_CALLBACK = "checkin.view"
# The check-in modal's buttons beside each booking (value as on the Bookings tab).
CHECKIN_ATTENDED = "checkin.attended"
CHECKIN_NO_SHOW = "checkin.no_show"
CHECKIN_UNDO = "checkin.undo"
CHECKIN_ACTIONS = (CHECKIN_ATTENDED, CHECKIN_NO_SHOW, CHECKIN_UNDO)
# Two blocks a booking, under Slack's 100 per view with the modal's own.
CHECKIN_ROWS_MAX = 45
Verb = Literal["attended", "no_show", "undo"]
MARKS: dict[Verb, Attendance | None] = {
    "attended": Attendance.ATTENDED,
    "no_show": Attendance.NO_SHOW,
    "undo": None,
}
_LABELS: dict[Verb, str] = {"attended": "Attended", "no_show": "No-show", "undo": "Undo"}
_KINDS: tuple[AttendanceKind, ...] = ("booking", "appointment")


class CheckInMeta(BaseModel):
    """private_metadata of the check-in modal: which session it lists."""

    occurrence_id: int


def mark_of(action_id: str) -> Attendance | None:
    """What a check-in button records, by its action id's last part: Undo (or none) → None."""
    verb = action_id.rpartition(".")[2]
    return next((mark for known, mark in MARKS.items() if known == verb), None)


def row_value(kind: AttendanceKind, row_id: int, version: int) -> str:
    """A check-in button's value: 'booking|12|3'."""
    return f"{kind}|{row_id}|{version}"


def read_row_value(value: str) -> tuple[AttendanceKind, int, int] | None:
    """('booking', 12, 3) from 'booking|12|3'; None for anything else."""
    kind, row, version = [*value.split("|"), "", ""][:3]
    row_id, seen = as_row_id(row), as_row_id(version)
    if row_id is None or seen is None or value.count("|") != 2:
        return None
    for known in _KINDS:
        if kind == known:
            return known, row_id, seen
    return None


def attendance_text(
    attendance: Attendance | None, by: str | None, at: datetime | None, timezone: str
) -> str:
    """':white_check_mark: Attended · <@U1> · 16 Mar 2026, 07:02 GMT', or 'Not checked in'."""
    if attendance is None or at is None:
        return ":white_circle: Not checked in"
    icon, label = (
        (":white_check_mark:", "Attended")
        if attendance is Attendance.ATTENDED
        else (":x:", "No-show")
    )
    who = f"<@{escape(by)}>" if by else "someone"
    return f"{icon} {label} · recorded by {who} · {format_when(at, timezone)}"


def _buttons(
    actions_of: dict[Verb, str], value: str, attendance: Attendance | None
) -> list[dict[str, Any]]:
    verbs: list[Verb] = [v for v in ("attended", "no_show") if MARKS[v] is not attendance]
    if attendance is not None:
        verbs.append("undo")
    return [
        button(
            _LABELS[verb],
            actions_of[verb],
            value=value,
            style="primary" if verb == "attended" else None,
        )
        for verb in verbs
    ]


_DETAILS: dict[Verb, str] = {
    "attended": ATTENDED_ACTION,
    "no_show": NO_SHOW_ACTION,
    "undo": UNDO_ACTION,
}
_CHECKIN: dict[Verb, str] = {
    "attended": CHECKIN_ATTENDED,
    "no_show": CHECKIN_NO_SHOW,
    "undo": CHECKIN_UNDO,
}


def booking_check_in(row: BookingRow, timezone: str) -> list[Block]:
    """Under a booking of a session whose day has come: what was recorded, and the buttons."""
    if not row.check_in_open or row.state is BookingState.CANCELLED:
        return []
    value = row_value("booking", row.id, row.version)
    return [
        context(attendance_text(row.attendance, row.attendance_by, row.attendance_at, timezone)),
        actions(
            _buttons(_DETAILS, value, row.attendance),
            block_id=f"attendance_{row.id}",
        ),
    ]


def appointment_check_in(row: AppointmentRow, timezone: str, now: datetime) -> list[Block]:
    """Under an appointment whose day has come (in the studio's time zone), as for bookings."""
    if row.state is AppointmentState.CANCELLED or now < check_in_opens(row.starts_at, timezone):
        return []
    value = row_value("appointment", row.id, row.version)
    return [
        context(attendance_text(row.attendance, row.attendance_by, row.attendance_at, timezone)),
        actions(_buttons(_DETAILS, value, row.attendance), block_id=f"attendance_{row.id}"),
    ]


def _paid(row: CheckInRow) -> str:
    if row.payment_method is PaymentMethod.PACKAGE:
        return f"pass ({format_price(None, row.credits, row.currency)})"
    if row.payment_method is PaymentMethod.UNPAID:
        return "unpaid"
    return "paid" if row.price_minor else "free"


def _checkin_row(row: CheckInRow, timezone: str, open_now: bool) -> list[Block]:
    text = (
        f"*{escape(clip(row.name, 200))}* · {_paid(row)} · booking #{row.booking_id}\n"
        f"{attendance_text(row.attendance, row.attendance_by, row.attendance_at, timezone)}"
    )
    blocks: list[Block] = [section(text, block_id=f"checkin_row_{row.booking_id}")]
    if open_now:
        value = row_value("booking", row.booking_id, row.version)
        buttons = _buttons(_CHECKIN, value, row.attendance)
        blocks.append(actions(buttons, block_id=f"checkin_{row.booking_id}"))
    return blocks


def checkin_modal(
    listing: CheckInList, *, timezone: str, notice: Notice | None = None
) -> dict[str, Any]:
    """One session's bookings, each with Attended / No-show / Undo once its day has come."""
    when = format_when(listing.starts_at, listing.timezone)
    marked = sum(1 for r in listing.rows if r.attendance is not None)
    blocks: list[Block] = [
        header(clip(listing.event_name, 150)),
        context(
            f":calendar: {when} · {len(listing.rows):,} of {listing.capacity:,} booked · "
            f"{marked:,} checked in"
        ),
    ]
    if notice is not None:
        blocks.append(notice_block(notice))
    if listing.cancelled:
        blocks.append(section("This session is cancelled; its bookings can't be checked in."))
    elif not listing.open:
        blocks.append(section("Check-in opens on the session's day."))
    if not listing.rows:
        blocks.append(section("Nobody is booked on this session."))
    blocks.append(divider())
    open_now = listing.open and not listing.cancelled
    for row in listing.rows[:CHECKIN_ROWS_MAX]:
        blocks.extend(_checkin_row(row, timezone, open_now))
    if len(listing.rows) > CHECKIN_ROWS_MAX:
        blocks.append(
            context(
                f"Showing {CHECKIN_ROWS_MAX} of {len(listing.rows):,} bookings; check in the "
                "others from each customer's Bookings tab."
            )
        )
    return modal(
        "Check-in",
        blocks,
        callback_id=CHECKIN_CALLBACK,
        private_metadata=CheckInMeta(occurrence_id=listing.occurrence_id).model_dump_json(),
    )


def checkin_gone(message: str) -> dict[str, Any]:
    """The check-in modal's place when the session can't be shown."""
    return modal("Check-in", [section(message)], callback_id=CHECKIN_CALLBACK)
