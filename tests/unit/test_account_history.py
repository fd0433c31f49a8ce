"""Account history on SQLite and PostgreSQL: what changes record, newest first, paged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from core.actor import Actor
from core.db import Database
from core.errors import NotFound
from core.services.account import HistoryRow, list_history
from core.services.customers import (
    CustomerInput,
    CustomerRecord,
    archive_customer,
    create_customer,
    edit_contact,
)
from core.services.history import PASSWORD_CHANGED
from core.services.notes import add_note
from tests.conftest import MutableClock

T = TypeVar("T")
FORM = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "mobile": "+44 7700 900123",
}


def run(db: Database, action: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with db.unit_of_work() as uow:
        return action(uow, *args, **kwargs)


def create(db: Database, actor: Actor, **values: str) -> CustomerRecord:
    return run(db, create_customer, actor, CustomerInput(**(FORM | values)), send_welcome=False)


def edit(db: Database, actor: Actor, record: CustomerRecord, **values: str) -> CustomerRecord:
    current = {
        "first_name": record.first_name,
        "last_name": record.last_name,
        "email": record.email,
        "mobile": record.mobile,
    }
    data = CustomerInput(**(current | values))
    return run(db, edit_contact, actor, record.uid, data, expected_version=record.version)


def test_history_records_who_did_what_when_with_before_and_after(
    db: Database, staff: Actor, admin: Actor, clock: MutableClock
) -> None:
    ada = create(db, staff)
    created_at = clock.current
    clock.advance(hours=1)
    edit(db, admin, ada, first_name="Augusta", email="AUGUSTA@example.com")
    page = run(db, list_history, staff, ada.uid)
    assert [(r.action, r.actor, r.created_at) for r in page.rows] == [
        ("edited", "UADMIN", clock.current),
        ("created", "USTAFF", created_at),
    ]
    edited = page.rows[0]
    assert edited.changes == {
        "first_name": ["Ada", "Augusta"],
        "email": ["ada@example.com", "augusta@example.com"],
    }
    assert edited.customer_uid == ada.uid
    assert page.rows[1].changes["email"] == [None, "ada@example.com"]


def test_a_password_change_is_recorded_without_any_value(
    db: Database, admin: Actor, staff: Actor
) -> None:
    ada = create(db, admin, password="Initial-Secret-1")
    edit(db, admin, ada, password="Brand-New-Secret-2")
    row = run(db, list_history, staff, ada.uid).rows[0]
    assert row.changes == {"password": [PASSWORD_CHANGED, PASSWORD_CHANGED]}
    assert row.detail == "password changed"
    shown = repr(run(db, list_history, staff, ada.uid, page_size=100).rows)
    assert "Secret" not in shown
    assert "argon2" not in shown


def test_history_pages_newest_first(db: Database, staff: Actor, clock: MutableClock) -> None:
    ada = create(db, staff)
    for i in range(24):
        clock.advance(minutes=1)
        run(db, add_note, staff, ada.uid, f"Note {i + 1}")
    first = run(db, list_history, staff, ada.uid)
    assert (first.total, first.pages, len(first.rows)) == (25, 3, 10)
    assert first.rows[0].changes == {"content": [None, "Note 24"]}
    pages = [run(db, list_history, staff, ada.uid, page=n).rows for n in (1, 2, 3)]
    everything: list[HistoryRow] = [row for rows in pages for row in rows]
    assert len(pages[2]) == 5
    assert everything[-1].action == "created"
    times = [row.created_at for row in everything]
    assert times == sorted(times, reverse=True)
    assert len({row.id for row in everything}) == 25
    assert run(db, list_history, staff, ada.uid, page=7).rows == pages[2]


def test_entries_made_in_one_instant_are_newest_first_by_id(db: Database, staff: Actor) -> None:
    ada = create(db, staff)
    run(db, archive_customer, staff, ada.uid)
    rows = run(db, list_history, staff, ada.uid).rows
    assert [r.action for r in rows] == ["archived", "created"]
    assert rows[0].changes == {"status": ["active", "archived"]}


def test_history_is_per_customer_and_per_workspace(
    db: Database, staff: Actor, other_tenant: Actor
) -> None:
    ada = create(db, staff)
    grace = create(db, staff, first_name="Grace", email="grace@example.com")
    run(db, add_note, staff, grace.uid, "Grace only")
    assert [r.action for r in run(db, list_history, staff, ada.uid).rows] == ["created"]
    with pytest.raises(NotFound):
        run(db, list_history, other_tenant, ada.uid)
    with pytest.raises(NotFound):
        run(db, list_history, staff, "NOSUCHUID000")


def test_history_can_be_searched_by_what_who_or_id(
    db: Database, admin: Actor, staff: Actor
) -> None:
    record = create(db, admin)
    with db.unit_of_work() as uow:
        archive_customer(uow, staff, record.uid)
    with db.unit_of_work(readonly=True) as uow:
        archived = list_history(uow, admin, record.uid, query="ARCHIVED")
        by_staff = list_history(uow, admin, record.uid, query=staff.user_id)
        nothing = list_history(uow, admin, record.uid, query="zzz")
        by_id = list_history(uow, admin, record.uid, query=f"#{archived.rows[0].id}")
    assert [row.action for row in archived.rows] == ["archived"]
    assert [row.action for row in by_staff.rows] == ["archived"]
    assert nothing.total == 0
    assert [row.id for row in by_id.rows] == [archived.rows[0].id]
