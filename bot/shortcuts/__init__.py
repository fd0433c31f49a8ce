"""Shortcut listeners: global shortcuts (the ⚡ menu and search) and message shortcuts (a
message's ⋯ menu), one module per concept; a shortcut and the form it opens are one flow."""

from __future__ import annotations

from slack_bolt import App

from bot.shortcuts import customers, message_notes


def register(app: App) -> None:
    """Wire every shortcut."""
    customers.register(app)
    message_notes.register(app)
