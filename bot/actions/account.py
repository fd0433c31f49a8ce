"""The details' Account tab: Archive / Activate with Undo, password reset, Export data, and
opening the customer kept by a merge."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.surfaces.customer_details import DetailsControl
from bot.surfaces.exports import send_customer_data
from bot.surfaces.hub import show_hub
from bot.views.customer_details import (
    ARCHIVE_ACTION,
    EXPORT_DATA_ACTION,
    OPEN_ACTION,
    PASSWORD_RESET_ACTION,
    UNDO_ACTION,
)
from bot.views.notice import Notice
from bot.views.tabs import DetailsMeta
from core.models import CustomerStatus
from core.services import customers

UID = re.compile(r"^[0-9A-Z]{1,16}$")


def _set_status(control: DetailsControl, verb: str) -> None:
    """Archive or activate the details' customer, show the result with Undo, refresh the hub."""
    change = customers.archive_customer if verb == "archive" else customers.activate_customer
    uid = control.details.uid
    record = control.write(lambda uow, actor: change(uow, actor, uid))
    if record is None:
        return
    done = "Archived" if record.status is CustomerStatus.ARCHIVED else "Activated"
    undo = "activate" if verb == "archive" else "archive"
    undo_value = f"{undo}|{record.uid}"
    control.show(
        notice=Notice(f"{done} {record.full_name}.", undo_value=undo_value, undo_action=UNDO_ACTION)
    )
    # The list underneath would otherwise still show them on their old tab.
    show_hub(control.request, control.details.origin)


def on_status(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Archive Customer / Activate Customer."""
    ack()
    control = DetailsControl.of(body, context, client)
    if control is not None:
        archive = control.action.get("action_id") == ARCHIVE_ACTION
        _set_status(control, "archive" if archive else "activate")


def on_undo(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Undo an archive or activation made on this tab."""
    ack()
    control = DetailsControl.of(body, context, client)
    verb, _, uid = control.value.partition("|") if control else ("", "", "")
    # Only the customer these details show: a value naming anyone else is not ours to act on.
    if control is None or verb not in {"archive", "activate"} or uid != control.details.uid:
        return
    _set_status(control, verb)


def on_open(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Open the customer a merge kept, in the same view."""
    ack()
    control = DetailsControl.of(body, context, client)
    if control is None or not UID.match(control.value):
        return
    control.show(DetailsMeta(uid=control.value, origin=control.details.origin))


def on_password_reset(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """Send password reset (after Slack's confirm dialog): a new password goes out by mail."""
    ack()
    control = DetailsControl.of(body, context, client)
    # Only the customer these details show: a value naming anyone else is not ours to act on.
    if control is None or control.value != control.details.uid:
        return
    uid = control.details.uid
    record = control.write(lambda uow, actor: customers.send_password_reset(uow, actor, uid))
    if record is not None:
        control.tell(
            f"A new password is on its way to {record.full_name} at {record.email}; the old one "
            "no longer works.",
            ok=True,
        )


def on_export_data(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Export data (JSON), admins: everything held about the customer, to the admin's DM."""
    ack()
    control = DetailsControl.of(body, context, client)
    # Only the customer these details show: a value naming anyone else is not ours to act on.
    if control is None or control.value != control.details.uid:
        return
    send_customer_data(control)


def register(app: App) -> None:
    """Wire the Account tab's buttons."""
    app.action(re.compile(r"^customer_details\.(archive|activate)$"))(on_status)
    app.action(UNDO_ACTION)(on_undo)
    app.action(OPEN_ACTION)(on_open)
    app.action(PASSWORD_RESET_ACTION)(on_password_reset)
    app.action(EXPORT_DATA_ACTION)(on_export_data)
