"""SQL statements per interaction stay within a fixed budget, however many rows there are.

Every statement the app sends while handling one interaction is counted (the access
middleware's included), on a small workspace and again on a large one. The small one's
pages are partly filled and the large one's full, so a query per row shows up as a
difference; equal counts plus a ceiling per interaction keep the request path free of N+1s.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import Engine, event, select

from bot.local import AppResponse, SlackDriver
from core.db import Database
from core.models import (
    Appointment,
    HistoryEntry,
    Note,
    Pass,
    QuestionnaireResponse,
    QuestionnaireStatus,
    QuestionnaireTemplate,
    Subscription,
    VideoPurchase,
)
from tests.slack.conftest import ADMIN, World
from tests.slack.details_helpers import NOW, customer_id, details_after, go_to_tab, seed_history
from tests.slack.helpers import (
    DETAILS,
    JSON,
    acked,
    after,
    archive,
    fill_form,
    is_view,
    numbered,
    open_hub,
    published,
    row_menu,
    rows,
    seed,
    updated,
)

# The most statements each interaction may send (BEGIN, which only SQLite sends as a
# statement, is not counted: PostgreSQL's driver opens transactions implicitly).
BUDGET = {
    "/customers (open hub)": 4,
    # The access check, then the head: the matches counted, and the first page's customers.
    "hub: search keystroke": 2,
    "hub: Archived tab": 3,
    "hub: Active tab": 3,
    "hub: sort": 3,
    # One more than a keystroke: the edge row Next reads on from is looked up first.
    "hub: next page": 4,
    "hub: open Create form": 1,
    # Saving looks for a possible duplicate first (customers sharing the mobile or the email's
    # first letters, at most a few), and records the channel alert with the new customer; once
    # the form is answered, the password's hash is stored (argon2 runs after the answer).
    "hub: Create submit": 14,
    # The customer and, in one statement, the tags they hold.
    "hub: open Edit form": 3,
    "hub: Edit submit": 11,
    "hub: Archive from row menu": 6,
    # The details read the customer's figures (visits, no-shows, spend: one statement), their
    # household (one statement) and the tags they hold (one statement; their marketing consent
    # comes with the customer) besides their sales; the tab's page comes with its count.
    "details: open (Manage)": 8,
    "details: Appointments tab": 8,
    "details: Passes tab": 8,
    "details: Videos tab": 8,
    "details: Subscriptions tab": 8,
    "details: Questionnaires tab": 8,
    "details: Notes tab": 8,
    "details: Account tab": 8,
    "details: Bookings tab": 8,
    "details: Bookings next page": 8,
    "details: Bookings search keystroke": 8,
    "details: open Add Note form": 1,
    # Saving redraws the details, their household and tags included.
    "details: Add Note submit": 11,
    # Today: who watches it noted (one upsert), then the day's events, appointments and the
    # four kinds of alert, each list counted in its own statement.
    "App Home open (Today)": 8,
    # Three more than the hub's: the catalog's upcoming events (counted in the same statement),
    # the studio's Stripe account, and the saved segments with their last counts (a count
    # older than five minutes is made again); and no longer watching Today.
    "App Home: Customers": 8,
}
# Interactions answered by redrawing a view in its turn: on PostgreSQL the turn locks the view's
# row (reading the hash the last redraw got) and stores the new hash, two statements more.
REDRAWN = frozenset(
    {
        "hub: search keystroke",
        "hub: Archived tab",
        "hub: Active tab",
        "hub: sort",
        "hub: next page",
        "hub: Create submit",
        "hub: Edit submit",
        "hub: Archive from row menu",
        "details: Appointments tab",
        "details: Passes tab",
        "details: Videos tab",
        "details: Subscriptions tab",
        "details: Questionnaires tab",
        "details: Notes tab",
        "details: Account tab",
        "details: Bookings tab",
        "details: Bookings next page",
        "details: Bookings search keystroke",
        "details: Add Note submit",
    }
)
TURN_STATEMENTS = 2
TABS = ("Appointments", "Passes", "Videos", "Subscriptions", "Questionnaires", "Notes", "Account")
# Small: the details' first pages hold 3 rows (Bookings 11, so it has a second page of 1) and
# the hub's second page 2 active customers. Large: every page is full.
SMALL, LARGE = 3, 200
SMALL_HUB, LARGE_HUB = 14, 200
# How long the app must stay idle before an interaction counts as finished.
QUIET_SECONDS = 0.05


class StatementLog:
    """Records the SQL every connection of an engine sends, from any thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: list[str] = []
        self._lock = threading.Lock()
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.strip().upper().startswith("BEGIN"):
            return
        with self._lock:
            self.statements.append(statement)

    def close(self) -> None:
        """Stop recording."""
        event.remove(self.engine, "before_cursor_execute", self._record)

    def _settle(self, timeout: float = 10.0) -> None:
        # The listener works on after the ack (and may still be reading after the Web API
        # call a driver waits for): done means no connection out and no statement for a while.
        deadline = time.monotonic() + timeout
        seen, since = len(self.statements), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.01)
            now = len(self.statements)
            if now != seen or self.engine.pool.checkedout():  # type: ignore[attr-defined]
                seen, since = now, time.monotonic()
            elif time.monotonic() - since >= QUIET_SECONDS:
                return
        raise TimeoutError("the app kept querying the database")

    def count(self, act: Callable[[], JSON]) -> tuple[JSON, list[str]]:
        """Run `act` (one interaction, waited for) and return its result and statements."""
        self._settle()
        start = len(self.statements)
        result = act()
        self._settle()
        with self._lock:
            return result, self.statements[start:]


@contextmanager
def statement_log(engine: Engine) -> Iterator[StatementLog]:
    """A StatementLog attached to `engine` for the block."""
    log = StatementLog(engine)
    try:
        yield log
    finally:
        log.close()


def _clone(row: Any) -> Any:
    model = type(row)
    return model(**{c.key: getattr(row, c.key) for c in model.__table__.columns if c.key != "id"})


def _fill_history(db: Database, uid: str, count: int, key: str) -> None:
    """`count` of everything on every tab (bookings count+8, so Bookings has a second page)."""
    seed_history(db, uid, bookings=count + 8, key=key)
    with db.unit_of_work() as uow:
        owner = customer_id(uow, uid)
        session = uow.session
        for model in (Appointment, Pass, VideoPurchase, Subscription):
            first = session.scalars(select(model).where(model.customer_id == owner)).one()
            session.add_all(_clone(first) for _ in range(count - 1))
        health = session.scalars(
            select(QuestionnaireTemplate).where(QuestionnaireTemplate.key == f"{key}-health")
        ).one()
        for n in range(count):
            at = NOW - timedelta(days=n)
            session.add_all(
                [
                    QuestionnaireResponse(
                        team_id=health.team_id,
                        customer_id=owner,
                        template_id=health.id,
                        name=health.name,
                        questions=health.questions,
                        answers=["No", "No"] if n % 2 else [None, None],
                        status=QuestionnaireStatus.COMPLETED
                        if n % 2
                        else QuestionnaireStatus.PENDING,
                        assigned_by=ADMIN,
                        created_at=at,
                        updated_at=at,
                    ),
                    Note(
                        team_id=health.team_id,
                        customer_id=owner,
                        author=ADMIN,
                        content=f"Note {n}: prefers the back row.",
                        created_at=at,
                        updated_at=at,
                        updated_by=ADMIN,
                    ),
                    HistoryEntry(
                        team_id=health.team_id,
                        customer_id=owner,
                        customer_uid=uid,
                        actor=ADMIN,
                        action="note_added",
                        changes={},
                        detail=f"Note {n}",
                        created_at=at,
                    ),
                ]
            )


def _interactions(
    log: StatementLog, driver: SlackDriver, name: str, mobile: str
) -> dict[str, list[str]]:
    """Every budgeted interaction once (the details are customer `name`'s); the SQL of each."""
    sent: dict[str, list[str]] = {}

    def measure(label: str, act: Callable[[], JSON]) -> JSON:
        view, sent[label] = log.count(act)
        return view

    def push(response: AppResponse | None) -> JSON:
        after(driver, response, "views.push")
        view = driver.current_view("modal")
        assert view is not None
        return view

    def manage() -> JSON:
        after(driver, row_menu(driver, view, name, "Manage"), "views.push")
        return driver.wait_for_view(is_view(DETAILS, name))

    def add_note() -> JSON:
        acked(driver.submit())
        return driver.wait_for_view(is_view(DETAILS, "Added note #"))

    measure("/customers (open hub)", lambda: open_hub(driver))
    measure("hub: search keystroke", lambda: updated(driver, driver.type("cust", into="Search")))
    measure("hub: Archived tab", lambda: updated(driver, driver.click("Archived")))
    measure("hub: Active tab", lambda: updated(driver, driver.click("Active")))
    measure("hub: sort", lambda: updated(driver, driver.click("hub.sort")))
    measure("hub: next page", lambda: updated(driver, driver.click("Next ▶")))
    measure("hub: open Create form", lambda: push(driver.click("+ Create Customer")))
    first = name.split()[0]
    values = {"first_name": "Newly", "last_name": first, "email": f"{first}@example.com"}
    fill_form(driver, {**values, "mobile": mobile})
    view = measure("hub: Create submit", lambda: updated(driver, driver.submit()))
    edited = rows(view)[0]
    measure("hub: open Edit form", lambda: push(row_menu(driver, view, edited, "Edit Contact")))
    driver.type("Renamed", into="Last name")
    view = measure("hub: Edit submit", lambda: updated(driver, driver.submit()))
    measure(
        "hub: Archive from row menu",
        lambda: updated(driver, row_menu(driver, view, rows(view)[-1], "Archive")),
    )
    view = updated(driver, driver.type(name, into="Search"))
    measure("details: open (Manage)", manage)
    for label in (*TABS, "Bookings"):
        measure(f"details: {label} tab", partial(go_to_tab, driver, label))
    measure(
        "details: Bookings next page",
        lambda: details_after(driver, driver.click("Next ▶"), "11–"),
    )
    measure(
        "details: Bookings search keystroke",
        lambda: details_after(driver, driver.type("pilates", into="customer_details.search")),
    )
    go_to_tab(driver, "Notes")
    measure("details: open Add Note form", lambda: push(driver.click("Add Note")))
    driver.type("Asked about the Saturday timetable.", into="Note")
    measure("details: Add Note submit", add_note)
    if driver.current_view("home") is not None:
        # Reopened the same day, Home keeps Customers: leave it on Today, as the first time.
        published(driver, driver.click("home.today", surface="home"))
    measure("App Home open (Today)", lambda: published(driver, driver.open_home()))
    measure(
        "App Home: Customers",
        lambda: published(driver, driver.click("home.customers", surface="home")),
    )
    return sent


def test_statements_per_interaction_do_not_grow_with_rows(world: World) -> None:
    driver = world.staff
    with statement_log(world.db.engine) as log:
        people = seed(world.db, numbered(SMALL_HUB))
        archive(world.db, *people[:2])
        (small,) = seed(world.db, [("Smalla", "Records")], mobile_start=500)
        _fill_history(world.db, small.uid, SMALL, key="small")
        few = _interactions(log, driver, "Smalla Records", "+44 7700 900998")
        driver.close()
        driver.close()

        more = [(f"Cust{i:03d}", "Test") for i in range(SMALL_HUB + 1, LARGE_HUB + 1)]
        people = seed(world.db, more, mobile_start=600)
        archive(world.db, *people[:2])
        (large,) = seed(world.db, [("Largo", "Records")], mobile_start=501)
        _fill_history(world.db, large.uid, LARGE, key="large")
        many = _interactions(log, driver, "Largo Records", "+44 7700 900999")

    assert set(many) == set(BUDGET)
    grew = {
        label: "\n  ".join(["", *statements])
        for label, statements in many.items()
        if len(statements) != len(few[label])
    }
    assert not grew, f"statements grew with the rows: {grew}"
    turn = TURN_STATEMENTS if world.db.dialect == "postgresql" else 0
    budget = {label: BUDGET[label] + (turn if label in REDRAWN else 0) for label in BUDGET}
    over = {
        label: f"{len(statements)} > {budget[label]}:" + "\n  ".join(["", *statements])
        for label, statements in many.items()
        if len(statements) > budget[label]
    }
    assert not over, f"over budget: {over}"
