"""The README's "Performance" section, in markdown, from the JSON in bench/results/.

Run with `python -m bench.report [--results DIR] [--out FILE]` (`make bench-report`); `make
bench` runs it after the benchmarks. It reads search.json, ack.json, details.json,
startup.json, load.json and today.json, whichever are there, prints one markdown section (the
machine, compact tables, and each of the issue's targets as met or missed with its figure) and
writes it to bench/results/performance.md.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._support import RESULTS_DIR

BENCHMARKS = ("search", "ack", "details", "startup", "load", "today", "segments", "retention")
DATABASES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
KEYSTROKE = "search, every keystroke"
LIST_PAGES = {"list page 1": "page 1", "list page 50": "page 50 (by number)"}
INTERACTION_KEYSTROKE = "search keystroke"
# The start-up benchmark's server that runs as `customer-bot serve` ships (heap frozen).
PRODUCTION_SERVER = "freeze"
CHART_COLD = "cold: import + first render"
CHART_WARM = "warm: render in-process"
PERCENTILES_AND_MAX = ("p50_ms", "p95_ms", "p99_ms", "max_ms")
HANDLING_CUSTOMERS = 100_000
# The targets.
SEARCH_P95_MS = 20.0
HANDLING_P95_MS = 60.0
WORKER_RSS_MB = 150.0
READY_SECONDS = 2.0
SUSTAINED_PER_S = 100.0
SUSTAINED_P99_MS = 300.0
SUSTAINED_WORKERS = 4
TODAY_P99_MS = 300.0
# The Today benchmark's row for one App Home publish, signed event in → views.publish out.
TODAY_PUBLISH = "app_home_opened → views.publish"
SEGMENT_P95_MS = 300.0
# The segments benchmark's row for every three-filter segment together.
SEGMENT_THREE_FILTERS = "segment of three filters (count + first page)"
RETENTION_MAX_MS = 3000.0
# The retention benchmark's row for building the report (the chart is drawn apart).
RETENTION_BUILT = "report built (query)"

Results = Mapping[str, Any]


@dataclass(frozen=True)
class Target:
    """One of the issue's targets, the figure measured for it, and whether it was met."""

    name: str
    figure: str
    met: bool | None  # None: not measured

    @property
    def verdict(self) -> str:
        """'met', 'missed' or 'not measured', for the table."""
        return {True: "✅ met", False: "❌ missed", None: "— not measured"}[self.met]


def load_results(directory: Path) -> dict[str, Results]:
    """Each benchmark's results that are in `directory`, by benchmark name."""
    found = {}
    for name in BENCHMARKS:
        path = directory / f"{name}.json"
        if path.exists():
            found[name] = json.loads(path.read_text())
    return found


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def _times(value: float | None) -> str:
    return "–" if value is None else f"×{value:,.0f}" if value >= 10 else f"×{value:.1f}"


def _table(headings: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(headings) + " |"]
    lines.append(
        "|" + "|".join(" --- " if n == 0 else " ---: " for n in range(len(headings))) + "|"
    )
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _size(customers: str | int) -> str:
    count = int(customers)
    if count >= 1_000_000 and count % 1_000_000 == 0:
        return f"{count // 1_000_000}M"
    if count >= 1_000 and count % 1_000 == 0:
        return f"{count // 1_000}k"
    return f"{count:,}"


def _measured(results: Results | None) -> Iterator[tuple[str, str, Results]]:
    """(size, database, its results) of the search benchmark, skipped databases left out."""
    if results is None:
        return
    for size, by_engine in sorted(results["sizes"].items(), key=lambda item: int(item[0])):
        for key in DATABASES:
            engine = by_engine.get(key)
            if engine is not None and "skipped" not in engine:
                yield size, key, engine


def _operation(engine: Results, operation: str) -> Results | None:
    found: Results | None = engine["operations"].get(operation)
    return found


def _indexed_vs_plain(search: Results | None, operation: str) -> list[list[str]]:
    rows = []
    for size, key, engine in _measured(search):
        result = _operation(engine, operation)
        if result is None:
            continue
        fast, slow = result["indexed"], result["plain"]
        rows.append(
            [
                f"{_size(size)} · {DATABASES[key]}",
                *(_ms(fast[p]) for p in ("p50_ms", "p95_ms", "p99_ms")),
                *(_ms(slow[p]) for p in ("p50_ms", "p95_ms", "p99_ms")),
                _times(result["speedup_p50"]),
                _times(result["speedup_p95"]),
            ]
        )
    return rows


INDEXED_HEADINGS = (
    "customers · database",
    "indexed p50",
    "p95",
    "p99",
    "plain p50",
    "p95",
    "p99",
    "ratio p50",
    "ratio p95",
)


def _search_section(search: Results | None) -> list[str]:
    if search is None:
        return ["_Search: not measured (no search.json)._", ""]
    lines = [
        "**Search keystroke**: one search service call (10 rows) per keystroke as typed, "
        "in its own read-only unit of work; ms. *Ratio* is plain ÷ indexed.",
        "",
        *_table(INDEXED_HEADINGS, _indexed_vs_plain(search, KEYSTROKE)),
        "",
    ]
    rows = []
    for operation, label in LIST_PAGES.items():
        for row in _indexed_vs_plain(search, operation):
            rows.append([f"{row[0]} · {label}", *row[1:]])
    if rows:
        lines += [
            "**List page** (10 rows with the total), unfiltered; ms.",
            "",
            *_table(INDEXED_HEADINGS, rows),
            "",
        ]
    return lines


def _handling_section(ack: Results | None) -> list[str]:
    if ack is None:
        return ["_Interaction handling: not measured (no ack.json)._", ""]
    databases = [key for key in DATABASES if "interactions" in ack["databases"].get(key, {})]
    headings = ["interaction"]
    for key in databases:
        headings += [f"{DATABASES[key]} p50", "p95", "p99"]
    names: list[str] = []
    for key in databases:
        names += [name for name in ack["databases"][key]["interactions"] if name not in names]
    rows = []
    for name in names:
        row = [name]
        for key in databases:
            measured = ack["databases"][key]["interactions"].get(name)
            call = measured["web_api_call"] if measured else {}
            row += [_ms(call.get(p)) for p in ("p50_ms", "p95_ms", "p99_ms")]
        rows.append(row)
    customers = ack.get("customers") or _first(ack["databases"], "customers")
    return [
        f"**Interaction handling** at {_size(customers or 0)} customers, through the whole app: "
        "from signing the request until the Slack stand-in has the Web API call the app makes "
        "for it (`views.open` / `views.update`); ms.",
        "",
        *_table(headings, rows),
        "",
    ]


def _first(databases: Results, field: str) -> Any:
    return next((engine[field] for engine in databases.values() if field in engine), None)


def _load_section(load: Results | None) -> list[str]:
    if load is None or "runs" not in load:
        reason = "no load.json" if load is None else load.get("skipped", "no runs")
        return [f"_Sustained load: not measured ({reason})._", ""]
    rows = []
    for run in load["runs"]:
        best = _best_step(run["steps"])
        latency = best.get("latency", {}) if best else {}
        knee = run.get("p99_over_1s_at_per_s")
        offered = max((step["offered_per_s"] for step in run["steps"]), default=0)
        rows.append(
            [
                str(run["workers"]),
                f"{best['achieved_per_s']:.0f}" if best else "–",
                _ms(latency.get("p99_ms")),
                f"{knee}/s" if knee is not None else f"not reached (up to {offered}/s)",
                _ms(run.get("worker_rss_mb_max")),
            ]
        )
    return [
        f"**Sustained load**: mixed interactions against `serve --http --workers N` on "
        f"PostgreSQL at {_size(load.get('customers', 0))} customers, offered at rising rates. "
        "Best rate with p99 under 1 s and no errors; where p99 passed 1 s; RSS of the largest "
        "worker after the load.",
        "",
        *_table(("workers", "interactions/s", "p99 ms", "p99 > 1 s from", "worker RSS MB"), rows),
        "",
    ]


def _best_step(steps: Sequence[Results], p99_ms: float = 1000.0) -> Results | None:
    """The step with the highest achieved rate whose p99 stayed under `p99_ms`, error-free."""
    good = [
        step
        for step in steps
        if not step["errors"] and step.get("latency", {}).get("p99_ms", p99_ms) < p99_ms
    ]
    return max(good, key=lambda step: step["achieved_per_s"], default=None)


def _startup_section(startup: Results | None, load: Results | None) -> list[str]:
    rows = []
    if startup is not None:
        ready = startup["ready"]
        rows.append(
            [
                "`serve --http` ready (`/healthz` answers 200)",
                f"p50 {ready['p50_s']:.2f} s, slowest {ready['max_s']:.2f} s of {ready['runs']}",
            ]
        )
        rows.append(
            ["first start, creating the schema", f"{startup['first_start_with_schema_s']:.2f} s"]
        )
        runs = startup.get("load", {})
        run = runs.get(PRODUCTION_SERVER) or next(iter(runs.values()), None)
        if run is not None:
            memory = run["memory_after_load"]
            rows.append(
                [
                    f"RSS of the server after {run['interactions']} mixed interactions "
                    f"({startup['customers']:,} customers, SQLite)",
                    f"{memory['rss_mb']:.0f} MB (peak {memory['peak_rss_mb']:.0f} MB; "
                    f"{run['memory_after_start']['rss_mb']:.0f} MB idle)",
                ]
            )
    for run in (load or {}).get("runs", []):
        rows.append(
            [
                f"RSS of the largest worker after the sustained load, {run['workers']} worker(s)",
                f"{run['worker_rss_mb_max']:.0f} MB",
            ]
        )
    if not rows:
        return ["_Start-up and memory: not measured._", ""]
    return ["**Start-up and memory**", "", *_table(("measured", "result"), rows), ""]


def _chart_section(details: Results | None) -> list[str]:
    if details is None:
        return ["_Chart: not measured (no details.json)._", ""]
    renders = details["chart"]["renders"]
    rows = [
        [label, str(result["samples"]), *(_ms(result.get(p)) for p in PERCENTILES_AND_MAX)]
        for label, result in (
            ("cold: fresh process, import + first render", renders[CHART_COLD]),
            ("warm: rendered again in the same process", renders[CHART_WARM]),
        )
    ]
    return [
        "**Sales chart PNG** (12 months, matplotlib Agg); ms.",
        "",
        *_table(("render", "samples", "p50", "p95", "p99", "max"), rows),
        "",
    ]


def _keystroke_p95(search: Results | None, customers: int, database: str) -> float | None:
    if search is None:
        return None
    engine = search["sizes"].get(str(customers), {}).get(database, {})
    result = engine.get("operations", {}).get(KEYSTROKE) if "skipped" not in engine else None
    return None if result is None else float(result["indexed"]["p95_ms"])


def targets(found: Mapping[str, Results]) -> list[Target]:
    """Each of the issue's targets with the measured figure, met or missed."""
    search, ack = found.get("search"), found.get("ack")
    checks = []
    for customers, key in ((1_000_000, "postgresql"), (100_000, "sqlite")):
        p95 = _keystroke_p95(search, customers, key)
        checks.append(
            Target(
                f"Search keystroke p95 ≤ {SEARCH_P95_MS:g} ms at {customers:,} customers "
                f"on {DATABASES[key]}",
                "not measured" if p95 is None else f"p95 {_ms(p95)} ms",
                None if p95 is None else p95 <= SEARCH_P95_MS,
            )
        )
    customers = int((ack or {}).get("customers", 0))
    for key, name in DATABASES.items():
        interactions = (ack or {}).get("databases", {}).get(key, {}).get("interactions", {})
        measured = interactions.get(INTERACTION_KEYSTROKE)
        p95 = None if measured is None else float(measured["web_api_call"]["p95_ms"])
        figure = "not measured" if p95 is None else f"p95 {_ms(p95)} ms"
        if p95 is not None and customers < HANDLING_CUSTOMERS:
            figure, p95 = f"{figure} at only {customers:,} customers", None
        checks.append(
            Target(
                f"Search keystroke handled, signed request in → Web API call out, p95 ≤ "
                f"{HANDLING_P95_MS:g} ms at {HANDLING_CUSTOMERS:,} customers on {name}",
                figure,
                None if p95 is None else p95 <= HANDLING_P95_MS,
            )
        )
    checks.append(_rss_target(found))
    startup = found.get("startup")
    ready = None if startup is None else float(startup["ready"]["max_s"])
    checks.append(
        Target(
            f"Ready to serve in under {READY_SECONDS:g} s",
            "not measured"
            if startup is None
            else f"slowest of {startup['ready']['runs']} starts {ready:.2f} s",
            None if ready is None else ready < READY_SECONDS,
        )
    )
    checks.append(_sustained_target(found.get("load")))
    checks += _today_targets(found.get("today"))
    checks += _segment_targets(found.get("segments"))
    checks += _retention_targets(found.get("retention"))
    return checks


def _retention_targets(retention: Results | None) -> list[Target]:
    checks = []
    for key, name in DATABASES.items():
        result = (retention or {}).get("databases", {}).get(key, {})
        measured = result.get("timings", {}).get(RETENTION_BUILT)
        slowest = None if measured is None else float(measured["max_ms"])
        customers = result.get("customers", 0)
        checks.append(
            Target(
                f"The retention report built in under {RETENTION_MAX_MS / 1000:g} s at "
                f"{HANDLING_CUSTOMERS:,} customers with two years of history on {name}",
                "not measured"
                if slowest is None
                else f"slowest of {measured['samples']} {_ms(slowest)} ms at {customers:,}",
                None
                if slowest is None
                else slowest < RETENTION_MAX_MS and customers >= HANDLING_CUSTOMERS,
            )
        )
    return checks


def _segment_targets(segments: Results | None) -> list[Target]:
    checks = []
    for key, name in DATABASES.items():
        result = (segments or {}).get("databases", {}).get(key, {})
        measured = result.get("timings", {}).get(SEGMENT_THREE_FILTERS)
        p95 = None if measured is None else float(measured["p95_ms"])
        customers = result.get("customers", 0)
        checks.append(
            Target(
                f"A segment of three filters counted with its first page under "
                f"{SEGMENT_P95_MS:g} ms (p95) at {HANDLING_CUSTOMERS:,} customers on {name}",
                "not measured" if p95 is None else f"p95 {_ms(p95)} ms at {customers:,}",
                None if p95 is None else p95 < SEGMENT_P95_MS and customers >= HANDLING_CUSTOMERS,
            )
        )
    return checks


def _today_targets(today: Results | None) -> list[Target]:
    checks = []
    for key, name in DATABASES.items():
        timings = (today or {}).get("databases", {}).get(key, {}).get("timings", {})
        measured = timings.get(TODAY_PUBLISH)
        p99 = None if measured is None else float(measured["p99_ms"])
        checks.append(
            Target(
                f"Today's App Home published under {TODAY_P99_MS:g} ms (p99) with 50 sessions "
                f"and 1,000 bookings today on {name}",
                "not measured" if p99 is None else f"p99 {_ms(p99)} ms",
                None if p99 is None else p99 < TODAY_P99_MS,
            )
        )
    return checks


def _rss_target(found: Mapping[str, Results]) -> Target:
    name = f"One worker under {WORKER_RSS_MB:g} MB RSS (after load)"
    load = found.get("load")
    if load is not None and load.get("runs"):
        largest = max(run["worker_rss_mb_max"] for run in load["runs"])
        return Target(
            name, f"largest worker {largest:.0f} MB (sustained load)", largest < WORKER_RSS_MB
        )
    startup = found.get("startup")
    if startup is not None and startup.get("load"):
        largest = max(run["memory_after_load"]["rss_mb"] for run in startup["load"].values())
        return Target(
            name, f"{largest:.0f} MB after the start-up benchmark's load", largest < WORKER_RSS_MB
        )
    return Target(name, "not measured", None)


def _sustained_target(load: Results | None) -> Target:
    name = (
        f"≥ {SUSTAINED_PER_S:g} interactions/s with p99 < {SUSTAINED_P99_MS:g} ms, "
        f"{SUSTAINED_WORKERS} workers on PostgreSQL"
    )
    runs = (
        []
        if load is None
        else [r for r in load.get("runs", []) if r["workers"] == SUSTAINED_WORKERS]
    )
    if not runs:
        return Target(name, "not measured", None)
    best = _best_step(runs[0]["steps"], SUSTAINED_P99_MS)
    if best is None:
        return Target(name, f"no rate kept p99 under {SUSTAINED_P99_MS:g} ms", False)
    figure = f"{best['achieved_per_s']:.0f}/s at p99 {_ms(best['latency']['p99_ms'])} ms"
    return Target(name, figure, best["achieved_per_s"] >= SUSTAINED_PER_S)


def _postgresql_version(found: Mapping[str, Results]) -> str | None:
    def engines(value: Any) -> Iterator[str]:
        if isinstance(value, Mapping):
            for key, item in value.items():
                if key == "engine" and isinstance(item, str):
                    yield item
                else:
                    yield from engines(item)

    return next(
        (e.split()[1] for e in engines(found) if e.startswith("PostgreSQL ") and " " in e), None
    )


def _machine_section(found: Mapping[str, Results]) -> list[str]:
    first = next(iter(found.values()))
    host = first["machine"]
    dates = sorted(str(results["generated_at"])[:10] for results in found.values())
    when = dates[0] if dates[0] == dates[-1] else f"{dates[0]} – {dates[-1]}"
    parts = [
        f"{host['cpu']}, {host['cores']} cores",
        f"{host['memory_gb']:g} GB RAM" if "memory_gb" in host else None,
        host.get("os") or host.get("platform"),
        f"Python {host['python']}",
        f"SQLite {host['sqlite']}" if "sqlite" in host else None,
        f"PostgreSQL {pg}" if (pg := _postgresql_version(found)) else None,
    ]
    lines = [f"Measured with `make bench` on {when}: " + ", ".join(p for p in parts if p) + "."]
    loads = [f"{name} {r['machine']['load_average_1m']:g}" for name, r in found.items()]
    lines.append(f"Load average (1 min) as each benchmark started: {', '.join(loads)}.")
    others = {(r["machine"]["cpu"], r["machine"]["cores"]) for r in found.values()}
    if len(others) > 1:
        lines.append("**The results come from different machines.**")
    quick = [name for name, r in found.items() if r.get("quick")]
    if quick:
        lines.append(
            f"**Quick smoke run ({', '.join(quick)}): sizes and samples too small to quote.**"
        )
    return [" ".join(lines), ""]


def render(found: Mapping[str, Results]) -> str:
    """The Performance section, in markdown."""
    if not found:
        return "## Performance\n\nNo results yet: run `make bench`.\n"
    lines = ["## Performance", "", *_machine_section(found)]
    lines += [
        "| target | measured | |",
        "| --- | --- | --- |",
        *(f"| {t.name} | {t.figure} | {t.verdict} |" for t in targets(found)),
        "",
    ]
    lines += _search_section(found.get("search"))
    lines += _handling_section(found.get("ack"))
    lines += _load_section(found.get("load"))
    lines += _startup_section(found.get("startup"), found.get("load"))
    lines += _chart_section(found.get("details"))
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> None:
    """Print the Performance section and write it next to the results."""
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__)
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where the JSON is")
    parser.add_argument("--out", type=Path, help="markdown file (default: RESULTS/performance.md)")
    args = parser.parse_args(argv)
    markdown = render(load_results(args.results))
    out = args.out or args.results / "performance.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown)
    print(markdown)
    print(f"(written to {out})")


if __name__ == "__main__":
    main()
