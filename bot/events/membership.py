"""Someone joined or left a conversation: what the app knew about its members is dropped, so
the next post about a customer there asks Slack who is in it now."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.context.deps import deps_of
from bot.surfaces.alerts import recheck_channel


def on_membership_changed(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """member_joined_channel / member_left_channel: forget the conversation's members; after a
    join, pause the channel's alerts unless everyone is still staff."""
    # Ungated (bot/context/access.py): whoever joined may be a guest or not staff at all.
    team_id, channel_id = context.team_id, event.get("channel")
    if team_id and isinstance(channel_id, str):
        deps = deps_of(context)
        deps.audience.forget(team_id, channel_id)
        if event.get("type") == "member_joined_channel":
            # Judged afresh, now that its members were forgotten.
            recheck_channel(deps, client, team_id, channel_id)


def register(app: App) -> None:
    """Wire member_joined_channel and member_left_channel."""
    app.event("member_joined_channel")(on_membership_changed)
    app.event("member_left_channel")(on_membership_changed)
