"""Slash command listeners."""

from __future__ import annotations

from slack_bolt import App

from bot.commands import customers


def register(app: App) -> None:
    """Wire every slash command."""
    customers.register(app)
