"""As-you-type search and list paging over 100,000 demo customers, on SQLite and PostgreSQL.

Run with `python -m bench.search [--customers N] [--repeats N]` (or `make bench` for all).
Each call is timed as a request makes it: one read-only unit of work around one service
call. PostgreSQL runs in a throw-away database created next to BENCH_DATABASE_URL's.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench._support import (
    QUERIES,
    RESULTS_DIR,
    TEAM_ID,
    Loaded,
    console,
    latency_table,
    on_each_database,
    percentiles,
    settings_for,
    write_results,
)
from core.actor import Actor
from core.db import Database, UnitOfWork
from core.models import CustomerStatus, Role
from core.services.customers import list_customers, search_customers

RESULTS = RESULTS_DIR / "search.json"
PAGE_SIZE = 10
LIST_QUERY = "ma"


@dataclass
class Measured:
    """Latency samples of one kind of call, in milliseconds."""

    samples: list[float] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "samples": len(self.samples),
            "queries": self.queries,
            **percentiles(self.samples),
        }


def _time(db: Database, call: Callable[[UnitOfWork], object], repeats: int) -> list[float]:
    with db.unit_of_work(readonly=True) as uow:
        call(uow)  # warm caches and the statement cache, as a running app would have
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        with db.unit_of_work(readonly=True) as uow:
            call(uow)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _measure(db: Database, repeats: int) -> dict[str, Measured]:
    actor = Actor(team_id=TEAM_ID, user_id="bench", role=Role.STAFF)
    by_length: dict[int, Measured] = {}
    by_kind: dict[str, Measured] = {}
    for kind, queries in QUERIES.items():
        for query in queries:

            def search(uow: UnitOfWork, query: str = query) -> object:
                return search_customers(
                    uow, actor, query, status=CustomerStatus.ACTIVE, limit=PAGE_SIZE
                )

            samples = _time(db, search, repeats)
            for measured in (
                by_length.setdefault(len(query), Measured()),
                by_kind.setdefault(kind, Measured()),
            ):
                measured.samples += samples
                measured.queries.append(query)
    results = {f"search, {n} char{'s' if n > 1 else ''}": by_length[n] for n in sorted(by_length)}
    results.update({f"search, {kind}": measured for kind, measured in by_kind.items()})
    for query in ("", LIST_QUERY):
        for page in (1, 50):
            label = f"list page {page}" + (f' matching "{query}"' if query else "")

            def listing(uow: UnitOfWork, page: int = page, query: str = query) -> object:
                return list_customers(uow, actor, query=query, page=page, page_size=PAGE_SIZE)

            results[label] = Measured(_time(db, listing, repeats * 3), [query])
    return results


def _bench(loaded: Loaded, repeats: int) -> dict[str, Any]:
    db = Database(settings_for(loaded.url))
    try:
        measured = _measure(db, repeats)
    finally:
        db.dispose()
    operations = {label: m.summary() for label, m in measured.items()}
    console.print(latency_table(loaded.title, "operation (limit / page size 10)", operations))
    return {"operations": operations}


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark on both databases, print the tables and write the JSON results."""
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=20, help="timed calls per query")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    console.print(f"[bold]Search benchmark[/bold]: {args.customers:,} demo customers per database")
    results: dict[str, Any] = {
        "benchmark": "search",
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "databases": on_each_database(
            "search", args.customers, lambda loaded: _bench(loaded, args.repeats)
        ),
    }
    write_results(RESULTS, results)
    console.print(f"Results written to {RESULTS} ({time.perf_counter() - started:.0f} s in all).")


if __name__ == "__main__":
    main()
