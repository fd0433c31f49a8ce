"""The SQL a piece of work sends, for tests that look at statements and their plans."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from core.db import Database, UnitOfWork


def captured(db: Database, run: Callable[[UnitOfWork], object]) -> list[tuple[str, Any]]:
    """The statements `run` sends in a read-only unit of work, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        with db.unit_of_work(readonly=True) as uow:
            run(uow)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return seen
