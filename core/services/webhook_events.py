"""What the Stripe webhook handlers share: the event as verified, reading its object's fields,
and the name changes from Stripe are recorded under."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.adapters.payments import RefundInfo
from core.db import UnitOfWork
from core.errors import NotFound
from core.models import Customer
from core.services.customers import OwnedT, lock_owner

# The actor of every account history entry a webhook writes.
STRIPE_ACTOR = "Stripe"


def held(uow: UnitOfWork, load: Callable[[], OwnedT]) -> tuple[OwnedT, Customer] | None:
    """What `load` finds and its owner, both locked (owner first, as a merge takes them);
    None once it is gone."""
    try:
        row, customer = lock_owner(uow, load)
    except NotFound:
        return None
    uow.session.refresh(row, with_for_update=True)
    return row, customer


class Malformed(Exception):
    """A signed event without a field its type always has: refused, nothing applied."""


@dataclass(frozen=True)
class WebhookEvent:
    """One verified Stripe event for workspace `team_id`; `object` is its `data.object`."""

    team_id: str
    id: str
    type: str
    created: datetime
    object: dict[str, Any]
    # Refunds of a charge asked of Stripe before the transaction, when the event lacks them.
    refunds: tuple[RefundInfo, ...] | None = None


def text(data: dict[str, Any], key: str) -> str:
    """A required string field."""
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise Malformed(key)
    return value


def optional_text(data: dict[str, Any], key: str) -> str | None:
    """A string field Stripe may leave null."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Malformed(key)
    return value


def moment(value: Any, key: str) -> datetime:
    """A Unix timestamp (Stripe's times) as a UTC datetime."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise Malformed(key)
    return datetime.fromtimestamp(value, UTC)


def optional_moment(data: dict[str, Any], key: str) -> datetime | None:
    """A Unix timestamp field Stripe may leave null."""
    value = data.get(key)
    return None if value is None else moment(value, key)


def mapping(data: dict[str, Any], key: str) -> dict[str, Any] | None:
    """A nested object Stripe may leave out or null."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Malformed(key)
    return value


def items(data: dict[str, Any] | None, key: str) -> list[dict[str, Any]]:
    """The objects of a list object (`{"object": "list", "data": [...]}`) at `key`, if any."""
    listing = mapping(data or {}, key)
    if listing is None:
        return []
    entries = listing.get("data", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise Malformed(key)
    return entries
