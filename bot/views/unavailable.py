"""What a person sees when a service the app needs (the database, Slack) fails their request."""

from __future__ import annotations

from typing import Any

from bot.views.blocks import modal, section

CALLBACK_ID = "unavailable.view"

DATABASE_DOWN = (
    "Customer Records couldn't reach its database just now, so nothing was changed. "
    "Please try again in a minute."
)
# Under a form's first field, which keeps everything typed for the next try.
FORM_DATABASE_DOWN = (
    "Not saved: Customer Records couldn't reach its database just now. What you typed is "
    "still here; please try again in a minute."
)


def slack_failed(error: str) -> str:
    """Slack refused a call the app needed (`error` is Slack's short code, e.g. ratelimited)."""
    return (
        f"Slack didn't accept the app's request just now (`{error[:60]}`). "
        "Please try again in a minute."
    )


def form_slack_failed(error: str) -> str:
    """The same under a form's field: the change itself may have been made before Slack refused."""
    return (
        f"Slack didn't accept the app's answer just now (`{error[:60]}`). Check the record "
        "before submitting again."
    )


def chart_failed(error: str | None, *, chart: str = "the sales chart") -> str:
    """Posting a chart failed: Slack refused it (`error`, its short code), or drawing did."""
    if error is None:
        return f"Sorry, I couldn't draw {chart} just now. Please try again in a minute."
    return (
        f"Slack didn't accept the chart (`{error[:60]}`). Please try again in a minute; if it "
        "keeps failing, ask an admin to check the app's files:write permission."
    )


def unavailable_modal(text: str) -> dict[str, Any]:
    """A modal saying what failed and what to do."""
    return modal("Customer Records", [section(text)], callback_id=CALLBACK_ID)


def unavailable_home(text: str) -> dict[str, Any]:
    """The Home tab saying what failed (the hub returns when the Home tab is next opened)."""
    return {"type": "home", "callback_id": CALLBACK_ID, "blocks": [section(text)]}
