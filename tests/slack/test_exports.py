"""Exports from Slack end to end: the hub's Export CSV and the Account tab's Export data (JSON),
each sent as a file to the admin's DM through the local Slack stand-in."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

from sqlalchemy import select, update

from bot.local.slack_api import UploadedFile
from core.models import Customer, HistoryEntry, WorkspaceAuditEntry
from core.services.customer_export import CSV_COLUMNS, LIST_EXPORTED
from core.services.export import DATA_EXPORT_UNDELIVERED, DATA_EXPORTED
from tests.slack.conftest import ADMIN, STAFF, World
from tests.slack.details_helpers import go_to_tab, notice_of, open_details
from tests.slack.helpers import (
    JSON,
    acked,
    archive,
    forged_action,
    hub_state,
    open_hub,
    seed,
    text_of,
    updated,
)

PEOPLE = [("Zoë", "Ørsted"), ("Zoey", "Quinn"), ("Mark", "Taylor"), ("Anna", "Smith")]


def _buttons(view: JSON, block_id: str) -> list[str]:
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    return [e["text"]["text"] for e in block["elements"] if e.get("type") == "button"]


def _the_file(world: World) -> UploadedFile:
    world.api.wait_until(lambda: bool(world.api.files()), timeout=10, description="the upload")
    [upload] = world.api.files()
    assert upload.content is not None
    return upload


def _csv(upload: UploadedFile) -> list[dict[str, str]]:
    assert upload.content is not None
    header, *lines = list(csv.reader(io.StringIO(upload.content.decode("utf-8"), newline="")))
    assert tuple(header) == CSV_COLUMNS
    return [dict(zip(header, line, strict=True)) for line in lines]


def _list_exports(world: World) -> list[tuple[str, str]]:
    with world.db.unit_of_work(readonly=True) as uow:
        rows = uow.session.execute(
            select(WorkspaceAuditEntry.actor, WorkspaceAuditEntry.detail)
            .where(WorkspaceAuditEntry.action == LIST_EXPORTED)
            .order_by(WorkspaceAuditEntry.id)
        ).all()
    return [(actor, detail) for actor, detail in rows]


def test_export_csv_sends_the_tab_and_search_shown_to_the_admins_dm(world: World) -> None:
    zoe, zoey, mark, anna = seed(world.db, PEOPLE)
    archive(world.db, zoey)
    with world.db.unit_of_work() as uow:
        uow.session.execute(
            update(Customer).where(Customer.uid == zoe.uid).values(date_of_birth=date(1991, 2, 3))
        )
    hub = open_hub(world.admin)
    assert "Export CSV" in _buttons(hub, "hub_export")

    # Active tab, searched: only the active matches go.
    searched = updated(world.admin, world.admin.type("zo", into="Search"))
    assert hub_state(searched)["q"] == "zo"
    shown = updated(world.admin, acked(world.admin.click("Export CSV")))

    upload = _the_file(world)
    assert upload.channels == [world.api.dm_channel(ADMIN)]
    assert upload.name.startswith("customers-active-search-") and upload.name.endswith(".csv")
    assert upload.initial_comment == "1 customer from the active list matching 'zo', as CSV."
    [row] = _csv(upload)
    assert row == {
        "uid": zoe.uid,
        "first_name": "Zoë",
        "last_name": "Ørsted",
        "email": zoe.email,
        "mobile": zoe.mobile,
        "status": "active",
        "created_at": zoe.created_at.isoformat(timespec="seconds"),
        "date_of_birth": "1991-02-03",
        "tags": "",
        "marketing_consent": "unknown",
        "consent_at": "",
    }
    assert "Sent to your DM" in text_of(shown)
    # Nothing the admin was looking at is lost.
    assert hub_state(shown)["q"] == "zo"

    # The Archived tab, no search.
    open_hub(world.admin)
    archived = updated(world.admin, world.admin.click("Archived", in_block="hub_tabs"))
    assert hub_state(archived) == {**hub_state(archived), "tab": "archived", "q": ""}
    before = len(world.api.files())
    updated(world.admin, acked(world.admin.click("Export CSV")))
    world.api.wait_until(lambda: len(world.api.files()) > before, timeout=10)
    latest = world.api.files()[-1]
    assert [r["uid"] for r in _csv(latest)] == [zoey.uid]
    assert [r["status"] for r in _csv(latest)] == ["archived"]
    assert {mark.uid, anna.uid}.isdisjoint(r["uid"] for r in _csv(latest))
    # Who took which part of the list out is in the workspace's audit log.
    world.api.wait_until(lambda: len(_list_exports(world)) == 2, timeout=10)
    assert [(actor, detail) for actor, detail in _list_exports(world)][-1] == (
        ADMIN,
        "1 customer (archived)",
    )


def test_a_comma_in_a_name_is_quoted_in_the_sent_file(world: World) -> None:
    [anna] = seed(world.db, [("Anna", "Smith")])
    with world.db.unit_of_work() as uow:
        uow.session.execute(
            update(Customer).where(Customer.uid == anna.uid).values(last_name="Smith, Jr.")
        )
    open_hub(world.admin)
    acked(world.admin.click("Export CSV"))
    upload = _the_file(world)
    assert upload.content is not None
    assert b'"Smith, Jr."' in upload.content
    assert [r["last_name"] for r in _csv(upload)] == ["Smith, Jr."]
    assert anna.uid in upload.content.decode()


def test_a_refused_upload_is_said_in_the_hub_and_keeps_the_search(world: World) -> None:
    seed(world.db, PEOPLE)
    open_hub(world.admin, "mark")
    world.api.fail("files.completeUploadExternal", "invalid_channel")
    shown = updated(world.admin, acked(world.admin.click("Export CSV")))
    assert "Slack refused the file (invalid_channel), so nothing was sent" in text_of(shown)
    assert hub_state(shown)["q"] == "mark"
    assert world.api.files() == []


def test_staff_see_no_export_buttons_and_are_refused_if_they_forge_them(world: World) -> None:
    zoe = seed(world.db, PEOPLE)[0]
    hub = open_hub(world.staff)
    assert "Export CSV" not in text_of(hub)
    refused = updated(
        world.staff,
        forged_action(
            world.staff, hub, {"type": "button", "action_id": "hub.export", "value": "export"}
        ),
    )
    assert "Only an admin can export the customer list." in text_of(refused)

    open_details(world.staff, "Zoë Ørsted")
    account = go_to_tab(world.staff, "Account", "Account History")
    assert "Export data (JSON)" not in _buttons(account, "details_account")
    forged = forged_action(
        world.staff,
        account,
        {"type": "button", "action_id": "customer_details.export_data", "value": zoe.uid},
    )
    world.api.wait_until(
        lambda: "Only an admin can export" in notice_of(world.staff.current_view() or {}),
        timeout=10,
        description="the refusal",
    )
    acked(forged)
    assert world.api.files() == []
    with world.db.unit_of_work(readonly=True) as uow:
        assert not uow.session.scalars(
            select(HistoryEntry).where(HistoryEntry.action == DATA_EXPORTED)
        ).all()


def test_export_data_sends_the_customers_json_to_the_admins_dm(world: World) -> None:
    zoe = seed(world.db, PEOPLE)[0]
    with world.db.unit_of_work() as uow:
        uow.session.execute(
            update(Customer).where(Customer.uid == zoe.uid).values(date_of_birth=date(1991, 2, 3))
        )
    open_details(world.admin, "Zoë Ørsted")
    account = go_to_tab(world.admin, "Account", "Account History")
    assert "Export data (JSON)" in _buttons(account, "details_account")

    acked(world.admin.click("Export data (JSON)"))
    upload = _the_file(world)
    assert upload.name == f"customer-{zoe.uid}.json"
    assert upload.channels == [world.api.dm_channel(ADMIN)]
    assert upload.content is not None
    data = json.loads(upload.content.decode("utf-8"))
    assert data["customer"]["uid"] == zoe.uid
    assert data["customer"]["first_name"] == "Zoë"
    assert data["customer"]["date_of_birth"] == "1991-02-03"
    assert data["exported_by"] == ADMIN
    # Written as `customer-bot export-customer` writes it: indented, accents as they are.
    assert upload.content.decode("utf-8").startswith('{\n  "format": ')
    assert "Ørsted".encode() in upload.content
    assert [e["action"] for e in data["account_history"]][-1] == DATA_EXPORTED
    world.api.wait_until(
        lambda: "Sent to your DM" in notice_of(world.admin.current_view() or {}),
        timeout=10,
        description="the confirmation",
    )
    assert STAFF not in upload.channels


def test_a_refused_json_upload_is_noted_after_the_export_in_their_history(world: World) -> None:
    zoe = seed(world.db, PEOPLE)[0]
    open_details(world.admin, "Zoë Ørsted")
    go_to_tab(world.admin, "Account", "Account History")
    world.api.fail("files.getUploadURLExternal", "ratelimited")
    acked(world.admin.click("Export data (JSON)"))
    world.api.wait_until(
        lambda: (
            "Slack refused the file (ratelimited)" in notice_of(world.admin.current_view() or {})
        ),
        timeout=10,
        description="the refusal",
    )
    assert world.api.files() == []
    with world.db.unit_of_work(readonly=True) as uow:
        actions = uow.session.scalars(
            select(HistoryEntry.action)
            .where(HistoryEntry.customer_uid == zoe.uid)
            .order_by(HistoryEntry.id)
        ).all()
    assert actions[-2:] == [DATA_EXPORTED, DATA_EXPORT_UNDELIVERED]
