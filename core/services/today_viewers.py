"""Who has Today on screen: noted when it is published to them, forgotten when they leave it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from core.actor import Actor
from core.db import UnitOfWork
from core.models import TodayViewer
from core.services.staff import staff_among

# Someone who hasn't opened Home for this long isn't watching it: opening it again
# publishes Today afresh anyway.
WATCHING = timedelta(hours=12)
# At most this many people's Home tabs are republished per change (the most recent first).
VIEWERS_MAX = 25


def note_viewer(uow: UnitOfWork, actor: Actor) -> None:
    """`actor`'s Home now shows Today (one statement, whether or not it did before)."""
    insert = (
        postgresql.insert if uow.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    values = {"team_id": actor.team_id, "slack_user_id": actor.user_id, "shown_at": uow.now()}
    statement = insert(TodayViewer).values(values)
    uow.session.execute(
        statement.on_conflict_do_update(
            index_elements=[TodayViewer.team_id, TodayViewer.slack_user_id],
            set_={"shown_at": statement.excluded.shown_at},
        )
    )


def forget_viewer(uow: UnitOfWork, actor: Actor) -> None:
    """`actor`'s Home shows something else now."""
    uow.session.execute(
        delete(TodayViewer).where(
            TodayViewer.team_id == actor.team_id, TodayViewer.slack_user_id == actor.user_id
        )
    )


def viewers(uow: UnitOfWork, team_id: str) -> list[str]:
    """The staff of `team_id` watching Today, most recent first (at most VIEWERS_MAX)."""
    recent = uow.session.scalars(
        select(TodayViewer.slack_user_id)
        .where(TodayViewer.team_id == team_id, TodayViewer.shown_at >= uow.now() - WATCHING)
        .order_by(TodayViewer.shown_at.desc(), TodayViewer.slack_user_id)
        .limit(VIEWERS_MAX)
    ).all()
    # Someone whose access was removed keeps the row until they next open Home; not their view.
    allowed = staff_among(uow, team_id, recent) if recent else set()
    return [user for user in recent if user in allowed]
