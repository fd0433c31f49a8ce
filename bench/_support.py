"""What the benchmarks share: scratch databases full of demo customers, typed queries, tables."""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
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

from bot.app import create_app
from bot.local import (
    AppEndpoint,
    AppResponse,
    Call,
    LocalSlackAPI,
    SlackDriver,
    SlackUser,
    SlackWorkspace,
    serve_wsgi,
)
from bot.transport.wsgi import EVENTS_PATH, create_wsgi_app
from core.config import Settings
from core.db import Database
from core.demo.customers import load_demo_customers

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_URL_ENV = "BENCH_DATABASE_URL"
RESULTS_DIR = Path(__file__).parent / "results"
# Set (to anything but 0) for a smoke run of every benchmark in seconds: `make bench BENCH_QUICK=1`.
QUICK_ENV = "BENCH_QUICK"
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
    # What the benchmark's own `prepare` step reported (see `on_each_database`).
    prepared: Mapping[str, Any] = field(default_factory=dict)

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
# Adds a benchmark's own data after the demo customers; what it returns is Loaded.prepared.
Prepare = Callable[[Database], Mapping[str, Any]]


def _load(db: Database, customers: int, prepare: Prepare | None) -> tuple[float, Mapping[str, Any]]:
    db.upgrade()
    started = time.perf_counter()
    with db.unit_of_work() as uow:
        load_demo_customers(uow, TEAM_ID, customers, seed=SEED)
    prepared = prepare(db) if prepare is not None else {}
    return time.perf_counter() - started, prepared


def _on_sqlite(name: str, customers: int, bench: Bench, prepare: Prepare | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as scratch:
        path = Path(scratch) / "customers.db"
        url = f"sqlite:///{path}"
        db = Database(settings_for(url))
        try:
            loaded, prepared = _load(db, customers, prepare)
        finally:
            # Closing the last connection checkpoints the WAL into the file and removes it.
            db.dispose()
        ready = Loaded(
            url,
            f"SQLite {sqlite3.sqlite_version}",
            customers,
            loaded,
            path.stat().st_size,
            prepared,
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


def settle(db: Database) -> None:
    """VACUUM ANALYZE a freshly loaded PostgreSQL database, as autovacuum soon does after a
    bulk load (PostgreSQL 13 on vacuums after inserts too, filling the visibility map that
    index-only scans rely on): the benchmarks measure that steady state."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


def _on_postgres(
    base_url: str, name: str, customers: int, bench: Bench, prepare: Prepare | None
) -> dict[str, Any]:
    with _scratch_postgres(base_url, name) as url:
        db = Database(settings_for(url))
        try:
            loaded, prepared = _load(db, customers, prepare)
            settle(db)
            with db.engine.connect() as conn:
                version = conn.scalar(text("SHOW server_version")) or "?"
                size = int(conn.scalar(text("SELECT pg_database_size(current_database())")) or 0)
        finally:
            db.dispose()
        ready = Loaded(url, f"PostgreSQL {version.split()[0]}", customers, loaded, size, prepared)
        return {**ready.as_json(), **bench(ready)}


def on_each_database(
    name: str, customers: int, bench: Bench, *, prepare: Prepare | None = None
) -> dict[str, Any]:
    """Run `bench` on SQLite, then PostgreSQL (skipped with the reason when unreachable).

    Each gets a fresh scratch database loaded with `customers` demo customers, then whatever
    `prepare(db)` adds (counted in the load time and size, and analysed on PostgreSQL); the
    result per database is what loading took plus whatever `bench` returns.
    """
    databases = {"sqlite": _on_sqlite(name, customers, bench, prepare)}
    pg_url = os.environ.get(PG_URL_ENV, DEFAULT_PG_URL)
    unreachable = _unreachable(pg_url)
    if unreachable is None:
        databases["postgresql"] = _on_postgres(pg_url, name, customers, bench, prepare)
    else:
        shown = make_url(pg_url).render_as_string(hide_password=True)
        console.print(f"[yellow]PostgreSQL skipped: cannot reach {shown} ({unreachable}).[/yellow]")
        databases["postgresql"] = {"skipped": unreachable}
    return databases


def quantile_cuts(samples: list[float]) -> list[float]:
    """The 99 percentile cut points of `samples` (a single sample is every percentile)."""
    return statistics.quantiles(
        samples * 2 if len(samples) == 1 else samples, n=100, method="inclusive"
    )


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50, p95 and p99 of millisecond samples, rounded to hundredths."""
    cuts = quantile_cuts(samples)
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
    try:
        system = platform.freedesktop_os_release()["PRETTY_NAME"]
    except (OSError, KeyError):
        system = platform.system()
    return {
        "cores": os.cpu_count(),
        "cpu": cpu or "unknown",
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9, 1),
        "os": system,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        # Other work on the machine inflates the tails; read the percentiles with this in mind.
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def parse_args(
    parser: argparse.ArgumentParser, argv: list[str] | None, name: str, quick: Mapping[str, Any]
) -> argparse.Namespace:
    """Parse a benchmark's arguments, adding --quick and --out to its own.

    --quick (or BENCH_QUICK in the environment) swaps in the `quick` defaults, a smoke run that
    checks the benchmark works rather than measuring; --out is where its JSON goes.
    """
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get(QUICK_ENV, "0") not in {"", "0"},
        help=f"a smoke run with small sizes and few samples (or set {QUICK_ENV}=1)",
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS_DIR / f"{name}.json", help="JSON results file"
    )
    if parser.parse_known_args(argv)[0].quick:
        parser.set_defaults(**quick)
    return parser.parse_args(argv)


def write_results(path: Path, results: Mapping[str, Any]) -> None:
    """Write the JSON results (creating bench/results/ if needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


# -- driving the real app over HTTP ---------------------------------------------------------

CALL_TIMEOUT_SECONDS = 10.0


class TimedDriver(SlackDriver):
    """A SlackDriver that notes when it starts signing each request and when the answer is in.

    AppResponse.elapsed starts after signing; these stamps count signing as part of the
    request and give the start the Web API call is timed from too.
    """

    sent_at = 0.0
    answered_at = 0.0

    @property
    def app_root(self) -> str:
        """The served app's root URL (where GET /charts/… is answered too)."""
        return self.app.url.removesuffix(EVENTS_PATH)

    def _post(self, body: bytes, content_type: str, *, retry_num: int = 0) -> AppResponse:
        self.sent_at = time.perf_counter()
        response = super()._post(body, content_type, retry_num=retry_num)
        self.answered_at = time.perf_counter()
        return response


@dataclass(frozen=True)
class Timed:
    """One timed request: milliseconds from signing to the ack and to the Web API call."""

    ack_ms: float
    call_ms: float
    call: Call


def _recorded(api: LocalSlackAPI, method: str, since: int) -> tuple[float, Call]:
    call = api.wait_for(method, since=since, timeout=CALL_TIMEOUT_SECONDS)
    recorded = time.perf_counter()
    if not call.ok:
        raise RuntimeError(f"the app's {method} call failed: {call.error} {call.response}")
    return recorded, call


class RequestTimer:
    """Times requests: from signing to the app's ack, and to the Web API call each leads to."""

    def __init__(self, driver: TimedDriver, watcher: ThreadPoolExecutor) -> None:
        self.driver = driver
        self.watcher = watcher

    def time(self, method: str, send: Callable[[], AppResponse | None]) -> Timed:
        """Times for the request `send` makes, which must lead the app to call `method`."""
        api = self.driver.api
        # Watching starts before the request goes out, so a call that lands before the ack
        # has been read is still stamped when it happens.
        called = self.watcher.submit(_recorded, api, method, api.mark())
        response = send()
        if response is None or response.status != 200 or response.text.strip():
            shown = "nothing (refused by the client)" if response is None else response.text[:300]
            raise RuntimeError(f"expected a bare ack; the app answered {shown}")
        sent, acked = self.driver.sent_at, self.driver.answered_at
        recorded, call = called.result()
        return Timed((acked - sent) * 1000, (recorded - sent) * 1000, call)


@contextmanager
def running_app(url: str, admin: str, **overrides: Any) -> Iterator[TimedDriver]:
    """The real app over HTTP on loopback with the Slack stand-in; a driver for its admin.

    `overrides` are further settings (e.g. public_base_url) for the app.
    """
    signing_secret = secrets.token_hex(16)
    with LocalSlackAPI(SlackWorkspace(team_id=TEAM_ID)) as api:
        api.add_user(SlackUser(admin, "bench.admin", team_id=TEAM_ID))
        settings = settings_for(
            url,
            slack_bot_token=api.bot_token,
            slack_signing_secret=signing_secret,
            slack_api_url=api.base_url,
            admin_slack_user_ids=[admin],
            **overrides,
        )
        db = Database(settings)
        root, stop = serve_wsgi(create_wsgi_app(create_app(settings, db), db))
        try:
            yield TimedDriver(api, AppEndpoint(root + EVENTS_PATH, signing_secret), user_id=admin)
        finally:
            stop()
            db.dispose()


@dataclass(frozen=True)
class Goal:
    """A benchmark's target: the row and statistic of its timings it judges, and the limit."""

    row: str
    statistic: str  # "p95_ms", "p99_ms" or "max_ms"
    limit_ms: float
    label: str  # how the verdict names the figure, e.g. "publish p99"


def judge_goal(databases: Mapping[str, Any], goal: Goal) -> None:
    """Print, per database measured, the goal's figure and whether it was met."""
    for name, result in databases.items():
        if "timings" not in result:
            continue
        figure = result["timings"][goal.row][goal.statistic]
        met = "met" if figure < goal.limit_ms else "MISSED"
        console.print(
            f"{name}: {goal.label} {figure:.1f} ms, target under {goal.limit_ms:g} ms: {met}."
        )


def run_and_record(
    name: str, args: argparse.Namespace, method: str, goal: Goal, bench: Bench, prepare: Prepare
) -> None:
    """Run `bench` on each database (`args.customers` each), judge `goal`, write the JSON."""
    host = machine()
    started = time.perf_counter()
    databases = on_each_database(name, args.customers, bench, prepare=prepare)
    judge_goal(databases, goal)
    write_results(
        args.out,
        {
            "benchmark": name,
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": host,
            "quick": args.quick,
            "method": method,
            "target_ms": goal.limit_ms,
            "databases": databases,
            "total_seconds": round(time.perf_counter() - started, 1),
        },
    )
    console.print(f"Results written to {args.out}.")
