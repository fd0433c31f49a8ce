"""Whether a database is at the newest migration, told without loading Alembic.

Each migration's revision id is its file's four-digit number (0001_…py is "0001"), so the
newest is the highest number; a start-up that finds the database there skips Alembic's work of
importing every migration script (a tenth of a second or more)."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

VERSIONS_DIR = Path(__file__).parent / "versions"
_NUMBERED = re.compile(r"^(\d{4})_\w+\.py$")


def newest_revision() -> str:
    """The revision id of the newest migration shipped."""
    return max(m.group(1) for p in VERSIONS_DIR.iterdir() if (m := _NUMBERED.match(p.name)))


def at_head(engine: Engine) -> bool:
    """Whether the database's schema is at the newest migration (False when it has none yet)."""
    try:
        # Read-only: on SQLite not a writer's BEGIN IMMEDIATE (core/db.py).
        with engine.connect().execution_options(customer_records_readonly=True) as conn:
            stored = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except DBAPIError:
        return False  # no alembic_version table: a new database
    return stored == [newest_revision()]
