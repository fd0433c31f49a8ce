"""Events API listeners."""

from __future__ import annotations

from slack_bolt import App

from bot.events import app_home, membership, uninstall


def register(app: App) -> None:
    """Wire every event listener."""
    app_home.register(app)
    membership.register(app)
    uninstall.register(app)
