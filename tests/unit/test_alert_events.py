"""Channel alerts in core: happenings recorded with their change, subscriptions admins only,
and a claimed happening naming only the channels asking for its kind and not paused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.actor import Actor
from core.db import Database
from core.errors import Forbidden
from core.models import AlertEvent
from core.services import alerts
from core.services.bookings import book_event, cancel_booking
from core.services.checkout import ManualPayment, PackagePayment
from core.services.customers import find_customer
from tests.unit.commerce_helpers import manual_pass, new_customers, open_shop

MON = "2026-03-16 07:00"
WED = "2026-03-18 07:00"


def recorded(db: Database) -> list[tuple[str, str]]:
    with db.unit_of_work(readonly=True) as uow:
        rows = uow.session.execute(select(AlertEvent.kind, AlertEvent.text).order_by(AlertEvent.id))
        return [(kind, text) for kind, text in rows]


def test_bookings_and_a_pass_down_to_its_last_credit_are_recorded(
    db: Database, staff: Actor
) -> None:
    shop = open_shop(db, staff)
    (uid,) = new_customers(db, staff)
    intro = manual_pass(db, staff, shop, uid, "intro")
    with db.unit_of_work() as uow:
        book_event(uow, staff, uid, shop.session("yoga", MON), PackagePayment(intro))
    assert [kind for kind, _ in recorded(db)] == ["booking_made"]
    with db.unit_of_work() as uow:
        booking = book_event(uow, staff, uid, shop.session("yoga", WED), PackagePayment(intro))
    kinds = [kind for kind, _ in recorded(db)]
    # Three credits, two used: the second use leaves one, "nearly used up".
    assert kinds[1:] == ["pass_low", "booking_made"]
    assert recorded(db)[1][1] == f"Pass #{intro} has 1 credit left: Person0 Test ({uid})"
    with db.unit_of_work() as uow:
        cancel_booking(uow, staff, booking.id)
    assert recorded(db)[-1][0] == "booking_cancelled"


def test_a_failed_booking_records_nothing(db: Database, staff: Actor) -> None:
    shop = open_shop(db, staff)
    (uid,) = new_customers(db, staff)

    def book_then_fail() -> None:
        with db.unit_of_work() as uow:
            book_event(uow, staff, uid, shop.session("yoga", MON), ManualPayment())
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):
        book_then_fail()
    assert recorded(db) == []


def test_only_admins_choose_alerts_and_paused_channels_are_left_out(
    db: Database, admin: Actor, staff: Actor
) -> None:
    # A customer first: the workspace's row is made with it.
    (uid,) = new_customers(db, admin)
    with db.unit_of_work() as uow, pytest.raises(Forbidden):
        alerts.set_channel_alerts(uow, staff, "CSTAFF", [alerts.REFUND])
    with db.unit_of_work() as uow:
        alerts.set_channel_alerts(uow, admin, "CONE", [alerts.CUSTOMER_CREATED, "not_a_kind"])
        alerts.set_channel_alerts(uow, admin, "CTWO", [alerts.CUSTOMER_CREATED])
        alerts.set_channel_alerts(uow, admin, "CREFUNDS", [alerts.REFUND])
    with db.unit_of_work() as uow:
        assert alerts.pause_channel(uow, admin.team_id, "CTWO", "a guest joined") == admin.user_id
        assert alerts.pause_channel(uow, admin.team_id, "CTWO", "again") is None
    with db.unit_of_work() as uow:
        alerts.record(uow, alerts.CUSTOMER_CREATED, find_customer(uow, admin, uid), "New customer")
    with db.unit_of_work() as uow:
        claimed = alerts.claim_next(uow)
    assert claimed is not None and claimed.channel_ids == ("CONE",)
    with db.unit_of_work() as uow:
        assert alerts.claim_next(uow) is None
        listed = alerts.list_channel_alerts(uow, admin)
    assert [(c.channel_id, c.kinds, c.paused) for c in listed] == [
        ("CONE", ("customer_created",), False),
        ("CTWO", ("customer_created",), True),
        ("CREFUNDS", ("refund",), False),
    ]
