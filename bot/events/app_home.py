"""The App Home tab: Today for staff, or Customers as they left it earlier the same day."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Request
from bot.surfaces.today import open_home


def on_home_opened(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """The Home tab was opened: publish the page the person should find there."""
    if event.get("tab", "home") != "home":
        return
    open_home(Request.of(context, client), event.get("view"))


def register(app: App) -> None:
    """Wire app_home_opened."""
    app.event("app_home_opened")(on_home_opened)
