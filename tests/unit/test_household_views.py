"""The details' figures and Household sections, the Link someone form and the payer on the
booking forms render valid Block Kit, within the modal's 100 blocks on the fullest tab."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.views.bookings import BookEventForm, book_event_form
from bot.views.commerce.form_state import CommerceMeta
from bot.views.customer_details import SalesActivity, customer_details
from bot.views.figures import figures_block
from bot.views.household import (
    ADD_ACTION,
    OPEN_ACTION,
    UNLINK_ACTION,
    HouseholdMeta,
    household_blocks,
    link_form,
    person_options,
    submitted,
)
from bot.views.origin import DetailsState, Tab
from bot.views.tabs import bookings_tab
from core.models import Relation
from core.services.figures import Figures, Spend
from core.services.household import Member
from tests.unit.test_details_views import (
    LONG,
    NOW,
    TZ,
    UID,
    booking,
    customer,
    meta,
    page,
    series,
    shown,
    valid,
)

FULL = Figures(
    NOW - timedelta(days=400),
    NOW - timedelta(days=2),
    1234,
    12,
    3,
    [
        Spend("EUR", 2000, NOW - timedelta(days=10), 2000),
        Spend("GBP", 1_234_567, NOW - timedelta(days=400), 94_967),
    ],
)


def members(count: int) -> list[Member]:
    relations = list(Relation)
    return [
        Member(f"M{n:03d}", f"{LONG} {n}", relations[n % 3], archived=n == 1) for n in range(count)
    ]


def test_figures_show_visits_attendance_and_spend_by_currency() -> None:
    text = shown([figures_block(FULL, TZ)])
    for expected in (
        "First visit*\\n7 Feb 2025",
        "Last visit*\\n12 Mar 2026",
        "Last 90 days*\\n12 visits",
        "Attended 1,234 · No-shows 3",
        "€20.00 · £12,345.67",
        "€20.00 · £949.67",
    ):
        assert expected in text


def test_no_visits_yet_and_no_spend() -> None:
    text = shown([figures_block(Figures(None, None, 0, 0, 0, []), TZ)])
    assert "No visits yet" in text
    assert "Last 90 days*\\n0 visits" in text
    assert "Nothing yet" in text
    assert "First visit" not in text


def test_household_rows_open_and_unlink_each_person() -> None:
    blocks = household_blocks(customer(), members(2))
    assert blocks[0]["accessory"]["action_id"] == ADD_ACTION
    row = blocks[1]["elements"]
    assert [e["action_id"] for e in row] == [OPEN_ACTION, UNLINK_ACTION]
    assert row[0]["value"] == row[1]["value"] == "M000"
    assert row[0]["text"]["text"].startswith("Parent of WWW")
    assert "confirm" in row[1]
    assert blocks[2]["elements"][0]["text"]["text"].endswith("(archived)")
    assert "no one linked yet" in shown(household_blocks(customer(), []))


def test_an_anonymised_or_merged_record_offers_no_new_link() -> None:
    for record in (replace(customer(), anonymised_at=NOW), customer(merged="ZZZZ")):
        assert household_blocks(record, []) == []
        (block, _) = household_blocks(record, members(1))
        assert "accessory" not in block


def test_details_with_a_full_household_and_figures_fit_on_the_fullest_tab() -> None:
    state = DetailsState()
    rows = [booking(i, LONG) for i in range(10)]
    body = bookings_tab(state, page(rows, 500, 1, Tab.BOOKINGS), timezone=TZ, admin=True)
    sales = SalesActivity(series(), "https://x.test/c.png", FULL, members(20))
    view = customer_details(meta(), customer(merged="ZZZZ"), sales, body, timezone=TZ)
    valid(view)
    assert "…and 14 more" in shown(view)


def test_link_form_and_what_it_reads_back() -> None:
    form = link_form(HouseholdMeta(view_id="V1", details=meta(), name=LONG))
    valid(form)
    assert form["callback_id"] == "household.submit"
    values = {
        "person": {"household.person": {"selected_option": {"value": "ABC"}}},
        "relation": {"household.relation": {"selected_option": {"value": "child"}}},
    }
    assert submitted(values) == ("ABC", Relation.CHILD)
    forged = {"relation": {"household.relation": {"selected_option": {"value": "boss"}}}}
    assert submitted(forged) == ("", None)
    assert [o["value"] for o in person_options([customer()], UID)] == []


def test_booking_form_says_who_pays_for_a_child() -> None:
    details = meta()
    form = book_event_form(
        CommerceMeta(view_id="V1", details=details, name="Zoe Adams", payer="Sam Adams"),
        BookEventForm(sessions=None),
        currency="GBP",
    )
    valid(form)
    assert "Paid for by *Sam Adams* (parent)." in shown(form)
    alone = book_event_form(
        CommerceMeta(view_id="V1", details=details, name="Zoe Adams"),
        BookEventForm(sessions=None),
        currency="GBP",
    )
    assert "Paid for by" not in shown(alone)


def test_dates_are_the_studio_s_calendar_days() -> None:
    late = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    text = shown([figures_block(replace(FULL, first_visit=late, last_visit=late), TZ)])
    assert "1 Jul 2026" in text
