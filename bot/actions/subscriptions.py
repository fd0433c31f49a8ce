"""The Subscriptions tab's Start subscription form: a Stripe link to subscribe is mailed."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.surfaces import subscriptions as surface
from bot.surfaces.commerce import Done, StripeChange, commerce_form
from bot.views.origin import Tab
from bot.views.payment_links import link_notice
from bot.views.subscriptions import PLAN_BLOCK, START_CALLBACK
from core.actor import Actor
from core.db import Transactions
from core.services import payment_links


def on_start(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Start subscription submitted: mail the plan's Stripe link, or say what to fix."""
    form = commerce_form(ack, view, context, client, surface.start_form)
    if form is None:
        return
    plan_id = form.values.row_id(PLAN_BLOCK)
    if plan_id is None:
        form.refuse({PLAN_BLOCK: "Choose the plan."})
        return
    request, uid, chosen = form.request, form.meta.details.uid, plan_id
    gateway = request.gateway

    def start(db: Transactions, actor: Actor) -> Done:
        sent = payment_links.start_subscription(db, actor, uid, chosen, gateway=gateway)
        return Done(link_notice(sent, request.timezone), Tab.SUBSCRIPTIONS)

    form.finish(StripeChange(start, PLAN_BLOCK))


def register(app: App) -> None:
    """Wire the Start subscription form."""
    app.view(START_CALLBACK)(on_start)
