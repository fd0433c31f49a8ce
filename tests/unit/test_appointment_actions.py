"""Book Appointment, Reschedule and Cancel on SQLite and PostgreSQL: diary, time zone, payment."""

from __future__ import annotations

from datetime import datetime

import pytest

from core.actor import Actor
from core.db import Database
from core.errors import Conflict, DomainError, NotFound, ValidationFailed
from core.models import AppointmentState, PaymentMethod
from core.services.appointments import (
    book_appointment,
    cancel_appointment,
    facilitators_for,
    list_appointments,
    reschedule_appointment,
    service_options,
)
from core.services.bookings import book_event
from core.services.checkout import ManualPayment, PackagePayment, PaymentChoice, StripePayment
from core.services.customers import archive_customer
from tests.unit.commerce_helpers import (
    FakeStripeGateway,
    Shop,
    assert_credits_conserved,
    history_of,
    london,
    manual_pass,
    new_customers,
    open_shop,
)

TEN = datetime(2026, 3, 16, 10, 0)


@pytest.fixture
def shop(db: Database, staff: Actor) -> Shop:
    return open_shop(db, staff)


def _book(
    db: Database,
    actor: Actor,
    shop: Shop,
    uid: str,
    at: datetime,
    *,
    service: str = "massage",
    facilitator: str = "tom",
    payment: PaymentChoice | None = None,
) -> int:
    with db.unit_of_work() as uow:
        return book_appointment(
            uow,
            actor,
            uid,
            shop.services[service],
            shop.facilitators[facilitator],
            at,
            payment or ManualPayment(),
        ).id


def test_services_and_the_facilitators_who_give_them(
    db: Database, staff: Actor, shop: Shop
) -> None:
    with db.unit_of_work(readonly=True) as uow:
        options = service_options(uow, staff)
        assert [(s.name, s.duration_minutes, s.price_minor, s.credit_price) for s in options] == [
            ("Physiotherapy Assessment", 30, 3500, 2),
            ("Sports Massage", 60, 5500, 3),
        ]
        names = [f.name for f in facilitators_for(uow, staff, shop.services["massage"])]
        assert names == ["Priya Nair", "Tom Baker"]
        assert [f.name for f in facilitators_for(uow, staff, shop.services["physio"])] == [
            "Tom Baker"
        ]
        with pytest.raises(NotFound):
            facilitators_for(uow, staff, 999_999)


def test_an_appointment_takes_its_length_and_price_from_the_service(
    db: Database, staff: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    with db.unit_of_work() as uow:
        row = book_appointment(
            uow,
            staff,
            uid,
            shop.services["massage"],
            shop.facilitators["tom"],
            TEN,
            ManualPayment(),
        )
    assert (row.service_name, row.facilitator_name, row.starts_at, row.duration_minutes) == (
        "Sports Massage",
        "Tom Baker",
        london("2026-03-16 10:00"),
        60,
    )
    assert (row.price_minor, row.credits, row.payment_method, row.state) == (
        5500,
        None,
        PaymentMethod.MANUAL,
        AppointmentState.SCHEDULED,
    )
    with db.unit_of_work(readonly=True) as uow:
        entry = history_of(uow, uid)[-1]
        assert (entry.action, entry.detail) == (
            "appointment booked",
            "booked Sports Massage with Tom Baker on 16 Mar 2026, 10:00 GMT for 1 h "
            f"(£55.00, paid manually), appointment #{row.id}",
        )
        assert list_appointments(uow, staff, uid).rows == [row]


def test_local_times_follow_the_business_time_zone_and_dst_gaps_are_refused(
    db: Database, staff: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    summer = _book(db, staff, shop, uid, datetime(2026, 4, 2, 10, 0))
    with db.unit_of_work(readonly=True) as uow:
        (row,) = [r for r in list_appointments(uow, staff, uid).rows if r.id == summer]
        assert (
            row.starts_at
            == london("2026-04-02 10:00")
            == datetime.fromisoformat("2026-04-02T09:00+00:00")
        )
    for local, text in (
        (datetime(2026, 3, 29, 1, 30), "01:30 on 29 Mar 2026 does not exist in Europe/London"),
        (datetime(2026, 10, 25, 1, 30), "01:30 on 25 Oct 2026 happens twice in Europe/London"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            _book(db, staff, shop, uid, local)
        assert text in refused.value.errors["starts_at"]


def test_refusals_past_time_wrong_facilitator_unknown_rows_and_archived_customers(
    db: Database, staff: Actor, shop: Shop
) -> None:
    uid, archived = new_customers(db, staff, 2)
    with db.unit_of_work() as uow:
        archive_customer(uow, staff, archived)
    with pytest.raises(ValidationFailed) as refused:
        _book(db, staff, shop, uid, datetime(2026, 3, 14, 9, 0))
    assert "14 Mar 2026, 09:00 GMT is in the past" in refused.value.errors["starts_at"]
    with pytest.raises(ValidationFailed) as refused:
        _book(db, staff, shop, uid, TEN, service="physio", facilitator="priya")
    assert refused.value.errors["facilitator_id"] == (
        "Priya Nair does not give Physiotherapy Assessment; choose another."
    )
    with pytest.raises(DomainError, match="is archived"):
        _book(db, staff, shop, archived, TEN)
    with db.unit_of_work() as uow, pytest.raises(NotFound):
        book_appointment(uow, staff, uid, shop.services["massage"], 999_999, TEN, ManualPayment())
    with db.unit_of_work() as uow, pytest.raises(NotFound):
        book_appointment(uow, staff, uid, 999_999, shop.facilitators["tom"], TEN, ManualPayment())


def test_a_facilitator_is_never_double_booked(db: Database, staff: Actor, shop: Shop) -> None:
    a, b = new_customers(db, staff, 2)
    first = _book(db, staff, shop, a, TEN)
    for clash in (datetime(2026, 3, 16, 10, 30), datetime(2026, 3, 16, 9, 45), TEN):
        with pytest.raises(DomainError) as refused:
            _book(db, staff, shop, b, clash, service="physio")
        assert refused.value.message == (
            "Tom Baker already has an appointment on 16 Mar 2026, 10:00 GMT for 1 h; "
            "choose another time or facilitator."
        )
    # Back to back is fine, and so is another facilitator at the same time.
    _book(db, staff, shop, b, datetime(2026, 3, 16, 9, 30), service="physio")
    _book(db, staff, shop, b, datetime(2026, 3, 16, 11, 0), service="physio")
    _book(db, staff, shop, b, TEN, facilitator="priya")
    with db.unit_of_work() as uow:
        cancel_appointment(uow, staff, first)
    _book(db, staff, shop, b, datetime(2026, 3, 16, 10, 15), service="physio")


def test_pass_credits_pay_and_come_back_on_cancel(db: Database, staff: Actor, shop: Shop) -> None:
    (uid,) = new_customers(db, staff)
    pass_id = manual_pass(db, staff, shop, uid)
    appointment = _book(db, staff, shop, uid, TEN, payment=PackagePayment(pass_id))
    held = assert_credits_conserved(db, pass_id)
    assert held.credits_remaining == 7
    with db.unit_of_work(readonly=True) as uow:
        row = list_appointments(uow, staff, uid).rows[0]
        assert (row.credits, row.price_minor, row.payment_method) == (
            3,
            None,
            PaymentMethod.PACKAGE,
        )
        assert f"(3 CR from 10-class pass #{pass_id})" in history_of(uow, uid)[-1].detail
    with db.unit_of_work() as uow:
        cancelled = cancel_appointment(uow, staff, appointment)
    assert cancelled.state is AppointmentState.CANCELLED
    assert assert_credits_conserved(db, pass_id).credits_remaining == 10
    with db.unit_of_work(readonly=True) as uow:
        entry = history_of(uow, uid)[-1]
        assert entry.action == "appointment cancelled"
        assert entry.detail == (
            f"cancelled appointment #{appointment}, Sports Massage with Tom Baker on "
            f"16 Mar 2026, 10:00 GMT; 3 CR returned to 10-class pass #{pass_id}"
        )
    with db.unit_of_work() as uow, pytest.raises(DomainError, match="is cancelled"):
        cancel_appointment(uow, staff, appointment)


def test_a_pass_not_valid_on_the_day_cannot_pay(db: Database, staff: Actor, shop: Shop) -> None:
    (uid,) = new_customers(db, staff)
    intro = manual_pass(db, staff, shop, uid, "intro")
    with pytest.raises(ValidationFailed) as refused:
        _book(db, staff, shop, uid, datetime(2026, 4, 2, 10, 0), payment=PackagePayment(intro))
    assert "not on 2 Apr 2026" in refused.value.errors["pass_id"]
    assert assert_credits_conserved(db, intro).credits_remaining == 3


def test_a_stripe_payment_pays_once(db: Database, staff: Actor, shop: Shop) -> None:
    a, b = new_customers(db, staff, 2)
    stripe = FakeStripeGateway()
    intent = stripe.add("pi_Massage", 5500)
    with db.unit_of_work() as uow:
        row = book_appointment(
            uow,
            staff,
            a,
            shop.services["massage"],
            shop.facilitators["tom"],
            TEN,
            StripePayment(intent),
            gateway=stripe,
        )
    assert (row.price_minor, row.payment_method) == (5500, PaymentMethod.STRIPE)
    with db.unit_of_work() as uow, pytest.raises(Conflict) as refused:
        book_event(
            uow,
            staff,
            b,
            shop.session("yoga", "2026-03-16 07:00"),
            StripePayment(intent),
            gateway=stripe,
        )
    assert f"{intent} already pays for appointment #{row.id} (Sports Massage) of Person0 Test" in (
        refused.value.message
    )


def test_reschedule_moves_the_time_and_keeps_the_diary_free_of_clashes(
    db: Database, staff: Actor, shop: Shop
) -> None:
    a, b = new_customers(db, staff, 2)
    moving = _book(db, staff, shop, a, TEN)
    _book(db, staff, shop, b, datetime(2026, 3, 16, 12, 0))
    with db.unit_of_work() as uow:
        # Overlapping its own old slot is fine.
        row = reschedule_appointment(uow, staff, moving, datetime(2026, 3, 16, 10, 30))
    assert (row.starts_at, row.duration_minutes) == (london("2026-03-16 10:30"), 60)
    with db.unit_of_work(readonly=True) as uow:
        entry = history_of(uow, a)[-1]
        before = "Sports Massage with Tom Baker on 16 Mar 2026, 10:00 GMT for 1 h"
        after = "Sports Massage with Tom Baker on 16 Mar 2026, 10:30 GMT for 1 h"
        assert (entry.action, entry.changes) == (
            "appointment rescheduled",
            {"when": [before, after]},
        )
        assert entry.detail == f"rescheduled appointment #{moving} from {before} to {after}"
    cases: list[tuple[datetime, type[DomainError], str]] = [
        (datetime(2026, 3, 16, 10, 30), ValidationFailed, "That is its current time"),
        (datetime(2026, 3, 16, 11, 30), DomainError, "Tom Baker already has an appointment"),
        (datetime(2026, 3, 13, 10, 0), ValidationFailed, "is in the past"),
        (datetime(2026, 3, 29, 1, 15), ValidationFailed, "does not exist in Europe/London"),
    ]
    for when, error, text in cases:
        with db.unit_of_work() as uow, pytest.raises(error) as refused:
            reschedule_appointment(uow, staff, moving, when)
        assert text in refused.value.message
    with db.unit_of_work() as uow:
        cancel_appointment(uow, staff, moving)
    with db.unit_of_work() as uow, pytest.raises(DomainError, match="is cancelled"):
        reschedule_appointment(uow, staff, moving, datetime(2026, 3, 17, 10, 0))


def test_reschedule_checks_the_paying_pass_on_the_new_day(
    db: Database, staff: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    intro = manual_pass(db, staff, shop, uid, "intro")
    appointment = _book(db, staff, shop, uid, TEN, service="physio", payment=PackagePayment(intro))
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed, match="not on 2 Apr 2026"):
        reschedule_appointment(uow, staff, appointment, datetime(2026, 4, 2, 10, 0))
    with db.unit_of_work() as uow:
        reschedule_appointment(uow, staff, appointment, datetime(2026, 3, 20, 10, 0))
    assert assert_credits_conserved(db, intro).credits_remaining == 1


def test_another_workspace_cannot_touch_an_appointment(
    db: Database, staff: Actor, other_tenant: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    appointment = _book(db, staff, shop, uid, TEN)
    with db.unit_of_work() as uow, pytest.raises(NotFound):
        cancel_appointment(uow, other_tenant, appointment)
    with db.unit_of_work() as uow, pytest.raises(NotFound):
        reschedule_appointment(uow, other_tenant, appointment, datetime(2026, 3, 17, 10, 0))
