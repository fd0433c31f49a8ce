"""Start-up and memory of `customer-bot serve --http`: ready time, import time, RSS under load.

Run with `python -m bench.startup [--runs N] [--interactions N] [--customers N]` (or `make bench`).
The server runs as its own process, on a scratch SQLite database, with the local Slack
stand-in in this process as its Web API. Ready is from spawning the process until GET /healthz
answers 200 (the first start also creates the schema). Then a SlackDriver sends signed, mixed
interactions (hub, search keystrokes, pages, details tabs, App Home) and the server's RSS is
read from /proc before and after. A second server with gc.freeze() disabled takes turns with
it, to compare the latency tails; a probe times one full garbage collection of the started
app with and without the freeze.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from itertools import chain, cycle
from pathlib import Path
from typing import Any

from rich.table import Table

from bench._servers import free_port, healthy
from bench._support import (
    QUERIES,
    SEED,
    TEAM_ID,
    RequestTimer,
    Timed,
    TimedDriver,
    console,
    machine,
    parse_args,
    percentiles,
    settings_for,
    write_results,
)
from bot.local import AppEndpoint, LocalSlackAPI, SlackUser, SlackWorkspace
from bot.transport.wsgi import EVENTS_PATH
from bot.views.tabs import TAB_LABELS
from core.config import Settings
from core.db import Database
from core.demo.customers import load_demo_customers, load_demo_history

QUICK = {"runs": 2, "interactions": 30, "customers": 500}
CLI = [str(Path(sys.executable).with_name("customer-bot"))]
# The same CLI with gc.freeze() made a no-op: the "before" of the start-up heap freeze.
CLI_WITHOUT_FREEZE = [
    sys.executable,
    "-c",
    "import gc; gc.freeze = lambda: None; from bot.cli import main; main()",
]
# The servers loaded side by side, each driven by its own admin (the stand-in keeps one set
# of open views per user).
LOAD_SERVERS = {
    "freeze": (CLI, "UBENCHFROZEN"),
    "no freeze": (CLI_WITHOUT_FREEZE, "UBENCHPLAIN"),
}
# Builds the app as `serve` does, then times a full collection before and after gc.freeze().
GC_PROBE = """
import gc, json, statistics, time
from bot.app import create_app
from bot.transport.server import pool_options
from core.config import Settings
from core.db import Database

settings = Settings()
db = Database(settings, **pool_options(8))
db.upgrade()
app = create_app(settings, db)


def full_collection_ms():
    times = []
    for _ in range(5):
        started = time.perf_counter()
        gc.collect()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)


unfrozen = full_collection_ms()
gc.freeze()
frozen = full_collection_ms()
print(json.dumps({"objects_frozen": gc.get_freeze_count(), "unfrozen_ms": unfrozen, "frozen_ms": frozen}))
"""
READY_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.005
STOP_TIMEOUT_SECONDS = 15.0
KEYSTROKES = cycle(chain.from_iterable(QUERIES.values()))
TABS = cycle(TAB_LABELS.values())
PAUSE_SECONDS = 0.005
# Untimed rounds first: each server's first requests fill its caches (SQL compilation, …).
WARMUP_ROUNDS = 2
METHOD_NOTE = (
    "Ready: wall time from spawning `customer-bot serve --http` (a fresh interpreter) until "
    "GET /healthz answers 200, polled every 5 ms. Import: wall time of `python -c 'import "
    "bot.app'`, next to an empty `python -c pass`. RSS is VmRSS of the server process from "
    "/proc (VmHWM for the peak). Interactions are timed from signing the request until the "
    "stand-in records the Web API call the app makes for it; the server (waitress, its own "
    "process) and the driver plus stand-in (this process) share the machine's cores."
)


def _server_env(url: str, api: LocalSlackAPI, signing_secret: str) -> dict[str, str]:
    """This environment without any app setting, plus the scratch database and the stand-in."""
    names = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in names}
    return {
        **env,
        "DATABASE_URL": url,
        "SLACK_BOT_TOKEN": api.bot_token,
        "SLACK_SIGNING_SECRET": signing_secret,
        "SLACK_API_URL": api.base_url,
        "ADMIN_SLACK_USER_IDS": ",".join(user for _, user in LOAD_SERVERS.values()),
        "LOG_LEVEL": "WARNING",
    }


def _memory_mb(pid: int) -> dict[str, float]:
    """The process's resident set now (VmRSS) and at its peak (VmHWM), in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in {"VmRSS", "VmHWM"}:
            fields[name] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields["VmRSS"], "peak_rss_mb": fields["VmHWM"]}


@dataclass(frozen=True)
class Server:
    """A running server process and how long it took to answer its first health check."""

    process: subprocess.Popen[bytes]
    root: str
    ready_seconds: float

    def memory(self) -> dict[str, float]:
        """Its RSS now and at peak, in MB."""
        return _memory_mb(self.process.pid)


@contextmanager
def serving(command: list[str], env: dict[str, str], scratch: Path) -> Iterator[Server]:
    """Spawn the server, wait until it is healthy, and stop it with SIGTERM afterwards."""
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    args = [*command, "serve", "--http", "--host", "127.0.0.1", "--port", str(port)]
    log_path = scratch / f"server-{port}.log"
    with log_path.open("wb") as log:
        started = time.perf_counter()
        # cwd is the scratch directory, so no .env file of the developer's is read.
        process = subprocess.Popen(args, env=env, cwd=scratch, stdout=log, stderr=log)  # noqa: S603
        try:
            while not healthy(root):
                if process.poll() is not None:
                    raise RuntimeError(f"the server exited early:\n{log_path.read_text()}")
                if time.perf_counter() - started > READY_TIMEOUT_SECONDS:
                    raise TimeoutError(f"the server was not ready:\n{log_path.read_text()}")
                time.sleep(POLL_SECONDS)
            yield Server(process, root, time.perf_counter() - started)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise


def _wall_seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603 - fixed commands
    return time.perf_counter() - started


def _full_collection(env: dict[str, str], scratch: Path) -> dict[str, Any]:
    """What a full garbage collection costs the started app, with and without the freeze."""
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", GC_PROBE], env=env, cwd=scratch, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"the garbage collection probe failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _spread(samples: list[float]) -> dict[str, Any]:
    return {
        "runs": len(samples),
        "p50_s": round(statistics.median(samples), 3),
        "max_s": round(max(samples), 3),
    }


# -- the mixed load ----------------------------------------------------------------------------


def _round(timer: RequestTimer) -> list[Timed]:
    """One visit: the hub, a few keystrokes, the next page, a customer's tabs, App Home."""
    driver = timer.driver
    timed = [timer.time("views.open", lambda: driver.slash("/customers"))]
    for _ in range(3):
        keystroke = partial(driver.type, next(KEYSTROKES), into="Search")
        timed.append(timer.time("views.update", keystroke))
    timed.append(timer.time("views.update", lambda: driver.type("", into="Search")))
    timed.append(timer.time("views.update", lambda: driver.click("Next ▶")))
    row = next(e for e in driver.find_elements() if e.action_id == "customer.open")
    timed.append(timer.time("views.push", partial(driver.click, row.label, in_block=row.block_id)))
    for _ in range(3):
        tab = partial(driver.click, next(TABS), in_block="details_tabs")
        timed.append(timer.time("views.update", tab))
    driver.close()
    driver.close()
    timed.append(timer.time("views.publish", driver.open_home))
    return timed


@dataclass
class _Loaded:
    """One server under the mixed load: its driver, memory when idle and timed samples."""

    server: Server
    driver: TimedDriver
    idle: dict[str, float]
    samples: list[Timed] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        """Latency percentiles and memory, idle and now."""
        return {
            "interactions": len(self.samples),
            "memory_after_start": self.idle,
            "memory_after_load": self.server.memory(),
            "ack": percentiles([s.ack_ms for s in self.samples]),
            "web_api_call": percentiles([s.call_ms for s in self.samples]),
        }


def _load(
    env: dict[str, str], scratch: Path, api: LocalSlackAPI, secret: str, count: int
) -> dict[str, Any]:
    """About `count` interactions on each server after a warm-up, taking turns a round at a time.

    Taking turns, rather than one server after the other, gives both the same share of
    whatever else the machine is doing, so their tails can be compared.
    """
    with ExitStack() as stack:
        watcher = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="bench-watch"))
        runs = {}
        for label, (command, user) in LOAD_SERVERS.items():
            server = stack.enter_context(serving(command, env, scratch))
            driver = TimedDriver(api, AppEndpoint(server.root + EVENTS_PATH, secret), user_id=user)
            runs[label] = _Loaded(server, driver, server.memory())
        for run in runs.values():
            for _ in range(WARMUP_ROUNDS):
                _round(RequestTimer(run.driver, watcher))
        turns = list(runs.values())
        while any(len(run.samples) < count for run in turns):
            # Who goes first alternates: going first after the pause was measurably slower.
            for run in turns:
                run.samples.extend(_round(RequestTimer(run.driver, watcher)))
                time.sleep(PAUSE_SECONDS)
            turns.reverse()
        return {label: run.report() for label, run in runs.items()}


def _prepare(url: str, customers: int, history: int) -> None:
    db = Database(settings_for(url))
    try:
        db.upgrade()
        with db.unit_of_work() as uow:
            load_demo_customers(uow, TEAM_ID, customers, seed=SEED)
        with db.unit_of_work() as uow:
            load_demo_history(uow, TEAM_ID, customers_limit=history, seed=SEED)
    finally:
        db.dispose()


def _bench(runs: int, interactions: int, customers: int) -> dict[str, Any]:
    secret = secrets.token_hex(16)
    with (
        tempfile.TemporaryDirectory(prefix="bench-startup-") as scratch_dir,
        LocalSlackAPI(SlackWorkspace(team_id=TEAM_ID)) as api,
    ):
        scratch = Path(scratch_dir)
        for _, user in LOAD_SERVERS.values():
            api.add_user(SlackUser(user, user.lower(), team_id=TEAM_ID))
        url = f"sqlite:///{scratch / 'customers.db'}"
        env = _server_env(url, api, secret)
        with serving(CLI, env, scratch) as first:
            first_ready = first.ready_seconds
        ready, exit_codes = [], set()
        for _ in range(runs):
            with serving(CLI, env, scratch) as server:
                ready.append(server.ready_seconds)
                memory = server.memory()
            exit_codes.add(server.process.returncode)
        interpreter = [_wall_seconds([sys.executable, "-c", "pass"]) for _ in range(runs)]
        imports = [_wall_seconds([sys.executable, "-c", "import bot.app"]) for _ in range(runs)]
        collection = _full_collection(env, scratch)

        _prepare(url, customers, history=min(customers, 200))
        load = _load(env, scratch, api, secret, interactions)
    return {
        "first_start_with_schema_s": round(first_ready, 3),
        "ready": _spread(ready),
        "exit_codes_on_sigterm": sorted(exit_codes),
        "memory_after_start_empty_db": memory,
        "python_startup": _spread(interpreter),
        "import_bot_app": _spread(imports),
        "full_gc_collection": collection,
        "customers": customers,
        "load": load,
    }


def _tables(result: dict[str, Any]) -> list[Table]:
    timing = Table(title="Start-up (wall seconds)", title_justify="left")
    for column in ("measured", "runs", "p50 s", "max s"):
        timing.add_column(column, justify="left" if column == "measured" else "right")
    timing.add_row(
        "first start (creates the schema)", "1", f"{result['first_start_with_schema_s']:.3f}", ""
    )
    for label, key in (
        ("serve --http → /healthz 200", "ready"),
        ("python -c 'import bot.app'", "import_bot_app"),
        ("python -c pass (interpreter alone)", "python_startup"),
    ):
        spread = result[key]
        timing.add_row(
            label, str(spread["runs"]), f"{spread['p50_s']:.3f}", f"{spread['max_s']:.3f}"
        )
    load = Table(
        title=f"Server under load ({result['customers']:,} customers, SQLite)", title_justify="left"
    )
    for column in (
        "server",
        "requests",
        "idle MB",
        "after MB",
        "peak MB",
        "p50 ms",
        "p95 ms",
        "p99 ms",
    ):
        load.add_column(column, justify="left" if column == "server" else "right", no_wrap=True)
    for label, run in result["load"].items():
        call = run["web_api_call"]
        load.add_row(
            label,
            str(run["interactions"]),
            f"{run['memory_after_start']['rss_mb']:.1f}",
            f"{run['memory_after_load']['rss_mb']:.1f}",
            f"{run['memory_after_load']['peak_rss_mb']:.1f}",
            f"{call['p50_ms']:.1f}",
            f"{call['p95_ms']:.1f}",
            f"{call['p99_ms']:.1f}",
        )
    return [timing, load]


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark, print the tables and write the JSON results."""
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="timed starts and imports")
    parser.add_argument("--interactions", type=int, default=500, help="per server under load")
    parser.add_argument("--customers", type=int, default=2_000)
    args = parse_args(parser, argv, "startup", QUICK)
    host = machine()
    console.print(
        f"[bold]Start-up benchmark[/bold]: {args.runs} starts, {args.interactions} interactions "
        f"per load run, {args.customers:,} demo customers; {host['cores']} cores, "
        f"load average {host['load_average_1m']} at the start."
    )
    console.print(METHOD_NOTE, style="dim")
    started = time.perf_counter()
    result = _bench(args.runs, args.interactions, args.customers)
    for table in _tables(result):
        console.print(table)
    collection = result["full_gc_collection"]
    console.print(
        f"A full garbage collection of the started app ({collection['objects_frozen']:,} "
        f"objects) takes {collection['unfrozen_ms']:.1f} ms; after gc.freeze() "
        f"{collection['frozen_ms']:.2f} ms."
    )
    elapsed = time.perf_counter() - started
    write_results(
        args.out,
        {
            "benchmark": "startup",
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": host,
            "quick": args.quick,
            "method": METHOD_NOTE,
            **result,
            "total_seconds": round(elapsed, 1),
        },
    )
    console.print(f"Results written to {args.out} ({elapsed:.0f} s in all).")


if __name__ == "__main__":
    main()
