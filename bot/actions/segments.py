"""Segments: a filter changed, a customer's Open, Export CSV and Save segment in the modal;
Home's New segment, Open and Delete."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Request
from bot.surfaces.hub import HubControl
from bot.surfaces.segments import (
    SegmentControl,
    delete_saved,
    export_segment,
    open_customer,
    open_saved,
    save_segment_form,
    segment_view,
)
from bot.views.segments import (
    CALLBACK_ID,
    CUSTOMER_ACTION,
    EXPORT_ACTION,
    FILTER_ACTION,
    HOME_DELETE_ACTION,
    HOME_NEW_ACTION,
    HOME_OPEN_ACTION,
)


def on_filter(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """A filter changed: the count and first page again."""
    ack()
    SegmentControl.of(body, context, client).show()


def on_customer(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """A customer's Open: their details on top of the segment."""
    ack()
    open_customer(SegmentControl.of(body, context, client))


def on_export(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Export CSV (admins): the segment's customers to the admin's DM."""
    ack()
    control = SegmentControl.of(body, context, client)
    if not control.request.actor.is_admin:
        control.show(problem="Only an admin can export customers; ask an admin.")
        return
    export_segment(control)


def on_submit(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Save segment pressed."""
    save_segment_form(ack, Request.of(context, client), view)


def on_new(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Home's New segment: an empty segment modal."""
    ack()
    control = HubControl.of(body, context, client)
    control.open(segment_view(control.request))


def on_open(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Home's Open beside a saved segment."""
    ack()
    open_saved(HubControl.of(body, context, client))


def on_delete(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Home's Delete beside a saved segment (confirmed in Slack)."""
    ack()
    delete_saved(HubControl.of(body, context, client))


def register(app: App) -> None:
    """Wire the segment modal and Home's segment buttons."""
    app.action(FILTER_ACTION)(on_filter)
    app.action(CUSTOMER_ACTION)(on_customer)
    app.action(EXPORT_ACTION)(on_export)
    app.view(CALLBACK_ID)(on_submit)
    app.action(HOME_NEW_ACTION)(on_new)
    app.action(HOME_OPEN_ACTION)(on_open)
    app.action(HOME_DELETE_ACTION)(on_delete)
