"""Sustained load on `customer-bot serve --http --workers N` with PostgreSQL at 100,000 customers.

Run with `python -m bench.load [--workers 1,2,4] [--rates 25,50,100,150,200] [--step-seconds 12]`
(or `make bench` for all). For each worker count the server runs as its own process tree on a
loopback port, talking to the local Slack stand-in in this process. Virtual staff members
(SlackDrivers, one thread each) repeat a visit: `/customers`, two search keystrokes, a
customer's details, two tab switches, and (every visit, or every Nth with --create-every N)
Create Customer and its submission. Interactions are offered open-loop at each rate in turn;
a rate's step ends by itself, and once a step's p99 passes 1 s the higher rates are skipped. PostgreSQL runs in a throw-away database next to
BENCH_DATABASE_URL's.
"""

from __future__ import annotations

import argparse
import itertools
import os
import queue
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from rich.table import Table
from sqlalchemy.engine import make_url

from bench._servers import (
    CLI,
    cpu_seconds,
    free_port,
    postgres_cpu_seconds,
    rss_mb,
    server_env,
    serving,
    wait_ready,
)
from bench._support import (
    DEFAULT_PG_URL,
    PG_URL_ENV,
    TEAM_ID,
    _load,
    _scratch_postgres,
    _unreachable,
    console,
    latency_table,
    machine,
    parse_args,
    percentiles,
    settings_for,
    settle,
    write_results,
)
from bot.local import (
    AppEndpoint,
    AppResponse,
    LocalSlackAPI,
    SlackDriver,
    SlackUser,
    SlackWorkspace,
)
from bot.transport.wsgi import EVENTS_PATH
from bot.views.customer_form import CALLBACK_ID as FORM_CALLBACK_ID
from bot.views.hub import OPEN_ACTION
from bot.views.tabs import TAB_LABELS
from core.db import Database
from core.security import generate_password

# A smoke run: a few thousand customers, low rates, short steps.
QUICK = {"customers": 2_000, "workers": [1, 2], "rates": [10, 20], "step_seconds": 3.0}
USERS = 96
CALL_TIMEOUT_SECONDS = 10.0
KNEE_MS = 1000.0
# What a receptionist types before picking someone: two keystrokes of a common name.
SEARCHES = (("ma", "mar"), ("sm", "smi"), ("jo", "jos"), ("ol", "oli"), ("em", "emm"))
TABS = tuple(TAB_LABELS.values())
# Each created customer's email and mobile are its own, across the runs of all worker counts
# on one database: a taken email, or a mobile shared with an earlier customer, makes the form
# answer with errors or a warning (no redraw follows) instead of saving.
_SERIALS = itertools.count(1)
METHOD_NOTE = (
    "Open loop: interaction k of a step is due at start + k/rate and goes to the next idle "
    "virtual user; its latency runs from when it was due (waiting for an idle user counts) "
    "until the stand-in recorded the Web API call the app makes for it (views.open, "
    "views.push or views.update), so the app's work after the ack is included; 'ack p99' "
    "is until the HTTP answer. Server, PostgreSQL, the stand-in and this load generator "
    "share the machine's cores; the generator's own CPU use is reported with each step. "
    "One worker is the waitress process; more are gunicorn gthread workers."
)


class _StandIn(LocalSlackAPI):
    """The Slack stand-in, also telling each virtual user when the app's call for it landed."""

    def __init__(self, workspace: SlackWorkspace) -> None:
        super().__init__(workspace)
        self._owners: dict[str, str] = {}
        self._waiting: dict[str, tuple[str, Future[tuple[float, bool]]]] = {}

    def issue_trigger_id(self, user_id: str, *, view_id: str | None = None) -> str:
        """A trigger, remembered as this user's."""
        trigger = super().issue_trigger_id(user_id, view_id=view_id)
        self._owners[trigger] = user_id
        return trigger

    def expect(self, user_id: str, method: str) -> Future[tuple[float, bool]]:
        """Resolves with (time, ok) when the app next calls `method` for this user."""
        waiter: Future[tuple[float, bool]] = Future()
        self._waiting[user_id] = (method, waiter)
        return waiter

    def _record(
        self, method: str, params: dict[str, Any], token: str | None, response: dict[str, Any]
    ) -> None:
        super()._record(method, params, token, response)
        key = params.get("trigger_id") or params.get("view_id") or ""
        user = self._owners.get(str(key))
        if user is None:
            return
        view = response.get("view")
        if isinstance(view, dict) and "id" in view:
            self._owners[view["id"]] = user
        waiting = self._waiting.get(user)
        if waiting is not None and waiting[0] == method:
            del self._waiting[user]
            waiting[1].set_result((time.perf_counter(), bool(response.get("ok"))))


@dataclass
class _Sample:
    kind: str
    due: float
    acked: float
    done: float
    ok: bool


Turn = tuple[str, str, Callable[[], AppResponse | None]]


class _User:
    """One staff member repeating the visit, one interaction per turn."""

    def __init__(
        self, api: _StandIn, url: str, secret: str, user_id: str, seed: int, create_every: int
    ) -> None:
        self.api = api
        self.driver = SlackDriver(api, AppEndpoint(url, secret), user_id=user_id, team_id=TEAM_ID)
        self.n = seed
        self.create_every = max(1, create_every)
        self.visits = 0
        self.steps = self._turns()

    def _turns(self) -> Iterator[Turn]:
        while True:
            self.visits += 1
            yield from self._visit(creating=self.visits % self.create_every == 0)

    def _visit(self, *, creating: bool) -> list[Turn]:
        d = self.driver

        def command() -> AppResponse | None:
            # Whatever the last visit left open is closed first, as a person would.
            while self.api.current_view(d.user_id) is not None:
                d.close()
            return d.slash("/customers")

        def search(text: str) -> Callable[[], AppResponse | None]:
            return lambda: d.type(text, into="Search")

        def first_row() -> AppResponse | None:
            row = next(e for e in d.find_elements() if e.action_id == OPEN_ACTION)
            return d.click(row.label, in_block=row.block_id)

        def tab(k: int) -> Callable[[], AppResponse | None]:
            return lambda: d.click(TABS[(self.n + k) % len(TABS)], in_block="details_tabs")

        def create() -> AppResponse | None:
            d.close()  # the details, back to the hub
            return d.click("+ Create Customer")

        def submit() -> AppResponse | None:
            d.wait_for_view(lambda view: view.get("callback_id") == FORM_CALLBACK_ID)
            self.n += 1
            d.type("Load", into="First name")
            d.type(f"Tester {self.n}", into="Last name")
            serial = next(_SERIALS)
            d.type(f"load.{serial}@example.com", into="Email")
            d.type(f"07700 9{serial % 100_000:05d}", into="Mobile")
            if self.n % 4:
                d.type(generate_password(), into="Password")
            return d.submit()

        first, second = SEARCHES[self.n % len(SEARCHES)]
        browse: list[Turn] = [
            ("/customers", "views.open", command),
            ("keystroke", "views.update", search(first)),
            ("keystroke", "views.update", search(second)),
            ("open details", "views.push", first_row),
            ("tab switch", "views.update", tab(1)),
            ("tab switch", "views.update", tab(2)),
        ]
        creation: list[Turn] = [
            ("create form", "views.push", create),
            ("create submit", "views.update", submit),
        ]
        return [*browse, *creation] if creating else browse

    def restart(self) -> None:
        """After a failure, begin a fresh visit."""
        self.steps = self._turns()

    def turn(self, due: float) -> _Sample:
        """Take the visit's next interaction; times from `due`."""
        kind, method, act = next(self.steps)
        landed = self.api.expect(self.driver.user_id, method)
        try:
            response = act()
            acked = time.perf_counter()
            if response is None or response.status != 200:
                raise RuntimeError(f"no ack: {response}")
            done, ok = landed.result(CALL_TIMEOUT_SECONDS)
        except Exception:
            self.restart()
            now = time.perf_counter()
            return _Sample(kind, due, now, now, False)
        if not ok:
            self.restart()
        return _Sample(kind, due, acked, done, ok)


@dataclass
class _Step:
    rate: int
    seconds: float
    samples: list[_Sample] = field(default_factory=list)
    generator_cpu_percent: float = 0.0
    # CPU seconds the step took: the load generator (with the stand-in), the serving process
    # tree, PostgreSQL.
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    def report(self) -> dict[str, Any]:
        good = [s for s in self.samples if s.ok]
        wall = max((s.done for s in self.samples), default=0.0) - min(
            (s.due for s in self.samples), default=0.0
        )
        result: dict[str, Any] = {
            "offered_per_s": self.rate,
            "seconds": self.seconds,
            "interactions": len(self.samples),
            "errors": len(self.samples) - len(good),
            "achieved_per_s": round(len(good) / wall, 1) if wall > 0 else 0.0,
            "generator_cpu_percent": self.generator_cpu_percent,
        }
        if good:
            result["cpu_ms_per_interaction"] = {
                who: round(1000 * seconds / len(good), 1)
                for who, seconds in self.cpu_seconds.items()
            }
        if len(good) >= 2:
            result["latency"] = percentiles([(s.done - s.due) * 1000 for s in good])
            result["ack_p99_ms"] = percentiles([(s.acked - s.due) * 1000 for s in good])["p99_ms"]
            result["by_kind"] = {
                kind: {
                    "samples": len(done),
                    **percentiles([(s.done - s.due) * 1000 for s in done]),
                }
                for kind in dict.fromkeys(s.kind for s in self.samples)
                if len(done := [s for s in good if s.kind == kind]) >= 2
            }
        return result


def _cpu(server: psutil.Process) -> dict[str, float]:
    me = psutil.Process().cpu_times()
    return {
        "generator": me.user + me.system,
        "server": cpu_seconds(server),
        "postgres": postgres_cpu_seconds(),
    }


def _run_step(
    users: queue.Queue[_User],
    pool: ThreadPoolExecutor,
    rate: int,
    seconds: float,
    server: psutil.Process,
) -> _Step:
    step = _Step(rate, seconds)
    lock = threading.Lock()

    def work(user: _User, due: float) -> None:
        sample = user.turn(due)
        with lock:
            step.samples.append(sample)
        users.put(user)

    cpu_before = _cpu(server)
    started = time.perf_counter()
    pending = []
    for k in range(int(rate * seconds)):
        due = started + k / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        # Blocks when every user is busy: the wait is part of this interaction's latency.
        pending.append(pool.submit(work, users.get(), due))
    for job in pending:
        job.result()
    cpu_after = _cpu(server)
    step.cpu_seconds = {who: cpu_after[who] - cpu_before[who] for who in cpu_after}
    elapsed = time.perf_counter() - started
    step.generator_cpu_percent = round(100 * step.cpu_seconds["generator"] / elapsed, 1)
    return step


@contextmanager
def _serving(
    workers: int, env: dict[str, str], scratch: Path
) -> Iterator[tuple[str, psutil.Process]]:
    """`serve --http --workers N` on a free loopback port, stopped with SIGTERM afterwards."""
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    command = [CLI, "serve", "--http", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers)]
    log_path = scratch / f"server-{workers}.log"
    with serving(command, env, log_path) as process:
        wait_ready(process, root, log_path, children=(workers > 1) * workers)
        yield root, process


def _one_worker_count(
    workers: int, url: str, rates: list[int], seconds: float, scratch: Path, create_every: int
) -> dict[str, Any]:
    secret = secrets.token_hex(16)
    user_ids = [f"ULOAD{n:03d}" for n in range(USERS)]
    with _StandIn(SlackWorkspace(team_id=TEAM_ID)) as api:
        for user_id in user_ids:
            api.add_user(SlackUser(user_id, user_id.lower(), team_id=TEAM_ID))
        env = server_env(
            database_url=url,
            slack_bot_token=api.bot_token,
            slack_signing_secret=secret,
            slack_api_url=api.base_url,
            admin_slack_user_ids=",".join(user_ids),
            log_level="WARNING",
        )
        steps: list[dict[str, Any]] = []
        with (
            _serving(workers, env, scratch) as (root, server),
            ThreadPoolExecutor(USERS, thread_name_prefix="load-user") as pool,
        ):
            idle: queue.Queue[_User] = queue.Queue()
            for n, user_id in enumerate(user_ids):
                idle.put(_User(api, root + EVENTS_PATH, secret, user_id, n, create_every))
            # A short warm-up: each worker compiles its statements and fills its pools.
            _run_step(idle, pool, rates[0], min(seconds, 4.0), server)
            for rate in rates:
                step = _run_step(idle, pool, rate, seconds, server).report()
                steps.append(step)
                console.print(f"  {workers} worker(s), {rate}/s: {_summary(step)}")
                if step.get("by_kind"):
                    heading = f"{workers} worker(s), {rate}/s, latency from due time"
                    console.print(latency_table(heading, "interaction", step["by_kind"]))
                if step.get("latency", {}).get("p99_ms", KNEE_MS + 1) > KNEE_MS:
                    break
            memory = rss_mb(server)
    knee = next(
        (
            s["offered_per_s"]
            for s in steps
            if s.get("latency", {}).get("p99_ms", KNEE_MS + 1) > KNEE_MS
        ),
        None,
    )
    return {"workers": workers, "steps": steps, "p99_over_1s_at_per_s": knee, **memory}


def _summary(step: dict[str, Any]) -> str:
    latency = step.get("latency", {})
    return (
        f"{step['achieved_per_s']}/s achieved, p99 {latency.get('p99_ms', float('nan')):.0f} ms, "
        f"{step['errors']} errors; CPU ms each (app / PG / generator) {_cpu_cell(step)}"
    )


def _table(result: dict[str, Any], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    columns = ("N", "rate/s", "done/s", "errors", "p50", "p95", "p99", "ack p99", "gen CPU%")
    for column in (*columns, "CPU ms each: app / PG / gen"):
        table.add_column(column, justify="right", no_wrap=True)
    for run in result["runs"]:
        for step in run["steps"]:
            latency = step.get("latency", {})
            table.add_row(
                str(run["workers"]),
                str(step["offered_per_s"]),
                f"{step['achieved_per_s']:.1f}",
                str(step["errors"]),
                *(
                    f"{latency[k]:.0f}" if k in latency else "–"
                    for k in ("p50_ms", "p95_ms", "p99_ms")
                ),
                f"{step['ack_p99_ms']:.0f}" if "ack_p99_ms" in step else "–",
                f"{step['generator_cpu_percent']:.0f}",
                _cpu_cell(step),
            )
    return table


def _cpu_cell(step: dict[str, Any]) -> str:
    each = step.get("cpu_ms_per_interaction")
    if not each:
        return "–"
    return " / ".join(f"{each[who]:.1f}" for who in ("server", "postgres", "generator"))


def _memory_table(result: dict[str, Any]) -> Table:
    table = Table(title="After the load", title_justify="left")
    for column in ("workers", "p99 > 1 s from", "largest worker RSS MB", "master RSS MB"):
        table.add_column(column, justify="right")
    for run in result["runs"]:
        knee = run["p99_over_1s_at_per_s"]
        table.add_row(
            str(run["workers"]),
            f"{knee}/s" if knee is not None else "not reached",
            f"{run['worker_rss_mb_max']:.1f}",
            f"{run['master_rss_mb']:.1f}" if "master_rss_mb" in run else "–",
        )
    return table


def _csv_ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> None:
    """Run the load for each worker count, print the tables and write the JSON results."""
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--workers", type=_csv_ints, default=[1, 2, 4])
    parser.add_argument("--rates", type=_csv_ints, default=[25, 50, 100, 150, 200])
    parser.add_argument("--step-seconds", type=float, default=12.0, help="seconds per rate")
    parser.add_argument(
        "--create-every",
        type=int,
        default=1,
        help="visits per customer created: each creation hashes a password with argon2id",
    )
    args = parse_args(parser, argv, "load", QUICK)
    started = time.perf_counter()
    host = machine()
    base = os.environ.get(PG_URL_ENV, DEFAULT_PG_URL)
    results: dict[str, Any] = {
        "benchmark": "load",
        "quick": args.quick,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": host,
        "method": METHOD_NOTE,
        "customers": args.customers,
        "users": USERS,
        "create_every": args.create_every,
    }
    unreachable = _unreachable(base)
    if unreachable is not None:
        shown = make_url(base).render_as_string(hide_password=True)
        console.print(
            f"[yellow]Load benchmark skipped: cannot reach {shown} ({unreachable}).[/yellow]"
        )
        results["skipped"] = unreachable
        write_results(args.out, results)
        return
    console.print(
        f"[bold]Load benchmark[/bold]: {args.customers:,} demo customers on PostgreSQL, "
        f"{USERS} virtual staff, rates {args.rates}/s for {args.step_seconds:.0f} s each, "
        f"workers {args.workers}; {host['cores']} cores, load average "
        f"{host['load_average_1m']} at the start."
    )
    console.print(METHOD_NOTE, style="dim")
    with (
        _scratch_postgres(base, "load") as url,
        tempfile.TemporaryDirectory(prefix="bench-load-") as scratch,
    ):
        db = Database(settings_for(url))
        try:
            load_seconds, _ = _load(db, args.customers, None)
            # Not ANALYZE alone: without the visibility map each index-only scan reads the
            # table too, until autovacuum gets to it, perhaps in the middle of a run.
            settle(db)
        finally:
            db.dispose()
        console.print(f"Loaded {args.customers:,} customers in {load_seconds:.1f} s.")
        results["load_seconds"] = round(load_seconds, 1)
        results["runs"] = [
            _one_worker_count(
                n, url, args.rates, args.step_seconds, Path(scratch), args.create_every
            )
            for n in args.workers
        ]
    title = (
        f"Mixed interactions, PostgreSQL, {args.customers:,} customers: N workers, offered and "
        "achieved rate, latency in ms from due time"
    )
    console.print(_table(results, title))
    console.print(_memory_table(results))
    elapsed = time.perf_counter() - started
    results["total_seconds"] = round(elapsed, 1)
    write_results(args.out, results)
    console.print(f"Results written to {args.out} ({elapsed:.0f} s in all).")


if __name__ == "__main__":
    main()
