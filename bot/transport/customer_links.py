"""GET /c/<UID>, a customer's link opened in a browser: a redirect to the app's Home in Slack,
where staff find the customer. Never the customer's data, not even whether the UID exists:
every path under /c/ gets the same answer, so the route can't be used to probe UIDs."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from bot.transport.limits import StartResponse
from core.config import Settings

# Without SLACK_APP_ID the best the link can do is Slack itself.
SLACK_WEB = "https://app.slack.com/"


def app_home_url(settings: Settings) -> str:
    """Slack's redirect to the app (its Home opens in the desktop or web client)."""
    if not settings.slack_app_id:
        return SLACK_WEB
    return "https://slack.com/app_redirect?" + urlencode({"app": settings.slack_app_id})


def redirect_to_app(settings: Settings, start_response: StartResponse) -> Iterable[bytes]:
    """A 302 to the app in Slack, with an empty body and nothing cached or referred."""
    start_response(
        "302 Found",
        [
            ("Location", app_home_url(settings)),
            ("Content-Length", "0"),
            ("Cache-Control", "no-store"),
            ("Referrer-Policy", "no-referrer"),
        ],
    )
    return [b""]
