"""The studio's Stripe account: Home's Connect, Connect with Stripe and Disconnect buttons, and
saving the modal."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Submission
from bot.surfaces.hub import HubControl
from bot.surfaces.stripe_account import connect_pressed, disconnect, open_stripe, save_stripe
from bot.views.stripe_account import (
    CALLBACK_ID,
    CONNECT_ACTION,
    DISCONNECT_ACTION,
    OPEN_ACTION,
    StripeMeta,
    stripe_message,
)


def on_open(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Connect Stripe (or Change Stripe key) pressed on Home."""
    ack()
    open_stripe(HubControl.of(body, context, client))


def on_connect(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Connect with Stripe pressed on Home: its link opened Stripe's page in the browser."""
    ack()
    connect_pressed(HubControl.of(body, context, client))


def on_disconnect(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Disconnect Stripe pressed and confirmed on Home."""
    ack()
    disconnect(HubControl.of(body, context, client))


def on_submit(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Save pressed in the Stripe modal."""
    form = Submission.or_stale(StripeMeta, view, context, client, ack, stripe_message)
    if form is None:
        return
    save_stripe(ack, form)


def register(app: App) -> None:
    """Wire the Connect, Connect with Stripe and Disconnect buttons and the modal's submission."""
    app.action(OPEN_ACTION)(on_open)
    app.action(CONNECT_ACTION)(on_connect)
    app.action(DISCONNECT_ACTION)(on_disconnect)
    app.view(CALLBACK_ID)(on_submit)
