"""GET /stripe/connect/callback: where Stripe sends a studio's admin back from Stripe Connect's
consent page. The page says the account is connected, or exactly why not; never a trace or a
secret (Stripe's access token is never kept, the code and state never shown or logged)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy.exc import SQLAlchemyError

from bot.transport.limits import StartResponse
from bot.transport.oauth import page
from core.adapters.payments import PaymentError
from core.adapters.stripe_connect import StripeConnect
from core.db import Database
from core.errors import DomainError
from core.services.stripe_connect import (
    START_AGAIN,
    ConnectRefused,
    cancel_connect,
    finish_connect,
)

log = logging.getLogger(__name__)

# Stripe's states and codes are short; anything longer is not from Stripe.
PARAM_MAX = 512
NOT_CONNECTED = "Stripe was not connected"
DENIED = f"You declined on Stripe's page, so nothing was connected. {START_AGAIN}"
NOT_FROM_STRIPE = (
    "This address is where Stripe sends you back after Connect with Stripe, and this visit "
    f"did not come from there. {START_AGAIN}"
)
NO_DATABASE = f"The app's database couldn't be reached, so nothing was connected. {START_AGAIN}"


def _answer(
    start_response: StartResponse, status: str, title: str, message: str, link: str = ""
) -> list[bytes]:
    body = page(title, message, link=(link, "Open Slack") if link else None).encode()
    start_response(
        status,
        [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            # The address holds the state and the code: no page it leads to should see them.
            ("Referrer-Policy", "no-referrer"),
        ],
    )
    return [body]


def _params(environ: dict[str, Any]) -> dict[str, str]:
    query = parse_qs(str(environ.get("QUERY_STRING", "")), max_num_fields=20)
    return {
        name: values[0]
        for name, values in query.items()
        if name in {"state", "code", "error"} and len(values[0]) <= PARAM_MAX
    }


def _declined(db: Database, state: str, error: str) -> tuple[str, str]:
    """Forget the state Stripe returned with an error; the status and what to say."""
    if state:
        try:
            cancel_connect(db, state)
        except SQLAlchemyError as exc:
            log.warning("could not forget a declined Stripe Connect state (%s)", type(exc).__name__)
    log.info("Stripe Connect came back with %s", error if error.isidentifier() else "an error")
    if error == "access_denied":
        return "200 OK", DENIED
    return "400 Bad Request", f"Stripe did not authorize the connection. {START_AGAIN}"


def connect_callback(
    db: Database, connect: StripeConnect, environ: dict[str, Any], start_response: StartResponse
) -> Iterable[bytes]:
    """Finish connecting the studio the state names, and say how it went."""
    params = _params(environ)
    state, code = params.get("state", ""), params.get("code", "")
    if "error" in params:
        status, message = _declined(db, state, params["error"])
        return _answer(start_response, status, NOT_CONNECTED, message)
    if not state or not code:
        return _answer(start_response, "400 Bad Request", NOT_CONNECTED, NOT_FROM_STRIPE)
    try:
        connected = finish_connect(db, connect, state, code)
    except ConnectRefused as exc:
        return _answer(start_response, "400 Bad Request", NOT_CONNECTED, exc.message)
    except PaymentError as exc:
        log.warning("Stripe Connect: the code exchange failed")
        return _answer(
            start_response, "502 Bad Gateway", NOT_CONNECTED, f"{exc.message} {START_AGAIN}"
        )
    except DomainError as exc:
        log.warning("Stripe Connect: the account was refused (%s)", type(exc).__name__)
        message = f"Stripe answered with an account this app can't use. {START_AGAIN}"
        return _answer(start_response, "502 Bad Gateway", NOT_CONNECTED, message)
    except SQLAlchemyError as exc:
        log.warning("Stripe Connect: database unavailable (%s)", type(exc).__name__)
        return _answer(start_response, "503 Service Unavailable", NOT_CONNECTED, NO_DATABASE)
    log.info("Stripe Connect: workspace %s connected %s", connected.team_id, connected.account_id)
    message = (
        f"Stripe account {connected.account_id} is now the studio's Stripe account: its "
        "payments, refunds and subscription changes go through it. Return to Slack, where the "
        "app's Home shows it."
    )
    link = f"slack://open?team={connected.team_id}"
    return _answer(start_response, "200 OK", "Stripe connected", message, link)
