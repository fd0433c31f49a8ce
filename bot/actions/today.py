"""The App Home's switch (Today | Customers) and Today's customers, opened in their details."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Request
from bot.surfaces.customer_details import render_details
from bot.surfaces.today import show_customers, show_today
from bot.views.home import CUSTOMERS_ACTION, TODAY_ACTION
from bot.views.hub import HubState
from bot.views.notice import Notice
from bot.views.payload import first_action
from bot.views.tabs import DetailsMeta
from bot.views.today import OPEN_CUSTOMER_ACTION
from core.errors import DomainError

UID = re.compile(r"^[0-9A-Z]{1,16}$")


def _hub_of(body: dict[str, Any]) -> HubState:
    view = body.get("view")
    return HubState.from_metadata(view.get("private_metadata") if isinstance(view, dict) else None)


def on_today(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Today, from the switch."""
    ack()
    show_today(Request.of(context, client), _hub_of(body))


def on_customers(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Customers, from the switch: the hub as it was left."""
    ack()
    show_customers(Request.of(context, client), _hub_of(body))


def on_open_customer(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """A customer named on Today: their details, as Manage opens them."""
    ack()
    uid = first_action(body).get("value")
    if not isinstance(uid, str) or not UID.match(uid):
        return
    request = Request.of(context, client)
    try:
        view = render_details(request, DetailsMeta(uid=uid))
    except DomainError as exc:
        show_today(request, _hub_of(body), Notice(exc.message))
        return
    client.views_open(trigger_id=str(body.get("trigger_id") or ""), view=view)


def register(app: App) -> None:
    """Wire the switch and Today's customer buttons."""
    app.action(TODAY_ACTION)(on_today)
    app.action(CUSTOMERS_ACTION)(on_customers)
    app.action(OPEN_CUSTOMER_ACTION)(on_open_customer)
