"""The floor's details-tab switch (bench/_floor_details.py) shows exactly the product's view."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select, update

from bench._floor_details import DetailsFloor
from bot.context.deps import Deps
from bot.context.request import Request
from bot.surfaces.customer_details import details_or_gone
from bot.views.origin import Tab
from bot.views.tabs import DetailsMeta
from core.actor import Actor
from core.db import Database
from core.demo.customers import load_demo_customers, load_demo_history
from core.models import Booking, Customer, Relation, Workspace
from core.services.household import link_customers
from core.services.settings import studio_settings
from core.services.tags import set_customer_tags
from tests.conftest import MutableClock, make_settings

CUSTOMERS = 40


def _views(db: Database, clock: MutableClock, admin: Actor, uid: str) -> list[tuple[Any, Any]]:
    """(product, floor) views of customer `uid` on each tab."""
    settings = make_settings(
        db.url,
        slack_bot_token="xoxb-floor-test",
        slack_signing_secret="floor-test-signing-secret",
        public_base_url="https://records.example.test",
    )
    with db.unit_of_work(readonly=True) as uow:
        studio = studio_settings(uow, admin.team_id)
    request = Request(Deps(db=db, settings=settings), admin, WebClient(), studio)
    floor = DetailsFloor(db.engine, settings, clock=clock)
    pairs = []
    for tab in Tab:
        meta = DetailsMeta(uid=uid).showing(tab)
        pairs.append((details_or_gone(request, meta), floor.view(admin.team_id, meta)))
    return pairs


@pytest.fixture
def demo(db: Database, admin: Actor) -> list[str]:
    """Demo customers with a year of history; the busiest gets tags and a household."""
    with db.unit_of_work() as uow:
        load_demo_customers(uow, admin.team_id, CUSTOMERS, seed=7)
    with db.unit_of_work() as uow:
        load_demo_history(uow, admin.team_id, customers_limit=CUSTOMERS, seed=7)
    with db.unit_of_work() as uow:
        busiest = uow.session.execute(
            select(Customer.uid)
            .join(Booking, Booking.customer_id == Customer.id)
            .group_by(Customer.uid)
            .order_by(func.count().desc(), Customer.uid)
            .limit(3)
        ).scalars()
        uids = list(busiest)
        others = uow.session.scalars(
            select(Customer.uid).where(Customer.uid.not_in(uids)).order_by(Customer.id).limit(2)
        ).all()
        set_customer_tags(uow, admin, uids[0], ["VIP", "mornings", "Zeta"])
        link_customers(uow, admin, uids[0], others[0], Relation.PARENT)
        link_customers(uow, admin, others[1], uids[0], Relation.PARTNER)
    return uids


def test_every_tab_is_the_products_view(
    db: Database, clock: MutableClock, admin: Actor, demo: list[str]
) -> None:
    for uid in demo:
        for product, floor in _views(db, clock, admin, uid):
            assert floor == product
    # The busiest customer's Bookings tab, as the floor drew it, has every part to compare.
    bookings = json.dumps(_views(db, clock, admin, demo[0])[0][1])
    for part in ('"block_id": "booking_', "Parent of", "`VIP`", "/charts/", "*Lifetime spend*"):
        assert part in bookings


def test_a_workspace_in_another_time_zone_counts_its_own_months(
    db: Database, clock: MutableClock, admin: Actor, demo: list[str]
) -> None:
    # Half an hour off UTC, so a month's first instant is none of the default zone's.
    with db.unit_of_work() as uow:
        uow.session.execute(update(Workspace).values(timezone="America/St_Johns"))
    for product, floor in _views(db, clock, admin, demo[0]):
        assert floor == product


def test_an_unknown_customer_is_gone_as_in_the_product(
    db: Database, clock: MutableClock, admin: Actor, demo: list[str]
) -> None:
    for product, floor in _views(db, clock, admin, "NOSUCHUID")[:1]:
        assert floor == product
