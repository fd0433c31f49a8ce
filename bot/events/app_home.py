"""The App Home tab shows the hub."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Request
from bot.surfaces.hub import render_hub
from bot.views.hub import HubState


def on_home_opened(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """The Home tab was opened: publish the hub as the person left it."""
    if event.get("tab", "home") != "home":
        return
    # Reopening Home keeps the tab, search, sort and page the person left it on.
    previous = event.get("view")
    metadata = previous.get("private_metadata") if isinstance(previous, dict) else None
    state = HubState.from_metadata(metadata)
    request = Request.of(context, client)
    view = render_hub(request, state, home=True)
    client.views_publish(user_id=request.actor.user_id, view=view)


def register(app: App) -> None:
    """Wire app_home_opened."""
    app.event("app_home_opened")(on_home_opened)
