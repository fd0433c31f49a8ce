"""Redraws of one view taken in turn, each told the hash and the newest action the last one drew.

A turn is exclusive per view: within the process by a lock per view (so at most one thread per
view holds a database connection for it), and across processes on PostgreSQL by the view's row in
`view_redraws`, locked until the turn ends. SQLite serves a single process (several workers need
PostgreSQL), so there the last redraws are remembered in memory, the least recently drawn
forgotten first; a forgotten view falls back on the hash its action carried.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import Connection, bindparam, delete, update
from sqlalchemy.dialects.postgresql import insert

from core.db import Database
from core.models.view_redraw import ACTION_TS_MAX, VIEW_HASH_MAX, ViewRedraw

# Modals live for hours at most; a Home's row older than this only costs one retry.
KEPT = timedelta(days=1)
# Views remembered in memory (SQLite), each a few dozen bytes.
REMEMBERED = 4096
# How often a process removes the rows of views no longer redrawn (PostgreSQL).
PRUNE_EVERY = 3600.0

Key = tuple[str, str]


def _ts(action_ts: str) -> Decimal | None:
    try:
        return Decimal(action_ts) if action_ts else None
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class Drawn:
    """What the last redraw of a view drew: the hash Slack gave it and its action's timestamp."""

    view_hash: str | None = None
    action_ts: str = ""

    def newer_than(self, action_ts: str) -> bool:
        """Whether the view already shows an action newer than `action_ts`."""
        mine, theirs = _ts(action_ts), _ts(self.action_ts)
        return mine is not None and theirs is not None and theirs > mine

    def after(self, view_hash: str | None, action_ts: str) -> Drawn:
        """The record of a redraw with `view_hash` for `action_ts`, keeping the newest action."""
        ours = action_ts if len(action_ts) <= ACTION_TS_MAX and _ts(action_ts) else ""
        kept = self.action_ts if self.newer_than(ours) or not ours else ours
        # A hash that does not fit is not kept: the next redraw uses its action's own.
        fits = view_hash if view_hash and len(view_hash) <= VIEW_HASH_MAX else None
        return Drawn(fits, kept)


class Turn:
    """One redraw's exclusive turn at a view: what was drawn before it, and what it drew."""

    def __init__(self, last: Drawn) -> None:
        self.last = last
        self.drawn: Drawn | None = None

    def drew(self, view_hash: str | None, action_ts: str) -> None:
        """Record that this turn drew the view, which Slack gave `view_hash`."""
        self.drawn = self.last.after(view_hash, action_ts)


class _Slot:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0


class ViewRedraws:
    """Turns at redrawing views, one at a time per view, in every worker of the database."""

    def __init__(self, db: Database, *, remembered: int = REMEMBERED) -> None:
        self._db = db
        self._shared = db.dialect == "postgresql"
        self._mutex = threading.Lock()
        self._slots: dict[Key, _Slot] = {}
        self._memory: OrderedDict[Key, Drawn] = OrderedDict()
        self._remembered = remembered
        self._pruned_at = time.monotonic()

    @contextmanager
    def turn(self, team_id: str, view_key: str) -> Iterator[Turn]:
        """Wait for the view's turn; what the turn `drew` is kept for the next one."""
        key = (team_id, view_key)
        if self._shared:
            self._prune_now_and_then()
        with self._slot(key) as lock, lock:
            if self._shared:
                # A plain transaction: the lock and the hash are no unit of work's business.
                with self._db.engine.begin() as conn:
                    turn = Turn(_lock_row(conn, key, self._db.clock()))
                    yield turn
                    if turn.drawn is not None:
                        _store(conn, key, turn.drawn, self._db.clock())
                return
            turn = Turn(self._recall(key))
            yield turn
            if turn.drawn is not None:
                self._remember(key, turn.drawn)

    @contextmanager
    def _slot(self, key: Key) -> Iterator[threading.Lock]:
        # Slots exist only while someone uses them, so views long closed hold no lock.
        with self._mutex:
            slot = self._slots.setdefault(key, _Slot())
            slot.users += 1
        try:
            yield slot.lock
        finally:
            with self._mutex:
                slot.users -= 1
                if not slot.users:
                    del self._slots[key]

    def _prune_now_and_then(self) -> None:
        with self._mutex:
            due = time.monotonic() - self._pruned_at >= PRUNE_EVERY
            if due:
                self._pruned_at = time.monotonic()
        if due:
            cutoff = self._db.clock() - KEPT
            with self._db.engine.begin() as conn:
                # A scan: the table holds the views redrawn within a day.
                conn.execute(delete(ViewRedraw).where(ViewRedraw.drawn_at < cutoff))

    def _recall(self, key: Key) -> Drawn:
        with self._mutex:
            return self._memory.get(key) or Drawn()

    def _remember(self, key: Key, drawn: Drawn) -> None:
        with self._mutex:
            self._memory[key] = drawn
            self._memory.move_to_end(key)
            while len(self._memory) > self._remembered:
                self._memory.popitem(last=False)


# Built once: a turn runs per keystroke, and building a statement costs more than sending it.
_LOCK = (
    insert(ViewRedraw)
    .values(
        team_id=bindparam("b_team_id"),
        view_key=bindparam("b_view_key"),
        view_hash=None,
        action_ts="",
        drawn_at=bindparam("b_now"),
    )
    .on_conflict_do_update(
        index_elements=[ViewRedraw.team_id, ViewRedraw.view_key],
        set_={"drawn_at": bindparam("b_now")},
    )
    .returning(ViewRedraw.view_hash, ViewRedraw.action_ts)
)
_STORE = (
    update(ViewRedraw)
    .where(
        ViewRedraw.team_id == bindparam("b_team_id"), ViewRedraw.view_key == bindparam("b_view_key")
    )
    .values(
        view_hash=bindparam("b_view_hash"),
        action_ts=bindparam("b_action_ts"),
        drawn_at=bindparam("b_now"),
    )
)


def _lock_row(conn: Connection, key: Key, now: datetime) -> Drawn:
    """Lock the view's row until the transaction ends, adding it on the first redraw: one
    statement, which waits for the turn before it and reads what that turn drew."""
    found = conn.execute(_LOCK, {"b_team_id": key[0], "b_view_key": key[1], "b_now": now}).one()
    return Drawn(found.view_hash, found.action_ts)


def _store(conn: Connection, key: Key, drawn: Drawn, now: datetime) -> None:
    conn.execute(
        _STORE,
        {
            "b_team_id": key[0],
            "b_view_key": key[1],
            "b_view_hash": drawn.view_hash,
            "b_action_ts": drawn.action_ts,
            "b_now": now,
        },
    )
