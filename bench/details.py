"""A customer's details with 5,000 bookings: opening them, switching tab, paging, searching; the chart.

Run with `python -m bench.details [--customers N] [--samples N]` (or `make bench` for all).
For each database: the demo catalog, N demo customers (a few hundred with a year of demo
history) and one customer holding 5,000 bookings spread over the past year, with passes,
appointments, videos, notes and account history in proportion. The real app then serves
HTTP on loopback with the local Slack stand-in, and a SlackDriver plays an admin's Slack
client: the name button and the row menu's Manage in the hub, the eight tabs, Next, and
keystrokes in the Bookings search. The service calls behind the view are timed alone too,
and the sales chart is rendered cold (in a fresh interpreter) and warm. PostgreSQL runs in a
throw-away database next to BENCH_DATABASE_URL's.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import chain
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.table import Table
from slack_sdk import WebClient
from sqlalchemy import insert, select

from bench._support import (
    SEED,
    TEAM_ID,
    Loaded,
    RequestTimer,
    Timed,
    TimedDriver,
    console,
    machine,
    on_each_database,
    parse_args,
    quantile_cuts,
    running_app,
    settings_for,
    write_results,
)
from bot.context.deps import Deps
from bot.context.request import Request
from bot.local import AppResponse
from bot.surfaces.customer_details import render_details
from bot.views.hub import ROW_MENU_ACTION
from bot.views.origin import Tab
from bot.views.tabs import (
    NEXT_ACTION,
    PAGE_SIZES,
    SEARCH_ACTION,
    TAB_ACTION_PREFIX,
    TAB_LABELS,
    DetailsMeta,
)
from core.actor import Actor
from core.adapters.charts import render_sales_chart, sales_chart_title
from core.chart_links import CHARTS_PATH
from core.db import Database, UnitOfWork
from core.demo.catalog import DEMO_ANSWERS, DEMO_CATALOG
from core.demo.customers import load_demo_history
from core.demo.history import DEMO_STAFF
from core.models import (
    Appointment,
    AppointmentState,
    Booking,
    BookingState,
    Customer,
    CustomerStatus,
    EventOccurrence,
    HistoryEntry,
    Note,
    Pass,
    PassState,
    PaymentMethod,
    QuestionnaireResponse,
    QuestionnaireStatus,
    RefundState,
    Role,
    Subscription,
    SubscriptionState,
    VideoPurchase,
)
from core.services import appointments, bookings, notes, passes, questionnaires, videos
from core.services.account import list_history
from core.services.bookings import list_bookings
from core.services.catalog import CatalogIds, sync_catalog
from core.services.customers import name_key, new_uid
from core.services.questions import stored
from core.services.sales import SalesSeries, monthly_sales
from core.services.settings import studio_settings
from core.services.workspaces import ensure_workspace

QUICK = {"customers": 1_000, "history_customers": 20, "samples": 5, "cold_renders": 2}
ROOT = Path(__file__).resolve().parent.parent
ADMIN = "UBENCHADMIN"
WARMUP = 5
# Lets the previous request's tail (its listener returning, the connection going back to the
# pool) finish, so one sample's leftovers are not counted in the next one's time.
PAUSE_SECONDS = 0.01
# The view carries a signed chart image URL, as in production with PUBLIC_BASE_URL set. The
# host is a placeholder because the app's port is known only once it serves; the bench swaps
# in the real root when it fetches the image as Slack would.
CHART_HOST = "http://charts.bench.invalid"
CHART_FETCHES = 20
WARM_RENDERS = 100
# Percentiles are printed only where there are enough samples to mean something.
P95_MIN_SAMPLES = 20
P99_MIN_SAMPLES = 100

METHOD_NOTE = (
    "Interactions are timed from just before the driver signs the request until the stand-in "
    "has recorded the Web API call the app makes for it (views.push for opening, views.update "
    "for the rest; 'ack p50' is until the app's HTTP answer). Each sample checks that the view "
    "sent shows the customer, tab, page and search asked for. Bolt's HTTP path looks for the "
    "listener's ack() every 10 ms, so acks take 10 ms or more. App, stand-in and driver share "
    "one Python process on loopback (serve_wsgi, the test server). Service calls are timed "
    "alone, each in its own read-only unit of work. Cold chart renders run in a fresh "
    "interpreter, timed inside it from before `import core.adapters.charts` to the PNG bytes."
)

# -- the customer with 5,000 bookings --------------------------------------------------------

HEAVY_FIRST, HEAVY_LAST = "Ottilie", "Bookworth"
HEAVY_BOOKINGS = 5000
# Shares as the demo generator draws them (demo_history.py).
CANCELLED_SHARE = 0.08
PASS_PAID_SHARE = 0.4
STRIPE_SHARE = 0.8
FULL_REFUND_SHARE = 0.7
AHEAD_SHARE = 0.03
# The demo generator gives a customer booking ~100 classes a year up to 8 appointments,
# 4 videos and 4 notes; 50 times the bookings get about 30-50 times the rest.
HEAVY_APPOINTMENTS = 250
HEAVY_VIDEOS = 120
HEAVY_NOTES = 150
NOTE_TEXTS = (
    "Books the 7am class for the whole team; invoices go to their office manager.",
    "Asked for the front row to be kept for their group on Saturdays.",
    "Moved three places to next week after a work trip. Done.",
    "Prefers evening classes in winter.",
    "Gave great feedback on Sunset Pilates; happy to be quoted on the website.",
)


class _HeavyCustomer:
    """Draws one customer's year of history and inserts it in bulk (a statement per table).

    5,000 bookings over the ~520 sessions the demo timetable runs in a year means about ten
    places per session: a group booker (a company booking for its staff), the heaviest record
    a studio plausibly holds. Payment, cancellation and refund shares follow the demo
    generator; every change the app would have written to the account history is there too.
    """

    def __init__(self, uow: UnitOfWork, rng: random.Random, ids: CatalogIds) -> None:
        workspace = ensure_workspace(uow, TEAM_ID)
        self.uow = uow
        self.rng = rng
        self.ids = ids
        self.zone = ZoneInfo(workspace.timezone)
        self.currency = workspace.currency
        self.now = uow.now().astimezone(UTC).replace(microsecond=0)
        self.start = self.now - timedelta(days=365)
        self.uid = new_uid()
        self.customer_id = 0
        self.history: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {}

    def _own(self, **values: Any) -> dict[str, Any]:
        return {"team_id": TEAM_ID, "customer_id": self.customer_id, **values}

    def _between(self, first: datetime, last: datetime) -> datetime:
        return (first + (last - first) * self.rng.random()).replace(microsecond=0)

    def _audit(self, at: datetime, action: str, detail: str) -> None:
        self.history.append(
            self._own(
                customer_uid=self.uid,
                actor=self.rng.choice((ADMIN, *DEMO_STAFF)),
                action=action,
                changes={},
                detail=detail,
                created_at=at,
            )
        )

    def _insert(self, model: Any, rows: list[dict[str, Any]], *, ids: bool = False) -> list[int]:
        self.counts[model.__tablename__] = len(rows)
        if not rows:
            return []
        # render_nulls: one batch per table; otherwise each pattern of NULLs is its own.
        statement = insert(model).execution_options(render_nulls=True)
        if not ids:
            self.uow.session.execute(statement, rows)
            return []
        returning = statement.returning(model.id, sort_by_parameter_order=True)
        return list(self.uow.session.scalars(returning, rows).all())

    def add(self) -> dict[str, Any]:
        """Insert everything; the customer's UID, a booking id to search for, and row counts."""
        created = self.start - timedelta(days=30)
        self.customer_id = self.uow.session.execute(
            insert(Customer)
            .values(
                team_id=TEAM_ID,
                uid=self.uid,
                first_name=HEAVY_FIRST,
                last_name=HEAVY_LAST,
                name_key=name_key(HEAVY_FIRST, HEAVY_LAST),
                email="ottilie.bookworth@example.com",
                mobile="+447700900555",
                password_hash=None,
                status=CustomerStatus.ACTIVE,
                merged_into_id=None,
                version=1,
                created_at=created,
                updated_at=self.now - timedelta(days=3),
                updated_by=ADMIN,
            )
            .returning(Customer.id)
        ).scalar_one()
        self._audit(created, "created", "password generated")
        booking_ids = self._bookings_and_passes()
        self._appointments()
        self._videos()
        self._subscriptions()
        self._questionnaires()
        self._notes()
        # In time order, as the app appends them (the Account tab lists newest first).
        self.history.sort(key=lambda entry: entry["created_at"])
        self._insert(HistoryEntry, self.history)
        return {
            "uid": self.uid,
            "name": f"{HEAVY_FIRST} {HEAVY_LAST}",
            "booking_id": booking_ids[len(booking_ids) // 2],
            "rows": self.counts,
        }

    def _bookings_and_passes(self) -> list[int]:
        rng, now = self.rng, self.now
        events = {self.ids.events[e.key]: e for e in DEMO_CATALOG.events}
        occurrences = self.uow.session.execute(
            select(
                EventOccurrence.id,
                EventOccurrence.event_id,
                EventOccurrence.starts_at,
                EventOccurrence.price_minor,
            ).where(
                EventOccurrence.team_id == TEAM_ID,
                EventOccurrence.cancelled.is_(False),
                EventOccurrence.starts_at > self.start + timedelta(days=1),
                EventOccurrence.starts_at <= now + timedelta(days=30),
            )
        ).all()
        past = [o for o in occurrences if o.starts_at <= now]
        ahead = [o for o in occurrences if o.starts_at > now] or past
        drawn = [
            rng.choice(ahead if rng.random() < AHEAD_SHARE else past) for _ in range(HEAVY_BOOKINGS)
        ]
        lead = [timedelta(hours=rng.uniform(1, 14 * 24)) for _ in drawn]
        # In booking order, so a pass is bought when the previous one has run out.
        planned = sorted(
            (
                (min(now, o.starts_at - ahead_by).replace(microsecond=0), o)
                for o, ahead_by in zip(drawn, lead, strict=True)
            ),
            key=lambda pair: pair[0],
        )
        big = max(DEMO_CATALOG.pass_types, key=lambda p: p.credits)
        pass_rows: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        paid_by: list[dict[str, Any] | None] = []
        current: dict[str, Any] | None = None
        for n, (booked_at, occurrence) in enumerate(planned):
            event = events[occurrence.event_id]
            cancelled = rng.random() < CANCELLED_SHARE
            row = self._own(
                occurrence_id=occurrence.id,
                booked_at=booked_at,
                currency=self.currency,
                pass_id=None,
                stripe_payment_intent_id=None,
                refunded_minor=0,
                refund_state=RefundState.NONE,
                cancelled_at=self._between(booked_at, min(now, occurrence.starts_at))
                if cancelled
                else None,
                version=1,
            )
            used_on = occurrence.starts_at.astimezone(self.zone).date()
            if rng.random() < PASS_PAID_SHARE:
                if (
                    current is None
                    or current["credits_remaining"] < event.credit_price
                    or used_on > current["valid_to"]
                ):
                    current = self._pass(
                        big.key, booked_at - timedelta(minutes=rng.uniform(1, 30)), len(pass_rows)
                    )
                    pass_rows.append(current)
                if not cancelled:
                    # A cancelled booking gives its credits back: only kept ones use them up.
                    current["credits_remaining"] -= event.credit_price
                row.update(
                    price_minor=None,
                    credits=event.credit_price,
                    payment_method=PaymentMethod.PACKAGE,
                    state=BookingState.CANCELLED if cancelled else BookingState.PACKAGE,
                )
                paid_by.append(current)
            else:
                stripe = rng.random() < STRIPE_SHARE
                kept = BookingState.COMPLETED if stripe else BookingState.MANUAL
                row.update(
                    price_minor=occurrence.price_minor,
                    credits=None,
                    payment_method=PaymentMethod.STRIPE if stripe else PaymentMethod.MANUAL,
                    state=BookingState.CANCELLED if cancelled else kept,
                    stripe_payment_intent_id=f"pi_bench{self.uid}b{n:05d}" if stripe else None,
                )
                if stripe and cancelled and rng.random() < FULL_REFUND_SHARE:
                    row.update(refunded_minor=occurrence.price_minor, refund_state=RefundState.FULL)
                paid_by.append(None)
            rows.append(row)
        for pass_row, pass_id in zip(
            pass_rows, self._insert(Pass, pass_rows, ids=True), strict=True
        ):
            pass_row["id"] = pass_id
            self._audit(
                pass_row["purchased_at"], passes.ASSIGNED, f"assigned {big.name} #{pass_id}"
            )
        for row, paid in zip(rows, paid_by, strict=True):
            if paid is not None:
                row["pass_id"] = paid["id"]
        booking_ids = self._insert(Booking, rows, ids=True)
        for (booked_at, occurrence), row, booking_id in zip(
            planned, rows, booking_ids, strict=True
        ):
            name = events[occurrence.event_id].name
            self._audit(booked_at, bookings.BOOKED, f"booked {name}, booking #{booking_id}")
            if row["cancelled_at"] is not None:
                self._audit(
                    row["cancelled_at"],
                    bookings.CANCELLED,
                    f"cancelled booking #{booking_id}, {name}",
                )
        return booking_ids

    def _pass(self, key: str, bought: datetime, number: int) -> dict[str, Any]:
        spec = next(p for p in DEMO_CATALOG.pass_types if p.key == key)
        valid_from = bought.astimezone(self.zone).date()
        return self._own(
            pass_type_id=self.ids.pass_types[key],
            purchased_at=bought.replace(microsecond=0),
            valid_from=valid_from,
            valid_to=valid_from + timedelta(days=spec.validity_days - 1),
            credits_total=spec.credits,
            credits_remaining=spec.credits,
            price_minor=spec.price_minor,
            currency=self.currency,
            payment_method=PaymentMethod.STRIPE,
            stripe_payment_intent_id=f"pi_bench{self.uid}p{number:05d}",
            state=PassState.COMPLETED,
            version=1,
        )

    def _appointments(self) -> None:
        rng = self.rng
        givers = {
            s.key: [
                self.ids.facilitators[f.key]
                for f in DEMO_CATALOG.facilitators
                if s.key in f.services
            ]
            for s in DEMO_CATALOG.services
        }
        rows = []
        for n in range(HEAVY_APPOINTMENTS):
            service = rng.choice(DEMO_CATALOG.services)
            starts_at = self._between(self.start, self.now + timedelta(days=30)).replace(
                minute=rng.choice((0, 30)), second=0
            )
            booked_at = min(self.now, starts_at - timedelta(days=rng.uniform(1, 21)))
            cancelled = rng.random() < 0.12
            stripe = rng.random() < STRIPE_SHARE
            rows.append(
                self._own(
                    service_id=self.ids.services[service.key],
                    facilitator_id=rng.choice(givers[service.key]),
                    booked_at=booked_at,
                    starts_at=starts_at,
                    duration_minutes=service.duration_minutes,
                    price_minor=service.price_minor,
                    credits=None,
                    currency=self.currency,
                    payment_method=PaymentMethod.STRIPE if stripe else PaymentMethod.MANUAL,
                    stripe_payment_intent_id=f"pi_bench{self.uid}a{n:05d}" if stripe else None,
                    pass_id=None,
                    state=AppointmentState.CANCELLED if cancelled else AppointmentState.SCHEDULED,
                    cancelled_at=self._between(booked_at, min(self.now, starts_at))
                    if cancelled
                    else None,
                    version=1,
                )
            )
            self._audit(booked_at, appointments.BOOKED, f"booked {service.name}")
        self._insert(Appointment, rows)

    def _videos(self) -> None:
        rng = self.rng
        rows = []
        for _ in range(HEAVY_VIDEOS):
            video = rng.choice(DEMO_CATALOG.videos)
            purchased_at = self._between(self.start, self.now)
            rows.append(
                self._own(
                    video_id=self.ids.videos[video.key],
                    purchased_at=purchased_at,
                    expires_at=purchased_at + timedelta(days=video.access_days)
                    if video.access_days is not None
                    else None,
                    price_minor=video.price_minor,
                    credits=None,
                    currency=self.currency,
                    payment_method=PaymentMethod.STRIPE,
                    pass_id=None,
                    cancelled_at=purchased_at + timedelta(hours=1) if rng.random() < 0.06 else None,
                    version=1,
                )
            )
            self._audit(purchased_at, videos.ASSIGNED, f"assigned {video.title}")
        self._insert(VideoPurchase, rows)

    def _subscriptions(self) -> None:
        states = (SubscriptionState.ACTIVE, SubscriptionState.PAUSED, SubscriptionState.SUSPENDED)
        rows = [
            self._own(
                plan_id=self.ids.plans[plan.key],
                created_at=self._between(self.start, self.now),
                next_payment_at=self.now + timedelta(days=10)
                if state is SubscriptionState.ACTIVE
                else None,
                price_minor=plan.price_minor,
                currency=self.currency,
                state=state,
                stripe_subscription_id=f"sub_bench{self.uid}{n:02d}",
                version=1,
            )
            for n, (plan, state) in enumerate(zip(DEMO_CATALOG.plans, states, strict=False))
        ]
        self._insert(Subscription, rows)

    def _questionnaires(self) -> None:
        rows = []
        for template in DEMO_CATALOG.questionnaires:
            for completed in (True, False):
                created_at = self._between(self.start, self.now)
                answers = [self.rng.choice(options) for options in DEMO_ANSWERS[template.key]]
                rows.append(
                    self._own(
                        template_id=self.ids.questionnaires[template.key],
                        name=template.name,
                        questions=[stored(question) for question in template.questions],
                        answers=answers if completed else [None] * len(answers),
                        status=QuestionnaireStatus.COMPLETED
                        if completed
                        else QuestionnaireStatus.PENDING,
                        assigned_by=ADMIN,
                        created_at=created_at,
                        updated_at=created_at + timedelta(days=1) if completed else created_at,
                    )
                )
                self._audit(created_at, questionnaires.QUESTIONNAIRE_ASSIGNED, template.name)
        self._insert(QuestionnaireResponse, rows)

    def _notes(self) -> None:
        rows = []
        for _ in range(HEAVY_NOTES):
            author = self.rng.choice((ADMIN, *DEMO_STAFF))
            created_at = self._between(self.start, self.now)
            content = self.rng.choice(NOTE_TEXTS)
            rows.append(
                self._own(
                    author=author,
                    content=content,
                    created_at=created_at,
                    updated_at=created_at,
                    updated_by=author,
                )
            )
            self._audit(created_at, notes.NOTE_ADDED, content)
        self._insert(Note, rows)


def _prepare(db: Database, history_customers: int) -> dict[str, Any]:
    """Demo history for some demo customers, then the customer with 5,000 bookings."""
    with db.unit_of_work() as uow:
        summary = load_demo_history(uow, TEAM_ID, customers_limit=history_customers, seed=SEED)
    with db.unit_of_work() as uow:
        # The demo history synced the catalog already; syncing again only returns its ids.
        ids = sync_catalog(uow, TEAM_ID, DEMO_CATALOG)
        heavy = _HeavyCustomer(uow, random.Random(SEED), ids).add()
    return {
        "history_customers": summary.customers,
        "demo_bookings": summary.bookings,
        "heavy_customer": heavy,
    }


# -- summaries and tables ------------------------------------------------------------------


def _summary(samples: list[float]) -> dict[str, Any]:
    """Sample count, p50, and p95 / p99 where there are enough samples for them; max."""
    summary: dict[str, Any] = {"samples": len(samples)}
    cuts = quantile_cuts(samples)
    summary["p50_ms"] = round(cuts[49], 2)
    if len(samples) >= P95_MIN_SAMPLES:
        summary["p95_ms"] = round(cuts[94], 2)
    if len(samples) >= P99_MIN_SAMPLES:
        summary["p99_ms"] = round(cuts[98], 2)
    summary["max_ms"] = round(max(samples), 2)
    return summary


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def _table(title: str, heading: str, rows: Mapping[str, Mapping[str, Any]]) -> Table:
    """One row per measured thing; 'ack p50' only where a request was timed to its ack."""
    table = Table(title=title, title_justify="left")
    table.add_column(heading)
    table.add_column("samples", justify="right")
    with_ack = any("ack" in result for result in rows.values())
    if with_ack:
        table.add_column("ack p50", justify="right")
    for column in ("p50 ms", "p95 ms", "p99 ms", "max ms"):
        table.add_column(column, justify="right")
    for label, result in rows.items():
        cells = [label, str(result["samples"])]
        if with_ack:
            ack = result.get("ack")
            cells.append(_ms(ack["p50_ms"]) if ack else "")
        cells += [_ms(result.get(key)) for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms")]
        table.add_row(*cells)
    return table


# -- driving the app -------------------------------------------------------------------------


def _typed(word: str, shortest: int = 1) -> list[str]:
    """What the search box holds after each keystroke of `word`."""
    return [word[:n] for n in range(shortest, len(word) + 1)]


def _keystrokes(booking_id: int) -> list[str]:
    """Event names as staff type them (accents included), and a booking's #id."""
    words = ("morning yoga", "sunset", "café barre", "nyc", "tokyo", "hiit")
    return [*chain.from_iterable(_typed(w) for w in words), *_typed(f"#{booking_id}", 2)]


def _collect(step: Callable[[int], Timed], samples: int, warmup: int = WARMUP) -> list[Timed]:
    """Run `step(n)` `warmup` times untimed, then `samples` times; n numbers every run."""
    for n in range(warmup):
        step(n)
    measured = []
    for n in range(warmup, warmup + samples):
        measured.append(step(n))
        time.sleep(PAUSE_SECONDS)
    return measured


def _shown(timed: Timed, uid: str, *, tab: Tab, page: int = 1, q: str = "") -> Timed:
    """Check the view the app sent shows what was asked for, so the bench times the real thing."""
    view = timed.call.response["view"]
    meta = DetailsMeta.parse(view.get("private_metadata"))
    wanted = (uid, tab, page, q)
    got = None if meta is None else (meta.uid, meta.state.tab, meta.state.page, meta.state.q)
    if got != wanted:
        raise RuntimeError(f"expected the details showing {wanted}, the app sent {got}")
    return timed


def _summarised(method: str, timed: list[Timed], request: str) -> dict[str, Any]:
    return {
        "request": request,
        "until": method,
        **_summary([t.call_ms for t in timed]),
        "ack": _summary([t.ack_ms for t in timed]),
    }


def _fetch_chart(url: str) -> float:
    """Milliseconds to GET the chart PNG as Slack does when it shows the view's image."""
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback http only
        body = answer.read()
        kind = answer.headers.get("Content-Type")
    elapsed = (time.perf_counter() - started) * 1000
    if kind != "image/png" or not body.startswith(b"\x89PNG"):
        raise RuntimeError(f"the chart link answered {kind} ({len(body)} bytes)")
    return elapsed


def _drive(driver: TimedDriver, heavy: Mapping[str, Any], samples: int) -> dict[str, Any]:
    """Every interaction in turn, starting from the hub filtered to the heavy customer."""
    uid, name = str(heavy["uid"]), str(heavy["name"])
    results: dict[str, Any] = {}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-watch") as watcher:
        timer = RequestTimer(driver, watcher)
        timer.time("views.open", lambda: driver.slash("/customers", HEAVY_LAST))
        hub = driver.current_view()
        if hub is None or name not in json.dumps(hub, ensure_ascii=False):
            raise RuntimeError(f"the hub does not list {name}")

        def by_name(_: int) -> Timed:
            timed = _shown(
                timer.time("views.push", lambda: driver.click(name)), uid, tab=Tab.BOOKINGS
            )
            driver.close()  # back to the hub, for the next click
            return timed

        def manage() -> AppResponse | None:
            return driver.choose("Manage", menu=ROW_MENU_ACTION, in_block=f"row_{uid}")

        def by_manage(_: int) -> Timed:
            timed = _shown(timer.time("views.push", manage), uid, tab=Tab.BOOKINGS)
            driver.close()
            return timed

        results["open: name button → views.push"] = _summarised(
            "views.push", _collect(by_name, samples), "block_actions: the customer's name button"
        )
        results["open: menu Manage → views.push"] = _summarised(
            "views.push", _collect(by_manage, samples), "block_actions: overflow option Manage"
        )

        # The details stay open from here on; each step changes what they show.
        timer.time("views.push", lambda: driver.click(name))
        tabs = list(Tab)

        def switch(n: int) -> Timed:
            # Opened on Bookings, so the first click goes to Appointments, then round and round.
            tab = tabs[(n + 1) % len(tabs)]
            return _shown(
                timer.time("views.update", lambda: driver.click(TAB_ACTION_PREFIX + tab.value)),
                uid,
                tab=tab,
            )

        # Whole rounds, so every tab is timed equally often (the warm-up is one round too).
        rounds = -(-samples // len(tabs))
        switched = _collect(switch, rounds * len(tabs), warmup=len(tabs))
        results["switch tab → views.update"] = _summarised(
            "views.update", switched, "block_actions: a tab button"
        )
        per_tab: dict[Tab, list[Timed]] = {tab: [] for tab in tabs}
        for n, timed in enumerate(switched, start=len(tabs)):
            per_tab[tabs[(n + 1) % len(tabs)]].append(timed)
        for tab in tabs:
            results[f"  to {TAB_LABELS[tab]}"] = _summarised(
                "views.update", per_tab[tab], f"block_actions: the {TAB_LABELS[tab]} tab button"
            )
        # Back on Bookings, page 1 (the rounds end there), then Next page by page.
        timer.time("views.update", lambda: driver.click(TAB_ACTION_PREFIX + Tab.BOOKINGS.value))

        def next_page(n: int) -> Timed:
            clicked = timer.time("views.update", lambda: driver.click(NEXT_ACTION))
            return _shown(clicked, uid, tab=Tab.BOOKINGS, page=n + 2)

        paged = _collect(next_page, samples)
        results["Bookings: Next → views.update"] = _summarised(
            "views.update",
            paged,
            f"block_actions: Next ▶, pages 2–{samples + WARMUP + 1} of "
            f"{math.ceil(int(heavy['rows']['bookings']) / PAGE_SIZES[Tab.BOOKINGS]):,}",
        )

        keystrokes = _keystrokes(int(heavy["booking_id"]))

        def keystroke(n: int) -> Timed:
            text = keystrokes[n % len(keystrokes)]
            typed = timer.time("views.update", lambda: driver.type(text, into=SEARCH_ACTION))
            return _shown(typed, uid, tab=Tab.BOOKINGS, q=text)

        results["Bookings: keystroke → update"] = _summarised(
            "views.update",
            _collect(keystroke, samples),
            f"block_actions: typing {len(keystrokes)} event-name prefixes and a #id in turn",
        )

        view = driver.current_view() or {}
        image = next((b for b in view.get("blocks", []) if b.get("type") == "image"), None)
        if image is None:
            raise RuntimeError("the details show no chart image; is PUBLIC_BASE_URL set?")
        url = str(image["image_url"]).replace(CHART_HOST, driver.app_root, 1)
        if CHARTS_PATH not in url:
            raise RuntimeError(f"unexpected chart URL {url}")
        for _ in range(2):
            _fetch_chart(url)
        fetched = [_fetch_chart(url) for _ in range(CHART_FETCHES)]
        results["chart image GET → PNG read"] = {
            "request": "GET /charts/<signed token>.png, as Slack fetches the view's image",
            "until": "the PNG is read",
            **_summary(fetched),
        }
    return results


# -- the service calls alone ----------------------------------------------------------------


def _time_calls(db: Database, call: Callable[[UnitOfWork], object], samples: int) -> list[float]:
    """Milliseconds per call, each in its own read-only unit of work, after one warm-up."""
    with db.unit_of_work(readonly=True) as uow:
        call(uow)
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        with db.unit_of_work(readonly=True) as uow:
            call(uow)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _services(
    url: str, heavy: Mapping[str, Any], samples: int
) -> tuple[dict[str, Any], SalesSeries]:
    """The calls behind the view, timed alone; and the customer's sales, for the chart."""
    uid = str(heavy["uid"])
    actor = Actor(team_id=TEAM_ID, user_id=ADMIN, role=Role.ADMIN)
    settings = settings_for(
        url,
        # The Web API is never called here; the secret only signs the view's chart link.
        slack_bot_token=f"xoxb-bench-{secrets.token_hex(8)}",
        slack_signing_secret=secrets.token_hex(16),
        public_base_url=CHART_HOST,
    )
    db = Database(settings)
    deps = Deps(db=db, settings=settings)
    calls: dict[str, Callable[[UnitOfWork], object]] = {
        "list_bookings p1": lambda uow: list_bookings(uow, actor, uid),
        "list_bookings p250 of 500": lambda uow: list_bookings(uow, actor, uid, page=250),
        'list_bookings "yoga" p1': lambda uow: list_bookings(uow, actor, uid, query="yoga"),
        "monthly_sales (12 months)": lambda uow: monthly_sales(uow, actor, uid),
        "list_history p1": lambda uow: list_history(uow, actor, uid),
        'list_history "yoga" p1': lambda uow: list_history(uow, actor, uid, query="yoga"),
    }
    try:
        results = {label: _summary(_time_calls(db, call, samples)) for label, call in calls.items()}
        # The whole of what opening the details does before views.push: the customer, the
        # sales and the Bookings page read in one unit of work, then the view built.
        meta = DetailsMeta(uid=uid)
        with db.unit_of_work(readonly=True) as uow:
            studio = studio_settings(uow, TEAM_ID)
        # The Web API is never called: only the view is built.
        request = Request(deps, actor, WebClient(), studio)
        rendered = []
        render_details(request, meta)
        for _ in range(samples):
            started = time.perf_counter()
            render_details(request, meta)
            rendered.append((time.perf_counter() - started) * 1000)
        results["render_details, Bookings p1"] = _summary(rendered)
        with db.unit_of_work(readonly=True) as uow:
            series = monthly_sales(uow, actor, uid)
    finally:
        db.dispose()
    return results, series


def _bench(loaded: Loaded, samples: int, series_out: list[SalesSeries]) -> dict[str, Any]:
    heavy = loaded.prepared["heavy_customer"]
    with running_app(loaded.url, ADMIN, public_base_url=CHART_HOST) as driver:
        interactions = _drive(driver, heavy, samples)
    services, series = _services(loaded.url, heavy, samples)
    series_out.append(series)
    prepared = loaded.prepared
    title = (
        f"{loaded.engine}: {loaded.customers:,} customers ({prepared['history_customers']} with "
        f"demo history) + {heavy['name']} with {heavy['rows']['bookings']:,} bookings, "
        f"{heavy['rows']['account_history']:,} history entries; loaded in "
        f"{loaded.load_seconds:.1f} s, database {loaded.size_bytes / 1e6:.1f} MB"
    )
    console.print(_table(title, "interaction (ms from signing)", interactions))
    console.print(
        _table(
            f"{loaded.engine}: service calls alone", "call (own read-only unit of work)", services
        )
    )
    return {"prepared": prepared, "interactions": interactions, "service_calls": services}


# -- the chart --------------------------------------------------------------------------------

# Runs in a fresh interpreter: the clock starts before core.adapters.charts is imported, and the first
# render imports matplotlib (core.adapters.charts defers that), so both are in the cold time.
COLD_SCRIPT = """
import json, sys, time
started = time.perf_counter()
from datetime import date
from core.adapters.charts import render_sales_chart
from core.services.sales import SalesSeries
imported = time.perf_counter()
deferred = "matplotlib" not in sys.modules
data = json.loads(sys.argv[1])
series = SalesSeries(
    [date.fromisoformat(m) for m in data["months"]],
    data["bookings"], data["passes"], data["videos"], data["timezone"],
)
png = render_sales_chart(series, title=data["title"])
done = time.perf_counter()
print(json.dumps({
    "total_ms": (done - started) * 1000,
    "import_ms": (imported - started) * 1000,
    "render_ms": (done - imported) * 1000,
    "png_bytes": len(png),
    "matplotlib_deferred": deferred,
}))
"""


def _chart(series: SalesSeries, title: str, cold_renders: int) -> dict[str, Any]:
    payload = json.dumps(
        {
            "months": [m.isoformat() for m in series.months],
            "bookings": series.bookings,
            "passes": series.passes,
            "videos": series.videos,
            "timezone": series.timezone,
            "title": title,
        }
    )
    cold: list[dict[str, Any]] = []
    walls: list[float] = []
    for _ in range(cold_renders):
        started = time.perf_counter()
        done = subprocess.run(  # noqa: S603 - this interpreter, our own script
            [sys.executable, "-c", COLD_SCRIPT, payload],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        walls.append((time.perf_counter() - started) * 1000)
        cold.append(json.loads(done.stdout))
    render_sales_chart(series, title=title)  # the warm-up: matplotlib loaded, caches filled
    warm = []
    for _ in range(WARM_RENDERS):
        started = time.perf_counter()
        png = render_sales_chart(series, title=title)
        warm.append((time.perf_counter() - started) * 1000)
    rows = {
        "cold: import + first render": _summary([c["total_ms"] for c in cold]),
        "  of which render + mpl import": _summary([c["render_ms"] for c in cold]),
        "  subprocess wall clock": _summary(walls),
        "warm: render in-process": _summary(warm),
    }
    console.print(_table("Sales chart PNG (800×350)", "render", rows))
    return {
        "renders": rows,
        "png_bytes": len(png),
        "matplotlib_deferred_on_import": all(c["matplotlib_deferred"] for c in cold),
        "series": {"bookings": series.bookings, "passes": series.passes, "videos": series.videos},
    }


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark on both databases and the chart, print the tables, write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.details", description=__doc__)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument(
        "--history-customers", type=int, default=300, help="demo customers given demo history"
    )
    parser.add_argument("--samples", type=int, default=100, help="timed runs per interaction")
    parser.add_argument(
        "--cold-renders", type=int, default=5, help="chart renders in a fresh interpreter"
    )
    args = parse_args(parser, argv, "details", QUICK)
    started = time.perf_counter()
    host = machine()
    console.print(
        f"[bold]Details benchmark[/bold]: {args.customers:,} demo customers per database, "
        f"{args.samples} timed runs per interaction after {WARMUP} warm-up runs; "
        f"{host['cores']} cores, load average {host['load_average_1m']} at the start."
    )
    console.print(METHOD_NOTE, style="dim")
    series: list[SalesSeries] = []
    databases = on_each_database(
        "details",
        args.customers,
        lambda loaded: _bench(loaded, args.samples, series),
        prepare=lambda db: _prepare(db, args.history_customers),
    )
    chart = _chart(series[0], sales_chart_title(f"{HEAVY_FIRST} {HEAVY_LAST}"), args.cold_renders)
    elapsed = time.perf_counter() - started
    load = [round(n, 2) for n in os.getloadavg()]
    results: dict[str, Any] = {
        "benchmark": "details",
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": host,
        "quick": args.quick,
        "method": METHOD_NOTE,
        "load_average_at_end": {"1m": load[0], "5m": load[1], "15m": load[2]},
        "databases": databases,
        "chart": chart,
        "total_seconds": round(elapsed, 1),
    }
    write_results(args.out, results)
    console.print(
        f"Results written to {args.out} ({elapsed:.0f} s in all; load average at the end "
        f"{load[0]} / {load[1]} / {load[2]} over 1 / 5 / 15 min)."
    )


if __name__ == "__main__":
    main()
