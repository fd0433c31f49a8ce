"""The retention report over 100,000 customers with two years of history, on SQLite and
PostgreSQL; the target is the report built in under 3 s.

Run with `python -m bench.retention [--customers N] [--samples N] [--quick]`. Each database gets
N demo customers, then the segments benchmark's history in bulk (four sessions a day for two
years and four weeks ahead, about eight bookings per customer, some cancelled, some no-shows).
Each sample builds the report in one unit of work; drawing its chart is timed apart.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from typing import Any

from bench._support import (
    SEED,
    TEAM_ID,
    Goal,
    Loaded,
    console,
    latency_table,
    machine,
    parse_args,
    percentiles,
    run_and_record,
    settings_for,
)
from bench.segments import STAFF, _History
from core.actor import Actor
from core.adapters.charts import render_retention_chart
from core.db import Database
from core.models import Role
from core.services.retention import RetentionReport, retention_report

QUICK = {"customers": 2_000, "samples": 3}
WARMUP = 1
TARGET_MS = 3_000.0
BUILD = "report built (query)"
DRAWN = "chart drawn (PNG)"
METHOD_NOTE = (
    "Each sample is one unit of work calling retention_report() in-process: the facts "
    "brought up to date (nothing due between samples), then the twelve months' active, new, "
    "returning and lapsed counts in one grouped statement over the visits of the last 14 "
    "months. The warm-up adds up every customer's facts once, as a workspace's first segment "
    "or report does. Drawing the PNG is timed apart, after matplotlib is loaded."
)


def _prepare(db: Database) -> dict[str, Any]:
    with db.unit_of_work() as uow:
        history = _History(uow, random.Random(SEED))
        sessions = history.sessions()
        return {"sessions": len(sessions), "bookings": history.bookings(sessions)}


def _build(db: Database, actor: Actor) -> tuple[float, RetentionReport]:
    started = time.perf_counter()
    with db.unit_of_work() as uow:
        report = retention_report(uow, actor)
    return (time.perf_counter() - started) * 1000, report


def _with_max(samples: list[float]) -> dict[str, Any]:
    return {"samples": len(samples), **percentiles(samples), "max_ms": round(max(samples), 2)}


def _bench(samples: int) -> Callable[[Loaded], dict[str, Any]]:
    def run(loaded: Loaded) -> dict[str, Any]:
        db = Database(settings_for(loaded.url))
        actor = Actor(TEAM_ID, STAFF, Role.STAFF)
        built: list[float] = []
        drawn: list[float] = []
        try:
            for n in range(WARMUP + samples):
                elapsed, report = _build(db, actor)
                started = time.perf_counter()
                render_retention_chart(report)
                if n >= WARMUP:
                    built.append(elapsed)
                    drawn.append((time.perf_counter() - started) * 1000)
        finally:
            db.dispose()
        results = {BUILD: _with_max(built), DRAWN: _with_max(drawn)}
        console.print(latency_table(loaded.title, "Retention", results))
        console.print(f"Last month: {report.rows()[-1]} (month, active, new, returning, lapsed).")
        return {"prepared": dict(loaded.prepared), "timings": results}

    return run


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark on both databases, print the tables and write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.retention", description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=10, help="timed builds of the report")
    args = parse_args(parser, argv, "retention", QUICK)
    host = machine()
    console.print(
        f"[bold]Retention benchmark[/bold]: {args.customers:,} demo customers with two years of "
        f"history, {args.samples} timed builds after {WARMUP} warm-up; {host['cores']} cores, "
        f"load average {host['load_average_1m']}."
    )
    console.print(METHOD_NOTE, style="dim")
    run_and_record(
        "retention",
        args,
        METHOD_NOTE,
        Goal(BUILD, "max_ms", TARGET_MS, "report built in at most"),
        _bench(args.samples),
        _prepare,
    )


if __name__ == "__main__":
    main()
