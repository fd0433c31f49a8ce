"""The studio's settings: Home's Settings button, the modal's time-zone and currency searches,
and saving it."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Submission
from bot.surfaces.hub import HubControl
from bot.surfaces.settings import open_settings, save_settings
from bot.views.settings import (
    CALLBACK_ID,
    CURRENCY_ACTION,
    OPEN_ACTION,
    ZONE_ACTION,
    SettingsMeta,
    currency_options,
    settings_message,
    zone_options,
)

# Longer than any time zone or currency name: nothing longer can match.
TYPED_MAX = 60


def on_open(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Settings pressed on Home: the modal (admins), or why not."""
    ack()
    open_settings(HubControl.of(body, context, client))


def on_suggest_zone(ack: Ack, body: dict[str, Any]) -> None:
    """The time zones matching what is typed."""
    ack(options=zone_options(str(body.get("value") or "")[:TYPED_MAX]))


def on_suggest_currency(ack: Ack, body: dict[str, Any]) -> None:
    """The currencies matching what is typed."""
    ack(options=currency_options(str(body.get("value") or "")[:TYPED_MAX]))


def on_submit(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Save pressed in the Settings modal."""
    form = Submission.or_stale(SettingsMeta, view, context, client, ack, settings_message)
    if form is None:
        return
    save_settings(ack, form)


def register(app: App) -> None:
    """Wire the Settings button, the two searches and the modal's submission."""
    app.action(OPEN_ACTION)(on_open)
    app.options(ZONE_ACTION)(on_suggest_zone)
    app.options(CURRENCY_ACTION)(on_suggest_currency)
    app.view(CALLBACK_ID)(on_submit)
