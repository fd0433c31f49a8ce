"""Segments saved by name for the workspace: save, open, list with their counts, delete."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from core.actor import Actor
from core.db import UnitOfWork
from core.errors import Forbidden, NotFound, ValidationFailed
from core.models import SEGMENT_NAME_MAX, Segment, SegmentCount
from core.services.segments import SegmentFilters, count_segment, validated
from core.services.workspaces import ensure_workspace
from core.text import fold

# A workspace's Home lists them all, each with a count at most COUNT_MAX_AGE old.
MAX_SAVED = 20
COUNT_MAX_AGE = timedelta(minutes=5)


@dataclass(frozen=True)
class SavedSegment:
    """A saved segment, and how many customers it matches now (None when not counted)."""

    id: int
    name: str
    filters: SegmentFilters
    created_by: str
    count: int | None = None
    # Its weekly digest's channel (None: none), and why it is paused ("" while it runs).
    digest_channel_id: str | None = None
    digest_paused: str = ""


def _saved(row: Segment, count: int | None = None) -> SavedSegment:
    stored = SegmentFilters.from_json(json.loads(row.filters))
    return SavedSegment(
        row.id, row.name, stored, row.created_by, count, row.digest_channel_id, row.digest_paused
    )


def _name(name: str) -> tuple[str, str]:
    shown = " ".join(name.split())
    if not shown:
        raise ValidationFailed({"name": "Name the segment to save it."})
    if len(shown) > SEGMENT_NAME_MAX:
        raise ValidationFailed({"name": f"Keep the name to {SEGMENT_NAME_MAX} characters."})
    return shown, fold(shown)


def save_segment(
    uow: UnitOfWork,
    actor: Actor,
    name: str,
    filters: SegmentFilters,
    *,
    segment_id: int | None = None,
) -> SavedSegment:
    """Save `filters` as `name`, or as segment `segment_id`'s new name and filters.

    Names are unique in the workspace whatever their case or accents."""
    shown, key = _name(name)
    filters = validated(filters)
    session = uow.session
    clash = session.scalar(
        select(Segment).where(Segment.team_id == actor.team_id, Segment.name_key == key)
    )
    if clash is not None and clash.id != segment_id:
        raise ValidationFailed(
            {"name": f"A segment called “{clash.name}” exists; choose another name."}
        )
    now = uow.now()
    if segment_id is None:
        saved = session.scalars(select(Segment.id).where(Segment.team_id == actor.team_id)).all()
        if len(saved) >= MAX_SAVED:
            raise ValidationFailed(
                {"name": f"The workspace has {MAX_SAVED} saved segments; delete one first."}
            )
        ensure_workspace(uow, actor.team_id)
        row = Segment(team_id=actor.team_id, created_by=actor.user_id, created_at=now)
        session.add(row)
    else:
        row = _segment(uow, actor, segment_id)
    row.name, row.name_key = shown, key
    row.filters = json.dumps(filters.to_json(), sort_keys=True)
    row.updated_by, row.updated_at = actor.user_id, now
    session.flush()
    session.execute(delete(SegmentCount).where(SegmentCount.segment_id == row.id))
    return _saved(row)


def _segment(uow: UnitOfWork, actor: Actor, segment_id: int) -> Segment:
    row = uow.session.get(Segment, segment_id)
    if row is None or row.team_id != actor.team_id:
        raise NotFound("That segment no longer exists; someone may have deleted it.")
    return row


def open_segment(uow: UnitOfWork, actor: Actor, segment_id: int) -> SavedSegment:
    """Saved segment `segment_id` of the actor's workspace."""
    return _saved(_segment(uow, actor, segment_id))


def list_segments(uow: UnitOfWork, actor: Actor) -> list[SavedSegment]:
    """The workspace's saved segments by name, each with a count at most COUNT_MAX_AGE old
    (recounted and kept when older: writes)."""
    rows = uow.session.execute(
        select(Segment, SegmentCount)
        .outerjoin(SegmentCount, SegmentCount.segment_id == Segment.id)
        .where(Segment.team_id == actor.team_id)
        .order_by(Segment.name_key)
    ).all()
    now = uow.now()
    listed = []
    for row, count in rows:
        saved = _saved(row)
        if count is None or now - count.counted_at > COUNT_MAX_AGE:
            count = _keep(uow, row, count_segment(uow, actor, saved.filters))
        listed.append(_saved(row, count.matched))
    return listed


def _keep(uow: UnitOfWork, row: Segment, matched: int) -> SegmentCount:
    count = uow.session.get(SegmentCount, row.id)
    if count is None:
        count = SegmentCount(segment_id=row.id, team_id=row.team_id)
        uow.session.add(count)
    count.matched, count.counted_at = matched, uow.now()
    return count


def note_count(uow: UnitOfWork, actor: Actor, segment_id: int, count: int) -> None:
    """Keep `count`, just made by opening saved segment `segment_id`, for Home to show."""
    row = uow.session.get(Segment, segment_id)
    if row is not None and row.team_id == actor.team_id:
        _keep(uow, row, count)


def delete_segment(uow: UnitOfWork, actor: Actor, segment_id: int) -> str:
    """Delete saved segment `segment_id` (whoever saved it, or an admin); its name."""
    row = _segment(uow, actor, segment_id)
    if row.created_by != actor.user_id and not actor.is_admin:
        raise Forbidden(
            f"Only an admin can delete a segment someone else saved; ask them to delete “{row.name}”."
        )
    uow.session.delete(row)
    return row.name
