"""Stripe webhook deliveries for tests: events shaped as Stripe documents them, signed with
Stripe's scheme (`t=<ts>,v1=<HMAC-SHA256 of "<ts>.<payload>">`) and posted over HTTP."""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import stripe

# Stripe's `created` times in these tests: 2026-03-14 09:00 UTC, then a second apart.
T0 = 1773478800
_ids = itertools.count(1)


def event(kind: str, obj: dict[str, Any], *, created: int = T0, event_id: str = "") -> str:
    """The JSON body of a Stripe event of type `kind` about `obj`."""
    return json.dumps(
        {
            "id": event_id or f"evt_test{next(_ids):06d}",
            "object": "event",
            "api_version": "2024-06-20",
            "created": created,
            "type": kind,
            "livemode": False,
            "pending_webhooks": 1,
            "data": {"object": obj},
        }
    )


def sign(payload: str, secret: str, *, at: float | None = None) -> str:
    """The Stripe-Signature header of `payload` signed with `secret` at `at` (now)."""
    timestamp = int(time.time() if at is None else at)
    return str(stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp))


@dataclass(frozen=True)
class Delivery:
    """What the endpoint answered."""

    status: int
    body: dict[str, Any]

    @property
    def reason(self) -> str:
        return str(self.body.get("reason", ""))

    @property
    def outcome(self) -> str:
        return str(self.body.get("outcome", ""))


def post(url: str, payload: str | bytes, signature: str | None) -> Delivery:
    """POST a delivery as Stripe does (JSON, with its signature header unless None)."""
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    data = payload.encode() if isinstance(payload, str) else payload
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return Delivery(response.status, json.loads(response.read()))
    except urllib.error.HTTPError as exc:
        return Delivery(exc.code, json.loads(exc.read()))


def charge(intent_id: str, amount: int, refunds: list[dict[str, Any]] | None) -> dict[str, Any]:
    """A charge of payment `intent_id`; `refunds` None leaves them out, as API versions from
    2022-11-15 do."""
    refunded = sum(r["amount"] for r in refunds or [])
    obj: dict[str, Any] = {
        "id": f"ch_test{next(_ids):06d}",
        "object": "charge",
        "amount": amount,
        "amount_refunded": refunded,
        "currency": "gbp",
        "payment_intent": intent_id,
        "refunded": refunded >= amount,
        "status": "succeeded",
    }
    if refunds is not None:
        obj["refunds"] = {"object": "list", "data": refunds, "has_more": False}
    return obj


def intent(intent_id: str, amount: int, *, failure: str | None = None) -> dict[str, Any]:
    """A payment intent that succeeded, or (with `failure`) whose attempt failed."""
    obj: dict[str, Any] = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": 0 if failure else amount,
        "currency": "gbp",
        "status": "requires_payment_method" if failure else "succeeded",
        "last_payment_error": None,
    }
    if failure:
        obj["last_payment_error"] = {
            "code": "card_declined",
            "message": failure,
            "type": "card_error",
        }
    return obj


def _listing(*data: dict[str, Any]) -> dict[str, Any]:
    return {"object": "list", "data": list(data), "has_more": False}


def subscription(
    stripe_id: str, status: str, *, period_end: int, paused: bool = False, legacy: bool = False
) -> dict[str, Any]:
    """A subscription as API versions from 2025-03-31 send it (its period on its items), or
    `legacy`, as older ones do (on the subscription)."""
    obj: dict[str, Any] = {
        "id": stripe_id,
        "object": "subscription",
        "status": status,
        "pause_collection": {"behavior": "void", "resumes_at": None} if paused else None,
    }
    item = {"id": "si_test1", "object": "subscription_item"}
    if legacy:
        obj |= {"current_period_end": period_end, "items": _listing(item)}
    else:
        obj["items"] = _listing(item | {"current_period_end": period_end})
    return obj


def invoice(
    stripe_id: str, *, period_end: int, next_attempt: int | None = None, legacy: bool = False
) -> dict[str, Any]:
    """A subscription's invoice as API versions from 2025-03-31 send it (the subscription
    under `parent`), or `legacy`, as older ones do (`subscription` on it)."""
    obj: dict[str, Any] = {
        "id": f"in_test{next(_ids):06d}",
        "object": "invoice",
        "next_payment_attempt": next_attempt,
        "lines": _listing(
            {"id": "il_test1", "object": "line_item", "period": {"start": 0, "end": period_end}}
        ),
    }
    if legacy:
        obj["subscription"] = stripe_id
    else:
        obj["parent"] = {
            "type": "subscription_details",
            "subscription_details": {"subscription": stripe_id, "metadata": {}},
        }
    return obj
