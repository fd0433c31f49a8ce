"""The soak's summary: tables on the terminal, and the same figures as JSON in results/."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS_DIR = Path(__file__).parent / "results"


def _counts(title: str, heading: str, rows: Mapping[str, Any], *columns: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(heading)
    for column in columns:
        table.add_column(column, justify="right")
    for key, values in sorted(rows.items()):
        cells = values if isinstance(values, tuple) else (values,)
        table.add_row(key, *(str(v) for v in cells))
    return table


def show(summary: Mapping[str, Any], console: Console) -> None:
    """Print interactions, errors, faults and invariants as tables."""
    tally = summary["tally"]
    kinds = set(tally["interactions"]) | set(tally["failed_interactions"])
    interactions = {
        k: (tally["interactions"].get(k, 0), tally["failed_interactions"].get(k, 0)) for k in kinds
    }
    console.print(
        f"Soak: {summary['minutes']:g} min, {summary['workers']} workers on "
        f"{summary['database']}, {summary['people']} people; "
        f"{sum(tally['interactions'].values()) + sum(tally['failed_interactions'].values()):,} "
        f"interactions, {tally['requests_total']:,} requests."
    )
    console.print(_counts("Interactions", "kind", interactions, "done", "failed"))
    console.print(_counts("Requests", "type", tally["requests"], "sent"))
    outside = summary["errors_outside_faults"]
    errors = {k: (v, outside.get(k, 0)) for k, v in tally["errors"].items()}
    console.print(_counts("Errors", "kind", errors or {"none": (0, 0)}, "count", "outside faults"))
    console.print(_counts("Retries", "why", tally["retried"] or {"none": 0}, "count"))
    faults = Table(title="Faults injected", title_justify="left")
    for column in ("at (s)", "fault", "what happened"):
        faults.add_column(column)
    for fault in summary["faults"]:
        faults.add_row(f"{fault['at_seconds']:.0f}", fault["kind"], fault["detail"])
    console.print(faults)
    checks = Table(title="Invariants", title_justify="left")
    for column in ("invariant", "result", "detail"):
        checks.add_column(column)
    for check in summary["invariants"]:
        result = "[green]pass[/green]" if check["passed"] else "[bold red]FAIL[/bold red]"
        checks.add_row(check["name"], result, check["detail"])
    console.print(checks)


def stamp() -> str:
    """The name of one run's results: soak-<UTC time>."""
    return "soak-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def write(summary: Mapping[str, Any], directory: Path, name: str) -> Path:
    """Write the summary as `name`.json in `directory` (created if needed); returns the file."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return path
