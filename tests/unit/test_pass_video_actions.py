"""Assign Pass (adjust credits, extend, cancel) and Assign Video (extend, cancel), on both DBs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core.actor import Actor
from core.db import Database
from core.errors import Conflict, DomainError, NotFound, ValidationFailed
from core.models import PassState, PaymentMethod, VideoState
from core.services.bookings import book_event
from core.services.checkout import ManualPayment, PackagePayment, StripePayment
from core.services.customers import archive_customer
from core.services.passes import (
    adjust_pass_credits,
    assign_pass,
    cancel_pass,
    extend_pass,
    list_passes,
    pass_type_options,
)
from core.services.videos import (
    assign_video,
    cancel_video,
    extend_video,
    list_videos,
    video_options,
)
from tests.conftest import MutableClock
from tests.unit.commerce_helpers import (
    FakeStripeGateway,
    Shop,
    assert_credits_conserved,
    history_of,
    manual_pass,
    new_customers,
    open_shop,
)

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


@pytest.fixture
def shop(db: Database, staff: Actor) -> Shop:
    return open_shop(db, staff)


def _video(db: Database, actor: Actor, shop: Shop, uid: str, key: str = "runners") -> int:
    with db.unit_of_work() as uow:
        return assign_video(uow, actor, uid, shop.videos[key], payment=ManualPayment()).id


# -- passes ---------------------------------------------------------------------------------


def test_pass_types_to_choose_from(db: Database, staff: Actor, shop: Shop) -> None:
    with db.unit_of_work(readonly=True) as uow:
        assert [
            (o.name, o.credits, o.validity_days, o.price_minor, o.currency)
            for o in pass_type_options(uow, staff)
        ] == [("10-class pass", 10, 90, 10000, "GBP"), ("Intro pass", 3, 14, 2500, "GBP")]


def test_an_assigned_pass_takes_credits_and_dates_from_its_type(
    db: Database, staff: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    with db.unit_of_work() as uow:
        row = assign_pass(uow, staff, uid, shop.pass_types["ten"], payment=ManualPayment())
    assert (row.name, row.valid_from, row.valid_to) == (
        "10-class pass",
        date(2026, 3, 14),
        date(2026, 6, 11),
    )
    assert (row.credits_total, row.credits_remaining, row.price_minor) == (10, 10, 10000)
    assert (row.state, row.payment_method, row.purchased_at) == (
        PassState.MANUAL,
        PaymentMethod.MANUAL,
        NOW,
    )
    with db.unit_of_work() as uow:
        free = assign_pass(
            uow,
            staff,
            uid,
            shop.pass_types["intro"],
            valid_from=date(2026, 4, 1),
            payment=ManualPayment(0),
        )
    assert (free.valid_from, free.valid_to, free.price_minor) == (
        date(2026, 4, 1),
        date(2026, 4, 14),
        0,
    )
    with db.unit_of_work(readonly=True) as uow:
        entries = history_of(uow, uid)
        assert [e.action for e in entries] == ["pass assigned", "pass assigned"]
        assert entries[0].detail == (
            f"assigned 10-class pass #{row.id}: 10 CR, valid 14 Mar 2026 to 11 Jun 2026 "
            "(£100.00, paid manually)"
        )
        assert entries[1].detail.endswith("(free)")
        assert [p.id for p in list_passes(uow, staff, uid).rows] == [free.id, row.id]


def test_the_first_day_is_today_in_the_business_time_zone(
    db: Database, staff: Actor, shop: Shop, clock: MutableClock
) -> None:
    (uid,) = new_customers(db, staff)
    # 23:30 UTC on 30 June is 00:30 BST on 1 July in London.
    clock.current = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    with db.unit_of_work() as uow:
        row = assign_pass(uow, staff, uid, shop.pass_types["intro"], payment=ManualPayment())
    assert (row.valid_from, row.valid_to) == (date(2026, 7, 1), date(2026, 7, 14))


def test_a_recorded_stripe_payment_completes_the_pass(
    db: Database, staff: Actor, shop: Shop
) -> None:
    a, b = new_customers(db, staff, 2)
    stripe = FakeStripeGateway()
    intent = stripe.add("pi_Pass", 10000)
    with db.unit_of_work() as uow:
        row = assign_pass(
            uow, staff, a, shop.pass_types["ten"], payment=StripePayment(intent), gateway=stripe
        )
    assert (row.state, row.payment_method, row.price_minor) == (
        PassState.COMPLETED,
        PaymentMethod.STRIPE,
        10000,
    )
    with (
        db.unit_of_work() as uow,
        pytest.raises(Conflict, match=f"{intent} already pays for pass #{row.id}"),
    ):
        assign_pass(
            uow, staff, b, shop.pass_types["ten"], payment=StripePayment(intent), gateway=stripe
        )


def test_assigning_is_refused_for_archived_customers_and_unknown_types(
    db: Database, staff: Actor, shop: Shop
) -> None:
    uid, archived = new_customers(db, staff, 2)
    with db.unit_of_work() as uow:
        archive_customer(uow, staff, archived)
    with db.unit_of_work() as uow, pytest.raises(DomainError, match="is archived"):
        assign_pass(uow, staff, archived, shop.pass_types["ten"], payment=ManualPayment())
    with db.unit_of_work() as uow, pytest.raises(NotFound):
        assign_pass(uow, staff, uid, 999_999, payment=ManualPayment())
    with db.unit_of_work() as uow, pytest.raises(DomainError, match="is archived"):
        assign_video(uow, staff, archived, shop.videos["runners"], payment=ManualPayment())


def test_adjusting_credits_needs_a_reason_and_never_goes_below_zero(
    db: Database, staff: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    pass_id = manual_pass(db, staff, shop, uid, "intro")
    with db.unit_of_work() as uow:
        book_event(
            uow, staff, uid, shop.session("yoga", "2026-03-16 07:00"), PackagePayment(pass_id)
        )
        row = adjust_pass_credits(uow, staff, pass_id, 5, "  goodwill after a   cancelled class ")
    assert (row.credits_remaining, row.credits_total) == (7, 8)
    assert_credits_conserved(db, pass_id)
    with db.unit_of_work() as uow:
        row = adjust_pass_credits(uow, staff, pass_id, -7, "used at the studio before the app")
    assert (row.credits_remaining, row.credits_total) == (0, 1)
    assert_credits_conserved(db, pass_id)
    with db.unit_of_work(readonly=True) as uow:
        added, removed = history_of(uow, uid)[-2:]
        assert added.action == "pass credits adjusted"
        assert added.detail == (
            f"added 5 CR to Intro pass #{pass_id}: goodwill after a cancelled class"
        )
        assert added.changes == {"credits left": [2, 7], "credits granted": [3, 8]}
        assert removed.detail == (
            f"removed 7 CR from Intro pass #{pass_id}: used at the studio before the app"
        )
    refusals: list[tuple[int, str, str, str]] = [
        (1, "   ", "reason", "Say why"),
        (0, "typo", "delta", "at least one credit"),
        (-1, "oops", "delta", "has 0 CR left, so at most 0 can be removed"),
        (5000, "bulk", "delta", "at most 1000"),
    ]
    for delta, reason, field, text in refusals:
        with db.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
            adjust_pass_credits(uow, staff, pass_id, delta, reason)
        assert text in refused.value.errors[field]


def test_extending_a_pass_only_moves_its_end_later(db: Database, staff: Actor, shop: Shop) -> None:
    (uid,) = new_customers(db, staff)
    pass_id = manual_pass(db, staff, shop, uid, "intro")
    for earlier in (date(2026, 3, 27), date(2026, 3, 20)):
        with db.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
            extend_pass(uow, staff, pass_id, earlier)
        assert "already valid to 27 Mar 2026" in refused.value.errors["valid_to"]
    with db.unit_of_work() as uow:
        row = extend_pass(uow, staff, pass_id, date(2026, 4, 30))
    assert row.valid_to == date(2026, 4, 30)
    with db.unit_of_work(readonly=True) as uow:
        entry = history_of(uow, uid)[-1]
        assert (entry.action, entry.changes) == (
            "pass extended",
            {"valid to": ["27 Mar 2026", "30 Apr 2026"]},
        )
    # The booking the extension makes possible.
    with db.unit_of_work() as uow:
        book_event(
            uow, staff, uid, shop.session("yoga", "2026-03-18 07:00"), PackagePayment(pass_id)
        )


def test_a_cancelled_pass_pays_for_nothing_more(db: Database, staff: Actor, shop: Shop) -> None:
    (uid,) = new_customers(db, staff)
    pass_id = manual_pass(db, staff, shop, uid)
    with db.unit_of_work() as uow:
        row = cancel_pass(uow, staff, pass_id)
    assert row.state is PassState.CANCELLED
    with db.unit_of_work(readonly=True) as uow:
        entry = history_of(uow, uid)[-1]
        assert (entry.action, entry.detail) == (
            "pass cancelled",
            f"cancelled 10-class pass #{pass_id} (10 of 10 CR unused)",
        )
        assert entry.changes == {"state": ["manual", "cancelled"]}
    for action in (
        lambda uow: cancel_pass(uow, staff, pass_id),
        lambda uow: extend_pass(uow, staff, pass_id, date(2026, 12, 1)),
        lambda uow: adjust_pass_credits(uow, staff, pass_id, 1, "why not"),
    ):
        with db.unit_of_work() as uow, pytest.raises(DomainError, match="is cancelled"):
            action(uow)
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed, match="is cancelled"):
        book_event(
            uow, staff, uid, shop.session("yoga", "2026-03-16 07:00"), PackagePayment(pass_id)
        )


def test_another_workspace_cannot_touch_a_pass(
    db: Database, staff: Actor, other_tenant: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    pass_id = manual_pass(db, staff, shop, uid)
    with db.unit_of_work() as uow, pytest.raises(NotFound):
        adjust_pass_credits(uow, other_tenant, pass_id, 1, "mine now")
    with db.unit_of_work() as uow, pytest.raises(NotFound):
        cancel_pass(uow, other_tenant, pass_id)


# -- videos ---------------------------------------------------------------------------------


def test_videos_to_choose_from(db: Database, staff: Actor, shop: Shop) -> None:
    with db.unit_of_work(readonly=True) as uow:
        assert [
            (o.title, o.price_minor, o.credit_price, o.access_days)
            for o in video_options(uow, staff)
        ] == [("Pilates Fundamentals", 1500, None, None), ("Yoga for Runners", 800, 1, 30)]


def test_a_video_runs_for_its_access_days_or_for_good(
    db: Database, staff: Actor, shop: Shop, clock: MutableClock
) -> None:
    (uid,) = new_customers(db, staff)
    with db.unit_of_work() as uow:
        runners = assign_video(uow, staff, uid, shop.videos["runners"], payment=ManualPayment())
        pilates = assign_video(uow, staff, uid, shop.videos["pilates"], payment=ManualPayment(0))
    assert (runners.expires_at, runners.price_minor, runners.state) == (
        NOW + timedelta(days=30),
        800,
        VideoState.ACTIVE,
    )
    assert (pilates.expires_at, pilates.price_minor) == (None, 0)
    with db.unit_of_work(readonly=True) as uow:
        assert history_of(uow, uid)[0].detail == (
            f"assigned Yoga for Runners, until 13 Apr 2026, 10:30 BST (£8.00, paid manually), "
            f"purchase #{runners.id}"
        )
        assert "no expiry (free)" in history_of(uow, uid)[1].detail
    # Someone who can watch it already is told to extend instead.
    with db.unit_of_work() as uow, pytest.raises(DomainError, match="extend that instead"):
        assign_video(uow, staff, uid, shop.videos["runners"], payment=ManualPayment())
    clock.advance(days=30)
    with db.unit_of_work(readonly=True) as uow:
        states = {v.id: v.state for v in list_videos(uow, staff, uid).rows}
    assert states == {runners.id: VideoState.EXPIRED, pilates.id: VideoState.ACTIVE}
    _video(db, staff, shop, uid)


def test_a_video_paid_with_credits_gives_them_back_when_cancelled(
    db: Database, staff: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    pass_id = manual_pass(db, staff, shop, uid)
    with db.unit_of_work() as uow:
        row = assign_video(uow, staff, uid, shop.videos["runners"], payment=PackagePayment(pass_id))
    assert (row.credits, row.price_minor, row.payment_method) == (1, None, PaymentMethod.PACKAGE)
    assert assert_credits_conserved(db, pass_id).credits_remaining == 9
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        assign_video(uow, staff, uid, shop.videos["pilates"], payment=PackagePayment(pass_id))
    assert refused.value.errors["pass_id"] == (
        "Pilates Fundamentals cannot be paid with pass credits."
    )
    with db.unit_of_work() as uow:
        cancelled = cancel_video(uow, staff, row.id)
    assert cancelled.state is VideoState.CANCELLED
    assert assert_credits_conserved(db, pass_id).credits_remaining == 10
    with db.unit_of_work(readonly=True) as uow:
        entry = history_of(uow, uid)[-1]
        assert (entry.action, entry.detail) == (
            "video cancelled",
            f"cancelled Yoga for Runners (purchase #{row.id}); 1 CR returned to 10-class pass "
            f"#{pass_id}",
        )
    with db.unit_of_work() as uow, pytest.raises(DomainError, match="is cancelled"):
        cancel_video(uow, staff, row.id)
    with db.unit_of_work() as uow, pytest.raises(DomainError, match="is cancelled"):
        extend_video(uow, staff, row.id, extra_days=3)


def test_extending_a_video_adds_days_from_its_end_or_from_now_once_expired(
    db: Database, staff: Actor, shop: Shop, clock: MutableClock
) -> None:
    (uid,) = new_customers(db, staff)
    purchase = _video(db, staff, shop, uid)
    with db.unit_of_work() as uow:
        row = extend_video(uow, staff, purchase, extra_days=7)
    assert row.expires_at == NOW + timedelta(days=37)
    clock.advance(days=40)
    with db.unit_of_work() as uow:
        row = extend_video(uow, staff, purchase, extra_days=2)
    assert (row.expires_at, row.state) == (NOW + timedelta(days=42), VideoState.ACTIVE)
    later = NOW + timedelta(days=60)
    with db.unit_of_work() as uow:
        assert extend_video(uow, staff, purchase, expires_at=later).expires_at == later
    with db.unit_of_work(readonly=True) as uow:
        entry = history_of(uow, uid)[-1]
        assert entry.action == "video extended"
        assert entry.changes == {"expires": ["25 Apr 2026, 10:30 BST", "13 May 2026, 10:30 BST"]}
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        extend_video(uow, staff, purchase, expires_at=NOW + timedelta(days=50))
    assert "Choose an end after 13 May 2026, 10:30 BST" in refused.value.errors["expires_at"]
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed, match="between 1 and"):
        extend_video(uow, staff, purchase, extra_days=0)
    forever = _video(db, staff, shop, uid, "pilates")
    with db.unit_of_work() as uow, pytest.raises(DomainError, match="never expires"):
        extend_video(uow, staff, forever, extra_days=3)


def test_another_workspace_cannot_touch_a_video(
    db: Database, staff: Actor, other_tenant: Actor, shop: Shop
) -> None:
    (uid,) = new_customers(db, staff)
    purchase = _video(db, staff, shop, uid)
    with db.unit_of_work() as uow, pytest.raises(NotFound):
        cancel_video(uow, other_tenant, purchase)
    with db.unit_of_work() as uow, pytest.raises(NotFound):
        extend_video(uow, other_tenant, purchase, extra_days=1)
