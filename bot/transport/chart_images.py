"""GET /charts/<token>.png: one customer's sales chart for a signed, short-lived link."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from core.actor import Actor
from core.adapters.charts import render_sales_chart, sales_chart_title
from core.chart_links import SUFFIX, InvalidChartLink, chart_key, verify_chart_token
from core.db import Database
from core.errors import NotFound
from core.services.customers import get_customer
from core.services.sales import monthly_sales

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
Answer = tuple[str, list[tuple[str, str]], bytes]

# Reads on behalf of a link: the signature shows that a staff member's view of this tenant
# asked for the image, but the link names no person, so this stands in for them.
LINK_READER = "chart-link"


def _plain(status: str, text: str) -> Answer:
    body = text.encode()
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")]
    return status, headers, body


def _answer(db: Database, name: str) -> Answer:
    secret = db.settings.slack_signing_secret
    if secret is None or not secret.get_secret_value() or not name.endswith(SUFFIX):
        return _plain("404 Not Found", "Not found.\n")
    now = db.clock().timestamp()
    try:
        grant = verify_chart_token(
            name.removesuffix(SUFFIX), secret=chart_key(secret.get_secret_value()), now=now
        )
    except InvalidChartLink as exc:
        log.info("refused a chart link: %s", exc.reason)
        return _plain("403 Forbidden", "This chart link is invalid or has expired.\n")
    reader = Actor(team_id=grant.team_id, user_id=LINK_READER)
    try:
        with db.unit_of_work(readonly=True) as uow:
            customer = get_customer(uow, reader, grant.customer_uid)
            series = monthly_sales(uow, reader, grant.customer_uid)
    except NotFound:
        return _plain("404 Not Found", "This customer no longer exists.\n")
    except SQLAlchemyError as exc:
        log.warning("chart image: database unavailable (%s)", type(exc).__name__)
        return _plain("503 Service Unavailable", "The chart is unavailable; try again shortly.\n")
    png = render_sales_chart(series, title=sales_chart_title(customer.full_name))
    headers = [
        ("Content-Type", "image/png"),
        ("Cache-Control", f"private, max-age={max(0, math.floor(grant.expires_at - now))}"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    return "200 OK", headers, png


def serve_chart(db: Database, name: str, start_response: StartResponse) -> list[bytes]:
    """Answer for the last path segment `name` (`<token>.png`): a PNG, or a short plain refusal."""
    try:
        status, headers, body = _answer(db, name)
    except Exception:
        log.exception("chart image failed")
        status, headers, body = _plain("500 Internal Server Error", "The chart failed to draw.\n")
    start_response(status, [*headers, ("Content-Length", str(len(body)))])
    return [body]
