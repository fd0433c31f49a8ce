"""The product beside its floor: CPU, latency and throughput of a search keystroke, as ratios.

Run with `python -m bench.floor [--customers N] [--pg-customers N] [--rounds N] [--seconds S]`
(or `make bench`). On each database the product (`customer-bot serve --http`, one process)
and the floor (bench/_floor_app.py: Bolt over waitress, one SQL statement, the same view) serve
the same data side by side, each in its own process, talking to one Slack stand-in in this
process. Every keystroke goes to both in turn (which goes first alternates), and the rows each
shows are compared. Then eight staff type back to back against one, then the other, twice
over, for throughput. CPU is each server process's own (user + system) over the keystrokes it
handled; ratios are product ÷ floor, so absolute figures that move between machines cancel out.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from rich.table import Table

from bench._servers import CLI, cpu_seconds, free_port, server_env, serving, wait_ready
from bench._support import (
    DEFAULT_PG_URL,
    PG_URL_ENV,
    QUERIES,
    TEAM_ID,
    Loaded,
    _on_postgres,
    _on_sqlite,
    _unreachable,
    console,
    machine,
    parse_args,
    percentiles,
    write_results,
)
from bot.local import AppEndpoint, LocalSlackAPI, SlackDriver, SlackUser, SlackWorkspace
from bot.local.slack_api import Call
from bot.transport.wsgi import EVENTS_PATH

QUICK = {"customers": 2_000, "pg_customers": 2_000, "rounds": 1, "seconds": 3.0}
TYPISTS = 8
SIDES = ("floor", "product")
KEYSTROKES = [text for texts in QUERIES.values() for text in texts]
WAIT_SECONDS = 30.0
ROOT = Path(__file__).resolve().parent.parent
ROW_PREFIX = "row_"
METHOD_NOTE = (
    "Latency runs from signing the block_actions request until the stand-in has recorded the "
    "views.update the server made for it. CPU is read from each server process (psutil) "
    "before and after its keystrokes; the product's process also runs its outbox and alert "
    "workers, which count. The floor shows 'more than 1,000' where the product estimates "
    "'about N'; only the rows are compared. The stand-in and the typists share the machine's "
    "cores with both servers and the database."
)


@dataclass
class Side:
    """One server: its process, and a driver per typist aimed at it."""

    name: str
    process: psutil.Process
    drivers: list[SlackDriver]
    latencies: list[float] = field(default_factory=list)
    cpu: float = 0.0
    keystrokes: int = 0


def _rows(call: Call) -> list[str]:
    view = call.params.get("view") or {}
    blocks = view.get("blocks") or []
    return [
        str(block["block_id"]).removeprefix(ROW_PREFIX)
        for block in blocks
        if str(block.get("block_id", "")).startswith(ROW_PREFIX)
    ]


def _keystroke(driver: SlackDriver, text: str) -> tuple[float, Call]:
    """Type `text` into the open hub's search; milliseconds until its views.update landed."""
    api = driver.api
    view = api.current_view(driver.user_id) or {}
    view_id = view.get("id")
    mark = api.mark()
    started = time.perf_counter()
    answer = driver.type(text, into="Search")
    if answer is None or answer.status != 200:
        raise RuntimeError(f"no ack for {text!r}: {answer}")
    call = api.wait_for(
        "views.update",
        lambda c: c.params.get("view_id") == view_id,
        since=mark,
        timeout=WAIT_SECONDS,
    )
    if not call.ok:
        raise RuntimeError(f"views.update failed for {text!r}: {call.error}")
    return (time.perf_counter() - started) * 1000, call


def _one_at_a_time(sides: list[Side], rounds: int) -> dict[str, Any]:
    """Each keystroke to both servers in turn, comparing rows; the first typist only."""
    mismatches: list[dict[str, Any]] = []
    compared = 0
    for side in sides:
        side.latencies, side.cpu, side.keystrokes = [], cpu_seconds(side.process), 0
    for n in range(rounds):
        for k, text in enumerate(KEYSTROKES):
            order = sides if (n + k) % 2 == 0 else sides[::-1]
            shown: dict[str, list[str]] = {}
            for side in order:
                elapsed, call = _keystroke(side.drivers[0], text)
                side.latencies.append(elapsed)
                side.keystrokes += 1
                shown[side.name] = _rows(call)
            compared += 1
            if shown["floor"] != shown["product"]:
                mismatches.append({"text": text, **shown})
    result: dict[str, Any] = {"keystrokes_each": compared, "mismatches": mismatches[:10]}
    result["same_rows"] = compared - len(mismatches)
    for side in sides:
        cpu = cpu_seconds(side.process) - side.cpu
        result[side.name] = {
            **percentiles(side.latencies),
            "cpu_ms_per_keystroke": round(1000 * cpu / side.keystrokes, 2),
        }
    return result


def _typing(side: Side, seconds: float) -> dict[str, Any]:
    """Eight typists back to back against one server for `seconds`."""
    stop = time.perf_counter() + seconds
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def typist(n: int) -> None:
        driver = side.drivers[n]
        k = n * 5
        while time.perf_counter() < stop:
            try:
                elapsed, _ = _keystroke(driver, KEYSTROKES[k % len(KEYSTROKES)])
            except Exception as exc:  # a failure is counted, and typing goes on
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])
                continue
            finally:
                k += 1
            with lock:
                latencies.append(elapsed)

    cpu_before = cpu_seconds(side.process)
    started = time.perf_counter()
    threads = [threading.Thread(target=typist, args=(n,)) for n in range(TYPISTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    cpu = cpu_seconds(side.process) - cpu_before
    return {
        "keystrokes": len(latencies),
        "errors": len(errors),
        "first_errors": errors[:3],
        "per_s": round(len(latencies) / wall, 1),
        "cpu_ms_per_keystroke": round(1000 * cpu / max(1, len(latencies)), 2),
        **percentiles(latencies or [0.0]),
    }


def _throughput(sides: list[Side], seconds: float) -> dict[str, Any]:
    """Floor, product, floor, product: each side's two runs added up."""
    runs: dict[str, list[dict[str, Any]]] = {side.name: [] for side in sides}
    for _ in range(2):
        for side in sides:
            runs[side.name].append(_typing(side, seconds))
    result: dict[str, Any] = {}
    for name, each in runs.items():
        keystrokes = sum(run["keystrokes"] for run in each)
        result[name] = {
            "runs": each,
            "per_s": round(sum(run["per_s"] for run in each) / len(each), 1),
            "errors": sum(run["errors"] for run in each),
            "cpu_ms_per_keystroke": round(
                sum(run["cpu_ms_per_keystroke"] * run["keystrokes"] for run in each)
                / max(1, keystrokes),
                2,
            ),
        }
    return result


@contextmanager
def _servers(url: str, scratch: Path) -> Iterator[tuple[LocalSlackAPI, list[Side]]]:
    """The product and the floor on their own ports, and each typist's hub open."""
    secret = secrets.token_hex(16)
    users = [f"UFLOOR{n:02d}" for n in range(TYPISTS)]
    with ExitStack() as stack:
        api = stack.enter_context(LocalSlackAPI(SlackWorkspace(team_id=TEAM_ID)))
        for user in users:
            api.add_user(SlackUser(user, user.lower(), team_id=TEAM_ID))
        env = server_env(
            database_url=url,
            slack_bot_token=api.bot_token,
            slack_signing_secret=secret,
            slack_api_url=api.base_url,
            admin_slack_user_ids=",".join(users),
            log_level="WARNING",
        )
        commands: dict[str, Callable[[int], list[str]]] = {
            "floor": lambda port: [sys.executable, "-m", "bench._floor_app", "--port", str(port)],
            "product": lambda port: [
                CLI,
                "serve",
                "--http",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
        }
        sides = []
        for name in SIDES:
            port = free_port()
            root = f"http://127.0.0.1:{port}"
            log_path = scratch / f"{name}.log"
            # The floor runs from this checkout (bench/ is not installed with the app).
            path = {"PYTHONPATH": str(ROOT)} if name == "floor" else {}
            command = commands[name](port)
            process = stack.enter_context(serving(command, {**env, **path}, log_path))
            wait_ready(process, root, log_path)
            endpoint = AppEndpoint(root + EVENTS_PATH, secret)
            drivers = [SlackDriver(api, endpoint, user_id=u, team_id=TEAM_ID) for u in users]
            sides.append(Side(name, process, drivers))
        product = next(side for side in sides if side.name == "product")
        for driver in product.drivers:
            _open_hub(driver)
        yield api, sides


def _open_hub(driver: SlackDriver) -> None:
    driver.slash("/customers")
    driver.api.wait_until(
        lambda: driver.api.current_view(driver.user_id) is not None, description="the hub"
    )


def _bench(url: str, engine: str, customers: int, args: argparse.Namespace) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="bench-floor-") as scratch,
        _servers(url, Path(scratch)) as (_api, sides),
    ):
        # Warm-up: each server compiles its statements and fills its pool.
        for side in sides:
            for text in KEYSTROKES[:10]:
                _keystroke(side.drivers[0], text)
        alone = _one_at_a_time(sides, args.rounds)
        typing = _throughput(sides, args.seconds)
    result = {"engine": engine, "customers": customers, "one_at_a_time": alone, "typing": typing}
    result["ratios"] = _ratios(alone, typing)
    console.print(_table(result))
    if alone["mismatches"]:
        console.print(f"[red]Rows differ[/red] for {alone['mismatches']}")
    return result


def _ratios(alone: dict[str, Any], typing: dict[str, Any]) -> dict[str, float]:
    floor, product = alone["floor"], alone["product"]

    def ratio(a: float, b: float) -> float:
        return round(a / b, 2) if b else float("nan")

    return {
        "cpu_per_keystroke": ratio(product["cpu_ms_per_keystroke"], floor["cpu_ms_per_keystroke"]),
        "cpu_per_keystroke_typing": ratio(
            typing["product"]["cpu_ms_per_keystroke"], typing["floor"]["cpu_ms_per_keystroke"]
        ),
        "p50": ratio(product["p50_ms"], floor["p50_ms"]),
        "p95": ratio(product["p95_ms"], floor["p95_ms"]),
        "throughput": ratio(typing["product"]["per_s"], typing["floor"]["per_s"]),
    }


def _table(result: dict[str, Any]) -> Table:
    alone, typing, ratios = result["one_at_a_time"], result["typing"], result["ratios"]
    table = Table(
        title=f"{result['engine']}, {result['customers']:,} customers: search keystroke",
        title_justify="left",
    )
    for column in (
        "",
        "CPU ms/key",
        "p50 ms",
        "p95 ms",
        f"{TYPISTS} typing /s",
        "CPU ms/key typing",
    ):
        table.add_column(column, justify="right")
    for name in SIDES:
        table.add_row(
            name,
            f"{alone[name]['cpu_ms_per_keystroke']:.1f}",
            f"{alone[name]['p50_ms']:.1f}",
            f"{alone[name]['p95_ms']:.1f}",
            f"{typing[name]['per_s']:.1f}",
            f"{typing[name]['cpu_ms_per_keystroke']:.1f}",
        )
    table.add_row(
        "product ÷ floor",
        f"×{ratios['cpu_per_keystroke']:.2f}",
        f"×{ratios['p50']:.2f}",
        f"×{ratios['p95']:.2f}",
        f"×{ratios['throughput']:.2f}",
        f"×{ratios['cpu_per_keystroke_typing']:.2f}",
    )
    table.caption = f"same rows for {alone['same_rows']} of {alone['keystrokes_each']} keystrokes"
    return table


def _measured(args: argparse.Namespace) -> Callable[[Loaded], dict[str, Any]]:
    return lambda loaded: _bench(loaded.url, loaded.engine, loaded.customers, args)


def main(argv: list[str] | None = None) -> None:
    """Run both servers on each database, print the tables and write the JSON results."""
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000, help="on SQLite")
    parser.add_argument("--pg-customers", type=int, default=1_000_000, help="on PostgreSQL")
    parser.add_argument("--rounds", type=int, default=5, help="times through the keystrokes")
    parser.add_argument("--seconds", type=float, default=15.0, help="per typing run")
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parse_args(parser, argv, "floor", QUICK)
    host = machine()
    console.print(
        f"[bold]Floor benchmark[/bold]: {len(KEYSTROKES)} keystrokes x {args.rounds} rounds to "
        f"each server, then {TYPISTS} typing for 2 x {args.seconds:g} s each; "
        f"{host['cores']} cores, load average {host['load_average_1m']} at the start."
    )
    console.print(METHOD_NOTE, style="dim")
    results: dict[str, Any] = {
        "benchmark": "floor",
        "quick": args.quick,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": host,
        "method": METHOD_NOTE,
        "databases": {},
    }
    wanted = args.databases.split(",")
    if "sqlite" in wanted:
        results["databases"]["sqlite"] = _on_sqlite("floor", args.customers, _measured(args), None)
    base = os.environ.get(PG_URL_ENV, DEFAULT_PG_URL)
    if "postgresql" in wanted:
        unreachable = _unreachable(base)
        if unreachable is None:
            results["databases"]["postgresql"] = _on_postgres(
                base, "floor", args.pg_customers, _measured(args), None
            )
        else:
            console.print(f"[yellow]PostgreSQL skipped ({unreachable}).[/yellow]")
            results["databases"]["postgresql"] = {"skipped": unreachable}
    write_results(args.out, results)
    console.print(f"Results written to {args.out}.")


if __name__ == "__main__":
    main()
