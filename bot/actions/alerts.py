"""The channel alerts form's submission."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Request
from bot.surfaces.alerts import save_alerts
from bot.views.alerts import CALLBACK_ID


def on_submit(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Save pressed in Channel alerts: saved for an all-staff channel, else why not."""
    save_alerts(ack, Request.of(context, client), view)


def register(app: App) -> None:
    """Wire the alerts form's submission."""
    app.view(CALLBACK_ID)(on_submit)
