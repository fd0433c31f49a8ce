"""Writing and reading the account history (audit log) of a customer."""

from __future__ import annotations

from typing import Any

from core.db import UnitOfWork
from core.models import Customer, HistoryEntry

PASSWORD_CHANGED = "password changed"  # noqa: S105 - an audit label
# Before/after values longer than this are cut: the history says what changed, the record
# itself holds the full text.
VALUE_MAX = 280


def clip(text: str, limit: int = VALUE_MAX) -> str:
    """`text` cut to at most `limit` characters, ending in "…" when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def record(
    uow: UnitOfWork,
    actor: str,
    customer: Customer,
    action: str,
    *,
    changes: dict[str, Any] | None = None,
    detail: str = "",
) -> HistoryEntry:
    """Append one entry to `customer`'s history in the current transaction."""
    entry = HistoryEntry(
        team_id=customer.team_id,
        customer_id=customer.id,
        customer_uid=customer.uid,
        actor=actor,
        action=action,
        changes=changes or {},
        detail=detail,
        created_at=uow.now(),
    )
    uow.session.add(entry)
    return entry
