"""Which workspaces' rows of some kinds a unit of work changed, told once it has committed.

Rows changed through the ORM are seen at each flush (added, changed or deleted objects); a
rolled-back unit of work tells nothing. Whoever listens must return at once: it is called
inside the commit of the request that made the change.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Any

from sqlalchemy.orm import Session, SessionTransaction

from core.db import Database

Notify = Callable[[frozenset[str]], None]


def watch_commits(db: Database, kinds: tuple[type[Any], ...], notify: Notify) -> None:
    """Call `notify(team_ids)` after each commit that changed rows of `kinds` in those teams."""
    key = object()

    def collect(session: Session, _context: object, _instances: object) -> None:
        changed = (
            row
            for row in chain(session.new, session.dirty, session.deleted)
            if isinstance(row, kinds) and (row not in session.dirty or session.is_modified(row))
        )
        teams = {str(row.team_id) for row in changed}
        if teams:
            session.info.setdefault(key, set()).update(teams)

    def committed(session: Session) -> None:
        # Fired for a savepoint too, whose changes are not yet committed.
        if session.in_nested_transaction():
            return
        teams = session.info.pop(key, None)
        if teams:
            notify(frozenset(teams))

    def rolled_back(session: Session, previous: SessionTransaction) -> None:
        # A savepoint rolled back leaves the rest of its transaction to commit.
        if previous.parent is None:
            session.info.pop(key, None)

    db.listen("before_flush", collect)
    db.listen("after_commit", committed)
    db.listen("after_soft_rollback", rolled_back)
