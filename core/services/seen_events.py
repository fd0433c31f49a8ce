"""Slack's retried events acted on once, whichever worker gets them: the first to record an
event id acts, any retry of it finds the id taken."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from core.db import UnitOfWork
from core.models import SeenSlackEvent

# Slack retries three times within minutes; an hour leaves ample margin.
KEEP = timedelta(hours=1)


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
