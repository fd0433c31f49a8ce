"""As-you-type search and list paging over 100,000 demo customers, on SQLite and PostgreSQL.

Run with `python -m bench.search [--customers N] [--repeats N]` (or `make bench` for all).
Each call is timed as a request makes it: one read-only unit of work around one service
call. PostgreSQL runs in a throw-away database created next to BENCH_DATABASE_URL's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from core.actor import Actor
from core.config import Settings
from core.db import Database, UnitOfWork
from core.models import CustomerStatus, Role
from core.services.customers import list_customers, search_customers
from core.services.demo import load_demo_customers

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
RESULTS = Path(__file__).parent / "results" / "search.json"
TEAM_ID = "TBENCH"
SEED = 2026
PAGE_SIZE = 10


def _typed(word: str, shortest: int = 1) -> list[str]:
    """What the search box holds after each keystroke of `word`."""
    return [word[:n] for n in range(shortest, len(word) + 1)]


# What a receptionist types into the search box, keystroke by keystroke: names with and
# without their accents, mobile digits as people say them, and pieces of email addresses.
QUERIES = {
    "name prefixes": [
        *_typed("zoey"),
        "zoë",
        *_typed("maria"),
        *_typed("smith"),
        *_typed("josé"),
        *_typed("o'bri"),
        *_typed("łukas"),
        "田中",
    ],
    "mobile digits": [*_typed("07701", 3), "353", "4915"],
    "email fragments": ["zoe.", "@exam", ".org", "j.mu"],
}
LIST_QUERY = "ma"

console = Console()


@dataclass
class Measured:
    """Latency samples of one kind of call, in milliseconds."""

    samples: list[float] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        cuts = statistics.quantiles(self.samples, n=100, method="inclusive")
        return {
            "samples": len(self.samples),
            "queries": self.queries,
            "p50_ms": round(cuts[49], 2),
            "p95_ms": round(cuts[94], 2),
            "p99_ms": round(cuts[98], 2),
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


def _load(db: Database, customers: int) -> float:
    db.upgrade()
    started = time.perf_counter()
    with db.unit_of_work() as uow:
        load_demo_customers(uow, TEAM_ID, customers, seed=SEED)
    return time.perf_counter() - started


def _settings(url: str) -> Settings:
    return Settings(_env_file=None, database_url=url)


def _bench_sqlite(customers: int, repeats: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-search-") as scratch:
        path = Path(scratch) / "customers.db"
        db = Database(_settings(f"sqlite:///{path}"))
        try:
            loaded = _load(db, customers)
            # Closing the last connection checkpoints the WAL into the file and removes it.
            db.dispose()
            size = path.stat().st_size
            measured = _measure(db, repeats)
        finally:
            db.dispose()
    return _report(f"SQLite {sqlite3.sqlite_version}", customers, loaded, size, measured)


def _unreachable(base_url: str) -> str | None:
    """Why the PostgreSQL server cannot be used, or None when it can."""
    engine = create_engine(base_url)
    try:
        with engine.connect():
            return None
    except DBAPIError as exc:
        return str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
    finally:
        engine.dispose()


@contextmanager
def _scratch_postgres(base_url: str) -> Iterator[str]:
    """A new, empty database on the server of `base_url`, dropped afterwards."""
    name = f"bench_search_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _bench_postgres(base_url: str, customers: int, repeats: int) -> dict[str, Any]:
    with _scratch_postgres(base_url) as url:
        db = Database(_settings(url))
        try:
            loaded = _load(db, customers)
            with db.engine.begin() as conn:
                # What autovacuum does shortly after a bulk load; measure the steady state.
                conn.exec_driver_sql("ANALYZE")
                version = conn.scalar(text("SHOW server_version")) or "?"
                size = int(conn.scalar(text("SELECT pg_database_size(current_database())")) or 0)
            measured = _measure(db, repeats)
        finally:
            db.dispose()
    return _report(f"PostgreSQL {version.split()[0]}", customers, loaded, size, measured)


def _report(
    engine: str, customers: int, loaded: float, size: int, measured: dict[str, Measured]
) -> dict[str, Any]:
    operations = {label: m.summary() for label, m in measured.items()}
    table = Table(
        title=f"{engine}: {customers:,} customers, loaded in {loaded:.1f} s, "
        f"database {size / 1e6:.1f} MB",
        title_justify="left",
    )
    table.add_column("operation (limit / page size 10)")
    table.add_column("samples", justify="right")
    for heading in ("p50 ms", "p95 ms", "p99 ms"):
        table.add_column(heading, justify="right")
    for label, result in operations.items():
        table.add_row(
            label,
            str(result["samples"]),
            f"{result['p50_ms']:.2f}",
            f"{result['p95_ms']:.2f}",
            f"{result['p99_ms']:.2f}",
        )
    console.print(table)
    return {
        "engine": engine,
        "customers": customers,
        "load_seconds": round(loaded, 2),
        "size_bytes": size,
        "operations": operations,
    }


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
        "databases": {"sqlite": _bench_sqlite(args.customers, args.repeats)},
    }
    pg_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG_URL)
    unreachable = _unreachable(pg_url)
    if unreachable is None:
        results["databases"]["postgresql"] = _bench_postgres(pg_url, args.customers, args.repeats)
    else:
        shown = make_url(pg_url).render_as_string(hide_password=True)
        console.print(f"[yellow]PostgreSQL skipped: cannot reach {shown} ({unreachable}).[/yellow]")
        results["databases"]["postgresql"] = {"skipped": unreachable}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    console.print(f"Results written to {RESULTS} ({time.perf_counter() - started:.0f} s in all).")


if __name__ == "__main__":
    main()
