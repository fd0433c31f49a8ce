"""The app's own handling time at 100,000 customers: signed request in → ack out → Web API call.

Run with `python -m bench.ack [--customers N] [--samples N]` (or `make bench` for all).
For each database the real app serves HTTP on loopback, talking to the local Slack stand-in,
and a SlackDriver plays an admin's Slack client: `/customers` opens the hub, keystrokes go
into its Search box, and Create Customer is submitted with passwords hashed by argon2id at
production cost. PostgreSQL runs in a throw-away database next to BENCH_DATABASE_URL's.
"""

from __future__ import annotations

import argparse
import secrets
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain
from typing import Any

import argon2

from bench._support import (
    QUERIES,
    RESULTS_DIR,
    TEAM_ID,
    Loaded,
    console,
    latency_table,
    machine,
    on_each_database,
    percentiles,
    settings_for,
    write_results,
)
from bot.app import create_app
from bot.local import AppResponse, LocalSlackAPI, SlackDriver, serve_wsgi
from bot.views.customer_form import CALLBACK_ID as FORM_CALLBACK_ID
from bot.web import EVENTS_PATH, create_wsgi_app
from core.db import Database
from core.security import generate_password, hash_password

RESULTS = RESULTS_DIR / "ack.json"
ADMIN = "UBENCHADMIN"
WARMUP = 5
# Lets the previous request's tail (its listener returning, the connection going back to the
# pool) finish, so one sample's leftovers are not counted in the next one's time.
PAUSE_SECONDS = 0.01
CALL_TIMEOUT_SECONDS = 10.0
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


class _TimedDriver(SlackDriver):
    """A SlackDriver that notes when it starts signing each request and when the answer is in.

    AppResponse.elapsed starts after signing; these stamps count signing as part of the
    request and give the start the Web API call is timed from too.
    """

    sent_at = 0.0
    answered_at = 0.0

    def _post(self, body: bytes, content_type: str) -> AppResponse:
        self.sent_at = time.perf_counter()
        response = super()._post(body, content_type)
        self.answered_at = time.perf_counter()
        return response


def _recorded_at(api: LocalSlackAPI, method: str, since: int) -> float:
    call = api.wait_for(method, since=since, timeout=CALL_TIMEOUT_SECONDS)
    recorded = time.perf_counter()
    if not call.ok:
        raise RuntimeError(f"the app's {method} call failed: {call.error} {call.response}")
    return recorded


class _Timer:
    """Times one request: from signing to the app's ack, and to the Web API call it leads to."""

    def __init__(self, driver: _TimedDriver, watcher: ThreadPoolExecutor) -> None:
        self.driver = driver
        self.watcher = watcher

    def time(self, method: str, send: Callable[[], AppResponse | None]) -> tuple[float, float]:
        """Milliseconds to the ack and to the `method` call, for the request `send` makes."""
        api = self.driver.api
        # Watching starts before the request goes out, so a call that lands before the ack
        # has been read is still stamped when it happens.
        called = self.watcher.submit(_recorded_at, api, method, api.mark())
        response = send()
        if response is None or response.status != 200 or response.text.strip():
            shown = "nothing (refused by the client)" if response is None else response.text[:300]
            raise RuntimeError(f"expected a bare ack; the app answered {shown}")
        sent, acked = self.driver.sent_at, self.driver.answered_at
        return (acked - sent) * 1000, (called.result() - sent) * 1000


@dataclass
class _Samples:
    ack: list[float] = field(default_factory=list)
    call: list[float] = field(default_factory=list)


def _collect(step: Callable[[int], tuple[float, float]], samples: int) -> _Samples:
    """Run `step(n)` WARMUP times untimed, then `samples` times; n numbers every run."""
    for n in range(WARMUP):
        step(n)
    measured = _Samples()
    for n in range(WARMUP, WARMUP + samples):
        ack, call = step(n)
        measured.ack.append(ack)
        measured.call.append(call)
        time.sleep(PAUSE_SECONDS)
    return measured


def _open_hub(timer: _Timer) -> tuple[float, float]:
    return timer.time("views.open", lambda: timer.driver.slash("/customers"))


def _search_keystroke(timer: _Timer, n: int) -> tuple[float, float]:
    text = KEYSTROKES[n % len(KEYSTROKES)]
    return timer.time("views.update", lambda: timer.driver.type(text, into="Search"))


def _create_customer(timer: _Timer, n: int) -> tuple[float, float]:
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


@contextmanager
def _running_app(url: str) -> Iterator[_TimedDriver]:
    """The real app over HTTP on loopback with the Slack stand-in; a driver for its admin."""
    signing_secret = secrets.token_hex(16)
    with LocalSlackAPI(team_id=TEAM_ID) as api:
        api.add_user(ADMIN, "bench.admin", team_id=TEAM_ID)
        settings = settings_for(
            url,
            slack_bot_token=api.bot_token,
            slack_signing_secret=signing_secret,
            slack_api_url=api.base_url,
            admin_slack_user_ids=[ADMIN],
        )
        db = Database(settings)
        root, stop = serve_wsgi(create_wsgi_app(create_app(settings, db), db))
        try:
            yield _TimedDriver(api, root + EVENTS_PATH, signing_secret, user_id=ADMIN)
        finally:
            stop()
            db.dispose()


def _bench(loaded: Loaded, samples: int) -> dict[str, Any]:
    with (
        _running_app(loaded.url) as driver,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-watch") as watcher,
    ):
        timer = _Timer(driver, watcher)
        opened = _collect(lambda _: _open_hub(timer), samples)
        _open_hub(timer)  # a fresh, unfiltered hub to type into
        searched = _collect(lambda n: _search_keystroke(timer, n), samples)
        _open_hub(timer)  # and to create customers from
        created = _collect(lambda n: _create_customer(timer, n), samples)
    interactions = {
        "open hub (/customers)": ("/customers", "views.open", opened),
        "search keystroke": (
            f"typing {len(KEYSTROKES)} prefixes in turn",
            "views.update",
            searched,
        ),
        "create customer (submit)": (
            f"new customer; 1 in {BLANK_PASSWORD_EVERY} with the password left blank",
            "views.update",
            created,
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
    parser.add_argument("--samples", type=int, default=150, help="timed runs per interaction")
    args = parser.parse_args(argv)
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
        "password_hashing": hashing,
        "method": METHOD_NOTE,
        "databases": on_each_database(
            "ack", args.customers, lambda loaded: _bench(loaded, args.samples)
        ),
    }
    elapsed = time.perf_counter() - started
    results["total_seconds"] = round(elapsed, 1)
    write_results(RESULTS, results)
    console.print(f"Results written to {RESULTS} ({elapsed:.0f} s in all).")


if __name__ == "__main__":
    main()
