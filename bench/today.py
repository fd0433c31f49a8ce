"""The App Home's Today page on a busy day: 50 sessions and 1,000 bookings today, on SQLite and
PostgreSQL; the target is one publish under 300 ms server-side.

Run with `python -m bench.today [--customers N] [--samples N] [--quick]` (or `make bench`).
Each database gets N demo customers, then a day at the studio in its time zone: 50 sessions
between 06:00 and 21:00 with 1,000 bookings between them (some marked attended), 20
appointments, and customers for every alert (passes ending or on their last credit, past-due
subscriptions, three no-shows this month, birthdays today). The real app then serves HTTP on
loopback with the local Slack stand-in, and a SlackDriver opens the Home tab as a staff member
does (app_home_opened with the view it shows); each sample runs from signing the event until
the stand-in has recorded the app's views.publish. The read and the build (`render_today`)
are timed alone too. PostgreSQL runs in a throw-away database next to BENCH_DATABASE_URL's.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy import insert, select, update

from bench._support import (
    SEED,
    TEAM_ID,
    Goal,
    Loaded,
    RequestTimer,
    Timed,
    TimedDriver,
    console,
    latency_table,
    machine,
    parse_args,
    percentiles,
    run_and_record,
    running_app,
    settings_for,
)
from bench.report import TODAY_P99_MS, TODAY_PUBLISH
from bot.context.deps import Deps
from bot.context.request import Request
from bot.surfaces.today import render_today
from bot.views.hub import HubState
from bot.views.today import CALLBACK_ID
from core.actor import Actor
from core.db import Database, UnitOfWork
from core.models import (
    Appointment,
    AppointmentService,
    AppointmentState,
    Attendance,
    Booking,
    BookingState,
    Customer,
    Event,
    EventOccurrence,
    Facilitator,
    Pass,
    PassState,
    PassType,
    PaymentMethod,
    Role,
    Subscription,
    SubscriptionPlan,
    SubscriptionState,
)
from core.services.settings import studio_settings
from core.services.workspaces import ensure_workspace

QUICK = {"customers": 1_000, "samples": 10}
SESSIONS = 50
BOOKINGS = 1_000
APPOINTMENTS = 20
# Customers in each alert (the page shows 6 of each and says how many more).
ALERTING = 12
STAFF = "UBENCHSTAFF"
WARMUP = 5
# Lets the previous request's tail finish, so its leftovers are not counted in the next one.
PAUSE_SECONDS = 0.01
METHOD_NOTE = (
    "'app_home_opened → views.publish' runs from just before the driver signs the event until "
    "the stand-in has recorded the app's views.publish (the ack comes first; Bolt's HTTP path "
    "looks for it every 10 ms). Each sample is checked to be the Today page. 'render_today' is "
    "the read (one read-only unit of work) and the build alone, in-process, also as the CPU "
    "time its thread used (the database's own work on PostgreSQL is not in it). App, stand-in "
    "and driver share one Python process on loopback."
)


def _day_at(zone: ZoneInfo, day: date, minutes: int) -> datetime:
    return datetime.combine(day, clock_time(0), tzinfo=zone).astimezone(UTC) + timedelta(
        minutes=minutes
    )


class _Day:
    """Inserts a busy day in bulk, a statement per table."""

    def __init__(self, uow: UnitOfWork, rng: random.Random) -> None:
        self.uow = uow
        self.rng = rng
        workspace = ensure_workspace(uow, TEAM_ID)
        self.zone = ZoneInfo(workspace.timezone)
        self.now = uow.now().astimezone(UTC).replace(microsecond=0)
        self.day = self.now.astimezone(self.zone).date()
        self.customers = list(
            uow.session.scalars(select(Customer.id).where(Customer.team_id == TEAM_ID))
        )

    def _ids(self, model: Any, rows: list[dict[str, Any]]) -> list[int]:
        statement = insert(model).returning(model.id, sort_by_parameter_order=True)
        return list(self.uow.session.scalars(statement, rows).all())

    def _catalog(self, model: Any, key: str, **values: Any) -> int:
        return self._ids(model, [{"team_id": TEAM_ID, "key": f"bench-today-{key}", **values}])[0]

    def sessions(self) -> list[int]:
        event = self._catalog(
            Event,
            "class",
            name="Bench class",
            timezone=str(self.zone),
            price_minor=1200,
            capacity=25,
        )
        # 06:00 to about 21:00, every 18 minutes, in several rooms.
        return self._ids(
            EventOccurrence,
            [
                {
                    "team_id": TEAM_ID,
                    "event_id": event,
                    "starts_at": _day_at(self.zone, self.day, 6 * 60 + 18 * n),
                    "duration_minutes": 45,
                    "timezone": str(self.zone),
                    "capacity": 25,
                    "price_minor": 1200,
                    "location": f"Room {n % 3 + 1}",
                }
                for n in range(SESSIONS)
            ],
        )

    def bookings(self, sessions: list[int]) -> None:
        rows = [
            {
                "team_id": TEAM_ID,
                "customer_id": self.rng.choice(self.customers),
                "occurrence_id": sessions[n % len(sessions)],
                "booked_at": self.now - timedelta(days=self.rng.randint(1, 20)),
                "price_minor": 1200,
                "credits": None,
                "currency": "GBP",
                "state": BookingState.MANUAL,
                "payment_method": PaymentMethod.MANUAL,
                "attendance": Attendance.ATTENDED if n % 4 == 0 else None,
            }
            for n in range(BOOKINGS)
        ]
        self.uow.session.execute(insert(Booking), rows)

    def appointments(self) -> None:
        service = self._catalog(
            AppointmentService,
            "massage",
            name="Sports massage",
            duration_minutes=45,
            price_minor=4000,
        )
        facilitator = self._catalog(Facilitator, "mo", name="Mo Okafor")
        rows = [
            {
                "team_id": TEAM_ID,
                "customer_id": self.rng.choice(self.customers),
                "service_id": service,
                "facilitator_id": facilitator,
                "booked_at": self.now - timedelta(days=3),
                "starts_at": _day_at(self.zone, self.day, 8 * 60 + 30 * n),
                "duration_minutes": 45,
                "price_minor": 4000,
                "credits": None,
                "currency": "GBP",
                "payment_method": PaymentMethod.MANUAL,
                "state": AppointmentState.SCHEDULED,
            }
            for n in range(APPOINTMENTS)
        ]
        self.uow.session.execute(insert(Appointment), rows)

    def alerts(self) -> None:
        chosen = self.rng.sample(self.customers, ALERTING * 4)
        passes, late, missing, born = (chosen[n * ALERTING : (n + 1) * ALERTING] for n in range(4))
        kind = self._catalog(
            PassType, "ten", name="10-class pass", credits=10, validity_days=90, price_minor=9000
        )
        self.uow.session.execute(
            insert(Pass),
            [
                {
                    "team_id": TEAM_ID,
                    "customer_id": customer,
                    "pass_type_id": kind,
                    "purchased_at": self.now - timedelta(days=80),
                    "valid_from": self.day - timedelta(days=80),
                    "valid_to": self.day + timedelta(days=n % 7),
                    "credits_total": 10,
                    "credits_remaining": 1 + n % 3,
                    "price_minor": 9000,
                    "currency": "GBP",
                    "payment_method": PaymentMethod.MANUAL,
                    "state": PassState.MANUAL,
                }
                for n, customer in enumerate(passes)
            ],
        )
        plan = self._catalog(
            SubscriptionPlan,
            "monthly",
            name="Monthly unlimited",
            price_minor=8000,
            interval="month",
        )
        self.uow.session.execute(
            insert(Subscription),
            [
                {
                    "team_id": TEAM_ID,
                    "customer_id": customer,
                    "plan_id": plan,
                    "created_at": self.now - timedelta(days=90),
                    "next_payment_at": self.now + timedelta(days=2),
                    "price_minor": 8000,
                    "currency": "GBP",
                    "state": SubscriptionState.PAST_DUE,
                }
                for customer in late
            ],
        )
        missed = self._catalog(
            Event,
            "missed",
            name="Missed class",
            timezone=str(self.zone),
            price_minor=0,
            capacity=99,
        )
        past = self._ids(
            EventOccurrence,
            [
                {
                    "team_id": TEAM_ID,
                    "event_id": missed,
                    "starts_at": self.now - timedelta(days=days),
                    "duration_minutes": 45,
                    "timezone": str(self.zone),
                    "capacity": 99,
                    "price_minor": 0,
                }
                for days in (3, 9, 17)
            ],
        )
        self.uow.session.execute(
            insert(Booking),
            [
                {
                    "team_id": TEAM_ID,
                    "customer_id": customer,
                    "occurrence_id": occurrence,
                    "booked_at": self.now - timedelta(days=20),
                    "price_minor": 0,
                    "credits": None,
                    "currency": "GBP",
                    "state": BookingState.MANUAL,
                    "payment_method": PaymentMethod.MANUAL,
                    "attendance": Attendance.NO_SHOW,
                }
                for customer in missing
                for occurrence in past
            ],
        )
        for n, customer in enumerate(born):
            # Leap years only, so 29 February has its birthdays too.
            birthday = self.day.replace(year=1972 + 4 * n)
            self.uow.session.execute(
                update(Customer).where(Customer.id == customer).values(date_of_birth=birthday)
            )


def _prepare(db: Database) -> dict[str, Any]:
    with db.unit_of_work() as uow:
        day = _Day(uow, random.Random(SEED))
        sessions = day.sessions()
        day.bookings(sessions)
        day.appointments()
        day.alerts()
        return {"day": day.day.isoformat(), "timezone": str(day.zone)}


def _is_today(timed: Timed) -> Timed:
    view = timed.call.response["view"]
    if view.get("callback_id") != CALLBACK_ID:
        raise RuntimeError(f"expected the Today page, the app published {view.get('callback_id')}")
    return timed


def _drive(driver: TimedDriver, samples: int) -> list[Timed]:
    with ThreadPoolExecutor(1) as watcher:
        timer = RequestTimer(driver, watcher)
        timed = []
        for n in range(WARMUP + samples):
            sample = _is_today(timer.time("views.publish", driver.open_home))
            if n >= WARMUP:
                timed.append(sample)
            time.sleep(PAUSE_SECONDS)
    return timed


def _render_alone(url: str, samples: int) -> tuple[list[float], list[float]]:
    """Milliseconds per read and build: by the wall clock, and of the thread's CPU time (which
    other work on the machine doesn't inflate)."""
    db = Database(settings_for(url))
    try:
        with db.unit_of_work(readonly=True) as uow:
            studio = studio_settings(uow, TEAM_ID)
        deps = Deps(db=db, settings=db.settings)
        # The Web API is never called here: only the read and the build are timed.
        request = Request(deps, Actor(TEAM_ID, STAFF, Role.STAFF), WebClient(), studio)
        wall, cpu = [], []
        for n in range(WARMUP + samples):
            started, used = time.perf_counter(), time.thread_time()
            render_today(request, HubState())
            if n >= WARMUP:
                wall.append((time.perf_counter() - started) * 1000)
                cpu.append((time.thread_time() - used) * 1000)
        return wall, cpu
    finally:
        db.dispose()


def _bench(samples: int) -> Callable[[Loaded], dict[str, Any]]:
    def run(loaded: Loaded) -> dict[str, Any]:
        with running_app(loaded.url, STAFF) as driver:
            timed = _drive(driver, samples)
        rendered, cpu = _render_alone(loaded.url, samples)
        results = {
            TODAY_PUBLISH: {
                "samples": len(timed),
                **percentiles([t.call_ms for t in timed]),
            },
            "render_today (read + build)": {"samples": len(rendered), **percentiles(rendered)},
            "render_today, thread CPU time": {"samples": len(cpu), **percentiles(cpu)},
        }
        console.print(latency_table(loaded.title, "Today page", results))
        return {"prepared": dict(loaded.prepared), "timings": results}

    return run


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark on both databases, print the tables and write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.today", description=__doc__)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=200, help="timed Home openings")
    args = parse_args(parser, argv, "today", QUICK)
    host = machine()
    console.print(
        f"[bold]Today benchmark[/bold]: {args.customers:,} demo customers, {SESSIONS} sessions "
        f"and {BOOKINGS:,} bookings today, {args.samples} timed Home openings after {WARMUP} "
        f"warm-up ones; {host['cores']} cores, load average {host['load_average_1m']}."
    )
    console.print(METHOD_NOTE, style="dim")
    run_and_record(
        "today",
        args,
        METHOD_NOTE,
        Goal(TODAY_PUBLISH, "p99_ms", TODAY_P99_MS, "publish p99"),
        _bench(args.samples),
        _prepare,
    )


if __name__ == "__main__":
    main()
