"""The app factory: one Bolt App with every listener module registered."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.access import GuestCheck, access_middleware
from bot.actions import (
    account,
    appointments,
    bookings,
    commerce,
    customer_delete,
    customer_details,
    customer_form,
    hub,
    merge,
    notes,
    passes,
    questionnaires,
    videos,
)
from bot.commands import customers
from bot.deps import Deps
from bot.events import app_home
from core.config import Settings
from core.db import Database
from core.payments import gateway_from_settings

log = logging.getLogger(__name__)

LISTENER_MODULES = (
    customers,
    hub,
    customer_form,
    customer_delete,
    customer_details,
    notes,
    questionnaires,
    merge,
    account,
    commerce,
    bookings,
    appointments,
    passes,
    videos,
    app_home,
)


def web_client(settings: Settings) -> WebClient:
    """A Web API client for SLACK_API_URL that retries rate limits and dropped connections."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return WebClient(
        token=token,
        base_url=settings.slack_api_url,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )


def create_app(
    settings: Settings,
    db: Database,
    *,
    client: WebClient | None = None,
    listener_executor: Executor | None = None,
) -> App:
    """Build the Bolt app; the caller decides how requests reach it (HTTP or Socket Mode)."""
    signing = settings.slack_signing_secret
    app = App(
        listener_executor=listener_executor,
        client=client or web_client(settings),
        # Never None: Bolt would then read SLACK_SIGNING_SECRET itself, bypassing Settings.
        signing_secret=signing.get_secret_value() if signing else "",
        token_verification_enabled=False,
        raise_error_for_unhandled_request=False,
        logger=logging.getLogger("bot.bolt"),
    )
    deps = Deps(db=db, settings=settings, gateway=gateway_from_settings(settings))
    app.use(access_middleware(deps, GuestCheck()))
    for module in LISTENER_MODULES:
        module.register(app)

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        # The person sees Slack's own "couldn't reach the app" note; details stay in the log.
        log.error(
            "unhandled %s while handling a %s request",
            type(error).__name__,
            body.get("type") or ("command" if body.get("command") else "unknown"),
            exc_info=error,
        )
        return BoltResponse(status=500, body="")

    return app
