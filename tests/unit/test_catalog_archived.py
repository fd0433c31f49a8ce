"""Archived services, facilitators, pass types and videos: kept on what uses them, offered for
nothing new, refused by a form submitted after the archiving; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import update

from core.actor import Actor
from core.db import Database
from core.errors import ValidationFailed
from core.models import AppointmentService, Facilitator, PassType, Video
from core.services.appointments import (
    book_appointment,
    cancel_appointment,
    facilitators_for,
    list_appointments,
    reschedule_appointment,
    service_options,
)
from core.services.checkout import ManualPayment
from core.services.passes import (
    assign_pass,
    extend_pass,
    list_passes,
    pass_type_options,
    usable_passes_on,
)
from core.services.videos import assign_video, extend_video, list_videos, video_options
from tests.unit.commerce_helpers import Shop, history_of, manual_pass, new_customers, open_shop

TEN = datetime(2026, 3, 16, 10, 0)
Archivable = type[AppointmentService] | type[Facilitator] | type[PassType] | type[Video]


@pytest.fixture
def shop(db: Database, staff: Actor) -> Shop:
    return open_shop(db, staff)


def _archive(db: Database, model: Archivable, row_id: int) -> None:
    with db.unit_of_work() as uow:
        uow.session.execute(update(model).where(model.id == row_id).values(archived=True))


def _book(db: Database, actor: Actor, shop: Shop, uid: str, service: str, facilitator: str) -> int:
    with db.unit_of_work() as uow:
        return book_appointment(
            uow,
            actor,
            uid,
            shop.services[service],
            shop.facilitators[facilitator],
            TEN,
            ManualPayment(),
        ).id


def test_an_archived_pass_type_is_not_offered_and_not_assigned(
    db: Database, staff: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    held = manual_pass(db, staff, shop, uid, "ten")
    _archive(db, PassType, shop.pass_types["ten"])
    with db.unit_of_work(readonly=True) as uow:
        assert [o.name for o in pass_type_options(uow, staff)] == ["Intro pass"]
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        assign_pass(uow, staff, uid, shop.pass_types["ten"], payment=ManualPayment())
    assert refused.value.errors == {
        "pass_type_id": "10-class pass is archived; choose another pass type."
    }
    # The pass sold before the archiving keeps its name, pays, and can still be extended.
    with db.unit_of_work() as uow:
        assert [p.name for p in list_passes(uow, staff, uid).rows] == ["10-class pass"]
        assert [p.id for p in usable_passes_on(uow, staff, uid, date(2026, 3, 16), 1)] == [held]
        extend_pass(uow, staff, held, date(2026, 12, 31))
    with db.unit_of_work(readonly=True) as uow:
        assert [e.action for e in history_of(uow, uid)] == ["pass assigned", "pass extended"]


def test_an_archived_video_is_not_offered_and_not_assigned(
    db: Database, staff: Actor, shop: Shop
) -> None:
    uid, other = new_customers(db, staff, 2)
    with db.unit_of_work() as uow:
        bought = assign_video(uow, staff, uid, shop.videos["runners"], payment=ManualPayment())
    _archive(db, Video, shop.videos["runners"])
    with db.unit_of_work(readonly=True) as uow:
        assert [o.title for o in video_options(uow, staff)] == ["Pilates Fundamentals"]
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        assign_video(uow, staff, other, shop.videos["runners"], payment=ManualPayment())
    assert refused.value.errors == {
        "video_id": "Yoga for Runners is archived; choose another video."
    }
    with db.unit_of_work() as uow:
        assert [v.title for v in list_videos(uow, staff, uid).rows] == ["Yoga for Runners"]
        extend_video(uow, staff, bought.id, extra_days=7)
    with db.unit_of_work(readonly=True) as uow:
        assert history_of(uow, other) == []


def test_an_archived_service_is_not_offered_and_not_booked(
    db: Database, staff: Actor, shop: Shop
) -> None:
    uid, other = new_customers(db, staff, 2)
    booked = _book(db, staff, shop, uid, "massage", "tom")
    _archive(db, AppointmentService, shop.services["massage"])
    with db.unit_of_work(readonly=True) as uow:
        assert [s.name for s in service_options(uow, staff)] == ["Physiotherapy Assessment"]
    with pytest.raises(ValidationFailed) as refused:
        _book(db, staff, shop, other, "massage", "priya")
    assert refused.value.errors == {
        "service_id": "Sports Massage is archived; choose another service."
    }
    # Already booked: it keeps its name and can still be moved and cancelled.
    with db.unit_of_work() as uow:
        moved = reschedule_appointment(uow, staff, booked, datetime(2026, 3, 17, 10, 0))
        assert (moved.service_name, moved.facilitator_name) == ("Sports Massage", "Tom Baker")
        cancel_appointment(uow, staff, booked)
    with db.unit_of_work(readonly=True) as uow:
        assert [a.service_name for a in list_appointments(uow, staff, uid).rows] == [
            "Sports Massage"
        ]
        assert history_of(uow, other) == []


def test_an_archived_facilitator_is_not_offered_and_not_booked(
    db: Database, staff: Actor, shop: Shop
) -> None:
    uid, other = new_customers(db, staff, 2)
    booked = _book(db, staff, shop, uid, "physio", "tom")
    _archive(db, Facilitator, shop.facilitators["tom"])
    with db.unit_of_work(readonly=True) as uow:
        assert [f.name for f in facilitators_for(uow, staff, shop.services["massage"])] == [
            "Priya Nair"
        ]
        assert facilitators_for(uow, staff, shop.services["physio"]) == []
    with pytest.raises(ValidationFailed) as refused:
        _book(db, staff, shop, other, "massage", "tom")
    assert refused.value.errors == {
        "facilitator_id": "Tom Baker is archived; choose another facilitator."
    }
    _book(db, staff, shop, other, "massage", "priya")
    with db.unit_of_work() as uow:
        moved = reschedule_appointment(uow, staff, booked, datetime(2026, 3, 18, 10, 0))
    assert moved.facilitator_name == "Tom Baker"
