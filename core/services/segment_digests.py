"""A saved segment's opt-in weekly digest into a channel of staff: set from the segment's
form, claimed when a week has passed (naming who is new in it since the last one), paused
when the channel is found not to be all staff."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, insert, or_, select

from core.actor import Actor
from core.db import UnitOfWork
from core.errors import NotFound
from core.models import Customer, Role, Segment, SegmentDigestMember
from core.services.segments import SegmentFilters, segment_customer_ids

DIGEST_EVERY = timedelta(days=7)
NAMES_SHOWN = 10
NAMES_FROM = 1000


@dataclass(frozen=True)
class Digest:
    """One digest to post: the segment, where, how many it matches and who joined it."""

    segment_id: int
    team_id: str
    channel_id: str
    name: str
    enabled_by: str
    total: int
    # The first NAMES_SHOWN newcomers by name, and how many there are in all.
    newcomers: list[str]
    new_count: int
    first: bool


def set_digest(uow: UnitOfWork, actor: Actor, segment_id: int, channel_id: str | None) -> None:
    """Post saved segment `segment_id`'s digest weekly into `channel_id` (None: stop); the
    caller has judged the channel all staff."""
    row = uow.session.get(Segment, segment_id)
    if row is None or row.team_id != actor.team_id:
        raise NotFound("That segment no longer exists; someone may have deleted it.")
    if row.digest_channel_id == channel_id and not row.digest_paused:
        return
    row.digest_channel_id = channel_id
    row.digest_by = actor.user_id if channel_id else None
    row.digest_paused = ""
    if channel_id is None:
        row.digest_sent_at = None
        uow.session.execute(
            delete(SegmentDigestMember).where(SegmentDigestMember.segment_id == row.id)
        )


def claim_due(uow: UnitOfWork) -> Digest | None:
    """The longest-waiting digest due now, marked sent with whom it matches (None: none due).

    Claimed in the caller's unit of work, which commits before the post: a worker dying
    mid-post loses that week's digest rather than posting it twice."""
    now = uow.now()
    row = uow.session.scalar(
        select(Segment)
        .where(
            Segment.digest_channel_id.is_not(None),
            Segment.digest_paused == "",
            or_(Segment.digest_sent_at.is_(None), Segment.digest_sent_at <= now - DIGEST_EVERY),
        )
        .order_by(Segment.digest_sent_at.is_not(None), Segment.digest_sent_at, Segment.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if row is None or row.digest_channel_id is None:
        return None
    by = row.digest_by or ""
    filters = SegmentFilters.from_json(json.loads(row.filters))
    current = set(
        uow.session.scalars(segment_customer_ids(uow, Actor(row.team_id, by, Role.STAFF), filters))
    )
    before = set(
        uow.session.scalars(
            select(SegmentDigestMember.customer_id).where(SegmentDigestMember.segment_id == row.id)
        )
    )
    first = row.digest_sent_at is None
    joined = current if first else current - before
    _remember(uow, row.id, current)
    row.digest_sent_at = now
    return Digest(
        row.id,
        row.team_id,
        row.digest_channel_id,
        row.name,
        by,
        len(current),
        _names(uow, joined),
        len(joined),
        first,
    )


def _remember(uow: UnitOfWork, segment_id: int, members: set[int]) -> None:
    uow.session.execute(
        delete(SegmentDigestMember).where(SegmentDigestMember.segment_id == segment_id)
    )
    if members:
        uow.session.execute(
            insert(SegmentDigestMember),
            [{"segment_id": segment_id, "customer_id": c} for c in sorted(members)],
        )


def _names(uow: UnitOfWork, ids: set[int]) -> list[str]:
    if not ids:
        return []
    # By name among (at most) the first NAMES_FROM newcomers: a week's are seldom more, and
    # the statement stays within every database's limit of bound values.
    chosen = sorted(ids)[:NAMES_FROM]
    rows = uow.session.execute(
        select(Customer.first_name, Customer.last_name)
        .where(Customer.id.in_(chosen))
        .order_by(Customer.name_key, Customer.id)
        .limit(NAMES_SHOWN)
    ).all()
    return [f"{first} {last}" for first, last in rows]


def pause_digest(uow: UnitOfWork, segment_id: int, reason: str) -> str | None:
    """Hold segment `segment_id`'s digest back; who enabled it (to tell), or None."""
    row = uow.session.get(Segment, segment_id)
    if row is None:
        return None
    row.digest_paused = reason[:300]
    return row.digest_by
