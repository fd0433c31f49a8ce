"""When a conversation's members last changed, shared by every worker: the one that gets
Slack's join or leave event notes it, the others see it before trusting what they remember."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from core.db import UnitOfWork
from core.models import ConversationChange

# Workers remember members for a minute; a change older than an hour can't matter.
KEEP = timedelta(hours=1)


def note_change(uow: UnitOfWork, team_id: str, channel_id: str) -> None:
    """Someone joined or left `channel_id` just now."""
    now = uow.now()
    uow.session.execute(
        delete(ConversationChange).where(ConversationChange.changed_at < now - KEEP)
    )
    row = uow.session.get(ConversationChange, (team_id, channel_id), with_for_update=True)
    if row is not None:
        row.changed_at = max(row.changed_at, now)
        return
    try:
        # A savepoint: when another worker inserts the same conversation first, its time stands
        # (the same moment, give or take the time between the two events).
        with uow.session.begin_nested():
            uow.session.add(
                ConversationChange(team_id=team_id, channel_id=channel_id, changed_at=now)
            )
    except IntegrityError:
        return


def changed_since(uow: UnitOfWork, team_id: str, channel_id: str, since: datetime) -> bool:
    """Whether `channel_id`'s members changed at or after `since`."""
    changed = uow.session.scalar(
        select(ConversationChange.changed_at).where(
            ConversationChange.team_id == team_id, ConversationChange.channel_id == channel_id
        )
    )
    return changed is not None and changed >= since
