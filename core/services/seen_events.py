"""Slack's retried events acted on once, whichever worker gets them: the first to record an
event id acts, any retry of it finds the id taken."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from core.db import UnitOfWork
from core.errors import DomainError
from core.models import SeenSlackEvent

# Slack retries three times within minutes; an hour leaves ample margin.
KEEP = timedelta(hours=1)

T = TypeVar("T")


def first_sighting(uow: UnitOfWork, team_id: str, event_id: str) -> bool:
    """Record `event_id`; False when it was recorded before (this delivery is a retry)."""
    now = uow.now()
    uow.session.execute(delete(SeenSlackEvent).where(SeenSlackEvent.seen_at < now - KEEP))
    try:
        # A savepoint: a racing delivery waits for the first on PostgreSQL, then fails here.
        with uow.session.begin_nested():
            uow.session.add(SeenSlackEvent(team_id=team_id, event_id=event_id, seen_at=now))
    except IntegrityError:
        return False
    return True


def act_once(
    uow: UnitOfWork, team_id: str, event_id: str, act: Callable[[], T]
) -> T | DomainError | None:
    """`act()`'s result, or the DomainError that refused it, for the first delivery of
    `event_id`; None for a retry. A refusal's changes are undone, its sighting is kept, so a
    retry of a refused event is refused no second time."""
    if not first_sighting(uow, team_id, event_id):
        return None
    try:
        with uow.session.begin_nested():
            return act()
    except DomainError as refusal:
        return refusal
