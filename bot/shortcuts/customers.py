"""Find customer and New customer (global shortcuts), and New customer from a message."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context.request import Request
from bot.surfaces.hub import render_hub
from bot.views.customer_form import FormMeta, customer_form, found_values, prefill_note
from bot.views.hub import HubState
from core.message_contacts import find_contact

log = logging.getLogger(__name__)

FIND = "shortcut.find_customer"
NEW = "shortcut.new_customer"
FROM_MESSAGE = "shortcut.customer_from_message"


def on_find(ack: Ack, shortcut: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Find customer: the hub, as `/customers` opens it."""
    ack()
    view = render_hub(Request.of(context, client), HubState(), home=False)
    client.views_open(trigger_id=shortcut["trigger_id"], view=view)


def on_new(ack: Ack, shortcut: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """New customer: Create Customer, as `/customers new` opens it."""
    ack()
    admin = Request.of(context, client).actor.is_admin
    client.views_open(
        trigger_id=shortcut["trigger_id"], view=customer_form(FormMeta(), {}, admin=admin)
    )


def _real_name(client: WebClient, user_id: str) -> str:
    """The message author's name ('' when Slack can't say): never the customer's."""
    if not user_id:
        return ""
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as exc:
        log.info("users.info for a message's author failed: %s", exc.response.get("error"))
        return ""
    profile = user.get("profile") or {}
    return str(user.get("real_name") or profile.get("real_name") or "")


def on_from_message(
    ack: Ack, shortcut: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """New customer from a message: Create Customer with the email, mobile and name it holds."""
    ack()
    request = Request.of(context, client)
    message = shortcut.get("message") or {}
    author = _real_name(client, str(message.get("user") or ""))
    found = find_contact(
        str(message.get("text") or ""), request.studio.default_region, not_named=author
    )
    form = customer_form(
        FormMeta(), found_values(found), admin=request.actor.is_admin, intro=prefill_note(found)
    )
    client.views_open(trigger_id=shortcut["trigger_id"], view=form)


def register(app: App) -> None:
    """Wire the customers' shortcuts (the forms they open save through bot/actions/)."""
    app.shortcut(FIND)(on_find)
    app.shortcut(NEW)(on_new)
    app.shortcut(FROM_MESSAGE)(on_from_message)
