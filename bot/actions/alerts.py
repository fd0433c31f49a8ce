"""Channel alerts: the form's submission, and Home's Edit and Remove beside each channel."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Request
from bot.surfaces.alerts import edit_alerts, remove_alerts, save_alerts
from bot.surfaces.hub import HubControl
from bot.views.alerts import CALLBACK_ID, EDIT_ACTION, REMOVE_ACTION


def on_submit(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Save pressed in Channel alerts: saved for an all-staff channel, else why not."""
    save_alerts(ack, Request.of(context, client), view)


def on_edit(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Edit pressed beside a channel's alerts on Home: the form (admins)."""
    ack()
    edit_alerts(HubControl.of(body, context, client))


def on_remove(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Remove pressed (and confirmed) beside a channel's alerts on Home."""
    ack()
    remove_alerts(HubControl.of(body, context, client))


def register(app: App) -> None:
    """Wire the alerts form's submission and Home's Edit and Remove."""
    app.view(CALLBACK_ID)(on_submit)
    app.action(EDIT_ACTION)(on_edit)
    app.action(REMOVE_ACTION)(on_remove)
