"""The catalog's events: Home's Add event button, each event's menu, and saving the event modal."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Submission
from bot.surfaces.catalog import event_menu, open_add_event, save_event
from bot.surfaces.hub import HubControl
from bot.views.catalog import (
    ADD_ACTION,
    CALLBACK_ID,
    MENU_ACTION,
    CatalogEventMeta,
    event_message,
)


def on_add(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Add event pressed on Home: the modal (admins), or why not."""
    ack()
    open_add_event(HubControl.of(body, context, client))


def on_menu(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Edit or Archive chosen in an event's menu on Home."""
    ack()
    event_menu(HubControl.of(body, context, client))


def on_submit(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Add or Save pressed in the event modal."""
    form = Submission.or_stale(CatalogEventMeta, view, context, client, ack, event_message)
    if form is None:
        return
    save_event(ack, form)


def register(app: App) -> None:
    """Wire the Add event button, the events' menus and the modal's submission."""
    app.action(ADD_ACTION)(on_add)
    app.action(MENU_ACTION)(on_menu)
    app.view(CALLBACK_ID)(on_submit)
