"""As-you-type search and list pages at 10,000 / 100,000 / 1,000,000 customers: indexed vs plain.

Run with `python -m bench.search [--sizes 10000,100000,1000000] [--repeats N] [--quick]` (or
`make bench` for all). For each size the demo generator's customers are written once to a
file, then bulk-loaded into a scratch database of each kind (SQLite by executemany in large
batches, PostgreSQL by COPY, both with secondary indexes built after the rows) at migration
0002; the upgrade to head then builds the search indexes over them (0003), as on an existing
install. Every call is timed as a request makes it: one read-only unit of work around one
service call, the indexed one (core/services/customers.py) and the plain one it must agree
with (core/services/customer_search.py). PostgreSQL runs next to BENCH_DATABASE_URL's database.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

from alembic import command
from rich.table import Table
from sqlalchemy import MetaData, event
from sqlalchemy.engine import make_url

from bench._support import (
    DEFAULT_PG_URL,
    PG_URL_ENV,
    QUERIES,
    SEED,
    TEAM_ID,
    _scratch_postgres,
    _unreachable,
    console,
    machine,
    parse_args,
    percentiles,
    settings_for,
    write_results,
)
from core.actor import Actor
from core.db import Database, UnitOfWork
from core.demo import customers as demo
from core.demo.customers import _Generator
from core.migrations.runner import alembic_config
from core.models import CustomerStatus, Role
from core.services.customer_search import Finder, plain_list, plain_search
from core.services.customers import UID_ALPHABET, UID_LENGTH, list_customers, search_customers

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
DATABASES = ("sqlite", "postgresql")
QUICK = {"sizes": "2000", "repeats": 3, "plain_repeats": 2}
PAGE_SIZE = 10
DEEP_PAGE = 50
BATCH = 50_000
# Seconds each plain query may take up (see _time).
PLAIN_BUDGET = 0.5
# For the bulk load only: memory to sort each rebuilt index in (PostgreSQL) and to hold the
# growing indexes' pages (SQLite); the measurements run with the defaults.
BULK_MAINTENANCE_WORK_MEM = "256MB"
BULK_SQLITE_CACHE_KIB = 256 * 1024
COLUMNS = (
    "team_id",
    "uid",
    "first_name",
    "last_name",
    "name_key",
    "email",
    "mobile",
    "status",
    "version",
    "created_at",
    "updated_at",
    "updated_by",
)
# What the list is filtered by: nothing, a dense two letters, a first name far down the list.
LIST_QUERIES = ("", "ma", "zoe")
EVERY_KEYSTROKE = "search, every keystroke"
# Queries whose text-index lookups are EXPLAINed, one of each kind.
EXPLAINED = ("zoey", "smith", "o'bri", "j.mu", "0770")

Call = Callable[[UnitOfWork], object]


# -- loading ---------------------------------------------------------------------------------


def _fast_uid(rng: random.Random) -> Callable[[], str]:
    """UIDs of new_uid's shape from `rng`: unique enough for a benchmark, and quick to draw.

    new_uid asks `secrets` for each character; that was half the time of generating a million.
    """

    def draw() -> str:
        return "".join(rng.choices(UID_ALPHABET, k=UID_LENGTH))

    return draw


def _write_rows(path: Path, count: int) -> float:
    """The demo generator's customers as CSV; how long generating them took."""
    started = time.perf_counter()
    rng = random.Random(SEED)
    generator = _Generator(rng, datetime.now(UTC), "GB", set())
    with path.open("w", newline="") as file, patch.object(demo, "new_uid", _fast_uid(rng)):
        writer = csv.writer(file)
        for index in range(count):
            row = generator.row(TEAM_ID, index)
            row["status"] = row["status"].value
            for stamp in ("created_at", "updated_at"):
                # Naive UTC in SQLAlchemy's SQLite text form; PostgreSQL reads it in UTC.
                row[stamp] = row[stamp].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            writer.writerow(row[column] for column in COLUMNS)
    return time.perf_counter() - started


def _batches(path: Path) -> Iterator[list[list[str]]]:
    with path.open(newline="") as file:
        batch: list[list[str]] = []
        for row in csv.reader(file):
            batch.append(row)
            if len(batch) == BATCH:
                yield batch
                batch = []
        if batch:
            yield batch


def _copy_postgres(db: Database, path: Path) -> None:
    """COPY the rows in with the table's secondary indexes and constraints set aside.

    Building an index once over a million rows is several times quicker than growing it row
    by row, and a foreign key is checked by one join instead of a trigger per row. Everything
    is put back from PostgreSQL's own definitions, so the schema ends as the migration made it.
    """
    connection = db.engine.raw_connection()
    try:
        driver = connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor:
            # LOCAL: the pooled connection goes on to the measurements with its defaults.
            cursor.execute("SET LOCAL TIME ZONE 'UTC'")
            cursor.execute(f"SET LOCAL maintenance_work_mem = '{BULK_MAINTENANCE_WORK_MEM}'")
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'customers'::regclass AND contype IN ('u', 'f')"
            )
            constraints = cursor.fetchall()
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'customers' AND "
                "indexname NOT IN "
                "(SELECT conname FROM pg_constraint WHERE conrelid = 'customers'::regclass)"
            )
            indexes = cursor.fetchall()
            for name, _ in constraints:
                cursor.execute(f'ALTER TABLE customers DROP CONSTRAINT "{name}"')
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            copy = f"COPY customers ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
            with cursor.copy(copy) as sink, path.open("rb") as source:
                while chunk := source.read(1 << 20):
                    sink.write(chunk)
            for _, definition in indexes:
                cursor.execute(definition)
            for name, definition in constraints:
                cursor.execute(f'ALTER TABLE customers ADD CONSTRAINT "{name}" {definition}')
        connection.commit()
    finally:
        connection.close()


def _insert_sqlite(db: Database, path: Path) -> None:
    """Insert the rows in big batches, building the plain indexes after them.

    (SQLite cannot set a UNIQUE constraint aside; its indexes are grown as rows come.)
    """
    insert = (
        f"INSERT INTO customers ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    )
    connection = db.engine.raw_connection()
    try:
        driver = connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        # Room for the indexes' pages while they grow, on this connection until it goes back.
        (default_cache,) = driver.execute("PRAGMA cache_size").fetchone()
        driver.execute(f"PRAGMA cache_size = -{BULK_SQLITE_CACHE_KIB}")
        driver.execute("BEGIN IMMEDIATE")
        indexes = list(
            driver.execute(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'index' AND tbl_name = 'customers' AND sql IS NOT NULL"
            )
        )
        for name, _ in indexes:
            driver.execute(f'DROP INDEX "{name}"')
        for batch in _batches(path):
            driver.executemany(insert, batch)
        for _, definition in indexes:
            driver.execute(definition)
        driver.execute("COMMIT")
        driver.execute(f"PRAGMA cache_size = {default_cache}")
    finally:
        connection.close()


def _add_workspace(db: Database) -> None:
    """The benchmark's workspace, written to the table as 0002 has it (the model is at head)."""
    with db.engine.begin() as conn:
        tables = MetaData()
        tables.reflect(conn, only=["workspaces"])
        workspaces = tables.tables["workspaces"]
        settings = db.settings
        conn.execute(
            workspaces.insert().values(
                team_id=TEAM_ID,
                name="Bench",
                timezone=settings.business_timezone,
                currency=settings.currency,
                default_region=settings.default_region,
                created_at=datetime.now(UTC),
            )
        )


def _load(db: Database, path: Path) -> dict[str, float]:
    """Schema at 0002, the customers, then the upgrade that indexes them; the seconds each took."""
    command.upgrade(alembic_config(db.engine), "0002")
    _add_workspace(db)
    started = time.perf_counter()
    if db.dialect == "postgresql":
        _copy_postgres(db, path)
    else:
        _insert_sqlite(db, path)
    loaded = time.perf_counter()
    db.upgrade()
    migrated = time.perf_counter()
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # What autovacuum does soon after a bulk load: statistics, and the visibility map
            # that lets the name index answer without reading the table.
            conn.exec_driver_sql("VACUUM ANALYZE customers")
    return {
        "load_seconds": round(loaded - started, 1),
        "migrate_0003_seconds": round(migrated - loaded, 1),
        "vacuum_analyze_seconds": round(time.perf_counter() - migrated, 1),
    }


@contextmanager
def _database(kind: str, scratch: Path, customers: int) -> Iterator[Database | None]:
    """An empty scratch database of `kind`, or None when PostgreSQL can't be reached."""
    if kind == "sqlite":
        db = Database(settings_for(f"sqlite:///{scratch / f'search-{customers}.db'}"))
        try:
            yield db
        finally:
            db.dispose()
        return
    base = os.environ.get(PG_URL_ENV, DEFAULT_PG_URL)
    reason = _unreachable(base)
    if reason is not None:
        shown = make_url(base).render_as_string(hide_password=True)
        console.print(f"[yellow]PostgreSQL skipped: cannot reach {shown} ({reason}).[/yellow]")
        yield None
        return
    with _scratch_postgres(base, f"search{customers}") as url:
        db = Database(settings_for(url))
        try:
            yield db
        finally:
            db.dispose()


def _size_of(db: Database) -> int:
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            return int(
                conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar() or 0
            )
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar() or 0
        return int(pages) * int(conn.exec_driver_sql("PRAGMA page_size").scalar() or 0)


# -- measuring -------------------------------------------------------------------------------


def _time(db: Database, call: Call, repeats: int, budget: float | None = None) -> list[float]:
    """Milliseconds per call after one untimed call; with a budget, fewer once it is spent.

    A budget (seconds, the untimed call included) keeps the plain scans of a million rows,
    a few hundred milliseconds each, from dominating the run: they get a sample or two each.
    """
    began = time.perf_counter()
    with db.unit_of_work(readonly=True) as uow:
        call(uow)  # warm caches and the statement cache, as a running app would have
    samples: list[float] = []
    while len(samples) < repeats:
        if samples and budget is not None and time.perf_counter() - began > budget:
            break
        started = time.perf_counter()
        with db.unit_of_work(readonly=True) as uow:
            call(uow)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _compared(indexed: list[float], plain: list[float]) -> dict[str, Any]:
    fast, slow = percentiles(indexed), percentiles(plain)
    return {
        "indexed": {"samples": len(indexed), **fast},
        "plain": {"samples": len(plain), **slow},
        "speedup_p50": round(slow["p50_ms"] / max(fast["p50_ms"], 0.01), 1),
        "speedup_p95": round(slow["p95_ms"] / max(fast["p95_ms"], 0.01), 1),
    }


def _searches(db: Database, repeats: int, plain_repeats: int) -> dict[str, dict[str, Any]]:
    """Each typed query, searched indexed and plain, grouped by length and by kind."""
    actor = Actor(team_id=TEAM_ID, user_id="bench", role=Role.STAFF)
    groups: dict[str, tuple[list[str], list[float], list[float]]] = {}
    for kind, queries in QUERIES.items():
        for query in queries:

            def indexed(uow: UnitOfWork, query: str = query) -> object:
                return search_customers(
                    uow, actor, query, status=CustomerStatus.ACTIVE, limit=PAGE_SIZE
                )

            def plain(uow: UnitOfWork, query: str = query) -> object:
                return plain_search(uow, TEAM_ID, query, CustomerStatus.ACTIVE, PAGE_SIZE)

            fast, slow = _time(db, indexed, repeats), _time(db, plain, plain_repeats, PLAIN_BUDGET)
            length = len(query)
            labels = (
                EVERY_KEYSTROKE,
                f"search, {length} char{'s' if length > 1 else ''}",
                f"search, {kind}",
            )
            for label in labels:
                names, fast_all, slow_all = groups.setdefault(label, ([], [], []))
                names.append(query)
                fast_all += fast
                slow_all += slow
    # Every keystroke first, then by length, then by kind.
    ordered = sorted(
        groups, key=lambda label: (label != EVERY_KEYSTROKE, not label[8].isdigit(), label)
    )
    return {
        label: {"queries": groups[label][0], **_compared(groups[label][1], groups[label][2])}
        for label in ordered
    }


def _lists(db: Database, repeats: int, plain_repeats: int) -> dict[str, dict[str, Any]]:
    """Page 1, a deep page by number and the next page by keyset, with their totals."""
    actor = Actor(team_id=TEAM_ID, user_id="bench", role=Role.STAFF)
    results: dict[str, dict[str, Any]] = {}
    for query in LIST_QUERIES:
        matching = f' matching "{query}"' if query else ""
        with db.unit_of_work(readonly=True) as uow:
            first = list_customers(uow, actor, query=query, page_size=PAGE_SIZE)
        after = first.rows[-1].uid if first.rows else None
        cases = (
            (f"list page 1{matching}", 1, None),
            (f"list page {DEEP_PAGE}{matching}", DEEP_PAGE, None),
            (f"list page 2 by Next{matching}", 2, after),
        )
        for label, page, cursor in cases:

            def indexed(
                uow: UnitOfWork, page: int = page, cursor: str | None = cursor, query: str = query
            ) -> Any:
                return list_customers(
                    uow, actor, query=query, page=page, page_size=PAGE_SIZE, after_uid=cursor
                )

            def plain(uow: UnitOfWork, page: int = page, query: str = query) -> object:
                return plain_list(
                    uow,
                    TEAM_ID,
                    CustomerStatus.ACTIVE,
                    query,
                    descending=False,
                    page=page,
                    page_size=PAGE_SIZE,
                )

            with db.unit_of_work(readonly=True) as uow:
                shown = indexed(uow)
            results[label] = {
                "total": shown.total,
                "estimated": shown.estimated,
                **_compared(
                    _time(db, indexed, repeats), _time(db, plain, plain_repeats, PLAIN_BUDGET)
                ),
            }
    return results


def _explained(db: Database) -> dict[str, list[str]]:
    """For a few queries, what the text-index lookups' plans read (window of one row)."""
    evidence: dict[str, list[str]] = {}
    for query in EXPLAINED:
        statements: list[tuple[str, Any]] = []

        def note(
            _conn: Any,
            _cursor: Any,
            statement: str,
            parameters: Any,
            *_: Any,
            seen: list[tuple[str, Any]] = statements,
        ) -> None:
            seen.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", note)
        try:
            with db.unit_of_work(readonly=True) as uow:
                Finder(uow, TEAM_ID, window=1).search(query, [CustomerStatus.ACTIVE], PAGE_SIZE)
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
        read: list[str] = []
        with db.engine.connect() as conn:
            for statement, parameters in statements:
                if db.dialect == "postgresql" and "AS MATERIALIZED" in statement:
                    plan = conn.exec_driver_sql(
                        "EXPLAIN (FORMAT JSON) " + statement, parameters
                    ).scalar_one()
                    read.append(
                        _plan_reads(
                            (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
                        )
                    )
                elif db.dialect == "sqlite" and "customer_search MATCH" in statement:
                    plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                    read.append(" / ".join(row[-1] for row in plan))
        evidence[query] = read
    return evidence


def _plan_reads(plan: dict[str, Any]) -> str:
    """The scans of a PostgreSQL plan, e.g. 'Bitmap Index Scan ix_customers_name_tail_trgm'."""
    scans = []
    if "Scan" in plan["Node Type"] and plan["Node Type"] != "CTE Scan":
        scans.append(f"{plan['Node Type']} {plan.get('Index Name', plan.get('Relation Name', ''))}")
    scans += [_plan_reads(child) for child in plan.get("Plans", [])]
    return " + ".join(scan for scan in scans if scan)


def _bench(db: Database, repeats: int, plain_repeats: int) -> dict[str, Any]:
    return {
        "operations": {
            **_searches(db, repeats, plain_repeats),
            **_lists(db, repeats, plain_repeats),
        },
        "explained": _explained(db),
    }


# -- reporting -------------------------------------------------------------------------------


def _table(title: str, operations: dict[str, dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("operation (10 rows)")
    for heading in ("indexed p50", "p95", "p99", "plain p50", "p95", "p99", "×p50", "×p95"):
        table.add_column(heading, justify="right")
    table.add_column("total")
    for label, result in operations.items():
        fast, slow = result["indexed"], result["plain"]
        total = ""
        if "total" in result:
            total = f"{'about ' if result['estimated'] else ''}{result['total']:,}"
        table.add_row(
            label,
            *(f"{fast[key]:.1f}" for key in ("p50_ms", "p95_ms", "p99_ms")),
            *(f"{slow[key]:.1f}" for key in ("p50_ms", "p95_ms", "p99_ms")),
            f"{result['speedup_p50']:g}",
            f"{result['speedup_p95']:g}",
            total,
        )
    return table


def main(argv: list[str] | None = None) -> None:
    """Load each size into each database, time the calls, print tables, write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__)
    parser.add_argument(
        "--sizes",
        default=",".join(str(size) for size in DEFAULT_SIZES),
        help="customer counts, comma-separated (default %(default)s)",
    )
    parser.add_argument(
        "--databases", default=",".join(DATABASES), help="comma-separated (default %(default)s)"
    )
    parser.add_argument("--repeats", type=int, default=20, help="timed indexed calls per query")
    parser.add_argument("--plain-repeats", type=int, default=5, help="timed plain calls per query")
    args = parse_args(parser, argv, "search", QUICK)
    sizes = [int(size.replace("_", "")) for size in args.sizes.split(",") if size.strip()]
    kinds = [kind.strip() for kind in args.databases.split(",") if kind.strip()]
    if unknown := set(kinds) - set(DATABASES):
        parser.error(f"unknown database {', '.join(sorted(unknown))}; choose from {DATABASES}")
    started = time.perf_counter()
    results: dict[str, Any] = {
        "benchmark": "search",
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "quick": args.quick,
        "sizes": {},
    }
    with tempfile.TemporaryDirectory(prefix="bench-search-") as directory:
        scratch = Path(directory)
        for customers in sizes:
            rows = scratch / f"customers-{customers}.csv"
            generated = _write_rows(rows, customers)
            console.print(f"[bold]{customers:,} customers[/bold] generated in {generated:.1f} s")
            by_engine: dict[str, Any] = {"generate_seconds": round(generated, 1)}
            for kind in kinds:
                with _database(kind, scratch, customers) as db:
                    if db is None:
                        by_engine[kind] = {"skipped": "PostgreSQL unreachable"}
                        continue
                    timings = _load(db, rows)
                    engine = _engine_name(db)
                    load_average = round(os.getloadavg()[0], 2)
                    measured = _bench(db, args.repeats, args.plain_repeats)
                    by_engine[kind] = {
                        "engine": engine,
                        **timings,
                        "size_bytes": _size_of(db),
                        "load_average_1m": [load_average, round(os.getloadavg()[0], 2)],
                        **measured,
                    }
                    title = (
                        f"{engine}, {customers:,} customers: loaded in {timings['load_seconds']} s, "
                        f"indexed by migration 0003 in {timings['migrate_0003_seconds']} s; "
                        f"milliseconds, load average {load_average}"
                    )
                    console.print(_table(title, measured["operations"]), width=170)
                    for query, reads in measured["explained"].items():
                        console.print(f"  {query!r}: " + ("; ".join(reads) or "(window only)"))
                if kind == "sqlite":
                    (scratch / f"search-{customers}.db").unlink(missing_ok=True)
            results["sizes"][str(customers)] = by_engine
            rows.unlink()
    results["seconds"] = round(time.perf_counter() - started)
    write_results(args.out, results)
    console.print(f"Results written to {args.out} ({results['seconds']} s in all).")


def _engine_name(db: Database) -> str:
    if db.dialect == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with db.engine.connect() as conn:
        version = str(conn.exec_driver_sql("SHOW server_version").scalar() or "?")
    return f"PostgreSQL {version.split()[0]}"


if __name__ == "__main__":
    main()
