"""The details page's list tabs on SQLite and PostgreSQL: paging, order, search, tenancy, cost."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from core.actor import Actor
from core.db import Database, UnitOfWork
from core.errors import NotFound
from core.models import (
    AppointmentState,
    BookingState,
    Customer,
    EventOccurrence,
    PassState,
    PaymentMethod,
    RefundState,
    SubscriptionState,
    VideoState,
)
from core.services.appointments import list_appointments
from core.services.bookings import list_bookings
from core.services.paging import MAX_PAGE_SIZE, Page
from core.services.passes import list_passes
from core.services.subscriptions import list_subscriptions
from core.services.videos import list_videos
from tests.conftest import MutableClock
from tests.unit import history_rows as rows
from tests.unit.history_rows import Shop

Lister = Callable[..., Page[Any]]
Maker = Callable[[UnitOfWork, Shop, Customer, datetime], Any]


@dataclass(frozen=True)
class Tab:
    name: str
    lister: Lister
    # The row attribute the tab is ordered by.
    when: str
    make: Maker
    # A query naming the catalog row `make_other` uses, and not the one `make` uses.
    query: str
    make_other: Maker

    def __str__(self) -> str:
        return self.name


TABS = [
    Tab(
        "bookings",
        list_bookings,
        "booked_at",
        lambda u, s, c, at: rows.booking(u, s, c, at),
        "CAFÉ barre",
        lambda u, s, c, at: rows.booking(u, s, c, at, event="barre"),
    ),
    Tab(
        "appointments",
        list_appointments,
        "booked_at",
        lambda u, s, c, at: rows.appointment(u, s, c, at),
        "jorg weiss",
        lambda u, s, c, at: rows.appointment(u, s, c, at, facilitator="jorg"),
    ),
    Tab(
        "passes",
        list_passes,
        "purchased_at",
        lambda u, s, c, at: rows.pass_(u, s, c, at),
        "intro",
        lambda u, s, c, at: rows.pass_(u, s, c, at, kind="intro"),
    ),
    Tab(
        "videos",
        list_videos,
        "purchased_at",
        lambda u, s, c, at: rows.video(u, s, c, at),
        "etirements",
        lambda u, s, c, at: rows.video(u, s, c, at, title="etirements"),
    ),
    Tab(
        "subscriptions",
        list_subscriptions,
        "created_at",
        lambda u, s, c, at: rows.subscription(u, s, c, at),
        "WEEKLY",
        lambda u, s, c, at: rows.subscription(u, s, c, at, plan="weekly"),
    ),
]
tabs = pytest.mark.parametrize("tab", TABS, ids=str)


def _fill(db: Database, actor: Actor, clock: MutableClock, make: Maker, count: int) -> str:
    """A customer with `count` rows made an hour apart, inserted in shuffled order; their UID."""
    offsets = list(range(count))
    random.Random(count).shuffle(offsets)
    with db.unit_of_work() as uow:
        shop = rows.shop(uow, actor.team_id, clock())
        owner = rows.customer(uow, actor)
        for hours in offsets:
            make(uow, shop, owner, clock() - timedelta(hours=hours))
        return owner.uid


def _list(db: Database, actor: Actor, tab: Tab, uid: str, **kwargs: Any) -> Page[Any]:
    with db.unit_of_work(readonly=True) as uow:
        return tab.lister(uow, actor, uid, **kwargs)


@contextmanager
def _statements(db: Database, uow: UnitOfWork) -> Iterator[list[str]]:
    """Every SQL statement sent while the block runs, the transaction already begun."""
    uow.session.execute(select(1))
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@tabs
def test_pages_are_newest_first_and_clamped(
    db: Database, staff: Actor, clock: MutableClock, tab: Tab
) -> None:
    uid = _fill(db, staff, clock, tab.make, 25)
    newest = [clock() - timedelta(hours=h) for h in range(25)]

    second = _list(db, staff, tab, uid, page=2, page_size=10)
    assert (second.total, second.page, second.pages) == (25, 2, 3)
    assert [getattr(r, tab.when) for r in second.rows] == newest[10:20]
    assert (second.first_index, second.last_index) == (11, 20)

    last = _list(db, staff, tab, uid, page=3, page_size=10)
    assert [getattr(r, tab.when) for r in last.rows] == newest[20:]
    beyond = _list(db, staff, tab, uid, page=99, page_size=10)
    assert beyond.page == 3 and beyond.rows == last.rows
    before = _list(db, staff, tab, uid, page=0, page_size=0)
    assert (before.page, before.page_size, len(before.rows)) == (1, 1, 1)
    everything = _list(db, staff, tab, uid, page_size=10_000)
    assert everything.page_size == MAX_PAGE_SIZE
    assert [getattr(r, tab.when) for r in everything.rows] == newest


@tabs
def test_rows_made_at_the_same_moment_are_newest_id_first(
    db: Database, staff: Actor, clock: MutableClock, tab: Tab
) -> None:
    with db.unit_of_work() as uow:
        shop = rows.shop(uow, staff.team_id, clock())
        owner = rows.customer(uow, staff)
        made = [tab.make(uow, shop, owner, clock()).id for _ in range(3)]
    page = _list(db, staff, tab, owner.uid)
    assert [r.id for r in page.rows] == sorted(made, reverse=True)


@tabs
def test_an_empty_history_is_page_one_of_one(
    db: Database, staff: Actor, clock: MutableClock, tab: Tab
) -> None:
    uid = _fill(db, staff, clock, tab.make, 0)
    page = _list(db, staff, tab, uid, page=5)
    assert (page.rows, page.total, page.page, page.pages) == ([], 0, 1, 1)


@tabs
def test_search_folds_case_and_accents_and_any_word_order(
    db: Database, staff: Actor, clock: MutableClock, tab: Tab
) -> None:
    with db.unit_of_work() as uow:
        shop = rows.shop(uow, staff.team_id, clock())
        owner = rows.customer(uow, staff)
        for hours in range(3):
            tab.make(uow, shop, owner, clock() - timedelta(hours=hours))
        wanted = [tab.make_other(uow, shop, owner, clock() - timedelta(days=d)).id for d in (1, 2)]
    reversed_words = " ".join(reversed(tab.query.split()))
    for query in (tab.query, tab.query.lower(), f"  {reversed_words}  "):
        page = _list(db, staff, tab, owner.uid, query=query)
        assert [r.id for r in page.rows] == wanted, query
        assert page.total == 2
    nothing = _list(db, staff, tab, owner.uid, query="zumba")
    assert (nothing.rows, nothing.total, nothing.page) == ([], 0, 1)


@tabs
def test_search_by_id_with_or_without_hash(
    db: Database, staff: Actor, clock: MutableClock, tab: Tab
) -> None:
    with db.unit_of_work() as uow:
        shop = rows.shop(uow, staff.team_id, clock())
        owner = rows.customer(uow, staff)
        made = [tab.make(uow, shop, owner, clock() - timedelta(hours=h)).id for h in range(4)]
    target = made[2]
    for query in (f"#{target}", f"# {target}", str(target), f" {target} "):
        page = _list(db, staff, tab, owner.uid, query=query)
        assert [r.id for r in page.rows] == [target], query
    assert _list(db, staff, tab, owner.uid, query=f"#{max(made) + 1000}").total == 0


def test_a_bare_number_also_matches_names_containing_it(
    db: Database, staff: Actor, clock: MutableClock
) -> None:
    with db.unit_of_work() as uow:
        shop = rows.shop(uow, staff.team_id, clock())
        owner = rows.customer(uow, staff)
        rows.pass_(uow, shop, owner, clock() - timedelta(days=1), id=500)
        rows.pass_(uow, shop, owner, clock(), kind="intro", id=10)

    def found(query: str) -> list[int]:
        return [r.id for r in _list(db, staff, TABS[2], owner.uid, query=query).rows]

    assert found("10") == [10, 500]  # pass #10, and the "10-class pass"
    assert found("#10") == [10]
    assert found("500") == [500]
    assert found("#11") == []


@tabs
def test_another_tenants_customer_is_not_found(
    db: Database, staff: Actor, other_tenant: Actor, clock: MutableClock, tab: Tab
) -> None:
    uid = _fill(db, staff, clock, tab.make, 2)
    for query in ("", "yoga", "#1"):
        with pytest.raises(NotFound, match=uid):
            _list(db, other_tenant, tab, uid, query=query)
    with pytest.raises(NotFound):
        _list(db, staff, tab, "NOSUCHUID000")


@tabs
def test_another_tenants_catalog_never_matches(
    db: Database, staff: Actor, other_tenant: Actor, clock: MutableClock, tab: Tab
) -> None:
    """Their catalog has the same names: only our own catalog rows are candidates."""
    uid = _fill(db, staff, clock, tab.make, 2)
    with db.unit_of_work() as uow:
        theirs = rows.shop(uow, other_tenant.team_id, clock())
        stranger = rows.customer(uow, other_tenant)
        tab.make_other(uow, theirs, stranger, clock())
    assert _list(db, other_tenant, tab, stranger.uid, query=tab.query).total == 1
    assert _list(db, staff, tab, uid, query=tab.query).total == 0


@tabs
def test_one_lookup_then_the_page_with_its_count_however_many_rows(
    db: Database, staff: Actor, clock: MutableClock, tab: Tab
) -> None:
    """A page comes with its count in one statement; a page past the end (a stale Next) needs
    the count and then the last page."""
    counts: dict[int, set[int]] = {1: set(), 99: set()}
    for size in (3, 40):
        clock.advance(days=1)
        uid = _fill(db, staff, clock, tab.make, size)
        for query in ("", tab.query, "#1", "1"):
            for page in counts:
                with db.unit_of_work(readonly=True) as uow, _statements(db, uow) as sent:
                    tab.lister(uow, staff, uid, query=query, page=page, page_size=5)
                counts[page].add(len(sent))
    assert counts == {1: {2}, 99: {4}}


def test_a_booking_row_has_the_occurrence_payment_and_refund(
    db: Database, staff: Actor, clock: MutableClock
) -> None:
    starts = datetime(2026, 7, 4, 8, 0, tzinfo=clock().tzinfo)
    with db.unit_of_work() as uow:
        shop = rows.shop(uow, staff.team_id, starts)
        owner = rows.customer(uow, staff)
        refunded = rows.booking(
            uow,
            shop,
            owner,
            clock(),
            event="barre",
            stripe_payment_intent_id="pi_3Refunded",
            refunded_minor=600,
            refund_state=RefundState.PARTIAL,
        )
        package = rows.booking(
            uow,
            shop,
            owner,
            clock() - timedelta(days=1),
            price_minor=None,
            credits=1,
            state=BookingState.PACKAGE,
            payment_method=PaymentMethod.PACKAGE,
            stripe_payment_intent_id=None,
        )
    first, second = _list(db, staff, TABS[0], owner.uid).rows
    assert first.id == refunded.id
    assert (first.event_name, first.starts_at, first.timezone, first.duration_minutes) == (
        "Café Barre",
        starts,
        "Europe/Paris",
        55,
    )
    assert (first.price_minor, first.credits, first.currency) == (1200, None, "GBP")
    assert (first.state, first.payment_method) == (BookingState.COMPLETED, PaymentMethod.STRIPE)
    assert first.stripe_payment_intent_id == "pi_3Refunded"
    assert (first.refunded_minor, first.refund_state) == (600, RefundState.PARTIAL)
    assert second.id == package.id
    assert (second.price_minor, second.credits, second.state) == (None, 1, BookingState.PACKAGE)
    assert (second.refunded_minor, second.refund_state) == (0, RefundState.NONE)


def test_video_state_is_computed_when_listed(
    db: Database, staff: Actor, clock: MutableClock
) -> None:
    with db.unit_of_work() as uow:
        shop = rows.shop(uow, staff.team_id, clock())
        owner = rows.customer(uow, staff)
        forever = rows.video(uow, shop, owner, clock() - timedelta(days=400), title="etirements")
        week = rows.video(uow, shop, owner, clock(), expires_at=clock() + timedelta(days=7))
        gone = rows.video(
            uow,
            shop,
            owner,
            clock() - timedelta(days=1),
            expires_at=clock() + timedelta(days=30),
            cancelled_at=clock(),
            credits=1,
            price_minor=None,
            payment_method=PaymentMethod.PACKAGE,
        )

    def states() -> dict[int, VideoState]:
        return {r.id: r.state for r in _list(db, staff, TABS[3], owner.uid).rows}

    assert states() == {
        week.id: VideoState.ACTIVE,
        gone.id: VideoState.CANCELLED,
        forever.id: VideoState.ACTIVE,
    }
    clock.advance(days=7)
    # Exactly at the expiry instant access has ended.
    assert states()[week.id] is VideoState.EXPIRED
    clock.advance(days=100)
    assert states() == {
        week.id: VideoState.EXPIRED,
        gone.id: VideoState.CANCELLED,
        forever.id: VideoState.ACTIVE,
    }
    row = next(r for r in _list(db, staff, TABS[3], owner.uid).rows if r.id == week.id)
    assert (row.title, row.expires_at, row.price_minor) == (
        "Yoga for Runners",
        clock() - timedelta(days=100),
        800,
    )


def test_appointment_pass_and_subscription_rows(
    db: Database, staff: Actor, clock: MutableClock
) -> None:
    now = clock()
    with db.unit_of_work() as uow:
        shop = rows.shop(uow, staff.team_id, now)
        owner = rows.customer(uow, staff)
        appointment = rows.appointment(
            uow,
            shop,
            owner,
            now,
            service="nutrition",
            facilitator="jorg",
            duration_minutes=90,
            state=AppointmentState.CANCELLED,
            cancelled_at=now,
        )
        manual = rows.pass_(
            uow,
            shop,
            owner,
            now,
            kind="intro",
            credits_total=3,
            credits_remaining=1,
            price_minor=0,
            state=PassState.MANUAL,
            payment_method=PaymentMethod.MANUAL,
            stripe_payment_intent_id=None,
        )
        paused = rows.subscription(
            uow,
            shop,
            owner,
            now,
            plan="weekly",
            state=SubscriptionState.PAUSED,
            next_payment_at=None,
        )
    (a,) = _list(db, staff, TABS[1], owner.uid).rows
    assert (a.id, a.service_name, a.facilitator_name) == (
        appointment.id,
        "Nutrition Consultation",
        "Jörg Weiß",
    )
    assert (a.booked_at, a.starts_at, a.duration_minutes) == (now, now + timedelta(days=7), 90)
    assert (a.state, a.payment_method, a.price_minor) == (
        AppointmentState.CANCELLED,
        PaymentMethod.MANUAL,
        5500,
    )
    (p,) = _list(db, staff, TABS[2], owner.uid).rows
    assert (p.id, p.name, p.credits_total, p.credits_remaining, p.state) == (
        manual.id,
        "Intro pass",
        3,
        1,
        PassState.MANUAL,
    )
    assert (p.valid_from, p.valid_to) == (now.date(), now.date() + timedelta(days=89))
    (s,) = _list(db, staff, TABS[4], owner.uid).rows
    assert (s.id, s.plan_name, s.interval, s.price_minor) == (
        paused.id,
        "Online Weekly",
        "week",
        8900,
    )
    assert (s.state, s.next_payment_at) == (SubscriptionState.PAUSED, None)
    assert s.stripe_subscription_id is not None and s.stripe_subscription_id.startswith("sub_")


def test_bookings_show_sessions_to_come_soonest_first_then_past_ones_latest_first(
    db: Database, admin: Actor, clock: MutableClock
) -> None:
    now = clock()
    with db.unit_of_work() as uow:
        shop = rows.shop(uow, admin.team_id, now)
        owner = rows.customer(uow, admin)
        yoga = uow.session.get(EventOccurrence, shop.occurrences["yoga"])
        assert yoga is not None
        made = {}
        # Booked in an order that matches neither rule, so only the rule can sort them.
        for label, days, booked_days_ago in [
            ("past, latest", -7, 1),
            ("next week", 7, 2),
            ("past, earliest", -14, 3),
            ("tomorrow", 1, 30),
        ]:
            session = EventOccurrence(
                team_id=admin.team_id,
                event_id=yoga.event_id,
                starts_at=now + timedelta(days=days),
                duration_minutes=60,
                timezone=yoga.timezone,
                capacity=10,
                price_minor=1200,
            )
            uow.session.add(session)
            uow.session.flush()
            booking = rows.booking(uow, shop, owner, now - timedelta(days=booked_days_ago))
            booking.occurrence_id = session.id
            made[booking.id] = label
        uow.session.flush()
        uid = owner.uid

    page = _list(db, admin, TABS[0], uid)

    assert [made[row.id] for row in page.rows] == [
        "tomorrow",
        "next week",
        "past, latest",
        "past, earliest",
    ]
