"""The app factory: one Bolt App with every listener module registered."""

from __future__ import annotations

import logging
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any
from urllib.error import URLError

from slack_bolt import App, BoltRequest, BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot import actions, commands, events, functions, shortcuts, unfurls
from bot.context.access import GuestCheck, access_middleware
from bot.context.audience import Audience, SharedChanges
from bot.context.deps import Deps
from bot.context.slack_errors import error_code
from bot.logging_setup import ContextExecutor, tag_for, tagged, withhold_library_bodies
from bot.surfaces.alerts import AlertWorker as AlertWorker
from bot.surfaces.alerts import client_for
from bot.surfaces.today import TodayRefresher
from bot.surfaces.unavailable import database_unavailable, tell_database_down, tell_slack_failed
from bot.transport.inbound import malformed
from bot.transport.kept_ack import KeptAck
from bot.transport.oauth import oauth_options
from core.adapters.payments import gateways_from_settings
from core.adapters.stripe_connect import connect_from_settings
from core.changes import watch_commits
from core.config import Settings
from core.db import Database
from core.models import Appointment, Booking

log = logging.getLogger(__name__)

# Slack's answers when a trigger expired or was used, or the view to change was closed.
GONE = frozenset({"expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id", "not_found"})

LISTENER_KINDS = (commands, actions, events, shortcuts, unfurls, functions)


def web_client(settings: Settings) -> WebClient:
    """A Web API client for SLACK_API_URL that retries rate limits and dropped connections.

    Bolt copies its base URL and retry handlers into each request's client; with OAuth
    installs that client gets the token of the workspace the request came from."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return WebClient(
        token=token,
        base_url=settings.slack_api_url,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )


class TaggedApp(App):
    """A Bolt app that attributes every log record written while it handles a request to it."""

    # Set by create_app: what the listeners share, for the alert worker beside them.
    deps: Deps

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        """Handle one request with its request id, team and user set for logging."""
        # Bolt's middleware chain is a flat loop, not nested calls, so no middleware can
        # clear the id when the request is done; wrapping dispatch can, on every path.
        # Bolt can lose an ack when the listener fails after it; see bot/transport/kept_ack.py.
        kept = KeptAck()
        req.context["ack"] = kept
        with tagged(tag_for(req)):
            answer = super().dispatch(req)
        return kept.response if kept.response is not None else answer


def create_app(
    settings: Settings,
    db: Database,
    *,
    client: WebClient | None = None,
    listener_executor: Executor | None = None,
) -> App:
    """Build the Bolt app; the caller decides how requests reach it (HTTP or Socket Mode)."""
    withhold_library_bodies()
    signing = settings.slack_signing_secret
    # Listeners and lazy listeners run on this pool after the ack; each task carries the
    # request's context with it. Five threads is Bolt's own default.
    executor = ContextExecutor(listener_executor or ThreadPoolExecutor(5))
    app = TaggedApp(
        listener_executor=executor,
        client=client or web_client(settings),
        # Never None: Bolt would then read SLACK_SIGNING_SECRET itself, bypassing Settings.
        signing_secret=signing.get_secret_value() if signing else "",
        token_verification_enabled=False,
        raise_error_for_unhandled_request=False,
        logger=logging.getLogger("bot.bolt"),
        **oauth_options(settings, db),
    )
    audience = Audience(changes=SharedChanges(db))
    deps = Deps(
        db=db,
        settings=settings,
        gateways=gateways_from_settings(settings),
        stripe_connect=connect_from_settings(settings),
        installation_store=app.installation_store,
        audience=audience,
    )
    app.deps = deps
    # Staff watching Today see the day change as bookings and check-ins are recorded.
    refresher = TodayRefresher(deps, client_for(deps, app.client), executor)
    watch_commits(db, (Booking, Appointment), refresher.changed)
    app.use(access_middleware(deps, GuestCheck(audience.people)))
    for kind in LISTENER_KINDS:
        kind.register(app)
    app.error(on_error)
    return app


def alert_worker(app: App, *, interval: float = 5.0) -> AlertWorker:
    """The worker posting `app`'s channel alerts (not started)."""
    assert isinstance(app, TaggedApp)
    return AlertWorker(app.deps, client_for(app.deps, app.client), interval=interval)


def on_error(
    error: Exception,
    body: dict[str, Any],
    client: WebClient,
    respond: Respond | None,
    response: BoltResponse | None,
) -> BoltResponse | None:
    """The one edge where a listener's failure becomes what the person sees."""
    answer = answer_error(error, body, client, respond, acked=response is None)
    # After the listener's ack Bolt has no response left to fill, and refuses one.
    return answer if response is not None else None


def answer_error(
    error: Exception,
    body: dict[str, Any],
    client: WebClient,
    respond: Respond | None,
    acked: bool,
) -> BoltResponse:
    """Say what failed, where the person is; the answer to Slack counts only while not `acked`."""
    odd = malformed(body)
    if odd is not None:
        # Bolt's own middleware reads fields Slack always sends; a signed request without
        # them (only a forged one can be) is refused, not a fault of ours.
        log.warning("refused a malformed %s request (%s)", odd, type(error).__name__)
        return BoltResponse(status=400, body="")
    if isinstance(error, SlackApiError) and error.response.get("error") in GONE:
        # The person was too slow for Slack, or closed the view meanwhile: nothing to show.
        log.warning("Slack refused a call: %s", error.response.get("error"))
        return BoltResponse(status=200, body="")
    if isinstance(error, SlackApiError):
        # Slack failing (rate limits past the client's retries, its own errors) is no bug.
        code = error_code(error)
        log.warning("Slack refused a call, told the person: %s", code)
        return tell_slack_failed(body, client, respond, code, answered=acked)
    if isinstance(error, URLError | ConnectionError | TimeoutError):
        # Slack (its Web API or a response_url) unreachable past the client's retries.
        log.warning("could not reach Slack (%s), told the person", type(error).__name__)
        return tell_slack_failed(body, client, respond, "unreachable", answered=acked)
    if database_unavailable(error):
        # Down or restarting: not a bug, and the unit of work rolled back.
        log.warning("database unavailable (%s), told the person", type(error).__name__)
        return tell_database_down(body, client, respond, answered=acked)
    # The person sees Slack's own "couldn't reach the app" note; details stay in the log.
    log.error(
        "unhandled %s while handling a %s request",
        type(error).__name__,
        body.get("type") or ("command" if body.get("command") else "unknown"),
        exc_info=error,
    )
    return BoltResponse(status=500, body="")
