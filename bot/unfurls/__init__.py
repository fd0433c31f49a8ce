"""Link unfurls: customer links shown as Work Objects, their flexpane, and the controls on both."""

from __future__ import annotations

from slack_bolt import App

from bot.unfurls import customer_links


def register(app: App) -> None:
    """Wire every unfurl listener."""
    customer_links.register(app)
