"""The chart choice: a name matched several customers and one was chosen to post."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.context.request import Request
from bot.surfaces.charts import post_chosen_chart
from bot.views.charts import CHOOSE_ACTION
from bot.views.payload import first_action

UID = re.compile(r"^[0-9A-Z]{1,16}$")


def on_choose(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    """Post chart next to one of the matches: post it where the choice was offered."""
    ack()
    uid = str(first_action(body).get("value") or "")
    channel = body.get("channel")
    channel_id = channel.get("id") if isinstance(channel, dict) else None
    if not UID.match(uid) or not isinstance(channel_id, str) or not channel_id:
        return
    post_chosen_chart(Request.of(context, client), respond, channel_id=channel_id, uid=uid)


def register(app: App) -> None:
    """Wire the chart choice."""
    app.action(CHOOSE_ACTION)(on_choose)
