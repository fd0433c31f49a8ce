"""The commerce controls of a customer's details: the tabs' Book/Assign buttons, row menus, confirmations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.actions import appointments, bookings, passes, subscriptions, videos
from bot.context.deps import Deps, actor_of, deps_of
from bot.surfaces.commerce import Opening
from bot.surfaces.customer_details import first_action, show_details
from bot.views.commerce.form_state import CommerceMeta
from bot.views.commerce.modals import CONFIRM_CALLBACK
from bot.views.notice import Notice
from bot.views.origin import Tab
from bot.views.payload import as_row_id, chosen_value
from bot.views.tabs import COMMERCE_ACTION, ROW_ACTION
from core.actor import Actor
from core.errors import DomainError

RowAction = Callable[[Opening, int], None]
Confirmed = Callable[[Deps, Actor, int, str], str]

BUTTONS: dict[str, Callable[[Opening], None]] = {
    "book_event": bookings.open_book_event,
    "book_appointment": appointments.open_book_appointment,
    "assign_pass": passes.open_assign_pass,
    "assign_video": videos.open_assign_video,
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


def register(app: App) -> None:
    """Wire the Book/Assign buttons, the rows' ⋯ menus and the confirmations they open."""

    @app.action(COMMERCE_ACTION)
    def on_button(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        opening = Opening.of(body, context, client)
        if opening is None:
            return
        opener = BUTTONS.get(str(first_action(body).get("value") or ""))
        if opener is None:
            opening.tell(UNKNOWN)
            return
        opener(opening)

    @app.action(ROW_ACTION)
    def on_row(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        opening = Opening.of(body, context, client)
        if opening is None:
            return
        decoded = decode_row_value(chosen_value(first_action(body)))
        if decoded is None:
            opening.tell(UNKNOWN)
            return
        action, row_id = decoded
        action(opening, row_id)

    @app.view(CONFIRM_CALLBACK)
    def on_confirm(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        meta = CommerceMeta.parse(view.get("private_metadata"))
        perform = CONFIRMED.get((meta.tab, meta.verb)) if meta and meta.tab else None
        # The confirmation closes at once; slow work (Stripe) happens after the answer.
        ack()
        if meta is None or meta.row_id is None or perform is None:
            return
        deps, actor = deps_of(context), actor_of(context)
        try:
            notice = Notice(perform(deps, actor, meta.row_id, meta.details.uid))
        except DomainError as exc:
            notice = Notice(exc.message, ok=False)
        show_details(client, deps, actor, meta.view_id, meta.details, notice=notice)
