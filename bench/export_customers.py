"""`customer-bot customers export` at 100,000 customers: seconds, rows per second and peak memory.

Run with `python -m bench.export_customers [--customers N] [--repeats N]` (or `make bench`). The
demo generator's customers are loaded into a scratch SQLite database, then into PostgreSQL next
to BENCH_DATABASE_URL's database (skipped when unreachable). Each run is what the command does:
one read-only unit of work around `write_customers_csv`, into a file on disk. The Active list,
both lists (--all) and a search are timed; one more run of --all under tracemalloc gives the
peak Python memory, which stays flat as the list grows because rows are read in keyset pages.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from rich.table import Table

from bench._support import (
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
from core.models import CustomerStatus, Role
from core.services.customer_export import write_customers_csv

QUICK = {"customers": 2_000, "repeats": 2}
ACTOR = Actor(TEAM_ID, "bench", Role.ADMIN)
# What is exported in each timed run: (label, status, search text).
SELECTIONS: tuple[tuple[str, CustomerStatus | None, str], ...] = (
    ("active", CustomerStatus.ACTIVE, ""),
    ("all", None, ""),
    ("all, search 'mar'", None, "mar"),
)


def _export(db: Database, path: Path, status: CustomerStatus | None, text: str) -> int:
    with db.unit_of_work(readonly=True) as uow, path.open("w", encoding="utf-8", newline="") as out:
        return write_customers_csv(uow, ACTOR, out, status=status, text=text)


def _timed(run: Callable[[], int], repeats: int) -> dict[str, Any]:
    seconds, rows = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        rows = run()
        seconds.append(time.perf_counter() - started)
    median = statistics.median(seconds)
    return {
        "rows": rows,
        "runs": repeats,
        "median_s": round(median, 3),
        "max_s": round(max(seconds), 3),
        "rows_per_s": round(rows / median) if median else 0,
    }


def _bench(repeats: int) -> Callable[[Loaded], dict[str, Any]]:
    def bench(loaded: Loaded) -> dict[str, Any]:
        db = Database(settings_for(loaded.url))
        try:
            with tempfile.TemporaryDirectory(prefix="bench-export-") as scratch:
                path = Path(scratch) / "customers.csv"
                results: dict[str, Any] = {}
                for label, status, text in SELECTIONS:
                    results[label] = _timed(partial(_export, db, path, status, text), repeats)
                _export(db, path, None, "")
                results["all"]["file_mb"] = round(path.stat().st_size / 1e6, 2)
                tracemalloc.start()
                try:
                    _export(db, path, None, "")
                    peak = tracemalloc.get_traced_memory()[1]
                finally:
                    tracemalloc.stop()
                results["all"]["peak_python_mb"] = round(peak / 1e6, 1)
        finally:
            db.dispose()
        table = Table(title=loaded.title, title_justify="left")
        for heading in ("export", "rows", "median s", "max s", "rows/s"):
            table.add_column(heading, justify="left" if heading == "export" else "right")
        for label, result in results.items():
            table.add_row(
                label,
                f"{result['rows']:,}",
                f"{result['median_s']:.2f}",
                f"{result['max_s']:.2f}",
                f"{result['rows_per_s']:,}",
            )
        console.print(table)
        everything = results["all"]
        console.print(
            f"--all file {everything['file_mb']} MB; peak Python memory while writing it "
            f"{everything['peak_python_mb']} MB."
        )
        return {"exports": results}

    return bench


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark, print a table per database and write the JSON results."""
    parser = argparse.ArgumentParser(prog="python -m bench.export_customers", description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each export")
    args = parse_args(parser, argv, "export_customers", QUICK)
    host = machine()
    console.print(
        f"[bold]Customer export benchmark[/bold]: {args.customers:,} demo customers, "
        f"{args.repeats} runs each; {host['cores']} cores, load average "
        f"{host['load_average_1m']} at the start."
    )
    started = time.perf_counter()
    databases = on_each_database("export", args.customers, _bench(args.repeats))
    elapsed = time.perf_counter() - started
    write_results(
        args.out,
        {
            "benchmark": "export_customers",
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": host,
            "quick": args.quick,
            "customers": args.customers,
            "databases": databases,
            "total_seconds": round(elapsed, 1),
        },
    )
    console.print(f"Results written to {args.out} ({elapsed:.0f} s in all).")


if __name__ == "__main__":
    main()
