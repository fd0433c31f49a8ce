"""Segments over 100,000 customers with two years of history, on SQLite and PostgreSQL; the
target is a segment of three filters counted with its first page in under 300 ms p95.

Run with `python -m bench.segments [--customers N] [--samples N] [--quick]` (or `make bench`).
Each database gets N demo customers, then their history in bulk: four sessions a day for two
years and four weeks ahead, about eight bookings per customer (some cancelled, some no-shows,
some in other currencies), passes for three in ten and subscriptions for one in ten. The
workspace's facts are then added up once (its first segment does that; timed alone), and
`segment()` runs in one unit of work per sample, cycling through several three-filter segments.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import insert, select

from bench._support import (
    SEED,
    TEAM_ID,
    Goal,
    Loaded,
    console,
    latency_table,
    machine,
    parse_args,
    percentiles,
    run_and_record,
    settings_for,
)
from bench.report import SEGMENT_P95_MS, SEGMENT_THREE_FILTERS
from core.actor import Actor
from core.db import Database, UnitOfWork
from core.models import (
    Attendance,
    Booking,
    BookingState,
    Customer,
    Event,
    EventOccurrence,
    Pass,
    PassState,
    PassType,
    PaymentMethod,
    Role,
    Subscription,
    SubscriptionPlan,
    SubscriptionState,
)
from core.services import customer_facts
from core.services.segments import NO_SUBSCRIPTION, SegmentFilters, segment
from core.services.workspaces import ensure_workspace

QUICK = {"customers": 2_000, "samples": 20}
DAYS_BACK = 730
DAYS_AHEAD = 28
SESSIONS_PER_DAY = 4
BOOKINGS_PER_CUSTOMER = 8
CHUNK = 20_000
WARMUP = 3
STAFF = "UBENCHSTAFF"
# Three filters each, as staff would combine them.
SEGMENTS = {
    "lapsed 60 days, spent at least 100.00, active": SegmentFilters(
        lapsed_days=60, spend_at_least=10_000
    ),
    "seen in 30 days, 4+ visits in 90 days, no subscription": SegmentFilters(
        seen_days=30, visits_days=90, visits_min=4, subscription=NO_SUBSCRIPTION
    ),
    "pass ending in 14 days, spent under 500.00, seen in 90 days": SegmentFilters(
        pass_ending_days=14, spend_below=50_000, seen_days=90
    ),
    "past due, lapsed 30 days, spent at least 50.00": SegmentFilters(
        subscription=SubscriptionState.PAST_DUE.value, lapsed_days=30, spend_at_least=5_000
    ),
}
METHOD_NOTE = (
    "Each sample is one unit of work calling segment() for page 1 of 10 by name: the facts "
    "brought up to date (nothing due between samples), the count and the page, in-process. "
    "The first sum of every customer's facts (what a workspace's first segment does) is timed "
    "once, alone."
)


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    while chunk := list(islice(rows, CHUNK)):
        yield chunk


class _History:
    """Two years of a studio's history for every customer, inserted a chunk at a time."""

    def __init__(self, uow: UnitOfWork, rng: random.Random) -> None:
        self.uow = uow
        self.rng = rng
        ensure_workspace(uow, TEAM_ID)
        self.now = uow.now().astimezone(UTC).replace(microsecond=0)
        self.customers = list(
            uow.session.scalars(select(Customer.id).where(Customer.team_id == TEAM_ID))
        )

    def _ids(self, model: Any, rows: list[dict[str, Any]]) -> list[int]:
        statement = insert(model).returning(model.id, sort_by_parameter_order=True)
        return list(self.uow.session.scalars(statement, rows).all())

    def _catalog(self, model: Any, key: str, **values: Any) -> int:
        return self._ids(model, [{"team_id": TEAM_ID, "key": f"bench-seg-{key}", **values}])[0]

    def sessions(self) -> list[tuple[int, datetime]]:
        event = self._catalog(
            Event, "class", name="Bench class", timezone="UTC", price_minor=1200, capacity=400
        )
        first = self.now.replace(hour=7, minute=0, second=0) - timedelta(days=DAYS_BACK)
        starts = [
            first + timedelta(days=day, hours=3 * n)
            for day in range(DAYS_BACK + DAYS_AHEAD)
            for n in range(SESSIONS_PER_DAY)
        ]
        rows = [
            {
                "team_id": TEAM_ID,
                "event_id": event,
                "starts_at": at,
                "duration_minutes": 60,
                "timezone": "UTC",
                "capacity": 400,
                "price_minor": 1200,
            }
            for at in starts
        ]
        return list(zip(self._ids(EventOccurrence, rows), starts, strict=True))

    def _bookings(self, sessions: list[tuple[int, datetime]]) -> Iterator[dict[str, Any]]:
        rng = self.rng
        for customer in self.customers:
            # Regulars and one-off visitors: 0 to 2 × the mean, a few far more.
            count = rng.randint(0, 2 * BOOKINGS_PER_CUSTOMER)
            if rng.random() < 0.02:
                count *= 5
            for occurrence, starts_at in rng.sample(sessions, count):
                cancelled = rng.random() < 0.05
                yield {
                    "team_id": TEAM_ID,
                    "customer_id": customer,
                    "occurrence_id": occurrence,
                    "booked_at": starts_at - timedelta(days=rng.randint(1, 14)),
                    "price_minor": rng.choice((1200, 1200, 1500, 0)),
                    "credits": None,
                    "currency": "GBP" if rng.random() < 0.98 else "EUR",
                    "state": BookingState.CANCELLED if cancelled else BookingState.MANUAL,
                    "payment_method": PaymentMethod.MANUAL,
                    "attendance": (
                        Attendance.NO_SHOW
                        if not cancelled and rng.random() < 0.05 and starts_at < self.now
                        else None
                    ),
                }

    def bookings(self, sessions: list[tuple[int, datetime]]) -> int:
        written = 0
        for chunk in _chunks(self._bookings(sessions)):
            self.uow.session.execute(insert(Booking), chunk)
            written += len(chunk)
        return written

    def passes(self) -> int:
        kind = self._catalog(
            PassType, "ten", name="10-class pass", credits=10, validity_days=90, price_minor=9000
        )
        today = self.now.date()

        def rows() -> Iterator[dict[str, Any]]:
            for customer in self.customers:
                if self.rng.random() >= 0.3:
                    continue
                ends = today + timedelta(days=self.rng.randint(-300, 60))
                yield {
                    "team_id": TEAM_ID,
                    "customer_id": customer,
                    "pass_type_id": kind,
                    "purchased_at": self.now - timedelta(days=(today - ends).days + 90),
                    "valid_from": ends - timedelta(days=90),
                    "valid_to": ends,
                    "credits_total": 10,
                    "credits_remaining": self.rng.randint(0, 10),
                    "price_minor": 9000,
                    "currency": "GBP",
                    "payment_method": PaymentMethod.MANUAL,
                    "state": PassState.MANUAL,
                }

        return sum(self._insert(Pass, chunk) for chunk in _chunks(rows()))

    def subscriptions(self) -> int:
        plan = self._catalog(
            SubscriptionPlan, "monthly", name="Monthly", price_minor=8000, interval="month"
        )
        states = list(SubscriptionState)

        def rows() -> Iterator[dict[str, Any]]:
            for customer in self.customers:
                if self.rng.random() >= 0.1:
                    continue
                yield {
                    "team_id": TEAM_ID,
                    "customer_id": customer,
                    "plan_id": plan,
                    "created_at": self.now - timedelta(days=self.rng.randint(1, 700)),
                    "next_payment_at": self.now + timedelta(days=self.rng.randint(1, 30)),
                    "price_minor": 8000,
                    "currency": "GBP",
                    "state": self.rng.choice(states),
                }

        return sum(self._insert(Subscription, chunk) for chunk in _chunks(rows()))

    def _insert(self, model: Any, rows: list[dict[str, Any]]) -> int:
        self.uow.session.execute(insert(model), rows)
        return len(rows)


def _prepare(db: Database) -> dict[str, Any]:
    with db.unit_of_work() as uow:
        history = _History(uow, random.Random(SEED))
        sessions = history.sessions()
        return {
            "sessions": len(sessions),
            "bookings": history.bookings(sessions),
            "passes": history.passes(),
            "subscriptions": history.subscriptions(),
        }


def _first_sum(db: Database) -> float:
    """Seconds the workspace's first segment spends adding up every customer's facts."""
    started = time.perf_counter()
    with db.unit_of_work() as uow:
        customer_facts.ready(uow, TEAM_ID)
    return time.perf_counter() - started


def _sample(db: Database, actor: Actor, filters: SegmentFilters) -> tuple[float, int]:
    started = time.perf_counter()
    with db.unit_of_work() as uow:
        total = segment(uow, actor, filters).page.total
    return (time.perf_counter() - started) * 1000, total


def _bench(samples: int) -> Callable[[Loaded], dict[str, Any]]:
    def run(loaded: Loaded) -> dict[str, Any]:
        db = Database(settings_for(loaded.url))
        actor = Actor(TEAM_ID, STAFF, Role.STAFF)
        try:
            first_sum = _first_sum(db)
            timings: dict[str, list[float]] = {name: [] for name in SEGMENTS}
            matches: dict[str, int] = {}
            for n in range(WARMUP + samples):
                for name, filters in SEGMENTS.items():
                    elapsed, matches[name] = _sample(db, actor, filters)
                    if n >= WARMUP:
                        timings[name].append(elapsed)
        finally:
            db.dispose()
        every = [ms for values in timings.values() for ms in values]
        results = {
            SEGMENT_THREE_FILTERS: {"samples": len(every), **percentiles(every)},
            **{
                f"{name} ({matches[name]:,} match)": {"samples": len(ms), **percentiles(ms)}
                for name, ms in timings.items()
            },
        }
        console.print(latency_table(loaded.title, "Segment", results))
        console.print(f"First sum of every customer's facts: {first_sum:.2f} s.")
        return {
            "prepared": dict(loaded.prepared),
            "first_sum_seconds": round(first_sum, 2),
            "timings": results,
        }

    return run


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark on both databases, print the tables and write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.segments", description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=50, help="timed runs of each segment")
    args = parse_args(parser, argv, "segments", QUICK)
    host = machine()
    console.print(
        f"[bold]Segments benchmark[/bold]: {args.customers:,} demo customers with two years of "
        f"history, {len(SEGMENTS)} segments × {args.samples} timed runs after {WARMUP} warm-up "
        f"ones; {host['cores']} cores, load average {host['load_average_1m']}."
    )
    console.print(METHOD_NOTE, style="dim")
    run_and_record(
        "segments",
        args,
        METHOD_NOTE,
        Goal(SEGMENT_THREE_FILTERS, "p95_ms", SEGMENT_P95_MS, "segment p95"),
        _bench(args.samples),
        _prepare,
    )


if __name__ == "__main__":
    main()
