"""What Slack said when it refused a Web API call."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError


def error_code(exc: SlackApiError) -> str:
    """Slack's error code for a refused call ("unknown_error" when it gave none)."""
    return str(exc.response.get("error") or "unknown_error")
