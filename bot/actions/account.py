"""The details' Account tab: Archive / Activate with Undo, and opening the customer kept by a merge."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.deps import actor_of, deps_of
from bot.surfaces.customer_details import details_of, first_action, show_details
from bot.surfaces.hub import show_hub
from bot.views.customer_details import ARCHIVE_ACTION, OPEN_ACTION, UNDO_ACTION
from bot.views.notice import Notice
from bot.views.tabs import DetailsMeta
from core.errors import DomainError
from core.models import CustomerStatus
from core.services import customers

UID = re.compile(r"^[0-9A-Z]{1,16}$")


def _set_status(
    context: BoltContext, client: WebClient, view_id: str, meta: DetailsMeta, verb: str
) -> None:
    """Archive or activate the details' customer, show the result with Undo, refresh the hub."""
    deps, actor = deps_of(context), actor_of(context)
    try:
        with deps.db.unit_of_work() as uow:
            if verb == "archive":
                record = customers.archive_customer(uow, actor, meta.uid)
            else:
                record = customers.activate_customer(uow, actor, meta.uid)
    except DomainError as exc:
        show_details(client, deps, actor, view_id, meta, notice=Notice(exc.message, ok=False))
        return
    done = "Archived" if record.status is CustomerStatus.ARCHIVED else "Activated"
    undo = "activate" if verb == "archive" else "archive"
    notice = Notice(
        f"{done} {record.full_name}.", undo_value=f"{undo}|{record.uid}", undo_action=UNDO_ACTION
    )
    show_details(client, deps, actor, view_id, meta, notice=notice)
    # The list underneath would otherwise still show them on their old tab.
    show_hub(client, deps, actor, meta.origin)


def register(app: App) -> None:
    """Wire the Account tab's buttons."""

    @app.action(re.compile(r"^customer_details\.(archive|activate)$"))
    def on_status(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        found = details_of(body)
        if found is None:
            return
        verb = "archive" if first_action(body).get("action_id") == ARCHIVE_ACTION else "activate"
        _set_status(context, client, *found, verb)

    @app.action(UNDO_ACTION)
    def on_undo(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        found = details_of(body)
        verb, _, uid = str(first_action(body).get("value") or "").partition("|")
        # Only the customer these details show: a value naming anyone else is not ours to act on.
        if found is None or verb not in {"archive", "activate"} or uid != found[1].uid:
            return
        _set_status(context, client, *found, verb)

    @app.action(OPEN_ACTION)
    def on_open(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        found = details_of(body)
        uid = str(first_action(body).get("value") or "")
        if found is None or not UID.match(uid):
            return
        view_id, meta = found
        kept = DetailsMeta(uid=uid, origin=meta.origin)
        show_details(client, deps_of(context), actor_of(context), view_id, kept)
