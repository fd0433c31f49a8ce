"""Home's *Retention report*: the workspace's retention chart and numbers, sent by DM."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Request
from bot.surfaces.retention import post_retention_to_dm
from bot.views.retention import POST_ACTION


def on_post(ack: Ack, context: BoltContext, client: WebClient) -> None:
    """Retention report (Home): acknowledged at once, then drawn and sent to the DM."""
    ack()
    post_retention_to_dm(Request.of(context, client))


def register(app: App) -> None:
    """Wire Home's Retention report button."""
    app.action(POST_ACTION)(on_post)
