"""The HTTP front: POST /slack/events for Slack, GET /healthz, GET /charts/<signed token>.png,
POST /stripe/webhook/<team id> for each studio's Stripe events, with OAuth installs
GET /slack/install and /slack/oauth_redirect, with Stripe Connect
GET /stripe/connect/callback, and GET /c/<UID>, a customer's link, sending browsers to Slack."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.transport.chart_images import serve_chart
from bot.transport.customer_links import redirect_to_app
from bot.transport.limits import StartResponse, WsgiApp, bounded_body
from bot.transport.stripe_connect import connect_callback
from bot.transport.stripe_webhook import serve_stripe_webhook
from core.adapters.payments import gateways_from_settings
from core.adapters.stripe_connect import CALLBACK_PATH, connect_from_settings
from core.chart_links import CHARTS_PATH
from core.customer_links import LINK_PATH
from core.db import Database
from core.services.stripe_webhooks import WEBHOOK_PATH

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def _json(start_response: StartResponse, status: str, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


def create_wsgi_app(app: App, db: Database) -> WsgiApp:
    """Route Slack's requests to Bolt (which verifies signatures), health checks, chart images
    Stripe's webhooks (verified with each studio's signing secret) and Stripe Connect's return."""
    slack = SlackRequestHandler(app)
    # Webhooks ask Stripe for a charge's refunds only when the event leaves them out.
    stripe_gateways = gateways_from_settings(db.settings)
    stripe_connect = connect_from_settings(db.settings)
    # Bolt's OAuth flow answers these itself, keeping its state in the database.
    oauth_paths = (
        {app.oauth_flow.install_path, app.oauth_flow.redirect_uri_path} if app.oauth_flow else set()
    )

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == EVENTS_PATH and method == "POST":
            try:
                return slack(environ, start_response)
            except Exception as exc:
                # Bolt reads the body before checking its signature, and a body Slack never
                # sends (e.g. `authorizations` not a list) can break that reading: refuse it.
                log.warning("refused a request Bolt could not read (%s)", type(exc).__name__)
                return _json(start_response, "400 Bad Request", {"ok": False})
        if path in oauth_paths and method == "GET":
            return slack(environ, start_response)
        if path == "/healthz" and method in {"GET", "HEAD"}:
            try:
                with db.engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
            except SQLAlchemyError as exc:
                log.warning("health check: database unavailable (%s)", type(exc).__name__)
                return _json(start_response, "503 Service Unavailable", {"ok": False})
            return _json(start_response, "200 OK", {"ok": True})
        if path == CALLBACK_PATH and method == "GET" and stripe_connect is not None:
            return connect_callback(db, stripe_connect, environ, start_response)
        if path.startswith(CHARTS_PATH) and method == "GET":
            return serve_chart(db, path.removeprefix(CHARTS_PATH), start_response)
        if path.startswith(LINK_PATH) and method in {"GET", "HEAD"}:
            return redirect_to_app(db.settings, start_response)
        if path.startswith(WEBHOOK_PATH) and method == "POST":
            return serve_stripe_webhook(db, stripe_gateways, environ, start_response)
        return _json(start_response, "404 Not Found", {"ok": False, "error": "not_found"})

    # Both servers run the app through this: no route sees a body over the limit.
    return bounded_body(wsgi)
