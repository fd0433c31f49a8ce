"""The catalog's items: Home's button per kind, the Add button and menus in a kind's list, and
saving the item modal."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Request, Submission
from bot.surfaces.catalog_items import ItemsControl, add_pressed, item_menu, open_items, save_item
from bot.views.catalog_items import (
    ADD_ACTION,
    CALLBACK_ID,
    MENU_ACTION,
    OPEN_ACTION_PREFIX,
    ItemMeta,
    item_message,
)
from bot.views.payload import first_action


def on_open(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """A kind's button pressed on Home: the list of its items."""
    ack()
    value = first_action(body).get("value")
    trigger = str(body.get("trigger_id") or "")
    open_items(Request.of(context, client), trigger, value if isinstance(value, str) else "")


def on_add(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Add pressed in a kind's list."""
    ack()
    control = ItemsControl.of(body, context, client)
    if control is not None:
        add_pressed(control)


def on_menu(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Edit, Archive or Restore chosen in an item's menu."""
    ack()
    control = ItemsControl.of(body, context, client)
    if control is not None:
        item_menu(control)


def on_submit(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Add or Save pressed in the item modal."""
    form = Submission.or_stale(ItemMeta, view, context, client, ack, item_message)
    if form is None:
        return
    save_item(ack, form)


def register(app: App) -> None:
    """Wire Home's buttons per kind, the lists' Add buttons and menus, and the modal's submission."""
    app.action(re.compile(rf"^{re.escape(OPEN_ACTION_PREFIX)}[a-z_]+$"))(on_open)
    app.action(ADD_ACTION)(on_add)
    app.action(MENU_ACTION)(on_menu)
    app.view(CALLBACK_ID)(on_submit)
