"""Customer links (`{PUBLIC_BASE_URL}/c/{UID}`) pasted into conversations: link_shared unfurls
them, entity_details_requested fills the flexpane, *Open* and *Add note* open the details.

Both events are ungated (bot/context/access.py): anyone may paste a link or open a card, and
the surface decides, per conversation and per viewer, what each may see. A retried delivery
(`X-Slack-Retry-Num`) finds its event id recorded and does nothing."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.deps import deps_of
from bot.context.request import Request
from bot.surfaces.unfurls import (
    first_delivery,
    open_linked,
    present_details,
    shared_links,
    unfurl_links,
)
from bot.views.payload import first_action
from bot.views.unfurls import ADD_NOTE_ACTION, OPEN_ACTION
from core.customer_links import LINK_PATH, uid_in_path


def on_link_shared(
    body: dict[str, Any], event: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """link_shared: unfurl the customer links in it, once per event."""
    deps, team_id = deps_of(context), context.team_id
    if not team_id:
        return
    shared = shared_links(deps, team_id, event)
    if shared is not None and first_delivery(deps, team_id, body.get("event_id")):
        unfurl_links(deps, client, shared)


def on_entity_details_requested(
    body: dict[str, Any], event: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """entity_details_requested: the flexpane for this viewer, once per event."""
    deps, team_id = deps_of(context), context.team_id
    if team_id and first_delivery(deps, team_id, body.get("event_id")):
        present_details(deps, client, team_id, event)


def _open(body: dict[str, Any], context: BoltContext, client: WebClient, *, notes: bool) -> None:
    uid = uid_in_path(LINK_PATH + str(first_action(body).get("value") or ""))
    trigger_id = str(body.get("trigger_id") or "")
    if uid is not None and trigger_id:
        open_linked(Request.of(context, client), trigger_id, uid, notes=notes)


def on_open(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """*Open* on a card or in the flexpane: the customer's details."""
    ack()
    _open(body, context, client, notes=False)


def on_add_note(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """*Add note*: the customer's details on the Notes tab, where notes are added."""
    ack()
    _open(body, context, client, notes=True)


def register(app: App) -> None:
    """Wire link_shared, entity_details_requested, Open and Add note."""
    app.event("link_shared")(on_link_shared)
    app.event("entity_details_requested")(on_entity_details_requested)
    app.action(OPEN_ACTION)(on_open)
    app.action(ADD_NOTE_ACTION)(on_add_note)
