"""The duplicates report at 100,000 customers: seconds to build it, on SQLite and PostgreSQL.

Run with `python -m bench.duplicates [--customers N] [--repeats N] [--quick]` (or `make bench`).
Each database gets the demo generator's customers plus planted duplicates of a few hundred of
them (the same mobile, the same gmail mailbox written with dots or a +tag, an accent or a
typo in the name); each repetition is one read-only unit of work around `find_duplicates`, as
the `/customers duplicates` command makes it. PostgreSQL runs next to BENCH_DATABASE_URL's
database (skipped when unreachable).
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime
from typing import Any

from rich.table import Table
from sqlalchemy import insert, select

from bench._support import (
    SEED,
    TEAM_ID,
    Loaded,
    console,
    machine,
    on_each_database,
    parse_args,
    percentiles,
    settings_for,
    write_results,
)
from core.actor import Actor
from core.db import Database
from core.models import Customer, Role
from core.services.customers import name_key, new_uid
from core.services.duplicates import find_duplicates

QUICK = {"customers": 2_000, "repeats": 2, "planted": 40}
METHOD_NOTE = (
    "Seconds per report: one read-only unit of work around find_duplicates (mobiles grouped in "
    "SQL, mailboxes and name blocks in one pass over three columns, pairs compared only within "
    "a block)."
)
ADMIN = Actor(team_id=TEAM_ID, user_id="UBENCHADMIN", role=Role.ADMIN)


def _variant(row: Customer, kind: int, rng: random.Random) -> dict[str, Any]:
    """A second record of the same person, as a receptionist might type it in again."""
    first, last, mobile = row.first_name, row.last_name, row.mobile
    local = row.email.rpartition("@")[0]
    email = f"{local}.{rng.randrange(10**6)}@example.net"
    if kind == 0:
        email = f"{local}+{rng.randrange(10**6)}@gmail.com"
    elif kind == 1:
        first = first.upper()
        mobile = f"+4477009{rng.randrange(10**5):05d}"
    elif kind == 2:
        last = last[:-1] + ("x" if last[-1:] != "x" else "y")
    now = datetime.now(UTC)
    return {
        "team_id": TEAM_ID,
        "uid": new_uid(),
        "first_name": first,
        "last_name": last,
        "name_key": name_key(first, last),
        "email": email,
        "mobile": mobile,
        "password_hash": None,
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "updated_by": "bench",
    }


def _plant(planted: int) -> Any:
    def prepare(db: Database) -> dict[str, Any]:
        rng = random.Random(SEED)
        with db.unit_of_work() as uow:
            ids = list(uow.session.scalars(select(Customer.id).where(Customer.team_id == TEAM_ID)))
            chosen = rng.sample(ids, min(planted, len(ids)))
            rows = [uow.session.get(Customer, i) for i in chosen]
            batch = [_variant(row, n % 3, rng) for n, row in enumerate(rows) if row is not None]
            uow.session.execute(insert(Customer), batch)
        return {"planted": len(batch)}

    return prepare


def _bench(repeats: int) -> Any:
    def run(loaded: Loaded) -> dict[str, Any]:
        db = Database(settings_for(loaded.url))
        try:
            samples: list[float] = []
            report = None
            for _ in range(repeats):
                started = time.perf_counter()
                with db.unit_of_work(readonly=True) as uow:
                    report = find_duplicates(uow, ADMIN)
                samples.append((time.perf_counter() - started) * 1000)
        finally:
            db.dispose()
        assert report is not None
        return {
            "report_ms": percentiles(samples),
            "best_s": round(min(samples) / 1000, 3),
            "worst_s": round(max(samples) / 1000, 3),
            "pairs_found": report.total,
            "planted": loaded.prepared.get("planted", 0),
        }

    return run


def _table(results: dict[str, Any]) -> Table:
    table = Table(title="Duplicates report", title_justify="left")
    for column in ("database", "customers", "planted", "pairs found", "best s", "worst s"):
        table.add_column(column, justify="left" if column == "database" else "right")
    for name, result in results.items():
        if "skipped" in result:
            table.add_row(name, "skipped", "", "", "", "")
            continue
        table.add_row(
            result["engine"],
            f"{result['customers']:,}",
            f"{result['planted']:,}",
            f"{result['pairs_found']:,}",
            f"{result['best_s']:.2f}",
            f"{result['worst_s']:.2f}",
        )
    return table


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark, print the table and write the JSON results."""
    parser = argparse.ArgumentParser(prog="python -m bench.duplicates", description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--planted", type=int, default=600, help="customers given a duplicate")
    args = parse_args(parser, argv, "duplicates", QUICK)
    host = machine()
    console.print(
        f"[bold]Duplicates benchmark[/bold]: {args.customers:,} demo customers, "
        f"{args.planted} planted duplicates, {args.repeats} reports per database; "
        f"{host['cores']} cores."
    )
    console.print(METHOD_NOTE, style="dim")
    started = time.perf_counter()
    results = on_each_database(
        "duplicates", args.customers, _bench(args.repeats), prepare=_plant(args.planted)
    )
    console.print(_table(results))
    write_results(
        args.out,
        {
            "benchmark": "duplicates",
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": host,
            "quick": args.quick,
            "method": METHOD_NOTE,
            "databases": results,
            "total_seconds": round(time.perf_counter() - started, 1),
        },
    )
    console.print(f"Results written to {args.out}.")


if __name__ == "__main__":
    main()
