"""The studio's Stripe account on screen: Home's Stripe lines and buttons, and the admins'
modal to paste its key and webhook signing secret."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from bot.views.blocks import Block, actions, button, context, form_modal, modal, plain, section
from bot.views.commerce.form_state import FormValues
from bot.views.hub import HubState
from bot.views.inputs import TextField, text_input
from core.formatting import format_date
from core.services.stripe_account import KEY_MAX, StripeStatus

CALLBACK_ID = "stripe_account.submit"
MESSAGE_CALLBACK_ID = "stripe_account.message"
OPEN_ACTION = "stripe_account.open"
DISCONNECT_ACTION = "stripe_account.disconnect"
CONNECT_ACTION = "stripe_account.connect"
CONNECT_CALLBACK_ID = "stripe_account.connect_link"
# Home's Connect with Stripe button opens the link; the link's own press needs no answer.
CONNECT_START, CONNECT_LINK = "start", "link"
SECTION_BLOCK = "stripe_section"
FIELDS = ("stripe_key", "webhook_secret")


class StripeMeta(BaseModel):
    """private_metadata of the Stripe modal: the Home tab as it was, to redraw it after saving."""

    hub: HubState = Field(default_factory=HubState)


def _status_line(status: StripeStatus) -> str:
    since = f", since {format_date(status.connected_at.date())}" if status.connected_at else ""
    if status.source == "own key":
        line = f"*Stripe:* the studio's own account, key `{status.hint}`{since}"
    elif status.source == "connect":
        line = f"*Stripe:* account `{status.hint}` connected through Stripe Connect{since}"
    elif status.source == "deployment":
        return f"*Stripe:* the server's account (key `{status.hint}`), shared by this one studio"
    else:
        return "*Stripe:* not connected; staff can only record payments made elsewhere"
    webhook = (
        "set" if status.webhook_secret_set else "not set: Stripe's changes don't reach the records"
    )
    return f"{line}\nWebhook signing secret {webhook}"


def stripe_section(status: StripeStatus, *, admin: bool, connect: bool = False) -> list[Block]:
    """Home's Stripe lines under the studio settings; for admins, Connect and Disconnect.

    `connect`: Stripe Connect is offered beside pasting a key."""
    blocks: list[Block] = [section(_status_line(status))]
    if not admin:
        return blocks
    own = status.source in ("own key", "connect")
    buttons = []
    if connect:
        buttons.append(button("Connect with Stripe", CONNECT_ACTION, value=CONNECT_START))
    paste = "Use a Stripe key" if connect else "Connect Stripe"
    buttons.append(button("Change Stripe key" if own else paste, OPEN_ACTION, value="open"))
    if own:
        buttons.append(
            button(
                "Disconnect Stripe",
                DISCONNECT_ACTION,
                value="disconnect",
                style="danger",
                confirm=_confirm_disconnect(),
            )
        )
    blocks.append(actions(buttons, block_id=SECTION_BLOCK))
    return blocks


def connect_modal(url: str) -> dict[str, Any]:
    """Stripe Connect's consent page behind a link made for this admin, just now."""
    link = button(
        "Continue to Stripe", CONNECT_ACTION, value=CONNECT_LINK, style="primary", url=url
    )
    blocks = [
        section(
            "Stripe asks you to sign in and approve this app for the studio's account, then "
            "brings you back to a page saying it worked. The link works once, for 10 minutes."
        ),
        actions([link], block_id="stripe_connect"),
    ]
    return modal("Connect with Stripe", blocks, callback_id=CONNECT_CALLBACK_ID, close="Close")


def _confirm_disconnect() -> dict[str, Any]:
    return {
        "title": plain("Disconnect Stripe?", 100),
        "text": plain(
            "The key and webhook signing secret are forgotten: no new Stripe payment, refund or "
            "subscription change can be made until an admin connects Stripe again. Records stay.",
            300,
        ),
        "confirm": plain("Disconnect", 30),
        "deny": plain("Cancel", 30),
    }


def stripe_modal(status: StripeStatus, webhook_url: str, meta: StripeMeta) -> dict[str, Any]:
    """The modal to paste the studio's Stripe key and its webhook signing secret."""
    has_key = status.source == "own key"
    key = TextField(
        "stripe_key",
        "Secret or restricted key",
        "stripe_account.key",
        placeholder="rk_live_…",
        hint=(f"Blank keeps `{status.hint}`. " if has_key else "")
        + "A restricted key needs write access to PaymentIntents, Refunds, Checkout Sessions "
        "and Subscriptions. It is checked with Stripe, stored encrypted and never shown again.",
        optional=has_key,
        max_length=KEY_MAX,
    )
    secret = TextField(
        "webhook_secret",
        "Webhook signing secret",
        "stripe_account.webhook_secret",
        placeholder="whsec_…",
        hint=f"In Stripe, add a webhook endpoint at {webhook_url} and paste its signing secret. "
        + ("Blank keeps the one stored." if status.webhook_secret_set else ""),
        optional=True,
        max_length=KEY_MAX,
    )
    blocks = [
        context("Payments, refunds and subscriptions of this studio go through this account only."),
        text_input(key),
        text_input(secret),
    ]
    return form_modal("Stripe", blocks, meta, callback_id=CALLBACK_ID, submit="Save")


def submitted_stripe(state: dict[str, Any]) -> tuple[str, str]:
    """The key and webhook secret typed (blank: keep what is stored)."""
    values = FormValues(state)
    return values.text("stripe_key"), values.text("webhook_secret")


def stripe_message(text: str) -> dict[str, Any]:
    """What replaces the Stripe modal when it can't be saved for a reason no field shows."""
    return modal("Stripe", [section(text)], callback_id=MESSAGE_CALLBACK_ID)
