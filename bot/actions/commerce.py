"""The commerce controls of a customer's details: the tabs' Book/Assign buttons, row menus, confirmations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Request, Submission
from bot.surfaces import appointments, bookings, passes, subscriptions, videos
from bot.surfaces.commerce import Opening, Render
from bot.surfaces.customer_details import show_details
from bot.views.commerce.form_state import CommerceMeta
from bot.views.commerce.modals import CONFIRM_CALLBACK
from bot.views.notice import Notice
from bot.views.origin import Tab
from bot.views.payload import as_row_id, chosen_value
from bot.views.tabs import COMMERCE_ACTION, ROW_ACTION
from core.errors import DomainError

RowAction = Callable[[Opening, int], None]
Confirmed = Callable[[Request, int, str], str]

# Each tab's Book/Assign button: what it is doing (for "… archived; activate them before …"),
# and the form it opens.
BUTTONS: dict[str, tuple[str, Render]] = {
    "book_event": ("booking", bookings.book_form),
    "book_appointment": ("booking an appointment", appointments.book_form),
    "assign_pass": ("assigning a pass", passes.assign_form),
    "assign_video": ("assigning a video", videos.assign_form),
    "start_subscription": ("starting a subscription", subscriptions.start_form),
}
ROW_ACTIONS: dict[tuple[Tab, str], RowAction] = {
    **bookings.ROW_ACTIONS,
    **appointments.ROW_ACTIONS,
    **passes.ROW_ACTIONS,
    **videos.ROW_ACTIONS,
    **subscriptions.ROW_ACTIONS,
}
CONFIRMED: dict[tuple[Tab, str], Confirmed] = {
    **bookings.CONFIRMED,
    **appointments.CONFIRMED,
    **passes.CONFIRMED,
    **videos.CONFIRMED,
    **subscriptions.CONFIRMED,
}
UNKNOWN = "That action isn't available here; reopen the customer and try again."


def decode_row_value(value: str) -> tuple[RowAction, int] | None:
    """The action and row id behind a row menu value 'tab|verb|id', or None if not ours."""
    tab, verb, row = [*value.split("|"), "", ""][:3]
    row_id = as_row_id(row)
    if tab not in set(Tab) or row_id is None:
        return None
    action = ROW_ACTIONS.get((Tab(tab), verb))
    return (action, row_id) if action is not None else None


def on_button(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Book an Event, Book Appointment, Assign Pass, Assign Video or Start subscription: open
    its form."""
    ack()
    opening = Opening.of(body, context, client)
    if opening is None:
        return
    button = BUTTONS.get(opening.value)
    if button is None:
        opening.tell(UNKNOWN)
        return
    opening.open_form(*button)


def on_row(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """A row's ⋯ menu: open the chosen action's form or confirmation."""
    ack()
    opening = Opening.of(body, context, client)
    if opening is None:
        return
    decoded = decode_row_value(chosen_value(opening.action))
    if decoded is None:
        opening.tell(UNKNOWN)
        return
    action, row_id = decoded
    action(opening, row_id)


def on_confirm(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """A confirmation's Yes: do it, then show the details with what happened."""
    form = Submission.of(CommerceMeta, view, context, client)
    meta = form.meta if form else None
    perform = CONFIRMED.get((meta.tab, meta.verb)) if meta and meta.tab else None
    # The confirmation closes at once; slow work (Stripe) happens after the answer.
    ack()
    if form is None or meta is None or meta.row_id is None or perform is None:
        return
    try:
        notice = Notice(perform(form.request, meta.row_id, meta.details.uid))
    except DomainError as exc:
        notice = Notice(exc.message, ok=False)
    show_details(form.request, meta.view_id, meta.details, notice=notice)


def register(app: App) -> None:
    """Wire the Book/Assign buttons, the rows' ⋯ menus and the confirmations they open."""
    app.action(COMMERCE_ACTION)(on_button)
    app.action(ROW_ACTION)(on_row)
    app.view(CONFIRM_CALLBACK)(on_confirm)
