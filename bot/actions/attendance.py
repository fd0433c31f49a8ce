"""Check-in's listeners: Attended / No-show / Undo on the Bookings tab, `open_checkin`, and the
same three buttons in a session's check-in modal."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Request
from bot.surfaces.attendance import mark_in_checkin, mark_in_details, open_checkin
from bot.surfaces.customer_details import DetailsControl
from bot.views.attendance import (
    CHECKIN_ACTIONS,
    DETAILS_ACTIONS,
    OPEN_CHECKIN_ACTION,
    mark_of,
)
from bot.views.payload import first_action
from core.models import Attendance


def _any_of(action_ids: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("^(" + "|".join(map(re.escape, action_ids)) + ")$")


def _mark(body: dict[str, Any]) -> Attendance | None:
    return mark_of(str(first_action(body).get("action_id") or ""))


def on_details_mark(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """Attended, No-show or Undo under a booking on a customer's Bookings tab."""
    ack()
    control = DetailsControl.of(body, context, client)
    if control is not None:
        mark_in_details(control, _mark(body))


def on_open(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """A session's Check in button: its check-in list."""
    ack()
    open_checkin(Request.of(context, client), body)


def on_checkin_mark(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """Attended, No-show or Undo beside a booking in the check-in modal."""
    ack()
    mark_in_checkin(Request.of(context, client), body, _mark(body))


def register(app: App) -> None:
    """Wire the Bookings tab's check-in buttons, Check in, and the modal's buttons."""
    app.action(_any_of(DETAILS_ACTIONS))(on_details_mark)
    app.action(OPEN_CHECKIN_ACTION)(on_open)
    app.action(_any_of(CHECKIN_ACTIONS))(on_checkin_mark)
