"""The product beside its floor: CPU, latency and throughput of a search keystroke and of a
details-tab switch, as ratios.

Run with `python -m bench.floor [--customers N] [--pg-customers N] [--history-customers N]
[--rounds N] [--tab-rounds N] [--seconds S]`
(or `make bench`). On each database the product (`customer-bot serve --http`, one process)
and the floor (bench/_floor_app.py: Bolt over waitress, one SQL statement, the same view) serve
the same data side by side, each in its own process, talking to one Slack stand-in in this
process. Every keystroke goes to both in turn (which goes first alternates), and the rows each
shows are compared. Then eight staff type back to back against one, then the other, twice
over, for throughput. The same again for the eight tabs of one customer's details (a demo
customer with a year of history on every tab, tags and a household), comparing the whole
views. CPU is each server process's own (user + system) over the requests it handled; ratios
are product ÷ floor, so absolute figures that move between machines cancel out.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from rich.table import Table
from sqlalchemy import func, select, union_all

from bench._servers import CLI, cpu_seconds, free_port, server_env, serving, wait_ready
from bench._support import (
    DEFAULT_PG_URL,
    PG_URL_ENV,
    QUERIES,
    SEED,
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
from bot.local import (
    AppEndpoint,
    AppResponse,
    LocalSlackAPI,
    SlackDriver,
    SlackUser,
    SlackWorkspace,
)
from bot.local.slack_api import Call
from bot.transport.wsgi import EVENTS_PATH
from bot.views.customer_details import CALLBACK_ID as DETAILS_CALLBACK
from bot.views.hub import ROW_MENU_ACTION
from bot.views.origin import Tab
from bot.views.tabs import TAB_ACTION_PREFIX
from core.actor import Actor
from core.chart_links import CHARTS_PATH, SUFFIX
from core.db import Database
from core.demo.customers import HISTORY_MODELS, load_demo_history
from core.models import (
    Customer,
    CustomerStatus,
    HistoryEntry,
    Relation,
    Role,
)
from core.services.household import link_customers
from core.services.tags import set_customer_tags

QUICK = {
    "customers": 2_000,
    "pg_customers": 2_000,
    "history_customers": 200,
    "rounds": 1,
    "tab_rounds": 2,
    "seconds": 3.0,
}
TYPISTS = 8
SIDES = ("floor", "product")
KEYSTROKES = [text for texts in QUERIES.values() for text in texts]
TABS = list(Tab)
WAIT_SECONDS = 30.0
ROOT = Path(__file__).resolve().parent.parent
ROW_PREFIX = "row_"
# Where the views point the chart image and the customer's link (nothing is fetched).
PUBLIC_BASE_URL = "http://floor.bench.invalid"
# A signed chart URL: its expiry is rounded up to 5 minutes, so the two servers sign the
# same one unless a switch straddles a step; the token is left out of the comparison.
CHART_TOKEN = re.compile(re.escape(CHARTS_PATH) + r"[^\"]*" + re.escape(SUFFIX))
# The details customer's tags; the Account tab lists them (and the links added) too.
TAGS = ("VIP", "Mornings", "Corporate rate", "alumni")
METHOD_NOTE = (
    "Latency runs from signing the block_actions request until the stand-in has recorded the "
    "views.update the server made for it. CPU is read from each server process (psutil) "
    "before and after its requests; the product's process also runs its outbox and alert "
    "workers, which count. The floor shows 'more than 1,000' where the product estimates "
    "'about N'; only the rows are compared. A tab switch is compared on the whole view sent, "
    "but for the signed chart image token. The stand-in and the typists share the machine's "
    "cores with both servers and the database."
)


@dataclass
class Side:
    """One server: its process, and a driver per typist aimed at it."""

    name: str
    process: psutil.Process
    drivers: list[SlackDriver]


@dataclass(frozen=True)
class Interaction:
    """What is measured: the inputs sent in turn, how one is sent, and what its view shows
    that the two servers must agree on (`same` names it); `noun` names it in the results'
    keys, `short` and `doing` in the table's columns."""

    noun: str
    plural: str
    inputs: list[str]
    send: Callable[[SlackDriver, str], AppResponse | None]
    shown: Callable[[Call], Any]
    same: str
    short: str
    doing: str
    # Where each typist starts in `inputs` during the throughput runs.
    stagger: int
    # The results' key for the p50 per input, when there are few enough inputs to list.
    by_input: str = ""


def _rows(call: Call) -> list[str]:
    view = call.params.get("view") or {}
    blocks = view.get("blocks") or []
    return [
        str(block["block_id"]).removeprefix(ROW_PREFIX)
        for block in blocks
        if str(block.get("block_id", "")).startswith(ROW_PREFIX)
    ]


def _view(call: Call) -> str:
    """The view sent, as JSON text, with the chart image's signed token left out."""
    view = call.params.get("view") or {}
    return CHART_TOKEN.sub(CHARTS_PATH + "…" + SUFFIX, json.dumps(view, sort_keys=True))


def _switch(driver: SlackDriver, tab: str) -> AppResponse | None:
    return driver.click(TAB_ACTION_PREFIX + tab)


KEYSTROKE = Interaction(
    noun="keystroke",
    plural="keystrokes",
    inputs=KEYSTROKES,
    send=lambda driver, text: driver.type(text, into="Search"),
    shown=_rows,
    same="rows",
    short="key",
    doing="typing",
    stagger=5,
)
SWITCH = Interaction(
    noun="switch",
    plural="switches",
    # Opened on Bookings, so the first switch goes to Appointments, then round and round.
    inputs=[tab.value for tab in TABS[1:] + TABS[:1]],
    send=_switch,
    shown=_view,
    same="views",
    short="switch",
    doing="switching",
    stagger=1,
    by_input="p50_ms_by_tab",
)


def _timed(driver: SlackDriver, interaction: Interaction, value: str) -> tuple[float, Call]:
    """Send `value` in the open view; milliseconds until its views.update landed."""
    api = driver.api
    view = api.current_view(driver.user_id) or {}
    view_id = view.get("id")
    mark = api.mark()
    started = time.perf_counter()
    answer = interaction.send(driver, value)
    if answer is None or answer.status != 200:
        raise RuntimeError(f"no ack for {value!r}: {answer}")
    call = api.wait_for(
        "views.update",
        lambda c: c.params.get("view_id") == view_id,
        since=mark,
        timeout=WAIT_SECONDS,
    )
    if not call.ok:
        raise RuntimeError(f"views.update failed for {value!r}: {call.error}")
    return (time.perf_counter() - started) * 1000, call


def _keystroke(driver: SlackDriver, text: str) -> tuple[float, Call]:
    """Type `text` into the open hub's search; milliseconds until its views.update landed."""
    return _timed(driver, KEYSTROKE, text)


def _one_at_a_time(sides: list[Side], rounds: int, interaction: Interaction) -> dict[str, Any]:
    """Each input to both servers in turn, comparing what they show; the first typist only."""
    noun = interaction.noun
    mismatches: list[dict[str, Any]] = []
    compared = 0
    latencies: dict[str, list[float]] = {side.name: [] for side in sides}
    by_input: dict[str, dict[str, list[float]]] = {side.name: {} for side in sides}
    cpu = {side.name: cpu_seconds(side.process) for side in sides}
    for n in range(rounds):
        for k, value in enumerate(interaction.inputs):
            order = sides if (n + k) % 2 == 0 else sides[::-1]
            shown: dict[str, Any] = {}
            for side in order:
                elapsed, call = _timed(side.drivers[0], interaction, value)
                latencies[side.name].append(elapsed)
                by_input[side.name].setdefault(value, []).append(elapsed)
                shown[side.name] = interaction.shown(call)
            compared += 1
            if shown["floor"] != shown["product"]:
                mismatches.append({noun: value, **shown})
    result: dict[str, Any] = {f"{interaction.plural}_each": compared, "mismatches": mismatches[:10]}
    result[f"same_{interaction.same}"] = compared - len(mismatches)
    for side in sides:
        spent = cpu_seconds(side.process) - cpu[side.name]
        result[side.name] = {
            **percentiles(latencies[side.name]),
            f"cpu_ms_per_{noun}": round(1000 * spent / len(latencies[side.name]), 2),
        }
        if interaction.by_input:
            result[side.name][interaction.by_input] = {
                value: percentiles(each)["p50_ms"] for value, each in by_input[side.name].items()
            }
    return result


def _typing(side: Side, seconds: float, interaction: Interaction) -> dict[str, Any]:
    """Eight staff back to back against one server for `seconds`."""
    stop = time.perf_counter() + seconds
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    inputs = interaction.inputs

    def typist(n: int) -> None:
        driver = side.drivers[n]
        k = n * interaction.stagger
        while time.perf_counter() < stop:
            try:
                elapsed, _ = _timed(driver, interaction, inputs[k % len(inputs)])
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
        interaction.plural: len(latencies),
        "errors": len(errors),
        "first_errors": errors[:3],
        "per_s": round(len(latencies) / wall, 1),
        f"cpu_ms_per_{interaction.noun}": round(1000 * cpu / max(1, len(latencies)), 2),
        **percentiles(latencies or [0.0]),
    }


def _throughput(sides: list[Side], seconds: float, interaction: Interaction) -> dict[str, Any]:
    """Floor, product, floor, product: each side's two runs added up."""
    runs: dict[str, list[dict[str, Any]]] = {side.name: [] for side in sides}
    for _ in range(2):
        for side in sides:
            runs[side.name].append(_typing(side, seconds, interaction))
    cpu_key, count_key = f"cpu_ms_per_{interaction.noun}", interaction.plural
    result: dict[str, Any] = {}
    for name, each in runs.items():
        count = sum(run[count_key] for run in each)
        result[name] = {
            "runs": each,
            "per_s": round(sum(run["per_s"] for run in each) / len(each), 1),
            "errors": sum(run["errors"] for run in each),
            cpu_key: round(
                sum(run[cpu_key] * run[count_key] for run in each) / max(1, count),
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
            public_base_url=PUBLIC_BASE_URL,
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


def _open_details(driver: SlackDriver, customer: Mapping[str, Any]) -> None:
    """From the hub: find the customer by email, then the row menu's Manage (views.push)."""
    api, uid = driver.api, str(customer["uid"])
    _keystroke(driver, str(customer["email"]))
    mark = api.mark()
    driver.choose("Manage", menu=ROW_MENU_ACTION, in_block=ROW_PREFIX + uid)
    api.wait_for("views.push", since=mark, timeout=WAIT_SECONDS)
    api.wait_until(
        lambda: (api.current_view(driver.user_id) or {}).get("callback_id") == DETAILS_CALLBACK,
        description="the details",
    )


def _measure(
    sides: list[Side], rounds: int, seconds: float, interaction: Interaction
) -> dict[str, Any]:
    """A warm-up round, one at a time to both, then the throughput runs; with the ratios."""
    for side in sides:
        # Each server compiles its statements and fills its pool.
        for value in interaction.inputs[:10]:
            _timed(side.drivers[0], interaction, value)
    alone = _one_at_a_time(sides, rounds, interaction)
    typing = _throughput(sides, seconds, interaction)
    return {
        "one_at_a_time": alone,
        interaction.doing: typing,
        "ratios": _ratios(alone, typing, interaction.noun),
    }


def _bench(loaded: Loaded, args: argparse.Namespace) -> dict[str, Any]:
    customer = loaded.prepared["details_customer"]
    with (
        tempfile.TemporaryDirectory(prefix="bench-floor-") as scratch,
        _servers(loaded.url, Path(scratch)) as (_api, sides),
    ):
        keystrokes = _measure(sides, args.rounds, args.seconds, KEYSTROKE)
        product = next(side for side in sides if side.name == "product")
        for driver in product.drivers:
            _open_details(driver, customer)
        switches = _measure(sides, args.tab_rounds, args.seconds, SWITCH)
    result = {"engine": loaded.engine, "customers": loaded.customers, **keystrokes}
    result["tab_switch"] = {"customer": customer, **switches}
    console.print(_table(loaded, keystrokes, KEYSTROKE, "search keystroke"))
    if keystrokes["one_at_a_time"]["mismatches"]:
        console.print(f"[red]Rows differ[/red] for {keystrokes['one_at_a_time']['mismatches']}")
    rows = customer["rows"]
    what = (
        f"details-tab switch ({rows['bookings']} bookings, {rows['account_history']} history "
        f"entries, {len(customer['tags'])} tags, {customer['household']} linked)"
    )
    console.print(_table(loaded, switches, SWITCH, what))
    if switches["one_at_a_time"]["mismatches"]:
        differ = [mismatch["switch"] for mismatch in switches["one_at_a_time"]["mismatches"]]
        console.print(f"[red]Views differ[/red] on {differ}")
    return result


def _ratios(alone: dict[str, Any], typing: dict[str, Any], noun: str) -> dict[str, float]:
    floor, product = alone["floor"], alone["product"]
    cpu = f"cpu_ms_per_{noun}"

    def ratio(a: float, b: float) -> float:
        return round(a / b, 2) if b else float("nan")

    return {
        f"cpu_per_{noun}": ratio(product[cpu], floor[cpu]),
        f"cpu_per_{noun}_typing": ratio(typing["product"][cpu], typing["floor"][cpu]),
        "p50": ratio(product["p50_ms"], floor["p50_ms"]),
        "p95": ratio(product["p95_ms"], floor["p95_ms"]),
        "throughput": ratio(typing["product"]["per_s"], typing["floor"]["per_s"]),
    }


def _table(loaded: Loaded, measured: dict[str, Any], interaction: Interaction, what: str) -> Table:
    alone, ratios = measured["one_at_a_time"], measured["ratios"]
    typing = measured[interaction.doing]
    noun, cpu, short = interaction.noun, f"cpu_ms_per_{interaction.noun}", interaction.short
    table = Table(
        title=f"{loaded.engine}, {loaded.customers:,} customers: {what}",
        title_justify="left",
    )
    doing = interaction.doing
    for column in (
        "",
        f"CPU ms/{short}",
        "p50 ms",
        "p95 ms",
        f"{TYPISTS} {doing} /s",
        f"CPU ms/{short} {doing}",
    ):
        table.add_column(column, justify="right")
    for name in SIDES:
        table.add_row(
            name,
            f"{alone[name][cpu]:.1f}",
            f"{alone[name]['p50_ms']:.1f}",
            f"{alone[name]['p95_ms']:.1f}",
            f"{typing[name]['per_s']:.1f}",
            f"{typing[name][cpu]:.1f}",
        )
    table.add_row(
        "product ÷ floor",
        f"×{ratios[f'cpu_per_{noun}']:.2f}",
        f"×{ratios['p50']:.2f}",
        f"×{ratios['p95']:.2f}",
        f"×{ratios['throughput']:.2f}",
        f"×{ratios[f'cpu_per_{noun}_typing']:.2f}",
    )
    count = alone[f"{interaction.plural}_each"]
    matched = alone[f"same_{interaction.same}"]
    table.caption = f"same {interaction.same} for {matched} of {count} {interaction.plural}"
    return table


def _prepare(db: Database, history_customers: int) -> dict[str, Any]:
    """A year of demo history for some customers; the one with the most rows of HISTORY_MODELS
    (on every tab the demo fills, if any has them all) gets tags and a household, which the
    Account tab then lists too."""
    with db.unit_of_work() as uow:
        load_demo_history(uow, TEAM_ID, customers_limit=history_customers, seed=SEED)
    actor = Actor(team_id=TEAM_ID, user_id="UFLOOR00", role=Role.ADMIN)
    with db.unit_of_work() as uow:
        rows = union_all(
            *(
                select(model.customer_id.label("customer_id"), func.count().label("n"))
                .where(model.team_id == TEAM_ID)
                .group_by(model.customer_id)
                for model in HISTORY_MODELS
            )
        ).subquery()
        best = uow.session.execute(
            select(rows.c.customer_id, func.count(), func.sum(rows.c.n))
            .group_by(rows.c.customer_id)
            .order_by(func.count().desc(), func.sum(rows.c.n).desc(), rows.c.customer_id)
            .limit(1)
        ).one()
        chosen = uow.session.get_one(Customer, best[0])
        others = uow.session.scalars(
            select(Customer.uid)
            .where(
                Customer.team_id == TEAM_ID,
                Customer.id != chosen.id,
                Customer.status == CustomerStatus.ACTIVE,
            )
            .order_by(Customer.id)
            .limit(3)
        ).all()
        tags = set_customer_tags(uow, actor, chosen.uid, TAGS)
        for other, relation in zip(
            others, (Relation.PARENT, Relation.CHILD, Relation.PARTNER), strict=False
        ):
            link_customers(uow, actor, chosen.uid, other, relation)
        counts = {
            model.__tablename__: uow.session.scalar(
                select(func.count()).where(model.customer_id == chosen.id)
            )
            or 0
            for model in (*HISTORY_MODELS, HistoryEntry)
        }
        customer = {
            "uid": chosen.uid,
            "email": chosen.email,
            "tabs_with_rows": int(best[1]) + 1,
            "rows": counts,
            "tags": tags,
            "household": len(others),
        }
    return {"details_customer": customer}


def _measured(args: argparse.Namespace) -> Callable[[Loaded], dict[str, Any]]:
    return lambda loaded: _bench(loaded, args)


def _prepared(args: argparse.Namespace) -> Callable[[Database], Mapping[str, Any]]:
    return lambda db: _prepare(db, args.history_customers)


def main(argv: list[str] | None = None) -> None:
    """Run both servers on each database, print the tables and write the JSON results."""
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000, help="on SQLite")
    parser.add_argument("--pg-customers", type=int, default=1_000_000, help="on PostgreSQL")
    parser.add_argument(
        "--history-customers", type=int, default=300, help="demo customers given demo history"
    )
    parser.add_argument("--rounds", type=int, default=5, help="times through the keystrokes")
    # 25 rounds of the eight tabs are about as many samples as 5 of the 39 keystrokes.
    parser.add_argument("--tab-rounds", type=int, default=25, help="times round the tabs")
    parser.add_argument("--seconds", type=float, default=15.0, help="per typing run")
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parse_args(parser, argv, "floor", QUICK)
    host = machine()
    console.print(
        f"[bold]Floor benchmark[/bold]: {len(KEYSTROKES)} keystrokes x {args.rounds} rounds and "
        f"{len(TABS)} tab switches x {args.tab_rounds} rounds to each server, each followed by "
        f"{TYPISTS} staff at it for 2 x {args.seconds:g} s each; "
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
        results["databases"]["sqlite"] = _on_sqlite(
            "floor", args.customers, _measured(args), _prepared(args)
        )
    base = os.environ.get(PG_URL_ENV, DEFAULT_PG_URL)
    if "postgresql" in wanted:
        unreachable = _unreachable(base)
        if unreachable is None:
            results["databases"]["postgresql"] = _on_postgres(
                base, "floor", args.pg_customers, _measured(args), _prepared(args)
            )
        else:
            console.print(f"[yellow]PostgreSQL skipped ({unreachable}).[/yellow]")
            results["databases"]["postgresql"] = {"skipped": unreachable}
    write_results(args.out, results)
    console.print(f"Results written to {args.out}.")


if __name__ == "__main__":
    main()
