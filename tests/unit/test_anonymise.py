"""Anonymising on SQLite and PostgreSQL: every personal detail goes, the books stay as they were."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from core.actor import Actor
from core.db import Database
from core.errors import Conflict, DomainError, Forbidden
from core.models import Base, CustomerStatus, HistoryEntry, WorkspaceAuditEntry
from core.services.account import merge_customers
from core.services.anonymise import (
    ANONYMISED,
    PLACEHOLDER_FIRST_NAME,
    Anonymised,
    anonymise_customer,
    placeholder_email,
)
from core.services.customers import (
    CustomerInput,
    HasPayments,
    activate_customer,
    customer_has_payments,
    delete_customer,
    edit_contact,
    get_customer,
    list_customers,
    search_customers,
)
from core.services.export import export_customer
from core.services.notes import add_note
from core.services.sales import monthly_sales
from tests.conftest import MutableClock
from tests.unit.history_rows import (
    Person,
    appointment,
    create_person,
    customer,
    everything_about_one_person,
    shop,
    video,
)


@dataclass(frozen=True)
class Entry:
    """An account history entry as stored."""

    id: int
    action: str
    actor: str
    changes: dict[str, Any]
    detail: str
    created_at: datetime


# Everything the fixture's person told the studio, and what staff wrote about them.
PERSONAL = (
    "Chiamaka",
    "Okonkwo",
    "chiamaka@example.com",
    "chi.old@example.com",
    "+447700900456",
    "knee",
    "Run 10k",
    "evening classes",
)
# What the books hold: every purchase as exported, and nothing about the person in it.
BOOKS = ("bookings", "appointments", "passes", "videos", "subscriptions")


def _export(db: Database, actor: Actor, uid: str) -> dict[str, Any]:
    with db.unit_of_work() as uow:
        return export_customer(uow, actor, uid)


def _anonymise(db: Database, actor: Actor, uid: str) -> Anonymised:
    with db.unit_of_work() as uow:
        return anonymise_customer(uow, actor, uid)


def _everything_stored(db: Database) -> str:
    with db.engine.connect() as conn:
        return "\n".join(
            str(dict(row))
            for table in Base.metadata.sorted_tables
            for row in conn.execute(select(table)).mappings()
        )


def _history(db: Database, uid: str) -> list[Entry]:
    with db.unit_of_work(readonly=True) as uow:
        rows = uow.session.scalars(
            select(HistoryEntry).where(HistoryEntry.customer_uid == uid).order_by(HistoryEntry.id)
        )
        return [
            Entry(e.id, e.action, e.actor, dict(e.changes), e.detail, e.created_at) for e in rows
        ]


@pytest.fixture
def person(db: Database, admin: Actor, clock: MutableClock) -> Person:
    return everything_about_one_person(db, admin, clock)


def test_anonymising_erases_every_personal_detail_and_keeps_the_books(
    db: Database, admin: Actor, person: Person
) -> None:
    bystander = create_person(
        db, admin, "Grace", "grace@example.com", "Bystander-0k!", "Hopper", "+44 7700 900999"
    )
    before = _export(db, admin, person.uid)
    with db.unit_of_work(readonly=True) as uow:
        sales_before = monthly_sales(uow, admin, person.uid)
    stored = _everything_stored(db)
    # The fixture really holds each of them.
    assert [text for text in PERSONAL if text not in stored] == []

    done = _anonymise(db, admin, person.uid)

    assert (done.already, done.merged) == (False, 1)
    assert done.record.full_name == f"{PLACEHOLDER_FIRST_NAME} customer {person.uid}"
    stored = _everything_stored(db)
    for text in PERSONAL:
        assert text.lower() not in stored.lower(), text
    after = _export(db, admin, person.uid)
    contact = after["customer"]
    assert contact["email"] == placeholder_email(person.uid)
    assert contact["email"].endswith(".invalid")
    assert (contact["mobile"], contact["password"], contact["status"]) == (
        "",
        "not set",
        "archived",
    )
    [shell] = after["merged_records"]
    assert (shell["first_name"], shell["email"]) == (
        "Anonymised",
        placeholder_email(person.shell_uid),
    )
    assert (after["notes"], after["questionnaires"], after["mail"]) == ([], [], [])
    assert [link["sent_to"] for link in after["payment_links"]] == [""]
    assert after["payment_links"][0]["amount"] == 1300
    # The books: every purchase with its amount, date, state, refund and Stripe id.
    for kind in BOOKS:
        assert after[kind] == before[kind], kind
    with db.unit_of_work(readonly=True) as uow:
        assert monthly_sales(uow, admin, person.uid) == sales_before
    # Nobody else is touched.
    assert _export(db, admin, bystander)["customer"]["email"] == "grace@example.com"


def test_the_history_keeps_what_happened_without_who_it_happened_to(
    db: Database, admin: Actor, person: Person, clock: MutableClock
) -> None:
    clock.advance(days=1)
    _anonymise(db, admin, person.uid)

    entries = _history(db, person.uid)
    actions = [entry.action for entry in entries]
    assert {"created", "merged from", "note added", "questionnaire answers recorded"} <= set(
        actions
    )
    last = entries[-1]
    assert (last.action, last.actor, last.created_at) == (ANONYMISED, admin.user_id, clock.current)
    assert "bookings and payments kept" in last.detail
    [created] = [entry for entry in entries if entry.action == "created"]
    assert created.changes["email"] == [None, "[erased]"]
    [merged] = [entry for entry in entries if entry.action == "merged from"]
    assert merged.detail.startswith("merged from [erased] (UID ")
    [shell_mark] = [e for e in _history(db, person.shell_uid) if e.action == ANONYMISED]
    assert person.uid in shell_mark.detail
    with db.unit_of_work(readonly=True) as uow:
        audit = uow.session.execute(
            select(
                WorkspaceAuditEntry.actor, WorkspaceAuditEntry.action, WorkspaceAuditEntry.detail
            ).where(WorkspaceAuditEntry.team_id == admin.team_id)
        ).all()
    assert [tuple(row) for row in audit] == [
        (admin.user_id, "customer anonymised", f"customer {person.uid} with 1 merged record(s)")
    ]


def test_anonymising_again_changes_nothing_and_says_so(
    db: Database, admin: Actor, person: Person, clock: MutableClock
) -> None:
    first = _anonymise(db, admin, person.uid)
    history_before = [(e.id, e.changes, e.detail) for e in _history(db, person.uid)]
    clock.advance(hours=1)

    again = _anonymise(db, admin, person.uid)

    assert again.already
    assert again.record == first.record
    assert [(e.id, e.changes, e.detail) for e in _history(db, person.uid)] == history_before
    # The merged record went with the kept one; asked for on its own, it already is anonymous.
    assert _anonymise(db, admin, person.shell_uid).already


def test_staff_may_not_anonymise(db: Database, admin: Actor, staff: Actor, person: Person) -> None:
    with pytest.raises(Forbidden):
        _anonymise(db, staff, person.uid)
    assert _export(db, admin, person.uid)["customer"]["email"] == person.email


def test_a_merged_away_record_is_anonymised_through_the_customer_kept(
    db: Database, admin: Actor, person: Person
) -> None:
    with pytest.raises(Conflict) as refused:
        _anonymise(db, admin, person.shell_uid)
    assert f"customer {person.uid}" in refused.value.message
    assert _export(db, admin, person.shell_uid)["customer"]["email"] == person.shell_email


def test_a_customer_with_payments_is_not_deleted_but_offered_anonymising(
    db: Database, admin: Actor, person: Person
) -> None:
    with db.unit_of_work(readonly=True) as uow:
        assert customer_has_payments(uow, admin, person.uid)
    with pytest.raises(HasPayments) as refused, db.unit_of_work() as uow:
        delete_customer(uow, admin, person.uid)
    assert "Anonymise them instead" in refused.value.message
    assert _export(db, admin, person.uid)["customer"]["uid"] == person.uid


def test_deleting_an_anonymised_customer_with_payments_says_they_are_kept_for_the_books(
    db: Database, admin: Actor, person: Person
) -> None:
    _anonymise(db, admin, person.uid)
    with pytest.raises(DomainError) as refused, db.unit_of_work() as uow:
        delete_customer(uow, admin, person.uid)
    assert not isinstance(refused.value, HasPayments)
    assert "was anonymised on" in refused.value.message
    assert "kept only for the accounts" in refused.value.message


def test_what_counts_as_a_payment(db: Database, admin: Actor, clock: MutableClock) -> None:
    free = everything_about_one_person(db, admin, clock, paid=False)
    with db.unit_of_work() as uow:
        assert not customer_has_payments(uow, admin, free.uid)
        catalog = shop(uow, admin.team_id, clock.current)
        cash = customer(uow, admin)
        # Free and credit-paid purchases are no payment; a manual one of more than nothing is.
        appointment(uow, catalog, cash, clock.current, price_minor=0)
        assert not customer_has_payments(uow, admin, cash.uid)
        appointment(uow, catalog, cash, clock.current, price_minor=4000)
        assert customer_has_payments(uow, admin, cash.uid)
        card = customer(uow, admin)
        video(uow, catalog, card, clock.current, stripe_payment_intent_id="pi_card")
        assert customer_has_payments(uow, admin, card.uid)


def test_an_anonymised_record_takes_nothing_new_and_leaves_the_active_list(
    db: Database, admin: Actor, person: Person, clock: MutableClock
) -> None:
    other = create_person(db, admin, "Grace", "grace@example.com", "Another-0ne!")
    _anonymise(db, admin, person.uid)
    record = _anonymise(db, admin, person.uid).record
    form = CustomerInput(
        first_name="Chiamaka", last_name="Okonkwo", email=person.email, mobile="+447700900456"
    )
    refusals = (
        lambda uow: activate_customer(uow, admin, person.uid),
        lambda uow: edit_contact(uow, admin, person.uid, form, expected_version=record.version),
        lambda uow: add_note(uow, admin, person.uid, "Back again?"),
        lambda uow: merge_customers(uow, admin, person.uid, other, reason="Same person"),
    )
    for refused in refusals:
        with pytest.raises(DomainError) as caught, db.unit_of_work() as uow:
            refused(uow)
        assert "anonymised" in caught.value.message
    with db.unit_of_work(readonly=True) as uow:
        active = list_customers(uow, admin).rows
        archived = list_customers(uow, admin, status=CustomerStatus.ARCHIVED).rows
        found = search_customers(uow, admin, "anonymised")
        assert get_customer(uow, admin, person.uid).anonymised_at == clock.current
    assert person.uid not in {row.uid for row in active}
    assert {person.uid, person.shell_uid} <= {row.uid for row in archived}
    assert {person.uid, person.shell_uid} == {row.uid for row in found}
