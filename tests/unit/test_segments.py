"""Segments on SQLite and PostgreSQL: each filter at its boundary (a visit exactly N days ago,
spend equal to the threshold, no visits at all), filters together, paging and validation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.actor import Actor
from core.db import Database
from core.errors import Forbidden, NotFound, ValidationFailed
from core.models import (
    ConsentSource,
    ConsentState,
    CustomerStatus,
    Pass,
    PassState,
    PaymentMethod,
    Subscription,
    SubscriptionPlan,
    SubscriptionState,
)
from core.services.consent import set_consent
from core.services.customers import archive_customer, find_customer
from core.services.saved_segments import (
    delete_segment,
    list_segments,
    open_segment,
    save_segment,
)
from core.services.segment_digests import claim_due, pause_digest, set_digest
from core.services.segments import (
    NO_SUBSCRIPTION,
    SegmentFilters,
    StatusFilter,
    segment,
)
from core.services.tags import set_customer_tags
from tests.conftest import MutableClock
from tests.unit.commerce_helpers import Shop, london, new_customers, open_shop, visit

# The test clock: Saturday 14 Mar 2026, 09:30 GMT. 60 days before is Tuesday 13 Jan 2026.
SIXTY_DAYS_AGO = "2026-01-13 00:00"


@pytest.fixture
def other_staff(staff: Actor) -> Actor:
    return Actor(staff.team_id, "UOTHERSTAFF", staff.role)


@pytest.fixture
def shop(db: Database, staff: Actor) -> Shop:
    return open_shop(db, staff)


def _uids(db: Database, actor: Actor, **filters: object) -> list[str]:
    with db.unit_of_work() as uow:
        result = segment(uow, actor, SegmentFilters(**filters), page_size=100)
    assert result.page.total == len(result.page.rows)
    return [row.uid for row in result.page.rows]


@pytest.fixture
def people(db: Database, staff: Actor, shop: Shop) -> dict[str, str]:
    """Ann: a visit exactly 60 days ago, at its first minute. Ben: the minute before that day.
    Cat: never visited. Dan: visited yesterday and 30 days ago, spending 24.00 in all."""
    ann, ben, cat, dan = new_customers(db, staff, 4)
    visit(db, staff, shop, ann, london(SIXTY_DAYS_AGO))
    visit(db, staff, shop, ben, london(SIXTY_DAYS_AGO) - timedelta(minutes=1))
    visit(db, staff, shop, dan, london("2026-03-13 18:00"))
    visit(db, staff, shop, dan, london("2026-02-12 18:00"))
    return {"ann": ann, "ben": ben, "cat": cat, "dan": dan}


def _who(people: dict[str, str], uids: list[str]) -> set[str]:
    names = {uid: name for name, uid in people.items()}
    return {names[uid] for uid in uids}


def test_a_visit_exactly_sixty_days_ago_is_within_sixty_days_not_lapsed(
    db: Database, staff: Actor, people: dict[str, str]
) -> None:
    assert _who(people, _uids(db, staff, seen_days=60)) == {"ann", "dan"}
    assert _who(people, _uids(db, staff, lapsed_days=60)) == {"ben"}
    assert _who(people, _uids(db, staff, lapsed_days=59)) == {"ann", "ben"}


def test_spend_equal_to_the_threshold_is_at_least_it_and_not_below_it(
    db: Database, staff: Actor, people: dict[str, str]
) -> None:
    assert _who(people, _uids(db, staff, spend_at_least=2400)) == {"dan"}
    assert _who(people, _uids(db, staff, spend_below=2400)) == {"ann", "ben", "cat"}
    assert _who(people, _uids(db, staff, spend_at_least=1, spend_below=1201)) == {"ann", "ben"}


def test_visits_in_a_period_count_no_visits_as_zero(
    db: Database, staff: Actor, people: dict[str, str]
) -> None:
    assert _who(people, _uids(db, staff, visits_days=30, visits_min=2)) == {"dan"}
    assert _who(people, _uids(db, staff, visits_days=29, visits_min=2)) == set()
    assert _who(people, _uids(db, staff, visits_days=60, visits_max=0)) == {"ben", "cat"}
    assert _who(people, _uids(db, staff, visits_days=60, visits_min=1, visits_max=1)) == {"ann"}


def test_three_filters_together_and_the_status_filter(
    db: Database, staff: Actor, people: dict[str, str]
) -> None:
    assert _who(
        people, _uids(db, staff, seen_days=90, spend_below=2000, visits_days=90, visits_min=1)
    ) == {"ann", "ben"}
    with db.unit_of_work() as uow:
        archive_customer(uow, staff, people["ben"])
    assert _who(people, _uids(db, staff, lapsed_days=60)) == set()
    archived = _uids(db, staff, lapsed_days=60, status=StatusFilter.ARCHIVED)
    assert _who(people, archived) == {"ben"}
    assert len(_uids(db, staff, status=StatusFilter.ANY)) == 4


def test_a_session_still_to_come_is_no_visit_until_it_starts(
    db: Database, staff: Actor, shop: Shop, people: dict[str, str], clock: MutableClock
) -> None:
    visit(db, staff, shop, people["cat"], london("2026-03-14 10:00"))
    assert "cat" not in _who(people, _uids(db, staff, seen_days=0))
    clock.current = london("2026-03-14 10:00")
    assert _who(people, _uids(db, staff, seen_days=0)) == {"cat"}


def test_passes_ending_soon_and_subscription_states(
    db: Database, staff: Actor, shop: Shop, people: dict[str, str]
) -> None:
    with db.unit_of_work() as uow:
        plan = SubscriptionPlan(
            team_id=staff.team_id, key="monthly", name="Monthly", price_minor=5000, interval="month"
        )
        uow.session.add(plan)
        uow.session.flush()
        for name, ends, credits in (("ann", 7, 1), ("ben", 8, 1), ("cat", 0, 1), ("dan", 3, 0)):
            uow.session.add(
                Pass(
                    team_id=staff.team_id,
                    customer_id=find_customer(uow, staff, people[name]).id,
                    pass_type_id=shop.pass_types["ten"],
                    purchased_at=london("2026-03-01 09:00"),
                    valid_from=date(2026, 3, 1),
                    valid_to=date(2026, 3, 14) + timedelta(days=ends),
                    credits_total=10,
                    credits_remaining=credits,
                    price_minor=0,
                    currency="GBP",
                    payment_method=PaymentMethod.MANUAL,
                    state=PassState.MANUAL,
                )
            )
        uow.session.add(
            Subscription(
                team_id=staff.team_id,
                customer_id=find_customer(uow, staff, people["dan"]).id,
                plan_id=plan.id,
                created_at=london("2026-03-01 09:00"),
                price_minor=5000,
                currency="GBP",
                state=SubscriptionState.PAST_DUE,
            )
        )
    assert _who(people, _uids(db, staff, pass_ending_days=7)) == {"ann", "cat"}
    assert _who(people, _uids(db, staff, subscription="past_due")) == {"dan"}
    assert _who(people, _uids(db, staff, subscription="active")) == set()
    assert _who(people, _uids(db, staff, subscription=NO_SUBSCRIPTION)) == {"ann", "ben", "cat"}


def test_pages_are_in_name_order_with_the_full_count(
    db: Database, staff: Actor, people: dict[str, str]
) -> None:
    with db.unit_of_work() as uow:
        first = segment(uow, staff, SegmentFilters(), page_size=3)
        second = segment(uow, staff, SegmentFilters(), page=2, page_size=3)
    assert (first.page.total, len(first.page.rows), len(second.page.rows)) == (4, 3, 1)
    names = [row.name for row in first.page.rows + second.page.rows]
    assert names == sorted(names)
    assert first.currency == "GBP"
    assert {row.status for row in first.page.rows} == {CustomerStatus.ACTIVE}


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"lapsed_days": -1}, "lapsed_days"),
        ({"seen_days": 100_000}, "seen_days"),
        ({"visits_min": 2}, "visits_days"),
        ({"visits_days": 30}, "visits_min"),
        ({"visits_days": 30, "visits_min": 3, "visits_max": 2}, "visits_max"),
        ({"spend_at_least": 500, "spend_below": 500}, "spend_below"),
        ({"spend_at_least": -5}, "spend_at_least"),
        ({"subscription": "lapsed"}, "subscription"),
    ],
)
def test_filters_that_make_no_sense_are_refused_under_their_field(
    db: Database, staff: Actor, filters: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused, db.unit_of_work() as uow:
        segment(uow, staff, SegmentFilters(**filters))
    assert list(refused.value.errors) == [field]


def test_saved_filters_come_back_the_same() -> None:
    filters = SegmentFilters(status=StatusFilter.ANY, lapsed_days=60, spend_at_least=10_000)
    stored = filters.to_json()
    assert stored == {"status": "any", "lapsed_days": 60, "spend_at_least": 10_000}
    assert SegmentFilters.from_json({**stored, "from_a_newer_version": 1}) == filters


def test_saved_segments_are_named_once_per_workspace_and_listed_with_counts(
    db: Database, staff: Actor, admin: Actor, people: dict[str, str]
) -> None:
    lapsed = SegmentFilters(lapsed_days=60)
    with db.unit_of_work() as uow:
        saved = save_segment(uow, staff, "  Lapsed   regulars ", lapsed)
        save_segment(uow, admin, "Big spenders", SegmentFilters(spend_at_least=2400))
    assert saved.name == "Lapsed regulars"
    with pytest.raises(ValidationFailed) as clash, db.unit_of_work() as uow:
        save_segment(uow, admin, "LAPSED regulars", SegmentFilters())
    assert "exists" in clash.value.errors["name"]
    with pytest.raises(ValidationFailed) as blank, db.unit_of_work() as uow:
        save_segment(uow, admin, "   ", SegmentFilters())
    assert list(blank.value.errors) == ["name"]
    with db.unit_of_work() as uow:
        listed = list_segments(uow, staff)
    assert [(s.name, s.count) for s in listed] == [("Big spenders", 1), ("Lapsed regulars", 1)]
    assert listed[1].filters == lapsed


def test_a_saved_segment_is_renamed_in_place_and_deleted_by_its_author_or_an_admin(
    db: Database, staff: Actor, admin: Actor, other_staff: Actor
) -> None:
    with db.unit_of_work() as uow:
        saved = save_segment(uow, staff, "Lapsed", SegmentFilters(lapsed_days=60))
        renamed = save_segment(
            uow, staff, "lapsed", SegmentFilters(lapsed_days=90), segment_id=saved.id
        )
    assert (renamed.id, renamed.name, renamed.filters.lapsed_days) == (saved.id, "lapsed", 90)
    with pytest.raises(Forbidden), db.unit_of_work() as uow:
        delete_segment(uow, other_staff, saved.id)
    with db.unit_of_work() as uow:
        assert delete_segment(uow, admin, saved.id) == "lapsed"
    with pytest.raises(NotFound), db.unit_of_work() as uow:
        open_segment(uow, staff, saved.id)


def test_another_workspace_cannot_open_a_saved_segment(
    db: Database, staff: Actor, other_tenant: Actor
) -> None:
    with db.unit_of_work() as uow:
        saved = save_segment(uow, staff, "Lapsed", SegmentFilters(lapsed_days=60))
    with pytest.raises(NotFound), db.unit_of_work() as uow:
        delete_segment(uow, other_tenant, saved.id)


def test_home_counts_are_kept_five_minutes_then_made_again(
    db: Database, staff: Actor, shop: Shop, people: dict[str, str], clock: MutableClock
) -> None:
    with db.unit_of_work() as uow:
        save_segment(uow, staff, "Never seen", SegmentFilters(visits_days=3660, visits_max=0))
    with db.unit_of_work() as uow:
        assert [s.count for s in list_segments(uow, staff)] == [1]
    visit(db, staff, shop, people["cat"], london("2026-03-14 08:00"))
    clock.advance(minutes=5)
    with db.unit_of_work() as uow:
        assert [s.count for s in list_segments(uow, staff)] == [1]
    clock.advance(seconds=1)
    with db.unit_of_work() as uow:
        assert [s.count for s in list_segments(uow, staff)] == [0]


def test_a_weekly_digest_names_everyone_first_then_only_who_is_new(
    db: Database, staff: Actor, shop: Shop, people: dict[str, str], clock: MutableClock
) -> None:
    with db.unit_of_work() as uow:
        saved = save_segment(uow, staff, "Lapsed", SegmentFilters(lapsed_days=5))
        set_digest(uow, staff, saved.id, "CSTAFF")
    with db.unit_of_work() as uow:
        first = claim_due(uow)
    assert first is not None
    assert (first.channel_id, first.total, first.first, first.enabled_by) == (
        "CSTAFF",
        2,
        True,
        staff.user_id,
    )
    assert sorted(first.newcomers) == ["Person0 Test", "Person1 Test"]  # Ann and Ben
    with db.unit_of_work() as uow:
        assert claim_due(uow) is None  # not a week yet

    clock.advance(days=7)  # Dan's last visit, yesterday, is now 8 days ago: he lapses too
    with db.unit_of_work() as uow:
        week = claim_due(uow)
    assert week is not None
    assert (week.total, week.new_count, week.newcomers, week.first) == (
        3,
        1,
        ["Person3 Test"],
        False,
    )

    clock.advance(days=7)
    with db.unit_of_work() as uow:
        pause_digest(uow, saved.id, "someone in the channel isn't staff")
    with db.unit_of_work() as uow:
        assert claim_due(uow) is None
        set_digest(uow, staff, saved.id, "CSTAFF")  # chosen again: runs again
    with db.unit_of_work() as uow:
        assert claim_due(uow) is not None


def test_a_tag_in_any_case_and_a_consent_state_filter_with_the_others(
    db: Database, staff: Actor, people: dict[str, str]
) -> None:
    with db.unit_of_work() as uow:
        set_customer_tags(uow, staff, people["ann"], ["Prenatal", "VIP"])
        set_customer_tags(uow, staff, people["dan"], ["vip"])
        set_consent(uow, staff, people["dan"], ConsentState.GRANTED, ConsentSource.PHONE)
    assert _who(people, _uids(db, staff, tag="VIP")) == {"ann", "dan"}
    assert _who(people, _uids(db, staff, tag="vip", consent="granted")) == {"dan"}
    assert _who(people, _uids(db, staff, tag="vip", seen_days=60)) == {"ann", "dan"}
    assert _who(people, _uids(db, staff, tag="vip", lapsed_days=30)) == {"ann"}
    assert _who(people, _uids(db, staff, consent="unknown")) == {"ann", "ben", "cat"}
    assert _uids(db, staff, tag="No such tag") == []
