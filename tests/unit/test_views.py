"""Every view renders valid Block Kit for realistic and extreme data."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.views.charts import CHOICES_MAX, chart_choices
from bot.views.customer_delete import DeleteMeta, delete_confirmation
from bot.views.customer_form import (
    EditConflict,
    FormMeta,
    customer_form,
    record_values,
    submitted_values,
)
from bot.views.hub import PAGE_SIZE, HubState, hub_home, hub_modal
from bot.views.messages import help_blocks, refusal_text, staff_list_text
from bot.views.notice import Notice
from bot.views.origin import Origin
from core.models import CustomerStatus, Role
from core.services.customers import CustomerPage, CustomerRecord, SortOrder
from core.services.staff import StaffEntry
from tests.views_check import assert_valid_view

WHEN = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


def customer(
    i: int, *, first: str = "Zoë", last: str = "Ørsted", archived: bool = False
) -> CustomerRecord:
    return CustomerRecord(
        uid=f"UID{i:09d}",
        first_name=first,
        last_name=last,
        email=f"person{i}@example.com",
        mobile="+447700900123",
        status=CustomerStatus.ARCHIVED if archived else CustomerStatus.ACTIVE,
        version=3,
        created_at=WHEN,
        updated_at=WHEN,
        updated_by="U123",
        merged_into_uid=None,
        has_password=True,
    )


def page_of(rows: list[CustomerRecord], total: int, page: int = 1) -> CustomerPage:
    return CustomerPage(rows, total, page, PAGE_SIZE)


LONG = "W" * 100
EXTREMES = [
    customer(1, first=LONG, last=LONG),
    customer(2, first="田中", last="太郎"),
    customer(3, first="<script>", last="&amp; *bold* _it_"),
    customer(4, first="مريم", last="الحسيني"),
    customer(5, first="🙂 Emoji", last="Person 🎉"),
]


@pytest.mark.parametrize("home", [False, True])
@pytest.mark.parametrize(
    ("rows", "total", "page"),
    [
        ([customer(i) for i in range(PAGE_SIZE)], 10_000, 1),
        ([customer(i) for i in range(PAGE_SIZE)], 10_000, 1000),
        (EXTREMES, len(EXTREMES), 1),
        ([], 0, 1),
    ],
)
def test_hub_renders_valid_views(
    home: bool, rows: list[CustomerRecord], total: int, page: int
) -> None:
    state = HubState(q="z" * 100, page=page, sort=SortOrder.NAME_DESC, tab="archived")
    notice = Notice("Archived " + LONG + " " + LONG, undo_value="activate|UID000000001")
    shown = page_of(rows, total, page)
    if home:
        view = hub_home(state, shown, notice, day=date(2026, 3, 14), admin=True)
    else:
        view = hub_modal(state, shown, notice)
    assert_valid_view(view)
    assert HubState.from_metadata(view["private_metadata"]) == state


def _row_menu_labels(view: dict[str, Any]) -> list[str]:
    menus = [
        e
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "overflow"
    ]
    return [o["text"]["text"] for o in menus[0]["options"]]


def test_staff_are_not_offered_delete_in_a_rows_menu() -> None:
    view = hub_modal(HubState(), page_of([customer(7)], 342, 2))
    assert _row_menu_labels(view) == ["Manage", "Edit Contact", "Archive"]


def test_hub_row_shows_name_email_mobile_and_menu() -> None:
    view = hub_modal(HubState(), page_of([customer(7)], 342, 2), admin=True)
    text = str(view["blocks"])
    assert "Zoë Ørsted" in text and "person7@example.com" in text and "+44 7700 900123" in text
    menus = [
        e
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "overflow"
    ]
    labels = [o["text"]["text"] for o in menus[0]["options"]]
    assert labels == ["Manage", "Edit Contact", "Archive", "Delete"]


def test_archived_row_offers_activate() -> None:
    view = hub_modal(HubState(tab="archived"), page_of([customer(1, archived=True)], 1))
    assert "activate|UID000000001" in str(view["blocks"])
    assert "archive|UID000000001" not in str(view["blocks"])


def test_pager_text_and_buttons() -> None:
    view = hub_modal(HubState(page=2), page_of([customer(i) for i in range(PAGE_SIZE)], 342, 2))
    text = str(view["blocks"])
    assert "11–20 of 342" in text
    assert "hub.page.prev" in text and "hub.page.next" in text
    first = hub_modal(HubState(), page_of([customer(i) for i in range(PAGE_SIZE)], 342, 1))
    assert "hub.page.prev" not in str(first["blocks"])


def test_an_estimated_total_reads_about_and_pager_buttons_carry_the_edge_rows() -> None:
    shown = [customer(i) for i in range(PAGE_SIZE)]
    page = CustomerPage(shown, 12_000, 2, PAGE_SIZE, estimated=True)
    view = hub_modal(HubState(page=2), page)
    text = str(view["blocks"])
    assert "11–20 of about 12,000" in text and "Page 2 of about 1,200" in text
    buttons = {
        e["action_id"]: e["value"]
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"].startswith("hub.page.")
    }
    assert buttons == {"hub.page.prev": shown[0].uid, "hub.page.next": shown[-1].uid}


def test_current_tab_is_primary() -> None:
    view = hub_modal(HubState(tab="archived"), page_of([], 0))
    tabs = view["blocks"][0]["elements"]
    assert tabs[0].get("style") is None and tabs[1]["style"] == "primary"


def test_empty_search_says_what_to_do() -> None:
    view = hub_modal(HubState(q="zzz"), page_of([], 0))
    assert "No active customers match 'zzz' — clear the search or create one" in str(view["blocks"])
    archived = hub_modal(HubState(tab="archived", q="zzz"), page_of([], 0))
    said = str(archived["blocks"])
    assert "No archived customers match 'zzz' — clear the search to see them all." in said
    assert "Create Customer*" not in said.split("match")[1], "archived customers aren't created"


def test_mrkdwn_is_escaped() -> None:
    view = hub_modal(HubState(), page_of([customer(3, first="<!channel>", last="&")], 1))
    assert "<!channel>" not in str([b for b in view["blocks"] if b["type"] == "context"])


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "not json",
        '{"tab": "deleted"}',
        '{"page": -4}',
        '{"q": "' + "x" * 5000 + '"}',
        "[1,2]",
    ],
)
def test_forged_hub_metadata_falls_back_to_defaults(raw: str | None) -> None:
    assert HubState.from_metadata(raw) == HubState()


@pytest.mark.parametrize("mode", ["create", "edit"])
def test_customer_form_valid_and_prefilled(mode: str) -> None:
    meta = FormMeta(
        mode=mode, uid="UID000000001", version=3, origin=Origin(surface="modal", view_id="V1")
    )
    values = record_values(customer(1, first=LONG, last=LONG)) if mode == "edit" else {}
    view = customer_form(meta, values, admin=True)
    assert_valid_view(view)
    assert FormMeta.parse(view["private_metadata"]) == meta
    if mode == "edit":
        first = next(b for b in view["blocks"] if b.get("block_id") == "first_name")
        assert first["element"]["initial_value"] == LONG
        password = next(b for b in view["blocks"] if b.get("block_id") == "password")
        assert password["optional"] is True and "initial_value" not in password["element"]


def test_conflict_form_keeps_typed_values_and_names_the_editor() -> None:
    typed = {
        "first_name": "Zoe",
        "last_name": "New",
        "email": "z@example.com",
        "mobile": "+4477",
        "password": "",
    }
    view = customer_form(
        FormMeta(mode="edit", uid="U1", version=4),
        typed,
        conflict=EditConflict("U999", WHEN, "Europe/London"),
    )
    assert_valid_view(view)
    assert "<@U999> changed this customer at 14 Mar 2026, 09:30 GMT" in str(view["blocks"])
    last = next(b for b in view["blocks"] if b.get("block_id") == "last_name")
    assert last["element"]["initial_value"] == "New"


def test_submitted_values_tolerates_missing_and_odd_state() -> None:
    state = {
        "first_name": {"customer_form.first_name": {"type": "plain_text_input", "value": "Ann"}},
        "email": {"customer_form.email": {"value": None}},
        "mobile": "garbage",
    }
    assert submitted_values(state) == {
        "first_name": "Ann",
        "last_name": "",
        "email": "",
        "mobile": "",
        "password": "",
    }


def test_delete_confirmation() -> None:
    # The details view has its own tests in test_details_views.py.
    record = customer(1, first=LONG, last=LONG)
    confirm = delete_confirmation(record, DeleteMeta(uid=record.uid))
    assert_valid_view(confirm)
    assert "cannot be restored" in str(confirm["blocks"])


def test_messages() -> None:
    assert "<@U1> or <@U2>" in refusal_text(["U1", "U2"])
    assert "ADMIN_SLACK_USER_IDS" in refusal_text([])
    assert "guest" in refusal_text([], guest=True)
    assert len(help_blocks()) <= 50
    listing = staff_list_text(
        [StaffEntry("U1", Role.ADMIN, True), StaffEntry("U2", Role.STAFF, False)]
    )
    assert "<@U1> — admin (configured" in listing and "<@U2> — staff" in listing


def test_a_typed_password_is_never_sent_back_into_the_form() -> None:
    typed = {
        "first_name": "Zoe",
        "last_name": "New",
        "email": "z@example.com",
        "mobile": "+4477",
        "password": "S3cret!pass",
    }
    view = customer_form(
        FormMeta(mode="edit", uid="U1", version=4),
        typed,
        conflict=EditConflict("U999", WHEN, "UTC"),
    )
    assert "S3cret!pass" not in str(view)
    assert "Type the new password again" in str(view["blocks"])


@pytest.mark.parametrize(("count", "more"), [(2, False), (30, False), (100, True)])
def test_chart_choices_offer_at_most_ten_and_say_when_there_are_more(
    count: int, more: bool
) -> None:
    matches = [customer(i) for i in range(count)]
    blocks = chart_choices("zoe", matches, more=more)
    assert len(blocks) <= 50
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None
        parsed.validate_json()
    offered = [b["accessory"]["value"] for b in blocks if "accessory" in b]
    assert offered == [m.uid for m in matches[:CHOICES_MAX]]
    said = str(blocks[0])
    assert ("More than 100 customers match" in said) == more
    assert ("Not listed?" in str(blocks[-1])) == (count > CHOICES_MAX)


def test_the_edit_form_shows_the_mobile_as_the_list_does() -> None:
    record = customer(1)
    listed = str(hub_modal(HubState(), page_of([record], 1))["blocks"])
    assert record_values(record)["mobile"] == "+44 7700 900123"
    assert "+44 7700 900123" in listed
