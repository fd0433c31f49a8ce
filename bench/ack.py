"""The app's handling time at 100,000 customers: signed request in → ack → Web API call out.

Run with `python -m bench.ack [--customers N] [--samples N] [--quick]` (or `make bench`).
For each database the real app serves HTTP on loopback, talking to the local Slack stand-in,
and a SlackDriver plays an admin's Slack client: the slash command opens the hub, keystrokes
go into its Search box, its Active / Archived tabs are switched, Create Customer is submitted
(passwords hashed by argon2id at production cost) and a customer's details tabs are switched.
Each is timed from signing the request until the stand-in has recorded the Web API call the
app makes for it. PostgreSQL runs in a throw-away database next to BENCH_DATABASE_URL's.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain
from typing import Any

import argon2
from sqlalchemy import func, select

from bench._support import (
    QUERIES,
    SEED,
    TEAM_ID,
    Loaded,
    RequestTimer,
    Timed,
    console,
    latency_table,
    machine,
    on_each_database,
    parse_args,
    percentiles,
    running_app,
    write_results,
)
from bot.views.customer_form import CALLBACK_ID as FORM_CALLBACK_ID
from bot.views.hub import ROW_MENU_ACTION
from bot.views.hub import TAB_ACTION_PREFIX as HUB_TAB_PREFIX
from bot.views.origin import Tab
from bot.views.tabs import TAB_ACTION_PREFIX as DETAILS_TAB_PREFIX
from core.db import Database
from core.demo.customers import load_demo_history
from core.models import Booking, Customer
from core.security import generate_password, hash_password

QUICK = {"customers": 2_000, "samples": 5}
# Demo customers given a year of history, one of whom has their details' tabs switched.
HISTORY_CUSTOMERS = 20
ADMIN = "UBENCHADMIN"
WARMUP = 5
# Lets the previous request's tail (its listener returning, the connection going back to the
# pool) finish, so one sample's leftovers are not counted in the next one's time.
PAUSE_SECONDS = 0.01
KEYSTROKES = list(chain.from_iterable(QUERIES.values()))
# (first, last, email stem): the names people actually bring, accents included.
NEW_CUSTOMERS = (
    ("Zoë", "Ørsted", "zoe.orsted"),
    ("María", "García", "maria.garcia"),
    ("Oliver", "Smith", "oliver.smith"),
    ("Łukasz", "Nowak", "lukasz.nowak"),
    ("Aoife", "O'Brien", "aoife.obrien"),
    ("Hiroshi", "Tanaka", "hiroshi.tanaka"),
    ("José", "Muñoz", "jose.munoz"),
)
# Every fourth new customer gets no password typed, so the app generates one (hashed alike).
BLANK_PASSWORD_EVERY = 4
METHOD_NOTE = (
    "Each time runs from just before the driver signs a request: 'ack' until the app's HTTP "
    "answer is read, the Web API method until the stand-in has recorded the call the app made "
    "for it. The call is awaited with api.wait_for(method, since=mark), which a condition "
    "variable wakes as the call is recorded (no sleep-polling), so waiting adds only a thread "
    "wake-up; the stand-in's own checking of the view (as Slack validates it) is included. "
    "Bolt's HTTP path looks for the listener's ack() every 10 ms, so even an immediate ack "
    "takes 10 ms or more, and a Web API call can be recorded before the ack is read. "
    "App, stand-in and driver share one Python process on loopback; the app is served by "
    "serve_wsgi (the test server; `customer-bot serve --http` uses waitress)."
)


@dataclass
class _Samples:
    ack: list[float] = field(default_factory=list)
    call: list[float] = field(default_factory=list)


def _collect(step: Callable[[int], Timed], samples: int) -> _Samples:
    """Run `step(n)` WARMUP times untimed, then `samples` times; n numbers every run."""
    for n in range(WARMUP):
        step(n)
    measured = _Samples()
    for n in range(WARMUP, WARMUP + samples):
        timed = step(n)
        measured.ack.append(timed.ack_ms)
        measured.call.append(timed.call_ms)
        time.sleep(PAUSE_SECONDS)
    return measured


def _open_hub(timer: RequestTimer, text: str = "") -> Timed:
    return timer.time("views.open", lambda: timer.driver.slash("/customers", text))


def _search_keystroke(timer: RequestTimer, n: int) -> Timed:
    text = KEYSTROKES[n % len(KEYSTROKES)]
    return timer.time("views.update", lambda: timer.driver.type(text, into="Search"))


def _switch_hub_tab(timer: RequestTimer, n: int) -> Timed:
    # The hub opens on Active, so the first switch goes to Archived, then back and forth.
    tab = "archived" if n % 2 == 0 else "active"
    return timer.time("views.update", lambda: timer.driver.click(HUB_TAB_PREFIX + tab))


def _create_customer(timer: RequestTimer, n: int) -> Timed:
    driver = timer.driver
    if driver.click("+ Create Customer") is None:
        raise RuntimeError("the hub's + Create Customer button did nothing")
    driver.wait_for_view(lambda view: view.get("callback_id") == FORM_CALLBACK_ID)
    first, last, stem = NEW_CUSTOMERS[n % len(NEW_CUSTOMERS)]
    driver.type(first, into="First name")
    driver.type(last, into="Last name")
    driver.type(f"{stem}.{n}@example.com", into="Email")
    driver.type(f"07700 9{n:05d}", into="Mobile")
    if n % BLANK_PASSWORD_EVERY:
        driver.type(generate_password(), into="Password")
    # Success closes the form; the app then re-renders the hub under it with views.update.
    return timer.time("views.update", driver.submit)


def _open_details(timer: RequestTimer, customer: dict[str, str]) -> None:
    """The hub searched for the customer's email, then their row's Manage: their details."""
    _open_hub(timer, customer["email"])
    uid = customer["uid"]
    timer.time(
        "views.push",
        lambda: timer.driver.choose("Manage", menu=ROW_MENU_ACTION, in_block=f"row_{uid}"),
    )


def _switch_details_tab(timer: RequestTimer, n: int) -> Timed:
    # The details open on Bookings, so the first switch goes to Appointments, then round.
    tabs = list(Tab)
    tab = tabs[(n + 1) % len(tabs)]
    return timer.time("views.update", lambda: timer.driver.click(DETAILS_TAB_PREFIX + tab.value))


def _prepare(db: Database) -> dict[str, Any]:
    """A year of demo history for a few customers; the one with most bookings has tabs to show."""
    with db.unit_of_work() as uow:
        load_demo_history(uow, TEAM_ID, customers_limit=HISTORY_CUSTOMERS, seed=SEED)
    with db.unit_of_work(readonly=True) as uow:
        uid, email, bookings = uow.session.execute(
            select(Customer.uid, Customer.email, func.count(Booking.id))
            .join(Booking, Booking.customer_id == Customer.id)
            .where(Customer.team_id == TEAM_ID)
            .group_by(Customer.id, Customer.uid, Customer.email)
            .order_by(func.count(Booking.id).desc(), Customer.id)
            .limit(1)
        ).one()
    return {"details_customer": {"uid": uid, "email": email, "bookings": bookings}}


def _bench(loaded: Loaded, samples: int) -> dict[str, Any]:
    with (
        running_app(loaded.url, ADMIN) as driver,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-watch") as watcher,
    ):
        timer = RequestTimer(driver, watcher)
        opened = _collect(lambda _: _open_hub(timer), samples)
        _open_hub(timer)  # a fresh, unfiltered hub to type into
        searched = _collect(lambda n: _search_keystroke(timer, n), samples)
        _open_hub(timer)  # and to switch tabs in
        hub_tabs = _collect(lambda n: _switch_hub_tab(timer, n), samples)
        _open_hub(timer)  # and to create customers from
        created = _collect(lambda n: _create_customer(timer, n), samples)
        customer = loaded.prepared["details_customer"]
        _open_details(timer, customer)
        details_tabs = _collect(lambda n: _switch_details_tab(timer, n), samples)
    interactions = {
        "command (/customers)": ("slash command: open the hub", "views.open", opened),
        "search keystroke": (
            f"block_actions: typing {len(KEYSTROKES)} prefixes in turn",
            "views.update",
            searched,
        ),
        "submit (create customer)": (
            f"view_submission: new customer; 1 in {BLANK_PASSWORD_EVERY} with the password blank",
            "views.update",
            created,
        ),
        "tab switch (hub Active / Archived)": (
            "block_actions: the hub's tab buttons, back and forth",
            "views.update",
            hub_tabs,
        ),
        "tab switch (customer details)": (
            f"block_actions: the eight tabs in turn, customer with {customer['bookings']} bookings",
            "views.update",
            details_tabs,
        ),
    }
    rows: dict[str, dict[str, Any]] = {}
    report: dict[str, Any] = {}
    for name, (request, method, measured) in interactions.items():
        ack = {"samples": len(measured.ack), **percentiles(measured.ack)}
        call = {"samples": len(measured.call), **percentiles(measured.call)}
        rows[f"{name} → ack"] = ack
        rows[f"{name} → {method}"] = call
        report[name] = {"request": request, "ack": ack, "web_api_call": {"method": method, **call}}
    console.print(latency_table(loaded.title, "interaction → until (ms since signing)", rows))
    return {"interactions": report}


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark on both databases, print the tables and write the JSON results."""
    parser = argparse.ArgumentParser(prog="python -m bench.ack", description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=100, help="timed runs per interaction")
    args = parse_args(parser, argv, "ack", QUICK)
    started = time.perf_counter()
    # The app hashes through core.security; reading its parameters back from a real hash shows
    # the cost the create form pays (never lowered here, unlike in the tests).
    cost = argon2.extract_parameters(hash_password("bench"))
    hashing = f"argon2id m={cost.memory_cost} KiB, t={cost.time_cost}, p={cost.parallelism}"
    host = machine()
    console.print(
        f"[bold]Ack benchmark[/bold]: {args.customers:,} demo customers per database, "
        f"{args.samples} timed runs per interaction after {WARMUP} warm-up runs, {hashing}; "
        f"{host['cores']} cores, load average {host['load_average_1m']} at the start."
    )
    console.print(METHOD_NOTE, style="dim")
    results: dict[str, Any] = {
        "benchmark": "ack",
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": host,
        "quick": args.quick,
        "customers": args.customers,
        "password_hashing": hashing,
        "method": METHOD_NOTE,
        "databases": on_each_database(
            "ack", args.customers, lambda loaded: _bench(loaded, args.samples), prepare=_prepare
        ),
    }
    elapsed = time.perf_counter() - started
    results["total_seconds"] = round(elapsed, 1)
    write_results(args.out, results)
    console.print(f"Results written to {args.out} ({elapsed:.0f} s in all).")


if __name__ == "__main__":
    main()
