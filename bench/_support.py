"""What the benchmarks share: scratch databases full of demo customers, typed queries, tables."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from core.config import Settings
from core.db import Database
from core.services.demo import load_demo_customers

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_URL_ENV = "BENCH_DATABASE_URL"
RESULTS_DIR = Path(__file__).parent / "results"
TEAM_ID = "TBENCH"
SEED = 2026

console = Console()


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


def settings_for(url: str, **overrides: Any) -> Settings:
    """Settings for `url`, isolated from the developer's environment and .env file."""
    return Settings(_env_file=None, database_url=url, **overrides)


@dataclass(frozen=True)
class Loaded:
    """A scratch database holding the demo customers, and what loading it took."""

    url: str
    engine: str
    customers: int
    load_seconds: float
    size_bytes: int

    @property
    def title(self) -> str:
        """The heading of this database's result table."""
        return (
            f"{self.engine}: {self.customers:,} customers, loaded in {self.load_seconds:.1f} s, "
            f"database {self.size_bytes / 1e6:.1f} MB"
        )

    def as_json(self) -> dict[str, Any]:
        """The fields every benchmark's JSON reports per database."""
        return {
            "engine": self.engine,
            "customers": self.customers,
            "load_seconds": round(self.load_seconds, 2),
            "size_bytes": self.size_bytes,
        }


Bench = Callable[[Loaded], dict[str, Any]]


def _load(db: Database, customers: int) -> float:
    db.upgrade()
    started = time.perf_counter()
    with db.unit_of_work() as uow:
        load_demo_customers(uow, TEAM_ID, customers, seed=SEED)
    return time.perf_counter() - started


def _on_sqlite(name: str, customers: int, bench: Bench) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as scratch:
        path = Path(scratch) / "customers.db"
        url = f"sqlite:///{path}"
        db = Database(settings_for(url))
        try:
            loaded = _load(db, customers)
        finally:
            # Closing the last connection checkpoints the WAL into the file and removes it.
            db.dispose()
        ready = Loaded(
            url, f"SQLite {sqlite3.sqlite_version}", customers, loaded, path.stat().st_size
        )
        return {**ready.as_json(), **bench(ready)}


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
def _scratch_postgres(base_url: str, name: str) -> Iterator[str]:
    """A new, empty database on the server of `base_url`, dropped afterwards."""
    database = f"bench_{name}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
        try:
            yield make_url(base_url).set(database=database).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _on_postgres(base_url: str, name: str, customers: int, bench: Bench) -> dict[str, Any]:
    with _scratch_postgres(base_url, name) as url:
        db = Database(settings_for(url))
        try:
            loaded = _load(db, customers)
            with db.engine.begin() as conn:
                # What autovacuum does shortly after a bulk load; measure the steady state.
                conn.exec_driver_sql("ANALYZE")
                version = conn.scalar(text("SHOW server_version")) or "?"
                size = int(conn.scalar(text("SELECT pg_database_size(current_database())")) or 0)
        finally:
            db.dispose()
        ready = Loaded(url, f"PostgreSQL {version.split()[0]}", customers, loaded, size)
        return {**ready.as_json(), **bench(ready)}


def on_each_database(name: str, customers: int, bench: Bench) -> dict[str, Any]:
    """Run `bench` on SQLite, then PostgreSQL (skipped with the reason when unreachable).

    Each gets a fresh scratch database loaded with `customers` demo customers; the result
    per database is what loading took plus whatever `bench` returns.
    """
    databases = {"sqlite": _on_sqlite(name, customers, bench)}
    pg_url = os.environ.get(PG_URL_ENV, DEFAULT_PG_URL)
    unreachable = _unreachable(pg_url)
    if unreachable is None:
        databases["postgresql"] = _on_postgres(pg_url, name, customers, bench)
    else:
        shown = make_url(pg_url).render_as_string(hide_password=True)
        console.print(f"[yellow]PostgreSQL skipped: cannot reach {shown} ({unreachable}).[/yellow]")
        databases["postgresql"] = {"skipped": unreachable}
    return databases


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50, p95 and p99 of millisecond samples, rounded to hundredths."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "p50_ms": round(cuts[49], 2),
        "p95_ms": round(cuts[94], 2),
        "p99_ms": round(cuts[98], 2),
    }


def latency_table(title: str, heading: str, rows: Mapping[str, Mapping[str, Any]]) -> Table:
    """One row per measured thing: its sample count and percentiles (as from `percentiles`)."""
    table = Table(title=title, title_justify="left")
    table.add_column(heading)
    table.add_column("samples", justify="right")
    for percentile in ("p50 ms", "p95 ms", "p99 ms"):
        table.add_column(percentile, justify="right")
    for label, result in rows.items():
        table.add_row(
            label,
            str(result["samples"]),
            f"{result['p50_ms']:.2f}",
            f"{result['p95_ms']:.2f}",
            f"{result['p99_ms']:.2f}",
        )
    return table


def machine() -> dict[str, Any]:
    """What the numbers were measured on, and how busy it was when the run started."""
    cpu = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = [
            line.partition(":")[2].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = models[0] if models else cpu
    return {
        "cores": os.cpu_count(),
        "cpu": cpu or "unknown",
        "platform": platform.platform(),
        "python": platform.python_version(),
        # Other work on the machine inflates the tails; read the percentiles with this in mind.
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def write_results(path: Path, results: Mapping[str, Any]) -> None:
    """Write the JSON results (creating bench/results/ if needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
