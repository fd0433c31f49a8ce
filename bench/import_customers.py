"""Importing a customer CSV: 100,000 generated rows into an empty workspace, per database.

Run with `python -m bench.import_customers [--rows N]` (or `make bench`). The file has the
app's own columns plus a notes column on every tenth row; it is read from bytes, previewed
(as the CLI does before importing), then imported in batches. PostgreSQL runs when the server
of BENCH_DATABASE_URL is reachable.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from typing import Any

from rich.table import Table

from bench._support import (
    SEED,
    TEAM_ID,
    Loaded,
    console,
    machine,
    on_each_database,
    parse_args,
    settings_for,
    write_results,
)
from core.actor import Actor
from core.db import Database
from core.models import Role
from core.services.customer_columns import guess_mapping, read_csv
from core.services.customer_import import Outcome, import_rows, preview

NAME = "import_customers"
QUICK = {"rows": 2000}
HEADER = "uid,first_name,last_name,email,mobile,status,created_at,date_of_birth,notes"
FIRST = ("Zoë", "Anna", "José", "Siobhán", "Łukasz", "Chloé", "Oliver", "Amelia", "Kenji")
LAST = ("Müller", "O'Brien", "García", "Smith", "Nakamura", "Dubois", "Jones", "Kowalski")


def generated_file(rows: int) -> bytes:
    """A file shaped like `customer-bot`'s own export, with a note on every tenth row."""
    rng = random.Random(SEED)
    lines = [HEADER]
    for i in range(rows):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        status = "archived" if i % 10 == 3 else "active"
        birthday = f"19{rng.randint(50, 99)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        note = '"Prefers mornings, front row"' if i % 10 == 0 else ""
        lines.append(
            f",{first},{last},customer{i}@example.com,+4477009{i % 100_000:05d},{status},"
            f"2023-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00+00:00,{birthday},{note}"
        )
    return ("\n".join(lines) + "\n").encode()


def _bench(data: bytes, rows: int) -> Any:
    def run(loaded: Loaded) -> dict[str, Any]:
        db = Database(settings_for(loaded.url))
        actor = Actor(team_id=f"{TEAM_ID}IMP", user_id="UBENCH", role=Role.ADMIN)
        try:
            started = time.perf_counter()
            parsed = read_csv(data)
            mapping = guess_mapping(parsed.header)
            read = time.perf_counter() - started
            started = time.perf_counter()
            with db.unit_of_work(readonly=True) as uow:
                preview(uow, actor, parsed, mapping)
            previewed = time.perf_counter() - started
            started = time.perf_counter()
            report = import_rows(db, actor, parsed, mapping, source="bench.csv")
            imported = time.perf_counter() - started
        finally:
            db.dispose()
        if report.count(Outcome.NEW) != rows:
            raise RuntimeError(f"expected {rows} new customers, got {report.count(Outcome.NEW)}")
        return {
            "rows": rows,
            "read_seconds": round(read, 2),
            "preview_seconds": round(previewed, 2),
            "import_seconds": round(imported, 2),
            "import_rows_per_s": round(rows / imported),
        }

    return run


def main(argv: list[str] | None = None) -> None:
    """Time reading, previewing and importing the generated file on each database."""
    parser = argparse.ArgumentParser(prog="python -m bench.import_customers", description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the generated file")
    args = parse_args(parser, argv, NAME, QUICK)
    data = generated_file(args.rows)
    # No demo customers: the file goes into an empty database.
    databases = on_each_database(NAME, 0, _bench(data, args.rows))
    table = Table(
        title=f"Importing {args.rows:,} rows ({len(data) / 1e6:.1f} MB)", title_justify="left"
    )
    for heading in ("database", "read s", "preview s", "import s", "rows/s"):
        table.add_column(heading, justify="right" if heading != "database" else "left")
    for name, result in databases.items():
        if "skipped" in result:
            table.add_row(name, "skipped", "", "", "")
            continue
        table.add_row(
            result["engine"],
            f"{result['read_seconds']:.2f}",
            f"{result['preview_seconds']:.2f}",
            f"{result['import_seconds']:.2f}",
            f"{result['import_rows_per_s']:,}",
        )
    console.print(table)
    write_results(args.out, {"machine": machine(), "rows": args.rows, "databases": databases})


if __name__ == "__main__":
    main(sys.argv[1:])
