"""Saved segments' weekly digests posted into their channels by the channel-alerts worker:
judged all staff at every post, else paused with a word to whoever turned it on."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context.deps import Deps
from bot.context.slack_errors import error_code
from bot.surfaces.audience import dm_with, judge
from bot.views.blocks import escape
from bot.views.segments import digest_text
from core.services import segment_digests

log = logging.getLogger(__name__)
# A workspace's client, or None once it uninstalled the app (as the alerts worker's).
ClientFor = Callable[[str], WebClient | None]
NOT_ALL_STAFF = "someone in the channel isn't staff"


def deliver_digest(deps: Deps, client_for: ClientFor) -> bool:
    """Post the longest-waiting digest that is due; False when none is."""
    with deps.db.unit_of_work() as uow:
        digest = segment_digests.claim_due(uow)
    if digest is None:
        return False
    client = client_for(digest.team_id)
    if client is None:
        return True  # the workspace uninstalled the app
    if not judge(deps, client, digest.team_id, digest.channel_id).verdict.all_staff:
        with deps.db.unit_of_work() as uow:
            segment_digests.pause_digest(uow, digest.segment_id, NOT_ALL_STAFF)
        _tell_paused(client, digest.enabled_by, digest.name, digest.channel_id)
        return True
    try:
        client.chat_postMessage(channel=digest.channel_id, text=digest_text(digest))
    except SlackApiError as exc:
        log.warning("segment %s digest not posted (%s)", digest.segment_id, error_code(exc))
    return True


def _tell_paused(client: WebClient, user_id: str, name: str, channel_id: str) -> None:
    text = (
        f"The weekly digest of the segment *{escape(name)}* in <#{channel_id}> is paused: "
        f"{NOT_ALL_STAFF}. Digests name customers, so they go only to channels of staff; "
        "choose a channel again in the segment (Home → Segments → Open) to turn it back on."
    )
    try:
        client.chat_postMessage(channel=dm_with(client, user_id), text=text)
    except SlackApiError as exc:
        log.warning("couldn't tell %s a digest paused (%s)", user_id, error_code(exc))
