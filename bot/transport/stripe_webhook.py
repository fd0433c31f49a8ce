"""POST /stripe/webhook/<team id>: Stripe's events for one workspace, answered with the status
the service chose and a short reason Stripe's dashboard shows (never the payload)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from bot.transport.limits import StartResponse
from core.adapters.payments import Gateways
from core.db import Database
from core.services.stripe_webhooks import WEBHOOK_PATH, receive

log = logging.getLogger(__name__)

_STATUS = {
    200: "200 OK",
    400: "400 Bad Request",
    409: "409 Conflict",
    503: "503 Service Unavailable",
}


def _body(environ: dict[str, Any]) -> bytes:
    """The request body; `bounded_body` has read it already, within MAX_BODY_BYTES."""
    length = str(environ.get("CONTENT_LENGTH") or "0")
    return bytes(environ["wsgi.input"].read(int(length))) if length.isdigit() else b""


def serve_stripe_webhook(
    db: Database, gateways: Gateways, environ: dict[str, Any], start_response: StartResponse
) -> Iterable[bytes]:
    """Verify and apply one delivery, answering Stripe in JSON."""
    team_id = str(environ.get("PATH_INFO", "")).removeprefix(WEBHOOK_PATH)
    signature = environ.get("HTTP_STRIPE_SIGNATURE")
    answer = receive(db, gateways, team_id, _body(environ), signature)
    if answer.status == 200:
        log.info("stripe webhook for %s: %s %s", team_id, answer.reason, answer.outcome)
    else:
        # The path is anyone's to write: shown quoted and cut, never as a log line of its own.
        log.warning("stripe webhook for %r refused: %s", team_id[:40], answer.reason)
    payload: dict[str, Any] = {"ok": answer.status == 200, "reason": answer.reason}
    if answer.outcome:
        payload["outcome"] = answer.outcome
    body = json.dumps(payload).encode()
    start_response(
        _STATUS[answer.status],
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]
