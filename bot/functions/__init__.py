"""Workflow Builder steps (Slack's custom functions): a studio's own workflows find, create and
note customers and book them on events, as the staff member running the workflow."""

from __future__ import annotations

from slack_bolt import App

from bot.functions import bookings, customers, notes


def register(app: App) -> None:
    """Wire every workflow step listener."""
    customers.register(app)
    notes.register(app)
    bookings.register(app)
