"""Check-in on screen: Attended / No-show / Undo pressed on a customer's Bookings tab or in a
session's check-in modal, recorded through core and answered in the view it was pressed in."""

from __future__ import annotations

from typing import Any

from bot.context.request import Request
from bot.surfaces.customer_details import DetailsControl
from bot.surfaces.redraws import Shown, redraw
from bot.views.attendance import (
    CheckInMeta,
    checkin_gone,
    checkin_modal,
    read_row_value,
)
from bot.views.notice import Notice
from bot.views.payload import as_row_id, first_action, read_metadata
from core.actor import Actor
from core.db import UnitOfWork
from core.errors import Conflict, DomainError
from core.formatting import format_when
from core.models import Attendance
from core.services.attendance import Recorded, check_in_list, record_attendance

UNKNOWN = "That check-in button isn't available here; reopen the list and try again."
GONE = "That session no longer exists; it may have been deleted."


def _problem(exc: DomainError, timezone: str) -> str:
    """The refusal, with who recorded the change that won and when, if it says."""
    if isinstance(exc, Conflict) and exc.changed_by and exc.changed_at:
        when = format_when(exc.changed_at, timezone)
        return f"{exc.message} (<@{exc.changed_by}> recorded it {when}.)"
    return exc.message


def _record(request: Request, value: str, mark: Attendance | None, uid: str | None) -> Notice:
    """Record `mark` for the row a button's `value` names; what to tell staff."""
    decoded = read_row_value(value)
    if decoded is None:
        return Notice(UNKNOWN, ok=False)
    kind, row_id, version = decoded

    def record(uow: UnitOfWork, actor: Actor) -> Recorded:
        return record_attendance(uow, actor, kind, row_id, mark, expected_version=version, uid=uid)

    try:
        return Notice(request.write(record).message)
    except DomainError as exc:
        return Notice(_problem(exc, request.timezone), ok=False)


def mark_in_details(control: DetailsControl, mark: Attendance | None) -> None:
    """A booking's check-in button on the Bookings tab: record it, redraw the details."""
    notice = _record(control.request, control.value, mark, control.details.uid)
    control.show(notice=notice)


def _checkin_view(
    request: Request, occurrence_id: int | None, notice: Notice | None = None
) -> dict[str, Any]:
    if occurrence_id is None:
        return checkin_gone(GONE)
    try:
        listing = request.read(lambda uow, actor: check_in_list(uow, actor, occurrence_id))
    except DomainError as exc:
        return checkin_gone(exc.message)
    return checkin_modal(listing, timezone=request.timezone, notice=notice)


def open_checkin(request: Request, body: dict[str, Any]) -> None:
    """`open_checkin` pressed: the session's check-in list, over the modal it was pressed in
    or on its own from Home or a message."""
    value = first_action(body).get("value")
    view = _checkin_view(request, as_row_id(value))
    trigger_id = str(body.get("trigger_id") or "")
    if (body.get("view") or {}).get("type") == "modal":
        request.client.views_push(trigger_id=trigger_id, view=view)
    else:
        request.client.views_open(trigger_id=trigger_id, view=view)


def mark_in_checkin(request: Request, body: dict[str, Any], mark: Attendance | None) -> None:
    """A check-in button in the modal: record it, redraw the list in place from the marks as
    they are in its turn."""
    view = body.get("view") or {}
    meta = read_metadata(CheckInMeta, view.get("private_metadata"))
    shown = Shown.of(body).changed()
    if meta is None or not shown.view_id:
        return
    value = first_action(body).get("value")
    notice = _record(request, value if isinstance(value, str) else "", mark, None)
    occurrence_id = meta.occurrence_id
    redraw(request, shown, lambda: _checkin_view(request, occurrence_id, notice), "check-in update")
