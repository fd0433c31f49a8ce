"""Sending exports to the asking admin's DM: the hub's customer list as CSV, one customer's data
as JSON; the surface it was asked from then says where it went, or why it didn't."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.context.request import Request
from bot.surfaces.customer_details import DetailsControl
from bot.surfaces.hub import HubControl
from bot.views.blocks import escape
from core.errors import DomainError
from core.formatting import counted
from core.services.customer_export import customers_csv, record_list_export
from core.services.export import export_customer, export_text, export_undelivered

log = logging.getLogger(__name__)


def _refused(error: object) -> str:
    return (
        f"Slack refused the file ({error}), so nothing was sent; your list is as it was. "
        "Try again in a moment."
    )


def send_to_dm(request: Request, *, content: bytes, filename: str, comment: str) -> None:
    """Upload `content` into the app's DM with the requester."""
    # Exports name many people: they go only to the person who asked, never into a channel.
    dm = request.client.conversations_open(users=request.actor.user_id)["channel"]["id"]
    request.client.files_upload_v2(
        channel=dm, content=content, filename=filename, title=filename, initial_comment=comment
    )


def send_customers_csv(control: HubControl) -> None:
    """Export CSV: the hub's tab and search as a CSV file in the admin's DM, then say so."""
    request, hub = control.request, control.origin.hub
    try:
        with request.deps.db.unit_of_work(readonly=True) as uow:
            export = customers_csv(uow, request.actor, status=hub.status, text=hub.q)
            day = uow.now().date().isoformat()
        searched = "-search" if hub.q.strip() else ""
        filename = f"customers-{hub.tab}{searched}-{day}.csv"
        found = f" matching '{escape(hub.q.strip())}'" if hub.q.strip() else ""
        send_to_dm(
            request,
            content=export.text.encode("utf-8"),
            filename=filename,
            comment=f"{counted(export.count, 'customer', 'customers')} from the {hub.tab} list"
            f"{found}, as CSV.",
        )
    except DomainError as exc:
        control.tell(exc.message)
        return
    except SlackApiError as exc:
        error = exc.response.get("error")
        log.warning("sending the customer list failed: %s", error)
        control.tell(_refused(error))
        return
    with request.deps.db.unit_of_work() as uow:
        record_list_export(uow, request.actor, export.count, hub.status, hub.q)
    control.tell(
        f"Sent to your DM: {filename} with {counted(export.count, 'customer', 'customers')}.",
        ok=True,
    )


def send_customer_data(control: DetailsControl) -> None:
    """Export data (JSON): everything held about the details' customer, to the admin's DM."""
    request, uid = control.request, control.details.uid
    try:
        # Recorded and committed before the upload: no transaction stays open while Slack
        # takes the file, and an upload that fails is noted after it.
        with request.deps.db.unit_of_work() as uow:
            data = export_customer(uow, request.actor, uid)
    except DomainError as exc:
        control.tell(exc.message)
        return
    name = f"{data['customer']['first_name']} {data['customer']['last_name']}"
    try:
        send_to_dm(
            request,
            content=export_text(data).encode("utf-8"),
            filename=f"customer-{uid}.json",
            comment=f"Everything held about *{escape(name)}* (UID `{uid}`), as JSON.",
        )
    except SlackApiError as exc:
        error = exc.response.get("error")
        log.warning("sending customer %s's data failed: %s", uid, error)
        with request.deps.db.unit_of_work() as uow:
            export_undelivered(uow, request.actor, uid, f"Slack refused the file ({error})")
        control.tell(
            f"Slack refused the file ({error}), so nothing was sent; their history notes the "
            "attempt. Try again in a moment."
        )
        return
    control.tell(
        f"Sent to your DM: customer-{uid}.json with everything held about {name}.", ok=True
    )
